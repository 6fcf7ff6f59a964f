/* Script driver: runs packetdrill-like scripts against ONE real tou
 * endpoint on a virtual clock; the script plays the peer and the
 * application. Usage: driver [script.pkt ...]
 *
 * Grammar (one statement per line, '#' starts a comment):
 *
 *   option name=value ...        endpoint configuration, before the first
 *                                timed line: mss send_buffer recv_buffer
 *                                initial_rto min_rto max_rto msl (seconds)
 *                                syn_retries synack_retries data_retries
 *                                challenge_acks_per_sec syn_backlog,
 *                                syncookies syn_flood_rate syn_flood_quiet
 *                                syncookie_lifetime keepalive keepalive_idle
 *                                keepalive_intvl keepalive_cnt user_timeout
 *                                user_timeout_accept user_timeout_min
 *                                user_timeout_max link_probe_idle link_probe_timeout
 *                                link_probe_retry link_probe_min_gap,
 *                                and the driver's tolerance (seconds, 0.004)
 *   expect-failure TEXT          (driver self-test) the script must fail
 *                                with a message containing TEXT
 *   [TIME] COMMAND
 *
 * TIME is seconds on the virtual clock ("0.100") or "+0.1" after the
 * previous timed line; a line without a time runs at the previous time.
 * Before a line runs, every timer due by then fires.
 *
 * Application commands: listen [backlog] | unlisten | connect | accept |
 *   send N | recv N | recv eof | shutdown | close | abort | wait |
 *   user-timeout SECONDS (tou_conn_set_user_timeout)
 * Segments:
 *   > FLAGS [field=V ...] [<options>]   the endpoint must send this next
 *   < FLAGS [field=V ...] [<options>]   the peer sends this now
 *   < version-reject [dcid=V] [scid=V] [versions=A,B]   the peer's endpoint
 *                                rejects our version (PROTOCOL.md 6); default
 *                                the endpoint's cid, 0, version 2
 *   FLAGS: S F R P U, and "." for ACK ("S.", "F.", "R.", ".").
 *   fields: seq ack win len dcid scid urg; V is a number or "*" (any).
 *   seq/ack are RELATIVE, as in packetdrill: the endpoint's ISN is learned
 *   from each SYN it sends, the peer's ISN is fixed (PEER_ISN below).
 *   options: <mss 1444,sackOK,ts val * ecr 0,ws 7,sack 1:100>, and the link
 *   probe <probe ask|answer|confirm [nonce V] [echo V|last]> ("echo last" is
 *   the last probe nonce the endpoint sent; a probe the script does not list
 *   is ignored by the option comparison).
 *   Outgoing: flags must match exactly (PSH only checked when written);
 *   seq/ack/win/urg only when written; len defaults to 0; a written <...>
 *   must list exactly the options present; cids are checked by default
 *   (dst = the scid of the last segment we sent, 0 in a SYN; src = the
 *   endpoint's cid except in RSTs); payload bytes must be the pattern that
 *   `send` queued at that sequence number. Any segment the endpoint sends
 *   that no "> " line claims (before the next line's time minus the
 *   tolerance, or by the end of the script) fails the script.
 *   Incoming defaults: seq = the peer's next sequence number, ack = the
 *   endpoint's next (when "." is given), win=65535, len=0, dcid = the
 *   endpoint's cid (0 before it is known), scid = PEER_CID.
 * Expectations:
 *   expect state NAME            last state the core traced (tou_state_name)
 *   expect error TOU_ERR_x       why the connection ended (TOU_EV_CLOSED), or
 *                                the last failing call; TOU_OK when none
 *   expect event NAME...         events seen since last checked (then cleared):
 *                                connected readable writable shutdown closed
 *                                link accept
 *   expect no-event NAME...      none of these seen
 *   expect deadline SECONDS|never   tou_ep_next_deadline()
 *
 * Scripts named in PENDING (next to the script) are not run by ctest
 * until the core passes them; the driver prints that list on every run. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "core.h"
#include "script.h"
#include "segfmt.h"
#include "sim.h"

#define PEER_ISN 1000000u
#define PEER_CID 0x5c1du
#define OUTQ_MAX 256
#define RING 24

typedef struct out_seg {
  uint64_t at;
  size_t len;
  uint8_t data[2048];
} out_seg_t;

typedef struct driver {
  const script_t *s;
  const script_line_t *line;
  tou_config_t cfg;
  uint8_t seed[32];
  tou_ep_t *ep;
  uint64_t now, tol;
  tou_addr_t peer;
  tou_conn_t *conn;
  bool listening;
  /* sequence spaces */
  uint32_t ep_isn, ep_cid, ep_nxt;
  bool ep_cid_known, ep_nxt_known;
  uint32_t peer_nxt, last_scid;
  uint64_t last_probe_nonce; /* from the endpoint's last probe */
  bool sent_any;
  /* observed */
  tou_state_t state;
  unsigned events;
  int last_error;
  uint64_t send_off, recv_off;
  out_seg_t *q;
  size_t qhead, qlen;
  /* recent trace lines, printed on failure */
  char ring[RING][200];
  unsigned ring_n;
  bool print_trace;
  char msg[1024];
  bool failed;
} driver_t;

static bool failf(driver_t *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool failf(driver_t *d, const char *fmt, ...) {
  if (d->failed) return false;
  int n = d->line ? snprintf(d->msg, sizeof d->msg, "%s:%d: ", d->s->path, d->line->lineno)
                  : snprintf(d->msg, sizeof d->msg, "%s: ", d->s->path);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(d->msg + n, sizeof d->msg - (size_t)n, fmt, ap);
  va_end(ap);
  d->failed = true;
  return false;
}

static void remember(driver_t *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void remember(driver_t *d, const char *fmt, ...) {
  char *slot = d->ring[d->ring_n++ % RING];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(slot, sizeof d->ring[0], fmt, ap);
  va_end(ap);
  if (d->print_trace) fprintf(stderr, "%s\n", slot);
}

static void on_trace(void *ctx, const tou_trace_event_t *ev) {
  driver_t *d = ctx;
  char seg[160];
  double t = (double)ev->now / 1e6;
  switch (ev->kind) {
    case TOU_TRACE_STATE:
      d->state = ev->new_state;
      remember(d, "%10.6f state %s -> %s", t, tou_state_name(ev->old_state),
               tou_state_name(ev->new_state));
      break;
    case TOU_TRACE_SEG_SENT:
    case TOU_TRACE_SEG_RECV:
      remember(d, "%10.6f %s %s", t, ev->kind == TOU_TRACE_SEG_SENT ? "sent" : "recv",
               ev->seg ? sim_seg_str(ev->seg, seg, sizeof seg) : "?");
      break;
    case TOU_TRACE_SEG_DROP:
      remember(d, "%10.6f drop %s", t, tou_error_name(ev->error));
      break;
  }
}

/* ---- driving the endpoint ------------------------------------------- */

static void drain(driver_t *d) {
  for (;;) {
    tou_addr_t to;
    uint8_t buf[2048];
    int n = tou_ep_output(d->ep, d->now, &to, buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      failf(d, "tou_ep_output failed: %s", tou_error_name(n));
      return;
    }
    if (!sim_addr_eq(&to, &d->peer)) {
      failf(d, "endpoint sent a datagram to an address other than the peer");
      return;
    }
    if (d->qlen == OUTQ_MAX) {
      failf(d, "more than %d unclaimed segments", OUTQ_MAX);
      return;
    }
    out_seg_t *o = &d->q[(d->qhead + d->qlen++) % OUTQ_MAX];
    o->at = d->now;
    o->len = (size_t)n;
    memcpy(o->data, buf, (size_t)n);
  }
  tou_conn_t *c;
  unsigned ev;
  while (tou_ep_next_event(d->ep, &c, &ev)) {
    d->events |= ev;
    if ((ev & TOU_EV_CLOSED) && c && (c == d->conn || !d->conn)) d->last_error = tou_conn_error(c);
  }
}

static void fire_timer(driver_t *d, uint64_t at) {
  if (at > d->now) d->now = at;
  tou_ep_on_timer(d->ep, d->now);
  drain(d);
}

/* Fires every timer due at or before t, then moves the clock to t. */
static void advance_to(driver_t *d, uint64_t t) {
  unsigned spins = 0;
  uint64_t dl;
  while (!d->failed && (dl = tou_ep_next_deadline(d->ep)) <= t) {
    if (++spins > 100000) {
      failf(d, "timer keeps firing at %.6f without progress", (double)dl / 1e6);
      return;
    }
    fire_timer(d, dl);
  }
  if (t > d->now) d->now = t;
}

static const char *describe(const out_seg_t *o, char *buf, size_t cap) {
  char seg[200];
  snprintf(buf, cap, "%.6f %s", (double)o->at / 1e6, sim_datagram_str(o->data, o->len, seg, sizeof seg));
  return buf;
}

/* Segments sent before `t - tol` that no line claimed are a failure. */
static bool check_unclaimed(driver_t *d, uint64_t t) {
  if (d->qlen == 0) return true;
  const out_seg_t *o = &d->q[d->qhead];
  if (o->at + d->tol >= t) return true;
  char buf[256];
  return failf(d, "unexpected segment from the endpoint: %s", describe(o, buf, sizeof buf));
}

/* ---- outgoing segments ---------------------------------------------- */

static bool check_field(driver_t *d, const char *name, const script_field_t *f, int64_t got,
                        const char *seg) {
  if (!f->set || f->any) return true;
  if (f->v == got) return true;
  return failf(d, "%s is %" PRId64 ", script expects %" PRId64 "\n  endpoint sent: %s", name,
               got, f->v, seg);
}

static bool check_options(driver_t *d, const script_pkt_t *p, const tou_segment_t *g,
                          const char *seg) {
  if (!p->opts_given) return true;
  uint32_t present = g->opts.present;
  if (!(p->opts & TOU_OPT_PROBE)) present &= ~(uint32_t)TOU_OPT_PROBE;
  if (present != p->opts)
    return failf(d, "options differ (present 0x%x, script lists 0x%x)\n  endpoint sent: %s",
                 present, p->opts, seg);
  if (!check_field(d, "mss", &p->mss, g->opts.mss, seg)) return false;
  if (!check_field(d, "ws", &p->wscale, g->opts.wscale, seg)) return false;
  if (!check_field(d, "ts val", &p->ts_val, g->opts.ts_val, seg)) return false;
  if (!check_field(d, "ts ecr", &p->ts_ecr, g->opts.ts_ecr, seg)) return false;
  if (!check_field(d, "uto", &p->uto, g->opts.uto, seg)) return false;
  for (unsigned i = 0; i < p->sack_count && i < g->opts.sack_count; i++) {
    if (!check_field(d, "sack left", &p->sack_left[i], (uint32_t)(g->opts.sack[i].left - PEER_ISN), seg))
      return false;
    if (!check_field(d, "sack right", &p->sack_right[i], (uint32_t)(g->opts.sack[i].right - PEER_ISN), seg))
      return false;
  }
  if (p->opts & TOU_OPT_PROBE) {
    if (!check_field(d, "probe phase", &p->probe_phase, g->opts.probe_phase, seg)) return false;
    if (!check_field(d, "probe nonce", &p->probe_nonce, (int64_t)g->opts.probe_nonce, seg))
      return false;
    if (!check_field(d, "probe echo", &p->probe_echo, (int64_t)g->opts.probe_echo, seg))
      return false;
  }
  if (p->sack_count != g->opts.sack_count && (p->opts & TOU_OPT_SACK))
    return failf(d, "%u SACK blocks, script expects %u\n  endpoint sent: %s",
                 g->opts.sack_count, p->sack_count, seg);
  return true;
}

static bool check_cids(driver_t *d, const script_pkt_t *p, const tou_segment_t *g,
                       const char *seg) {
  if (p->dcid.set) {
    if (!check_field(d, "dcid", &p->dcid, g->dst_cid, seg)) return false;
  } else {
    bool first_syn = (g->flags & (TOU_SYN | TOU_ACK)) == TOU_SYN;
    uint32_t want = first_syn ? 0 : d->last_scid;
    if ((first_syn || d->sent_any) && g->dst_cid != want)
      return failf(d, "dcid is %" PRIu32 ", expected %" PRIu32 "\n  endpoint sent: %s",
                   g->dst_cid, want, seg);
  }
  if (p->scid.set) return check_field(d, "scid", &p->scid, g->src_cid, seg);
  if (!(g->flags & TOU_RST) && d->ep_cid_known && g->src_cid != d->ep_cid)
    return failf(d, "scid is %" PRIu32 ", the connection's cid is %" PRIu32
                 "\n  endpoint sent: %s", g->src_cid, d->ep_cid, seg);
  return true;
}

static bool check_payload(driver_t *d, const tou_segment_t *g, uint32_t rel_seq,
                          const char *seg) {
  /* Stream offset of the first payload byte: relative seq 1 is offset 0. */
  for (size_t i = 0; i < g->payload_len; i++) {
    uint8_t want = sim_pattern_byte(8, (uint64_t)(rel_seq - 1) + i);
    if (g->payload[i] != want)
      return failf(d, "payload byte %zu differs from the data sent at that offset\n"
                   "  endpoint sent: %s", i, seg);
  }
  return true;
}

static void track_ep_nxt(driver_t *d, const tou_segment_t *g) {
  uint32_t end = g->seq + (uint32_t)g->payload_len + ((g->flags & TOU_SYN) ? 1u : 0u) +
                 ((g->flags & TOU_FIN) ? 1u : 0u);
  if (g->flags & TOU_RST) return;
  if (!d->ep_nxt_known || seq_gt(end, d->ep_nxt)) d->ep_nxt = end;
  d->ep_nxt_known = true;
}

static bool match_out(driver_t *d, const script_pkt_t *p, const out_seg_t *o) {
  tou_segment_t g;
  char seg[256];
  int rc = tou_wire_decode(o->data, o->len, &g);
  if (rc != TOU_OK) return failf(d, "endpoint sent an undecodable datagram: %s", tou_error_name(rc));
  describe(o, seg, sizeof seg);
  uint8_t mask = TOU_SYN | TOU_FIN | TOU_RST | TOU_ACK | TOU_URG | (p->flags & TOU_PSH);
  if ((g.flags & mask) != p->flags) {
    char want[8];
    return failf(d, "flags differ: script expects %s\n  endpoint sent: %s",
                 sim_flags_str(p->flags, want, sizeof want), seg);
  }
  if (g.flags & TOU_SYN) {
    /* Each SYN the endpoint sends defines its ISN and cid (relative 0). */
    d->ep_isn = g.seq;
    d->ep_cid = g.src_cid;
    d->ep_cid_known = true;
  }
  uint32_t rel_seq = g.seq - d->ep_isn, rel_ack = g.ack - PEER_ISN;
  if (!check_field(d, "seq", &p->seq, (int64_t)rel_seq, seg)) return false;
  if (!check_field(d, "ack", &p->ack, (int64_t)rel_ack, seg)) return false;
  if (!check_field(d, "win", &p->win, g.window, seg)) return false;
  if (!check_field(d, "urg", &p->urg, g.urgent, seg)) return false;
  script_field_t len0 = {.set = true, .v = 0};
  if (!check_field(d, "len", p->len.set ? &p->len : &len0, (int64_t)g.payload_len, seg))
    return false;
  if (!check_cids(d, p, &g, seg)) return false;
  if (!check_options(d, p, &g, seg)) return false;
  if (!check_payload(d, &g, rel_seq, seg)) return false;
  if (g.opts.present & TOU_OPT_PROBE) d->last_probe_nonce = g.opts.probe_nonce;
  track_ep_nxt(d, &g);
  return true;
}

static bool run_out(driver_t *d, const script_line_t *l) {
  uint64_t t = l->time_us;
  uint64_t lo = t > d->tol ? t - d->tol : 0, hi = t + d->tol;
  /* Let timers run until something is sent, but not past the window. */
  while (d->qlen == 0 && !d->failed) {
    uint64_t dl = tou_ep_next_deadline(d->ep);
    if (dl > hi) break;
    fire_timer(d, dl);
  }
  if (d->failed) return false;
  if (d->qlen == 0) {
    uint64_t dl = tou_ep_next_deadline(d->ep);
    char when[32];
    if (dl == TOU_NEVER) snprintf(when, sizeof when, "never");
    else snprintf(when, sizeof when, "%.6f", (double)dl / 1e6);
    return failf(d, "expected a segment at %.6f, endpoint sent nothing (next deadline %s)",
                 (double)t / 1e6, when);
  }
  out_seg_t *o = &d->q[d->qhead];
  char buf[256];
  if (o->at < lo || o->at > hi)
    return failf(d, "segment sent at %.6f, script expects it at %.6f (tolerance %.3f)\n"
                 "  endpoint sent: %s", (double)o->at / 1e6, (double)t / 1e6,
                 (double)d->tol / 1e6, describe(o, buf, sizeof buf));
  bool ok = match_out(d, &l->pkt, o);
  d->qhead = (d->qhead + 1) % OUTQ_MAX;
  d->qlen--;
  if (t > d->now) d->now = t;
  return ok;
}

/* ---- incoming segments ---------------------------------------------- */

static uint32_t field_or(const script_field_t *f, uint32_t base, uint32_t dflt) {
  return f->set && !f->any ? base + (uint32_t)f->v : dflt;
}

/* A version-reject datagram (PROTOCOL.md 6), built by hand: the core only
 * encodes rejects listing its own version. */
static bool run_in_vreject(driver_t *d, const script_pkt_t *p) {
  uint8_t buf[TOU_WIRE_VREJECT_HEADER_LEN + 8] = {0};
  uint32_t dcid = p->dcid.set && !p->dcid.any ? (uint32_t)p->dcid.v : d->ep_cid;
  uint32_t scid = p->scid.set && !p->scid.any ? (uint32_t)p->scid.v : 0;
  buf[1] = (uint8_t)p->vr_count;
  for (int i = 0; i < 4; i++) {
    buf[4 + i] = (uint8_t)(dcid >> (24 - 8 * i));
    buf[8 + i] = (uint8_t)(scid >> (24 - 8 * i));
  }
  memcpy(buf + TOU_WIRE_VREJECT_HEADER_LEN, p->vr_versions, p->vr_count);
  size_t n = TOU_WIRE_VREJECT_HEADER_LEN + p->vr_count;
  uint32_t crc = tou_crc32c(0, buf, n);
  for (int i = 0; i < 4; i++) buf[12 + i] = (uint8_t)(crc >> (24 - 8 * i));
  tou_ep_input(d->ep, d->now, &d->peer, buf, n);
  drain(d);
  return !d->failed;
}

static bool run_in(driver_t *d, const script_line_t *l) {
  const script_pkt_t *p = &l->pkt;
  if (p->vreject) return run_in_vreject(d, p);
  tou_segment_t s;
  memset(&s, 0, sizeof s);
  static uint8_t payload[65536];
  s.flags = p->flags;
  s.seq = field_or(&p->seq, PEER_ISN, d->peer_nxt);
  if (p->flags & TOU_ACK) s.ack = field_or(&p->ack, d->ep_isn, d->ep_nxt);
  else if (p->ack.set && !p->ack.any) s.ack = d->ep_isn + (uint32_t)p->ack.v;
  s.window = (uint16_t)(p->win.set && !p->win.any ? p->win.v : 65535);
  s.urgent = (uint16_t)(p->urg.set && !p->urg.any ? p->urg.v : 0);
  s.dst_cid = p->dcid.set && !p->dcid.any ? (uint32_t)p->dcid.v : (d->ep_cid_known ? d->ep_cid : 0);
  s.src_cid = p->scid.set && !p->scid.any ? (uint32_t)p->scid.v : PEER_CID;
  size_t len = p->len.set && !p->len.any ? (size_t)p->len.v : 0;
  if (len > sizeof payload) return failf(d, "len too large");
  uint32_t rel = s.seq - PEER_ISN;
  for (size_t i = 0; i < len; i++) payload[i] = sim_pattern_byte(7, (uint64_t)(rel - 1) + i);
  s.payload = payload;
  s.payload_len = len;
  if (p->opts_given) {
    s.opts.present = p->opts;
    s.opts.mss = (uint16_t)(p->mss.set && !p->mss.any ? p->mss.v : 1444);
    s.opts.wscale = (uint8_t)(p->wscale.set && !p->wscale.any ? p->wscale.v : 0);
    s.opts.ts_val = p->ts_val.set && !p->ts_val.any ? (uint32_t)p->ts_val.v : (uint32_t)(d->now / 1000);
    s.opts.ts_ecr = p->ts_ecr.set && !p->ts_ecr.any ? (uint32_t)p->ts_ecr.v : 0;
    s.opts.probe_phase = (uint8_t)(p->probe_phase.set && !p->probe_phase.any ? p->probe_phase.v : 0);
    s.opts.probe_nonce = p->probe_nonce.set && !p->probe_nonce.any ? (uint64_t)p->probe_nonce.v
                                                                   : 0x5c1d5c1d5c1d5c1dull;
    s.opts.probe_echo = p->probe_echo_last ? d->last_probe_nonce
                        : p->probe_echo.set && !p->probe_echo.any ? (uint64_t)p->probe_echo.v
                                                                  : 0;
    s.opts.uto = (uint16_t)(p->uto.set && !p->uto.any ? p->uto.v : 0);
    s.opts.sack_count = (uint8_t)p->sack_count;
    for (unsigned i = 0; i < p->sack_count; i++) {
      s.opts.sack[i].left = d->ep_isn + (uint32_t)p->sack_left[i].v;
      s.opts.sack[i].right = d->ep_isn + (uint32_t)p->sack_right[i].v;
    }
  }
  static uint8_t buf[70000]; /* single-threaded; the endpoint copies what it keeps */
  int n = tou_wire_encode(&s, buf, sizeof buf);
  if (n < 0) return failf(d, "cannot encode this segment: %s", tou_error_name(n));
  uint32_t end = s.seq + (uint32_t)len + ((s.flags & TOU_SYN) ? 1u : 0u) + ((s.flags & TOU_FIN) ? 1u : 0u);
  if (!(s.flags & TOU_RST) && seq_gt(end, d->peer_nxt)) d->peer_nxt = end;
  d->last_scid = s.src_cid;
  d->sent_any = true;
  tou_ep_input(d->ep, d->now, &d->peer, buf, (size_t)n);
  drain(d);
  return !d->failed;
}

/* ---- application calls and expectations ----------------------------- */

static bool need_conn(driver_t *d) {
  return d->conn ? true : failf(d, "no connection (connect or accept first; close/abort end it)");
}

static bool run_call(driver_t *d, const script_line_t *l) {
  uint8_t buf[4096];
  int rc = 0;
  switch (l->call) {
    case SC_LISTEN:
      rc = tou_ep_listen(d->ep, (unsigned)l->arg);
      if (rc == 0 && d->state == TOU_CLOSED) d->state = TOU_LISTEN;
      break;
    case SC_UNLISTEN:
      tou_ep_unlisten(d->ep);
      if (d->state == TOU_LISTEN) d->state = TOU_CLOSED;
      break;
    case SC_CONNECT: {
      int err = 0;
      d->conn = tou_ep_connect(d->ep, d->now, &d->peer, &err);
      if (!d->conn) rc = err ? err : TOU_ERR_INVAL;
      break;
    }
    case SC_ACCEPT:
      d->conn = tou_ep_accept(d->ep);
      if (!d->conn) return failf(d, "accept: the accept queue is empty");
      break;
    case SC_SEND:
    case SC_SEND_URGENT: {
      if (!need_conn(d)) return false;
      size_t left = (size_t)l->arg;
      while (left && rc >= 0) {
        size_t n = left < sizeof buf ? left : sizeof buf;
        for (size_t i = 0; i < n; i++) buf[i] = sim_pattern_byte(8, d->send_off + i);
        rc = l->call == SC_SEND_URGENT ? tou_conn_send_urgent(d->conn, d->now, buf, n)
                                       : tou_conn_send(d->conn, d->now, buf, n);
        if (rc >= 0 && (size_t)rc != n)
          return failf(d, "send accepted %d of %zu bytes", rc, n);
        if (rc > 0) {
          d->send_off += (size_t)rc;
          left -= (size_t)rc;
        }
      }
      if (rc > 0) rc = 0;
      break;
    }
    case SC_RECV: {
      if (!need_conn(d)) return false;
      size_t want = (size_t)l->arg, got = 0;
      while (got < want) {
        size_t n = want - got < sizeof buf ? want - got : sizeof buf;
        rc = tou_conn_recv(d->conn, d->now, buf, n);
        if (rc <= 0) break;
        for (int i = 0; i < rc; i++)
          if (buf[i] != sim_pattern_byte(7, d->recv_off + (size_t)i))
            return failf(d, "recv: byte at stream offset %" PRIu64 " is not what the peer sent",
                         d->recv_off + (uint64_t)i);
        d->recv_off += (uint64_t)rc;
        got += (size_t)rc;
      }
      if (got != want)
        return failf(d, "recv: got %zu of %zu bytes (last return %s)", got, want,
                     tou_error_name(rc < 0 ? rc : 0));
      rc = 0;
      break;
    }
    case SC_RECV_EOF:
      if (!need_conn(d)) return false;
      rc = tou_conn_recv(d->conn, d->now, buf, sizeof buf);
      if (rc != TOU_ERR_EOF)
        return failf(d, "recv eof: got %s", rc >= 0 ? "data" : tou_error_name(rc));
      rc = 0;
      break;
    case SC_SHUTDOWN:
      if (!need_conn(d)) return false;
      rc = tou_conn_shutdown(d->conn, d->now);
      break;
    case SC_CLOSE:
    case SC_ABORT:
      if (!need_conn(d)) return false;
      if (l->call == SC_CLOSE) tou_conn_close(d->conn, d->now);
      else tou_conn_abort(d->conn, d->now);
      d->conn = NULL;
      break;
    case SC_WAIT:
      break;
    case SC_USER_TIMEOUT:
      if (!need_conn(d)) return false;
      rc = tou_conn_set_user_timeout(d->conn, d->now, (uint64_t)l->arg);
      break;
  }
  if (rc < 0) d->last_error = rc;
  drain(d);
  return !d->failed;
}

static const char *event_names(unsigned bits, char *buf, size_t cap) {
  static const char *names[] = {"connected", "readable", "writable", "shutdown",
                                "closed",    "link",     "accept",   "urgent"};
  size_t n = 0;
  buf[0] = '\0';
  for (unsigned i = 0; i < 8; i++)
    if (bits & (1u << i)) n += (size_t)snprintf(buf + n, cap - n, "%s%s", n ? " " : "", names[i]);
  if (!n) snprintf(buf, cap, "none");
  return buf;
}

static bool run_expect(driver_t *d, const script_line_t *l) {
  char a[128], b[128];
  switch (l->expect) {
    case SE_STATE:
      if ((int)d->state != l->value)
        return failf(d, "state is %s, script expects %s", tou_state_name(d->state),
                     tou_state_name((tou_state_t)l->value));
      return true;
    case SE_ERROR:
      if (d->last_error != l->value)
        return failf(d, "error is %s, script expects %s", tou_error_name(d->last_error),
                     tou_error_name(l->value));
      return true;
    case SE_EVENT:
      if ((d->events & l->events) != l->events)
        return failf(d, "events seen: %s; script expects %s", event_names(d->events, a, sizeof a),
                     event_names(l->events, b, sizeof b));
      d->events &= ~l->events;
      return true;
    case SE_NO_EVENT:
      if (d->events & l->events)
        return failf(d, "events seen: %s; script expects none of %s",
                     event_names(d->events, a, sizeof a), event_names(l->events, b, sizeof b));
      return true;
    case SE_URGENT: {
      if (!need_conn(d)) return false;
      size_t until = 0;
      bool marked = tou_conn_urgent_mark(d->conn, &until);
      if (l->urgent < 0 && marked)
        return failf(d, "urgent mark %zu bytes ahead, script expects none", until);
      if (l->urgent >= 0 && (!marked || until != (size_t)l->urgent)) {
        if (!marked) return failf(d, "no urgent mark, script expects %lld", (long long)l->urgent);
        return failf(d, "urgent mark %zu bytes ahead, script expects %lld", until,
                     (long long)l->urgent);
      }
      return true;
    }
    case SE_DEADLINE: {
      uint64_t dl = tou_ep_next_deadline(d->ep);
      if (l->deadline_never) {
        if (dl != TOU_NEVER)
          return failf(d, "next deadline is %.6f, script expects never", (double)dl / 1e6);
        return true;
      }
      uint64_t lo = l->deadline_us > d->tol ? l->deadline_us - d->tol : 0;
      if (dl == TOU_NEVER || dl < lo || dl > l->deadline_us + d->tol) {
        if (dl == TOU_NEVER) return failf(d, "next deadline is never, script expects %.6f",
                                          (double)l->deadline_us / 1e6);
        return failf(d, "next deadline is %.6f, script expects %.6f", (double)dl / 1e6,
                     (double)l->deadline_us / 1e6);
      }
      return true;
    }
  }
  return true;
}

/* ---- configuration and the script loop ------------------------------- */

/* Listener and liveness settings (issue 5); durations in seconds. */
static bool apply_live_option(tou_config_t *c, const char *name, double v, uint64_t us) {
  if (strcmp(name, "syn_backlog") == 0) c->syn_backlog = (unsigned)v;
  else if (strcmp(name, "syncookies") == 0) c->syncookies = (unsigned)v;
  else if (strcmp(name, "syn_flood_rate") == 0) c->syn_flood_rate = (unsigned)v;
  else if (strcmp(name, "syn_flood_quiet") == 0) c->syn_flood_quiet_us = us;
  else if (strcmp(name, "syncookie_lifetime") == 0) c->syncookie_lifetime_us = us;
  else if (strcmp(name, "keepalive") == 0) c->keepalive = v != 0;
  else if (strcmp(name, "keepalive_idle") == 0) c->keepalive_idle_us = us;
  else if (strcmp(name, "keepalive_intvl") == 0) c->keepalive_intvl_us = us;
  else if (strcmp(name, "keepalive_cnt") == 0) c->keepalive_cnt = (unsigned)v;
  else if (strcmp(name, "user_timeout") == 0) c->user_timeout_us = us;
  else if (strcmp(name, "user_timeout_accept") == 0) c->user_timeout_accept = v != 0;
  else if (strcmp(name, "user_timeout_min") == 0) c->user_timeout_min_us = us;
  else if (strcmp(name, "user_timeout_max") == 0) c->user_timeout_max_us = us;
  else if (strcmp(name, "link_probe_idle") == 0) c->link_probe_idle_us = us;
  else if (strcmp(name, "link_probe_timeout") == 0) c->link_probe_timeout_us = us;
  else if (strcmp(name, "link_probe_retry") == 0) c->link_probe_retry_us = us;
  else if (strcmp(name, "link_probe_min_gap") == 0) c->link_probe_min_gap_us = us;
  else return false;
  return true;
}

static bool apply_option(driver_t *d, const char *name, double v) {
  tou_config_t *c = &d->cfg;
  uint64_t us = (uint64_t)(v * 1e6 + 0.5);
  if (strcmp(name, "mss") == 0) c->mss = (uint32_t)v;
  else if (strcmp(name, "send_buffer") == 0) c->send_buffer = (uint32_t)v;
  else if (strcmp(name, "recv_buffer") == 0) c->recv_buffer = (uint32_t)v;
  else if (strcmp(name, "initial_rto") == 0) c->initial_rto_us = us;
  else if (strcmp(name, "min_rto") == 0) c->min_rto_us = us;
  else if (strcmp(name, "max_rto") == 0) c->max_rto_us = us;
  else if (strcmp(name, "msl") == 0) c->msl_us = us;
  else if (strcmp(name, "syn_retries") == 0) c->syn_retries = (unsigned)v;
  else if (strcmp(name, "synack_retries") == 0) c->synack_retries = (unsigned)v;
  else if (strcmp(name, "data_retries") == 0) c->data_retries = (unsigned)v;
  else if (strcmp(name, "challenge_acks_per_sec") == 0) c->challenge_acks_per_sec = (unsigned)v;
  else if (strcmp(name, "nodelay") == 0) c->nodelay = v != 0;
  else if (strcmp(name, "delack") == 0) c->delack_us = us;
  else if (strcmp(name, "recv_buffer_initial") == 0) c->recv_buffer_initial = (uint32_t)v;
  else if (strcmp(name, "tolerance") == 0) d->tol = us;
  else if (apply_live_option(c, name, v, us)) return true;
  else return failf(d, "unknown option '%s'", name);
  return true;
}

static bool start_endpoint(driver_t *d) {
  for (int i = 0; i < 32; i++) d->seed[i] = (uint8_t)(0x40 + i);
  d->cfg.seed = d->seed;
  d->cfg.trace = on_trace;
  d->cfg.trace_ctx = d;
  d->ep = tou_ep_new(&d->cfg, 0);
  if (!d->ep) return failf(d, "tou_ep_new failed (invalid options?)");
  return true;
}

static bool run_line(driver_t *d, const script_line_t *l) {
  d->line = l;
  if (l->kind == SL_OPTION) {
    if (l->n_options == 0) return true;
    if (d->ep) return failf(d, "option after the first timed line");
    for (unsigned i = 0; i < l->n_options; i++)
      if (!apply_option(d, l->opt_name[i], l->opt_value[i])) return false;
    return true;
  }
  if (!d->ep && !start_endpoint(d)) return false;
  if (l->kind == SL_OUT) return run_out(d, l);
  advance_to(d, l->time_us);
  if (d->failed || !check_unclaimed(d, l->time_us)) return false;
  switch (l->kind) {
    case SL_IN: return run_in(d, l);
    case SL_CALL: return run_call(d, l);
    case SL_EXPECT: return run_expect(d, l);
    default: return true;
  }
}

static void print_failure(const driver_t *d) {
  fprintf(stderr, "FAIL %s\n", d->msg);
  if (d->line) fprintf(stderr, "  script line: %s\n", d->line->text);
  fprintf(stderr, "  recent endpoint trace (virtual time, relative to nothing):\n");
  unsigned n = d->ring_n < RING ? d->ring_n : RING;
  for (unsigned i = d->ring_n - n; i < d->ring_n; i++) fprintf(stderr, "    %s\n", d->ring[i % RING]);
}

/* Runs one script; returns true when it passed. *msg receives the failure. */
static bool run_script(const script_t *s, char *msg, size_t cap) {
  driver_t *d = calloc(1, sizeof *d);
  d->q = calloc(OUTQ_MAX, sizeof *d->q);
  if (!d || !d->q) abort();
  d->s = s;
  tou_config_default(&d->cfg);
  d->tol = 4000;
  d->peer = sim_addr(99, 4000);
  d->peer_nxt = PEER_ISN;
  d->state = TOU_CLOSED;
  const char *t = getenv("TOU_SIM_TRACE");
  d->print_trace = t && *t && strcmp(t, "0") != 0;
  for (size_t i = 0; i < s->n && !d->failed; i++) run_line(d, &s->lines[i]);
  if (!d->failed && d->ep) {
    d->line = NULL;
    if (d->qlen) {
      char buf[256];
      failf(d, "unexpected segment from the endpoint at the end of the script: %s",
            describe(&d->q[d->qhead], buf, sizeof buf));
    }
  }
  bool ok = !d->failed;
  if (!ok) {
    print_failure(d);
    snprintf(msg, cap, "%s", d->msg);
  }
  if (d->ep) tou_ep_free(d->ep);
  free(d->q);
  free(d);
  return ok;
}

/* "expect-failure TEXT" lines are handled here, before parsing. */
static bool read_expected_failure(const char *path, char *out, size_t cap) {
  FILE *f = fopen(path, "r");
  if (!f) return false;
  char line[512];
  bool found = false;
  while (!found && fgets(line, sizeof line, f)) {
    if (strncmp(line, "expect-failure ", 15) == 0) {
      line[strcspn(line, "\r\n")] = '\0';
      size_t n = strlen(line + 15);
      if (n >= cap) n = cap - 1;
      memcpy(out, line + 15, n);
      out[n] = '\0';
      found = true;
    }
  }
  fclose(f);
  return found;
}

static void print_pending(const char *script_path) {
  char dir[512];
  snprintf(dir, sizeof dir, "%s", script_path);
  char *slash = strrchr(dir, '/');
  if (slash) *slash = '\0';
  else snprintf(dir, sizeof dir, ".");
  char path[600];
  snprintf(path, sizeof path, "%s/PENDING", dir);
  FILE *f = fopen(path, "r");
  if (!f) return;
  char line[512];
  int n = 0;
  while (fgets(line, sizeof line, f)) {
    if (line[0] == '#' || line[0] == '\n') continue;
    if (n++ == 0) printf("driver: scripts PENDING (not run by ctest until the core passes them):\n");
    printf("  %s", line);
  }
  fclose(f);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s script.pkt ...\n", argv[0]);
    return 2;
  }
  print_pending(argv[1]);
  int failures = 0;
  script_t *s = malloc(sizeof *s);
  if (!s) return 2;
  for (int i = 1; i < argc; i++) {
    char err[1024] = "", expected[256] = "";
    bool want_fail = read_expected_failure(argv[i], expected, sizeof expected);
    bool ok;
    if (!script_parse(argv[i], s, err, sizeof err)) {
      fprintf(stderr, "FAIL %s\n", err);
      ok = false;
    } else {
      ok = run_script(s, err, sizeof err);
    }
    if (want_fail) {
      bool matched = !ok && strstr(err, expected) != NULL;
      printf("%s %s (driver self-test: must fail with \"%s\")\n", matched ? "ok  " : "FAIL",
             argv[i], expected);
      if (!matched) failures++;
    } else {
      printf("%s %s\n", ok ? "ok  " : "FAIL", argv[i]);
      if (!ok) failures++;
    }
  }
  free(s);
  return failures ? 1 : 0;
}

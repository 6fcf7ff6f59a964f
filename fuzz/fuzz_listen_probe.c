/* libFuzzer target (listen_probe): one endpoint S, listening with SYN cookies always on,
 * that also holds an established connection (opened by a real handshake
 * with a client endpoint at the start of every input), with link probing,
 * keepalive and a user timeout enabled. The input is a list of operations:
 *
 *   0 raw datagram (length, bytes) from the client's or a stranger's address
 *   1 segment for the established connection: flags, sequence/ack offsets
 *     around the connection's own, optional timestamps and PROBE option
 *     whose nonce/echo may repeat the last nonce S sent
 *   2 cookie-shaped ACK: server cid and ISS of the last cookie S sent (or
 *     mutated), the SYN's sequence number + 1 (or mutated), any address
 *   3 SYN from one of 256 addresses with fuzzed options (S answers with a
 *     cookie; the answer must not be more than 4 bytes longer)
 *   4 time passes (up to ~70 s) and due timers fire
 *   5 application calls: probe now, send, recv, the liveness setters
 *
 * After every operation S's output is drained and decoded (it must always
 * decode), remembering the last cookie and the last probe nonce. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct input {
  const uint8_t *p;
  size_t n;
} input_t;

static uint8_t u8(input_t *in) {
  if (in->n == 0) return 0;
  in->n--;
  return *in->p++;
}
static uint32_t u32(input_t *in) {
  uint32_t v = 0;
  for (int i = 0; i < 4; i++) v = v << 8 | u8(in);
  return v;
}
static uint64_t u64(input_t *in) { return (uint64_t)u32(in) << 32 | u32(in); }

typedef struct world {
  tou_ep_t *s, *c;
  tou_conn_t *sc; /* S's established connection */
  tou_addr_t addr_s, addr_c;
  uint64_t now;
  /* What S sent last. */
  uint32_t cookie_cid, cookie_iss, cookie_to_cid;
  tou_seq_t syn_isn;
  tou_addr_t syn_from;
  uint64_t probe_nonce;
} world_t;

static tou_addr_t addr_of(uint8_t host, uint16_t port) {
  tou_addr_t a = {.len = 6, .bytes = {10, 0, 0, host, (uint8_t)(port >> 8), (uint8_t)port}};
  return a;
}

/* Drains ep; datagrams for `peer` are handed to it (when non-NULL). */
static void drain(world_t *w, tou_ep_t *ep, tou_ep_t *peer, const tou_addr_t *self,
                  size_t syn_len) {
  uint8_t buf[2048];
  tou_addr_t to;
  int n;
  while ((n = tou_ep_output(ep, w->now, &to, buf, sizeof buf)) > 0) {
    tou_segment_t seg;
    if (buf[0] == 0) { /* a version reject: no longer than what it answers */
      tou_version_reject_t vr;
      if (tou_wire_decode_version_reject(buf, (size_t)n, &vr) != TOU_OK) abort();
      continue;
    }
    if (tou_wire_decode(buf, (size_t)n, &seg) != TOU_OK) abort(); /* we never send garbage */
    if (ep == w->s) {
      if ((seg.flags & (TOU_SYN | TOU_ACK)) == (TOU_SYN | TOU_ACK) && syn_len > 0) {
        if ((size_t)n > syn_len + 4) abort(); /* amplification */
        w->cookie_cid = seg.src_cid;
        w->cookie_iss = seg.seq;
        w->cookie_to_cid = seg.dst_cid;
      }
      if ((seg.opts.present & TOU_OPT_PROBE) && seg.opts.probe_nonce)
        w->probe_nonce = seg.opts.probe_nonce;
    }
    if (peer != NULL && tou_addr_equal(&to, peer == w->s ? &w->addr_s : &w->addr_c))
      tou_ep_input(peer, w->now, self, buf, (size_t)n);
  }
  tou_conn_t *c;
  unsigned ev;
  while (tou_ep_next_event(ep, &c, &ev)) {
  }
}

static void settle(world_t *w) {
  for (int i = 0; i < 8; i++) {
    drain(w, w->c, w->s, &w->addr_c, 0);
    drain(w, w->s, w->c, &w->addr_s, 0);
  }
}

static bool setup(world_t *w) {
  memset(w, 0, sizeof *w);
  static const uint8_t seed_s[32] = {1}, seed_c[32] = {2};
  tou_config_t cfg;
  tou_config_default(&cfg);
  cfg.max_connections = 64;
  cfg.max_time_wait = 16;
  cfg.syn_backlog = 4;
  cfg.send_buffer = cfg.recv_buffer = 8192;
  cfg.keepalive = true;
  cfg.keepalive_idle_us = 10000000;
  cfg.keepalive_intvl_us = 1000000;
  cfg.keepalive_cnt = 3;
  cfg.user_timeout_us = 30000000;
  cfg.link_probe_idle_us = 1000000;
  cfg.seed = seed_c;
  w->c = tou_ep_new(&cfg, 0);
  cfg.syncookies = TOU_SYNCOOKIES_ALWAYS;
  cfg.syncookie_replay_max = 4; /* small: eviction is reachable too */
  cfg.seed = seed_s;
  w->s = tou_ep_new(&cfg, 0);
  if (!w->s || !w->c) return false;
  w->addr_s = addr_of(1, 1000);
  w->addr_c = addr_of(2, 2000);
  tou_ep_listen(w->s, 8);
  int err;
  if (!tou_ep_connect(w->c, 0, &w->addr_s, &err)) return false;
  settle(w); /* the handshake completes on a cookie */
  w->sc = tou_ep_accept(w->s);
  return w->sc != NULL && tou_conn_state(w->sc) == TOU_ESTABLISHED;
}

static void op_raw(world_t *w, input_t *in) {
  size_t len = u8(in);
  tou_addr_t from = u8(in) & 1 ? w->addr_c : addr_of(3, 3000);
  if (len > in->n) len = in->n;
  tou_ep_input(w->s, w->now, &from, in->p, len);
  in->p += len;
  in->n -= len;
}

static void options(world_t *w, input_t *in, tou_options_t *o) {
  uint8_t m = u8(in);
  memset(o, 0, sizeof *o);
  if (m & 1) {
    o->present |= TOU_OPT_TIMESTAMP;
    o->ts_val = u32(in);
    o->ts_ecr = u32(in);
  }
  if (m & 2) {
    o->present |= TOU_OPT_PROBE;
    o->probe_phase = (uint8_t)(1 + u8(in) % 3);
    o->probe_nonce = m & 4 ? w->probe_nonce : u64(in);
    o->probe_echo = m & 8 ? w->probe_nonce : u64(in);
  }
  if (m & 16) o->present |= TOU_OPT_MSS, o->mss = (uint16_t)u32(in);
  if (m & 32) o->present |= TOU_OPT_WSCALE, o->wscale = u8(in) % 15;
  if (m & 64) o->present |= TOU_OPT_SACK_PERM;
}

static void send_seg(world_t *w, tou_segment_t *seg, const tou_addr_t *from, size_t payload) {
  static const uint8_t zeros[256];
  seg->payload = zeros;
  seg->payload_len = payload;
  uint8_t buf[512];
  int n = tou_wire_encode(seg, buf, sizeof buf);
  if (n > 0) tou_ep_input(w->s, w->now, from, buf, (size_t)n);
}

static void op_conn_segment(world_t *w, input_t *in) {
  if (!w->sc || w->sc->dead) return;
  tou_conn_t *c = w->sc;
  tou_segment_t seg;
  memset(&seg, 0, sizeof seg);
  seg.flags = u8(in) & 0x3f;
  seg.dst_cid = c->local_cid;
  seg.src_cid = c->remote_cid;
  seg.seq = c->rcv_nxt + (tou_seq_t)(int8_t)u8(in);
  seg.ack = c->snd_una + (tou_seq_t)(int8_t)u8(in);
  seg.window = (uint16_t)(u8(in) << 8);
  options(w, in, &seg.opts);
  send_seg(w, &seg, &w->addr_c, u8(in) % 64);
}

static void op_cookie_ack(world_t *w, input_t *in) {
  uint8_t m = u8(in);
  tou_segment_t seg;
  memset(&seg, 0, sizeof seg);
  seg.flags = m & 1 ? TOU_ACK : (uint8_t)(u8(in) & 0x3f);
  seg.dst_cid = m & 2 ? w->cookie_cid : u32(in);
  seg.src_cid = m & 4 ? w->cookie_to_cid : u32(in);
  seg.seq = (m & 8 ? w->syn_isn + 1 : u32(in)) + (tou_seq_t)(m & 16 ? (int8_t)u8(in) : 0);
  seg.ack = (m & 32 ? w->cookie_iss + 1 : u32(in)) + (tou_seq_t)(m & 64 ? (int8_t)u8(in) : 0);
  seg.window = 4096;
  options(w, in, &seg.opts);
  tou_addr_t from = m & 128 ? w->syn_from : addr_of(u8(in), 4000);
  send_seg(w, &seg, &from, u8(in) % 16);
}

static void op_syn(world_t *w, input_t *in) {
  tou_segment_t seg;
  memset(&seg, 0, sizeof seg);
  seg.flags = TOU_SYN;
  seg.src_cid = u32(in) | 1;
  seg.seq = u32(in);
  seg.window = 65535;
  options(w, in, &seg.opts);
  tou_addr_t from = addr_of(u8(in), 5000);
  uint8_t buf[512];
  int n = tou_wire_encode(&seg, buf, sizeof buf);
  if (n <= 0) return;
  w->syn_isn = seg.seq;
  w->syn_from = from;
  tou_ep_input(w->s, w->now, &from, buf, (size_t)n);
  drain(w, w->s, NULL, &w->addr_s, (size_t)n);
}

static void op_time(world_t *w, input_t *in) {
  uint64_t step = (uint64_t)u8(in) << (u8(in) % 20);
  uint64_t until = w->now + step;
  unsigned same = 0;
  for (int i = 0; i < 1000; i++) {
    uint64_t d = tou_ep_next_deadline(w->s);
    if (d > until) break;
    /* A deadline that stays due after its timer ran would spin the
     * binding's loop: a bug. */
    same = d <= w->now ? same + 1 : 0;
    if (same > 16) abort();
    if (d > w->now) w->now = d;
    tou_ep_on_timer(w->s, w->now);
    drain(w, w->s, NULL, &w->addr_s, 0);
  }
  w->now = until;
}

static void op_app(world_t *w, input_t *in) {
  if (!w->sc) return;
  uint8_t buf[512] = {0}; /* sent as payload: defined bytes (valgrind) */
  switch (u8(in) % 6) {
    case 0: tou_conn_probe_now(w->sc, w->now); break;
    case 1: tou_conn_send(w->sc, w->now, buf, u8(in) * 2u); break;
    case 2: tou_conn_recv(w->sc, w->now, buf, sizeof buf); break;
    case 3:
      tou_conn_set_keepalive(w->sc, w->now, u8(in) & 1, (uint64_t)u8(in) * 100000, u8(in) * 10000u,
                             u8(in) % 5);
      break;
    case 4: tou_conn_set_user_timeout(w->sc, w->now, (uint64_t)u8(in) * 100000); break;
    default:
      tou_conn_set_link_probe(w->sc, w->now, (uint64_t)u8(in) * 50000, (uint64_t)u8(in) * 50000,
                              (uint64_t)u8(in) * 100000);
      break;
  }
  tou_link_info_t li;
  tou_conn_link_info(w->sc, &li);
  if (li.state > TOU_LS_BACK) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  world_t w;
  if (!setup(&w)) abort();
  input_t in = {data, size};
  while (in.n > 0) {
    switch (u8(&in) % 6) {
      case 0: op_raw(&w, &in); break;
      case 1: op_conn_segment(&w, &in); break;
      case 2: op_cookie_ack(&w, &in); break;
      case 3: op_syn(&w, &in); break;
      case 4: op_time(&w, &in); break;
      default: op_app(&w, &in); break;
    }
    drain(&w, w.s, NULL, &w.addr_s, 0);
  }
  tou_ep_free(w.s);
  tou_ep_free(w.c);
  return 0;
}

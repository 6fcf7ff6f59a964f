/* Issue 6's transfer matrix, shared by the test_sim_data_*.c scenarios:
 * one client (A) and one server (B) move `up` bytes A->B and `down` bytes
 * B->A at the same time over a path with the given impairments, both
 * half-close when their data is queued and close after EOF. A transfer
 * passes when every byte arrived exactly (each byte is checked against its
 * pattern), both saw EOF, both connections ended without error, and every
 * corrupted datagram that reached a host was dropped by the CRC check and
 * none was taken for a segment. Header-only, like scenario.h. */
#ifndef TOU_SIM_XFER_H
#define TOU_SIM_XFER_H

#include "scenario.h"

#define XFER_MSS TOU_MSS_DEFAULT_V4

typedef struct xfer_opts {
  sim_link_params_t link;       /* both directions (A->B only when asymmetric) */
  bool asymmetric;              /* B->A uses link_ba */
  sim_link_params_t link_ba;
  uint64_t blackout_from, blackout_to; /* dark in [from, to); 0: none */
  bool blackout_one_way;        /* only A->B goes dark */
  uint64_t resume_reading_at;   /* receivers read nothing before this time; 0: read at once */
  const tou_config_t *cfg;      /* NULL: defaults */
  bool watch;                   /* install the trace hooks (CRC pairing, persist probes) */
  uint64_t limit;               /* virtual time limit; 0: 2000 s */
} xfer_opts_t;

/* TOU_TEST_SMALL=1: the valgrind build, ~50x slower, where scenarios that
 * move a lot of data move less (`make valgrind-full` sets 0). */
static inline bool xfer_small(void) {
  const char *small = getenv("TOU_TEST_SMALL");
  return small != NULL && strcmp(small, "1") == 0;
}

/* The size of each "64 MiB" transfer of test_sim_data_{big,huge}: 1 MiB
 * when small (33 transfers of 64 MiB take most of an hour under valgrind). */
static inline size_t xfer_big(void) { return (size_t)(xfer_small() ? 1 : 64) << 20; }

/* What one host saw through the core's trace hook. */
#define XFER_MAX_PROBES 64
typedef struct xfer_watch {
  struct xfer_shared *shared;
  bool peer_window_zero;   /* the last segment from the peer advertised a zero window */
  unsigned probes;         /* data segments sent into a zero window (persist probes) */
  uint64_t probe_at[XFER_MAX_PROBES];
  uint64_t zero_windows_sent; /* segments we sent advertising a zero window */
} xfer_watch_t;

typedef struct xfer_shared {
  bool in_corrupted; /* the datagram being delivered had bits flipped */
  uint64_t corrupted_delivered, corrupted_dropped, corrupted_accepted;
} xfer_shared_t;

typedef struct xfer_result {
  uint64_t t_connected, t_done; /* handshake; both EOFs read */
  xfer_shared_t crc;
  xfer_watch_t a, b;
  sim_link_stats_t ab, ba;
  uint64_t split_payloads; /* datagrams of both hosts with a two-piece payload */
} xfer_result_t;

static inline void xfer_tap(void *ctx, const sim_tap_event_t *ev) {
  xfer_shared_t *s = ctx;
  if (ev->kind != SIM_TAP_DELIVER) return;
  s->in_corrupted = ev->corrupted;
  if (ev->corrupted) s->corrupted_delivered++;
}

static inline void xfer_trace(void *ctx, const tou_trace_event_t *ev) {
  xfer_watch_t *w = ctx;
  xfer_shared_t *s = w->shared;
  if (ev->kind == TOU_TRACE_SEG_DROP && s->in_corrupted && ev->error <= TOU_ERR_TRUNCATED &&
      ev->error >= TOU_ERR_BAD_CHECKSUM)
    s->corrupted_dropped++;
  if (ev->kind == TOU_TRACE_SEG_RECV && s->in_corrupted) s->corrupted_accepted++;
  if (ev->conn == NULL || ev->seg == NULL) return;
  const tou_segment_t *seg = ev->seg;
  if (ev->kind == TOU_TRACE_SEG_RECV && (seg->flags & TOU_ACK) && !(seg->flags & TOU_SYN))
    w->peer_window_zero = seg->window == 0;
  if (ev->kind == TOU_TRACE_SEG_SENT) {
    if ((seg->flags & TOU_ACK) && !(seg->flags & TOU_SYN) && seg->window == 0)
      w->zero_windows_sent++;
    if (seg->payload_len > 0 && w->peer_window_zero) {
      if (w->probes < XFER_MAX_PROBES) w->probe_at[w->probes] = ev->now;
      w->probes++;
    }
  }
}

typedef struct xfer_resume {
  sim_world_t *w;
  sim_app_t *c;
} xfer_resume_t;

static inline void xfer_resume_reading(sim_t *sim, void *arg) {
  (void)sim;
  xfer_resume_t *r = arg;
  if (r->c) sim_app_set_reading(r->c, true);
  if (r->w->b->last_accepted) sim_app_set_reading(r->w->b->last_accepted, true);
  r->w->b->accept_cfg.no_read = false;
}

static inline bool xfer_both_done(void *ctx) {
  xfer_resume_t *r = ctx;
  sim_app_t *s = r->w->b->last_accepted;
  return r->c->released && s != NULL && s->released;
}

/* Runs one transfer and checks it; fills *res when not NULL. */
static inline void xfer_run(uint64_t seed, const xfer_opts_t *o, size_t up, size_t down,
                            xfer_result_t *res) {
  sim_world_t w;
  xfer_result_t r;
  memset(&r, 0, sizeof r);
  r.a.shared = r.b.shared = &r.crc;
  sim_app_cfg_t scfg = server_cfg(down), ccfg = client_cfg(up);
  if (o->resume_reading_at != 0) {
    /* Receivers of data do not read until resume_reading_at. A side that
     * has seen the other's FIN may close (TIME_WAIT, or LAST_ACK then
     * CLOSED) and the app would give up its unread data: so the receiving
     * side does not half-close first, and when both receive, the client
     * half-closes first and the server only after reading to EOF. */
    scfg.no_read = up > 0;
    ccfg.no_read = down > 0;
    scfg.shutdown_when_sent = !(up > 0);
    ccfg.shutdown_when_sent = !(down > 0 && up == 0);
  }
  world_init(&w, seed, &o->link, o->cfg, &scfg);
  if (o->asymmetric) sim_link_set_params(world_link_ba(&w), &o->link_ba);
  if (o->watch) {
    sim_add_tap(w.sim, xfer_tap, &r.crc);
    w.a->on_trace = xfer_trace;
    w.a->trace_ctx = &r.a;
    w.b->on_trace = xfer_trace;
    w.b->trace_ctx = &r.b;
  }
  if (o->blackout_to > o->blackout_from) {
    sim_link_add_blackout(world_link_ab(&w), o->blackout_from, o->blackout_to);
    if (!o->blackout_one_way)
      sim_link_add_blackout(world_link_ba(&w), o->blackout_from, o->blackout_to);
  }
  sim_app_t *c = sim_app_connect(w.a, &w.addr_b, &ccfg, NULL);
  assert_non_null(c);
  xfer_resume_t resume = {&w, c};
  if (o->resume_reading_at) sim_call_at(w.sim, o->resume_reading_at, xfer_resume_reading, &resume);
  uint64_t limit = o->limit ? o->limit : 2000 * SIM_SEC;
  /* Run until both applications are done (not through TIME_WAIT). */
  sim_run_until_cond(w.sim, xfer_both_done, &resume, limit);
  sim_app_t *s = w.b->last_accepted;
  if (!s || !c->released || !s->released || c->received != down || s->received != up ||
      c->data_mismatch || s->data_mismatch || c->error || s->error) {
    print_error("transfer seed 0x%llx up %zu down %zu: client got %zu%s err %s, server got %zu%s "
                "err %s, at %.3f s\n",
                (unsigned long long)sim_seed(w.sim), up, down, c->received,
                c->data_mismatch ? " (corrupt)" : "", tou_error_name(c->error),
                s ? s->received : 0, s && s->data_mismatch ? " (corrupt)" : "",
                tou_error_name(s ? s->error : 0), (double)sim_now(w.sim) / 1e6);
  }
  assert_received_all(c, down);
  assert_received_all(s, up);
  assert_true(c->released);
  assert_true(s->released);
  assert_error_is(c->error, 0);
  assert_error_is(s->error, 0);
  if (o->watch) {
    assert_int_equal(r.crc.corrupted_accepted, 0);
    assert_int_equal(r.crc.corrupted_dropped, r.crc.corrupted_delivered);
  }
  r.t_connected = c->t_connected;
  r.t_done = c->t_eof > s->t_eof ? c->t_eof : s->t_eof;
  r.ab = world_link_ab(&w)->stats;
  r.ba = world_link_ba(&w)->stats;
  r.split_payloads = w.a->stats.split_payloads + w.b->stats.split_payloads;
  if (res) *res = r;
  world_free(&w);
}

/* The sizes. */
static const size_t xfer_small_sizes[] = {0, 1, XFER_MSS - 1, XFER_MSS, XFER_MSS + 1};
#define XFER_N_SMALL (sizeof xfer_small_sizes / sizeof xfer_small_sizes[0])
#define XFER_MIB ((size_t)1 << 20)

/* Every size of the matrix up to 1 MiB, each way and both ways at once
 * (0 B: a connection that only opens and closes). Seeds differ per run. */
static inline void xfer_matrix(uint64_t seed, const xfer_opts_t *o) {
  size_t sizes[XFER_N_SMALL + 1];
  for (size_t i = 0; i < XFER_N_SMALL; i++) sizes[i] = xfer_small_sizes[i];
  sizes[XFER_N_SMALL] = XFER_MIB;
  for (size_t i = 0; i < XFER_N_SMALL + 1; i++) {
    size_t n = sizes[i];
    xfer_run(seed++, o, n, 0, NULL);
    if (n == 0) continue; /* "each way" and "both" are the same open and close */
    xfer_run(seed++, o, 0, n, NULL);
    xfer_run(seed++, o, n, n, NULL);
  }
}

#endif

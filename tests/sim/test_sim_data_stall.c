/* Issue 6 matrix through stalls: a 30 s blackout of both directions in the
 * middle of the transfer (the transfer resumes and completes, nobody times
 * out), and receivers that stop reading for 20 s (their windows close, the
 * senders probe the zero window with exponential backoff, RFC 9293 3.8.6.1,
 * and the transfer completes once they read again). */
#include "xfer.h"

#define MS SIM_MS
#define SEC SIM_SEC

/* Dark from 50 ms (the first data is in flight) for 30 s. */
static void test_blackout_30s(void **state) {
  (void)state;
  xfer_opts_t o = {.link = {.delay_us = 20 * MS}, .blackout_from = 50 * MS,
                   .blackout_to = 50 * MS + 30 * SEC};
  xfer_matrix(0xd400, &o);
}

/* 1 MiB each way: dark from 300 ms (well into the transfer) for 30 s. */
static void test_blackout_30s_mid_bulk(void **state) {
  (void)state;
  xfer_opts_t o = {.link = {.delay_us = 20 * MS}, .blackout_from = 300 * MS,
                   .blackout_to = 300 * MS + 30 * SEC};
  xfer_result_t r;
  xfer_run(0xd420, &o, XFER_MIB, XFER_MIB, &r);
  print_message("1 MiB both ways through a 30 s blackout: done at %.1f s\n",
                (double)r.t_done / 1e6);
  assert_true(r.t_done > o.blackout_to);
  /* Backoff ends in bounded time: at most one 64 s maximum RTO after. */
  assert_true(r.t_done < o.blackout_to + 70 * SEC);
}

static void test_reader_stops_matrix(void **state) {
  (void)state;
  xfer_opts_t o = {.link = {.delay_us = 20 * MS}, .resume_reading_at = 20 * SEC};
  xfer_matrix(0xd440, &o);
}

/* Checks the persist probes one sender sent into the closed window: at
 * least `min` of them, the gaps never shrinking and doubling (exponential
 * backoff, RFC 9293 3.8.6.1 / RFC 6298 5.5) until the reader resumed. */
static void assert_probes_backoff(const xfer_watch_t *w, unsigned min, const char *who) {
  print_message("%s: %u zero-window probes at", who, w->probes);
  for (unsigned i = 0; i < w->probes && i < XFER_MAX_PROBES; i++)
    print_message(" %.2f", (double)w->probe_at[i] / 1e6);
  print_message(" s\n");
  assert_true(w->probes >= min);
  unsigned n = w->probes < XFER_MAX_PROBES ? w->probes : XFER_MAX_PROBES;
  for (unsigned i = 2; i < n; i++) {
    uint64_t gap = w->probe_at[i] - w->probe_at[i - 1], prev = w->probe_at[i - 1] - w->probe_at[i - 2];
    assert_true(gap >= prev);
    if (i >= 3) assert_true(gap >= prev * 19 / 10); /* doubled, give or take rounding */
  }
}

/* 1 MiB each way, both readers stopped for 20 s: both windows close (the
 * receivers advertise zero), both senders probe with backoff, and all of
 * it arrives once the readers resume. */
static void test_zero_window_persist_and_resume(void **state) {
  (void)state;
  xfer_opts_t o = {.link = {.delay_us = 20 * MS}, .resume_reading_at = 20 * SEC, .watch = true};
  xfer_result_t r;
  xfer_run(0xd460, &o, XFER_MIB, XFER_MIB, &r);
  assert_true(r.a.zero_windows_sent > 0);
  assert_true(r.b.zero_windows_sent > 0);
  assert_probes_backoff(&r.a, 4, "client");
  assert_probes_backoff(&r.b, 4, "server");
  assert_true(r.t_done > 20 * SEC);
  /* The window update when reading resumes restarts the flow at once (no
   * wait for the next probe, which would be many seconds away). */
  assert_true(r.t_done < 20 * SEC + 2 * SEC);
}

/* The same with the window update lost: the next probe finds the window
 * open, so the transfer still completes (later). */
static bool drop_window_updates(void *ctx, uint64_t index, const uint8_t *data, size_t len) {
  (void)index;
  uint64_t *dropped = ctx;
  tou_segment_t s;
  if (tou_wire_decode(data, len, &s) != TOU_OK) return false;
  if (s.payload_len == 0 && s.flags == TOU_ACK && s.window > 0 && *dropped < 1) {
    (*dropped)++;
    return true;
  }
  return false;
}

typedef struct filter_at {
  sim_world_t *w;
  uint64_t *dropped;
} filter_at_t;

static void test_zero_window_update_lost(void **state) {
  (void)state;
  sim_world_t w;
  sim_link_params_t p = {.delay_us = 20 * MS};
  sim_app_cfg_t scfg = reader_cfg(1);
  scfg.no_read = true;
  world_init(&w, 0xd480, &p, NULL, &scfg);
  sim_app_cfg_t ccfg = {.send_bytes = XFER_MIB, .tx_pattern = 1, .shutdown_when_sent = true};
  sim_app_t *c = sim_app_connect(w.a, &w.addr_b, &ccfg, NULL);
  sim_run_until(w.sim, 10 * SEC);
  sim_app_t *s = w.b->last_accepted;
  assert_non_null(s);
  tou_conn_info_t ia;
  tou_conn_get_info(c->conn, &ia);
  assert_int_equal(ia.snd_wnd, 0);
  assert_true(ia.zero_window_probes >= 3);
  uint64_t dropped = 0;
  sim_link_add_filter(world_link_ba(&w), drop_window_updates, &dropped, 1);
  sim_app_set_reading(s, true);
  sim_run_until(w.sim, 200 * SEC);
  assert_int_equal(dropped, 1);
  assert_received_all(s, XFER_MIB);
  assert_true(c->fin_acked);
  world_free(&w);
}

/* A slow reader: B's application takes 3000 bytes every 20 ms (150 KB/s)
 * from a sender that could go far faster. Receiver SWS avoidance (RFC 9293
 * 3.8.6.2.2): the right edge of B's window never moves forward by less than
 * one MSS (a few bytes less only by the scale's rounding); the buffer does
 * not grow (the reader drains far less than a window per RTT); all of it
 * arrives, byte-exact. */
typedef struct slow_reader {
  sim_world_t *w;
  size_t got;
  bool mismatch, eof;
  bool have_edge;
  tou_seq_t edge;
  unsigned small_advances, advances;
  uint8_t scale;
} slow_reader_t;

static void edge_watch(void *ctx, const tou_trace_event_t *ev) {
  slow_reader_t *r = ctx;
  if (ev->kind != TOU_TRACE_SEG_SENT || !ev->conn || !ev->seg) return;
  const tou_segment_t *s = ev->seg;
  if ((s->flags & TOU_SYN) || !(s->flags & TOU_ACK)) return;
  tou_seq_t edge = s->ack + ((uint32_t)s->window << r->scale);
  if (r->have_edge && seq_gt(edge, r->edge)) {
    r->advances++;
    if (edge - r->edge < XFER_MSS - (1u << r->scale)) r->small_advances++;
  }
  if (!r->have_edge || seq_gt(edge, r->edge)) r->edge = edge;
  r->have_edge = true;
}

static void slow_read(sim_t *sim, void *arg) {
  slow_reader_t *r = arg;
  sim_app_t *s = r->w->b->last_accepted;
  if (s && s->conn && !r->eof) {
    static uint8_t buf[3000], want[3000];
    int n = tou_conn_recv(s->conn, sim_now(sim), buf, sizeof buf);
    if (n > 0) {
      sim_pattern_fill(1, r->got, want, (size_t)n);
      if (memcmp(buf, want, (size_t)n) != 0) r->mismatch = true;
      r->got += (size_t)n;
    } else if (n == TOU_ERR_EOF) {
      r->eof = true;
    }
    sim_host_kick(r->w->b);
  }
  if (!r->eof) sim_call_at(sim, sim_now(sim) + 20 * MS, slow_read, r);
}

static void test_slow_reader_sws(void **state) {
  (void)state;
  sim_world_t w;
  sim_link_params_t p = {.delay_us = 20 * MS, .rate_bps = 50000000, .queue_bytes = 200000};
  sim_app_cfg_t scfg = reader_cfg(1);
  scfg.no_read = true; /* slow_read does the reading */
  world_init(&w, 0xd4a0, &p, NULL, &scfg);
  slow_reader_t r = {.w = &w, .scale = 7}; /* the window scale 4 MiB needs */
  w.b->on_trace = edge_watch;
  w.b->trace_ctx = &r;
  sim_app_cfg_t ccfg = {.send_bytes = XFER_MIB, .tx_pattern = 1, .shutdown_when_sent = true};
  sim_app_t *c = sim_app_connect(w.a, &w.addr_b, &ccfg, NULL);
  sim_call_at(w.sim, 0, slow_read, &r);
  sim_run_until(w.sim, 60 * SEC);
  assert_true(r.eof);
  assert_false(r.mismatch);
  assert_int_equal(r.got, XFER_MIB);
  tou_conn_info_t ib;
  tou_conn_get_info(w.b->last_accepted->conn, &ib);
  print_message("slow reader: %u right-edge advances, %u smaller than an MSS; buffer %u\n",
                r.advances, r.small_advances, ib.rcv_buffer);
  assert_int_equal(ib.rcv_wscale, r.scale);
  assert_true(r.advances > 50);
  assert_int_equal(r.small_advances, 0);
  assert_int_equal(ib.rcv_buffer, 128 * 1024);
  assert_true(c->fin_acked);
  world_free(&w);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_blackout_30s),
      cmocka_unit_test(test_blackout_30s_mid_bulk),
      cmocka_unit_test(test_reader_stops_matrix),
      cmocka_unit_test(test_zero_window_persist_and_resume),
      cmocka_unit_test(test_zero_window_update_lost),
      cmocka_unit_test(test_slow_reader_sws),
  };
  SIM_RUN_TESTS(tests);
}

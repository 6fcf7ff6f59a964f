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

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_blackout_30s),
      cmocka_unit_test(test_blackout_30s_mid_bulk),
      cmocka_unit_test(test_reader_stops_matrix),
      cmocka_unit_test(test_zero_window_persist_and_resume),
      cmocka_unit_test(test_zero_window_update_lost),
  };
  SIM_RUN_TESTS(tests);
}

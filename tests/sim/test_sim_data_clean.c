/* Issue 6 matrix on a clean path (20 ms each way): 0 B, 1 B, MSS-1, MSS,
 * MSS+1 and 1 MiB, each way and both ways at once, byte-exact. Plus what
 * the receiver's ACK policy and window look like on such a path: delayed
 * ACKs halve the ACK count of a bulk transfer, and receive autotuning lets
 * one transfer fill a 100 Mbit/s x 40 ms path without any buffer sizing. */
#include "xfer.h"

#define MS SIM_MS
#define SEC SIM_SEC

static void test_matrix_clean(void **state) {
  (void)state;
  xfer_opts_t o = {.link = {.delay_us = 20 * MS}, .watch = true};
  xfer_matrix(0xd100, &o);
}

/* Counts pure ACKs and data segments a host sends. */
typedef struct seg_count {
  uint64_t data, pure_acks;
} seg_count_t;

static void count_segs(void *ctx, const tou_trace_event_t *ev) {
  seg_count_t *n = ctx;
  if (ev->kind != TOU_TRACE_SEG_SENT || ev->conn == NULL) return;
  if (ev->seg->payload_len > 0)
    n->data++;
  else if (ev->seg->flags == TOU_ACK)
    n->pure_acks++;
}

/* RFC 5681 4.2 / RFC 9293 3.8.6.3: one ACK for every second full-sized
 * segment. A 1 MiB one-way transfer is ~730 segments: the receiver sends
 * about half as many ACKs (plus the quick ACKs of slow start), never one per
 * segment as before delayed ACKs. */
static void test_delayed_acks_halve_ack_count(void **state) {
  (void)state;
  sim_world_t w;
  sim_link_params_t p = {.delay_us = 20 * MS};
  sim_app_cfg_t scfg = server_cfg(0);
  world_init(&w, 0xd1a0, &p, NULL, &scfg);
  seg_count_t na = {0}, nb = {0};
  w.a->on_trace = count_segs;
  w.a->trace_ctx = &na;
  w.b->on_trace = count_segs;
  w.b->trace_ctx = &nb;
  sim_app_cfg_t ccfg = client_cfg(XFER_MIB);
  sim_app_t *c = sim_app_connect(w.a, &w.addr_b, &ccfg, NULL);
  sim_run_idle(w.sim, 600 * SEC);
  assert_received_all(w.b->last_accepted, XFER_MIB);
  assert_true(c->released);
  print_message("1 MiB: %llu data segments, %llu pure ACKs back\n", (unsigned long long)na.data,
                (unsigned long long)nb.pure_acks);
  assert_true(na.data >= XFER_MIB / XFER_MSS);
  assert_true(nb.pure_acks < na.data * 6 / 10);
  assert_true(nb.pure_acks > na.data * 4 / 10);
  world_free(&w);
}

/* A lone segment (odd count) is acknowledged by the delayed-ACK timer
 * (40 ms), never later: the sender sees its ACK by RTT + 40 ms. */
static void test_lone_segment_acked_within_delack_bound(void **state) {
  (void)state;
  sim_world_t w;
  sim_link_params_t p = {.delay_us = 20 * MS};
  sim_app_cfg_t reader = reader_cfg(1);
  world_init(&w, 0xd1a1, &p, NULL, &reader);
  sim_app_cfg_t ccfg = {.send_bytes = 0, .tx_pattern = 1};
  sim_app_t *c = sim_app_connect(w.a, &w.addr_b, &ccfg, NULL);
  assert_true(world_run_until_flag(&w, &c->connected, 1 * SEC));
  /* 40 segments so the quick ACKs of the start are used up, then (without
   * an idle period, which would restart quick ACKs) one small segment. */
  sim_app_send_more(c, 40 * XFER_MSS);
  while (tou_conn_send_queued(c->conn) > 0 && sim_now(w.sim) < 2 * SEC) sim_step(w.sim);
  assert_int_equal(tou_conn_send_queued(c->conn), 0);
  uint64_t t0 = sim_now(w.sim);
  sim_app_send_more(c, 100);
  uint64_t limit = t0 + 2 * SEC;
  while (tou_conn_send_queued(c->conn) > 0 && sim_now(w.sim) < limit) sim_step(w.sim);
  uint64_t acked_after = sim_now(w.sim) - t0;
  print_message("lone segment acknowledged after %.1f ms\n", (double)acked_after / 1000);
  assert_true(acked_after >= 40 * MS + 40 * MS); /* RTT + delayed-ACK timer */
  assert_true(acked_after <= 40 * MS + 40 * MS + 2 * MS);
  tou_conn_info_t ib;
  tou_conn_get_info(w.b->last_accepted->conn, &ib);
  assert_true(ib.acks_delack_timer >= 1);
  world_free(&w);
}

/* Receive autotuning: with default buffers (128 KiB initial window, 4 MiB
 * ceiling) a bulk transfer over 100 Mbit/s x 40 ms (BDP 500 KB) with a
 * one-BDP queue fills the path: 16 MiB take little more than their
 * serialization time. Without autotuning the 128 KiB window would cap it at
 * 26 Mbit/s (5 s for 16 MiB). */
static void test_autotuning_fills_long_fat_path(void **state) {
  (void)state;
  sim_link_params_t p = {.delay_us = 20 * MS, .rate_bps = 100000000, .queue_bytes = 500000};
  xfer_opts_t o = {.link = p};
  xfer_result_t r;
  size_t n = 16 * XFER_MIB;
  xfer_run(0xd1a2, &o, n, 0, &r);
  double secs = (double)(r.t_done - r.t_connected) / 1e6;
  double wire = (double)n * 8 / 100e6;
  print_message("16 MiB over 100 Mbit/s x 40 ms: %.2f s (serialization alone %.2f s): %.0f%%\n",
                secs, wire, 100 * wire / secs);
  assert_true(secs < wire * 1.5);
  /* The same with the buffer fixed at the initial 128 KiB: window-bound. */
  tou_config_t fixed;
  tou_config_default(&fixed);
  fixed.recv_buffer = fixed.recv_buffer_initial;
  o.cfg = &fixed;
  xfer_run(0xd1a2, &o, n, 0, &r);
  double fixed_secs = (double)(r.t_done - r.t_connected) / 1e6;
  print_message("... with a fixed 128 KiB buffer: %.2f s\n", fixed_secs);
  assert_true(fixed_secs > 2 * secs);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_matrix_clean),
      cmocka_unit_test(test_delayed_acks_halve_ack_count),
      cmocka_unit_test(test_lone_segment_acked_within_delack_bound),
      cmocka_unit_test(test_autotuning_fills_long_fat_path),
  };
  SIM_RUN_TESTS(tests);
}

/* Spurious retransmission timeouts and their undo (undo.h: RFC 3522 Eifel
 * detection with timestamps, RFC 3708 DSACK detection, RFC 4015-style
 * response). The data direction of a 40 ms RTT, 10 Mbit/s path stalls for
 * 1.46 s in the middle of a bulk transfer (sim_link_add_stall: nothing is
 * lost, the segments wait and then drain in order): the round trip jumps
 * from 40 ms to 1.5 s for a moment. The sender's RTO fires (after a tail
 * loss probe) and retransmits; the first ACK after the stall echoes the
 * timestamp of an original, sent before the retransmission: the timeout
 * was spurious. With undo (the default), cwnd and ssthresh go back to
 * what they were before the timeout and the flight the timeout marked
 * lost is not re-sent; with tou_config_t.no_undo (same seed, same path)
 * the detection is only counted, the sender slow-starts from one segment
 * and re-sends, one ACK at a time, segments the receiver already holds. */
#include <inttypes.h>

#include "scenario.h"

#define MS SIM_MS
#define SEC SIM_SEC
#define RATE 10000000ull
#define STALL_AT (3 * SEC)
#define STALL_US (1460 * MS)

typedef struct spike_result {
  tou_conn_info_t before_rto; /* the sender just before its first timeout */
  tou_conn_info_t at_detect;  /* right after the ACK that showed it spurious */
  tou_conn_info_t end;
  bool detected;
  size_t received;            /* bytes the reader had at the end */
} spike_result_t;

static void spike(bool no_undo, bool no_ts, spike_result_t *r) {
  memset(r, 0, sizeof *r);
  /* The receive window (96 kB, about two BDPs) keeps the queue below its
   * bound: nothing is ever lost, every retransmission is spurious. */
  sim_link_params_t p = {.delay_us = 20 * MS, .rate_bps = RATE, .queue_bytes = 200000};
  tou_config_t cfg;
  tou_config_default(&cfg);
  cfg.send_buffer = 1u << 20;
  cfg.recv_buffer = cfg.recv_buffer_initial = 96000;
  cfg.no_undo = no_undo;
  cfg.no_timestamps = no_ts;
  sim_app_cfg_t reader = reader_cfg(1);
  sim_world_t w;
  world_init(&w, 0x5b1e, &p, &cfg, &reader);
  sim_link_add_stall(world_link_ab(&w), STALL_AT, STALL_AT + STALL_US);
  sim_app_cfg_t sender = {.send_bytes = 16u << 20, .tx_pattern = 1};
  sim_app_t *c = sim_app_connect(w.a, &w.addr_b, &sender, NULL);
  assert_non_null(c);
  uint64_t end = STALL_AT + 6 * SEC;
  tou_conn_info_t i = {0};
  while (sim_now(w.sim) < end && sim_step(w.sim)) {
    if (c->conn == NULL) continue;
    tou_conn_get_info(c->conn, &i);
    if (i.timeouts == 0) r->before_rto = i;
    if (!r->detected && i.spurious_rtos > 0) {
      r->detected = true;
      r->at_detect = i;
    }
  }
  assert_non_null(c->conn);
  tou_conn_get_info(c->conn, &r->end);
  sim_app_t *s = w.b->last_accepted;
  assert_non_null(s);
  sim_link_stats_t ab = world_link_ab(&w)->stats;
  assert_int_equal(ab.dropped[SIM_DROP_QUEUE], 0);
  assert_false(s->data_mismatch);
  r->received = s->received;
  print_message("%s%s: timeouts %" PRIu64 ", spurious RTOs %" PRIu64 ", undos %" PRIu64
                ", cwnd before the RTO %u, at detection %u; retransmitted %" PRIu64
                " segments, %zu bytes received\n",
                no_undo ? "no undo" : "undo", no_ts ? " (no timestamps)" : "", r->end.timeouts, r->end.spurious_rtos,
                r->end.undos, r->before_rto.cwnd, r->at_detect.cwnd,
                r->end.segs_retransmitted, r->received);
  world_free(&w);
}

static void test_delay_spike_rto_is_undone(void **state) {
  (void)state;
  spike_result_t undo, keep;
  spike(false, false, &undo);
  spike(true, false, &keep);
  /* Both saw the same spike: an RTO, found spurious by its timestamps. */
  assert_true(undo.end.ts_ok);
  assert_true(undo.end.timeouts >= 1);
  assert_true(undo.detected);
  assert_true(keep.end.timeouts >= 1);
  assert_true(keep.detected);
  /* Undo restored the window of before the timeout; without undo the
   * sender is still in slow start from one segment. */
  assert_int_equal(undo.end.undos, 1);
  assert_int_equal(keep.end.undos, 0);
  assert_true(undo.at_detect.cwnd >= undo.before_rto.cwnd);
  assert_true(undo.at_detect.ssthresh >= undo.before_rto.ssthresh);
  assert_true(keep.at_detect.cwnd < keep.before_rto.cwnd / 4);
  /* No go-back-N: the retransmissions are the probes sent during the
   * stall, far fewer than re-sending the flight. */
  assert_true(undo.end.segs_retransmitted < keep.end.segs_retransmitted);
  assert_true(undo.end.segs_retransmitted <= 6);
  /* And the transfer is further along. */
  assert_true(undo.received > keep.received);
}

/* The same spike without timestamps: Eifel cannot tell, F-RTO (RFC 5682)
 * does. The first ACK after the stall acknowledges new data: two new
 * segments go instead of the flight; the next ACK acknowledges data that
 * was never retransmitted, so the timeout was spurious and is undone. */
static void test_delay_spike_frto_without_timestamps(void **state) {
  (void)state;
  spike_result_t frto, keep;
  spike(false, true, &frto);
  spike(true, true, &keep);
  assert_false(frto.end.ts_ok);
  assert_true(frto.end.timeouts >= 1);
  assert_true(frto.detected);
  assert_int_equal(frto.end.undos, 1);
  assert_true(frto.at_detect.cwnd >= frto.before_rto.cwnd);
  assert_true(frto.end.segs_retransmitted < keep.end.segs_retransmitted);
  assert_true(frto.end.segs_retransmitted <= 6);
  assert_true(frto.received > keep.received);
  /* Without undo (and so without F-RTO) only DSACKs could tell, later. */
  assert_int_equal(keep.end.undos, 0);
}

/* A real loss of a whole flight (a 1.46 s blackout of the data direction)
 * also ends in an RTO: it must not be undone, with timestamps (Eifel sees
 * the retransmission's echo) or without (F-RTO's new segments draw
 * duplicate ACKs and the conventional recovery follows). The transfer
 * completes byte-exact. */
static void real_loss(bool no_ts) {
  sim_link_params_t p = {.delay_us = 20 * MS, .rate_bps = RATE, .queue_bytes = 200000};
  tou_config_t cfg;
  tou_config_default(&cfg);
  cfg.send_buffer = 1u << 20;
  cfg.recv_buffer = cfg.recv_buffer_initial = 96000;
  cfg.no_timestamps = no_ts;
  sim_app_cfg_t server = server_cfg(0);
  sim_world_t w;
  world_init(&w, 0x5b1f, &p, &cfg, &server);
  sim_link_add_blackout(world_link_ab(&w), 1 * SEC, 1 * SEC + STALL_US);
  sim_app_cfg_t client = client_cfg(4u << 20);
  sim_app_t *c = sim_app_connect(w.a, &w.addr_b, &client, NULL);
  assert_non_null(c);
  tou_conn_info_t i = {0};
  sim_app_t *s = NULL;
  while (sim_now(w.sim) < 60 * SEC && sim_step(w.sim)) {
    if (c->conn) tou_conn_get_info(c->conn, &i);
    s = w.b->last_accepted;
    if (s && s->eof) break;
  }
  print_message("blackout%s: timeouts %" PRIu64 ", spurious RTOs %" PRIu64 ", undos %" PRIu64
                ", retransmitted %" PRIu64 "\n",
                no_ts ? " (no timestamps)" : "", i.timeouts, i.spurious_rtos, i.undos,
                i.segs_retransmitted);
  assert_non_null(s);
  assert_true(s->eof);
  assert_false(s->data_mismatch);
  assert_int_equal(s->received, 4u << 20);
  assert_int_equal(i.ts_ok, !no_ts);
  assert_true(i.timeouts >= 1);
  assert_int_equal(i.spurious_rtos, 0);
  assert_int_equal(i.undos, 0);
  world_free(&w);
}

static void test_blackout_rto_is_not_undone(void **state) {
  (void)state;
  real_loss(false);
}

static void test_blackout_rto_is_not_undone_without_timestamps(void **state) {
  (void)state;
  real_loss(true);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_delay_spike_rto_is_undone),
      cmocka_unit_test(test_delay_spike_frto_without_timestamps),
      cmocka_unit_test(test_blackout_rto_is_not_undone),
      cmocka_unit_test(test_blackout_rto_is_not_undone_without_timestamps),
  };
  SIM_RUN_TESTS(tests);
}

/* NewReno: RFC 5681 slow start / congestion avoidance with RFC 3465 byte
 * counting (L = 2), RFC 6582 reduction, RFC 5681 loss window after RTO.
 * MSS = 1000 bytes keeps the arithmetic readable. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "cc.h"

#define MSS 1000u

static void init(tou_cc_t *cc) { tou_cc_init(cc, &tou_cc_newreno_ops, MSS, 0); }

/* One ACK of `acked` bytes from a sender that had `in_flight` outstanding. */
static void ack(tou_cc_t *cc, uint32_t acked, uint32_t in_flight, uint64_t now) {
  tou_cc_ack_t a = {.now = now, .acked = acked, .prior_in_flight = in_flight,
                    .rtt_us = 100000, .srtt_us = 100000, .min_rtt_us = 100000};
  tou_cc_on_ack(cc, &a);
}

/* A full round trip: the whole window is acknowledged, `per_ack` bytes per
 * ACK, the sender keeping the window full. */
static void round_trip(tou_cc_t *cc, uint32_t per_ack, uint64_t now) {
  uint32_t window = cc->cwnd;
  for (uint32_t done = 0; done < window; done += per_ack) ack(cc, per_ack, cc->cwnd, now);
}

static void lookup_by_name(void **state) {
  (void)state;
  assert_ptr_equal(tou_cc_find("newreno"), &tou_cc_newreno_ops);
  assert_ptr_equal(tou_cc_find("cubic"), &tou_cc_cubic_ops);
  assert_ptr_equal(tou_cc_find(NULL), &tou_cc_cubic_ops); /* default */
  assert_ptr_equal(tou_cc_find(""), &tou_cc_cubic_ops);
  assert_null(tou_cc_find("vegas"));
}

static void initial_window_ten_segments(void **state) {
  (void)state;
  tou_cc_t cc;
  init(&cc);
  assert_int_equal(cc.cwnd, 10 * MSS); /* RFC 6928 */
  assert_int_equal(cc.ssthresh, TOU_CC_SSTHRESH_INFINITE);
  assert_true(tou_cc_in_slow_start(&cc));
}

static void slow_start_doubles_per_rtt(void **state) {
  (void)state;
  tou_cc_t cc;
  init(&cc);
  /* One ACK per segment, +1 SMSS each: 10 -> 20 -> 40 -> 80 segments. */
  round_trip(&cc, MSS, 100000);
  assert_int_equal(cc.cwnd, 20 * MSS);
  round_trip(&cc, MSS, 200000);
  assert_int_equal(cc.cwnd, 40 * MSS);
  round_trip(&cc, MSS, 300000);
  assert_int_equal(cc.cwnd, 80 * MSS);
}

static void slow_start_delayed_acks_still_double(void **state) {
  (void)state;
  tou_cc_t cc;
  init(&cc);
  /* RFC 3465 L = 2: an ACK for two segments grows cwnd by 2 SMSS, so a
   * delayed-ACK receiver still doubles cwnd per RTT: 10 -> 20 -> 40. */
  round_trip(&cc, 2 * MSS, 100000);
  assert_int_equal(cc.cwnd, 20 * MSS);
  round_trip(&cc, 2 * MSS, 200000);
  assert_int_equal(cc.cwnd, 40 * MSS);
}

static void abc_limit_two_segments_per_ack(void **state) {
  (void)state;
  tou_cc_t cc;
  init(&cc);
  /* A stretch ACK covering 5 segments counts for at most 2 SMSS. */
  ack(&cc, 5 * MSS, cc.cwnd, 0);
  assert_int_equal(cc.cwnd, 12 * MSS);
}

static void slow_start_stops_at_ssthresh(void **state) {
  (void)state;
  tou_cc_t cc;
  init(&cc);
  cc.ssthresh = 11 * MSS + 500;
  ack(&cc, 2 * MSS, cc.cwnd, 0);
  assert_int_equal(cc.cwnd, 11 * MSS + 500);
  assert_false(tou_cc_in_slow_start(&cc));
}

static void congestion_avoidance_one_mss_per_rtt(void **state) {
  (void)state;
  tou_cc_t cc;
  init(&cc);
  cc.cwnd = 20 * MSS;
  cc.ssthresh = 20 * MSS;
  /* RFC 5681 3.1 / RFC 3465: +1 SMSS per cwnd of bytes acknowledged. */
  round_trip(&cc, MSS, 100000);
  assert_int_equal(cc.cwnd, 21 * MSS);
  round_trip(&cc, MSS, 200000);
  assert_int_equal(cc.cwnd, 22 * MSS);
  /* Delayed ACKs do not change the per-RTT growth. */
  round_trip(&cc, 2 * MSS, 300000);
  assert_int_equal(cc.cwnd, 23 * MSS);
}

static void no_growth_when_application_limited(void **state) {
  (void)state;
  tou_cc_t cc;
  init(&cc);
  /* Only 2 segments in flight with a 10-segment window: cwnd untested. */
  for (int i = 0; i < 10; i++) ack(&cc, MSS, 2 * MSS, 0);
  assert_int_equal(cc.cwnd, 10 * MSS);
  cc.ssthresh = cc.cwnd;
  for (int i = 0; i < 30; i++) ack(&cc, MSS, 5 * MSS, 0);
  assert_int_equal(cc.cwnd, 10 * MSS);
}

static void loss_halves_and_holds_during_recovery(void **state) {
  (void)state;
  tou_cc_t cc;
  init(&cc);
  cc.cwnd = 40 * MSS;
  /* RFC 6582: ssthresh = max(FlightSize/2, 2*SMSS) = 20 segments; this
   * variant sets cwnd = ssthresh at once (no inflation). */
  tou_cc_on_congestion_event(&cc, 0, 40 * MSS);
  assert_true(cc.in_recovery);
  assert_int_equal(cc.ssthresh, 20 * MSS);
  assert_int_equal(cc.cwnd, 20 * MSS);
  assert_int_equal(cc.congestion_events, 1);
  /* Further losses in the same episode do not reduce again. */
  tou_cc_on_congestion_event(&cc, 1000, 30 * MSS);
  assert_int_equal(cc.cwnd, 20 * MSS);
  assert_int_equal(cc.congestion_events, 1);
  /* ACKs during recovery do not grow cwnd. */
  round_trip(&cc, MSS, 50000);
  assert_int_equal(cc.cwnd, 20 * MSS);
  /* Recovery exit: congestion avoidance from ssthresh. */
  tou_cc_on_recovery_exit(&cc, 100000);
  assert_false(cc.in_recovery);
  assert_int_equal(cc.cwnd, 20 * MSS);
  round_trip(&cc, MSS, 200000);
  assert_int_equal(cc.cwnd, 21 * MSS);
}

static void loss_with_small_flight_keeps_two_segments(void **state) {
  (void)state;
  tou_cc_t cc;
  init(&cc);
  tou_cc_on_congestion_event(&cc, 0, 3 * MSS); /* 1.5 segments < 2 SMSS */
  assert_int_equal(cc.ssthresh, 2 * MSS);
  assert_int_equal(cc.cwnd, 2 * MSS);
}

static void rto_loss_window_then_slow_start(void **state) {
  (void)state;
  tou_cc_t cc;
  init(&cc);
  cc.cwnd = 40 * MSS;
  tou_cc_on_congestion_event(&cc, 0, 40 * MSS);
  /* RTO during recovery: leaves recovery, RFC 5681 eq. 4 ssthresh from the
   * flight, cwnd = LW = 1 SMSS. */
  tou_cc_on_rto(&cc, 1000, 30 * MSS, false);
  assert_false(cc.in_recovery);
  assert_int_equal(cc.ssthresh, 15 * MSS);
  assert_int_equal(cc.cwnd, 1 * MSS);
  assert_true(tou_cc_in_slow_start(&cc));
  /* A repeated timeout keeps ssthresh (RFC 5681 3.1). */
  tou_cc_on_rto(&cc, 2000, 1 * MSS, true);
  assert_int_equal(cc.ssthresh, 15 * MSS);
  assert_int_equal(cc.cwnd, 1 * MSS);
  assert_int_equal(cc.rto_events, 2);
  /* Slow start again: 1 -> 2 -> 4 -> 8 -> 15 (ssthresh) -> CA. */
  round_trip(&cc, MSS, 10000);
  assert_int_equal(cc.cwnd, 2 * MSS);
  round_trip(&cc, MSS, 20000);
  assert_int_equal(cc.cwnd, 4 * MSS);
  round_trip(&cc, MSS, 30000);
  assert_int_equal(cc.cwnd, 8 * MSS);
  round_trip(&cc, MSS, 40000);
  assert_int_equal(cc.cwnd, 15 * MSS);
  round_trip(&cc, MSS, 50000);
  assert_int_equal(cc.cwnd, 16 * MSS);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(lookup_by_name),
      cmocka_unit_test(initial_window_ten_segments),
      cmocka_unit_test(slow_start_doubles_per_rtt),
      cmocka_unit_test(slow_start_delayed_acks_still_double),
      cmocka_unit_test(abc_limit_two_segments_per_ack),
      cmocka_unit_test(slow_start_stops_at_ssthresh),
      cmocka_unit_test(congestion_avoidance_one_mss_per_rtt),
      cmocka_unit_test(no_growth_when_application_limited),
      cmocka_unit_test(loss_halves_and_holds_during_recovery),
      cmocka_unit_test(loss_with_small_flight_keeps_two_segments),
      cmocka_unit_test(rto_loss_window_then_slow_start),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/* CUBIC against the RFC 9438 formulas (C = 0.4, beta = 0.7):
 *   W_cubic(t) = C*(t-K)^3 + W_max,  K = cbrt(W_max*(1-beta)/C)
 *   alpha_cubic = 3*(1-beta)/(1+beta) = 0.9/1.7 = 0.529411...
 * Windows in segments below; MSS = 1000 bytes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <cmocka.h>

#include "cc.h"

#define MSS 1000u
#define SEG(x) ((double)(x) * MSS)

static void assert_near(double got, double want, double tol) {
  if (fabs(got - want) > tol) fail_msg("got %.4f want %.4f (tol %.4f)", got, want, tol);
}

static void ack(tou_cc_t *cc, uint32_t acked, uint64_t now, uint64_t rtt) {
  tou_cc_ack_t a = {.now = now, .acked = acked, .prior_in_flight = cc->cwnd,
                    .rtt_us = rtt, .srtt_us = rtt, .min_rtt_us = rtt};
  tou_cc_on_ack(cc, &a);
}

/* One round trip ending at `now`: the window at its start is ACKed one
 * segment per ACK. */
static void round_trip(tou_cc_t *cc, uint64_t now, uint64_t rtt) {
  uint32_t window = cc->cwnd;
  for (uint32_t done = 0; done + MSS <= window; done += MSS) ack(cc, MSS, now, rtt);
}

/* A CUBIC connection that reached 100 segments in congestion avoidance and
 * then saw a loss, with recovery already over. */
static void after_loss_at_100(tou_cc_t *cc) {
  tou_cc_init(cc, &tou_cc_cubic_ops, MSS, 0);
  cc->cwnd = 100 * MSS;
  cc->ssthresh = 100 * MSS;
  tou_cc_on_congestion_event(cc, 0, 100 * MSS);
  tou_cc_on_recovery_exit(cc, 0);
}

static void beta_reduction(void **state) {
  (void)state;
  tou_cc_t cc;
  after_loss_at_100(&cc);
  /* 4.6: ssthresh = cwnd * 0.7 = 70 segments, cwnd = ssthresh; W_max = 100. */
  assert_int_equal(cc.ssthresh, 70 * MSS);
  assert_int_equal(cc.cwnd, 70 * MSS);
  assert_near(cc.u.cubic.w_max, SEG(100), 1e-9);
}

static void k_computation(void **state) {
  (void)state;
  tou_cc_t cc;
  after_loss_at_100(&cc);
  ack(&cc, MSS, 1000, 100000); /* first CA ACK starts the epoch */
  /* K = cbrt(100 * 0.3 / 0.4) = cbrt(75) = 4.217163... s; the general form
   * cbrt((W_max - cwnd_epoch)/C) gives the same since cwnd_epoch = 70. */
  assert_near(cc.u.cubic.k, 4.217163326508746, 1e-9);
  assert_near(cc.u.cubic.cwnd_epoch, SEG(70), 1e-9);
}

static void window_curve(void **state) {
  (void)state;
  tou_cc_t cc;
  after_loss_at_100(&cc);
  ack(&cc, MSS, 0, 100000);
  /* W(t) = 0.4*(t - 4.217163)^3 + 100, worked out:
   *   t = 0: 0.4*(-4.217163)^3 + 100 = -30 + 100     = 70.000 (= beta*W_max)
   *   t = 1: 0.4*(-3.217163)^3 + 100 = -13.3192 + 100 = 86.681
   *   t = 2: 0.4*(-2.217163)^3 + 100 = -4.3597 + 100  = 95.640
   *   t = K:                                          = 100 (plateau at W_max)
   *   t = 5: 0.4*(0.782837)^3 + 100  = 0.1919 + 100   = 100.192
   *   t = 6: 0.4*(1.782837)^3 + 100  = 2.2667 + 100   = 102.267
   *   t = 8: 0.4*(3.782837)^3 + 100  = 21.6527 + 100  = 121.653 */
  assert_near(tou_cc_cubic_window(&cc, 0), SEG(70), 0.01);
  assert_near(tou_cc_cubic_window(&cc, 1), SEG(86.681), 1);
  assert_near(tou_cc_cubic_window(&cc, 2), SEG(95.640), 1);
  assert_near(tou_cc_cubic_window(&cc, 4.217163326508746), SEG(100), 0.01);
  assert_near(tou_cc_cubic_window(&cc, 5), SEG(100.192), 1);
  assert_near(tou_cc_cubic_window(&cc, 6), SEG(102.267), 1);
  assert_near(tou_cc_cubic_window(&cc, 8), SEG(121.653), 1);
}

static void cwnd_follows_curve(void **state) {
  (void)state;
  tou_cc_t cc;
  after_loss_at_100(&cc);
  /* RTT 100 ms: Reno would add only 0.53 segment per RTT (70 -> ~92 by
   * t = K), so CUBIC's own curve governs until W_est catches up near t = 6.
   * Each ACK moves cwnd toward W(t + RTT) (4.2), so after the round at t:
   * W(t) <= cwnd <= W(t + RTT), e.g. t = 1: 86.68 <= cwnd <= 87.88;
   * t = 2: 95.64 <= cwnd <= 96.20; t = 5: 100.19 <= cwnd <= 100.28. */
  const uint64_t rtt = 100000;
  uint64_t now = 0;
  for (int round = 0; round <= 55; round++, now += rtt) {
    round_trip(&cc, now, rtt);
    double t = (double)now / 1e6;
    if (round % 10 == 0 || round == 42) {
      assert_true(cc.cwnd + SEG(0.5) >= tou_cc_cubic_window(&cc, t));
      assert_true(cc.cwnd <= tou_cc_cubic_window(&cc, t + 0.1) + SEG(0.5));
    }
    /* The plateau around t = K = 4.2 s stays at W_max. */
    if (round == 42) assert_near(cc.cwnd, SEG(100), SEG(0.5));
  }
}

static void fast_convergence(void **state) {
  (void)state;
  tou_cc_t cc;
  after_loss_at_100(&cc); /* W_max = 100 */
  cc.cwnd = 80 * MSS;     /* next loss below the previous W_max */
  tou_cc_on_congestion_event(&cc, 10, 80 * MSS);
  /* 4.7: W_max = 80 * (1 + 0.7) / 2 = 68 segments; ssthresh = 80*0.7 = 56. */
  assert_near(cc.u.cubic.w_max, SEG(68), 1e-6);
  assert_int_equal(cc.ssthresh, 56 * MSS);
  assert_int_equal(cc.cwnd, 56 * MSS);
  /* A loss above W_max sets W_max = cwnd. */
  tou_cc_on_recovery_exit(&cc, 20);
  cc.cwnd = 90 * MSS;
  tou_cc_on_congestion_event(&cc, 30, 90 * MSS);
  assert_near(cc.u.cubic.w_max, SEG(90), 1e-6);
  assert_int_equal(cc.ssthresh, 63 * MSS);
}

static void reno_friendly_region(void **state) {
  (void)state;
  tou_cc_t cc;
  after_loss_at_100(&cc);
  /* RTT 10 ms: 100 round trips in 1 s. W_est grows alpha_cubic = 0.5294
   * segment per RTT until it reaches cwnd_prior = 100 (after
   * ceil(30/0.5294) = 57 RTTs: 70 + 57*0.5294 = 100.18), then 1 segment per
   * RTT: after 100 RTTs W_est = 100.18 + 43 = 143.2. W_cubic(1 s) is only
   * 86.7, so cwnd must follow W_est (4.3). */
  const uint64_t rtt = 10000;
  uint64_t now = 0;
  for (int i = 0; i < 100; i++) {
    round_trip(&cc, now, rtt);
    now += rtt;
  }
  assert_true(cc.cwnd > tou_cc_cubic_window(&cc, 1.0) + SEG(40));
  assert_near(cc.cwnd, SEG(143.2), SEG(3));
  assert_near(cc.cwnd, cc.u.cubic.w_est, SEG(1));
}

static void rto_restarts_from_one_segment(void **state) {
  (void)state;
  tou_cc_t cc;
  tou_cc_init(&cc, &tou_cc_cubic_ops, MSS, 0);
  cc.cwnd = 100 * MSS;
  cc.ssthresh = 100 * MSS;
  tou_cc_on_rto(&cc, 0, 100 * MSS, false);
  /* 4.8: ssthresh from beta, cwnd = 1 SMSS, slow start. */
  assert_int_equal(cc.cwnd, 1 * MSS);
  assert_int_equal(cc.ssthresh, 70 * MSS);
  uint64_t now = 0;
  while (tou_cc_in_slow_start(&cc)) {
    now += 1000;
    ack(&cc, MSS, now, 100000);
  }
  assert_int_equal(cc.cwnd, 70 * MSS);
  /* First CA epoch after the timeout: K = 0, W_max = cwnd at its start. */
  now += 100000;
  ack(&cc, MSS, now, 100000);
  assert_near(cc.u.cubic.k, 0, 1e-12);
  assert_near(cc.u.cubic.w_max, SEG(70), 1e-6);
}

static void first_slow_start_exit_k_zero(void **state) {
  (void)state;
  tou_cc_t cc;
  tou_cc_init(&cc, &tou_cc_cubic_ops, MSS, 0);
  assert_int_equal(cc.cwnd, 10 * MSS);
  cc.ssthresh = 20 * MSS;
  round_trip(&cc, 100000, 100000); /* 10 -> 20, reaching ssthresh */
  assert_int_equal(cc.cwnd, 20 * MSS);
  ack(&cc, MSS, 200000, 100000);
  assert_near(cc.u.cubic.k, 0, 1e-12); /* 4.10 */
  assert_near(cc.u.cubic.w_max, SEG(20), 1e-6);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(beta_reduction),
      cmocka_unit_test(k_computation),
      cmocka_unit_test(window_curve),
      cmocka_unit_test(cwnd_follows_curve),
      cmocka_unit_test(fast_convergence),
      cmocka_unit_test(reno_friendly_region),
      cmocka_unit_test(rto_restarts_from_one_segment),
      cmocka_unit_test(first_slow_start_exit_k_zero),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

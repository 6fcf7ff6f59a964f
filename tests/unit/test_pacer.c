/* Pacer: rate from cwnd/SRTT (x2 in slow start, x1.2 in CA), token bucket
 * with an initial burst and a 1 ms burst cap. MSS = 1000 bytes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "pacer.h"

#define MSS 1000u

static void unpaced_until_rate_known(void **state) {
  (void)state;
  tou_pacer_t p;
  tou_pacer_init(&p, MSS, 10 * MSS, 0);
  for (int i = 0; i < 100; i++) {
    assert_int_equal(tou_pacer_next_send_time(&p, MSS, 5), 5);
    tou_pacer_on_send(&p, MSS, 5);
  }
}

static void rate_from_cwnd_and_srtt(void **state) {
  (void)state;
  tou_cc_t cc;
  tou_cc_init(&cc, &tou_cc_newreno_ops, MSS, 0);
  cc.cwnd = 100 * MSS;
  /* 100 000 bytes per 100 ms = 1 000 000 B/s; slow start (cwnd < ssthresh/2,
   * ssthresh infinite): x2 = 2 000 000 B/s. */
  assert_int_equal(tou_pacer_rate_for(&cc, 100000), 2000000);
  /* Congestion avoidance: x1.2 = 1 200 000 B/s. */
  cc.ssthresh = 100 * MSS;
  assert_int_equal(tou_pacer_rate_for(&cc, 100000), 1200000);
  /* Late slow start (cwnd >= ssthresh/2) already uses the CA ratio. */
  cc.ssthresh = 150 * MSS;
  assert_int_equal(tou_pacer_rate_for(&cc, 100000), 1200000);
  /* No RTT yet: no pacing. */
  assert_int_equal(tou_pacer_rate_for(&cc, 0), 0);
}

static void initial_burst_then_spacing(void **state) {
  (void)state;
  tou_pacer_t p;
  tou_pacer_init(&p, MSS, 10 * MSS, 0);
  tou_pacer_set_rate(&p, 1000000, 0); /* 1 MB/s: one 1000-byte segment per ms */
  /* The initial window leaves at once. */
  for (int i = 0; i < 10; i++) {
    assert_int_equal(tou_pacer_next_send_time(&p, MSS, 0), 0);
    tou_pacer_on_send(&p, MSS, 0);
  }
  /* Then 1000 bytes / 1e6 B/s = 1000 us apart. */
  assert_int_equal(tou_pacer_next_send_time(&p, MSS, 0), 1000);
  assert_int_equal(tou_pacer_next_send_time(&p, MSS, 400), 1000);
  tou_pacer_on_send(&p, MSS, 1000);
  assert_int_equal(tou_pacer_next_send_time(&p, MSS, 1000), 2000);
  /* A half segment needs half the time. */
  assert_int_equal(tou_pacer_next_send_time(&p, MSS / 2, 1000), 1500);
}

static void sends_at_deadlines_match_rate(void **state) {
  (void)state;
  tou_pacer_t p;
  tou_pacer_init(&p, MSS, 0, 0);
  tou_pacer_set_rate(&p, 12500000, 0); /* 100 Mbit/s */
  /* Drain the bucket, then send 1000 segments, each at its deadline:
   * 1000 * 1000 B at 12.5 MB/s = 80 ms. */
  uint64_t now = 0;
  while (tou_pacer_next_send_time(&p, MSS, now) == now) tou_pacer_on_send(&p, MSS, now);
  uint64_t start = now;
  for (int i = 0; i < 1000; i++) {
    now = tou_pacer_next_send_time(&p, MSS, now);
    tou_pacer_on_send(&p, MSS, now);
  }
  assert_in_range(now - start, 79900, 80100);
}

static void idle_refill_capped(void **state) {
  (void)state;
  tou_pacer_t p;
  tou_pacer_init(&p, MSS, 0, 0);
  tou_pacer_set_rate(&p, 10000000, 0); /* 10 MB/s: cap = 1 ms = 10 000 bytes */
  assert_int_equal(p.cap, 10000);
  /* After a long idle period at most the cap (10 segments) leaves at once. */
  uint64_t now = 5000000;
  int burst = 0;
  while (tou_pacer_next_send_time(&p, MSS, now) == now) {
    tou_pacer_on_send(&p, MSS, now);
    burst++;
  }
  assert_int_equal(burst, 10);
  /* A slow rate still allows two segments back to back (cap >= 2 MSS). */
  tou_pacer_set_rate(&p, 1000, now);
  assert_int_equal(p.cap, 2 * MSS);
}

static void huge_rate_no_overflow(void **state) {
  (void)state;
  tou_pacer_t p;
  tou_pacer_init(&p, MSS, 0, 0);
  tou_pacer_set_rate(&p, 10000000000ull, 0); /* 10 GB/s */
  uint64_t t = tou_pacer_next_send_time(&p, MSS, 999999);
  assert_int_equal(t, 999999);
  tou_pacer_on_send(&p, MSS, t);
  /* Jump far into the future: bucket is just full, not wrapped. */
  assert_int_equal(tou_pacer_next_send_time(&p, MSS, UINT64_MAX / 2), UINT64_MAX / 2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(unpaced_until_rate_known),
      cmocka_unit_test(rate_from_cwnd_and_srtt),
      cmocka_unit_test(initial_burst_then_spacing),
      cmocka_unit_test(sends_at_deadlines_match_rate),
      cmocka_unit_test(idle_refill_capped),
      cmocka_unit_test(huge_rate_no_overflow),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

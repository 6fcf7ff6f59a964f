/* RFC 6298 estimator against values worked by hand from the RFC formulas:
 *   first sample R:  SRTT = R, RTTVAR = R/2
 *   later R':        RTTVAR = (3*RTTVAR + |SRTT - R'|)/4, SRTT = (7*SRTT + R')/8
 *   RTO = SRTT + max(G, 4*RTTVAR), clamped to [min_rto, max_rto]
 * (integer microseconds, divisions truncate). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "rtt.h"

#define MS 1000ull
#define S (1000ull * 1000)

static void initial_rto_is_one_second(void **state) {
  (void)state;
  tou_rtt_t r;
  tou_rtt_init(&r, 1 * S, 200 * MS, 60 * S);
  assert_int_equal(tou_rtt_rto(&r), 1 * S);
  assert_int_equal(tou_rtt_srtt(&r), 0);
  assert_int_equal(tou_rtt_min(&r), 0);
}

static void worked_samples(void **state) {
  (void)state;
  tou_rtt_t r;
  tou_rtt_init(&r, 1 * S, 200 * MS, 60 * S);

  /* R = 100000: SRTT = 100000, RTTVAR = 50000, RTO = 100000 + 4*50000 = 300000 */
  tou_rtt_on_sample(&r, 100000, 0);
  assert_int_equal(r.srtt_us, 100000);
  assert_int_equal(r.rttvar_us, 50000);
  assert_int_equal(tou_rtt_rto(&r), 300000);

  /* R' = 120000: |SRTT-R'| = 20000; RTTVAR = (3*50000 + 20000)/4 = 42500;
   * SRTT = (7*100000 + 120000)/8 = 102500; RTO = 102500 + 4*42500 = 272500 */
  tou_rtt_on_sample(&r, 120000, 1 * S);
  assert_int_equal(r.rttvar_us, 42500);
  assert_int_equal(r.srtt_us, 102500);
  assert_int_equal(tou_rtt_rto(&r), 272500);

  /* R' = 80000: |102500-80000| = 22500; RTTVAR = (3*42500 + 22500)/4 = 37500;
   * SRTT = (7*102500 + 80000)/8 = 797500/8 = 99687 (.5 truncated);
   * RTO = 99687 + 150000 = 249687 */
  tou_rtt_on_sample(&r, 80000, 2 * S);
  assert_int_equal(r.rttvar_us, 37500);
  assert_int_equal(r.srtt_us, 99687);
  assert_int_equal(tou_rtt_rto(&r), 249687);
  assert_int_equal(r.latest_us, 80000);
}

static void rto_clamped_to_min(void **state) {
  (void)state;
  tou_rtt_t r;
  tou_rtt_init(&r, 1 * S, 200 * MS, 60 * S);
  /* R = 10 ms: RTO = 10000 + 4*5000 = 30000 < 200000 -> 200000 (RFC 6298 2.4) */
  tou_rtt_on_sample(&r, 10 * MS, 0);
  assert_int_equal(tou_rtt_rto(&r), 200 * MS);
  /* A smaller configured floor is honoured. */
  tou_rtt_init(&r, 1 * S, 1 * MS, 60 * S);
  tou_rtt_on_sample(&r, 10 * MS, 0);
  assert_int_equal(tou_rtt_rto(&r), 30 * MS);
}

static void granularity_floor(void **state) {
  (void)state;
  tou_rtt_t r;
  tou_rtt_init(&r, 1 * S, 0, 60 * S);
  /* Identical samples drive RTTVAR to 0: RTTVAR 50 -> (150+0)/4 = 37 -> 27 -> 20 -> 15 -> 11
   * -> 8 -> 6 -> 4 -> 3 -> 2 -> 1 -> 0; then RTO = SRTT + max(G=1, 0) = 101. */
  for (int i = 0; i < 30; i++) tou_rtt_on_sample(&r, 100, (uint64_t)i);
  assert_int_equal(r.rttvar_us, 0);
  assert_int_equal(tou_rtt_rto(&r), 100 + TOU_RTT_GRANULARITY_US);
}

static void backoff_doubles_and_caps(void **state) {
  (void)state;
  tou_rtt_t r;
  tou_rtt_init(&r, 1 * S, 200 * MS, 60 * S);
  /* RFC 6298 5.5: 1 s, 2, 4, 8, 16, 32, then the 60 s cap. */
  uint64_t expect[] = {2 * S, 4 * S, 8 * S, 16 * S, 32 * S, 60 * S, 60 * S, 60 * S};
  for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++) {
    tou_rtt_on_timeout(&r);
    assert_int_equal(tou_rtt_rto(&r), expect[i]);
  }
  /* Many more timeouts cannot overflow. */
  for (int i = 0; i < 200; i++) tou_rtt_on_timeout(&r);
  assert_int_equal(tou_rtt_rto(&r), 60 * S);
}

static void sample_resets_backoff(void **state) {
  (void)state;
  tou_rtt_t r;
  tou_rtt_init(&r, 1 * S, 200 * MS, 60 * S);
  tou_rtt_on_sample(&r, 100000, 0); /* RTO 300000 */
  tou_rtt_on_timeout(&r);
  assert_int_equal(tou_rtt_rto(&r), 600000);
  tou_rtt_on_timeout(&r);
  assert_int_equal(tou_rtt_rto(&r), 1200000);
  /* R' = 100000: RTTVAR = (3*50000 + 0)/4 = 37500, SRTT = 100000,
   * RTO = 100000 + 150000 = 250000 with the backoff gone. */
  tou_rtt_on_sample(&r, 100000, 1 * S);
  assert_int_equal(tou_rtt_rto(&r), 250000);
}

static void max_rto_caps_computed_value(void **state) {
  (void)state;
  tou_rtt_t r;
  tou_rtt_init(&r, 1 * S, 200 * MS, 2 * S);
  /* R = 1.5 s: RTO = 1.5 + 4*0.75 = 4.5 s -> 2 s (RFC 6298 2.5). */
  tou_rtt_on_sample(&r, 1500 * MS, 0);
  assert_int_equal(tou_rtt_rto(&r), 2 * S);
}

static void min_rtt_windowed(void **state) {
  (void)state;
  tou_rtt_t r;
  tou_rtt_init(&r, 1 * S, 200 * MS, 60 * S);
  tou_rtt_on_sample(&r, 100000, 0);
  assert_int_equal(tou_rtt_min(&r), 100000);
  tou_rtt_on_sample(&r, 80000, 1 * S);
  assert_int_equal(tou_rtt_min(&r), 80000);
  tou_rtt_on_sample(&r, 90000, 2 * S);
  assert_int_equal(tou_rtt_min(&r), 80000);
  /* After a quarter window without a better sample, 95 ms becomes the
   * second choice; the 80 ms sample stays the minimum until it is 300 s old. */
  tou_rtt_on_sample(&r, 95000, 100 * S);
  assert_int_equal(tou_rtt_min(&r), 80000);
  tou_rtt_on_sample(&r, 97000, 300 * S);
  assert_int_equal(tou_rtt_min(&r), 80000);
  tou_rtt_on_sample(&r, 97000, 302 * S);
  assert_int_equal(tou_rtt_min(&r), 95000);
  /* A lower sample wins immediately. */
  tou_rtt_on_sample(&r, 50000, 303 * S);
  assert_int_equal(tou_rtt_min(&r), 50000);
}

static void min_rtt_all_expired(void **state) {
  (void)state;
  tou_rtt_t r;
  tou_rtt_init(&r, 1 * S, 200 * MS, 60 * S);
  tou_rtt_on_sample(&r, 10000, 0);
  tou_rtt_on_sample(&r, 40000, 1000 * S);
  assert_int_equal(tou_rtt_min(&r), 40000);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(initial_rto_is_one_second),
      cmocka_unit_test(worked_samples),
      cmocka_unit_test(rto_clamped_to_min),
      cmocka_unit_test(granularity_floor),
      cmocka_unit_test(backoff_doubles_and_caps),
      cmocka_unit_test(sample_resets_backoff),
      cmocka_unit_test(max_rto_caps_computed_value),
      cmocka_unit_test(min_rtt_windowed),
      cmocka_unit_test(min_rtt_all_expired),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

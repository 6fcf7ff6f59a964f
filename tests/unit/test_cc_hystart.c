/* HyStart++ (RFC 9406) in the shared slow start (cc.c): a round's minimum
 * RTT rising by clamp(lastRoundMinRTT / 8, 4 ms, 16 ms) over at least 8
 * samples switches to Conservative Slow Start (growth / 4); 5 CSS rounds end
 * slow start (ssthresh = cwnd); a round whose minimum falls back below the
 * CSS baseline resumes slow start. MSS = 1000 bytes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "cc.h"

#define MSS 1000u
#define MS 1000ull

typedef struct drive {
  tou_cc_t cc;
  uint64_t now, delivered;
} drive_t;

/* One round trip: the window at its start is ACKed one segment per ACK,
 * every ACK carrying an RTT sample of rtt_us. Returns cwnd at the end. */
static uint32_t round_trip(drive_t *d, uint64_t rtt_us) {
  uint32_t window = d->cc.cwnd;
  d->now += rtt_us;
  for (uint32_t done = 0; done + MSS <= window; done += MSS) {
    d->delivered += MSS;
    tou_cc_ack_t a = {.now = d->now, .acked = MSS, .prior_in_flight = window,
                      .rtt_us = rtt_us, .srtt_us = rtt_us, .min_rtt_us = 100 * MS,
                      .delivered = d->delivered};
    tou_cc_on_ack(&d->cc, &a);
  }
  return d->cc.cwnd;
}

static void setup(drive_t *d, const tou_cc_ops_t *ops) {
  *d = (drive_t){0};
  tou_cc_init(&d->cc, ops, MSS, 0);
}

static void flat_rtt_keeps_doubling(void **state) {
  (void)state;
  drive_t d;
  setup(&d, &tou_cc_newreno_ops);
  uint32_t w = d.cc.cwnd;
  for (int i = 0; i < 5; i++) {
    uint32_t next = round_trip(&d, 100 * MS);
    assert_int_equal(next, 2 * w);
    w = next;
  }
  assert_false(d.cc.hystart.in_css);
  assert_true(tou_cc_in_slow_start(&d.cc));
}

static void rtt_rise_enters_css_then_exits(void **state) {
  (void)state;
  drive_t d;
  setup(&d, &tou_cc_newreno_ops);
  round_trip(&d, 100 * MS); /* 10 -> 20 */
  round_trip(&d, 100 * MS); /* 20 -> 40 */
  /* Threshold: clamp(100 ms / 8 = 12.5 ms, 4, 16) = 12.5 ms. A round at
   * 110 ms is below it: still slow start. */
  assert_int_equal(round_trip(&d, 110 * MS), 80 * MSS);
  assert_false(d.cc.hystart.in_css);
  /* 125 ms >= 110 ms + 13.75 ms (last round's minimum is now 110 ms): the
   * 8th sample of the round switches to CSS; the first 7 ACKs grew cwnd by
   * 7 MSS, the remaining 73 by 1/4 MSS each (integer: 250 bytes). */
  uint32_t w = round_trip(&d, 125 * MS);
  assert_true(d.cc.hystart.in_css);
  assert_int_equal(w, 80 * MSS + 7 * MSS + 73 * (MSS / 4));
  /* CSS rounds grow by a quarter of the window; the fifth round boundary
   * ends slow start. */
  for (int i = 0; i < 4; i++) {
    uint32_t before = d.cc.cwnd;
    round_trip(&d, 125 * MS);
    assert_true(d.cc.cwnd - before <= before / 4 + MSS);
  }
  assert_int_equal(d.cc.hystart.exits, 0);
  round_trip(&d, 125 * MS);
  assert_int_equal(d.cc.hystart.exits, 1);
  assert_false(tou_cc_in_slow_start(&d.cc)); /* ssthresh = cwnd: CA from here */
}

static void spurious_rise_resumes_slow_start(void **state) {
  (void)state;
  drive_t d;
  setup(&d, &tou_cc_cubic_ops);
  round_trip(&d, 100 * MS);
  round_trip(&d, 100 * MS);
  round_trip(&d, 120 * MS); /* +20 ms >= 12.5 ms: CSS from the 8th sample */
  assert_true(d.cc.hystart.in_css);
  /* The next round's minimum (100 ms) is below the CSS baseline (120 ms). */
  round_trip(&d, 100 * MS);
  assert_false(d.cc.hystart.in_css);
  assert_true(tou_cc_in_slow_start(&d.cc));
  uint32_t w = d.cc.cwnd; /* one ACK per whole segment: +1 MSS each */
  assert_int_equal(round_trip(&d, 100 * MS), w + w / MSS * MSS);
}

static void rto_restarts_hystart(void **state) {
  (void)state;
  drive_t d;
  setup(&d, &tou_cc_newreno_ops);
  round_trip(&d, 100 * MS);
  round_trip(&d, 100 * MS);
  round_trip(&d, 130 * MS);
  assert_true(d.cc.hystart.in_css);
  tou_cc_on_rto(&d.cc, d.now, 40 * MSS, false);
  assert_false(d.cc.hystart.in_css);
  assert_int_equal(d.cc.hystart.last_round_min, UINT64_MAX);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(flat_rtt_keeps_doubling),
      cmocka_unit_test(rtt_rise_enters_css_then_exits),
      cmocka_unit_test(spurious_rise_resumes_slow_start),
      cmocka_unit_test(rto_restarts_hystart),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

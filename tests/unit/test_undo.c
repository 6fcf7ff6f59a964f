/* Spurious retransmissions and undo (undo.c): RFC 3522 Eifel detection,
 * RFC 3708 DSACK detection, the restored congestion-control state. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "undo.h"

#define MSS 1000u

static tou_cc_t reduced_cubic(void) {
  tou_cc_t cc;
  tou_cc_init(&cc, &tou_cc_cubic_ops, MSS, 0);
  cc.cwnd = 80 * MSS;
  cc.ssthresh = 60 * MSS;
  return cc;
}

/* RFC 3522: after an RTO, an ACK echoing a TSval older than the
 * retransmission's was triggered by the original. */
static void eifel_after_rto(void **state) {
  (void)state;
  tou_undo_t u = {0};
  tou_cc_t cc = reduced_cubic();
  tou_undo_arm(&u, &cc, 5000, true);
  tou_cc_on_rto(&cc, 1, 80 * MSS, false); /* loss window */
  assert_int_equal(cc.cwnd, MSS);
  /* No retransmission yet: nothing to compare with. */
  assert_false(tou_undo_eifel(&u, true, 100));
  tou_undo_on_retransmit(&u, true, 1000);
  tou_undo_on_retransmit(&u, true, 1400); /* backoff: the first one counts */
  assert_true(tou_undo_eifel(&u, true, 999));
  assert_false(tou_undo_eifel(&u, true, 1000)); /* same tick: may be the retransmission */
  assert_false(tou_undo_eifel(&u, true, 1200));
  assert_false(tou_undo_eifel(&u, false, 999)); /* no timestamps: no Eifel */
  /* Modular comparison across the 2^32 wrap. */
  tou_undo_t w = {0};
  tou_undo_arm(&w, &cc, 0, true);
  tou_undo_on_retransmit(&w, true, 5);
  assert_true(tou_undo_eifel(&w, true, 0xfffffff0u));
  /* The undo: cwnd, ssthresh and CUBIC's state back, counters kept. */
  cc.rto_events = 1;
  tou_undo_restore(&u, &cc);
  tou_undo_detected(&u);
  assert_int_equal(cc.cwnd, 80 * MSS);
  assert_int_equal(cc.ssthresh, 60 * MSS);
  assert_int_equal(cc.rto_events, 1);
  assert_false(cc.in_recovery);
  assert_int_equal(u.spurious_rtos, 1);
  assert_int_equal(u.spurious_recoveries, 0);
  assert_int_equal(u.undos, 1);
  assert_false(u.armed);
  assert_false(tou_undo_eifel(&u, true, 999)); /* the record is closed */
}

/* A repeated RTO keeps the first record: the window before the first. */
static void repeated_rto_keeps_first_record(void **state) {
  (void)state;
  tou_undo_t u = {0};
  tou_cc_t cc = reduced_cubic();
  tou_undo_arm(&u, &cc, 5000, true);
  tou_cc_on_rto(&cc, 1, 80 * MSS, false);
  tou_undo_arm(&u, &cc, 5000, true);
  assert_int_equal(u.saved.cwnd, 80 * MSS);
  /* An episode that ended is replaced by the next one. */
  tou_undo_close(&u);
  tou_undo_arm(&u, &cc, 9000, false);
  assert_int_equal(u.saved.cwnd, MSS);
  assert_int_equal(u.marker, 9000);
}

/* RFC 3708: every retransmission reported as a duplicate. */
static void dsack_for_every_retransmission(void **state) {
  (void)state;
  tou_undo_t u = {0};
  tou_cc_t cc = reduced_cubic();
  tou_undo_arm(&u, &cc, 10000, false);
  tou_cc_on_congestion_event(&cc, 1, 80 * MSS);
  tou_undo_on_retransmit(&u, false, 0);
  tou_undo_on_retransmit(&u, false, 0);
  /* Below the episode's start: an older duplicate, not ours. */
  assert_false(tou_undo_on_dsack(&u, 9000, 10000, MSS));
  assert_false(tou_undo_on_dsack(&u, 10000, 11000, MSS));
  assert_true(tou_undo_on_dsack(&u, 12000, 13000, MSS));
  tou_undo_restore(&u, &cc);
  tou_undo_detected(&u);
  assert_int_equal(cc.cwnd, 80 * MSS);
  assert_int_equal(u.spurious_recoveries, 1);
  /* A block covering two segments counts both; inverted blocks nothing. */
  tou_undo_arm(&u, &cc, 20000, false);
  tou_undo_on_retransmit(&u, false, 0);
  tou_undo_on_retransmit(&u, false, 0);
  assert_false(tou_undo_on_dsack(&u, 21000, 20000, MSS));
  assert_true(tou_undo_on_dsack(&u, 20000, 22000, MSS));
}

/* A lost retransmission proves the loss: disarmed, nothing is undone. */
static void disarm_on_real_loss(void **state) {
  (void)state;
  tou_undo_t u = {0};
  tou_cc_t cc = reduced_cubic();
  tou_undo_arm(&u, &cc, 10000, false);
  tou_undo_on_retransmit(&u, true, 50);
  tou_undo_disarm(&u);
  assert_false(tou_undo_eifel(&u, true, 10));
  assert_false(tou_undo_on_dsack(&u, 10000, 11000, MSS));
  tou_cc_t before = cc;
  tou_undo_restore(&u, &cc);
  assert_int_equal(cc.cwnd, before.cwnd);
  assert_int_equal(u.undos, 0);
}

/* Restoring never lowers what the sender regrew since. */
static void restore_keeps_larger_window(void **state) {
  (void)state;
  tou_undo_t u = {0};
  tou_cc_t cc = reduced_cubic();
  tou_undo_arm(&u, &cc, 0, false);
  cc.cwnd = 100 * MSS;
  cc.ssthresh = 70 * MSS;
  tou_undo_restore(&u, &cc);
  assert_int_equal(cc.cwnd, 100 * MSS);
  assert_int_equal(cc.ssthresh, 70 * MSS);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(eifel_after_rto),
      cmocka_unit_test(repeated_rto_keeps_first_record),
      cmocka_unit_test(dsack_for_every_retransmission),
      cmocka_unit_test(disarm_on_real_loss),
      cmocka_unit_test(restore_keeps_larger_window),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

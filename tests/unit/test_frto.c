/* F-RTO (frto.c, RFC 5682): the decisions after a retransmission timeout
 * on a connection without timestamps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "frto.h"

/* 2.b then 3.b: new data acknowledged twice, the second time data never
 * retransmitted: spurious. */
static void spurious_timeout(void **state) {
  (void)state;
  tou_frto_t f = {0};
  tou_frto_on_rto(&f, false, false, 10000, 5);
  assert_true(tou_frto_active(&f));
  assert_int_equal(f.recover, 10000);
  tou_frto_on_rto(&f, false, false, 10000, 9); /* repeated: same test */
  assert_int_equal(f.rto_us, 5);
  assert_int_equal(tou_frto_on_ack(&f, 2000, 1000), TOU_FRTO_SEND_NEW);
  assert_int_equal(tou_frto_on_ack(&f, 3000, 1000), TOU_FRTO_SPURIOUS);
  assert_false(tou_frto_active(&f));
  assert_int_equal(tou_frto_on_ack(&f, 4000, 1000), TOU_FRTO_NONE);
}

/* 3.a: after the new data, a duplicate ACK: the flight was lost. */
static void real_loss_after_new_data(void **state) {
  (void)state;
  tou_frto_t f = {0};
  tou_frto_on_rto(&f, false, false, 10000, 5);
  assert_int_equal(tou_frto_on_ack(&f, 2000, 1000), TOU_FRTO_SEND_NEW);
  assert_int_equal(tou_frto_on_ack(&f, 2000, 0), TOU_FRTO_CONVENTIONAL);
  assert_false(tou_frto_active(&f));
}

/* 2.a: a duplicate ACK first, or an ACK of everything up to recover. */
static void nothing_to_test(void **state) {
  (void)state;
  tou_frto_t f = {0};
  tou_frto_on_rto(&f, false, false, 10000, 5);
  assert_int_equal(tou_frto_on_ack(&f, 1000, 0), TOU_FRTO_CONVENTIONAL);
  tou_frto_on_rto(&f, false, false, 10000, 5);
  assert_int_equal(tou_frto_on_ack(&f, 10000, 9000), TOU_FRTO_CONVENTIONAL);
  /* A timeout while the new data probes: loss, F-RTO ends. */
  tou_frto_on_rto(&f, false, false, 10000, 5);
  assert_int_equal(tou_frto_on_ack(&f, 2000, 1000), TOU_FRTO_SEND_NEW);
  tou_frto_on_rto(&f, false, false, 12000, 50);
  assert_false(tou_frto_active(&f));
}

/* Not used with timestamps (Eifel decides) nor from fast recovery. */
static void not_entered(void **state) {
  (void)state;
  tou_frto_t f = {0};
  tou_frto_on_rto(&f, true, false, 10000, 5);
  assert_false(tou_frto_active(&f));
  tou_frto_on_rto(&f, false, true, 10000, 5);
  assert_false(tou_frto_active(&f));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(spurious_timeout),
      cmocka_unit_test(real_loss_after_new_data),
      cmocka_unit_test(nothing_to_test),
      cmocka_unit_test(not_entered),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

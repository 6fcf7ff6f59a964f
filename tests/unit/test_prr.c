/* Proportional Rate Reduction (prr.c, RFC 9937): the per-ACK sndcnt
 * formulas, driven by a model sender that sends whole segments while
 * pipe < cwnd. MSS = 1000 bytes keeps the arithmetic readable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "prr.h"

#define MSS 1000u

/* A sender that sends whole segments while pipe < cwnd. */
typedef struct model {
  tou_prr_t prr;
  uint64_t pipe, cwnd, sent;
} model_t;

static void send_allowed(model_t *m) {
  while (m->pipe + MSS <= m->cwnd) {
    m->pipe += MSS;
    m->sent += MSS;
    tou_prr_on_sent(&m->prr, MSS);
  }
}

/* One ACK delivering `delivered` bytes: pipe shrinks by them and by
 * `newly_lost` (marked lost by the same ACK). */
static void ack(model_t *m, uint64_t delivered, uint64_t newly_lost, bool safe) {
  m->pipe -= delivered + newly_lost;
  m->cwnd = tou_prr_on_ack(&m->prr, delivered, m->pipe, safe, m->cwnd);
  send_allowed(m);
}

static uint64_t ceil_div(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

/* One loss in a window of 100 segments, CUBIC's ssthresh = 70: every ACK
 * lets out 0.7 segment in proportion (RFC 9937 6.2, pipe > ssthresh), the
 * first ACK the fast retransmit, and the flight ends at ssthresh. */
static void single_loss_sends_in_proportion(void **state) {
  (void)state;
  model_t m = {.pipe = 100 * MSS, .cwnd = 100 * MSS};
  const uint64_t ssthresh = 70 * MSS, recover_fs = 100 * MSS - 3 * MSS;
  /* Three segments were SACKed before (not in RecoverFS); the third SACK
   * marks segment 1 lost: pipe 100 - 3 (SACKed) - 1 (lost) = 96. */
  m.pipe -= 2 * MSS;
  tou_prr_start(&m.prr, (uint32_t)ssthresh, MSS, recover_fs);
  ack(&m, MSS, MSS, false);
  assert_int_equal(m.sent, MSS); /* the fast retransmit goes at once */
  uint64_t delivered = MSS;
  /* The other 96 segments are SACKed one per ACK, then the retransmission
   * is cumulatively acknowledged. */
  for (int i = 0; i < 96; i++) {
    ack(&m, MSS, 0, false);
    delivered += MSS;
    uint64_t target = ceil_div(delivered * ssthresh, recover_fs);
    /* Whole segments: less than one segment off the exact share. */
    assert_true(m.sent < target + MSS);
    assert_true(m.sent + MSS > target);
  }
  assert_int_equal(delivered, recover_fs);
  /* Everything of RecoverFS delivered: ssthresh sent, flight at ssthresh. */
  assert_int_equal(m.sent, ssthresh);
  assert_int_equal(m.pipe, ssthresh);
}

/* Heavy loss (RFC 9937 6.2, pipe <= ssthresh): the flight grows back to
 * ssthresh no faster than slow start, one SMSS beyond what was delivered
 * per ACK that makes progress (PRR-SSRB) and none beyond it otherwise
 * (PRR-CRB); never past ssthresh. */
static void heavy_loss_slow_start_bound(void **state) {
  (void)state;
  model_t m = {.pipe = 100 * MSS, .cwnd = 100 * MSS};
  const uint64_t ssthresh = 70 * MSS;
  tou_prr_start(&m.prr, (uint32_t)ssthresh, MSS, 100 * MSS);
  /* 60 segments lost at once: pipe 100 - 60 - 1 (SACKed) = 39. */
  ack(&m, MSS, 60 * MSS, false);
  /* PRR-CRB: the delivered segment once, and that is the fast
   * retransmit. */
  assert_int_equal(m.sent, MSS);
  assert_int_equal(m.pipe, 40 * MSS);
  /* An ACK that only SACKs (not safe): as much as it delivered. */
  ack(&m, MSS, 0, false);
  assert_int_equal(m.sent, 2 * MSS);
  /* ACKs advancing SND.UNA without new losses: one more segment each. */
  ack(&m, MSS, 0, true);
  assert_int_equal(m.sent, 4 * MSS);
  ack(&m, 2 * MSS, 0, true);
  assert_int_equal(m.sent, 7 * MSS);
  assert_int_equal(m.pipe, 42 * MSS); /* 39 after the ACK, + its 3 */
  /* Keep going: pipe never passes ssthresh. */
  for (int i = 0; i < 100; i++) {
    ack(&m, MSS, 0, true);
    assert_true(m.pipe <= ssthresh);
  }
  assert_int_equal(m.pipe, ssthresh);
}

/* RFC 9937 6.2: an ACK that delivers nothing leaves cwnd alone once the
 * fast retransmit went; before it, the retransmission is still allowed
 * (recovery entered by the reordering timer, no ACK). */
static void nothing_delivered_changes_nothing(void **state) {
  (void)state;
  tou_prr_t p;
  tou_prr_start(&p, 70 * MSS, MSS, 100 * MSS);
  assert_int_equal(tou_prr_on_ack(&p, 0, 99 * MSS, false, 70 * MSS), 100 * MSS);
  tou_prr_on_sent(&p, MSS);
  assert_int_equal(tou_prr_on_ack(&p, 0, 90 * MSS, false, 12345), 12345);
  /* Not active: cwnd untouched, sends not counted. */
  tou_prr_stop(&p);
  assert_int_equal(tou_prr_on_ack(&p, MSS, 10 * MSS, true, 777), 777);
  tou_prr_on_sent(&p, MSS);
  assert_int_equal(p.out, MSS);
}

/* RecoverFS of 0 (everything SACKed) does not divide by zero. */
static void empty_recover_fs(void **state) {
  (void)state;
  tou_prr_t p;
  tou_prr_start(&p, 2 * MSS, MSS, 0);
  assert_int_equal(p.recover_fs, MSS);
  uint64_t cwnd = tou_prr_on_ack(&p, MSS, 5 * MSS, false, 10 * MSS);
  assert_int_equal(cwnd, 5 * MSS + 2 * MSS);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(single_loss_sends_in_proportion),
      cmocka_unit_test(heavy_loss_slow_start_bound),
      cmocka_unit_test(nothing_delivered_changes_nothing),
      cmocka_unit_test(empty_recover_fs),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

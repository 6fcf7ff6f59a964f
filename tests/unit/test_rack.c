/* RACK-TLP (RFC 8985), duplicate-ACK fallback (RFC 5681/6582) and RTO
 * marking. Segments P1..Pn of 1000 bytes, RTT 100 ms unless said. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "error.h"
#include "rack.h"

#define MSS 1000u
#define CAP 32u
#define MS 1000ull
#define NEVER UINT64_MAX
#define ISN 10000u

static tou_sb_seg_t storage[CAP];

typedef struct fixture {
  tou_scoreboard_t sb;
  tou_rack_t rack;
  uint64_t srtt, min_rtt;
} fixture_t;

static tou_seq_t P(int n) { return ISN + (tou_seq_t)(n - 1) * MSS; }

static void setup(fixture_t *f, bool sack) {
  tou_sb_init(&f->sb, storage, CAP, MSS, ISN);
  tou_rack_init(&f->rack, sack);
  f->srtt = 100 * MS;
  f->min_rtt = 100 * MS;
}

/* Sends n new segments, `spacing` apart starting at t0. */
static void send_n(fixture_t *f, int n, uint64_t t0, uint64_t spacing) {
  for (int i = 0; i < n; i++) {
    assert_int_equal(tou_sb_on_send(&f->sb, f->sb.snd_nxt, MSS, t0 + (uint64_t)i * spacing), TOU_OK);
  }
}

/* One ACK: cumulative ack, optional SACK blocks given as segment ranges
 * [from, to] inclusive (0 = none). */
static tou_rack_ack_t ack_full(fixture_t *f, tou_seq_t cum, int from, int to, int from2, int to2,
                               bool dup, uint64_t now) {
  tou_sack_block_t b[2];
  size_t n = 0;
  if (from) b[n++] = (tou_sack_block_t){P(from), P(to + 1)};
  if (from2) b[n++] = (tou_sack_block_t){P(from2), P(to2 + 1)};
  tou_sb_ack_t a;
  assert_int_equal(tou_sb_on_ack(&f->sb, cum, b, n, f->min_rtt, now, &a), TOU_OK);
  tou_rack_ack_t r;
  tou_rack_on_ack(&f->rack, &f->sb, &a, dup, f->srtt, f->min_rtt, now, &r);
  return r;
}
static tou_rack_ack_t ack(fixture_t *f, tou_seq_t cum, int from, int to, uint64_t now) {
  return ack_full(f, cum, from, to, 0, 0, false, now);
}

static bool lost(fixture_t *f, int n) {
  tou_sb_seg_t *s = tou_sb_find(&f->sb, P(n));
  return s && (s->flags & TOU_SB_LOST) && !(s->flags & TOU_SB_RETRANS_OUT);
}

/* RFC 8985 example: P1..P10 sent, P1 lost, SACKs for P2..P10 arrive. With
 * at least DupThresh = 3 segments SACKed and no reordering seen, reo_wnd is
 * 0 and P1 is lost as soon as a later-sent segment is delivered one RACK.rtt
 * after P1 left. */
static void sack_of_2_to_10_marks_1_lost(void **state) {
  (void)state;
  fixture_t f;
  setup(&f, true);
  send_n(&f, 10, 0, 1 * MS); /* P1 at 0 ms ... P10 at 9 ms */
  /* SACK P2..P10 at 110 ms: RACK.xmit_ts = 9 ms (P10), RACK.rtt = 101 ms;
   * P1: 0 + 101 + reo_wnd 0 = 101 <= 110 -> lost. */
  tou_rack_ack_t r = ack(&f, P(1), 2, 10, 110 * MS);
  assert_int_equal(f.rack.rtt_us, 101 * MS);
  assert_int_equal(tou_rack_reo_wnd(&f.rack, &f.sb, f.srtt, f.min_rtt), 0);
  assert_int_equal(r.newly_lost, 1);
  assert_true(r.congestion_event);
  assert_true(lost(&f, 1));
  assert_int_equal(f.rack.state, TOU_RECOVERY_FAST);
  assert_int_equal(f.rack.recover, P(11));
  assert_ptr_equal(tou_sb_next_lost(&f.sb), tou_sb_find(&f.sb, P(1)));
  /* Retransmit P1, its ACK ends the episode. */
  assert_int_equal(tou_sb_on_retransmit(&f.sb, P(1), 111 * MS), TOU_OK);
  r = ack(&f, P(11), 0, 0, 212 * MS);
  assert_true(r.recovery_exit);
  assert_false(r.congestion_event);
  assert_int_equal(f.rack.state, TOU_RECOVERY_OPEN);
}

/* Fewer than DupThresh SACKed: P1 is only lost after the reordering window
 * (min_RTT/4 = 25 ms), through the reorder timer. */
static void lost_after_reordering_window(void **state) {
  (void)state;
  fixture_t f;
  setup(&f, true);
  send_n(&f, 10, 0, 1 * MS);
  /* SACK of P2 at 101 ms: RACK.xmit_ts = 1 ms, RACK.rtt = 100 ms, reo_wnd =
   * 100/4 = 25 ms; P1 deadline = 0 + 100 + 25 = 125 ms. */
  tou_rack_ack_t r = ack(&f, P(1), 2, 2, 101 * MS);
  assert_int_equal(tou_rack_reo_wnd(&f.rack, &f.sb, f.srtt, f.min_rtt), 25 * MS);
  assert_int_equal(r.newly_lost, 0);
  assert_false(r.congestion_event);
  assert_false(lost(&f, 1));
  assert_int_equal(f.rack.reo_deadline, 125 * MS);
  /* Timer fires: P1 lost, recovery starts. P3..P10 were sent after P2 and
   * are not judged. */
  tou_rack_on_reorder_timer(&f.rack, &f.sb, f.srtt, f.min_rtt, 125 * MS, &r);
  assert_int_equal(r.newly_lost, 1);
  assert_true(r.congestion_event);
  assert_true(lost(&f, 1));
  for (int i = 3; i <= 10; i++) assert_false(lost(&f, i));
  assert_int_equal(f.rack.reo_deadline, NEVER);
}

/* P1 merely delayed: it arrives before the reordering window ends. No loss;
 * reordering is now known, so the window applies even with 3 SACKed. */
static void reordering_not_loss(void **state) {
  (void)state;
  fixture_t f;
  setup(&f, true);
  send_n(&f, 10, 0, 1 * MS);
  tou_rack_ack_t r = ack(&f, P(1), 2, 2, 101 * MS);
  assert_int_equal(f.rack.reo_deadline, 125 * MS);
  r = ack(&f, P(3), 0, 0, 110 * MS); /* P1 (never retransmitted) arrives late */
  assert_int_equal(r.newly_lost, 0);
  assert_true(f.rack.reordering_seen);
  assert_int_equal(f.sb.stats.reordering_seen, 1);
  /* P4 missing, P5..P7 SACKed at 120 ms: without reordering this would be an
   * instant loss; now reo_wnd = 25 ms: P4 (3 ms) deadline 3 + 114 + 25. */
  r = ack(&f, P(4), 5, 7, 120 * MS);
  assert_int_equal(tou_rack_reo_wnd(&f.rack, &f.sb, f.srtt, f.min_rtt), 25 * MS);
  assert_int_equal(r.newly_lost, 0);
  assert_int_equal(f.rack.reo_deadline, 3 * MS + 114 * MS + 25 * MS);
}

/* RFC 8985 6.2: the reordering window is capped by SRTT and widened by
 * DSACKs once per round trip. */
static void reo_wnd_dsack_and_cap(void **state) {
  (void)state;
  fixture_t f;
  setup(&f, true);
  f.rack.reordering_seen = true;
  assert_int_equal(tou_rack_reo_wnd(&f.rack, &f.sb, f.srtt, f.min_rtt), 25 * MS);
  send_n(&f, 4, 0, 0);
  tou_rack_ack_t r = ack(&f, P(3), 0, 0, 100 * MS);
  (void)r;
  /* DSACK for P1: mult 2 -> 50 ms. */
  r = ack_full(&f, P(3), 1, 1, 0, 0, false, 101 * MS);
  assert_int_equal(f.rack.reo_wnd_mult, 2);
  /* A second DSACK in the same round trip does not widen again. */
  r = ack_full(&f, P(3), 2, 2, 0, 0, false, 102 * MS);
  assert_int_equal(f.rack.reo_wnd_mult, 2);
  assert_int_equal(tou_rack_reo_wnd(&f.rack, &f.sb, f.srtt, f.min_rtt), 50 * MS);
  /* Capped by SRTT. */
  f.rack.reo_wnd_mult = 10;
  assert_int_equal(tou_rack_reo_wnd(&f.rack, &f.sb, f.srtt, f.min_rtt), 100 * MS);
}

/* TLP (RFC 8985 7): the tail P9, P10 is lost; no ACK would ever trigger
 * RACK. The probe (retransmission of P10) elicits a SACK that lets RACK
 * mark P9 lost. */
static void tlp_repairs_tail_loss(void **state) {
  (void)state;
  fixture_t f;
  setup(&f, true);
  send_n(&f, 10, 0, 0);
  uint64_t rto_deadline = 1000 * MS;
  /* ACK of P1..P8 at 100 ms; PTO = 2 * SRTT = 200 ms. */
  tou_rack_ack_t r = ack(&f, P(9), 0, 0, 100 * MS);
  assert_int_equal(r.newly_lost, 0);
  uint64_t pto = tou_rack_pto_deadline(&f.rack, &f.sb, f.srtt, rto_deadline, 100 * MS);
  assert_int_equal(pto, 300 * MS);
  /* PTO fires, nothing new to send: retransmit the last segment. */
  assert_int_equal(tou_rack_on_pto(&f.rack, &f.sb, false), TOU_TLP_RETRANSMIT_LAST);
  tou_sb_seg_t *last = tou_sb_at(&f.sb, f.sb.count - 1);
  assert_int_equal(last->seq, P(10));
  assert_int_equal(tou_sb_on_retransmit(&f.sb, last->seq, 300 * MS), TOU_OK);
  tou_rack_tlp_sent(&f.rack, &f.sb, true);
  assert_true(f.rack.tlp_pending);
  /* No second probe while one is outstanding. */
  assert_int_equal(tou_rack_pto_deadline(&f.rack, &f.sb, f.srtt, rto_deadline, 300 * MS), NEVER);
  /* SACK of P10 at 400 ms: RACK.xmit_ts = 300 ms, rtt 100 ms; P9 (0 ms):
   * 0 + 100 + 25 <= 400 -> lost; fast recovery. */
  r = ack(&f, P(9), 10, 10, 400 * MS);
  assert_int_equal(r.newly_lost, 1);
  assert_true(lost(&f, 9));
  assert_true(r.congestion_event);
  assert_int_equal(f.rack.tlp_probes, 1);
}

/* Only the last segment lost: the probe's retransmission repairs it. The
 * ACK beyond the probe without a DSACK tells congestion control once. */
static void tlp_loss_repaired_reduces_once(void **state) {
  (void)state;
  fixture_t f;
  setup(&f, true);
  send_n(&f, 10, 0, 0);
  tou_rack_ack_t r = ack(&f, P(10), 0, 0, 100 * MS);
  assert_int_equal(tou_rack_on_pto(&f.rack, &f.sb, false), TOU_TLP_RETRANSMIT_LAST);
  assert_int_equal(tou_sb_on_retransmit(&f.sb, P(10), 300 * MS), TOU_OK);
  tou_rack_tlp_sent(&f.rack, &f.sb, true);
  r = ack(&f, P(11), 0, 0, 400 * MS); /* ACK == TLP.end_seq: undecided */
  assert_false(r.congestion_event);
  assert_true(f.rack.tlp_pending);
  send_n(&f, 1, 401 * MS, 0);
  r = ack(&f, P(12), 0, 0, 500 * MS); /* beyond the probe, no DSACK: loss */
  assert_true(r.tlp_loss_repaired);
  assert_false(r.congestion_event); /* repaired already: no recovery episode */
  assert_false(f.rack.tlp_pending);
  assert_int_equal(f.rack.state, TOU_RECOVERY_OPEN);
}

/* The original of the probe arrived too (only its ACK was lost): the
 * receiver's DSACK clears the probe, no congestion response. */
static void tlp_spurious_dsack(void **state) {
  (void)state;
  fixture_t f;
  setup(&f, true);
  send_n(&f, 10, 0, 0);
  tou_rack_ack_t r = ack(&f, P(10), 0, 0, 100 * MS);
  assert_int_equal(tou_sb_on_retransmit(&f.sb, P(10), 300 * MS), TOU_OK);
  tou_rack_tlp_sent(&f.rack, &f.sb, true);
  r = ack(&f, P(11), 0, 0, 390 * MS);
  r = ack_full(&f, P(11), 10, 10, 0, 0, false, 400 * MS); /* DSACK for P10 */
  assert_false(r.congestion_event);
  assert_false(r.tlp_loss_repaired);
  assert_false(f.rack.tlp_pending);
}

/* A new-data probe needs no loss bookkeeping of its own. */
static void tlp_new_data(void **state) {
  (void)state;
  fixture_t f;
  setup(&f, true);
  send_n(&f, 4, 0, 0);
  tou_rack_ack_t r = ack(&f, P(2), 0, 0, 100 * MS);
  assert_int_equal(tou_rack_on_pto(&f.rack, &f.sb, true), TOU_TLP_SEND_NEW);
  send_n(&f, 1, 300 * MS, 0);
  tou_rack_tlp_sent(&f.rack, &f.sb, false);
  r = ack(&f, P(6), 0, 0, 400 * MS);
  assert_false(r.congestion_event);
  assert_false(f.rack.tlp_pending);
}

static void pto_rules(void **state) {
  (void)state;
  fixture_t f;
  setup(&f, true);
  /* Nothing in flight: no probe. */
  assert_int_equal(tou_rack_pto_deadline(&f.rack, &f.sb, f.srtt, NEVER, 0), NEVER);
  send_n(&f, 1, 0, 0);
  /* One segment: 2*SRTT + WCDelAckT = 200 + 200 ms. */
  assert_int_equal(tou_rack_pto_deadline(&f.rack, &f.sb, f.srtt, NEVER, 0), 400 * MS);
  send_n(&f, 1, 0, 0);
  assert_int_equal(tou_rack_pto_deadline(&f.rack, &f.sb, f.srtt, NEVER, 0), 200 * MS);
  /* No SRTT yet: 1 s. */
  assert_int_equal(tou_rack_pto_deadline(&f.rack, &f.sb, 0, NEVER, 0), 1000 * MS);
  /* The RTO would fire first: the probe goes at the RTO time instead. */
  assert_int_equal(tou_rack_pto_deadline(&f.rack, &f.sb, f.srtt, 150 * MS, 0), 150 * MS);
  /* Not in recovery, not without SACK. */
  f.rack.state = TOU_RECOVERY_FAST;
  assert_int_equal(tou_rack_pto_deadline(&f.rack, &f.sb, f.srtt, NEVER, 0), NEVER);
  f.rack.state = TOU_RECOVERY_OPEN;
  f.rack.sack = false;
  assert_int_equal(tou_rack_pto_deadline(&f.rack, &f.sb, f.srtt, NEVER, 0), NEVER);
}

/* Without SACK: RFC 5681 fast retransmit on the third duplicate ACK and
 * RFC 6582 NewReno partial ACKs. P1 and P5 are lost out of P1..P10. */
static void dupack_newreno_recovery(void **state) {
  (void)state;
  fixture_t f;
  setup(&f, false);
  send_n(&f, 10, 0, 0);
  tou_rack_ack_t r;
  r = ack_full(&f, P(1), 0, 0, 0, 0, true, 100 * MS);
  r = ack_full(&f, P(1), 0, 0, 0, 0, true, 101 * MS);
  assert_false(r.congestion_event);
  assert_int_equal(tou_sb_in_flight(&f.sb), 8000); /* two segments left the network */
  r = ack_full(&f, P(1), 0, 0, 0, 0, true, 102 * MS);
  assert_true(r.congestion_event);
  assert_int_equal(r.newly_lost, 1);
  assert_true(lost(&f, 1));
  assert_int_equal(f.rack.recover, P(11));
  /* Further duplicate ACKs: no second reduction, more credit. */
  r = ack_full(&f, P(1), 0, 0, 0, 0, true, 103 * MS);
  assert_false(r.congestion_event);
  assert_int_equal(f.rack.dupacks, 4);
  /* Retransmit P1; its ACK stops at P5 (partial ACK): P5 is lost too. */
  assert_int_equal(tou_sb_on_retransmit(&f.sb, P(1), 104 * MS), TOU_OK);
  r = ack(&f, P(5), 0, 0, 204 * MS);
  assert_false(r.recovery_exit);
  assert_int_equal(r.newly_lost, 1);
  assert_true(lost(&f, 5));
  assert_int_equal(tou_sb_next_lost(&f.sb)->seq, P(5));
  assert_int_equal(tou_sb_on_retransmit(&f.sb, P(5), 205 * MS), TOU_OK);
  /* Full ACK: recovery over. */
  r = ack(&f, P(11), 0, 0, 305 * MS);
  assert_true(r.recovery_exit);
  assert_int_equal(f.rack.state, TOU_RECOVERY_OPEN);
  assert_int_equal(f.sb.reno_sacked, 0);
}

/* Without SACK after an RTO: only the first segment is marked; each partial
 * ACK exposes the next hole (NewReno style), and duplicate ACKs below the
 * recovery point do not start a fast retransmit (RFC 6582 3.2 step 1). */
static void rto_without_sack_partial_acks(void **state) {
  (void)state;
  fixture_t f;
  setup(&f, false);
  send_n(&f, 10, 0, 0);
  assert_int_equal(tou_rack_on_rto(&f.rack, &f.sb, f.srtt, f.min_rtt, 1000 * MS), 1);
  assert_true(lost(&f, 1));
  assert_false(lost(&f, 2));
  assert_int_equal(tou_sb_on_retransmit(&f.sb, P(1), 1000 * MS), TOU_OK);
  tou_rack_ack_t r = ack(&f, P(3), 0, 0, 1100 * MS); /* P3 is missing too */
  assert_int_equal(r.newly_lost, 1);
  assert_true(lost(&f, 3));
  assert_int_equal(tou_sb_on_retransmit(&f.sb, P(3), 1100 * MS), TOU_OK);
  for (int i = 0; i < 3; i++) {
    r = ack_full(&f, P(3), 0, 0, 0, 0, true, (1101 + (uint64_t)i) * MS);
    assert_false(r.congestion_event);
  }
  r = ack(&f, P(11), 0, 0, 1200 * MS);
  assert_true(r.recovery_exit);
  assert_false(r.congestion_event);
}

static void rto_marks_first_and_expired(void **state) {
  (void)state;
  fixture_t f;
  setup(&f, true);
  send_n(&f, 5, 0, 0);        /* P1..P5 at 0 */
  send_n(&f, 5, 200 * MS, 0); /* P6..P10 at 200 ms */
  tou_rack_ack_t r = ack(&f, P(1), 3, 3, 100 * MS); /* RACK: rtt 100 ms, xmit 0 */
  (void)r;
  /* RTO at 250 ms: P1 (first) lost; P2..P5 sent at 0: 0+100+25 <= 250 ->
   * lost (P3 is SACKed); P6..P10 at 200 ms: 200+100+25 > 250 -> not. */
  uint32_t n = tou_rack_on_rto(&f.rack, &f.sb, f.srtt, f.min_rtt, 250 * MS);
  assert_int_equal(n, 4);
  assert_true(lost(&f, 1) && lost(&f, 2) && lost(&f, 4) && lost(&f, 5));
  for (int i = 6; i <= 10; i++) assert_false(lost(&f, i));
  assert_int_equal(f.rack.state, TOU_RECOVERY_RTO);
  /* The caller retransmits ONE segment: the first lost. */
  assert_int_equal(tou_sb_next_lost(&f.sb)->seq, P(1));
  assert_int_equal(tou_sb_on_retransmit(&f.sb, P(1), 250 * MS), TOU_OK);
  /* Losses found during RTO recovery are not a new congestion event. */
  r = ack(&f, P(2), 6, 10, 500 * MS);
  assert_false(r.congestion_event);
  /* Episode ends when everything sent before the RTO is ACKed. */
  r = ack(&f, P(11), 0, 0, 600 * MS);
  assert_true(r.recovery_exit);
  assert_int_equal(f.rack.state, TOU_RECOVERY_OPEN);
}

/* A retransmission lost during fast recovery (the reduced window still
 * overflows the path) starts a new episode: one more reduction, at most
 * once per round trip. */
static void lost_retransmission_restarts_episode(void **state) {
  (void)state;
  fixture_t f;
  setup(&f, true);
  send_n(&f, 10, 0, 0);
  tou_rack_ack_t r = ack(&f, P(1), 2, 10, 110 * MS);
  assert_true(r.congestion_event);
  assert_int_equal(tou_sb_on_retransmit(&f.sb, P(1), 111 * MS), TOU_OK);
  send_n(&f, 2, 120 * MS, 0); /* P11, P12 */
  /* SACK of P11 at 300 ms: RACK.xmit_ts = 120 ms, rtt 180 ms; the
   * retransmitted P1 (111 ms): 111 + 180 <= 300 -> lost again. */
  r = ack_full(&f, P(1), 2, 11, 0, 0, false, 300 * MS);
  assert_int_equal(r.newly_lost, 1);
  assert_true(lost(&f, 1));
  assert_true(r.recovery_exit);
  assert_true(r.congestion_event);
  assert_int_equal(f.rack.recover, P(13));
  /* Lost again within the same round trip: no further response. */
  assert_int_equal(tou_sb_on_retransmit(&f.sb, P(1), 301 * MS), TOU_OK);
  send_n(&f, 1, 302 * MS, 0); /* P13 */
  f.srtt = 200 * MS;
  r = ack_full(&f, P(1), 2, 13, 0, 0, false, 490 * MS);
  assert_int_equal(r.newly_lost, 1);
  assert_false(r.congestion_event);
}

/* The receiver's shortcut (conn_recovery.c): whenever tou_sb_ack_idle()
 * and tou_rack_idle() both hold, running an empty ACK (SND.UNA, no SACK)
 * through the scoreboard and RACK changes neither and reports nothing. */
static void check_idle_ack_is_no_op(fixture_t *f, uint64_t now) {
  if (!tou_sb_ack_idle(&f->sb, f->sb.snd_una) || !tou_rack_idle(&f->rack)) return;
  tou_scoreboard_t sb_before = f->sb;
  tou_rack_t rack_before = f->rack;
  tou_sb_ack_t a;
  assert_int_equal(tou_sb_on_ack(&f->sb, f->sb.snd_una, NULL, 0, f->min_rtt, now, &a), TOU_OK);
  assert_int_equal(a.newly_acked, 0);
  assert_int_equal(a.newly_sacked, 0);
  assert_false(a.has_rtt);
  assert_false(a.dsack);
  tou_rack_ack_t r;
  tou_rack_on_ack(&f->rack, &f->sb, &a, false, f->srtt, f->min_rtt, now, &r);
  assert_false(r.congestion_event || r.recovery_exit || r.tlp_loss_repaired);
  assert_int_equal(r.newly_lost, 0);
  assert_memory_equal(&sb_before, &f->sb, sizeof f->sb);
  assert_memory_equal(&rack_before, &f->rack, sizeof f->rack);
}

static void idle_ack_changes_nothing(void **state) {
  (void)state;
  for (int sack = 0; sack <= 1; sack++) {
    fixture_t f;
    setup(&f, sack);
    assert_true(tou_sb_ack_idle(&f.sb, f.sb.snd_una));
    assert_true(tou_rack_idle(&f.rack));
    check_idle_ack_is_no_op(&f, 0);
    /* Data in flight: never idle. */
    send_n(&f, 10, 0, 0);
    assert_false(tou_sb_ack_idle(&f.sb, f.sb.snd_una));
    check_idle_ack_is_no_op(&f, 50 * MS);
    /* Everything acknowledged in order: idle again. */
    ack(&f, P(11), 0, 0, 100 * MS);
    assert_true(tou_sb_ack_idle(&f.sb, f.sb.snd_una));
    assert_true(tou_rack_idle(&f.rack));
    check_idle_ack_is_no_op(&f, 150 * MS);
    /* A probe pending at an empty scoreboard (its ACK == TLP.end_seq left
     * the outcome open, tlp_loss_repaired_reduces_once): not idle, a later
     * ACK must still decide. */
    send_n(&f, 2, 200 * MS, 0);
    ack(&f, P(12), 0, 0, 300 * MS);
    assert_int_equal(tou_sb_on_retransmit(&f.sb, P(12), 500 * MS), TOU_OK);
    tou_rack_tlp_sent(&f.rack, &f.sb, true);
    ack(&f, P(13), 0, 0, 600 * MS);
    assert_int_equal(f.sb.count, 0);
    assert_true(f.rack.tlp_pending);
    assert_false(tou_rack_idle(&f.rack));
    check_idle_ack_is_no_op(&f, 600 * MS);
  }
  /* Recovery episode: lost P1 with SACK, repaired; not idle until it ends. */
  fixture_t f;
  setup(&f, true);
  send_n(&f, 10, 0, 0);
  tou_rack_ack_t r = ack(&f, P(1), 2, 10, 100 * MS);
  assert_true(r.congestion_event);
  assert_false(tou_rack_idle(&f.rack));
  assert_int_equal(tou_sb_on_retransmit(&f.sb, P(1), 110 * MS), TOU_OK);
  check_idle_ack_is_no_op(&f, 150 * MS);
  ack(&f, P(11), 0, 0, 210 * MS);
  check_idle_ack_is_no_op(&f, 250 * MS);
  /* A DSACK round still open keeps the shortcut off. */
  f.rack.dsack_round_valid = true;
  assert_false(tou_rack_idle(&f.rack));
}

/* Loss detection over a flight that fills the scoreboard: P1..P32 sent 1 ms
 * apart, P1 and P3 lost, P1 retransmitted (lost again), SACKs up to P6.
 * Only segments sent before RACK's (P6) are judged; the scan stops at the
 * first never-retransmitted segment sent after it (rack.c), which must not
 * change what is marked or the reorder deadline: expired segments sent
 * before RACK's are lost, a retransmission sent after it is not judged,
 * and the rest of the flight is left alone. */
static void detection_stops_after_rack_segment(void **state) {
  (void)state;
  fixture_t f;
  setup(&f, true);
  send_n(&f, CAP, 0, 1 * MS);
  /* P2 SACKed at 100 ms: RACK = P2 (1 ms), rtt 99 ms; fewer than three
   * SACKed, so reo_wnd = min_rtt / 4 = 25 ms: P1 (0 + 99 + 25 = 124) waits. */
  tou_rack_ack_t r = ack(&f, P(1), 2, 2, 100 * MS);
  assert_int_equal(r.newly_lost, 0);
  assert_int_equal(f.rack.reo_deadline, 124 * MS);
  /* P4..P6 SACKed at 130 ms: RACK = P6 (5 ms), rtt 125 ms, reo_wnd 0
   * (three SACKed): P1 (0 + 125 <= 130) and P3 (2 + 125) lost; P7.. not
   * judged (sent after P6). */
  r = ack_full(&f, P(1), 2, 2, 4, 6, false, 130 * MS);
  assert_int_equal(r.newly_lost, 2);
  assert_true(lost(&f, 1));
  assert_true(lost(&f, 3));
  for (int n = 7; n <= (int)CAP; n++) assert_false(lost(&f, n));
  assert_int_equal(f.rack.reo_deadline, NEVER);
  /* P1 retransmitted at 140 ms; P8 SACKed at 150 ms: RACK = P8 (7 ms).
   * The retransmitted P1 was sent after P8: not judged; P7 (6 + 143 <=
   * 150) lost; P9.. again left alone. */
  assert_int_equal(tou_sb_on_retransmit(&f.sb, P(1), 140 * MS), TOU_OK);
  r = ack_full(&f, P(1), 4, 6, 8, 8, false, 150 * MS);
  assert_int_equal(r.newly_lost, 1);
  assert_true(lost(&f, 7));
  assert_false(lost(&f, 1));
  for (int n = 9; n <= (int)CAP; n++) assert_false(lost(&f, n));
  /* P9..P32 SACKed at 400 ms: RACK = P32 (31 ms). The retransmitted P1
   * (140 ms) was sent after it: still not judged, no deadline pending. */
  r = ack_full(&f, P(1), 4, 6, 8, 32, false, 400 * MS);
  assert_int_equal(r.newly_lost, 0);
  assert_false(lost(&f, 1));
  assert_int_equal(f.rack.reo_deadline, NEVER);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(sack_of_2_to_10_marks_1_lost),
      cmocka_unit_test(idle_ack_changes_nothing),
      cmocka_unit_test(detection_stops_after_rack_segment),
      cmocka_unit_test(lost_after_reordering_window),
      cmocka_unit_test(reordering_not_loss),
      cmocka_unit_test(reo_wnd_dsack_and_cap),
      cmocka_unit_test(tlp_repairs_tail_loss),
      cmocka_unit_test(tlp_loss_repaired_reduces_once),
      cmocka_unit_test(tlp_spurious_dsack),
      cmocka_unit_test(tlp_new_data),
      cmocka_unit_test(pto_rules),
      cmocka_unit_test(dupack_newreno_recovery),
      cmocka_unit_test(rto_without_sack_partial_acks),
      cmocka_unit_test(rto_marks_first_and_expired),
      cmocka_unit_test(lost_retransmission_restarts_episode),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

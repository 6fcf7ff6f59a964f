/* Scoreboard: cumulative ACK + SACK (RFC 2018) + DSACK (RFC 2883)
 * processing, pipe accounting (RFC 6675), Karn's rule, reordering
 * detection, delivery rate. Segments of 1000 bytes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "core.h"
#include "error.h"
#include "scoreboard.h"

#define MSS 1000u
#define CAP 16u
#define MS 1000ull

static tou_sb_seg_t storage[CAP];

/* Segment n (1-based) starts at isn + (n-1)*MSS. */
static tou_seq_t P(tou_seq_t isn, int n) { return isn + (tou_seq_t)(n - 1) * MSS; }

static void send_n(tou_scoreboard_t *sb, int n, uint64_t t0, uint64_t spacing) {
  for (int i = 0; i < n; i++) {
    assert_int_equal(tou_sb_on_send(sb, sb->snd_nxt, MSS, t0 + (uint64_t)i * spacing), TOU_OK);
  }
}

static int ack(tou_scoreboard_t *sb, tou_seq_t a, const tou_sack_block_t *b, size_t n,
               uint64_t now, tou_sb_ack_t *out) {
  return tou_sb_on_ack(sb, a, b, n, 0, now, out);
}

static void send_and_cumulative_ack(void **state) {
  (void)state;
  tou_scoreboard_t sb;
  const tou_seq_t isn = 1000;
  tou_sb_init(&sb, storage, CAP, MSS, isn);
  send_n(&sb, 10, 0, 1 * MS);
  assert_int_equal(sb.count, 10);
  assert_int_equal(sb.outstanding, 10000);
  assert_int_equal(tou_sb_in_flight(&sb), 10000);
  assert_int_equal(sb.snd_nxt, isn + 10000);

  tou_sb_ack_t a;
  /* ACK of P1..P3 at 102 ms: RTT from the newest, P3 sent at 2 ms. */
  assert_int_equal(ack(&sb, P(isn, 4), NULL, 0, 102 * MS, &a), TOU_OK);
  assert_int_equal(a.newly_acked, 3000);
  assert_int_equal(a.newly_sacked, 0);
  assert_int_equal(a.prior_in_flight, 10000);
  assert_true(a.has_rtt);
  assert_int_equal(a.rtt_us, 100 * MS);
  assert_true(a.has_rack);
  assert_int_equal(a.rack_xmit_us, 2 * MS);
  assert_int_equal(a.rack_end_seq, P(isn, 4));
  assert_int_equal(sb.count, 7);
  assert_int_equal(tou_sb_in_flight(&sb), 7000);
  assert_int_equal(sb.snd_una, P(isn, 4));
  assert_int_equal(sb.stats.bytes_acked, 3000);

  /* An old ACK changes nothing; an ACK of unsent data is rejected. */
  assert_int_equal(ack(&sb, P(isn, 2), NULL, 0, 103 * MS, &a), TOU_OK);
  assert_int_equal(a.newly_acked, 0);
  assert_false(a.has_rtt);
  assert_int_equal(ack(&sb, isn + 10001, NULL, 0, 103 * MS, &a), TOU_ERR_INVAL);
  assert_int_equal(sb.count, 7);

  /* Everything. */
  assert_int_equal(ack(&sb, isn + 10000, NULL, 0, 110 * MS, &a), TOU_OK);
  assert_int_equal(a.newly_acked, 7000);
  assert_true(tou_sb_empty(&sb));
  assert_int_equal(tou_sb_in_flight(&sb), 0);
  assert_int_equal(sb.outstanding, 0);
}

static void sack_blocks(void **state) {
  (void)state;
  tou_scoreboard_t sb;
  const tou_seq_t isn = 5000;
  tou_sb_init(&sb, storage, CAP, MSS, isn);
  send_n(&sb, 10, 0, 1 * MS);
  tou_sb_ack_t a;
  /* P1 missing; P5..P7 SACKed. */
  tou_sack_block_t b1[] = {{P(isn, 5), P(isn, 8)}};
  assert_int_equal(ack(&sb, isn, b1, 1, 100 * MS, &a), TOU_OK);
  assert_int_equal(a.newly_acked, 0);
  assert_int_equal(a.newly_sacked, 3000);
  assert_int_equal(sb.sacked_segs, 3);
  assert_int_equal(tou_sb_in_flight(&sb), 7000);
  assert_true(a.has_rtt);
  assert_int_equal(a.rtt_us, 100 * MS - 6 * MS); /* newest SACKed: P7 at 6 ms */
  /* The same SACK again is not news. */
  assert_int_equal(ack(&sb, isn, b1, 1, 101 * MS, &a), TOU_OK);
  assert_int_equal(a.newly_sacked, 0);
  assert_false(a.has_rtt);
  /* A block covering half a segment does not SACK it; blocks beyond snd_nxt
   * or inverted are ignored; blocks are processed in any order. */
  tou_sack_block_t b2[] = {{P(isn, 9), P(isn, 9) + 500},
                           {P(isn, 10), P(isn, 10) + 5000},
                           {P(isn, 4), P(isn, 3)},
                           {P(isn, 2), P(isn, 4)}};
  assert_int_equal(ack(&sb, isn, b2, 4, 102 * MS, &a), TOU_OK);
  assert_int_equal(a.newly_sacked, 2000); /* P2, P3 */
  assert_int_equal(sb.sacked_segs, 5);
  assert_int_equal(sb.stats.segs_sacked, 5);
  /* Cumulative ACK past SACKed segments: they leave without being counted twice. */
  assert_int_equal(ack(&sb, P(isn, 8), NULL, 0, 103 * MS, &a), TOU_OK);
  assert_int_equal(a.newly_acked, 7000);
  assert_int_equal(sb.sacked_segs, 0);
  assert_int_equal(sb.sacked_bytes, 0);
  assert_int_equal(tou_sb_in_flight(&sb), 3000);
  assert_int_equal(sb.delivered, 7000); /* P1 + P2..P7, each once */
}

static void dsack_detection(void **state) {
  (void)state;
  tou_scoreboard_t sb;
  const tou_seq_t isn = 0;
  tou_sb_init(&sb, storage, CAP, MSS, isn);
  send_n(&sb, 6, 0, 0);
  tou_sb_ack_t a;
  assert_int_equal(ack(&sb, P(isn, 3), NULL, 0, 10 * MS, &a), TOU_OK);
  /* RFC 2883 4.1.1: first block below the cumulative ACK reports a duplicate. */
  tou_sack_block_t d1[] = {{P(isn, 1), P(isn, 2)}};
  assert_int_equal(ack(&sb, P(isn, 3), d1, 1, 11 * MS, &a), TOU_OK);
  assert_true(a.dsack);
  assert_int_equal(a.dsack_left, P(isn, 1));
  assert_int_equal(a.newly_sacked, 0);
  /* RFC 2883 4.1.2: first block inside the second one. */
  tou_sack_block_t d2[] = {{P(isn, 5), P(isn, 6)}, {P(isn, 4), P(isn, 7)}};
  assert_int_equal(ack(&sb, P(isn, 3), d2, 2, 12 * MS, &a), TOU_OK);
  assert_true(a.dsack);
  assert_int_equal(a.newly_sacked, 3000); /* the second block still counts */
  assert_int_equal(sb.stats.dsacks, 2);
  /* An ordinary block is not a DSACK. */
  tou_sack_block_t s[] = {{P(isn, 4), P(isn, 7)}};
  assert_int_equal(ack(&sb, P(isn, 3), s, 1, 13 * MS, &a), TOU_OK);
  assert_false(a.dsack);
}

static void karn_no_sample_from_retransmission(void **state) {
  (void)state;
  tou_scoreboard_t sb;
  const tou_seq_t isn = 0;
  tou_sb_init(&sb, storage, CAP, MSS, isn);
  send_n(&sb, 2, 0, 0);
  assert_int_equal(tou_sb_on_retransmit(&sb, P(isn, 1), 300 * MS), TOU_OK);
  assert_int_equal(tou_sb_on_retransmit(&sb, P(isn, 1) + 1, 300 * MS), TOU_ERR_INVAL);
  tou_sb_ack_t a;
  /* Only the retransmitted P1 is ACKed: ambiguous, no sample (RFC 6298 3). */
  assert_int_equal(tou_sb_on_ack(&sb, P(isn, 2), NULL, 0, 100 * MS, 350 * MS, &a), TOU_OK);
  assert_false(a.has_rtt);
  /* Nor does it move RACK: 50 ms after the retransmission is less than
   * min_RTT, so the ACK was for the original (RFC 8985 6.2 step 2). */
  assert_false(a.has_rack);
  /* P2 was never retransmitted: a valid sample. */
  assert_int_equal(tou_sb_on_ack(&sb, P(isn, 3), NULL, 0, 100 * MS, 360 * MS, &a), TOU_OK);
  assert_true(a.has_rtt);
  assert_int_equal(a.rtt_us, 360 * MS);
  assert_int_equal(sb.stats.segs_retransmitted, 1);
}

/* RFC 8985 6.2 step 2 with timestamps: an ACK whose echo shows it was
 * triggered by a transmission older than the retransmission does not move
 * RACK to the retransmission's time, however long after it comes (a delay
 * spike: min_RTT alone cannot tell). */
static void timestamp_echo_tells_original_from_retransmission(void **state) {
  (void)state;
  tou_scoreboard_t sb;
  tou_sb_init(&sb, storage, CAP, MSS, 0);
  send_n(&sb, 3, 0, 0);
  assert_int_equal(tou_sb_on_retransmit(&sb, P(0, 1), 300 * MS), TOU_OK);
  tou_sb_ack_t a;
  /* 1.2 s after the retransmission, echoing the original (sent at 0 ms). */
  assert_int_equal(tou_sb_on_ack_ts(&sb, P(0, 2), NULL, 0, 40 * MS, 0, 1500 * MS, &a), TOU_OK);
  assert_false(a.has_rack);
  /* Echoing the retransmission's millisecond: it is the retransmission's. */
  assert_int_equal(tou_sb_on_retransmit(&sb, P(0, 2), 1600 * MS), TOU_OK);
  assert_int_equal(tou_sb_on_ack_ts(&sb, P(0, 3), NULL, 0, 40 * MS, 1600, 1700 * MS, &a), TOU_OK);
  assert_true(a.has_rack);
  assert_int_equal(a.rack_xmit_us, 1600 * MS);
  /* Without an echo, the min_RTT rule alone (100 ms > 40 ms): taken. */
  assert_int_equal(tou_sb_on_retransmit(&sb, P(0, 3), 1700 * MS), TOU_OK);
  assert_int_equal(tou_sb_on_ack_ts(&sb, P(0, 4), NULL, 0, 40 * MS, TOU_SB_NO_ECHO, 1800 * MS, &a),
                   TOU_OK);
  assert_true(a.has_rack);
}

/* Undo of loss marks (undo.h): nothing is owed any more, pipe unchanged
 * for segments already retransmitted. */
static void unmark_lost(void **state) {
  (void)state;
  tou_scoreboard_t sb;
  tou_sb_init(&sb, storage, CAP, MSS, 0);
  send_n(&sb, 4, 0, 0);
  assert_true(tou_sb_mark_lost(&sb, tou_sb_at(&sb, 0)));
  assert_true(tou_sb_mark_lost(&sb, tou_sb_at(&sb, 1)));
  assert_true(tou_sb_mark_lost(&sb, tou_sb_at(&sb, 2)));
  assert_int_equal(tou_sb_on_retransmit(&sb, P(0, 1), 10 * MS), TOU_OK);
  assert_int_equal(tou_sb_in_flight(&sb), 2 * MSS);
  assert_int_equal(tou_sb_unmark_lost(&sb), 3);
  assert_null(tou_sb_next_lost(&sb));
  assert_int_equal(sb.lost_bytes, 0);
  assert_int_equal(tou_sb_in_flight(&sb), 4 * MSS);
}

static void loss_marks_and_pipe(void **state) {
  (void)state;
  tou_scoreboard_t sb;
  const tou_seq_t isn = 0;
  tou_sb_init(&sb, storage, CAP, MSS, isn);
  send_n(&sb, 4, 0, 0);
  assert_null(tou_sb_next_lost(&sb));
  tou_sb_seg_t *p2 = tou_sb_find(&sb, P(isn, 2));
  assert_non_null(p2);
  assert_null(tou_sb_find(&sb, P(isn, 2) + 1));
  /* Marked lost: out of the pipe (RFC 6675), first to retransmit. */
  assert_true(tou_sb_mark_lost(&sb, p2));
  assert_false(tou_sb_mark_lost(&sb, p2));
  assert_int_equal(tou_sb_in_flight(&sb), 3000);
  assert_int_equal(sb.lost_bytes, 1000);
  assert_ptr_equal(tou_sb_next_lost(&sb), p2);
  /* Retransmitted: back in the pipe, nothing left to retransmit. */
  assert_int_equal(tou_sb_on_retransmit(&sb, P(isn, 2), 10 * MS), TOU_OK);
  assert_int_equal(tou_sb_in_flight(&sb), 4000);
  assert_null(tou_sb_next_lost(&sb));
  /* The retransmission is lost too: retransmittable again. */
  assert_true(tou_sb_mark_lost(&sb, p2));
  assert_ptr_equal(tou_sb_next_lost(&sb), p2);
  assert_int_equal(tou_sb_in_flight(&sb), 3000);
  assert_int_equal(sb.stats.segs_lost, 2);
  /* A SACKed segment cannot be marked lost. */
  tou_sack_block_t b[] = {{P(isn, 3), P(isn, 4)}};
  tou_sb_ack_t a;
  assert_int_equal(ack(&sb, isn, b, 1, 20 * MS, &a), TOU_OK);
  assert_false(tou_sb_mark_lost(&sb, tou_sb_find(&sb, P(isn, 3))));
  assert_int_equal(tou_sb_in_flight(&sb), 2000);
  /* SACK of a lost segment removes its lost mark from the counters. */
  tou_sack_block_t b2[] = {{P(isn, 2), P(isn, 4)}};
  assert_int_equal(ack(&sb, isn, b2, 1, 21 * MS, &a), TOU_OK);
  assert_int_equal(sb.lost_bytes, 0);
  assert_null(tou_sb_next_lost(&sb));
}

static void reordering_detected(void **state) {
  (void)state;
  tou_scoreboard_t sb;
  const tou_seq_t isn = 0;
  tou_sb_init(&sb, storage, CAP, MSS, isn);
  send_n(&sb, 6, 0, 1 * MS);
  tou_sb_ack_t a;
  tou_sack_block_t b1[] = {{P(isn, 5), P(isn, 6)}};
  assert_int_equal(ack(&sb, isn, b1, 1, 100 * MS, &a), TOU_OK);
  assert_false(a.reordering);
  /* Several new blocks in one ACK are not compared with each other. */
  tou_sack_block_t b2[] = {{P(isn, 6), P(isn, 7)}, {P(isn, 5), P(isn, 6)}};
  assert_int_equal(ack(&sb, isn, b2, 2, 101 * MS, &a), TOU_OK);
  assert_false(a.reordering);
  /* P3, never retransmitted, arrives below fack: reordering. */
  tou_sack_block_t b3[] = {{P(isn, 3), P(isn, 4)}, {P(isn, 5), P(isn, 7)}};
  assert_int_equal(ack(&sb, isn, b3, 2, 102 * MS, &a), TOU_OK);
  assert_true(a.reordering);
  assert_int_equal(sb.stats.reordering_seen, 1);
  /* A retransmitted segment filling the hole is not reordering. */
  assert_int_equal(tou_sb_on_retransmit(&sb, P(isn, 1), 103 * MS), TOU_OK);
  assert_int_equal(ack(&sb, P(isn, 2), b3, 2, 210 * MS, &a), TOU_OK);
  assert_false(a.reordering);
}

static void capacity_bounded(void **state) {
  (void)state;
  tou_scoreboard_t sb;
  tou_sb_seg_t small[3];
  tou_sb_init(&sb, small, 3, MSS, 0);
  send_n(&sb, 3, 0, 0);
  assert_true(tou_sb_full(&sb));
  assert_int_equal(tou_sb_on_send(&sb, sb.snd_nxt, MSS, 0), TOU_ERR_NOMEM);
  assert_int_equal(tou_sb_on_send(&sb, sb.snd_nxt + 1, MSS, 0), TOU_ERR_INVAL);
  tou_sb_ack_t a;
  assert_int_equal(ack(&sb, MSS, NULL, 0, 1, &a), TOU_OK);
  /* The ring wraps. */
  for (int i = 0; i < 20; i++) {
    assert_int_equal(tou_sb_on_send(&sb, sb.snd_nxt, MSS, 2), TOU_OK);
    assert_int_equal(ack(&sb, sb.snd_una + MSS, NULL, 0, 3, &a), TOU_OK);
    assert_int_equal(a.newly_acked, MSS);
  }
  assert_int_equal(sb.count, 2);
  assert_int_equal(tou_sb_in_flight(&sb), 2000);
}

/* An allocator that counts live blocks and can be told to fail. */
typedef struct grow_alloc {
  int live;
  bool fail;
} grow_alloc_t;
static void *ga_alloc(void *ctx, size_t n) {
  grow_alloc_t *g = ctx;
  if (g->fail) return NULL;
  g->live++;
  return malloc(n);
}
static void ga_free(void *ctx, void *p) {
  ((grow_alloc_t *)ctx)->live--;
  free(p);
}

/* Every entry is where the sequence says, and the counters match them. */
static void assert_in_order(tou_scoreboard_t *sb) {
  uint64_t out = 0;
  for (uint32_t i = 0; i < sb->count; i++) {
    tou_sb_seg_t *s = tou_sb_at(sb, i);
    assert_int_equal(s->seq, sb->snd_una + (tou_seq_t)out);
    out += s->len;
  }
  assert_int_equal(out, sb->outstanding);
  assert_int_equal(sb->snd_una + (tou_seq_t)out, sb->snd_nxt);
}

/* The ring doubles when an entry fills it, up to its bound, keeping the
 * entries in order across the wrap point of the old ring (memory follows
 * the flight, not the send buffer). */
static void grows_on_demand(void **state) {
  (void)state;
  grow_alloc_t g = {0};
  tou_allocator_t al = {ga_alloc, ga_free, &g};
  tou_scoreboard_t sb;
  tou_sb_init(&sb, ga_alloc(&g, 4 * sizeof(tou_sb_seg_t)), 4, MSS, 7000);
  tou_sb_set_growth(&sb, &al, 40);
  send_n(&sb, 3, 0, 0);
  tou_sb_ack_t a;
  assert_int_equal(ack(&sb, P(7000, 3), NULL, 0, 1, &a), TOU_OK); /* head moves: wrap */
  send_n(&sb, 3, 2, 0); /* 4 entries, across the wrap: the ring fills and doubles */
  assert_int_equal(sb.cap, 8);
  assert_int_equal(sb.count, 4);
  assert_false(tou_sb_full(&sb));
  assert_in_order(&sb);
  uint32_t caps[] = {8, 16, 32, 40, 40};
  unsigned k = 0;
  while (!tou_sb_full(&sb)) {
    send_n(&sb, 1, 3, 0);
    assert_in_order(&sb);
    if (sb.count == caps[k]) {
      k++;
      assert_int_equal(sb.cap, caps[k]); /* grown at the moment it filled */
    }
  }
  assert_int_equal(sb.cap, 40);
  assert_int_equal(sb.count, 40); /* the bound: full, as a fixed ring */
  assert_int_equal(tou_sb_on_send(&sb, sb.snd_nxt, MSS, 4), TOU_ERR_NOMEM);
  assert_int_equal(tou_sb_in_flight(&sb), 40 * MSS);
  assert_int_equal(g.live, 1); /* every old ring freed */
  assert_int_equal(ack(&sb, sb.snd_nxt, NULL, 0, 5, &a), TOU_OK);
  assert_true(tou_sb_empty(&sb));
  ga_free(&g, sb.segs);
  assert_int_equal(g.live, 0);
}

/* A failed allocation leaves the ring full and intact (sending waits for
 * ACKs); growing is tried again when it fills next. A split grows it too. */
static void growth_failure_and_split(void **state) {
  (void)state;
  grow_alloc_t g = {0};
  tou_allocator_t al = {ga_alloc, ga_free, &g};
  tou_scoreboard_t sb;
  tou_sb_init(&sb, ga_alloc(&g, 4 * sizeof(tou_sb_seg_t)), 4, MSS, 0);
  tou_sb_set_growth(&sb, &al, 64);
  g.fail = true;
  send_n(&sb, 4, 0, 0);
  assert_true(tou_sb_full(&sb));
  assert_int_equal(sb.cap, 4);
  assert_int_equal(tou_sb_on_send(&sb, sb.snd_nxt, MSS, 1), TOU_ERR_NOMEM);
  assert_in_order(&sb);
  g.fail = false;
  tou_sb_ack_t a;
  assert_int_equal(ack(&sb, P(0, 2), NULL, 0, 2, &a), TOU_OK);
  send_n(&sb, 1, 3, 0); /* fills it again: now it grows */
  assert_int_equal(sb.cap, 8);
  assert_in_order(&sb);
  send_n(&sb, 3, 4, 0); /* 7 entries */
  assert_int_equal(tou_sb_split(&sb, P(0, 3), 400), TOU_OK); /* the 8th: grows */
  assert_int_equal(sb.count, 8);
  assert_int_equal(sb.cap, 16);
  assert_in_order(&sb);
  assert_int_equal(tou_sb_at(&sb, 1)->len, 400);
  assert_int_equal(tou_sb_in_flight(&sb), 7 * MSS);
  assert_int_equal(g.live, 1);
  ga_free(&g, sb.segs);
}

static void sequence_wraparound(void **state) {
  (void)state;
  tou_scoreboard_t sb;
  const tou_seq_t isn = UINT32_MAX - 2500;
  tou_sb_init(&sb, storage, CAP, MSS, isn);
  send_n(&sb, 6, 0, 0);
  tou_sb_ack_t a;
  tou_sack_block_t b[] = {{P(isn, 4), P(isn, 6)}}; /* spans the wrap */
  assert_int_equal(ack(&sb, isn, b, 1, 10, &a), TOU_OK);
  assert_int_equal(a.newly_sacked, 2000);
  assert_int_equal(ack(&sb, P(isn, 4), NULL, 0, 11, &a), TOU_OK);
  assert_int_equal(a.newly_acked, 3000);
  assert_int_equal(tou_sb_in_flight(&sb), 1000);
  assert_non_null(tou_sb_find(&sb, P(isn, 6)));
}

static void partial_segment_ack(void **state) {
  (void)state;
  tou_scoreboard_t sb;
  tou_sb_init(&sb, storage, CAP, MSS, 0);
  send_n(&sb, 2, 0, 0);
  tou_sb_ack_t a;
  assert_int_equal(ack(&sb, 400, NULL, 0, 10, &a), TOU_OK);
  assert_int_equal(a.newly_acked, 400);
  assert_int_equal(sb.count, 2);
  assert_int_equal(tou_sb_at(&sb, 0)->seq, 400);
  assert_int_equal(tou_sb_at(&sb, 0)->len, 600);
  assert_int_equal(tou_sb_in_flight(&sb), 1600);
  assert_int_equal(ack(&sb, 2000, NULL, 0, 11, &a), TOU_OK);
  assert_int_equal(a.newly_acked, 1600);
  assert_true(tou_sb_empty(&sb));
}

static void dupack_credit(void **state) {
  (void)state;
  tou_scoreboard_t sb;
  tou_sb_init(&sb, storage, CAP, MSS, 0);
  send_n(&sb, 4, 0, 0);
  tou_sb_on_dupack(&sb);
  tou_sb_on_dupack(&sb);
  assert_int_equal(tou_sb_in_flight(&sb), 2000);
  /* Never more than outstanding - 1 MSS. */
  for (int i = 0; i < 10; i++) tou_sb_on_dupack(&sb);
  assert_int_equal(tou_sb_in_flight(&sb), 1000);
  /* A cumulative ACK consumes the credit. */
  tou_sb_ack_t a;
  assert_int_equal(ack(&sb, 2000, NULL, 0, 10, &a), TOU_OK);
  assert_int_equal(sb.reno_sacked, 1000);
  assert_int_equal(tou_sb_in_flight(&sb), 1000);
}

static void delivery_rate(void **state) {
  (void)state;
  tou_scoreboard_t sb;
  tou_sb_init(&sb, storage, CAP, MSS, 0);
  /* 10 segments back to back at 0, all ACKed at 100 ms: 10 000 bytes over
   * max(send_elapsed 0, ack_elapsed 100 ms) = 100 000 B/s. */
  send_n(&sb, 10, 0, 0);
  tou_sb_ack_t a;
  assert_int_equal(tou_sb_on_ack(&sb, 10000, NULL, 0, 50 * MS, 100 * MS, &a), TOU_OK);
  assert_int_equal(a.rate_delivered, 10000);
  assert_int_equal(a.rate_interval_us, 100 * MS);
  assert_int_equal(sb.stats.delivery_rate, 100000);
  /* Steady flow: one segment per ms, ACKs one RTT (100 ms) later: the rate
   * converges to 1000 bytes/ms = 1 000 000 B/s. */
  uint64_t t = 100 * MS;
  for (int i = 0; i < 10; i++) assert_int_equal(tou_sb_on_send(&sb, sb.snd_nxt, MSS, t + (uint64_t)i * MS), TOU_OK);
  for (int i = 0; i < 200; i++) {
    uint64_t now = t + (uint64_t)(i + 10) * MS;
    assert_int_equal(tou_sb_on_ack(&sb, sb.snd_una + MSS, NULL, 0, 5 * MS, now, &a), TOU_OK);
    assert_int_equal(tou_sb_on_send(&sb, sb.snd_nxt, MSS, now), TOU_OK);
  }
  assert_in_range(sb.stats.delivery_rate, 950000, 1050000);
}

/* A retransmission that must shrink: the entry is split in two, each half
 * keeping the marks, and the counters (pipe, lost bytes) do not move. */
static void split_keeps_accounting(void **state) {
  (void)state;
  tou_scoreboard_t sb;
  const tou_seq_t isn = 5000;
  tou_sb_init(&sb, storage, CAP, MSS, isn);
  send_n(&sb, 4, 0, 1 * MS);
  assert_true(tou_sb_mark_lost(&sb, tou_sb_find(&sb, P(isn, 2))));
  uint64_t pipe = sb.in_flight, lost = sb.lost_bytes;
  assert_int_equal(tou_sb_split(&sb, P(isn, 2), 600), TOU_OK);
  assert_int_equal(sb.count, 5);
  assert_int_equal(sb.in_flight, pipe);
  assert_int_equal(sb.lost_bytes, lost);
  tou_sb_seg_t *first = tou_sb_at(&sb, 1), *rest = tou_sb_at(&sb, 2);
  assert_int_equal(first->seq, P(isn, 2));
  assert_int_equal(first->len, 600);
  assert_int_equal(rest->seq, P(isn, 2) + 600);
  assert_int_equal(rest->len, 400);
  assert_true(first->flags & TOU_SB_LOST);
  assert_true(rest->flags & TOU_SB_LOST);
  assert_int_equal(tou_sb_at(&sb, 3)->seq, P(isn, 3));
  /* The first part is resent; the rest is still owed. */
  assert_int_equal(tou_sb_on_retransmit(&sb, P(isn, 2), 10 * MS), TOU_OK);
  assert_ptr_equal(tou_sb_next_lost(&sb), rest);
  assert_int_equal(tou_sb_split(&sb, P(isn, 2) + 1, 10), TOU_ERR_INVAL); /* no entry there */
  assert_int_equal(tou_sb_split(&sb, P(isn, 3), 0), TOU_ERR_INVAL);
  assert_int_equal(tou_sb_split(&sb, P(isn, 3), MSS), TOU_ERR_INVAL);
  /* An ACK of everything retires both halves. */
  tou_sb_ack_t a;
  assert_int_equal(ack(&sb, P(isn, 5), NULL, 0, 20 * MS, &a), TOU_OK);
  assert_int_equal(a.newly_acked, 4 * MSS);
  assert_int_equal(sb.count, 0);
  assert_int_equal(sb.in_flight, 0);
  assert_int_equal(sb.lost_bytes, 0);
}

/* A full scoreboard cannot split (the caller falls back). */
static void split_refused_when_full(void **state) {
  (void)state;
  tou_scoreboard_t sb;
  tou_sb_init(&sb, storage, CAP, MSS, 0);
  send_n(&sb, CAP, 0, 1 * MS);
  assert_int_equal(tou_sb_split(&sb, 0, 100), TOU_ERR_NOMEM);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(send_and_cumulative_ack),
      cmocka_unit_test(sack_blocks),
      cmocka_unit_test(dsack_detection),
      cmocka_unit_test(karn_no_sample_from_retransmission),
      cmocka_unit_test(loss_marks_and_pipe),
      cmocka_unit_test(reordering_detected),
      cmocka_unit_test(capacity_bounded),
      cmocka_unit_test(grows_on_demand),
      cmocka_unit_test(growth_failure_and_split),
      cmocka_unit_test(sequence_wraparound),
      cmocka_unit_test(partial_segment_ack),
      cmocka_unit_test(dupack_credit),
      cmocka_unit_test(delivery_rate),
      cmocka_unit_test(split_keeps_accounting),
      cmocka_unit_test(split_refused_when_full),
      cmocka_unit_test(timestamp_echo_tells_original_from_retransmission),
      cmocka_unit_test(unmark_lost),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

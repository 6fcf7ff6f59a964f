/* The gathered send (tou_ep_output_gather) across the send buffer ring's
 * wrap point: a sender with a 4 KiB ring keeps it nearly full, so its
 * write position wraps every few segments and many segments straddle the
 * ring's end. Each such segment must come as two pieces, never copied,
 * whose concatenation is exactly the stream's bytes at its sequence number
 * (first sends and retransmissions alike), counted in datagrams_gathered;
 * and the datagrams must be byte for byte those tou_ep_output() writes.
 * A (node 0) receives, B (node 1) sends. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "conn.h"
#include "pair.h"

#define MS 1000ull
#define RING 4096u
#define TOTAL (256u * 1024)

static uint8_t pattern[TOTAL];
static uint8_t got[TOTAL];

typedef struct gather_check {
  tou_seq_t first_seq;   /* B's first data byte (ISS + 1) */
  tou_seq_t max_end;     /* highest payload end seen: below it, a retransmission */
  uint64_t split;        /* two-piece datagrams checked */
  uint64_t split_rtx;    /* of those, retransmissions */
  uint64_t bytes_checked;
  bool drop_next_split;  /* drop the next first-sent two-piece datagram once */
  bool drop_now;
  tou_seq_t dropped_seq;
  unsigned drop_every;   /* also drop every n-th data datagram of B (0: none) */
  unsigned data_seen;
} gather_check_t;

static gather_check_t chk;

/* Every gathered datagram of B: decodes (checksum over both pieces), and
 * each piece holds the stream's bytes where the sequence number says. */
static void on_gather(pair_t *p, int i, const uint8_t *dgram, size_t len,
                      const tou_payload_ref_t *ref) {
  (void)p;
  if (i != 1) return;
  tou_segment_t seg;
  assert_int_equal(tou_wire_decode(dgram, len, &seg), TOU_OK);
  assert_int_equal(tou_payload_len(ref), seg.payload_len);
  size_t off = (size_t)(tou_seq_t)(seg.seq - chk.first_seq);
  assert_true(off + seg.payload_len <= TOTAL);
  assert_memory_equal(ref->data[0], pattern + off, ref->len[0]);
  if (ref->len[1] > 0) {
    assert_memory_equal(ref->data[1], pattern + off + ref->len[0], ref->len[1]);
    /* Two pieces only at the ring's end: the first runs up to it, the
     * second starts at the ring's start. */
    assert_ptr_equal(ref->data[0] + ref->len[0], ref->data[1] + RING);
  }
  chk.bytes_checked += seg.payload_len;
  tou_seq_t end = seg.seq + (tou_seq_t)seg.payload_len;
  bool rtx = seq_lt(seg.seq, chk.max_end);
  if (!rtx) chk.max_end = end;
  if (ref->len[1] == 0) return;
  chk.split++;
  if (rtx) chk.split_rtx++;
  if (!rtx && chk.drop_next_split) {
    chk.drop_next_split = false;
    chk.drop_now = true;
    chk.dropped_seq = seg.seq;
  }
}

/* Drops the datagram on_gather chose (its retransmission straddles the
 * same ring position: the ring does not move until it is acknowledged). */
static bool drop_chosen(pair_t *p, int from, const tou_segment_t *seg) {
  (void)p;
  if (from != 1 || seg->payload_len == 0) return false;
  if (chk.drop_every && ++chk.data_seen % chk.drop_every == 0) return true;
  if (!chk.drop_now) return false;
  chk.drop_now = false;
  assert_int_equal(seg->seq, chk.dropped_seq);
  return true;
}

/* B sends TOTAL bytes through its 4 KiB ring, keeping it full; A reads
 * every millisecond. drop_one: the first two-piece datagram is lost once;
 * drop_every: so is every n-th data datagram. Returns the hash of every
 * datagram both sent. */
static uint64_t run(bool gather, bool drop_one, unsigned drop_every, pair_t *p) {
  for (size_t k = 0; k < TOTAL; k++) pattern[k] = (uint8_t)(k * 7 + k / 251);
  memset(&chk, 0, sizeof chk);
  pair_init(p, 5 * MS);
  p->cfg[1].send_buffer = RING;
  p->gather[0] = p->gather[1] = gather;
  p->on_gather = on_gather;
  pair_start(p);
  tou_conn_t *a, *b;
  pair_connect(p, &a, &b);
  assert_non_null(a);
  assert_non_null(b);
  chk.first_seq = b->iss + 1;
  chk.max_end = chk.first_seq;
  chk.drop_next_split = drop_one;
  chk.drop_every = drop_every;
  p->filter = drop_chosen;
  size_t sent = 0, recvd = 0;
  for (int round = 0; round < 200000 && recvd < TOTAL; round++) {
    while (sent < TOTAL) {
      int n = tou_conn_send(b, p->now, pattern + sent, TOTAL - sent);
      if (n <= 0) break;
      sent += (size_t)n;
    }
    pair_run(p, 1 * MS);
    recvd += pair_read_all(p, a, got + recvd, TOTAL - recvd, NULL);
  }
  assert_int_equal(recvd, TOTAL);
  assert_memory_equal(got, pattern, TOTAL);
  return p->sent_hash[1] ^ (p->sent_hash[0] << 1);
}

/* Segments across the wrap point come in two pieces with the right bytes,
 * a lost one is resent in two pieces as well, and the endpoint counts
 * every payload datagram as gathered (none was copied). */
static void wrapped_segments_in_two_pieces(void **state) {
  (void)state;
  pair_t p;
  run(true, true, 0, &p);
  tou_ep_stats_t st;
  tou_ep_get_stats(p.ep[1], &st);
  print_message("B: %llu datagrams, %llu gathered, %llu in two pieces (%llu resent)\n",
                (unsigned long long)st.datagrams_out, (unsigned long long)st.datagrams_gathered,
                (unsigned long long)chk.split, (unsigned long long)chk.split_rtx);
  assert_true(chk.split >= TOTAL / RING / 2);
  assert_true(chk.split_rtx >= 1);
  assert_int_equal(p.gathered_split[1], chk.split);
  assert_int_equal(st.datagrams_gathered, p.gathered[1]);
  assert_true(chk.bytes_checked >= TOTAL);
  /* Every datagram with payload was gathered: at least one per MSS. */
  assert_true(st.datagrams_gathered >= TOTAL / p.cfg[1].mss);
  pair_free(&p);
}

/* The same transfer, with losses (every 37th data datagram) so that some
 * retransmissions straddle the wrap point too, sent with tou_ep_output()
 * (payload copied into buf) and gathered: the same datagrams, byte for
 * byte — the two-piece checksum is the one a contiguous payload gets. */
static void wrapped_same_datagrams_as_copied(void **state) {
  (void)state;
  pair_t p;
  uint64_t copied = run(false, false, 37, &p);
  unsigned sent = p.sent[1];
  assert_int_equal(p.gathered[1], 0);
  pair_free(&p);
  uint64_t gathered = run(true, false, 37, &p);
  print_message("B: %u datagrams, %llu in two pieces (%llu resent)\n", p.sent[1],
                (unsigned long long)chk.split, (unsigned long long)chk.split_rtx);
  assert_int_equal(p.sent[1], sent);
  assert_true(chk.split > 0);
  assert_true(chk.split_rtx > 0);
  assert_true(copied == gathered);
  pair_free(&p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(wrapped_segments_in_two_pieces),
      cmocka_unit_test(wrapped_same_datagrams_as_copied),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

#include "scoreboard.h"

#include <string.h>

#include "alloc.h"
#include "error.h"

static tou_seq_t seg_end(const tou_sb_seg_t *s) { return s->seq + s->len; }

/* What an entry contributes to each counter, so every flag change is a
 * subtract-modify-add and the counters can never drift. */
static uint64_t pipe_bytes(const tou_sb_seg_t *s) {
  if (s->flags & TOU_SB_SACKED) return 0;
  if ((s->flags & TOU_SB_LOST) && !(s->flags & TOU_SB_RETRANS_OUT)) return 0;
  return s->len;
}
static uint64_t lost_bytes(const tou_sb_seg_t *s) {
  if (s->flags & (TOU_SB_SACKED | TOU_SB_RETRANS_OUT)) return 0;
  return (s->flags & TOU_SB_LOST) ? s->len : 0;
}
static uint64_t sacked_bytes(const tou_sb_seg_t *s) {
  return (s->flags & TOU_SB_SACKED) ? s->len : 0;
}

static void unaccount(tou_scoreboard_t *sb, const tou_sb_seg_t *s) {
  sb->in_flight -= pipe_bytes(s);
  sb->lost_bytes -= lost_bytes(s);
  sb->sacked_bytes -= sacked_bytes(s);
  if (s->flags & TOU_SB_SACKED) sb->sacked_segs--;
  if (s->flags & TOU_SB_EVER_RETRANS) sb->retrans_segs--;
}
static void account(tou_scoreboard_t *sb, const tou_sb_seg_t *s) {
  sb->in_flight += pipe_bytes(s);
  sb->lost_bytes += lost_bytes(s);
  sb->sacked_bytes += sacked_bytes(s);
  if (s->flags & TOU_SB_SACKED) sb->sacked_segs++;
  if (s->flags & TOU_SB_EVER_RETRANS) sb->retrans_segs++;
}

void tou_sb_init(tou_scoreboard_t *sb, tou_sb_seg_t *segs, uint32_t cap, uint32_t mss,
                 tou_seq_t isn) {
  *sb = (tou_scoreboard_t){0};
  sb->segs = segs;
  sb->cap = cap;
  sb->mss = mss ? mss : 1;
  sb->snd_una = sb->snd_nxt = isn;
}

void tou_sb_set_growth(tou_scoreboard_t *sb, const struct tou_allocator *alloc, uint32_t max_cap) {
  sb->alloc = alloc;
  sb->max_cap = max_cap > sb->cap ? max_cap : sb->cap;
}

/* The ring just filled: move the entries, in order, to the start of one
 * twice as large. Failure leaves everything as it was. */
static void grow_if_full(tou_scoreboard_t *sb) {
  if (sb->count < sb->cap || sb->alloc == NULL || sb->cap >= sb->max_cap) return;
  uint64_t want = (uint64_t)sb->cap * 2;
  uint32_t cap = want > sb->max_cap ? sb->max_cap : (uint32_t)want;
  tou_sb_seg_t *segs = tou_mem_alloc(sb->alloc, (size_t)cap * sizeof *segs);
  if (segs == NULL) return;
  uint32_t first = sb->cap - sb->head < sb->count ? sb->cap - sb->head : sb->count;
  memcpy(segs, sb->segs + sb->head, (size_t)first * sizeof *segs);
  memcpy(segs + first, sb->segs, (size_t)(sb->count - first) * sizeof *segs);
  tou_mem_free(sb->alloc, sb->segs);
  sb->segs = segs;
  sb->cap = cap;
  sb->head = 0;
}

/* Delivery-rate bookkeeping at each (re)transmission (draft-cheng-iccrg-
 * delivery-rate-estimation 3.2): snapshot the delivered count. */
static void snapshot(tou_scoreboard_t *sb, tou_sb_seg_t *s, uint64_t now) {
  if (sb->in_flight == 0) sb->first_tx_us = sb->delivered_us = now;
  s->delivered = sb->delivered;
  s->delivered_us = sb->delivered_us;
  s->first_tx_us = sb->first_tx_us;
  s->xmit_us = now;
  if (sb->app_limited_until) s->flags |= TOU_SB_APP_LIMITED;
  else s->flags &= (uint8_t)~TOU_SB_APP_LIMITED;
}

int tou_sb_on_send(tou_scoreboard_t *sb, tou_seq_t seq, uint32_t len, uint64_t now) {
  if (len == 0 || seq != sb->snd_nxt) return TOU_ERR_INVAL;
  if (tou_sb_full(sb)) return TOU_ERR_NOMEM;
  tou_sb_seg_t *s = &sb->segs[(sb->head + sb->count) % sb->cap];
  *s = (tou_sb_seg_t){.seq = seq, .len = len, .xmits = 1};
  snapshot(sb, s, now);
  sb->count++;
  sb->snd_nxt = seq + len;
  sb->outstanding += len;
  account(sb, s);
  sb->stats.segs_sent++;
  grow_if_full(sb);
  return TOU_OK;
}

tou_sb_seg_t *tou_sb_find(tou_scoreboard_t *sb, tou_seq_t seq) {
  uint32_t lo = 0, hi = sb->count;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    tou_sb_seg_t *s = tou_sb_at(sb, mid);
    if (s->seq == seq) return s;
    if (seq_lt(s->seq, seq)) lo = mid + 1;
    else hi = mid;
  }
  return NULL;
}

int tou_sb_split(tou_scoreboard_t *sb, tou_seq_t seq, uint32_t first_len) {
  tou_sb_seg_t *s = tou_sb_find(sb, seq);
  if (!s || first_len == 0 || first_len >= s->len) return TOU_ERR_INVAL;
  if (tou_sb_full(sb)) return TOU_ERR_NOMEM;
  uint32_t i = (uint32_t)((size_t)(s - sb->segs) + sb->cap - sb->head) % sb->cap;
  for (uint32_t j = sb->count; j > i + 1; j--) *tou_sb_at(sb, j) = *tou_sb_at(sb, j - 1);
  unaccount(sb, s);
  tou_sb_seg_t *t = tou_sb_at(sb, i + 1);
  *t = *s;
  t->seq = seq + first_len;
  t->len = s->len - first_len;
  s->len = first_len;
  sb->count++;
  account(sb, s);
  account(sb, t);
  grow_if_full(sb);
  return TOU_OK;
}

int tou_sb_on_retransmit(tou_scoreboard_t *sb, tou_seq_t seq, uint64_t now) {
  tou_sb_seg_t *s = tou_sb_find(sb, seq);
  if (!s) return TOU_ERR_INVAL;
  unaccount(sb, s);
  /* Only a retransmission of a segment believed lost puts bytes back in
   * flight; re-sending one that is still counted (TLP, RTO) does not. */
  if (s->flags & TOU_SB_LOST) s->flags |= TOU_SB_RETRANS_OUT;
  s->flags |= TOU_SB_EVER_RETRANS;
  if (s->xmits < UINT8_MAX) s->xmits++;
  snapshot(sb, s, now);
  account(sb, s);
  sb->stats.segs_retransmitted++;
  return TOU_OK;
}

bool tou_sb_mark_lost(tou_scoreboard_t *sb, tou_sb_seg_t *s) {
  if (s->flags & TOU_SB_SACKED) return false;
  if ((s->flags & TOU_SB_LOST) && !(s->flags & TOU_SB_RETRANS_OUT)) return false;
  unaccount(sb, s);
  s->flags |= TOU_SB_LOST;
  s->flags &= (uint8_t)~TOU_SB_RETRANS_OUT; /* a lost retransmission must go again */
  account(sb, s);
  sb->stats.segs_lost++;
  return true;
}

uint32_t tou_sb_unmark_lost(tou_scoreboard_t *sb) {
  uint32_t n = 0;
  for (uint32_t i = 0; i < sb->count; i++) {
    tou_sb_seg_t *s = tou_sb_at(sb, i);
    if (!(s->flags & TOU_SB_LOST)) continue;
    unaccount(sb, s);
    s->flags &= (uint8_t)~(TOU_SB_LOST | TOU_SB_RETRANS_OUT);
    account(sb, s);
    n++;
  }
  return n;
}

tou_sb_seg_t *tou_sb_next_lost(tou_scoreboard_t *sb) {
  if (sb->lost_bytes == 0) return NULL;
  for (uint32_t i = 0; i < sb->count; i++) {
    tou_sb_seg_t *s = tou_sb_at(sb, i);
    if (lost_bytes(s)) return s;
  }
  return NULL;
}

uint64_t tou_sb_in_flight(const tou_scoreboard_t *sb) {
  return sb->in_flight > sb->reno_sacked ? sb->in_flight - sb->reno_sacked : 0;
}

void tou_sb_on_dupack(tou_scoreboard_t *sb) {
  uint64_t limit = sb->outstanding > sb->mss ? sb->outstanding - sb->mss : 0;
  uint64_t credit = (uint64_t)sb->reno_sacked + sb->mss;
  sb->reno_sacked = (uint32_t)(credit < limit ? credit : limit);
}

void tou_sb_on_app_limited(tou_scoreboard_t *sb) {
  uint64_t mark = sb->delivered + sb->in_flight;
  sb->app_limited_until = mark ? mark : 1;
}

/* RACK_sent_after (RFC 8985 6.2): later transmission, ties by sequence. */
static bool sent_after(uint64_t t1, tou_seq_t end1, uint64_t t2, tou_seq_t end2) {
  return t1 > t2 || (t1 == t2 && seq_gt(end1, end2));
}

/* Per-ACK scratch while segments are delivered. */
typedef struct delivery {
  tou_sb_ack_t *out;
  uint64_t now, min_rtt;
  uint64_t echo_ms; /* millisecond the triggering segment left, or TOU_SB_NO_ECHO */
  bool fack_valid;
  tou_seq_t fack_before;
  bool have_rtt_seg;
  uint64_t rtt_xmit;
  bool have_rate;
  uint64_t rate_prior_delivered, rate_prior_us, rate_send_elapsed, rate_ack_elapsed;
  bool rate_app_limited;
} delivery_t;

/* A segment reached the receiver (first time: cumulative ACK or SACK). */
static void deliver(tou_scoreboard_t *sb, delivery_t *d, const tou_sb_seg_t *s) {
  tou_sb_ack_t *out = d->out;
  tou_seq_t end = seg_end(s);
  bool retrans = (s->flags & TOU_SB_EVER_RETRANS) != 0;

  /* RFC 8985 6.2 step 3: delivered below the highest delivered sequence
   * without having been retransmitted: the network reordered it. */
  if (d->fack_valid && seq_lt(end, d->fack_before) && !retrans) out->reordering = true;
  if (!sb->fack_valid || seq_gt(end, sb->fack)) {
    sb->fack = end;
    sb->fack_valid = true;
  }
  /* Karn (RFC 6298 3): only never-retransmitted segments give samples. */
  if (!retrans && (!d->have_rtt_seg || s->xmit_us > d->rtt_xmit)) {
    d->have_rtt_seg = true;
    d->rtt_xmit = s->xmit_us;
  }
  /* RFC 8985 6.2 step 2: an ACK arriving sooner than min_RTT after a
   * retransmission is for the original; do not let it advance RACK. */
  bool ambiguous = retrans && (d->now - s->xmit_us < d->min_rtt ||
                               (d->echo_ms != TOU_SB_NO_ECHO && d->echo_ms < s->xmit_us / 1000));
  if (!ambiguous && (!out->has_rack || sent_after(s->xmit_us, end, out->rack_xmit_us,
                                                  out->rack_end_seq))) {
    out->has_rack = true;
    out->rack_xmit_us = s->xmit_us;
    out->rack_end_seq = end;
  }
  /* Delivery rate: the most recently sent delivered segment bounds the
   * interval. */
  sb->delivered += s->len;
  sb->delivered_us = d->now;
  if (!d->have_rate || s->delivered > d->rate_prior_delivered) {
    d->have_rate = true;
    d->rate_prior_delivered = s->delivered;
    d->rate_prior_us = s->delivered_us;
    d->rate_send_elapsed = s->xmit_us - s->first_tx_us;
    d->rate_ack_elapsed = d->now - s->delivered_us;
    d->rate_app_limited = (s->flags & TOU_SB_APP_LIMITED) != 0;
    sb->first_tx_us = s->xmit_us;
  }
}

static void pop_head(tou_scoreboard_t *sb) {
  tou_sb_seg_t *s = tou_sb_at(sb, 0);
  unaccount(sb, s);
  sb->outstanding -= s->len;
  sb->head = (sb->head + 1) % sb->cap;
  sb->count--;
}

static void apply_cumulative(tou_scoreboard_t *sb, delivery_t *d, tou_seq_t ack) {
  while (sb->count) {
    tou_sb_seg_t *s = tou_sb_at(sb, 0);
    if (seq_leq(seg_end(s), ack)) {
      if (!(s->flags & TOU_SB_SACKED)) deliver(sb, d, s);
      pop_head(sb);
      continue;
    }
    if (seq_gt(ack, s->seq)) {
      /* The peer acknowledged part of a segment: keep the rest. */
      uint32_t part = (uint32_t)(ack - s->seq);
      unaccount(sb, s);
      if (!(s->flags & TOU_SB_SACKED)) {
        tou_sb_seg_t head = *s;
        head.len = part;
        deliver(sb, d, &head);
      }
      s->seq = ack;
      s->len -= part;
      sb->outstanding -= part;
      account(sb, s);
    }
    break;
  }
}

/* RFC 2883 4: the first block reports a duplicate if it lies below the
 * cumulative ACK or inside the second block. */
static bool is_dsack(const tou_sack_block_t *b, size_t n, tou_seq_t ack) {
  if (n == 0 || !seq_lt(b[0].left, b[0].right)) return false;
  if (seq_leq(b[0].right, ack)) return true;
  return n > 1 && seq_geq(b[0].left, b[1].left) && seq_leq(b[0].right, b[1].right);
}

static void apply_sack_block(tou_scoreboard_t *sb, delivery_t *d, tou_sack_block_t b) {
  if (!seq_lt(b.left, b.right) || seq_gt(b.right, sb->snd_nxt)) return; /* bogus */
  if (seq_leq(b.right, sb->snd_una)) return;
  if (seq_lt(b.left, sb->snd_una)) b.left = sb->snd_una;
  /* Binary search for the first entry starting at or after b.left. */
  uint32_t lo = 0, hi = sb->count;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (seq_lt(tou_sb_at(sb, mid)->seq, b.left)) lo = mid + 1;
    else hi = mid;
  }
  for (uint32_t i = lo; i < sb->count; i++) {
    tou_sb_seg_t *s = tou_sb_at(sb, i);
    if (seq_gt(seg_end(s), b.right)) break; /* only whole segments count */
    if (s->flags & TOU_SB_SACKED) continue;
    unaccount(sb, s);
    s->flags |= TOU_SB_SACKED;
    account(sb, s);
    d->out->newly_sacked += s->len;
    sb->stats.segs_sacked++;
    deliver(sb, d, s);
  }
}

int tou_sb_on_ack(tou_scoreboard_t *sb, tou_seq_t ack, const tou_sack_block_t *blocks,
                  size_t nblocks, uint64_t min_rtt_us, uint64_t now, tou_sb_ack_t *out) {
  return tou_sb_on_ack_ts(sb, ack, blocks, nblocks, min_rtt_us, TOU_SB_NO_ECHO, now, out);
}

bool tou_sb_ack_idle(const tou_scoreboard_t *sb, tou_seq_t ack) {
  return sb->count == 0 && ack == sb->snd_una &&
         !(sb->app_limited_until && sb->delivered > sb->app_limited_until);
}

int tou_sb_on_ack_ts(tou_scoreboard_t *sb, tou_seq_t ack, const tou_sack_block_t *blocks,
                     size_t nblocks, uint64_t min_rtt_us, uint64_t echo_ms, uint64_t now,
                     tou_sb_ack_t *out) {
  *out = (tou_sb_ack_t){0};
  if (seq_gt(ack, sb->snd_nxt)) return TOU_ERR_INVAL;
  out->prior_in_flight = (uint32_t)tou_sb_in_flight(sb);

  delivery_t d = {.out = out, .now = now, .min_rtt = min_rtt_us, .echo_ms = echo_ms,
                  .fack_valid = sb->fack_valid, .fack_before = sb->fack};
  size_t first = 0;
  if (is_dsack(blocks, nblocks, ack)) {
    out->dsack = true;
    out->dsack_left = blocks[0].left;
    out->dsack_right = blocks[0].right;
    sb->stats.dsacks++;
    first = 1;
  }
  if (seq_gt(ack, sb->snd_una)) {
    out->newly_acked = (uint32_t)(ack - sb->snd_una);
    apply_cumulative(sb, &d, ack);
    sb->snd_una = ack;
    sb->stats.bytes_acked += out->newly_acked;
    /* Cumulatively ACKed data consumes the duplicate-ACK credit. */
    sb->reno_sacked = sb->reno_sacked > out->newly_acked ? sb->reno_sacked - out->newly_acked : 0;
    if (sb->reno_sacked > sb->outstanding) sb->reno_sacked = (uint32_t)sb->outstanding;
  }
  for (size_t i = first; i < nblocks && i < TOU_WIRE_MAX_SACK; i++) {
    apply_sack_block(sb, &d, blocks[i]);
  }
  if (out->reordering) sb->stats.reordering_seen++;
  if (d.have_rtt_seg) {
    out->has_rtt = true;
    out->rtt_us = now - d.rtt_xmit;
  }
  if (d.have_rate) {
    uint64_t interval = d.rate_send_elapsed > d.rate_ack_elapsed ? d.rate_send_elapsed
                                                                 : d.rate_ack_elapsed;
    out->rate_delivered = sb->delivered - d.rate_prior_delivered;
    out->rate_interval_us = interval;
    out->rate_app_limited = d.rate_app_limited;
    /* The draft discards samples over less than min_RTT: ACK compression. */
    if (interval > 0 && interval >= min_rtt_us) {
      uint64_t rate = out->rate_delivered * 1000000u / interval;
      if (!d.rate_app_limited || rate > sb->stats.delivery_rate) sb->stats.delivery_rate = rate;
    }
  }
  if (sb->app_limited_until && sb->delivered > sb->app_limited_until) sb->app_limited_until = 0;
  return TOU_OK;
}

#include "prr.h"

/* Caps prr_delivered so prr_delivered * ssthresh (< 2^31) cannot overflow
 * 64 bits in a pathologically long recovery. */
#define PRR_DELIVERED_MAX (1ull << 32)

void tou_prr_start(tou_prr_t *p, uint32_t ssthresh, uint32_t mss, uint64_t recover_fs) {
  *p = (tou_prr_t){0};
  p->active = true;
  p->mss = mss ? mss : 1;
  p->ssthresh = ssthresh;
  p->recover_fs = recover_fs > p->mss ? recover_fs : p->mss;
}

uint64_t tou_prr_on_ack(tou_prr_t *p, uint64_t delivered_data, uint64_t pipe, bool safe_ack,
                        uint64_t cwnd_now) {
  if (!p->active) return cwnd_now;
  /* RFC 9937 6.2: an ACK that delivers nothing changes nothing. The phase's
   * first step still runs (recovery entered by the reordering timer, no
   * ACK): its fast retransmit must go. */
  if (delivered_data == 0 && p->out > 0) return cwnd_now;
  p->delivered += delivered_data;
  if (p->delivered > PRR_DELIVERED_MAX) p->delivered = PRR_DELIVERED_MAX;
  uint64_t sndcnt;
  if (pipe > p->ssthresh) {
    /* Proportional Rate Reduction: send ssthresh / RecoverFS of what was
     * delivered, rounded up (CEIL), less what already went. */
    uint64_t target = (p->delivered * p->ssthresh + p->recover_fs - 1) / p->recover_fs;
    sndcnt = target > p->out ? target - p->out : 0;
    /* The connection sends whole segments: a share short of one rounds up
     * to one, as the CEIL of implementations counting in segments does;
     * the sender runs at most one segment ahead of the exact share. */
    if (sndcnt > 0 && sndcnt < p->mss) sndcnt = p->mss;
  } else {
    /* PRR-CRB by default: send what was delivered and not yet matched by a
     * transmission, at least this ACK's delivery; PRR-SSRB on a SafeACK:
     * one SMSS more, as slow start would (RFC 9937 6.2). Never past
     * ssthresh. */
    uint64_t limit = p->delivered > p->out ? p->delivered - p->out : 0;
    if (limit < delivered_data) limit = delivered_data;
    if (safe_ack) limit += p->mss;
    uint64_t room = p->ssthresh - pipe;
    sndcnt = limit < room ? limit : room;
  }
  /* RFC 9937 6.2: the fast retransmit goes on entering recovery even when
   * the proportional share is still below one segment. */
  if (p->out == 0 && sndcnt == 0) sndcnt = p->mss;
  return pipe + sndcnt;
}

void tou_prr_on_sent(tou_prr_t *p, uint32_t len) {
  if (p->active) p->out += len;
}

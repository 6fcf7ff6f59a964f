#include "pacer.h"

#define US_PER_S 1000000ull

/* Tokens are kept in byte-microseconds (bytes * 1e6) so sub-byte accrual at
 * any rate is exact in integers. */
static uint64_t bytes_to_ub(uint64_t bytes) { return bytes * US_PER_S; }

static void update_cap(tou_pacer_t *p) {
  uint64_t cap = p->rate * p->quantum_us / US_PER_S;
  if (cap < 2ull * p->mss) cap = 2ull * p->mss;
  p->cap = cap;
}

void tou_pacer_init(tou_pacer_t *p, uint32_t mss, uint64_t initial_burst, uint64_t now) {
  *p = (tou_pacer_t){0};
  p->mss = mss ? mss : 1;
  p->quantum_us = TOU_PACER_QUANTUM_US;
  p->last_us = now;
  update_cap(p);
  p->tokens_ub = bytes_to_ub(initial_burst > p->cap ? initial_burst : p->cap);
}

uint64_t tou_pacer_rate_for(const tou_cc_t *cc, uint64_t srtt_us) {
  return tou_pacer_rate_for_flight(cc, srtt_us, 0);
}

uint64_t tou_pacer_rate_for_flight(const tou_cc_t *cc, uint64_t srtt_us, uint64_t outstanding) {
  if (srtt_us == 0) return 0;
  if (cc->ops->pacing_rate) {
    uint64_t hint = cc->ops->pacing_rate(cc, srtt_us);
    if (hint) return hint;
  }
  /* Linux (tcp_update_pacing_rate): 200 % while cwnd < ssthresh/2, else 120 %. */
  uint64_t pct = cc->cwnd < cc->ssthresh / 2 ? TOU_PACER_SS_PERCENT : TOU_PACER_CA_PERCENT;
  uint64_t window = cc->cwnd > outstanding ? cc->cwnd : outstanding;
  return window * US_PER_S / srtt_us * pct / 100;
}

/* Accrue tokens up to the cap; a bucket above the cap (initial burst) is
 * left alone until spent. */
static void refill(tou_pacer_t *p, uint64_t now) {
  if (now <= p->last_us) return;
  uint64_t dt = now - p->last_us;
  p->last_us = now;
  uint64_t cap_ub = bytes_to_ub(p->cap);
  if (p->rate == 0 || p->tokens_ub >= cap_ub) return;
  /* rate * dt overflows only after ~1.8e13 byte-seconds; an idle gap longer
   * than a second refills the bucket anyway. */
  if (dt >= US_PER_S) {
    p->tokens_ub = cap_ub;
    return;
  }
  uint64_t add = p->rate * dt; /* bytes/s * us = byte-microseconds */
  p->tokens_ub = cap_ub - p->tokens_ub < add ? cap_ub : p->tokens_ub + add;
}

void tou_pacer_set_rate(tou_pacer_t *p, uint64_t rate, uint64_t now) {
  refill(p, now);
  p->rate = rate;
  update_cap(p);
}

uint64_t tou_pacer_next_send_time(tou_pacer_t *p, uint32_t len, uint64_t now) {
  if (p->rate == 0) return now;
  refill(p, now);
  uint64_t need = bytes_to_ub(len);
  if (p->tokens_ub >= need) return now;
  uint64_t missing = need - p->tokens_ub;
  return now + (missing + p->rate - 1) / p->rate; /* round up: never early */
}

void tou_pacer_on_send(tou_pacer_t *p, uint32_t len, uint64_t now) {
  refill(p, now);
  uint64_t spend = bytes_to_ub(len);
  /* Sending ahead of the schedule (unpaced start, retransmission by RTO)
   * only empties the bucket; there is no debt to repay. */
  p->tokens_ub = p->tokens_ub > spend ? p->tokens_ub - spend : 0;
}

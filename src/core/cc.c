#include "cc.h"

#include <string.h>

static void hystart_reset(tou_cc_hystart_t *h);

static const tou_cc_ops_t *const algorithms[] = {&tou_cc_cubic_ops, &tou_cc_newreno_ops};

const tou_cc_ops_t *tou_cc_find(const char *name) {
  if (name == NULL || name[0] == '\0') return &tou_cc_cubic_ops;
  for (size_t i = 0; i < sizeof algorithms / sizeof algorithms[0]; i++) {
    if (strcmp(algorithms[i]->name, name) == 0) return algorithms[i];
  }
  return NULL;
}

void tou_cc_set_cwnd(tou_cc_t *cc, uint64_t cwnd) {
  if (cwnd < cc->mss) cwnd = cc->mss;
  if (cwnd > TOU_CC_MAX_CWND) cwnd = TOU_CC_MAX_CWND;
  cc->cwnd = (uint32_t)cwnd;
}

void tou_cc_init(tou_cc_t *cc, const tou_cc_ops_t *ops, uint32_t mss, uint64_t now) {
  memset(cc, 0, sizeof *cc);
  cc->ops = ops ? ops : &tou_cc_cubic_ops;
  cc->mss = mss ? mss : 1;
  cc->ssthresh = TOU_CC_SSTHRESH_INFINITE;
  tou_cc_set_cwnd(cc, (uint64_t)TOU_CC_INITIAL_SEGMENTS * cc->mss);
  hystart_reset(&cc->hystart);
  cc->ops->init(cc, now);
}

/* RFC 9406 section 4.2 constants. */
#define HS_MIN_RTT_THRESH_US 4000u
#define HS_MAX_RTT_THRESH_US 16000u
#define HS_MIN_RTT_DIVISOR 8u
#define HS_N_RTT_SAMPLE 8u
#define HS_CSS_GROWTH_DIVISOR 4u
#define HS_CSS_ROUNDS 5u

static void hystart_reset(tou_cc_hystart_t *h) {
  uint32_t exits = h->exits;
  *h = (tou_cc_hystart_t){0};
  h->last_round_min = h->cur_round_min = UINT64_MAX;
  h->exits = exits;
}

/* RFC 9406 4.2: a round ends when the data outstanding at its start has
 * been delivered. Returns true at a round boundary. */
static bool hystart_round(tou_cc_hystart_t *h, const tou_cc_ack_t *ack) {
  if (h->round_valid && ack->delivered < h->round_end) return false;
  h->round_valid = true;
  h->round_end = ack->delivered + ack->prior_in_flight;
  h->last_round_min = h->cur_round_min;
  h->cur_round_min = UINT64_MAX;
  h->samples = 0;
  return true;
}

/* Returns the divisor for this ACK's growth: 1 in slow start, 4 in CSS. */
static uint32_t hystart_on_ack(tou_cc_t *cc, const tou_cc_ack_t *ack) {
  tou_cc_hystart_t *h = &cc->hystart;
  bool new_round = hystart_round(h, ack);
  if (ack->rtt_us) {
    if (ack->rtt_us < h->cur_round_min) h->cur_round_min = ack->rtt_us;
    h->samples++;
  }
  if (h->in_css) {
    if (h->cur_round_min < h->css_baseline_min) {
      h->in_css = false; /* the RTT rise was spurious: back to slow start */
      return 1;
    }
    if (new_round && ++h->css_rounds >= HS_CSS_ROUNDS) {
      cc->ssthresh = cc->cwnd; /* leave slow start: congestion avoidance */
      h->in_css = false;
      h->exits++;
    }
    return HS_CSS_GROWTH_DIVISOR;
  }
  if (h->samples >= HS_N_RTT_SAMPLE && h->cur_round_min != UINT64_MAX &&
      h->last_round_min != UINT64_MAX) {
    uint64_t thresh = h->last_round_min / HS_MIN_RTT_DIVISOR;
    if (thresh < HS_MIN_RTT_THRESH_US) thresh = HS_MIN_RTT_THRESH_US;
    if (thresh > HS_MAX_RTT_THRESH_US) thresh = HS_MAX_RTT_THRESH_US;
    if (h->cur_round_min >= h->last_round_min + thresh) {
      h->in_css = true;
      h->css_baseline_min = h->cur_round_min;
      h->css_rounds = 0;
      return HS_CSS_GROWTH_DIVISOR;
    }
  }
  return 1;
}

void tou_cc_slow_start(tou_cc_t *cc, const tou_cc_ack_t *ack) {
  uint32_t divisor = hystart_on_ack(cc, ack);
  if (!tou_cc_in_slow_start(cc)) return; /* HyStart++ just ended it */
  uint64_t inc = ack->acked;
  if (inc > 2ull * cc->mss) inc = 2ull * cc->mss; /* RFC 3465 L = 2 */
  inc /= divisor;
  uint64_t cwnd = (uint64_t)cc->cwnd + inc;
  if (cwnd > cc->ssthresh) cwnd = cc->ssthresh;
  tou_cc_set_cwnd(cc, cwnd);
}

/* The sender used its window: in slow start at least half of it was in
 * flight (cwnd may double in one round), in congestion avoidance it could
 * not fit another full segment. */
static bool cwnd_limited(const tou_cc_t *cc, uint32_t prior_in_flight) {
  if (tou_cc_in_slow_start(cc)) return 2ull * prior_in_flight >= cc->cwnd;
  return (uint64_t)prior_in_flight + cc->mss > cc->cwnd;
}

void tou_cc_on_ack(tou_cc_t *cc, const tou_cc_ack_t *ack) {
  if (cc->in_recovery || ack->acked == 0) return;
  if (!ack->backlogged && !cwnd_limited(cc, ack->prior_in_flight)) return;
  cc->ops->on_ack(cc, ack);
}

void tou_cc_on_congestion_event(tou_cc_t *cc, uint64_t now, uint32_t in_flight) {
  if (cc->in_recovery) return; /* one reduction per episode (RFC 6582, RFC 8985) */
  cc->in_recovery = true;
  cc->congestion_events++;
  cc->ops->on_congestion_event(cc, now, in_flight);
}

void tou_cc_on_recovery_exit(tou_cc_t *cc, uint64_t now) {
  if (!cc->in_recovery) return;
  cc->in_recovery = false;
  /* RFC 9937 6.3 (and RFC 6582 3.2 step 3, option 2): the flight PRR
   * brought down to ssthresh continues with cwnd = ssthresh. */
  tou_cc_set_cwnd(cc, cc->ssthresh);
  if (cc->ops->on_recovery_exit) cc->ops->on_recovery_exit(cc, now);
}

void tou_cc_on_rto(tou_cc_t *cc, uint64_t now, uint32_t in_flight, bool repeated) {
  cc->in_recovery = false;
  cc->rto_events++;
  hystart_reset(&cc->hystart); /* RFC 9406 4.3: a new slow start after RTO */
  if (repeated) {
    tou_cc_set_cwnd(cc, cc->mss);
    return;
  }
  cc->ops->on_rto(cc, now, in_flight);
}

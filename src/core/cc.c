#include "cc.h"

#include <string.h>

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
  cc->ops->init(cc, now);
}

void tou_cc_slow_start(tou_cc_t *cc, uint32_t acked) {
  uint64_t inc = acked;
  if (inc > 2ull * cc->mss) inc = 2ull * cc->mss; /* RFC 3465 L = 2 */
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
  if (!cwnd_limited(cc, ack->prior_in_flight)) return;
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
  if (cc->ops->on_recovery_exit) cc->ops->on_recovery_exit(cc, now);
}

void tou_cc_on_rto(tou_cc_t *cc, uint64_t now, uint32_t in_flight, bool repeated) {
  cc->in_recovery = false;
  cc->rto_events++;
  if (repeated) {
    tou_cc_set_cwnd(cc, cc->mss);
    return;
  }
  cc->ops->on_rto(cc, now, in_flight);
}

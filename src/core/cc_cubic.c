/* CUBIC (RFC 9438).
 *
 *   W_cubic(t) = C*(t - K)^3 + W_max            (4.2, eq. 1; segments, seconds)
 *   K = cbrt((W_max - cwnd_epoch) / C)          (eq. 2; = cbrt(W_max(1-beta)/C)
 *                                                 right after a reduction)
 *   W_est += alpha_cubic * segments_acked / cwnd (4.3, Reno-friendly region)
 *
 * with C = 0.4 and beta = 0.7. Windows are kept in bytes and converted to
 * segments for the cubic term. Choices:
 * - ssthresh on a congestion event is cwnd * beta (the RFC allows cwnd or
 *   flight size; cwnd keeps K consistent with W_max), at least 2 SMSS;
 * - fast convergence (4.7) is on;
 * - after an RTO (4.8) and after the first slow start (4.10) the next
 *   congestion-avoidance stage starts with W_max = cwnd and K = 0;
 * - slow start is the shared one of cc.c: RFC 5681 with RFC 3465 byte
 *   counting and HyStart++ (RFC 9406);
 * - double arithmetic (IEEE 754, no fast-math) with cbrt(): deterministic on
 *   a given platform; sub-byte growth is carried in cwnd_frac. */
#include <math.h>
#include <stddef.h>

#include "cc.h"

#define CUBIC_C 0.4
#define CUBIC_BETA 0.7
/* RFC 9438 4.3: alpha_cubic = 3 (1 - beta) / (1 + beta). */
#define CUBIC_ALPHA (3.0 * (1.0 - CUBIC_BETA) / (1.0 + CUBIC_BETA))

static void cubic_init(tou_cc_t *cc, uint64_t now) {
  (void)now;
  cc->u.cubic = (tou_cc_cubic_t){0};
}

/* W_cubic(t) in bytes, t in seconds since the epoch. */
static double w_cubic(const tou_cc_t *cc, double t) {
  const tou_cc_cubic_t *s = &cc->u.cubic;
  double d = t - s->k;
  return CUBIC_C * d * d * d * cc->mss + s->w_max;
}

double tou_cc_cubic_window(const tou_cc_t *cc, double t) { return w_cubic(cc, t); }

static void start_epoch(tou_cc_t *cc, uint64_t now) {
  tou_cc_cubic_t *s = &cc->u.cubic;
  s->epoch_valid = true;
  s->epoch_start = now;
  s->cwnd_epoch = cc->cwnd;
  s->w_est = cc->cwnd;
  s->cwnd_frac = 0;
  if (s->w_max <= s->cwnd_epoch) {
    /* No congestion event above us (first slow start, after an RTO, or
     * slow start overshot W_max): grow from here, K = 0 (4.8, 4.10). */
    s->w_max = s->cwnd_epoch;
    s->k = 0;
  } else {
    s->k = cbrt((s->w_max - s->cwnd_epoch) / cc->mss / CUBIC_C);
  }
}

static void add_bytes(tou_cc_t *cc, double inc) {
  tou_cc_cubic_t *s = &cc->u.cubic;
  s->cwnd_frac += inc;
  if (s->cwnd_frac >= 1.0) {
    double whole = floor(s->cwnd_frac);
    s->cwnd_frac -= whole;
    tou_cc_set_cwnd(cc, (uint64_t)cc->cwnd + (uint64_t)whole);
  }
}

static void cubic_on_ack(tou_cc_t *cc, const tou_cc_ack_t *ack) {
  tou_cc_cubic_t *s = &cc->u.cubic;
  if (tou_cc_in_slow_start(cc)) {
    tou_cc_slow_start(cc, ack);
    return;
  }
  if (!s->epoch_valid) start_epoch(cc, ack->now);

  double cwnd = cc->cwnd;
  double acked = ack->acked;
  double t = (double)(ack->now - s->epoch_start) / 1e6;
  double rtt = (double)(ack->srtt_us ? ack->srtt_us : ack->rtt_us) / 1e6;

  /* 4.3: Reno-friendly estimate; alpha becomes 1 once W_est passed the
   * window of the last congestion event. */
  double alpha = s->w_est >= s->cwnd_prior ? 1.0 : CUBIC_ALPHA;
  s->w_est += alpha * acked * cc->mss / cwnd;

  if (w_cubic(cc, t) < s->w_est) {
    /* Reno-friendly region: behave at least like Reno. */
    if (s->w_est > cwnd) add_bytes(cc, s->w_est - cwnd - s->cwnd_frac);
    return;
  }
  /* 4.2: concave / convex region, aim one RTT ahead, never more than
   * 1.5 * cwnd and never shrink. */
  double target = w_cubic(cc, t + rtt);
  if (target < cwnd) target = cwnd;
  if (target > 1.5 * cwnd) target = 1.5 * cwnd;
  add_bytes(cc, (target - cwnd) * acked / cwnd);
}

/* 4.6 multiplicative decrease with 4.7 fast convergence. */
static void reduce(tou_cc_t *cc) {
  tou_cc_cubic_t *s = &cc->u.cubic;
  double cwnd = cc->cwnd;
  if (cwnd < s->w_max) {
    s->w_max = cwnd * (1.0 + CUBIC_BETA) / 2.0; /* release bandwidth to new flows */
  } else {
    s->w_max = cwnd;
  }
  s->cwnd_prior = cwnd;
  /* beta = 7/10 in integer math so ssthresh is exact. */
  uint64_t ssthresh = (uint64_t)cc->cwnd * 7 / 10;
  if (ssthresh < 2ull * cc->mss) ssthresh = 2ull * cc->mss;
  cc->ssthresh = (uint32_t)ssthresh;
  s->epoch_valid = false; /* the next CA stage starts a new epoch */
  s->cwnd_frac = 0;
}

static void cubic_on_congestion_event(tou_cc_t *cc, uint64_t now, uint32_t in_flight) {
  (void)now;
  (void)in_flight;
  reduce(cc);
  tou_cc_set_cwnd(cc, cc->ssthresh);
}

static void cubic_on_rto(tou_cc_t *cc, uint64_t now, uint32_t in_flight) {
  (void)now;
  (void)in_flight;
  reduce(cc);
  /* 4.8: the first CA stage after a timeout uses K = 0 and W_max = cwnd at
   * its start. */
  cc->u.cubic.w_max = 0;
  tou_cc_set_cwnd(cc, cc->mss); /* RFC 5681 loss window */
}

const tou_cc_ops_t tou_cc_cubic_ops = {
    .name = "cubic",
    .init = cubic_init,
    .on_ack = cubic_on_ack,
    .on_congestion_event = cubic_on_congestion_event,
    .on_recovery_exit = NULL,
    .on_rto = cubic_on_rto,
    .pacing_rate = NULL,
};

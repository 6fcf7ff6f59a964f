/* NewReno (RFC 5681 slow start and congestion avoidance, RFC 3465 byte
 * counting, RFC 6582 reduction).
 *
 * Variant: no cwnd inflation/deflation. On entering recovery this sets
 * ssthresh (and cwnd to it); what may be sent during recovery is then set
 * per ACK by Proportional Rate Reduction (prr.c, RFC 9937) from the
 * loss-recovery module's bytes-in-flight estimate (RFC 6675 "pipe":
 * SACKed and lost segments have left the network, duplicate ACKs without
 * SACK count as one delivered segment each), which is what inflation
 * approximated. On leaving recovery cwnd = ssthresh (cc.c; RFC 6582 3.2
 * step 3, option 2: PRR has already brought the flight down to it). The
 * recovery point ("recover") is tracked by rack.c. */
#include <stddef.h>

#include "cc.h"

static void newreno_init(tou_cc_t *cc, uint64_t now) {
  (void)now;
  cc->u.newreno.bytes_acked = 0;
}

static void newreno_on_ack(tou_cc_t *cc, const tou_cc_ack_t *ack) {
  if (tou_cc_in_slow_start(cc)) {
    tou_cc_slow_start(cc, ack);
    return;
  }
  /* RFC 3465 congestion avoidance: +1 SMSS once a full cwnd of bytes has
   * been acknowledged, i.e. +1 SMSS per round trip. */
  tou_cc_newreno_t *s = &cc->u.newreno;
  s->bytes_acked += ack->acked;
  if (s->bytes_acked >= cc->cwnd) {
    s->bytes_acked -= cc->cwnd;
    tou_cc_set_cwnd(cc, (uint64_t)cc->cwnd + cc->mss);
  }
}

/* RFC 5681 eq. 4 / RFC 6582: ssthresh = max(FlightSize / 2, 2*SMSS). */
static uint32_t half_flight(const tou_cc_t *cc, uint32_t in_flight) {
  uint32_t half = in_flight / 2;
  return half > 2 * cc->mss ? half : 2 * cc->mss;
}

static void newreno_on_congestion_event(tou_cc_t *cc, uint64_t now, uint32_t in_flight) {
  (void)now;
  cc->ssthresh = half_flight(cc, in_flight);
  tou_cc_set_cwnd(cc, cc->ssthresh);
  cc->u.newreno.bytes_acked = 0;
}

static void newreno_on_rto(tou_cc_t *cc, uint64_t now, uint32_t in_flight) {
  (void)now;
  cc->ssthresh = half_flight(cc, in_flight);
  tou_cc_set_cwnd(cc, cc->mss); /* RFC 5681 3.1: loss window LW = 1 SMSS */
  cc->u.newreno.bytes_acked = 0;
}

const tou_cc_ops_t tou_cc_newreno_ops = {
    .name = "newreno",
    .init = newreno_init,
    .on_ack = newreno_on_ack,
    .on_congestion_event = newreno_on_congestion_event,
    .on_recovery_exit = NULL,
    .on_rto = newreno_on_rto,
    .pacing_rate = NULL,
};

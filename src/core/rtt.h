/* RTT estimation and the retransmission timeout (RFC 6298), in microseconds.
 *
 * Karn's rule (RFC 6298 section 3): the estimator trusts every sample it is
 * given. The caller must NOT feed a sample measured from a segment that was
 * retransmitted (its ACK is ambiguous), unless the sample comes from the
 * timestamp option (RFC 7323 section 4: TSecr identifies the transmission),
 * in which case every sample is valid. The scoreboard applies this rule for
 * sequence-based samples.
 *
 * Besides SRTT/RTTVAR/RTO it tracks a windowed minimum RTT (the min_RTT of
 * RACK, RFC 8985, and of HyStart-like heuristics) with a three-sample
 * running-minimum filter, so an old minimum ages out after `min_rtt_window_us`
 * without a full history. */
#ifndef TOU_CORE_RTT_H
#define TOU_CORE_RTT_H

#include <stdbool.h>
#include <stdint.h>

/* RFC 6298 section 2: clock granularity G. The core's clock is in
 * microseconds, so G is one tick. */
#define TOU_RTT_GRANULARITY_US 1u
/* How long a minimum RTT sample stays valid (Linux uses 300 s). */
#define TOU_RTT_MIN_WINDOW_US (300ull * 1000 * 1000)

typedef struct tou_rtt_minsample {
  uint64_t rtt_us;
  uint64_t at_us;
} tou_rtt_minsample_t;

typedef struct tou_rtt {
  bool has_sample;
  uint64_t srtt_us;
  uint64_t rttvar_us;
  uint64_t latest_us;   /* most recent sample */
  uint64_t base_rto_us; /* RTO before backoff, already clamped */
  unsigned backoff;     /* consecutive timeouts since the last sample */
  uint64_t min_rto_us, max_rto_us;
  uint64_t min_rtt_window_us;
  /* Windowed minimum: best, second best, third best over the window. */
  tou_rtt_minsample_t min[3];
} tou_rtt_t;

/* initial_rto before the first sample (RFC 6298 2.1: 1 s), clamped to
 * [min_rto, max_rto]. */
void tou_rtt_init(tou_rtt_t *r, uint64_t initial_rto_us, uint64_t min_rto_us,
                  uint64_t max_rto_us);

/* A valid RTT measurement (see Karn's rule above) taken at `now`. Updates
 * SRTT/RTTVAR/RTO (RFC 6298 2.2/2.3), clears the backoff (RFC 6298 5.7:
 * a new sample recomputes RTO) and feeds the minimum filter. */
void tou_rtt_on_sample(tou_rtt_t *r, uint64_t rtt_us, uint64_t now);

/* The retransmission timer fired: double the RTO (RFC 6298 5.5), capped at
 * max_rto. */
void tou_rtt_on_timeout(tou_rtt_t *r);

/* Proof that the path works (RFC 6069's reasoning: the backoff guessed at
 * a congested or broken path, the proof says otherwise): forget the
 * backoff, so the RTO is again the one SRTT/RTTVAR give (RFC 6298 2.3). */
void tou_rtt_reset_backoff(tou_rtt_t *r);

/* Current RTO including backoff, in [min_rto, max_rto]. */
uint64_t tou_rtt_rto(const tou_rtt_t *r);

/* SRTT, or 0 before the first sample. */
static inline uint64_t tou_rtt_srtt(const tou_rtt_t *r) { return r->has_sample ? r->srtt_us : 0; }

/* Windowed minimum RTT, or 0 before the first sample. */
static inline uint64_t tou_rtt_min(const tou_rtt_t *r) {
  return r->has_sample ? r->min[0].rtt_us : 0;
}

#endif

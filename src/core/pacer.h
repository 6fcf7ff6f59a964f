/* Pacing: spreads a window of segments over the round trip instead of
 * sending it in one burst (which overflows shallow bottleneck queues).
 *
 * The rate follows Linux: cwnd / SRTT scaled by 2 while cwnd is below half
 * of ssthresh (slow start may double cwnd within the round trip) and by 1.2
 * otherwise (headroom so pacing never becomes the bottleneck).
 *
 * Model: a token bucket in bytes. Tokens accrue at the pacing rate up to a
 * burst cap of `quantum_us` worth of data (at least 2 segments), so a sender
 * whose timer only fires every millisecond (libuv timers) still reaches the
 * rate; the bucket starts with an initial burst allowance (the initial
 * window) so a new connection's first flight is not delayed. The connection
 * asks tou_pacer_next_send_time() and reports that time as a deadline. */
#ifndef TOU_CORE_PACER_H
#define TOU_CORE_PACER_H

#include <stdbool.h>
#include <stdint.h>

#include "cc.h"

#define TOU_PACER_QUANTUM_US 1000u
#define TOU_PACER_SS_PERCENT 200u
#define TOU_PACER_CA_PERCENT 120u

typedef struct tou_pacer {
  uint32_t mss;
  uint64_t rate;        /* bytes per second; 0: not paced (no RTT known yet) */
  uint64_t quantum_us;  /* burst cap in time at the current rate */
  uint64_t cap;         /* bucket size in bytes */
  uint64_t tokens_ub;   /* tokens in byte-microseconds (bytes * 1e6) */
  uint64_t last_us;     /* when tokens were last brought up to date */
} tou_pacer_t;

/* Starts unpaced with `initial_burst` bytes of tokens (e.g. the initial
 * window). */
void tou_pacer_init(tou_pacer_t *p, uint32_t mss, uint64_t initial_burst, uint64_t now);

/* Pacing rate in bytes/s for this cwnd and SRTT (the algorithm's own hint
 * when it has one); 0 when srtt is 0. */
uint64_t tou_pacer_rate_for(const tou_cc_t *cc, uint64_t srtt_us);
/* The same for a sender with `outstanding` bytes between SND.UNA and
 * SND.NXT: the window paced is max(cwnd, outstanding), as Linux does, so
 * that in recovery (cwnd below the flight, PRR releasing a share of each
 * ACK's deliveries) pacing does not hold back what PRR allows. */
uint64_t tou_pacer_rate_for_flight(const tou_cc_t *cc, uint64_t srtt_us, uint64_t outstanding);

/* Sets the rate (bytes/s; 0 disables pacing). Call after every ACK. */
void tou_pacer_set_rate(tou_pacer_t *p, uint64_t rate, uint64_t now);

/* Earliest time a segment of len bytes may leave; `now` when it may now. */
uint64_t tou_pacer_next_send_time(tou_pacer_t *p, uint32_t len, uint64_t now);

/* A segment of len bytes was sent at now. */
void tou_pacer_on_send(tou_pacer_t *p, uint32_t len, uint64_t now);

#endif

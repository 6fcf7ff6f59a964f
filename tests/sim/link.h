/* One direction of a simulated path. A datagram handed to a link at time
 * `now` is either dropped (with a reason) or delivered once or twice at
 * computed times, possibly with bits flipped. Everything random comes from
 * the link's own seeded PRNG.
 *
 * Order of decisions for each datagram (index n counts every datagram
 * offered, from 1):
 *   0. longer than mtu (a path with DF set)                 -> SIM_DROP_TOO_BIG
 *   1. blackout: sent inside a [from, to) window            -> SIM_DROP_BLACKOUT
 *   2. exact pattern: n is in the drop-nth list             -> SIM_DROP_PATTERN
 *   3. filters: a predicate says drop (e.g. "first SYN-ACK") -> SIM_DROP_FILTER
 *   4. random loss (independent, then Gilbert–Elliott)      -> SIM_DROP_LOSS / SIM_DROP_BURST
 *   5. bottleneck: bytes waiting for serialization would
 *      exceed queue_bytes (drop-tail)                       -> SIM_DROP_QUEUE
 * then arrival = end of serialization + delay + jitter (+ reorder hold),
 * a duplicate copy dup_gap_us later, and an arrival inside a blackout window
 * is dropped as well (the datagram was in flight when the link went dark).
 * Jitter is drawn per datagram, so jitter larger than the spacing of
 * datagrams reorders them, as on a real multipath network. */
#ifndef TOU_SIM_LINK_H
#define TOU_SIM_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rng.h"

#define SIM_LINK_MAX_BLACKOUTS 8
#define SIM_LINK_MAX_DROP_NTH 32
#define SIM_LINK_MAX_FILTERS 8
#define SIM_LINK_MAX_STALLS 8

typedef enum sim_fate {
  SIM_FATE_DELIVER = 0,
  SIM_DROP_BLACKOUT,
  SIM_DROP_PATTERN,
  SIM_DROP_FILTER,
  SIM_DROP_LOSS,
  SIM_DROP_BURST,
  SIM_DROP_QUEUE,
  SIM_DROP_TOO_BIG,
} sim_fate_t;

const char *sim_fate_name(sim_fate_t fate);

typedef struct sim_link_params {
  uint64_t delay_us;  /* one-way propagation delay */
  uint64_t jitter_us; /* extra delay, uniform in [0, jitter_us], per datagram */
  uint64_t rate_bps;  /* serialization rate; 0 = infinitely fast */
  size_t queue_bytes; /* drop-tail bound on bytes waiting to serialize; 0 = unbounded */
  /* Largest UDP payload the path carries (1472 for a 1500-byte IPv4 MTU);
   * larger datagrams drop as with DF set. 0 = no limit. Checked first, so
   * it draws nothing from the PRNG: setting it changes no other fate. */
  size_t mtu;
  double loss;        /* independent loss probability */
  /* Gilbert–Elliott burst loss, one Markov step per datagram: good->bad with
   * ge_p, bad->good with ge_r; lost with ge_loss_good / ge_loss_bad. */
  double ge_p, ge_r, ge_loss_good, ge_loss_bad;
  /* With ge_step_us set, silence moves the chain as well: one step per
   * ge_step_us between datagrams, so bursts are bounded in time too. */
  uint64_t ge_step_us;
  double reorder;      /* probability a datagram is held back reorder_us longer */
  uint64_t reorder_us;
  double duplicate;    /* probability of a second copy dup_gap_us after the first */
  uint64_t dup_gap_us;
  double corrupt;        /* probability a delivered copy has bits flipped */
  unsigned corrupt_bits; /* 1..corrupt_bits distinct bits flipped (0 means 1, max 8);
                          * CRC32C catches every error of up to 3 bits */
} sim_link_params_t;

/* A filter sees each datagram (after blackout and pattern checks) and says
 * whether to drop it. `index` is the link's datagram counter. */
typedef bool (*sim_filter_fn)(void *ctx, uint64_t index, const uint8_t *data, size_t len);

typedef struct sim_link_stats {
  uint64_t offered, delivered, duplicated, corrupted, reordered;
  uint64_t dropped[SIM_DROP_TOO_BIG + 1]; /* indexed by sim_fate_t */
  uint64_t bytes_offered, bytes_delivered;
} sim_link_stats_t;

typedef struct sim_link {
  sim_link_params_t p;
  sim_rng_t rng;
  uint64_t index;      /* datagrams offered so far */
  uint64_t busy_until; /* end of the serialization in progress */
  bool ge_bad;
  bool ge_stepped;     /* ge_last_at is set */
  uint64_t ge_last_at; /* time of the last Gilbert–Elliott step */
  struct {
    uint64_t from, to;
  } blackout[SIM_LINK_MAX_BLACKOUTS];
  unsigned n_blackouts;
  struct {
    uint64_t from, to;
  } stall[SIM_LINK_MAX_STALLS];
  unsigned n_stalls;
  uint64_t drop_nth[SIM_LINK_MAX_DROP_NTH];
  unsigned n_drop_nth;
  struct {
    sim_filter_fn fn;
    void *ctx;
    long remaining; /* drops left; < 0 = unlimited */
    uint64_t dropped;
  } filter[SIM_LINK_MAX_FILTERS];
  unsigned n_filters;
  sim_link_stats_t stats;
} sim_link_t;

typedef struct sim_link_verdict {
  sim_fate_t fate;
  unsigned copies;      /* 0 when dropped, else 1 or 2 */
  uint64_t arrive[2];   /* arrival time of each copy */
  bool corrupt[2];      /* copy must have bits flipped (sim_link_corrupt) */
} sim_link_verdict_t;

void sim_link_init(sim_link_t *l, const sim_link_params_t *p, uint64_t seed);
/* Changes parameters from now on (the queue and PRNG state are kept). */
void sim_link_set_params(sim_link_t *l, const sim_link_params_t *p);
/* Returns false when the fixed-size table is full (a test bug). */
bool sim_link_add_blackout(sim_link_t *l, uint64_t from, uint64_t to);
/* The link stops serializing in [from, to): datagrams offered meanwhile
 * (and those queued behind one) wait, in order, and leave from `to` on —
 * a delay spike of up to to - from without loss (a handover, a radio
 * link retrying). The wait itself does not count toward queue_bytes. */
bool sim_link_add_stall(sim_link_t *l, uint64_t from, uint64_t to);
bool sim_link_drop_nth(sim_link_t *l, uint64_t n);
/* Drops up to max_drops datagrams matching fn (max_drops < 0: all). */
bool sim_link_add_filter(sim_link_t *l, sim_filter_fn fn, void *ctx, long max_drops);
void sim_link_clear_filters(sim_link_t *l);

/* Decides the fate of one datagram of len bytes offered at now. */
void sim_link_admit(sim_link_t *l, uint64_t now, const uint8_t *data, size_t len,
                    sim_link_verdict_t *v);
/* Flips 1..corrupt_bits random bits of data (a copy the link delivers). */
void sim_link_corrupt(sim_link_t *l, uint8_t *data, size_t len);

/* Serialization time of len bytes at the link's rate, rounded up. */
uint64_t sim_link_serialization_us(const sim_link_t *l, size_t len);

#endif

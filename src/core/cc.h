/* Pluggable congestion control, in the spirit of Linux's
 * struct tcp_congestion_ops: a const table of functions per algorithm and
 * per-connection state with a union for the algorithm's own fields.
 *
 * Division of labour: the loss-recovery module (scoreboard.c, rack.c) decides
 * WHEN a congestion event happens (RACK/three-duplicate-ACK loss entering
 * recovery, an RTO, a repaired TLP) and when recovery ends; the algorithm
 * decides HOW cwnd/ssthresh react. The connection calls the tou_cc_*()
 * wrappers below, never the ops directly: they keep the rules common to all
 * algorithms (no growth during recovery, no growth when not cwnd-limited,
 * ssthresh held on a repeated RTO).
 *
 * cwnd and ssthresh are in bytes. Everything is deterministic: integer math,
 * or IEEE double math without -ffast-math (CUBIC's cube root). */
#ifndef TOU_CORE_CC_H
#define TOU_CORE_CC_H

#include <stdbool.h>
#include <stdint.h>

/* RFC 6928: initial window of 10 segments. */
#define TOU_CC_INITIAL_SEGMENTS 10u
/* Upper bound for cwnd so byte arithmetic never overflows 32 bits. */
#define TOU_CC_MAX_CWND (1u << 30)
#define TOU_CC_SSTHRESH_INFINITE UINT32_MAX

typedef struct tou_cc tou_cc_t;

/* What one ACK delivered, as the loss-recovery module measured it. */
typedef struct tou_cc_ack {
  uint64_t now;
  uint32_t acked;           /* bytes newly delivered: cumulatively ACKed + newly SACKed */
  uint32_t prior_in_flight; /* bytes in flight before this ACK was processed */
  uint64_t rtt_us;          /* RTT sample carried by this ACK, 0 when none */
  uint64_t srtt_us;         /* smoothed RTT after this ACK, 0 before the first sample */
  uint64_t min_rtt_us;      /* windowed minimum RTT, 0 before the first sample */
  /* The sender had data waiting that neither the application nor the
   * peer's window held back (only cwnd or pacing did): cwnd may grow even
   * if pacing kept the flight below it. */
  bool backlogged;
  uint64_t delivered;       /* bytes delivered so far (cumulative), for round trips */
} tou_cc_ack_t;

typedef struct tou_cc_ops {
  const char *name;
  /* Sets the algorithm's state; cwnd/ssthresh are already at their initial values. */
  void (*init)(tou_cc_t *cc, uint64_t now);
  /* Grows cwnd for delivered data (not called during recovery or when the
   * sender was not cwnd-limited). */
  void (*on_ack)(tou_cc_t *cc, const tou_cc_ack_t *ack);
  /* A loss was detected (RACK, three duplicate ACKs, repaired TLP) and the
   * connection enters recovery: set ssthresh and reduce cwnd. At most once
   * per recovery episode (per round trip). During the recovery that
   * follows, the loss-recovery module sets cwnd by PRR (prr.h). */
  void (*on_congestion_event)(tou_cc_t *cc, uint64_t now, uint32_t in_flight);
  /* Recovery ended (the recovery point was cumulatively ACKed). Optional. */
  void (*on_recovery_exit)(tou_cc_t *cc, uint64_t now);
  /* First retransmission timeout of an episode: set ssthresh and enter
   * slow start from the loss window (RFC 5681 eq. 4, cwnd = 1 SMSS). */
  void (*on_rto)(tou_cc_t *cc, uint64_t now, uint32_t in_flight);
  /* Optional pacing hint in bytes per second, 0 to let the pacer derive its
   * rate from cwnd/SRTT. */
  uint64_t (*pacing_rate)(const tou_cc_t *cc, uint64_t srtt_us);
} tou_cc_ops_t;

typedef struct tou_cc_newreno {
  uint32_t bytes_acked; /* RFC 5681 3.1 / RFC 3465: bytes counted toward the next +1 SMSS */
} tou_cc_newreno_t;

typedef struct tou_cc_cubic {
  bool epoch_valid;   /* a congestion-avoidance stage is under way */
  uint64_t epoch_start;
  double w_max;       /* bytes: cwnd at the last congestion event (after fast convergence) */
  double cwnd_prior;  /* bytes: cwnd just before the last reduction (RFC 9438 4.3) */
  double k;           /* seconds: time for W_cubic to grow back to w_max */
  double cwnd_epoch;  /* bytes: cwnd when the CA stage began */
  double w_est;       /* bytes: Reno-friendly estimate (RFC 9438 4.3) */
  double cwnd_frac;   /* sub-byte growth not yet applied to cwnd */
} tou_cc_cubic_t;

/* HyStart++ (RFC 9406) state, shared by every algorithm's slow start. */
typedef struct tou_cc_hystart {
  bool round_valid;
  uint64_t round_end;        /* delivered count that ends the current round */
  uint64_t last_round_min;   /* lastRoundMinRTT; UINT64_MAX = none */
  uint64_t cur_round_min;    /* currentRoundMinRTT */
  uint32_t samples;          /* rttSampleCount */
  bool in_css;               /* Conservative Slow Start */
  uint64_t css_baseline_min; /* cssBaselineMinRtt */
  uint32_t css_rounds;
  uint32_t exits;            /* slow starts ended by HyStart++ (statistics) */
} tou_cc_hystart_t;

struct tou_cc {
  const tou_cc_ops_t *ops;
  uint32_t mss;
  uint32_t cwnd;     /* bytes */
  uint32_t ssthresh; /* bytes; TOU_CC_SSTHRESH_INFINITE initially */
  bool in_recovery;
  /* Counters for statistics. */
  uint32_t congestion_events;
  uint32_t rto_events;
  tou_cc_hystart_t hystart;
  union {
    tou_cc_newreno_t newreno;
    tou_cc_cubic_t cubic;
  } u;
};

extern const tou_cc_ops_t tou_cc_newreno_ops;
extern const tou_cc_ops_t tou_cc_cubic_ops;

/* Algorithm by name ("cubic", "newreno"); NULL or "" gives the default
 * (CUBIC); NULL when the name is unknown. */
const tou_cc_ops_t *tou_cc_find(const char *name);

/* cwnd = 10 segments (RFC 6928), ssthresh = infinite, then ops->init. */
void tou_cc_init(tou_cc_t *cc, const tou_cc_ops_t *ops, uint32_t mss, uint64_t now);

static inline bool tou_cc_in_slow_start(const tou_cc_t *cc) { return cc->cwnd < cc->ssthresh; }

/* Data was delivered. Grows cwnd unless in recovery or the sender was not
 * using its window (RFC 7661 spirit: an application-limited sender must not
 * inflate cwnd it never tested) unless ack->backlogged. */
void tou_cc_on_ack(tou_cc_t *cc, const tou_cc_ack_t *ack);
/* Loss detected outside recovery: reduce once and enter recovery. Ignored
 * while already in recovery. */
void tou_cc_on_congestion_event(tou_cc_t *cc, uint64_t now, uint32_t in_flight);
/* Recovery ended: cwnd = ssthresh (RFC 9937; during recovery the loss-recovery
 * module sets cwnd from PRR, prr.h). */
void tou_cc_on_recovery_exit(tou_cc_t *cc, uint64_t now);
/* Retransmission timeout. `repeated`: the retransmission sent by a previous
 * RTO was lost too; ssthresh is then held (RFC 5681 section 3.1, after eq. 4)
 * and only cwnd is reset to the loss window. Leaves recovery. */
void tou_cc_on_rto(tou_cc_t *cc, uint64_t now, uint32_t in_flight, bool repeated);

/* CUBIC's window curve W_cubic(t) in bytes for the current epoch (RFC 9438
 * eq. 1), t in seconds since the epoch began. For tests and tracing. */
double tou_cc_cubic_window(const tou_cc_t *cc, double t);

/* Helpers shared by the algorithms. */
/* Slow start with appropriate byte counting (RFC 3465, L = 2): cwnd grows by
 * the bytes delivered, at most 2 SMSS per ACK, never beyond ssthresh; and
 * HyStart++ (RFC 9406): when the round's minimum RTT rises by
 * clamp(lastRoundMinRTT/8, 4 ms, 16 ms) over 8+ samples, growth drops to a
 * quarter (Conservative Slow Start) and after 5 such rounds slow start ends
 * (ssthresh = cwnd), instead of overshooting into a burst of losses. */
void tou_cc_slow_start(tou_cc_t *cc, const tou_cc_ack_t *ack);
/* Sets cwnd, clamped to [1 SMSS, TOU_CC_MAX_CWND]. */
void tou_cc_set_cwnd(tou_cc_t *cc, uint64_t cwnd);

#endif

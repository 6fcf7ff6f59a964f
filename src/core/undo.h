/* Spurious retransmissions and the undo of congestion responses.
 *
 * A retransmission timeout after a sudden delay spike, or a fast
 * retransmit after reordering, may resend data that was never lost. The
 * congestion response it caused (cwnd collapsed to one segment, or cut to
 * ssthresh) was then unwarranted, and after an RTO the sender would go on
 * re-sending, one round trip at a time, a whole flight the receiver
 * already holds. Detection:
 *   - Eifel (RFC 3522), with timestamps: an acceptable ACK whose TSecr is
 *     older than the TSval of the episode's first retransmission was
 *     triggered by an original transmission: after an RTO, the first ACK
 *     that acknowledges new data decides; in fast recovery, the ACK that
 *     ends it (every hole was then filled by an original);
 *   - DSACK (RFC 3708): every retransmission of the episode reported as a
 *     duplicate by the receiver.
 * Response (RFC 4015's intent; as Linux's undo): congestion control goes
 * back to the state saved before the reduction (cwnd, ssthresh and the
 * algorithm's own state), and after an RTO the segments marked lost by it
 * are unmarked, so nothing more of the flight is resent. Pacing spreads
 * the restored window.
 *
 * This module keeps the episode's record and decides; the connection
 * (conn_recovery.c) applies the undo. */
#ifndef TOU_CORE_UNDO_H
#define TOU_CORE_UNDO_H

#include <stdbool.h>
#include <stdint.h>

#include "cc.h"
#include "seq.h"

typedef struct tou_undo {
  bool armed;           /* a reduction that may still be undone (until the next one) */
  bool open;            /* its episode (recovery, or the RTO's) is still under way */
  bool rto;             /* the episode saw a retransmission timeout */
  tou_cc_t saved;       /* congestion control just before the reduction */
  tou_seq_t marker;     /* SND.UNA when it began: DSACKs below it are older */
  uint32_t retrans;     /* retransmissions of the episode not shown spurious */
  bool any_retrans;
  bool have_ts;         /* rtx_tsval is set */
  uint32_t rtx_tsval;   /* RFC 3522 RetransmitTS: TSval of the first retransmission */
  /* Statistics. */
  uint64_t spurious_rtos;
  uint64_t spurious_recoveries;
  uint64_t undos;
} tou_undo_t;

/* A reduction begins (fast recovery or the first RTO of an episode): keep
 * cc as it is now. An episode still open (a repeated RTO, or an RTO during
 * fast recovery) keeps its first record. */
void tou_undo_arm(tou_undo_t *u, const tou_cc_t *cc, tou_seq_t snd_una, bool rto);
/* The episode ended without being found spurious; DSACKs arriving late
 * may still show it was (until the next reduction). */
static inline void tou_undo_close(tou_undo_t *u) { u->open = false; }
/* A fast recovery turned out to need more than one reduction (a
 * retransmission was lost): the losses are real, nothing to undo. */
static inline void tou_undo_disarm(tou_undo_t *u) { u->armed = u->open = false; }

/* A retransmission left carrying TSval tsval (ts_ok: timestamps in use). */
void tou_undo_on_retransmit(tou_undo_t *u, bool ts_ok, uint32_t tsval);

/* RFC 3522: TSecr of an acceptable ACK older than the first
 * retransmission's TSval, in an open episode. False without timestamps
 * or retransmissions. */
bool tou_undo_eifel(const tou_undo_t *u, bool ts_ok, uint32_t tsecr);

/* RFC 3708: a DSACK for [left, right) arrived. Returns true when every
 * retransmission of the episode has now been reported as a duplicate.
 * mss: to count the segments a block covers. */
bool tou_undo_on_dsack(tou_undo_t *u, tou_seq_t left, tou_seq_t right, uint32_t mss);

/* The episode was found spurious: counts it (a spurious RTO or fast
 * recovery) and closes the record. Call tou_undo_restore() first to
 * undo. */
void tou_undo_detected(tou_undo_t *u);
/* cc goes back to the state saved by tou_undo_arm() (cwnd and ssthresh no
 * lower than now; counters kept; out of recovery). Counts an undo. */
void tou_undo_restore(tou_undo_t *u, tou_cc_t *cc);

#endif

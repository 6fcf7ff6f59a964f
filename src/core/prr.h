/* Proportional Rate Reduction (RFC 9937, which obsoletes RFC 6937): how
 * much may be sent during fast recovery.
 *
 * Congestion control sets ssthresh when recovery begins; PRR then spreads
 * the reduction over the round trip instead of cutting cwnd at once (which
 * stops all sending until enough of the old flight has left, delaying even
 * the fast retransmit) and brings the flight to ssthresh by the end:
 *   - while pipe > ssthresh, data goes out in proportion to data delivered,
 *     ssthresh / RecoverFS of it (for CUBIC 0.7 segment per segment);
 *   - once pipe <= ssthresh (heavy loss), the flight grows back toward
 *     ssthresh no faster than slow start: per ACK, what was delivered (and
 *     not yet sent again), plus one SMSS when the ACK shows recovery making
 *     progress (PRR-SSRB on a "SafeACK", else PRR-CRB).
 * The result is a cwnd of pipe + sndcnt after each ACK; the connection
 * sends while pipe < cwnd as usual. Sans-I/O, integer arithmetic, bytes. */
#ifndef TOU_CORE_PRR_H
#define TOU_CORE_PRR_H

#include <stdbool.h>
#include <stdint.h>

typedef struct tou_prr {
  bool active;          /* a fast-recovery reduction is under way */
  uint32_t mss;
  uint32_t ssthresh;    /* target flight size, from congestion control */
  uint64_t recover_fs;  /* RecoverFS: bytes that may be delivered in this phase */
  uint64_t delivered;   /* prr_delivered */
  uint64_t out;         /* prr_out */
} tou_prr_t;

/* RFC 9937 6.1: a reduction phase begins (fast recovery, or a new round of
 * reduction after a lost retransmission). recover_fs: SND.NXT - SND.UNA at
 * the start, less the bytes SACKed before it (they will not be delivered
 * again); at least one SMSS is assumed. */
void tou_prr_start(tou_prr_t *p, uint32_t ssthresh, uint32_t mss, uint64_t recover_fs);

/* RFC 9937 6.2, per ACK (or per loss-detection timer) in recovery:
 * delivered_data = DeliveredData (bytes newly cumulatively ACKed or SACKed,
 * or credited by a duplicate ACK without SACK), pipe = the RFC 6675 pipe
 * after the ACK, safe_ack = SND.UNA advanced and no further loss was
 * indicated. Returns the new cwnd (pipe + sndcnt), or cwnd_now unchanged
 * when nothing was delivered (after the first transmission). */
uint64_t tou_prr_on_ack(tou_prr_t *p, uint64_t delivered_data, uint64_t pipe, bool safe_ack,
                        uint64_t cwnd_now);

/* Any data (new or retransmitted) sent during the phase: prr_out. */
void tou_prr_on_sent(tou_prr_t *p, uint32_t len);

/* Recovery ended (or an RTO took over). */
static inline void tou_prr_stop(tou_prr_t *p) { p->active = false; }

#endif

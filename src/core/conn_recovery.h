/* Reliability and congestion control of a connection's data phase: the
 * glue between the connection (conn*.c) and the standalone modules
 * scoreboard.c (what is in flight), rack.c (RACK-TLP / duplicate-ACK loss
 * detection, recovery episodes), cc.h (CUBIC, NewReno), pacer.c and rtt.c.
 *
 * The connection calls these hooks; they never send anything themselves:
 *   output:  conn_rec_cwnd_room() limits new data, conn_rec_pacing_ok()
 *            spaces segments, conn_rec_next_retransmit() names the segment
 *            to resend, conn_rec_on_sent() records every transmission;
 *   input:   conn_rec_on_ack() before the connection takes the ACK;
 *   timers:  conn_rec_deadline() / conn_rec_on_timer() (reordering window,
 *            tail loss probe, pacing), conn_rec_on_rto() for a data RTO.
 * The scoreboard starts with the first data transmission (its ring is
 * allocated then, bounded by the send buffer); before that everything is a
 * no-op and the handshake keeps its own timer. */
#ifndef TOU_CORE_CONN_RECOVERY_H
#define TOU_CORE_CONN_RECOVERY_H

#include <stdbool.h>
#include <stdint.h>

#include "cc.h"
#include "core.h"
#include "frto.h"
#include "pacer.h"
#include "prr.h"
#include "rack.h"
#include "scoreboard.h"
#include "undo.h"

typedef struct conn_rec {
  bool active;          /* scoreboard allocated: the data phase has begun */
  tou_cc_t cc;
  tou_pacer_t pacer;
  tou_scoreboard_t sb;
  tou_rack_t rack;
  tou_prr_t prr;        /* how much fast recovery sends (RFC 9937) */
  tou_undo_t undo;      /* spurious retransmissions, undo (RFC 3522, 3708, 4015) */
  tou_frto_t frto;      /* spurious RTO detection without timestamps (RFC 5682) */
  uint64_t reo_at;      /* RACK reordering timer */
  uint64_t pto_at;      /* tail loss probe */
  uint64_t pace_at;     /* pacing released the next segment */
  bool rto_rtx_owed;    /* an RTO owes one retransmission, regardless of cwnd */
  bool tlp_new_owed;    /* a TLP may send one new segment beyond cwnd */
  bool tlp_rtx_owed;    /* a TLP retransmits the last segment */
  unsigned rtos;        /* consecutive RTOs without progress */
  /* Receiver: SACK block recency (left edges, most recent first) and a
   * pending DSACK. */
  tou_seq_t sack_recent[TOU_WIRE_MAX_SACK];
  unsigned sack_nrecent;
  bool dsack_pending;
  tou_sack_block_t dsack;
} conn_rec_t;

/* conn_new: choose the algorithm (cfg->cc_algorithm). */
void conn_rec_init(tou_conn_t *c, uint64_t now);
/* conn_destroy / conn_finish: release the scoreboard ring. */
void conn_rec_free(tou_conn_t *c);

/* Bytes of new data cwnd allows now (cwnd minus the RFC 6675 pipe; one MSS
 * when a TLP is owed). The peer's window is the caller's business. */
uint32_t conn_rec_cwnd_room(const tou_conn_t *c);
/* Whether pacing lets a data segment leave now; otherwise the release time
 * becomes a deadline. */
bool conn_rec_pacing_ok(tou_conn_t *c, uint64_t now);
/* The segment to retransmit now, if any: owed by an RTO or a TLP, or marked
 * lost and allowed by cwnd and pacing. len counts sequence space (a FIN
 * included). */
bool conn_rec_next_retransmit(tou_conn_t *c, uint64_t now, tou_seq_t *seq, uint32_t *len);
/* A segment occupying [seq, seq+len) of sequence space (payload + FIN) was
 * sent; retransmission when seq is below the highest sequence sent. */
void conn_rec_on_sent(tou_conn_t *c, uint64_t now, tou_seq_t seq, uint32_t len);

/* An acceptable ACK (ack <= SND.MAX) arrived, before SND.UNA moves. */
void conn_rec_on_ack(tou_conn_t *c, uint64_t now, const tou_segment_t *seg);

/* The retransmission timer fired with data outstanding (RFC 6298 5.4-5.6,
 * RFC 8985 6.3): mark losses, loss window, ONE retransmission owed. */
void conn_rec_on_rto(tou_conn_t *c, uint64_t now);

uint64_t conn_rec_deadline(const tou_conn_t *c);
void conn_rec_on_timer(tou_conn_t *c, uint64_t now);

/* Receiver side. In-window data [seq, seq+len) is about to be stored
 * (seq >= RCV.NXT): remembered for the order of SACK blocks, or reported as
 * a duplicate when already held out of order. */
void conn_rec_on_data(tou_conn_t *c, tou_seq_t seq, size_t len);
/* Data entirely below RCV.NXT arrived again: report it once (DSACK). */
void conn_rec_on_dup_data(tou_conn_t *c, tou_seq_t seq, size_t len);
/* Fills the SACK option of an outgoing ACK: a pending DSACK first, then the
 * block holding the most recently received segment, then the most recently
 * reported ones, then the highest others (RFC 2018 section 4). */
void conn_rec_sack_option(tou_conn_t *c, tou_options_t *o);
/* An upper bound on the number of blocks conn_rec_sack_option() would
 * write now, without its side effects (the DSACK is reported once). */
unsigned conn_rec_sack_bound(const tou_conn_t *c);
/* Splits the scoreboard entry starting at seq after its first first_len
 * bytes, so a retransmission that must shrink (more option bytes than at
 * its first transmission) is tracked as two segments. False when no entry
 * starts at seq or the scoreboard is full. */
bool conn_rec_split(tou_conn_t *c, tou_seq_t seq, uint32_t first_len);

/* Adds the recovery figures to a tou_conn_info_t. */
void conn_rec_fill_info(const tou_conn_t *c, tou_conn_info_t *info);

#endif

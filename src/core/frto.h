/* F-RTO (RFC 5682): is a retransmission timeout spurious? For connections
 * without timestamps, where Eifel detection (undo.h) cannot tell an ACK of
 * the original from one of the retransmission.
 *
 * After the RTO's retransmission of the first unacknowledged segment:
 *   1. the first ACK that acknowledges new data (but not everything up to
 *      `recover`, SND.MAX at the timeout) lets the sender send up to two
 *      NEW segments instead of retransmitting more (RFC 5682 2.b);
 *   2. if the next ACK acknowledges more new data, that data was never
 *      retransmitted: its original arrived, the timeout was spurious
 *      (3.b); a duplicate ACK means the flight was lost after all, and the
 *      sender goes on with the conventional RTO recovery (3.a).
 * A duplicate ACK in step 1, or an ACK of everything, ends F-RTO (2.a).
 * The module only decides; conn_recovery.c acts. */
#ifndef TOU_CORE_FRTO_H
#define TOU_CORE_FRTO_H

#include <stdbool.h>
#include <stdint.h>

#include "seq.h"

typedef enum tou_frto_step {
  TOU_FRTO_OFF = 0,
  TOU_FRTO_AFTER_RTO,  /* waiting for the first ACK after the retransmission */
  TOU_FRTO_AFTER_NEW,  /* new data sent: the next ACK decides */
} tou_frto_step_t;

typedef enum tou_frto_action {
  TOU_FRTO_NONE = 0,     /* not in F-RTO, or nothing to decide on this ACK */
  TOU_FRTO_SEND_NEW,     /* send up to two new segments, retransmit nothing */
  TOU_FRTO_SPURIOUS,     /* the timeout was spurious: undo */
  TOU_FRTO_CONVENTIONAL, /* the losses were real: RTO recovery as usual */
} tou_frto_action_t;

typedef struct tou_frto {
  tou_frto_step_t step;
  tou_seq_t recover;   /* SND.MAX when the timeout fired */
  uint64_t rto_us;     /* when it fired: segments sent before were in the flight */
} tou_frto_t;

/* The retransmission timer fired (ts_ok: timestamps in use, then Eifel is
 * used instead; in_fast_recovery: an RTO during fast recovery takes the
 * conventional path, RFC 5682 2.1 note). A repeated timeout of the same
 * retransmission keeps step 1. */
void tou_frto_on_rto(tou_frto_t *f, bool ts_ok, bool in_fast_recovery, tou_seq_t snd_max,
                     uint64_t now);

/* An acceptable ACK: snd_una after it, newly_acked bytes it acknowledged
 * cumulatively. */
tou_frto_action_t tou_frto_on_ack(tou_frto_t *f, tou_seq_t snd_una, uint32_t newly_acked);

static inline bool tou_frto_active(const tou_frto_t *f) { return f->step != TOU_FRTO_OFF; }

#endif

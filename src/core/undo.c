#include "undo.h"

void tou_undo_arm(tou_undo_t *u, const tou_cc_t *cc, tou_seq_t snd_una, bool rto) {
  if (u->armed && u->open) {
    if (rto) u->rto = true; /* the episode's outcome is now an RTO's */
    return;
  }
  u->armed = u->open = true;
  u->rto = rto;
  u->saved = *cc;
  u->marker = snd_una;
  u->retrans = 0;
  u->any_retrans = false;
  u->have_ts = false;
}

void tou_undo_on_retransmit(tou_undo_t *u, bool ts_ok, uint32_t tsval) {
  if (!u->armed || !u->open) return;
  u->retrans++;
  u->any_retrans = true;
  if (ts_ok && !u->have_ts) {
    u->have_ts = true;
    u->rtx_tsval = tsval;
  }
}

bool tou_undo_eifel(const tou_undo_t *u, bool ts_ok, uint32_t tsecr) {
  if (!u->armed || !u->open || !ts_ok || !u->have_ts) return false;
  /* RFC 3522 3.2: TSecr < RetransmitTS (modular, RFC 7323). Equal means
   * the ACK may be for the retransmission: not spurious. */
  return (int32_t)(tsecr - u->rtx_tsval) < 0;
}

bool tou_undo_on_dsack(tou_undo_t *u, tou_seq_t left, tou_seq_t right, uint32_t mss) {
  if (!u->armed || !u->any_retrans || u->retrans == 0) return false;
  /* RFC 3708 3.2: only duplicates of data sent in this episode's range
   * (at or above where it began) can be its retransmissions. */
  if (!seq_lt(left, right) || seq_lt(left, u->marker)) return false;
  uint32_t len = right - left;
  uint32_t segs = mss ? (len + mss - 1) / mss : 1;
  if (segs == 0) segs = 1;
  u->retrans = segs >= u->retrans ? 0 : u->retrans - segs;
  return u->retrans == 0;
}

void tou_undo_restore(tou_undo_t *u, tou_cc_t *cc) {
  if (!u->armed) return;
  /* Keep the counters; take back cwnd, ssthresh and the algorithm's state
   * (CUBIC's W_max and epoch, HyStart++) as they were before the
   * reduction, but never lower than what the sender has regrown since. */
  tou_cc_t now = *cc;
  *cc = u->saved;
  cc->congestion_events = now.congestion_events;
  cc->rto_events = now.rto_events;
  cc->hystart.exits = now.hystart.exits;
  cc->in_recovery = false;
  if (now.cwnd > cc->cwnd) cc->cwnd = now.cwnd;
  if (now.ssthresh != TOU_CC_SSTHRESH_INFINITE && now.ssthresh > cc->ssthresh)
    cc->ssthresh = now.ssthresh;
  u->undos++;
}

void tou_undo_detected(tou_undo_t *u) {
  if (!u->armed) return;
  if (u->rto) u->spurious_rtos++;
  else u->spurious_recoveries++;
  u->armed = u->open = false;
}

/* Timestamps on the receiving side (RFC 7323): which TSval we echo, and
 * PAWS, the protection against wrapped sequence numbers. (Our own TSval
 * and the echo are written by conn_set_options(); RTT samples from echoes
 * are conn_recovery.c's.) */
#include "endpoint.h"

/* RFC 7323 5.5: a TS.Recent older than 24 days may have been overtaken by
 * the peer's timestamp clock wrapping (1 ms ticks wrap a sign in 24.8
 * days), so it is no longer used to reject segments. */
#define PAWS_IDLE_US (24ull * 24 * 3600 * 1000000)
/* One tick of slack (as Linux's TCP_PAWS_WINDOW): a segment reordered
 * behind one sent in the same or the next millisecond is not old. */
#define PAWS_SLACK_TICKS 1

static bool has_ts(const tou_conn_t *c, const tou_segment_t *seg) {
  return c->ts_ok && (seg->opts.present & TOU_OPT_TIMESTAMP);
}

/* RFC 7323 5.3 R1: a segment (not a RST) whose TSval is older than
 * TS.Recent is an old duplicate: it is not acceptable. The caller answers
 * with an ACK (rate-limited for bare ACKs) and drops it. */
bool conn_paws_reject(tou_conn_t *c, uint64_t now, const tou_segment_t *seg) {
  if (!has_ts(c, seg) || (seg->flags & TOU_RST)) return false;
  if ((int32_t)(c->ts_recent - seg->opts.ts_val) <= PAWS_SLACK_TICKS) return false;
  if (c->ts_recent_at != 0 && now - c->ts_recent_at > PAWS_IDLE_US) {
    /* R1 exception (5.5): TS.Recent is invalid after 24 days idle; the
     * segment goes on to the normal checks and refreshes it. */
    c->ts_recent = seg->opts.ts_val;
    c->ts_recent_at = now;
    return false;
  }
  c->stats.paws_dropped++;
  return true;
}

/* RFC 7323 4.3 (3): remember SEG.TSval to echo when the segment is not
 * newer than what our last ACK acknowledged (SEG.SEQ <= Last.ACK.sent):
 * with delayed ACKs this echoes the earliest unacknowledged segment, so
 * the sender's RTT sample includes our delay, as it must. R3 of 5.3 applies
 * it to acceptable segments; we also apply it to a retransmitted duplicate
 * (wholly below RCV.NXT, having passed PAWS), as Linux does for one ending
 * at RCV.NXT: our ACK to it was lost, and echoing the TSval of the last
 * in-order segment instead would tell the sender that the round trip took
 * its whole retransmission backoff (tens of seconds), inflating its RTO to
 * the maximum for the rest of the connection (soak world
 * 0x2e382d16c72f65e8: 2 MiB at 16 % loss unfinished after 2000 s). */
void conn_ts_update_recent(tou_conn_t *c, uint64_t now, const tou_segment_t *seg) {
  if (!has_ts(c, seg) || !seq_leq(seg->seq, c->last_ack_sent)) return;
  if ((int32_t)(seg->opts.ts_val - c->ts_recent) < 0) return;
  c->ts_recent = seg->opts.ts_val;
  c->ts_recent_at = now;
}

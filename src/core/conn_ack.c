/* The receiver's ACK policy: when an ACK for received data leaves.
 *
 * RFC 9293 3.8.6.3 / RFC 5681 4.2 (delayed ACKs): an ACK may be held back
 * for a while so that it covers two segments (or rides on data we send),
 * but an ACK is generated for at least every second full-sized segment and
 * never later than the delay bound (cfg.delack_us, under 500 ms).
 * Immediate ACKs, whatever the delay rule says:
 *  - out-of-order data, and data that fills (part of) a hole (RFC 5681 4.2,
 *    3.2): the sender's loss detection and recovery run on them;
 *  - quick ACKs: the first segments of a connection, and the first ones
 *    after an idle period, when the sender is in slow start and waits for
 *    ACKs to open its window (Linux's quickack mode);
 *  - a FIN, a duplicate, and a window that opens significantly (callers
 *    use conn_ack_now()). */
#include "endpoint.h"

/* Segments acknowledged one by one when a connection (or an idle one)
 * starts sending: covers the initial window and its first doubling. */
#define QUICKACK_SEGMENTS 16u
/* RFC 9293 3.7.1 / RFC 879: the MSS to assume before the peer's size is seen. */
#define DEFAULT_RCV_MSS 536u

void conn_ack_init(tou_conn_t *c) {
  c->delack_at = TOU_NEVER;
  c->rcv_mss = DEFAULT_RCV_MSS < c->ep->cfg.mss ? DEFAULT_RCV_MSS : c->ep->cfg.mss;
}

void conn_ack_now(tou_conn_t *c) {
  c->ack_pending = true;
  conn_want_output(c);
}

/* Quick ACK budget: at most one per two segments of the window (a smaller
 * window could not be filled by quick-ACKed slow start anyway). */
static void enter_quickack(tou_conn_t *c) {
  uint32_t by_window = (uint32_t)(c->rb.limit / (2 * (c->rcv_mss ? c->rcv_mss : 1)));
  c->quickacks = by_window < QUICKACK_SEGMENTS ? (by_window ? by_window : 1) : QUICKACK_SEGMENTS;
}

void conn_ack_on_data(tou_conn_t *c, uint64_t now, size_t len, bool out_of_order,
                      bool filled_hole) {
  /* A sender idle longer than an RTO restarts from its initial window
   * (RFC 5681 4.1): treat it as a new slow start. */
  if (!c->data_seen || now - c->last_data_at > tou_rtt_rto(&c->rtt)) enter_quickack(c);
  c->data_seen = true;
  c->last_data_at = now;
  if (len > c->rcv_mss) c->rcv_mss = len > c->ep->cfg.mss ? c->ep->cfg.mss : (uint32_t)len;
  c->rcv_unacked += (uint32_t)len;
  bool now_ack = out_of_order || filled_hole || c->ep->cfg.delack_us == 0;
  if (!now_ack && c->quickacks > 0) {
    c->quickacks--;
    now_ack = true;
  }
  /* "At least every second full-sized segment", counted in bytes so that
   * segments just under the MSS count too (as Linux does). */
  if (c->rcv_unacked > c->rcv_mss) now_ack = true;
  if (now_ack) {
    conn_ack_now(c);
    return;
  }
  c->stats.acks_delayed++;
  if (c->delack_at == TOU_NEVER) c->delack_at = now + c->ep->cfg.delack_us;
}

void conn_ack_on_sent(tou_conn_t *c, uint64_t now, uint32_t wnd_advertised) {
  (void)now;
  c->ack_pending = false;
  c->delack_at = TOU_NEVER;
  c->rcv_unacked = 0;
  c->last_ack_sent = c->rcv_nxt;
  c->rcv_wnd_adv = wnd_advertised;
  /* The edge the peer now sees: the acceptance test and the next
   * advertisement start from it (rcv_window.c keeps it from moving left,
   * but for the rounding of the scaled field, RFC 7323 2.4). Recording the
   * highest edge ever advertised instead would, with that rounding, keep a
   * few bytes open behind a window the peer sees as zero: its persist
   * probes would be accepted one byte at a time, each resetting its
   * backoff. */
  c->rcv_adv = c->rcv_nxt + wnd_advertised;
}

uint64_t conn_ack_deadline(const tou_conn_t *c) { return c->delack_at; }

void conn_ack_on_timer(tou_conn_t *c, uint64_t now) {
  if (c->delack_at > now) return;
  c->delack_at = TOU_NEVER;
  if (!conn_synchronized(c) || c->state == TOU_TIME_WAIT) return;
  c->stats.acks_delack_timer++;
  conn_ack_now(c);
}

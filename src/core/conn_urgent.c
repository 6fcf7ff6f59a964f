/* Urgent data (RFC 9293 3.8.5, RFC 6093): the data stays in the byte
 * stream; URG and the urgent pointer only tell the receiver where the
 * urgent data ends, so the application can read up to there quickly. The
 * pointer points to the octet just past the urgent data (RFC 9293 3.8.5,
 * RFC 6093 resolving RFC 1122's ambiguity). */
#include "endpoint.h"

/* Sending: every segment while SND.UP is ahead of its sequence number
 * carries URG and the offset (a pure ACK too, so the peer learns of urgent
 * data even while our data waits for its window). An offset beyond 16 bits
 * is sent as 65535, which still points past the segment (as Linux does). */
void conn_urgent_output(tou_conn_t *c, tou_segment_t *seg) {
  if (!c->snd_urg) return;
  if (!seq_gt(c->snd_up, c->snd_una)) {
    c->snd_urg = false; /* acknowledged: nothing urgent left */
    return;
  }
  if (!seq_gt(c->snd_up, seg->seq)) return;
  uint32_t off = c->snd_up - seg->seq;
  seg->flags |= TOU_URG;
  seg->urgent = (uint16_t)(off > 65535 ? 65535 : off);
}

int tou_conn_send_urgent(tou_conn_t *c, uint64_t now, const uint8_t *data, size_t len) {
  int n = tou_conn_send(c, now, data, len);
  if (n > 0) {
    c->snd_up = c->snd_data + (tou_seq_t)sendbuf_len(&c->sb);
    c->snd_urg = true;
  }
  return n;
}

/* RFC 9293 3.10.7.4, sixth: "if the URG bit is set, RCV.UP <-
 * max(RCV.UP, SEG.UP), and signal the user that the remote side has urgent
 * data if the urgent pointer is in advance of the data consumed". Only
 * where data can still arrive. */
void conn_urgent_input(tou_conn_t *c, const tou_segment_t *seg) {
  if (!(seg->flags & TOU_URG) || seg->urgent == 0 || c->eof) return;
  if (c->state != TOU_ESTABLISHED && c->state != TOU_FIN_WAIT_1 && c->state != TOU_FIN_WAIT_2)
    return;
  tou_seq_t up = seg->seq + seg->urgent;
  if (c->rcv_urg && !seq_gt(up, c->rcv_up)) return;
  c->rcv_up = up;
  c->rcv_urg = true;
  if (tou_conn_urgent_mark(c, NULL)) conn_raise(c, TOU_EV_URGENT);
}

bool tou_conn_urgent_mark(const tou_conn_t *c, size_t *until) {
  if (!c->rcv_urg) return false;
  /* The next byte tou_conn_recv() returns (RCV.NXT counts the FIN once
   * it is reached). */
  tou_seq_t read_seq = c->rcv_nxt - (c->eof ? 1 : 0) - (tou_seq_t)recvbuf_ready(&c->rb);
  if (!seq_gt(c->rcv_up, read_seq)) return false;
  if (until) *until = (size_t)(tou_seq_t)(c->rcv_up - read_seq);
  return true;
}

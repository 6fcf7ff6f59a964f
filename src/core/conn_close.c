/* Closing: FIN per direction and the four-way close (RFC 9293 3.6),
 * simultaneous close through CLOSING, TIME_WAIT hand-off to the endpoint,
 * RST sending and receiving. */
#include <string.h>

#include "endpoint.h"

bool conn_fin_acked(const tou_conn_t *c) {
  return c->fin_queued && conn_synchronized(c) && seq_gt(c->snd_una, c->fin_seq);
}

/* RFC 9293 3.10.4 CLOSE / shutdown of the sending side: the FIN follows
 * everything already queued. In SYN-SENT, and in SYN-RECEIVED with data
 * queued, it is only remembered (conn_established() comes back here); in
 * SYN-RECEIVED with nothing queued the FIN goes now, after our SYN. */
void conn_shutdown_send(tou_conn_t *c, uint64_t now) {
  if (c->fin_queued) return;
  c->fin_queued = true;
  if (c->state == TOU_SYN_RCVD && sendbuf_len(&c->sb) == 0) {
    c->fin_seq = c->snd_data;
    conn_set_state(c, now, TOU_FIN_WAIT_1);
    conn_want_output(c);
  } else if (c->state == TOU_ESTABLISHED || c->state == TOU_CLOSE_WAIT) {
    c->fin_seq = c->snd_data + (tou_seq_t)sendbuf_len(&c->sb);
    conn_set_state(c, now, c->state == TOU_ESTABLISHED ? TOU_FIN_WAIT_1 : TOU_LAST_ACK);
    conn_want_output(c);
  }
}

/* An application that closed cannot read: a FIN_WAIT_2 waiting for a peer
 * that never closes is bounded by 2*MSL (like Linux's tcp_fin_timeout). */
void conn_arm_linger(tou_conn_t *c, uint64_t now) {
  if (c->owner == CONN_OWNER_RELEASED && c->state == TOU_FIN_WAIT_2)
    c->linger_at = now + 2 * c->ep->cfg.msl_us;
}

void conn_on_fin_acked(tou_conn_t *c, uint64_t now) {
  switch (c->state) {
    case TOU_FIN_WAIT_1:
      conn_set_state(c, now, TOU_FIN_WAIT_2);
      conn_raise(c, TOU_EV_SHUTDOWN);
      conn_arm_linger(c, now);
      break;
    case TOU_CLOSING:
      conn_raise(c, TOU_EV_SHUTDOWN);
      conn_enter_time_wait(c, now, false);
      break;
    case TOU_LAST_ACK:
      conn_raise(c, TOU_EV_SHUTDOWN);
      conn_finish(c, now, 0);
      break;
    default:
      break;
  }
}

/* RFC 9293 3.10.7.4, eighth: the peer's FIN has been reached in sequence. */
void conn_on_fin_received(tou_conn_t *c, uint64_t now) {
  c->ack_pending = true;
  conn_raise(c, TOU_EV_READABLE);
  switch (c->state) {
    case TOU_SYN_RCVD:
    case TOU_ESTABLISHED:
      conn_set_state(c, now, TOU_CLOSE_WAIT);
      break;
    case TOU_FIN_WAIT_1: /* our FIN is not acknowledged yet (else FIN_WAIT_2) */
      conn_set_state(c, now, TOU_CLOSING);
      break;
    case TOU_FIN_WAIT_2:
      conn_enter_time_wait(c, now, true);
      return;
    default:
      break;
  }
  conn_want_output(c);
}

/* TIME_WAIT lives on as a compact endpoint record for 2*MSL; the connection
 * object leaves the tables (an application still holding it sees
 * TIME_WAIT and its error, 0). When the peer's FIN brought us here, the
 * record sends the ACK for it. */
void conn_enter_time_wait(tou_conn_t *c, uint64_t now, bool ack_their_fin) {
  tou_ep_t *ep = c->ep;
  conn_set_state(c, now, TOU_TIME_WAIT);
  ep_remove_conn(ep, c); /* frees the cid for the record */
  tou_tw_t *tw = tw_insert(&ep->tw, c->local_cid, now + 2 * ep->cfg.msl_us);
  if (tw != NULL) {
    tw->peer = c->peer;
    tw->remote_cid = c->remote_cid;
    tw->snd_nxt = c->snd_max;
    tw->rcv_nxt = c->rcv_nxt;
    tw->ts_ok = c->ts_ok;
    tw->ts_recent = c->ts_recent;
    tw->ts_offset = c->ts_offset;
  }
  if (ack_their_fin) {
    tou_segment_t a;
    memset(&a, 0, sizeof a);
    a.flags = TOU_ACK;
    a.dst_cid = c->remote_cid;
    a.src_cid = c->local_cid;
    a.seq = c->snd_max;
    a.ack = c->rcv_nxt;
    a.window = conn_window_field(c);
    conn_set_options(c, &a.opts, now, false);
    a.opts.present &= ~TOU_OPT_SACK;
    ep_queue_reply(ep, &c->peer, &a);
  }
  c->rtx_at = c->linger_at = TOU_NEVER;
  c->ack_pending = false;
  list_remove(&c->output_link);
  sendbuf_free(&c->sb);
  if (c->owner == CONN_OWNER_APP)
    conn_raise(c, TOU_EV_CLOSED);
  else
    ep_reap_later(ep, c);
}

/* RFC 9293 3.10.4 ABORT: <SEQ=SND.NXT><CTL=RST>. SND.NXT here is the highest
 * sequence number sent, which is what the peer expects if it received all
 * of it; if not, the peer's challenge ACK reaches the endpoint, which then
 * answers with an exact RST (RFC 5961 3.2). No RST before the peer's SYN. */
void conn_send_rst(tou_conn_t *c) {
  if (c->state == TOU_SYN_SENT || c->state == TOU_CLOSED || c->state == TOU_LISTEN) return;
  tou_segment_t r;
  memset(&r, 0, sizeof r);
  r.flags = TOU_RST;
  r.dst_cid = c->remote_cid;
  r.src_cid = c->local_cid;
  r.seq = c->snd_max;
  ep_queue_reply(c->ep, &c->peer, &r);
}

/* A passive half-open connection that a RST or a new SYN ends goes back to
 * LISTEN: for the listener it never existed (RFC 9293 3.10.7.4). */
void conn_return_to_listen(tou_conn_t *c, uint64_t now) {
  conn_set_state(c, now, TOU_LISTEN);
  ep_reap_later(c->ep, c);
}

/* The listener stops: connections nobody accepted are reset. */
void conn_abort_unaccepted(tou_conn_t *c) {
  conn_send_rst(c);
  c->owner = CONN_OWNER_RELEASED;
  ep_reap_later(c->ep, c);
}

/* RFC 9293 3.10.7.4, second check, for an exactly matching RST (RFC 5961). */
void conn_on_rst(tou_conn_t *c, uint64_t now) {
  switch (c->state) {
    case TOU_SYN_RCVD:
      if (c->passive && c->owner == CONN_OWNER_CORE)
        conn_return_to_listen(c, now);
      else
        conn_finish(c, now, TOU_ERR_REFUSED); /* simultaneous open refused */
      break;
    default:
      conn_finish(c, now, TOU_ERR_RESET);
      break;
  }
}

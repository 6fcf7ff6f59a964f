/* TCP-style keepalive (RFC 1122 4.2.3.6, Linux TCP_KEEPIDLE / KEEPINTVL /
 * KEEPCNT): a connection with nothing outstanding that has heard nothing
 * for keepalive_idle sends a probe, then one every keepalive_intvl; after
 * keepalive_cnt unanswered probes the peer is taken to be gone. With data
 * outstanding the retransmission timer (and the user timeout) watch the
 * peer instead. */
#include <string.h>

#include "endpoint.h"

static bool keepalive_state(const tou_conn_t *c) {
  return c->state == TOU_ESTABLISHED || c->state == TOU_CLOSE_WAIT || c->state == TOU_FIN_WAIT_2;
}

uint64_t keepalive_deadline(const tou_conn_t *c) {
  const tou_live_t *l = &c->live;
  if (!l->ka_on || !keepalive_state(c) || c->snd_una != c->snd_max) return TOU_NEVER;
  return l->ka_unanswered == 0 ? l->last_heard + l->ka_idle : l->ka_last_sent + l->ka_intvl;
}

bool keepalive_on_timer(tou_conn_t *c, uint64_t now) {
  tou_live_t *l = &c->live;
  if (now < keepalive_deadline(c)) return true;
  if (l->ka_unanswered >= l->ka_cnt) {
    /* As Linux: tell the peer, in case only its answers are lost. */
    conn_send_rst(c);
    conn_finish(c, now, TOU_ERR_TIMEDOUT);
    return false;
  }
  l->ka_unanswered++;
  l->ka_last_sent = now;
  l->ka_due = true;
  conn_want_output(c);
  return true;
}

void keepalive_heard(tou_conn_t *c) { c->live.ka_unanswered = 0; }

/* <SEQ=SND.UNA-1><ACK=RCV.NXT>: a sequence number the peer has already
 * acknowledged, so it is not acceptable and draws an ACK (RFC 9293
 * 3.10.7.4) without carrying data. */
void keepalive_build(tou_conn_t *c, uint64_t now, tou_segment_t *seg) {
  memset(seg, 0, sizeof *seg);
  seg->flags = TOU_ACK;
  seg->dst_cid = c->remote_cid;
  seg->src_cid = c->local_cid;
  seg->seq = c->snd_una - 1;
  seg->ack = c->rcv_nxt;
  seg->window = conn_window_field(c);
  conn_set_options(c, &seg->opts, now, false);
  seg->opts.present &= ~(uint32_t)TOU_OPT_SACK;
}

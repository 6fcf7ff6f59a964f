/* Opening: the three-way handshake (RFC 9293 3.5), simultaneous open, option
 * negotiation (RFC 7323 window scale and timestamps, RFC 2018 SACK). */
#include <string.h>

#include "endpoint.h"

static tou_seq_t choose_isn(tou_conn_t *c, uint64_t now) {
  return isn_generate(c->ep->isn_key, now, c->local_cid, c->remote_cid, &c->peer);
}

static void init_send_space(tou_conn_t *c, tou_seq_t iss) {
  c->iss = c->snd_una = c->snd_nxt = c->snd_max = iss;
  c->snd_data = iss + 1; /* the SYN takes one sequence number */
}

/* Options a SYN or SYN-ACK carries. An active opener offers everything; a
 * passive one (and a simultaneous opener, which already saw the peer's SYN)
 * answers with what the peer offered (RFC 7323 1.3, RFC 2018 2). */
static void syn_options(const tou_conn_t *c, tou_options_t *o, uint64_t now) {
  bool offer_all = c->state == TOU_SYN_SENT;
  o->present |= TOU_OPT_MSS;
  o->mss = (uint16_t)c->ep->cfg.mss;
  if (offer_all || c->wscale_ok) {
    o->present |= TOU_OPT_WSCALE;
    o->wscale = c->rcv_wscale;
  }
  if (offer_all || c->sack_ok) o->present |= TOU_OPT_SACK_PERM;
  if ((offer_all && !c->ep->cfg.no_timestamps) || c->ts_ok) {
    o->present |= TOU_OPT_TIMESTAMP;
    o->ts_val = (uint32_t)(now / 1000) + c->ts_offset;
    o->ts_ecr = c->ts_ok ? c->ts_recent : 0;
  }
}

void conn_set_options(tou_conn_t *c, tou_options_t *o, uint64_t now, bool syn) {
  memset(o, 0, sizeof *o);
  conn_uto_option(c, o); /* RFC 5482 */
  if (syn) {
    syn_options(c, o, now);
    return;
  }
  if (c->ts_ok) {
    o->present |= TOU_OPT_TIMESTAMP;
    o->ts_val = (uint32_t)(now / 1000) + c->ts_offset;
    o->ts_ecr = c->ts_recent;
  }
  if (c->sack_ok) conn_rec_sack_option(c, o); /* RFC 2018 order, RFC 2883 DSACK */
}

/* What the peer's SYN offers decides what is used: an option works only if
 * both SYNs carry it. Without an MSS option the IPv6-minimum payload is
 * assumed (the datagram fits any path tou supports). */
static void negotiate(tou_conn_t *c, const tou_options_t *o) {
  uint32_t mss = (o->present & TOU_OPT_MSS) && o->mss >= 64 ? o->mss : TOU_MSS_DEFAULT_V6;
  c->snd_mss = mss < c->ep->cfg.mss ? mss : c->ep->cfg.mss;
  c->wscale_ok = (o->present & TOU_OPT_WSCALE) != 0;
  c->snd_wscale = c->wscale_ok ? o->wscale : 0;
  if (!c->wscale_ok) c->rcv_wscale = 0;
  c->sack_ok = (o->present & TOU_OPT_SACK_PERM) != 0;
  c->ts_ok = (o->present & TOU_OPT_TIMESTAMP) != 0 && !c->ep->cfg.no_timestamps;
  if (c->ts_ok) c->ts_recent = o->ts_val;
  if (c->cwnd > 10 * c->snd_mss) c->cwnd = 10 * c->snd_mss;
}

/* The peer's SYN: RCV.NXT, IRS and its (unscaled, RFC 7323 2.2) window. */
static void take_peer_syn(tou_conn_t *c, const tou_segment_t *syn) {
  c->irs = syn->seq;
  c->rcv_nxt = syn->seq + 1;
  c->last_ack_sent = c->rcv_nxt; /* RFC 7323 4.3: the SYN's TSval is echoed */
  c->snd_wnd = syn->window;
  c->max_snd_wnd = c->snd_wnd;
  c->snd_wl1 = syn->seq;
  c->snd_wl2 = syn->ack;
  negotiate(c, &syn->opts);
  conn_uto_input(c, syn);
}

void conn_start_active(tou_conn_t *c, uint64_t now) {
  init_send_space(c, choose_isn(c, now));
  conn_set_state(c, now, TOU_SYN_SENT);
  c->syn_pending = true;
  conn_want_output(c);
}

void conn_start_passive(tou_conn_t *c, uint64_t now, const tou_segment_t *syn) {
  ep_set_remote_cid(c->ep, c, syn->src_cid);
  take_peer_syn(c, syn);
  init_send_space(c, choose_isn(c, now));
  conn_set_state(c, now, TOU_SYN_RCVD);
  c->syn_pending = true;
  conn_want_output(c);
}

/* The handshake completed. A passive connection needs room in the accept
 * queue; without it the ACK is ignored and the SYN-ACK retransmitted later
 * (as Linux does), so the caller must stop when this returns false. */
bool conn_established(tou_conn_t *c, uint64_t now) {
  if (c->passive && c->owner == CONN_OWNER_CORE && !listen_on_established(c->ep, c)) return false;
  c->syn_pending = false;
  c->retries = 0;
  conn_set_state(c, now, TOU_ESTABLISHED);
  if (!c->passive) conn_raise(c, TOU_EV_CONNECTED | TOU_EV_WRITABLE);
  if (c->fin_queued) {
    c->fin_queued = false; /* shutdown() arrived early; do it now */
    conn_shutdown_send(c, now);
  }
  conn_want_output(c);
  return true;
}

/* RFC 9293 3.10.7.3: SYN-SENT. */
void conn_syn_sent_input(tou_conn_t *c, uint64_t now, const tou_segment_t *seg) {
  bool ack_ok = false;
  if (seg->flags & TOU_ACK) {
    /* First: an ACK for something we never sent comes from an old or
     * foreign connection (Figure 9): reset it, keep our SYN going. */
    if (seq_leq(seg->ack, c->iss) || seq_gt(seg->ack, c->snd_max)) {
      if (!(seg->flags & TOU_RST)) {
        tou_segment_t r = {.flags = TOU_RST, .dst_cid = seg->src_cid, .src_cid = c->local_cid,
                           .seq = seg->ack};
        ep_queue_reply(c->ep, &c->peer, &r);
      }
      return;
    }
    ack_ok = true;
  }
  if (seg->flags & TOU_RST) {
    /* Second: RFC 5961 3.2 accepts a RST in SYN-SENT only if it
     * acknowledges our SYN; then the peer refused the connection. */
    if (ack_ok) conn_finish(c, now, TOU_ERR_REFUSED);
    return;
  }
  if (!(seg->flags & TOU_SYN)) return; /* fifth: neither SYN nor RST */
  if (c->remote_cid == 0) ep_set_remote_cid(c->ep, c, seg->src_cid);
  take_peer_syn(c, seg);
  if (ack_ok) {
    c->snd_una = seg->ack;
    if (c->syn_sends == 1) conn_rtt_sample(c, now, now - c->rtt_sent_at);
    c->rtt_timing = false;
    conn_stop_rtx(c);
    c->ack_pending = true; /* third step of the handshake */
    conn_established(c, now);
    if (seg->payload_len > 0 || (seg->flags & TOU_FIN)) conn_syn_text_input(c, now, seg);
    return;
  }
  /* Simultaneous open (Figure 7): our SYN crossed theirs. Answer with a
   * SYN-ACK that repeats our ISS; the RTO keeps running. */
  conn_set_state(c, now, TOU_SYN_RCVD);
  c->syn_pending = true;
  conn_want_output(c);
}

/* PROTOCOL.md 6: the peer's endpoint does not speak our version. We speak
 * only version 1, so there is nothing to retry with: the connect fails at
 * once, as a TCP connect fails on an ICMP "protocol unreachable" in
 * SYN-SENT (RFC 1122 4.2.3.9 counts it a hard error that aborts the
 * connection; Linux does so). A reject listing our own version is not
 * about this SYN (a conforming endpoint rejects only versions it lacks):
 * ignored, the SYN keeps being retransmitted. */
bool conn_syn_sent_version_reject(tou_conn_t *c, uint64_t now, const tou_version_reject_t *vr) {
  if (c->state != TOU_SYN_SENT) return false;
  for (unsigned i = 0; i < vr->version_count; i++)
    if (vr->versions[i] == TOU_WIRE_VERSION) return false;
  conn_finish(c, now, TOU_ERR_VERSION);
  return true;
}

/* A SYN in SYN-RECEIVED that repeats the one we answered: our SYN-ACK was
 * lost, send it again. */
void conn_syn_rcvd_retransmitted_syn(tou_conn_t *c, const tou_segment_t *seg) {
  (void)seg;
  c->syn_pending = true;
  conn_want_output(c);
}

/* Segment arrival in the states after SYN-SENT (RFC 9293 3.10.7.4), with the
 * RFC 5961 defences: exact-match RST, challenge ACKs for in-window RSTs and
 * for SYNs, and the ACK range check. One function per step of the RFC. */
#include <string.h>

#include "endpoint.h"

static uint32_t seg_len(const tou_segment_t *seg) {
  return (uint32_t)seg->payload_len + !!(seg->flags & TOU_SYN) + !!(seg->flags & TOU_FIN);
}

static uint32_t rcv_wnd(const tou_conn_t *c) {
  /* Once the peer's FIN is in, nothing more can be accepted. */
  return c->eof ? 0 : conn_window_to_advertise(c);
}

/* First check: the acceptability table of RFC 9293 3.10.7.4. A FIN alone
 * at RCV.NXT is also accepted with a zero window: it needs no buffer, and
 * refusing it would only stall the close. */
static bool seq_acceptable(const tou_conn_t *c, const tou_segment_t *seg) {
  uint32_t len = seg_len(seg), wnd = rcv_wnd(c);
  tou_seq_t lo = c->rcv_nxt, hi = c->rcv_nxt + wnd;
  if (len == 0) return wnd == 0 ? seg->seq == lo : seq_in_window(seg->seq, lo, hi);
  if (wnd == 0) return seg->payload_len == 0 && (seg->flags & TOU_FIN) && seg->seq == lo;
  return seq_in_window(seg->seq, lo, hi) || seq_in_window(seg->seq + len - 1, lo, hi);
}

/* RFC 5961 3/4/5: the reply to a suspicious segment is an ACK that tells
 * the real peer where we are; an attacker off-path learns nothing. */
void conn_challenge_ack(tou_conn_t *c, uint64_t now) {
  if (!ep_challenge_ack_allowed(c->ep, now)) return;
  c->ack_pending = true;
  conn_want_output(c);
}

/* Second check, RFC 5961 3.2: only a RST at exactly RCV.NXT resets; one
 * elsewhere in the window gets a challenge ACK; outside, it is dropped. */
static void rst_input(tou_conn_t *c, uint64_t now, const tou_segment_t *seg) {
  if (seg->seq == c->rcv_nxt) {
    conn_on_rst(c, now);
    return;
  }
  uint32_t wnd = rcv_wnd(c);
  if (seq_in_window(seg->seq, c->rcv_nxt, c->rcv_nxt + (wnd > 0 ? wnd : 1)))
    conn_challenge_ack(c, now);
}

static void take_ack(tou_conn_t *c, uint64_t now, tou_seq_t ack);

/* Fourth check, RFC 5961 4.2: a SYN in a synchronized state gets a
 * challenge ACK, whatever its sequence number. In SYN-RECEIVED two SYNs are
 * legitimate: the one we answered, again (our SYN-ACK was lost), and in a
 * simultaneous open the peer's SYN-ACK, which completes the handshake. */
static void syn_input(tou_conn_t *c, uint64_t now, const tou_segment_t *seg) {
  if (c->state == TOU_FIN_WAIT_1 && c->snd_una == c->iss && seg->seq == c->irs &&
      (seg->flags & TOU_ACK) && seq_gt(seg->ack, c->snd_una) && seq_leq(seg->ack, c->snd_max)) {
    /* Simultaneous open closed in SYN-RECEIVED: the peer's SYN-ACK
     * acknowledges our SYN (and maybe our FIN). */
    c->snd_wnd = seg->window;
    c->snd_wl1 = seg->seq;
    c->snd_wl2 = seg->ack;
    take_ack(c, now, seg->ack);
    c->ack_pending = true;
    conn_want_output(c);
    if (conn_fin_acked(c)) conn_on_fin_acked(c, now);
    return;
  }
  if (c->state == TOU_SYN_RCVD && seg->seq == c->irs) {
    if (!(seg->flags & TOU_ACK)) {
      conn_syn_rcvd_retransmitted_syn(c, seg);
      return;
    }
    if (seq_gt(seg->ack, c->snd_una) && seq_leq(seg->ack, c->snd_max)) {
      c->snd_una = seg->ack;
      c->snd_wnd = seg->window; /* a SYN's window is never scaled */
      c->snd_wl1 = seg->seq;
      c->snd_wl2 = seg->ack;
      conn_stop_rtx(c);
      c->ack_pending = true;
      conn_established(c, now);
      conn_want_output(c);
      return;
    }
  }
  conn_challenge_ack(c, now);
}

/* RFC 9293 3.10.7.4: the window is taken from an acceptable ACK
 * (SND.UNA =< SEG.ACK =< SND.NXT) that is newer than the segment that last
 * set it, with Linux's refinements (tcp_may_update_window):
 *  - an ACK that moves SND.UNA was sent after every segment seen so far
 *    (the peer's RCV.NXT only grows), so its window is the newest, whatever
 *    its SEG.SEQ: the peer's retransmission of old data, or its data from
 *    RCV.NXT after pure ACKs at RCV.NXT+1 were taken with our window closed
 *    (unacceptable_input), carry a SEG.SEQ below SND.WL1;
 *  - an ACK below SND.UNA is older than the one that moved it: its window
 *    is stale even when its SEG.SEQ is higher;
 *  - at an unchanged SEG.SEQ and SEG.ACK only a larger window, or a zero
 *    one, is taken: a receiver does not shrink its window (RFC 9293
 *    3.8.6.2.2), so a smaller one is a reordered older segment; a zero
 *    window is believed, as the receiver may close it when its buffer
 *    shrank, and a stale one costs only a persist probe. */
static bool window_update_allowed(const tou_conn_t *c, const tou_segment_t *seg,
                                  tou_seq_t prior_una) {
  if (seq_gt(seg->ack, prior_una)) return true;
  if (seq_lt(seg->ack, prior_una)) return false;
  if (seq_gt(seg->seq, c->snd_wl1)) return true;
  if (seg->seq != c->snd_wl1) return false;
  if (seq_gt(seg->ack, c->snd_wl2)) return true;
  uint32_t wnd = (uint32_t)seg->window << c->snd_wscale;
  return seg->ack == c->snd_wl2 && (wnd > c->snd_wnd || wnd == 0);
}

static void update_send_window(tou_conn_t *c, const tou_segment_t *seg, tou_seq_t prior_una) {
  if (!window_update_allowed(c, seg, prior_una)) return;
  c->snd_wnd = (uint32_t)seg->window << c->snd_wscale;
  c->snd_wl1 = seg->seq;
  c->snd_wl2 = seg->ack;
  if (c->snd_wnd > c->max_snd_wnd) c->max_snd_wnd = c->snd_wnd;
  conn_want_output(c);
}

/* New data acknowledged: free it, time it, grow the window, re-arm. */
static void take_ack(tou_conn_t *c, uint64_t now, tou_seq_t ack) {
  uint32_t acked = ack - c->snd_una;
  if (c->snd_una == c->iss) { /* this ACK covers our SYN */
    c->syn_pending = false;
    if (c->state == TOU_FIN_WAIT_1 && !c->passive) conn_raise(c, TOU_EV_CONNECTED);
  }
  if (seq_gt(ack, c->snd_data)) {
    size_t n = (size_t)(ack - c->snd_data);
    if (n > sendbuf_len(&c->sb)) n = sendbuf_len(&c->sb);
    if (n > 0) {
      sendbuf_consume(&c->sb, n);
      c->snd_data += (tou_seq_t)n;
      c->stats.bytes_acked += n;
      conn_raise(c, TOU_EV_WRITABLE);
    }
  }
  c->snd_una = ack;
  if (seq_lt(c->snd_nxt, c->snd_una)) c->snd_nxt = c->snd_una;
  if (c->rtt_timing && seq_geq(ack, c->rtt_seq)) {
    conn_rtt_sample(c, now, now - c->rtt_sent_at);
    c->rtt_timing = false;
  }
  conn_on_new_ack(c, now, acked);
}

/* Fifth check in SYN-RECEIVED: an ACK of our SYN completes the handshake;
 * any other ACK draws a reset (RFC 9293: <SEQ=SEG.ACK><CTL=RST>). */
static bool syn_rcvd_ack(tou_conn_t *c, uint64_t now, const tou_segment_t *seg) {
  if (!(seq_gt(seg->ack, c->snd_una) && seq_leq(seg->ack, c->snd_max))) {
    tou_segment_t r = {.flags = TOU_RST, .dst_cid = c->remote_cid, .src_cid = c->local_cid,
                       .seq = seg->ack};
    ep_queue_reply(c->ep, &c->peer, &r);
    return false;
  }
  if (!conn_established(c, now)) return false; /* accept queue full: ignore the ACK */
  c->snd_wnd = (uint32_t)seg->window << c->snd_wscale;
  c->max_snd_wnd = c->snd_wnd;
  c->snd_wl1 = seg->seq;
  c->snd_wl2 = seg->ack;
  take_ack(c, now, seg->ack);
  return true;
}

/* Fifth check in the synchronized states. Returns false when the segment
 * must not be processed further (dropped, or the connection ended). */
static bool ack_input(tou_conn_t *c, uint64_t now, const tou_segment_t *seg) {
  if (c->state == TOU_SYN_RCVD && !syn_rcvd_ack(c, now, seg)) return false;
  tou_seq_t ack = seg->ack;
  if (seq_gt(ack, c->snd_max)) {
    /* Acknowledges something not yet sent: ACK and drop. */
    c->ack_pending = true;
    conn_want_output(c);
    return false;
  }
  if (seq_lt(ack, c->snd_una - c->max_snd_wnd)) {
    /* RFC 5961 5.2: far too old to be genuine. */
    conn_challenge_ack(c, now);
    return false;
  }
  conn_rec_on_ack(c, now, seg); /* SACK, RACK-TLP, cwnd: before SND.UNA moves */
  tou_seq_t prior_una = c->snd_una;
  if (seq_gt(ack, c->snd_una)) take_ack(c, now, ack);
  update_send_window(c, seg, prior_una);
  if (c->snd_wnd == 0) c->retries = 0; /* the peer is alive, only not reading */
  if (conn_fin_acked(c) && (c->state == TOU_FIN_WAIT_1 || c->state == TOU_CLOSING ||
                            c->state == TOU_LAST_ACK)) {
    conn_on_fin_acked(c, now);
    if (c->state != TOU_FIN_WAIT_2) return false; /* TIME_WAIT or CLOSED: done */
  }
  return true;
}

/* The receive fast path (core.h, tou_deliver_fn): in-order bytes with
 * nothing buffered before or after them go to the application's sink.
 * What it takes is accounted as bytes written to the receive buffer and
 * read at once: RCV.NXT moves, and conn_rcv_on_read() sees the read
 * (autotuning, window update) exactly as tou_conn_recv() would have. */
static size_t deliver_direct(tou_conn_t *c, const uint8_t *p, size_t n) {
  const tou_config_t *cfg = &c->ep->cfg;
  if (!cfg->deliver || recvbuf_ready(&c->rb) > 0 || c->rb.nranges > 0) return 0;
  if (n > recvbuf_window(&c->rb)) n = recvbuf_window(&c->rb); /* as recvbuf_write cuts */
  if (n == 0) return 0;
  size_t took = cfg->deliver(cfg->deliver_ctx, c, p, n);
  if (took == 0) return 0;
  if (took > n) took = n;
  c->rcv_nxt += (tou_seq_t)took;
  c->stats.bytes_received += took;
  c->stats.bytes_delivered_direct += took;
  return took;
}

/* The read half of a direct delivery, once the segment is processed (its
 * ACK decision and FIN too), where a tou_conn_recv() right after
 * tou_ep_input() would have counted it. */
static void direct_read_done(tou_conn_t *c, uint64_t now, size_t took) {
  if (took > 0 && c->state != TOU_CLOSED) conn_rcv_on_read(c, now, took);
}

/* Seventh: segment text, in ESTABLISHED, FIN-WAIT-1 and FIN-WAIT-2.
 * Returns the bytes the delivery sink took (see direct_read_done). */
static size_t data_input(tou_conn_t *c, uint64_t now, const tou_segment_t *seg) {
  if (seg->payload_len == 0) return 0;
  if (c->state != TOU_ESTABLISHED && c->state != TOU_FIN_WAIT_1 && c->state != TOU_FIN_WAIT_2)
    return 0;
  if (c->owner == CONN_OWNER_RELEASED) {
    /* Nobody will read it (RFC 2525 2.17, as Linux): reset. */
    conn_send_rst(c);
    conn_finish(c, now, TOU_ERR_ABORTED);
    return 0;
  }
  const uint8_t *p = seg->payload;
  size_t n = seg->payload_len;
  tou_seq_t seq = seg->seq;
  if (seq_lt(seq, c->rcv_nxt)) { /* the front was received before */
    uint32_t skip = c->rcv_nxt - seq;
    if (skip >= n) {
      c->stats.dup_segs_received++;
      conn_rec_on_dup_data(c, seg->seq, seg->payload_len); /* DSACK, RFC 2883 */
      c->ack_pending = true;
      conn_want_output(c);
      return 0;
    }
    p += skip, n -= skip, seq = c->rcv_nxt;
  }
  size_t off = seq - c->rcv_nxt;
  if (c->fin_received) { /* nothing exists past the peer's FIN */
    size_t room = c->fin_rcv_seq - c->rcv_nxt;
    if (off >= room) return 0;
    if (n > room - off) n = room - off;
  }
  conn_rec_on_data(c, seq, n); /* SACK block order, DSACK (RFC 2018, 2883) */
  bool had_holes = c->rb.nranges > 0;
  size_t direct = off == 0 ? deliver_direct(c, p, n) : 0;
  int adv = direct == n ? 0 : recvbuf_write(&c->rb, off, p + direct, n - direct);
  if (adv > 0) {
    c->rcv_nxt += (tou_seq_t)adv;
    c->stats.bytes_received += (uint64_t)adv;
    /* Every in-order arrival is readable at once; PSH needs nothing more
     * (RFC 9293 3.9.1: nothing here waits to fill a buffer). */
    conn_raise(c, TOU_EV_READABLE);
  }
  conn_rcv_on_data(c, now, seg); /* receiver RTT for autotuning */
  /* RFC 5681 4.2: delayed unless it is out of order or fills a hole. */
  conn_ack_on_data(c, now, seg->payload_len, off > 0 || adv < 0, had_holes && off == 0);
  return direct;
}

/* Eighth: the FIN. Its position is remembered even when data before it is
 * still missing; it takes effect once RCV.NXT reaches it. */
static void fin_input(tou_conn_t *c, uint64_t now, const tou_segment_t *seg) {
  if ((seg->flags & TOU_FIN) && !c->fin_received && !c->eof) {
    tou_seq_t fseq = seg->seq + (tou_seq_t)seg->payload_len;
    if (seq_geq(fseq, c->rcv_nxt)) {
      c->fin_received = true;
      c->fin_rcv_seq = fseq;
    }
  }
  if (c->fin_received && !c->eof && c->rcv_nxt == c->fin_rcv_seq) {
    c->rcv_nxt++;
    c->eof = true;
    conn_on_fin_received(c, now);
  }
}

/* First check failed: ACK to resynchronise (a retransmitted FIN whose ACK
 * was lost, data we already have). A bare ACK that is out of window gets
 * at most one reply per OOW_ACK_INTERVAL_US: two ends that disagree would
 * otherwise answer each other's ACKs forever (the "ACK war" of RFC 5961
 * section 10; Linux's tcp_invalid_ratelimit). */
#define OOW_ACK_INTERVAL_US 500000u
static bool oow_ack_allowed(tou_conn_t *c, uint64_t now) {
  if (c->oow_ack_at != 0 && now - c->oow_ack_at < OOW_ACK_INTERVAL_US) return false;
  c->oow_ack_at = now;
  return true;
}

/* RFC 9293 3.10.7.4: with a zero receive window no data is acceptable, but
 * "special allowance should be made to accept valid ACKs, URGs, and RSTs".
 * A persist probe at RCV.NXT is answered at once with the (still closed)
 * window; its ACK field is processed. */
static void zero_window_input(tou_conn_t *c, uint64_t now, const tou_segment_t *seg) {
  if ((seg->flags & TOU_ACK) && !ack_input(c, now, seg)) return;
  conn_ts_update_recent(c, now, seg);
  conn_urgent_input(c, seg);
  conn_ack_now(c);
}

/* RFC 7323 5.3 R1: an old duplicate by its timestamp. ACK it (a bare ACK
 * at a limited rate, as an out-of-window one) and drop it. Data wholly
 * below RCV.NXT is reported as a duplicate (RFC 2883 DSACK, as Linux
 * does): typically the original of a segment whose retransmission arrived
 * first, and the DSACK is how the sender learns that retransmission was
 * spurious (RFC 3708, RACK's reordering window, RFC 8985 6.2). */
static void paws_input(tou_conn_t *c, uint64_t now, const tou_segment_t *seg) {
  if (seg->payload_len > 0 && seq_leq(seg->seq + (tou_seq_t)seg->payload_len, c->rcv_nxt)) {
    c->stats.dup_segs_received++;
    conn_rec_on_dup_data(c, seg->seq, seg->payload_len);
  }
  if (seg_len(seg) == 0 && !oow_ack_allowed(c, now)) return;
  conn_ack_now(c);
}

/* The same allowance for a segment without text or FIN at RCV.NXT+1 while
 * our window is zero: what a peer sends while its one-byte persist probe
 * is out beyond that window. Its pure ACKs carry SND.MAX = RCV.NXT+1
 * (conn_output.c), and the acceptability table would drop them with their
 * ACK field, so our own data would go unacknowledged until the window
 * opens. Nothing beyond RCV.NXT+1 can be legitimate: the window's right
 * edge is RCV.NXT (we do not shrink it) and a persist probe is one byte.
 * The RFC 5961 defences stay: ack_input() range-checks the ACK, RSTs and
 * SYNs never get here, PAWS ran before; a blind attacker gains nothing, as
 * this is a one-number window where an open one would accept RCV.WND.
 * Such a pure ACK draws no reply, as an acceptable one would not. */
static bool zero_window_ack(const tou_conn_t *c, const tou_segment_t *seg) {
  return seg_len(seg) == 0 && seg->seq == c->rcv_nxt + 1 && rcv_wnd(c) == 0 && !c->eof;
}

static void unacceptable_input(tou_conn_t *c, uint64_t now, const tou_segment_t *seg) {
  if (seg->payload_len > 0 && seg->seq == c->rcv_nxt && rcv_wnd(c) == 0 && !c->eof) {
    zero_window_input(c, now, seg);
    return;
  }
  if (zero_window_ack(c, seg)) {
    if (!(seg->flags & TOU_ACK) || !ack_input(c, now, seg)) return;
    conn_ts_update_recent(c, now, seg); /* conn_ts.c: not past Last.ACK.sent */
    conn_urgent_input(c, seg);
    return;
  }
  /* Only data wholly below RCV.NXT is a duplicate (RFC 2883 DSACK); data
   * beyond the window was never received. */
  if (seg->payload_len > 0 && seq_leq(seg->seq + (tou_seq_t)seg->payload_len, c->rcv_nxt)) {
    c->stats.dup_segs_received++;
    conn_rec_on_dup_data(c, seg->seq, seg->payload_len);
    conn_ts_update_recent(c, now, seg); /* conn_ts.c: echo the retransmission */
  }
  if (seg_len(seg) == 0 && !oow_ack_allowed(c, now)) return;
  conn_ack_now(c);
}

/* RFC 9293 3.10.7.3: text and FIN carried by a SYN-ACK are processed as in
 * ESTABLISHED once the handshake completed. Their sequence numbers start
 * after the SYN. */
void conn_syn_text_input(tou_conn_t *c, uint64_t now, const tou_segment_t *synack) {
  tou_segment_t s = *synack;
  s.flags &= (uint8_t)~TOU_SYN;
  s.seq += 1;
  size_t direct = data_input(c, now, &s);
  if (c->state == TOU_CLOSED) return;
  fin_input(c, now, &s);
  direct_read_done(c, now, direct);
}

static void synchronized_input(tou_conn_t *c, uint64_t now, const tou_segment_t *seg) {
  if (seg->flags & TOU_RST) {
    rst_input(c, now, seg);
    return;
  }
  if (seg->flags & TOU_SYN) {
    syn_input(c, now, seg);
    return;
  }
  if (conn_paws_reject(c, now, seg)) {
    paws_input(c, now, seg);
    return;
  }
  if (!seq_acceptable(c, seg)) {
    unacceptable_input(c, now, seg);
    return;
  }
  if (!(seg->flags & TOU_ACK)) return;
  if (!ack_input(c, now, seg)) return;
  conn_ts_update_recent(c, now, seg);
  conn_uto_input(c, seg); /* RFC 5482: only from acceptable segments */
  conn_urgent_input(c, seg); /* sixth: the URG bit */
  size_t direct = data_input(c, now, seg);
  if (c->state == TOU_CLOSED) return;
  fin_input(c, now, seg);
  direct_read_done(c, now, direct);
}

void conn_input(tou_conn_t *c, uint64_t now, const tou_segment_t *seg) {
  c->stats.segs_received++;
  if (!conn_live_on_input(c, now, seg)) return; /* a link probe: handled there only */
  switch (c->state) {
    case TOU_SYN_SENT:
      conn_syn_sent_input(c, now, seg);
      break;
    case TOU_CLOSED:
    case TOU_LISTEN:
    case TOU_TIME_WAIT:
      break; /* such connections are not in the tables */
    default:
      synchronized_input(c, now, seg);
      break;
  }
  conn_live_after_input(c, now);
}

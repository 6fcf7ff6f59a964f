/* What a connection sends and when: SYN / SYN-ACK, data within
 * min(send window, cwnd), FIN after the data, and ACKs. One segment per call;
 * the endpoint encodes it. */
#include <string.h>

#include "endpoint.h"

static void header(tou_conn_t *c, uint64_t now, tou_segment_t *seg, tou_seq_t seq) {
  memset(seg, 0, sizeof *seg);
  seg->dst_cid = c->remote_cid;
  seg->src_cid = c->local_cid;
  seg->seq = seq;
  seg->flags = TOU_ACK;
  seg->ack = c->rcv_nxt;
  seg->window = conn_window_field(c);
  conn_set_options(c, &seg->opts, now, false);
  conn_urgent_output(c, seg); /* RFC 9293 3.8.5 */
  conn_ack_on_sent(c, now, (uint32_t)seg->window << (c->wscale_ok ? c->rcv_wscale : 0));
}

/* RFC 9293 3.7.1 and RFC 6691: the MSS counts payload only, and the sender
 * MUST reduce the data it puts in a segment by the options that segment
 * carries. Without this a 1444-byte payload with timestamps made 1512-byte
 * IPv4 packets on a 1500-byte path: fragmented, and no UDP GSO. */
size_t conn_payload_budget(const tou_conn_t *c, const tou_options_t *o) {
  size_t opt = tou_wire_options_size(o);
  return c->snd_mss > opt ? c->snd_mss - opt : 0;
}

size_t conn_data_payload_budget(const tou_conn_t *c) {
  tou_options_t o;
  memset(&o, 0, sizeof o);
  if (c->ts_ok) o.present |= TOU_OPT_TIMESTAMP;
  if (c->sack_ok) o.sack_count = (uint8_t)conn_rec_sack_bound(c);
  if (o.sack_count) o.present |= TOU_OPT_SACK;
  if (c->live.uto_pending) o.present |= TOU_OPT_UTO; /* RFC 5482, after a change */
  return conn_payload_budget(c, &o);
}

uint32_t conn_smss(const tou_conn_t *c) {
  tou_options_t o;
  memset(&o, 0, sizeof o);
  if (c->ts_ok) o.present |= TOU_OPT_TIMESTAMP;
  size_t budget = conn_payload_budget(c, &o);
  return budget > 0 ? (uint32_t)budget : 1;
}

/* Bookkeeping for anything that takes sequence space. */
static void sent_seq_space(tou_conn_t *c, uint64_t now, tou_seq_t seq, uint32_t len) {
  tou_seq_t end = seq + len;
  conn_rec_on_sent(c, now, seq, len);
  if (seq_lt(seq, c->snd_max)) {
    c->stats.segs_retransmitted++;
  } else if (!c->rtt_timing && !c->rec.active) {
    /* Karn: time only segments sent once (the scoreboard times data). */
    c->rtt_timing = true;
    c->rtt_seq = end;
    c->rtt_sent_at = now;
  }
  c->snd_nxt = end;
  if (seq_gt(end, c->snd_max)) c->snd_max = end;
  if (c->rtx_at == TOU_NEVER) conn_arm_rtx(c, now);
}

/* SYN (SYN-SENT) or SYN-ACK (SYN-RECEIVED): always at ISS, window
 * unscaled (RFC 7323 2.2). The SYN is the only segment without an ACK and
 * with dst_cid 0: the peer's id is not known yet. */
static void build_syn(tou_conn_t *c, uint64_t now, tou_segment_t *seg) {
  memset(seg, 0, sizeof *seg);
  seg->src_cid = c->local_cid;
  seg->seq = c->iss;
  seg->flags = TOU_SYN;
  if (c->state != TOU_SYN_SENT) { /* SYN-ACK */
    seg->flags |= TOU_ACK;
    seg->dst_cid = c->remote_cid;
    seg->ack = c->rcv_nxt;
  }
  uint32_t w = conn_window_to_advertise(c);
  seg->window = (uint16_t)(w > 65535 ? 65535 : w);
  conn_set_options(c, &seg->opts, now, true);
  c->syn_pending = false;
  conn_ack_on_sent(c, now, seg->window);
  if (c->syn_sends++ > 0) {
    c->stats.segs_retransmitted++;
  } else {
    c->rtt_timing = true;
    c->rtt_sent_at = now;
    c->rtt_seq = c->iss + 1;
  }
  if (seq_gt(c->iss + 1, c->snd_max)) c->snd_max = c->iss + 1;
  c->snd_nxt = c->iss + 1;
  if (c->rtx_at == TOU_NEVER) conn_arm_rtx(c, now);
}

/* The payload where it lies in the send buffer, never copied here: one
 * piece, or two across the ring's wrap point (seg->payload is the first;
 * the endpoint encodes or hands out both). */
static void set_payload(const tou_conn_t *c, tou_segment_t *seg, size_t off, size_t n,
                        tou_payload_ref_t *pieces) {
  sendbuf_peek(&c->sb, off, n, &pieces->data[0], &pieces->len[0], &pieces->data[1],
               &pieces->len[1]);
  seg->payload = pieces->data[0];
  seg->payload_len = n;
}

/* How many payload bytes go now: a full segment, or the tail when nothing
 * else is in flight (Nagle, RFC 9293 3.7.4) or with nodelay, or anything
 * when the FIN follows. Less than a segment that only the window holds back
 * waits (sender SWS avoidance, RFC 9293 3.8.6.2.1) until the persist timer
 * (its "override timeout") sets probe_pending: then what the window allows
 * goes, or one byte into a zero window. */
static size_t data_to_send(tou_conn_t *c, size_t cap, bool *fin) {
  size_t mss = conn_data_payload_budget(c);
  uint32_t flight = c->snd_nxt - c->snd_una;
  size_t usable = c->snd_wnd > flight ? c->snd_wnd - flight : 0;
  uint32_t room = conn_rec_cwnd_room(c); /* cwnd minus the RFC 6675 pipe */
  if (usable > room) usable = room;
  size_t off = (size_t)(tou_seq_t)(c->snd_nxt - c->snd_data);
  size_t avail = off < sendbuf_len(&c->sb) ? sendbuf_len(&c->sb) - off : 0;
  size_t n = avail;
  if (n > usable) n = usable;
  if (n > mss) n = mss;
  if (n > cap) n = cap;
  bool probe = c->probe_pending && flight == 0 && avail > 0;
  c->probe_pending = false;
  if (probe && n == 0) n = 1;
  *fin = c->fin_queued && c->snd_nxt + (tou_seq_t)n == c->fin_seq && n == avail;
  if (n == 0 || probe) return n;
  bool full = n == mss;
  bool tail = n == avail;
  if (!full && !(tail && (flight == 0 || c->ep->cfg.nodelay || c->fin_queued))) {
    *fin = false;
    return 0; /* wait for a full segment or for the ACK of what is out */
  }
  return n;
}

static bool build_data(tou_conn_t *c, uint64_t now, tou_segment_t *seg, size_t cap,
                       tou_payload_ref_t *pieces) {
  if (c->state == TOU_SYN_RCVD || seq_lt(c->snd_nxt, c->snd_data))
    return false; /* data waits for the handshake; our SYN goes first */
  if (!conn_rec_pacing_ok(c, now)) return false;
  bool fin;
  size_t n = data_to_send(c, cap, &fin);
  if (n == 0 && !fin) return false;
  tou_seq_t seq = c->snd_nxt;
  header(c, now, seg, seq);
  size_t budget = conn_payload_budget(c, &seg->opts);
  if (n > budget) { /* cannot happen: the estimate bounds the options */
    n = budget;
    fin = false;
  }
  if (n > 0) {
    set_payload(c, seg, (size_t)(tou_seq_t)(seq - c->snd_data), n, pieces);
    c->stats.bytes_sent += n;
    if (seq_geq(seq + (tou_seq_t)n, c->snd_data + (tou_seq_t)sendbuf_len(&c->sb)))
      seg->flags |= TOU_PSH;
  }
  if (fin) seg->flags |= TOU_FIN;
  sent_seq_space(c, now, seq, (uint32_t)n + (fin ? 1 : 0));
  return true;
}

/* A segment first sent with fewer option bytes than it carries now (SACK
 * blocks appeared since) no longer fits in one datagram: it is split, and
 * its first part goes now (the rest is another scoreboard entry, resent in
 * turn). Only if the scoreboard is full are the SACK blocks dropped instead
 * (RFC 2018 blocks are advisory; the ACK field says what matters). */
static bool fit_retransmit(tou_conn_t *c, tou_segment_t *seg, tou_seq_t seq, uint32_t *len) {
  bool fin = c->fin_queued && seq + *len == c->fin_seq + 1;
  size_t n = *len - (fin ? 1 : 0);
  size_t budget = conn_payload_budget(c, &seg->opts);
  if (n <= budget) return true;
  if (seg->opts.present & TOU_OPT_UTO) {
    /* The user-timeout announcement (RFC 5482) rides on a later segment
     * rather than splitting this one. */
    seg->opts.present &= ~(uint32_t)TOU_OPT_UTO;
    budget = conn_payload_budget(c, &seg->opts);
    if (n <= budget) return true;
  }
  if (budget > 0 && conn_rec_split(c, seq, (uint32_t)budget)) {
    *len = (uint32_t)budget;
    return true;
  }
  seg->opts.present &= ~(uint32_t)TOU_OPT_SACK;
  seg->opts.sack_count = 0;
  return n <= conn_payload_budget(c, &seg->opts);
}

/* A segment the loss-recovery module wants resent (RACK/dupack loss, the
 * one segment an RTO owes, a tail loss probe), rebuilt from the send
 * buffer with its original boundaries. SND.NXT does not move. */
static bool build_retransmit(tou_conn_t *c, uint64_t now, tou_segment_t *seg, size_t cap,
                             tou_payload_ref_t *pieces) {
  tou_seq_t seq;
  uint32_t len;
  if (!conn_rec_next_retransmit(c, now, &seq, &len)) return false;
  header(c, now, seg, seq);
  if (!fit_retransmit(c, seg, seq, &len)) return false;
  bool fin = c->fin_queued && seq + len == c->fin_seq + 1;
  size_t n = len - (fin ? 1 : 0);
  size_t off = (size_t)(tou_seq_t)(seq - c->snd_data);
  if (n > cap || off + n > sendbuf_len(&c->sb)) return false; /* cannot happen */
  if (n > 0) {
    set_payload(c, seg, off, n, pieces);
    c->stats.bytes_sent += n;
    if (off + n == sendbuf_len(&c->sb)) seg->flags |= TOU_PSH; /* as when first sent */
  }
  if (fin) seg->flags |= TOU_FIN;
  c->stats.segs_retransmitted++;
  conn_rec_on_sent(c, now, seq, len);
  if (c->rtx_at == TOU_NEVER) conn_arm_rtx(c, now);
  return true;
}

/* Data waiting, nothing in flight, and yet nothing sent: the window holds
 * it back. A window update can be lost, so the persist timer must run
 * (RFC 9293 3.8.6.1); without it the connection would stall silently. */
static void arm_persist_if_stalled(tou_conn_t *c, uint64_t now) {
  if (c->rtx_at != TOU_NEVER || c->snd_nxt != c->snd_una) return;
  size_t off = (size_t)(tou_seq_t)(c->snd_nxt - c->snd_data);
  if (off < sendbuf_len(&c->sb)) conn_arm_rtx(c, now);
}

/* SEG.SEQ of a segment that takes no sequence space (an ACK, a window
 * update). It must pass the peer's acceptability test (RFC 9293 3.10.7.4):
 * RCV.NXT <= SEG.SEQ < RCV.NXT+RCV.WND. SND.NXT is wrong for it: an RTO
 * rewinds SND.NXT to SND.UNA, and a peer whose ACKs were lost already holds
 * data beyond that, so it would drop our ACK field (and answer with an ACK
 * of its own). SND.MAX is never below the peer's RCV.NXT. */
static tou_seq_t ack_only_seq(const tou_conn_t *c) { return c->snd_max; }

bool conn_next_segment(tou_conn_t *c, uint64_t now, tou_segment_t *seg, size_t payload_cap,
                       tou_payload_ref_t *pieces) {
  bool sent = false;
  *pieces = (tou_payload_ref_t){{NULL, NULL}, {0, 0}};
  /* Our SYN is due while unacknowledged: in SYN-SENT, SYN-RECEIVED, and in
   * FIN-WAIT-1 after a CLOSE in SYN-RECEIVED. */
  if (c->snd_una == c->iss && c->state != TOU_CLOSED && c->state != TOU_TIME_WAIT) {
    if (c->syn_pending) {
      build_syn(c, now, seg);
      sent = true;
    }
  }
  if (!sent) sent = conn_live_next_segment(c, now, seg); /* link probe, keepalive */
  if (!sent && conn_synchronized(c) && c->state != TOU_TIME_WAIT)
    sent = build_retransmit(c, now, seg, payload_cap, pieces);
  if (!sent && conn_synchronized(c) && c->state != TOU_TIME_WAIT)
    sent = build_data(c, now, seg, payload_cap, pieces);
  if (!sent && c->ack_pending && c->state != TOU_SYN_SENT) {
    header(c, now, seg, ack_only_seq(c));
    sent = true;
  }
  if (sent) {
    c->stats.segs_sent++;
    conn_uto_on_sent(c, seg);
  } else if (conn_synchronized(c)) {
    arm_persist_if_stalled(c, now);
  }
  return sent;
}

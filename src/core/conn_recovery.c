/* The data phase's reliability and congestion control (see conn_recovery.h):
 * glue from the connection to scoreboard.c, rack.c, cc_*.c, pacer.c, rtt.c. */
#include "conn_recovery.h"

#include "alloc.h"
#include "endpoint.h"

/* Scoreboard entries per connection: every segment of a full send buffer
 * twice over (small segments from Nagle-less writers), plus the FIN and
 * persist probes. When the ring is full new data waits for ACKs. */
static uint32_t ring_entries(const tou_conn_t *c) {
  uint64_t n = (uint64_t)c->ep->cfg.send_buffer / (c->snd_mss ? c->snd_mss : 1) * 2 + 16;
  return n > (1u << 20) ? (1u << 20) : (uint32_t)n;
}

static const tou_cc_ops_t *algorithm(const tou_conn_t *c) {
  const tou_cc_ops_t *ops = tou_cc_find(c->ep->cfg.cc_algorithm);
  return ops ? ops : tou_cc_find(NULL);
}

/* The connection's own fields mirror cwnd/ssthresh for tracing and info. */
static void mirror_cwnd(tou_conn_t *c) {
  c->cwnd = c->rec.cc.cwnd;
  c->ssthresh = c->rec.cc.ssthresh;
}

void conn_rec_init(tou_conn_t *c, uint64_t now) {
  conn_rec_t *r = &c->rec;
  *r = (conn_rec_t){0};
  tou_cc_init(&r->cc, algorithm(c), c->snd_mss, now);
  tou_pacer_init(&r->pacer, c->snd_mss, (uint64_t)TOU_CC_INITIAL_SEGMENTS * c->snd_mss, now);
  tou_rack_init(&r->rack, false);
  r->reo_at = r->pto_at = r->pace_at = TOU_NEVER;
  mirror_cwnd(c);
}

void conn_rec_free(tou_conn_t *c) {
  conn_rec_t *r = &c->rec;
  if (r->sb.segs) tou_mem_free(&c->ep->cfg.allocator, r->sb.segs);
  r->sb.segs = NULL;
  r->active = false;
  r->reo_at = r->pto_at = r->pace_at = TOU_NEVER;
}

/* The scoreboard's first ring: the initial window and a FIN or probe; it
 * doubles as the flight grows, up to ring_entries() (scoreboard.h). */
#define SB_FIRST_ENTRIES 16u

/* First data transmission: the MSS and SACK are negotiated by now. */
static bool start(tou_conn_t *c, uint64_t now) {
  conn_rec_t *r = &c->rec;
  if (r->active) return true;
  uint32_t max = ring_entries(c), cap = max < SB_FIRST_ENTRIES ? max : SB_FIRST_ENTRIES;
  tou_sb_seg_t *segs = tou_mem_alloc(&c->ep->cfg.allocator, (size_t)cap * sizeof *segs);
  if (segs == NULL) {
    r->pace_at = now + 10000; /* retry soon rather than stall silently */
    return false;
  }
  /* Windows count in SMSS, the payload of a full data segment (conn_smss:
   * SND.MSS less the timestamp option), so that IW10 is ten such segments
   * (RFC 6928) and the loss window one (RFC 5681). */
  uint32_t smss = conn_smss(c);
  tou_cc_init(&r->cc, algorithm(c), smss, now);
  tou_pacer_init(&r->pacer, smss, (uint64_t)TOU_CC_INITIAL_SEGMENTS * smss, now);
  tou_pacer_set_rate(&r->pacer, tou_pacer_rate_for(&r->cc, tou_rtt_srtt(&c->rtt)), now);
  tou_rack_init(&r->rack, c->sack_ok);
  tou_sb_init(&r->sb, segs, cap, smss, c->snd_nxt);
  tou_sb_set_growth(&r->sb, &c->ep->cfg.allocator, max);
  r->active = true;
  mirror_cwnd(c);
  return true;
}

uint32_t conn_rec_cwnd_room(const tou_conn_t *c) {
  const conn_rec_t *r = &c->rec;
  if (!r->active) return r->cc.cwnd;
  if (tou_sb_full(&r->sb)) return 0;
  uint64_t pipe = tou_sb_in_flight(&r->sb);
  uint32_t room = r->cc.cwnd > pipe ? (uint32_t)(r->cc.cwnd - pipe) : 0;
  if (r->tlp_new_owed && room < r->cc.mss) room = r->cc.mss; /* RFC 8985 7.3 */
  return room;
}

bool conn_rec_pacing_ok(tou_conn_t *c, uint64_t now) {
  conn_rec_t *r = &c->rec;
  if (!r->active) return start(c, now);
  if (r->rto_rtx_owed || r->tlp_new_owed || r->tlp_rtx_owed) return true;
  uint64_t at = tou_pacer_next_send_time(&r->pacer, r->cc.mss, now);
  if (at <= now) return true;
  if (at < r->pace_at || r->pace_at <= now) r->pace_at = at;
  return false;
}

bool conn_rec_next_retransmit(tou_conn_t *c, uint64_t now, tou_seq_t *seq, uint32_t *len) {
  conn_rec_t *r = &c->rec;
  if (!r->active || tou_sb_empty(&r->sb)) return false;
  tou_sb_seg_t *s = NULL;
  if (r->rto_rtx_owed) {
    /* RFC 6298 5.4: the earliest outstanding segment, whatever cwnd says. */
    s = tou_sb_next_lost(&r->sb);
    if (s == NULL) s = tou_sb_at(&r->sb, 0);
  } else if (r->tlp_rtx_owed) {
    s = tou_sb_at(&r->sb, r->sb.count - 1); /* RFC 8985 7.3: the last segment */
  } else {
    s = tou_sb_next_lost(&r->sb);
    if (s == NULL) return false;
    uint64_t pipe = tou_sb_in_flight(&r->sb);
    if (pipe + s->len > r->cc.cwnd) return false;
    if (!conn_rec_pacing_ok(c, now)) return false;
  }
  *seq = s->seq;
  *len = s->len;
  return true;
}

bool conn_rec_split(tou_conn_t *c, tou_seq_t seq, uint32_t first_len) {
  return c->rec.active && tou_sb_split(&c->rec.sb, seq, first_len) == TOU_OK;
}

/* Our TSval now (conn_open.c writes the same into every segment). */
static uint32_t our_tsval(const tou_conn_t *c, uint64_t now) {
  return (uint32_t)(now / 1000) + c->ts_offset;
}

static uint64_t rto_deadline(const tou_conn_t *c, uint64_t now) {
  return c->rtx_at != TOU_NEVER ? c->rtx_at : now + tou_rtt_rto(&c->rtt);
}

static void arm_pto(tou_conn_t *c, uint64_t now) {
  conn_rec_t *r = &c->rec;
  r->pto_at = tou_rack_pto_deadline(&r->rack, &r->sb, tou_rtt_srtt(&c->rtt),
                                    rto_deadline(c, now), now);
}

void conn_rec_on_sent(tou_conn_t *c, uint64_t now, tou_seq_t seq, uint32_t len) {
  conn_rec_t *r = &c->rec;
  if (!r->active || len == 0) return;
  if (seq_lt(seq, r->sb.snd_nxt)) {
    bool last = r->sb.count && tou_sb_at(&r->sb, r->sb.count - 1)->seq == seq;
    /* A probe split to fit its options (conn_output.c) sends the first
     * part of the last segment: it is still the probe. */
    if (r->sb.count >= 2 && tou_sb_at(&r->sb, r->sb.count - 2)->seq == seq &&
        tou_sb_at(&r->sb, r->sb.count - 1)->seq == seq + len)
      last = true;
    (void)tou_sb_on_retransmit(&r->sb, seq, now);
    if (r->tlp_rtx_owed && last) tou_rack_tlp_sent(&r->rack, &r->sb, true);
    r->tlp_rtx_owed = false;
    r->rto_rtx_owed = false;
    tou_prr_on_sent(&r->prr, len);
    tou_undo_on_retransmit(&r->undo, c->ts_ok, our_tsval(c, now));
  } else {
    if (tou_sb_on_send(&r->sb, seq, len, now) != TOU_OK) return; /* cannot happen: room was checked */
    tou_prr_on_sent(&r->prr, len);
    if (r->tlp_new_owed) tou_rack_tlp_sent(&r->rack, &r->sb, false);
    r->tlp_new_owed = false;
    arm_pto(c, now); /* RFC 8985 7.2: restart the PTO after new data */
  }
  tou_pacer_on_send(&r->pacer, len, now);
}

/* RFC 7323 4.1 (RTTM): our TSval clock is milliseconds plus a random
 * per-connection offset (conn_open.c); the echo tells when the segment that
 * triggered this ACK left. 0 when there is no usable echo. */
static uint64_t timestamp_rtt(const tou_conn_t *c, const tou_segment_t *seg, uint64_t now) {
  if (!c->ts_ok || !(seg->opts.present & TOU_OPT_TIMESTAMP)) return 0;
  uint32_t now_ms = (uint32_t)(now / 1000) + c->ts_offset;
  uint32_t rtt_ms = now_ms - seg->opts.ts_ecr;
  if (rtt_ms > 60u * 1000) return 0; /* a stale or forged echo */
  return rtt_ms ? (uint64_t)rtt_ms * 1000 : 500; /* half a tick for "under 1 ms" */
}

/* The millisecond of our clock in which the segment whose TSval this ACK
 * echoes left (RFC 7323), or TOU_SB_NO_ECHO. */
static uint64_t echo_ms(const tou_conn_t *c, const tou_segment_t *seg, uint64_t now) {
  if (!c->ts_ok || !(seg->opts.present & TOU_OPT_TIMESTAMP)) return TOU_SB_NO_ECHO;
  uint32_t age = our_tsval(c, now) - seg->opts.ts_ecr;
  uint64_t now_ms = now / 1000;
  if (age > 60u * 1000 || age > now_ms) return TOU_SB_NO_ECHO; /* stale or forged */
  return now_ms - age;
}

/* Unsent data the peer's window would take: only cwnd or pacing hold it. */
static bool backlogged(const tou_conn_t *c) {
  size_t off = (size_t)(tou_seq_t)(c->snd_nxt - c->snd_data);
  if (off >= sendbuf_len(&c->sb)) return false;
  return (uint64_t)(c->snd_nxt - c->snd_una) + c->snd_mss <= c->snd_wnd;
}

/* RFC 5681 section 2: a duplicate ACK acknowledges nothing new, carries no
 * data, SYN or FIN, leaves the window unchanged, while data is outstanding. */
static bool is_dupack(const tou_conn_t *c, const tou_segment_t *seg) {
  return seg->ack == c->snd_una && seg->payload_len == 0 &&
         !(seg->flags & (TOU_SYN | TOU_FIN)) &&
         ((uint32_t)seg->window << c->snd_wscale) == c->snd_wnd && c->snd_una != c->snd_max;
}

/* What one ACK (or the reordering timer) changed, for PRR. */
typedef struct prr_input {
  uint64_t recover_fs;     /* RFC 9937 6.1 RecoverFS, should a phase begin */
  uint64_t delivered_data; /* RFC 9937 DeliveredData */
  bool safe_ack;           /* SND.UNA advanced and no further loss indicated */
} prr_input_t;

static void congestion_response(tou_conn_t *c, uint64_t now, const tou_rack_ack_t *ra,
                                uint32_t prior_in_flight, const prr_input_t *pi) {
  conn_rec_t *r = &c->rec;
  tou_cc_t *cc = &r->cc;
  if (ra->recovery_exit) {
    tou_prr_stop(&r->prr);
    tou_cc_on_recovery_exit(cc, now);
    tou_undo_close(&r->undo);
  }
  if (ra->congestion_event) {
    /* A new episode right after the last (a retransmission was lost):
     * that loss is real, nothing of it to undo. */
    if (ra->recovery_exit) tou_undo_disarm(&r->undo);
    else tou_undo_arm(&r->undo, cc, r->sb.snd_una, false);
    tou_cc_on_congestion_event(cc, now, prior_in_flight);
    tou_prr_start(&r->prr, cc->ssthresh, cc->mss, pi->recover_fs);
  }
  if (ra->tlp_loss_repaired) {
    tou_cc_on_congestion_event(cc, now, prior_in_flight);
    tou_cc_on_recovery_exit(cc, now);
  }
  /* RFC 9937: during fast recovery cwnd is pipe + sndcnt after each ACK. */
  if (r->prr.active && cc->in_recovery) {
    uint64_t cwnd = tou_prr_on_ack(&r->prr, pi->delivered_data, tou_sb_in_flight(&r->sb),
                                   pi->safe_ack, cc->cwnd);
    tou_cc_set_cwnd(cc, cwnd);
  }
}

/* Bytes the peer holds above SND.UNA by the scoreboard's account: SACKed,
 * or credited by duplicate ACKs without SACK. */
static uint64_t held_above_una(const tou_scoreboard_t *sb) {
  return sb->sacked_bytes + sb->reno_sacked;
}

/* The episode under way (or just ended) was spurious: count it and,
 * unless configured not to, undo it (undo.h). */
static void undo_spurious(tou_conn_t *c) {
  conn_rec_t *r = &c->rec;
  bool rto = r->undo.rto;
  if (!c->ep->cfg.no_undo) {
    tou_undo_restore(&r->undo, &r->cc);
    tou_prr_stop(&r->prr);
    if (rto || r->rack.state == TOU_RECOVERY_RTO) {
      /* RFC 4015 / RFC 3522: the flight was not lost; go on with new
       * data, never re-send what the timeout marked (no go-back-N). */
      tou_sb_unmark_lost(&r->sb);
      tou_rack_undo(&r->rack);
      r->rto_rtx_owed = false;
      r->rtos = 0;
    }
  }
  tou_undo_detected(&r->undo);
  r->frto.step = TOU_FRTO_OFF;
}

/* After F-RTO let new data out instead of the flight (RFC 5682 2.b), the
 * losses turned out real: the flight of before the timeout is lost again
 * (but for the retransmissions already sent), and at most three segments
 * go at once (3.a), then slow start as after any RTO. */
static void frto_conventional(tou_conn_t *c) {
  conn_rec_t *r = &c->rec;
  for (uint32_t i = 0; i < r->sb.count; i++) {
    tou_sb_seg_t *s = tou_sb_at(&r->sb, i);
    if (s->xmit_us < r->frto.rto_us && !(s->flags & TOU_SB_EVER_RETRANS))
      tou_sb_mark_lost(&r->sb, s);
  }
  if (r->cc.cwnd > 3 * r->cc.mss) tou_cc_set_cwnd(&r->cc, 3ull * r->cc.mss);
}

/* RFC 5682 F-RTO, for connections without timestamps (frto.h). */
static void frto_on_ack(tou_conn_t *c, const tou_sb_ack_t *a) {
  conn_rec_t *r = &c->rec;
  bool probing = r->frto.step == TOU_FRTO_AFTER_NEW;
  switch (tou_frto_on_ack(&r->frto, r->sb.snd_una, a->newly_acked)) {
    case TOU_FRTO_SEND_NEW:
      /* 2.b: two new segments rather than the rest of the flight. */
      tou_sb_unmark_lost(&r->sb);
      tou_cc_set_cwnd(&r->cc, tou_sb_in_flight(&r->sb) + 2ull * r->cc.mss);
      break;
    case TOU_FRTO_SPURIOUS:
      if (r->undo.armed) undo_spurious(c);
      break;
    case TOU_FRTO_CONVENTIONAL:
      if (probing) frto_conventional(c);
      break;
    case TOU_FRTO_NONE: break;
  }
}

/* RFC 3522 (timestamps) and RFC 3708 (DSACK) detection, after the ACK was
 * taken by the scoreboard and RACK. After an RTO every ACK of new data is
 * checked (the first decides, later ones echo later TSvals); in fast
 * recovery the ACK that ends it (every hole then filled by an original). */
static void detect_spurious(tou_conn_t *c, const tou_segment_t *seg, const tou_sb_ack_t *a,
                            const tou_rack_ack_t *ra) {
  tou_undo_t *u = &c->rec.undo;
  if (!u->armed) return;
  bool ts = c->ts_ok && (seg->opts.present & TOU_OPT_TIMESTAMP);
  bool decisive = u->rto ? a->newly_acked > 0 : ra->recovery_exit && !ra->congestion_event;
  bool spurious = decisive && tou_undo_eifel(u, ts, seg->opts.ts_ecr);
  if (!spurious && a->dsack)
    spurious = tou_undo_on_dsack(u, a->dsack_left, a->dsack_right, c->rec.cc.mss);
  if (spurious) undo_spurious(c);
}

/* An ACK that can change nothing: nothing outstanding (the scoreboard
 * empty, SND.UNA = SND.MAX, so no duplicate ACK either), nothing
 * acknowledged, no SACK block, and no recovery, F-RTO, undo, PRR or RACK
 * state waiting for any ACK. Every data segment a one-way transfer brings
 * to its receiver is one; the full path below would compute the same
 * nothing at several times the cost (per-segment work, issue 7). */
static bool ack_is_idle(const tou_conn_t *c, const tou_segment_t *seg) {
  const conn_rec_t *r = &c->rec;
  return c->snd_una == c->snd_max && !(seg->opts.present & TOU_OPT_SACK) &&
         tou_sb_ack_idle(&r->sb, seg->ack) && tou_rack_idle(&r->rack) &&
         r->frto.step == TOU_FRTO_OFF && !r->undo.armed && !r->prr.active && !r->cc.in_recovery;
}

void conn_rec_on_ack(tou_conn_t *c, uint64_t now, const tou_segment_t *seg) {
  conn_rec_t *r = &c->rec;
  if (!r->active) return;
  if (ack_is_idle(c, seg)) {
    /* What the full path leaves behind for such an ACK: no RTT sample, no
     * cwnd change, timers as with an empty scoreboard; the pacing rate
     * follows srtt and cwnd as always. */
    uint64_t rate = tou_pacer_rate_for_flight(&r->cc, tou_rtt_srtt(&c->rtt), r->sb.outstanding);
    tou_pacer_set_rate(&r->pacer, rate, now);
    r->reo_at = r->rack.reo_deadline;
    r->pto_at = TOU_NEVER;
    return;
  }
  const tou_sack_block_t *blocks = NULL;
  size_t nblocks = 0;
  if (c->sack_ok && (seg->opts.present & TOU_OPT_SACK)) {
    blocks = seg->opts.sack;
    nblocks = seg->opts.sack_count;
  }
  bool dup = !c->sack_ok && is_dupack(c, seg);
  uint64_t outstanding_before = r->sb.outstanding, held_before = held_above_una(&r->sb);
  uint64_t delivered_before = r->sb.delivered + r->sb.reno_sacked;
  tou_sb_ack_t a;
  if (tou_sb_on_ack_ts(&r->sb, seg->ack, blocks, nblocks, tou_rtt_min(&c->rtt), echo_ms(c, seg, now),
                       now, &a) != TOU_OK)
    return;
  if (!a.has_rtt && a.newly_acked) {
    /* Karn's rule left no sample (everything ACKed was retransmitted, as
     * after an RTO): RFC 7323 RTTM from the echoed timestamp instead. */
    uint64_t ts = timestamp_rtt(c, seg, now);
    if (ts) {
      a.has_rtt = true;
      a.rtt_us = ts;
    }
  }
  if (a.has_rtt) conn_rtt_sample(c, now, a.rtt_us);
  uint64_t srtt = tou_rtt_srtt(&c->rtt), min_rtt = tou_rtt_min(&c->rtt);

  tou_rack_ack_t ra;
  tou_rack_on_ack(&r->rack, &r->sb, &a, dup, srtt, min_rtt, now, &ra);
  /* RFC 9937: RecoverFS excludes what was SACKed before recovery began (it
   * will not be delivered again); DeliveredData is the change in SND.UNA
   * plus the change in SACKed bytes (a duplicate ACK's credit without SACK,
   * RFC 6675), which is the scoreboard's delivered count. */
  uint64_t delivered_after = r->sb.delivered + r->sb.reno_sacked;
  prr_input_t pi = {
      .recover_fs = outstanding_before > held_before ? outstanding_before - held_before : 0,
      .delivered_data = delivered_after > delivered_before ? delivered_after - delivered_before : 0,
      .safe_ack = a.newly_acked > 0 && ra.newly_lost == 0};
  frto_on_ack(c, &a);
  detect_spurious(c, seg, &a, &ra);
  congestion_response(c, now, &ra, a.prior_in_flight, &pi);
  tou_cc_ack_t ca = {.now = now, .acked = a.newly_acked + a.newly_sacked,
                     .prior_in_flight = a.prior_in_flight, .rtt_us = a.has_rtt ? a.rtt_us : 0,
                     .srtt_us = srtt, .min_rtt_us = min_rtt, .backlogged = backlogged(c),
                     .delivered = r->sb.delivered};
  tou_cc_on_ack(&r->cc, &ca);
  mirror_cwnd(c);
  tou_pacer_set_rate(&r->pacer, tou_pacer_rate_for_flight(&r->cc, srtt, r->sb.outstanding), now);

  if (a.newly_acked) r->rtos = 0;
  r->reo_at = r->rack.reo_deadline;
  if (tou_sb_empty(&r->sb)) {
    r->pto_at = TOU_NEVER;
  } else if (a.newly_acked) {
    /* RFC 8985 7.2: restart on an ACK of new data; the RTO is re-armed by
     * the caller at now + RTO. */
    r->pto_at = tou_rack_pto_deadline(&r->rack, &r->sb, srtt, now + tou_rtt_rto(&c->rtt), now);
  } else if (r->rack.state != TOU_RECOVERY_OPEN) {
    r->pto_at = TOU_NEVER;
  }
  if (ra.newly_lost || a.newly_acked || a.newly_sacked || dup) conn_want_output(c);
}

void conn_rec_on_rto(tou_conn_t *c, uint64_t now) {
  conn_rec_t *r = &c->rec;
  if (!r->active) return;
  uint32_t flight = (uint32_t)tou_sb_in_flight(&r->sb);
  bool was_fast = r->rack.state == TOU_RECOVERY_FAST;
  /* A probe into a zero window (RFC 9293 3.8.6.1) that goes unanswered says
   * nothing about congestion: the window is closed, not the path. */
  if (c->snd_wnd > 0) {
    r->rtos++;
    tou_undo_arm(&r->undo, &r->cc, r->sb.snd_una, true); /* before the loss window */
    /* RFC 5681 3.1: a timeout of a retransmission keeps ssthresh. */
    tou_cc_on_rto(&r->cc, now, flight, r->rtos > 1);
    if (!c->ep->cfg.no_undo) tou_frto_on_rto(&r->frto, c->ts_ok, was_fast, c->snd_max, now);
  }
  tou_prr_stop(&r->prr); /* the RTO's slow start replaces fast recovery */
  tou_rack_on_rto(&r->rack, &r->sb, tou_rtt_srtt(&c->rtt), tou_rtt_min(&c->rtt), now);
  r->rto_rtx_owed = true;
  r->tlp_new_owed = r->tlp_rtx_owed = false;
  r->pto_at = r->reo_at = TOU_NEVER;
  mirror_cwnd(c);
  conn_want_output(c);
}

uint64_t conn_rec_deadline(const tou_conn_t *c) {
  const conn_rec_t *r = &c->rec;
  uint64_t d = r->reo_at;
  if (r->pto_at < d) d = r->pto_at;
  if (r->pace_at < d) d = r->pace_at;
  return d;
}

/* RFC 8985 7.3: new data is the better probe when the peer's window allows. */
static bool unsent_data_fits(const tou_conn_t *c) {
  size_t off = (size_t)(tou_seq_t)(c->snd_nxt - c->snd_data);
  if (off >= sendbuf_len(&c->sb)) return false;
  /* Nagle holds a partial segment back while data is in flight: then the
   * probe must be a retransmission. */
  size_t avail = sendbuf_len(&c->sb) - off;
  if (avail < conn_data_payload_budget(c) && !c->ep->cfg.nodelay && !c->fin_queued) return false;
  return (uint32_t)(c->snd_nxt - c->snd_una) + 1 <= c->snd_wnd;
}

void conn_rec_on_timer(tou_conn_t *c, uint64_t now) {
  conn_rec_t *r = &c->rec;
  if (r->pace_at <= now) {
    r->pace_at = TOU_NEVER;
    conn_want_output(c);
  }
  if (!r->active) return;
  if (r->reo_at <= now) {
    r->reo_at = TOU_NEVER;
    uint32_t prior = (uint32_t)tou_sb_in_flight(&r->sb);
    tou_rack_ack_t ra;
    tou_rack_on_reorder_timer(&r->rack, &r->sb, tou_rtt_srtt(&c->rtt), tou_rtt_min(&c->rtt),
                              now, &ra);
    prr_input_t pi = {.recover_fs = r->sb.outstanding - held_above_una(&r->sb)};
    congestion_response(c, now, &ra, prior, &pi);
    mirror_cwnd(c);
    r->reo_at = r->rack.reo_deadline;
    if (ra.newly_lost) {
      r->pto_at = TOU_NEVER;
      conn_want_output(c);
    }
  }
  if (r->pto_at <= now) {
    r->pto_at = TOU_NEVER;
    switch (tou_rack_on_pto(&r->rack, &r->sb, unsent_data_fits(c))) {
      case TOU_TLP_SEND_NEW: r->tlp_new_owed = true; break;
      case TOU_TLP_RETRANSMIT_LAST: r->tlp_rtx_owed = true; break;
      case TOU_TLP_NONE: break;
    }
    /* RFC 8985 7.3: the RTO restarts after the probe. */
    if (r->tlp_new_owed || r->tlp_rtx_owed) conn_arm_rtx(c, now);
    conn_want_output(c);
  }
}

void conn_rec_fill_info(const tou_conn_t *c, tou_conn_info_t *info) {
  const conn_rec_t *r = &c->rec;
  info->cwnd = r->cc.cwnd;
  info->ssthresh = r->cc.ssthresh;
  info->cc_algorithm = r->cc.ops->name;
  info->congestion_events = r->cc.congestion_events;
  if (!r->active) return;
  const tou_sb_stats_t *st = &r->sb.stats;
  info->bytes_in_flight = (uint32_t)tou_sb_in_flight(&r->sb);
  info->segs_lost = st->segs_lost;
  info->segs_sacked = st->segs_sacked;
  info->reordering_seen = st->reordering_seen;
  info->dsacks_received = st->dsacks;
  info->delivery_rate = st->delivery_rate;
  info->tlp_probes = r->rack.tlp_probes;
  info->spurious_rtos = r->undo.spurious_rtos;
  info->spurious_recoveries = r->undo.spurious_recoveries;
  info->undos = r->undo.undos;
  info->min_rtt_us = tou_rtt_min(&c->rtt);
}

/* ---- receiver: SACK and DSACK generation ------------------------------- */

/* The out-of-order range holding seq, if any. */
static bool range_holding(const tou_conn_t *c, tou_seq_t seq, tou_sack_block_t *out) {
  if (seq_lt(seq, c->rcv_nxt)) return false;
  uint32_t off = seq - c->rcv_nxt;
  const tou_recv_range_t *r;
  unsigned n = recvbuf_ranges(&c->rb, &r);
  for (unsigned i = 0; i < n; i++) {
    if (off >= r[i].start && off < r[i].end) {
      out->left = c->rcv_nxt + r[i].start;
      out->right = c->rcv_nxt + r[i].end;
      return true;
    }
  }
  return false;
}

void conn_rec_on_data(tou_conn_t *c, tou_seq_t seq, size_t len) {
  conn_rec_t *r = &c->rec;
  if (len == 0 || seq == c->rcv_nxt) return; /* in order: no SACK block for it */
  tou_sack_block_t b;
  if (range_holding(c, seq, &b) && seq_leq(seq + (tou_seq_t)len, b.right)) {
    conn_rec_on_dup_data(c, seq, len); /* already held out of order */
    return;
  }
  /* Most recent first; drop the oldest remembered edge. */
  unsigned n = r->sack_nrecent < TOU_WIRE_MAX_SACK ? r->sack_nrecent : TOU_WIRE_MAX_SACK - 1;
  for (unsigned i = n; i > 0; i--) r->sack_recent[i] = r->sack_recent[i - 1];
  r->sack_recent[0] = seq;
  r->sack_nrecent = n + 1;
}

void conn_rec_on_dup_data(tou_conn_t *c, tou_seq_t seq, size_t len) {
  if (len == 0) return;
  c->rec.dsack_pending = true;
  c->rec.dsack.left = seq;
  c->rec.dsack.right = seq + (tou_seq_t)len;
}

static bool add_block(tou_options_t *o, tou_sack_block_t b) {
  for (unsigned i = 0; i < o->sack_count; i++)
    if (o->sack[i].left == b.left && o->sack[i].right == b.right) return false;
  if (o->sack_count == TOU_WIRE_MAX_SACK) return false;
  o->sack[o->sack_count++] = b;
  return true;
}

unsigned conn_rec_sack_bound(const tou_conn_t *c) {
  /* Every block is the DSACK or one of the out-of-order ranges. */
  const tou_recv_range_t *rg;
  unsigned n = recvbuf_ranges(&c->rb, &rg) + (c->rec.dsack_pending ? 1u : 0u);
  return n < TOU_WIRE_MAX_SACK ? n : TOU_WIRE_MAX_SACK;
}

void conn_rec_sack_option(tou_conn_t *c, tou_options_t *o) {
  conn_rec_t *r = &c->rec;
  o->sack_count = 0;
  if (r->dsack_pending) {
    /* RFC 2883: the duplicate first, in one ACK only. */
    o->sack[o->sack_count++] = r->dsack;
    r->dsack_pending = false;
  }
  /* Recent edges, pruned of those whose range has been delivered. */
  unsigned keep = 0;
  for (unsigned i = 0; i < r->sack_nrecent; i++) {
    tou_sack_block_t b;
    if (!range_holding(c, r->sack_recent[i], &b)) continue;
    r->sack_recent[keep++] = r->sack_recent[i];
    add_block(o, b);
  }
  r->sack_nrecent = keep;
  /* Then the highest remaining ranges: the sender learns about new data. */
  const tou_recv_range_t *rg;
  unsigned n = recvbuf_ranges(&c->rb, &rg);
  for (unsigned i = n; i > 0 && o->sack_count < TOU_WIRE_MAX_SACK; i--) {
    tou_sack_block_t b = {c->rcv_nxt + rg[i - 1].start, c->rcv_nxt + rg[i - 1].end};
    add_block(o, b);
  }
  if (o->sack_count) o->present |= TOU_OPT_SACK;
}

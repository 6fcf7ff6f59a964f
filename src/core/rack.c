#include "rack.h"

#define NEVER UINT64_MAX

void tou_rack_init(tou_rack_t *r, bool sack) {
  *r = (tou_rack_t){0};
  r->sack = sack;
  r->reo_wnd_mult = 1;
  r->reo_deadline = NEVER;
}

static void restart_on_lost_retransmission(tou_rack_t *r, const tou_scoreboard_t *sb,
                                           uint64_t srtt_us, uint64_t now, tou_rack_ack_t *out);

static bool sent_after(uint64_t t1, tou_seq_t end1, uint64_t t2, tou_seq_t end2) {
  return t1 > t2 || (t1 == t2 && seq_gt(end1, end2));
}

uint64_t tou_rack_reo_wnd(const tou_rack_t *r, const tou_scoreboard_t *sb, uint64_t srtt_us,
                          uint64_t min_rtt_us) {
  /* RFC 8985 6.2 step 4: with no reordering ever seen, behave like the
   * duplicate-ACK threshold: no extra wait once DupThresh segments are
   * SACKed or a recovery is under way. */
  if (!r->reordering_seen) {
    if (r->state != TOU_RECOVERY_OPEN) return 0;
    if (sb->sacked_segs >= TOU_RACK_DUPTHRESH) return 0;
  }
  uint64_t wnd = (uint64_t)r->reo_wnd_mult * (min_rtt_us / 4);
  if (srtt_us && wnd > srtt_us) wnd = srtt_us;
  return wnd;
}

uint32_t tou_rack_detect_loss(tou_rack_t *r, tou_scoreboard_t *sb, uint64_t srtt_us,
                              uint64_t min_rtt_us, uint64_t now) {
  r->reo_deadline = NEVER;
  r->lost_retrans = 0;
  if (!r->sack || !r->valid || sb->count == 0) return 0;
  /* Fast path for the common in-order case: nothing SACKed and nothing
   * retransmitted means the entries were sent in sequence order, so if the
   * oldest was sent after RACK's segment, none can be judged yet. */
  const tou_sb_seg_t *head = tou_sb_at(sb, 0);
  if (sb->sacked_segs == 0 && sb->retrans_segs == 0 &&
      !sent_after(r->xmit_us, r->end_seq, head->xmit_us, head->seq + head->len))
    return 0;
  uint64_t reo_wnd = tou_rack_reo_wnd(r, sb, srtt_us, min_rtt_us);
  uint32_t lost = 0;
  uint64_t latest = 0; /* furthest pending deadline */
  uint32_t retrans_seen = 0;
  for (uint32_t i = 0; i < sb->count; i++) {
    tou_sb_seg_t *s = tou_sb_at(sb, i);
    bool ever_retrans = (s->flags & TOU_SB_EVER_RETRANS) != 0;
    retrans_seen += ever_retrans;
    /* Segments never retransmitted were sent in sequence order: past the
     * first of them sent after RACK's segment, only retransmitted ones
     * could still be judged, and once all of those are behind, none is.
     * Without this every SACK in a recovery walked the whole flight
     * (Linux keeps a time-ordered list for the same reason). */
    if (!ever_retrans && retrans_seen == sb->retrans_segs &&
        !sent_after(r->xmit_us, r->end_seq, s->xmit_us, s->seq + s->len))
      break;
    if (s->flags & TOU_SB_SACKED) continue;
    if ((s->flags & TOU_SB_LOST) && !(s->flags & TOU_SB_RETRANS_OUT)) continue;
    /* Only segments sent before the most recently delivered one can be
     * judged: anything later may simply still be in flight. */
    if (!sent_after(r->xmit_us, r->end_seq, s->xmit_us, s->seq + s->len)) continue;
    uint64_t deadline = s->xmit_us + r->rtt_us + reo_wnd;
    if (deadline <= now) {
      bool was_retrans = (s->flags & TOU_SB_RETRANS_OUT) != 0;
      if (tou_sb_mark_lost(sb, s)) {
        lost++;
        if (was_retrans) r->lost_retrans++;
      }
    } else if (deadline > latest) {
      latest = deadline;
    }
  }
  /* RFC 8985 6.2 step 5: wait for the slowest of the not-yet-expired ones. */
  if (latest) r->reo_deadline = latest;
  return lost;
}

static void enter_fast_recovery(tou_rack_t *r, const tou_scoreboard_t *sb, uint64_t now,
                                tou_rack_ack_t *out) {
  if (r->state != TOU_RECOVERY_OPEN) return; /* one response per episode */
  r->state = TOU_RECOVERY_FAST;
  r->episode_us = now;
  r->recover = sb->snd_nxt;
  r->recover_valid = true;
  out->congestion_event = true;
}

/* RFC 8985 6.2 step 4: DSACK-driven widening of the reordering window. */
static void update_dsack_rounds(tou_rack_t *r, const tou_scoreboard_t *sb,
                                const tou_sb_ack_t *a) {
  if (r->dsack_round_valid && seq_geq(sb->snd_una, r->dsack_round)) r->dsack_round_valid = false;
  if (!a->dsack) return;
  /* A DSACK means a retransmission was unnecessary: the path reorders or
   * delays (this also sets reordering_seen, like Linux, so the window is
   * actually used). At most one increase per round trip. */
  r->reordering_seen = true;
  if (!r->dsack_round_valid) {
    r->reo_wnd_mult++;
    r->dsack_round = sb->snd_nxt;
    r->dsack_round_valid = true;
    r->reo_wnd_persist = TOU_RACK_REO_WND_PERSIST;
  }
}

static void on_recovery_exit(tou_rack_t *r, tou_rack_ack_t *out) {
  r->state = TOU_RECOVERY_OPEN;
  r->dupacks = 0;
  out->recovery_exit = true;
  /* The widened window decays after persist episodes without DSACK. */
  if (r->reo_wnd_persist > 0 && --r->reo_wnd_persist == 0) r->reo_wnd_mult = 1;
}

/* RFC 8985 7.4: did the tail loss probe repair a loss? */
static void tlp_on_ack(tou_rack_t *r, const tou_scoreboard_t *sb, const tou_sb_ack_t *a,
                       tou_rack_ack_t *out) {
  if (!r->tlp_pending) return;
  tou_seq_t last = r->tlp_end_seq - 1;
  if (r->tlp_is_retrans && a->dsack && seq_geq(last, a->dsack_left) &&
      seq_lt(last, a->dsack_right)) {
    r->tlp_pending = false; /* the original arrived too: nothing was lost */
    return;
  }
  if (seq_lt(sb->snd_una, r->tlp_end_seq)) return;
  if (!r->tlp_is_retrans) {
    r->tlp_pending = false; /* new-data probe: RACK judges any loss */
    return;
  }
  if (seq_gt(sb->snd_una, r->tlp_end_seq)) {
    /* Acknowledged past the probe without a DSACK for it: the probe
     * repaired a real loss, so congestion control must respond once. */
    r->tlp_pending = false;
    if (r->state == TOU_RECOVERY_OPEN) out->tlp_loss_repaired = true;
  }
  /* snd_una == end_seq: wait for a DSACK or a later ACK to tell. */
}

/* RFC 5681 3.2 / RFC 6582 without SACK. */
static void dupack_on_ack(tou_rack_t *r, tou_scoreboard_t *sb, const tou_sb_ack_t *a,
                          bool is_dupack, uint64_t now, tou_rack_ack_t *out) {
  if (a->newly_acked) {
    r->dupacks = 0;
    /* RFC 6582 3.2 step 5: a partial ACK in recovery means the next hole
     * is lost too: retransmit the first unacknowledged segment. After an
     * RTO the same rule repairs one hole per round trip (without SACK
     * nothing better is known about the segments above it). */
    if (r->state != TOU_RECOVERY_OPEN && sb->count && seq_lt(sb->snd_una, r->recover)) {
      if (tou_sb_mark_lost(sb, tou_sb_at(sb, 0))) out->newly_lost++;
    }
    return;
  }
  if (!is_dupack || sb->count == 0) return;
  r->dupacks++;
  tou_sb_on_dupack(sb); /* one more segment left the network */
  if (r->dupacks != TOU_RACK_DUPTHRESH || r->state != TOU_RECOVERY_OPEN) return;
  /* RFC 6582 3.2 step 1: no second fast retransmit for duplicate ACKs
   * caused by segments of the previous episode (ack below recover). */
  if (r->recover_valid && seq_lt(sb->snd_una, r->recover)) return;
  if (tou_sb_mark_lost(sb, tou_sb_at(sb, 0))) out->newly_lost++;
  enter_fast_recovery(r, sb, now, out);
}

void tou_rack_on_ack(tou_rack_t *r, tou_scoreboard_t *sb, const tou_sb_ack_t *a,
                     bool is_dupack, uint64_t srtt_us, uint64_t min_rtt_us, uint64_t now,
                     tou_rack_ack_t *out) {
  *out = (tou_rack_ack_t){0};
  /* RFC 8985 6.2 step 2: the newest delivered transmission. */
  if (a->has_rack && (!r->valid || sent_after(a->rack_xmit_us, a->rack_end_seq, r->xmit_us,
                                              r->end_seq))) {
    r->valid = true;
    r->xmit_us = a->rack_xmit_us;
    r->end_seq = a->rack_end_seq;
    r->rtt_us = now - a->rack_xmit_us;
  }
  if (a->reordering) r->reordering_seen = true; /* step 3 */
  update_dsack_rounds(r, sb, a);
  tlp_on_ack(r, sb, a, out);

  if (r->state != TOU_RECOVERY_OPEN && r->recover_valid && seq_geq(sb->snd_una, r->recover)) {
    on_recovery_exit(r, out);
  }
  if (r->sack) {
    uint32_t lost = tou_rack_detect_loss(r, sb, srtt_us, min_rtt_us, now);
    out->newly_lost += lost;
    restart_on_lost_retransmission(r, sb, srtt_us, now, out);
    if (lost) enter_fast_recovery(r, sb, now, out);
  } else {
    dupack_on_ack(r, sb, a, is_dupack, now, out);
  }
  if (sb->count == 0) r->reo_deadline = NEVER;
}

bool tou_rack_idle(const tou_rack_t *r) {
  /* Each field below is one that tou_rack_on_ack() would read or reset
   * even for an empty ACK: recovery exit (state), tlp_on_ack (pending),
   * update_dsack_rounds (round), detect_loss (deadline, lost_retrans). */
  return r->state == TOU_RECOVERY_OPEN && !r->tlp_pending && !r->dsack_round_valid &&
         r->reo_deadline == NEVER && r->lost_retrans == 0 && r->dupacks == 0;
}

/* A retransmission sent in this fast recovery was lost too: the reduced
 * window still overflows the path (typically after a slow-start
 * overshoot), and the episode could otherwise never end. Respond again, at
 * most once per round trip, by starting a new episode. */
static void restart_on_lost_retransmission(tou_rack_t *r, const tou_scoreboard_t *sb,
                                           uint64_t srtt_us, uint64_t now, tou_rack_ack_t *out) {
  if (r->state != TOU_RECOVERY_FAST || r->lost_retrans == 0) return;
  if (now - r->episode_us < (srtt_us ? srtt_us : 1)) return;
  r->state = TOU_RECOVERY_OPEN;
  out->recovery_exit = true;
  enter_fast_recovery(r, sb, now, out);
}

void tou_rack_on_reorder_timer(tou_rack_t *r, tou_scoreboard_t *sb, uint64_t srtt_us,
                               uint64_t min_rtt_us, uint64_t now, tou_rack_ack_t *out) {
  *out = (tou_rack_ack_t){0};
  uint32_t lost = tou_rack_detect_loss(r, sb, srtt_us, min_rtt_us, now);
  out->newly_lost = lost;
  restart_on_lost_retransmission(r, sb, srtt_us, now, out);
  if (lost) enter_fast_recovery(r, sb, now, out);
}

uint64_t tou_rack_pto_deadline(const tou_rack_t *r, const tou_scoreboard_t *sb,
                               uint64_t srtt_us, uint64_t rto_deadline, uint64_t now) {
  /* RFC 8985 7.2: only in the open state, with SACK, one probe at a time. */
  if (!r->sack || r->state != TOU_RECOVERY_OPEN || r->tlp_pending || sb->count == 0) {
    return NEVER;
  }
  uint64_t pto;
  if (srtt_us) {
    pto = 2 * srtt_us;
    /* A lone segment may wait for the peer's delayed-ACK timer. */
    if (sb->count == 1) pto += TOU_RACK_WCDELACK_US;
  } else {
    pto = 1000000; /* no RTT sample yet: 1 s */
  }
  uint64_t deadline = now + pto;
  /* RFC 8985 7.2: if the RTO would fire sooner, the probe goes at the RTO
   * time instead (and the RTO is re-armed after it). */
  return deadline < rto_deadline ? deadline : rto_deadline;
}

tou_tlp_action_t tou_rack_on_pto(tou_rack_t *r, const tou_scoreboard_t *sb, bool new_data_ok) {
  (void)r;
  /* RFC 8985 7.3: prefer new data (it probes without ambiguity), else
   * retransmit the last segment so its ACK (or SACK) reveals any loss. */
  if (new_data_ok) return TOU_TLP_SEND_NEW;
  if (sb->count == 0) return TOU_TLP_NONE;
  return TOU_TLP_RETRANSMIT_LAST;
}

void tou_rack_tlp_sent(tou_rack_t *r, const tou_scoreboard_t *sb, bool is_retrans) {
  r->tlp_pending = true;
  r->tlp_end_seq = sb->snd_nxt;
  r->tlp_is_retrans = is_retrans;
  r->tlp_probes++;
}

void tou_rack_undo(tou_rack_t *r) {
  r->state = TOU_RECOVERY_OPEN;
  r->dupacks = 0;
  /* RACK.xmit_ts may be a retransmission's that was credited with its
   * original's delivery: it would mark the rest of the flight lost again.
   * The next ACK sets it afresh (RFC 8985 6.2 step 2). */
  r->valid = false;
  r->reo_deadline = UINT64_MAX;
}

uint32_t tou_rack_on_rto(tou_rack_t *r, tou_scoreboard_t *sb, uint64_t srtt_us,
                         uint64_t min_rtt_us, uint64_t now) {
  r->state = TOU_RECOVERY_RTO;
  r->recover = sb->snd_nxt;
  r->recover_valid = true;
  r->dupacks = 0;
  r->tlp_pending = false;
  r->reo_deadline = NEVER;
  sb->reno_sacked = 0;
  uint32_t lost = 0;
  uint64_t reo_wnd = tou_rack_reo_wnd(r, sb, srtt_us, min_rtt_us);
  for (uint32_t i = 0; i < sb->count; i++) {
    tou_sb_seg_t *s = tou_sb_at(sb, i);
    /* RFC 8985 6.3: the first unacknowledged segment was sent an RTO ago;
     * others only if RACK's rule says their time is up. */
    bool expired = i == 0 || (r->valid && s->xmit_us + r->rtt_us + reo_wnd <= now);
    if (expired && tou_sb_mark_lost(sb, s)) lost++;
  }
  return lost;
}

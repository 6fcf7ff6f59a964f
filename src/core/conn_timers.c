/* Connection timers: retransmission (RFC 6298, estimator in rtt.c) with
 * exponential backoff for SYN, SYN-ACK, data and FIN, the persist probe, the
 * FIN_WAIT_2 orphan limit; and the congestion window hooks (slow start /
 * congestion avoidance, RFC 5681) where the cc module (cc.h) plugs in. */
#include <limits.h>

#include "endpoint.h"

uint64_t conn_deadline(const tou_conn_t *c) {
  uint64_t d = c->rtx_at < c->linger_at ? c->rtx_at : c->linger_at;
  uint64_t r = conn_rec_deadline(c); /* RACK reordering, TLP, pacing */
  if (r < d) d = r;
  r = conn_ack_deadline(c); /* delayed ACK */
  if (r < d) d = r;
  uint64_t l = conn_live_deadline(c); /* keepalive, user timeout, link probe */
  return l < d ? l : d;
}

void conn_arm_rtx(tou_conn_t *c, uint64_t now) { c->rtx_at = now + tou_rtt_rto(&c->rtt); }
void conn_stop_rtx(tou_conn_t *c) { c->rtx_at = TOU_NEVER; }

/* Callers apply Karn's rule: only segments sent once are timed. */
void conn_rtt_sample(tou_conn_t *c, uint64_t now, uint64_t rtt_us) {
  tou_rtt_on_sample(&c->rtt, rtt_us, now);
}

/* New data acknowledged (RFC 6298 5.2/5.3). cwnd was already updated by
 * conn_rec_on_ack() (cc.h). */
void conn_on_new_ack(tou_conn_t *c, uint64_t now, uint32_t acked) {
  (void)acked;
  c->retries = 0;
  c->rtx_resumed = false; /* progress: a later stall may be cut short again */
  if (c->snd_una == c->snd_max)
    conn_stop_rtx(c);
  else
    conn_arm_rtx(c, now);
  conn_want_output(c);
}

static unsigned retry_limit(const tou_conn_t *c) {
  const tou_config_t *cfg = &c->ep->cfg;
  if (c->state == TOU_SYN_SENT) return cfg->syn_retries;
  if (c->snd_una == c->iss) return cfg->synack_retries;
  /* A user timeout, when set, is the limit for data (RFC 5482, as Linux's
   * TCP_USER_TIMEOUT): one announced by the peer and adopted may be longer
   * than data_retries would last, so that the connection outlives an outage. */
  if (c->live.user_timeout != 0) return UINT_MAX;
  return cfg->data_retries;
}

static void give_up(tou_conn_t *c, uint64_t now) {
  if (c->state == TOU_SYN_RCVD && c->passive && c->owner == CONN_OWNER_CORE)
    conn_return_to_listen(c, now); /* a half-open attempt nobody completed */
  else
    conn_finish(c, now, TOU_ERR_TIMEDOUT);
}

/* RFC 5681 eq. 4: the hook for cc.h's tou_cc_on_rto(). */
static void cwnd_on_rto(tou_conn_t *c) {
  uint32_t flight = c->snd_max - c->snd_una;
  if (c->retries == 1) /* a repeated timeout keeps ssthresh (RFC 5681 3.1) */
    c->ssthresh = flight / 2 > 2 * c->snd_mss ? flight / 2 : 2 * c->snd_mss;
  c->cwnd = c->snd_mss;
}

/* Data (or a FIN) outstanding: what an RTO does to it. Going back to
 * SND.UNA with a one-segment window resends one segment now; the rest
 * follows as ACKs return (slow start). The retransmission is marked as
 * such (scoreboard), so no sequence-based RTT sample comes from its ACK
 * (Karn's rule, RFC 6298 3). */
static void resend_first_unacked(tou_conn_t *c, uint64_t now) {
  c->rtt_timing = false;
  if (c->rec.active) {
    conn_rec_on_rto(c, now); /* one retransmission, slow start (RFC 8985 6.3) */
  } else {
    cwnd_on_rto(c);
    c->snd_nxt = c->snd_una;
  }
}

/* RFC 6298 5.4-5.7: resend the first unacknowledged segment, double the
 * RTO. */
static void on_rtx_timeout(tou_conn_t *c, uint64_t now) {
  c->stats.timeouts++;
  if (c->retries >= retry_limit(c)) {
    give_up(c, now);
    return;
  }
  c->retries++;
  tou_rtt_on_timeout(&c->rtt);
  c->rtt_timing = false;
  if (c->snd_una == c->iss) { /* our SYN is unacknowledged */
    c->syn_pending = true;
    c->snd_nxt = c->snd_una; /* a FIN sent after it goes again too */
  } else {
    if (c->snd_una != c->snd_max) resend_first_unacked(c, now);
    /* Something goes now even if the window is closed or too small to
     * be worth filling: this is also the persist probe. */
    c->probe_pending = true;
    if (c->snd_wnd == 0) c->stats.zero_window_probes++;
  }
  conn_arm_rtx(c, now);
  conn_want_output(c);
}

/* RFC 6069 in spirit: that RFC reverts the RTO backoff when ICMP shows the
 * retransmissions were lost to a broken path rather than to congestion; a
 * complete link-probe exchange is stronger evidence (both directions work
 * now, end to end), so while data is outstanding and the timer has backed
 * off, the backoff goes (RTO from SRTT/RTTVAR again, RFC 6298 2.3) and the
 * first unacknowledged segment is resent now instead of up to max_rto
 * later: after a long outage the conversation resumes within a round trip
 * of the path healing.
 *
 * It is the pending timeout brought forward, so it does what the timeout
 * would (one segment, the RTO's congestion response) but without doubling
 * the RTO. The congestion response costs nothing new: a backoff means a
 * timeout already fired without progress since the last RTT sample, so
 * cwnd is already one segment and the flight marked lost; a repeated
 * timeout keeps ssthresh (RFC 5681 3.1). It neither counts as a timeout
 * nor toward data_retries (no timer expired).
 *
 * Not into a zero window: that backoff is the persist timer's, and the
 * window is closed, not the path. Once per stall (until SND.UNA moves): a
 * path that carries the small probe segments but not the data (an MTU
 * black hole) must not have its retransmissions restarted from the
 * shortest RTO at every exchange. */
void conn_rtx_on_path_proven(tou_conn_t *c, uint64_t now) {
  if (c->snd_una == c->snd_max || c->snd_una == c->iss || c->snd_wnd == 0) return;
  if (c->rtt.backoff == 0 || c->rtx_resumed) return;
  c->rtx_resumed = true;
  c->stats.rto_resumes++;
  tou_rtt_reset_backoff(&c->rtt);
  resend_first_unacked(c, now);
  c->probe_pending = true; /* as on_rtx_timeout: it goes even if the window is small */
  conn_arm_rtx(c, now);
  conn_want_output(c);
}

void conn_on_timer(tou_conn_t *c, uint64_t now) {
  if (c->linger_at <= now) {
    c->linger_at = TOU_NEVER;
    conn_finish(c, now, TOU_ERR_TIMEDOUT);
    return;
  }
  conn_ack_on_timer(c, now);
  /* Loss recovery first: a tail loss probe due with the RTO replaces it. */
  if (conn_rec_deadline(c) <= now) conn_rec_on_timer(c, now);
  if (c->rtx_at <= now) {
    c->rtx_at = TOU_NEVER;
    on_rtx_timeout(c, now);
  }
  if (c->state != TOU_CLOSED && conn_live_deadline(c) <= now) conn_live_on_timer(c, now);
}

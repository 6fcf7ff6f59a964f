/* Connection timers: retransmission (RFC 6298) with exponential backoff for
 * SYN, SYN-ACK, data and FIN, the persist probe, the FIN_WAIT_2 orphan
 * limit; and a minimal RFC 6298 RTT estimator with the congestion window
 * hooks (slow start / congestion avoidance, RFC 5681) until the cc module
 * takes them over. */
#include "endpoint.h"

#define RTO_GRANULARITY_US 1000u /* G of RFC 6298 */

uint64_t conn_deadline(const tou_conn_t *c) {
  return c->rtx_at < c->linger_at ? c->rtx_at : c->linger_at;
}

void conn_arm_rtx(tou_conn_t *c, uint64_t now) { c->rtx_at = now + c->rto; }
void conn_stop_rtx(tou_conn_t *c) { c->rtx_at = TOU_NEVER; }

static uint64_t clamp_rto(const tou_conn_t *c, uint64_t rto) {
  if (rto < c->ep->cfg.min_rto_us) rto = c->ep->cfg.min_rto_us;
  if (rto > c->ep->cfg.max_rto_us) rto = c->ep->cfg.max_rto_us;
  return rto;
}

/* RFC 6298 2.2 and 2.3. */
void conn_rtt_sample(tou_conn_t *c, uint64_t r) {
  if (!c->have_rtt) {
    c->srtt = r;
    c->rttvar = r / 2;
    c->have_rtt = true;
  } else {
    uint64_t delta = c->srtt > r ? c->srtt - r : r - c->srtt;
    c->rttvar = (3 * c->rttvar + delta) / 4;
    c->srtt = (7 * c->srtt + r) / 8;
  }
  uint64_t k = 4 * c->rttvar;
  c->rto = clamp_rto(c, c->srtt + (k > RTO_GRANULARITY_US ? k : RTO_GRANULARITY_US));
}

/* New data acknowledged (RFC 6298 5.2/5.3, RFC 5681 3.1). */
void conn_on_new_ack(tou_conn_t *c, uint64_t now, uint32_t acked) {
  c->retries = 0;
  if (c->have_rtt) { /* undo the backoff: the path works again */
    uint64_t k = 4 * c->rttvar;
    c->rto = clamp_rto(c, c->srtt + (k > RTO_GRANULARITY_US ? k : RTO_GRANULARITY_US));
  }
  if (c->cwnd < c->ssthresh)
    c->cwnd += acked < c->snd_mss ? acked : c->snd_mss;
  else
    c->cwnd += (uint32_t)((uint64_t)c->snd_mss * c->snd_mss / c->cwnd) + 1;
  if (c->snd_una == c->snd_max)
    conn_stop_rtx(c);
  else
    conn_arm_rtx(c, now);
  conn_want_output(c);
}

static unsigned retry_limit(const tou_conn_t *c) {
  const tou_config_t *cfg = &c->ep->cfg;
  if (c->state == TOU_SYN_SENT) return cfg->syn_retries;
  if (c->state == TOU_SYN_RCVD) return cfg->synack_retries;
  return cfg->data_retries;
}

static void give_up(tou_conn_t *c, uint64_t now) {
  if (c->state == TOU_SYN_RCVD && c->passive && c->owner == CONN_OWNER_CORE)
    conn_return_to_listen(c, now); /* a half-open attempt nobody completed */
  else
    conn_finish(c, now, TOU_ERR_TIMEDOUT);
}

/* RFC 6298 5.4-5.7: resend the first unacknowledged segment, double the
 * RTO. Going back to SND.UNA with a one-segment window resends one
 * segment now; the rest follows as ACKs return (slow start). */
static void on_rtx_timeout(tou_conn_t *c, uint64_t now) {
  c->stats.timeouts++;
  if (c->retries >= retry_limit(c)) {
    give_up(c, now);
    return;
  }
  c->retries++;
  c->rto = c->rto * 2 > c->ep->cfg.max_rto_us ? c->ep->cfg.max_rto_us : c->rto * 2;
  c->rtt_timing = false;
  if (c->state == TOU_SYN_SENT || c->state == TOU_SYN_RCVD) {
    c->syn_pending = true;
  } else if (c->snd_una == c->snd_max) {
    c->probe_pending = true; /* persist: nothing in flight, zero window */
  } else {
    uint32_t flight = c->snd_max - c->snd_una;
    c->ssthresh = flight / 2 > 2 * c->snd_mss ? flight / 2 : 2 * c->snd_mss;
    c->cwnd = c->snd_mss;
    c->snd_nxt = c->snd_una;
  }
  conn_arm_rtx(c, now);
  conn_want_output(c);
}

void conn_on_timer(tou_conn_t *c, uint64_t now) {
  if (c->linger_at <= now) {
    c->linger_at = TOU_NEVER;
    conn_finish(c, now, TOU_ERR_TIMEDOUT);
    return;
  }
  if (c->rtx_at <= now) {
    c->rtx_at = TOU_NEVER;
    on_rtx_timeout(c, now);
  }
}

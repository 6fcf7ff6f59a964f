/* Liveness glue (liveness.h): what was heard when, the one liveness
 * deadline of a connection, probe and keepalive segments, TOU_EV_LINK, and
 * the application calls. */
#include <string.h>

#include "endpoint.h"

#define MIN_DURATION_US 1000u

bool live_active(const tou_conn_t *c) {
  return c->state >= TOU_ESTABLISHED && c->state <= TOU_LAST_ACK;
}

/* Durations of 0 would make timers that fire again at the same instant. */
static void sane_probe_cfg(link_probe_cfg_t *p) {
  if (p->timeout < MIN_DURATION_US) p->timeout = MIN_DURATION_US;
  if (p->retry < MIN_DURATION_US) p->retry = MIN_DURATION_US;
}

void conn_live_init(tou_conn_t *c, uint64_t now) {
  const tou_config_t *cfg = &c->ep->cfg;
  tou_live_t *l = &c->live;
  memset(l, 0, sizeof *l);
  l->ka_on = cfg->keepalive;
  l->ka_idle = cfg->keepalive_idle_us;
  l->ka_intvl = cfg->keepalive_intvl_us;
  l->ka_cnt = cfg->keepalive_cnt;
  l->user_timeout = cfg->user_timeout_us;
  l->probe_idle = cfg->link_probe_idle_us;
  l->probe_cfg = (link_probe_cfg_t){.timeout = cfg->link_probe_timeout_us,
                                    .retry = cfg->link_probe_retry_us,
                                    .min_gap = cfg->link_probe_min_gap_us};
  sane_probe_cfg(&l->probe_cfg);
  if (l->ka_intvl < MIN_DURATION_US) l->ka_intvl = MIN_DURATION_US;
  l->last_heard = now;
  l->una_since = TOU_NEVER;
  link_probe_init(&l->probe);
  uto_init(c);
}

static void want_output_if_due(tou_conn_t *c) {
  if (link_probe_due(&c->live.probe) || c->live.ka_due) conn_want_output(c);
}

static void heard(tou_conn_t *c, uint64_t now) {
  tou_live_t *l = &c->live;
  l->last_heard = now;
  keepalive_heard(c);
  if (live_active(c)) link_probe_heard(&l->probe, &c->ep->rng, now, &l->probe_cfg);
}

/* RFC 5961 5.2-style plausibility: an acknowledgment number within what we
 * sent, so that injecting ASKs takes the sequence space as well as both
 * connection ids. */
static bool ack_plausible(const tou_conn_t *c, const tou_segment_t *seg) {
  uint32_t back = c->max_snd_wnd > 0 ? c->max_snd_wnd : 1;
  return (seg->flags & TOU_ACK) && seq_geq(seg->ack, c->snd_una - back) &&
         seq_leq(seg->ack, c->snd_max);
}

bool conn_live_on_input(tou_conn_t *c, uint64_t now, const tou_segment_t *seg) {
  tou_live_t *l = &c->live;
  l->una_before = c->snd_una;
  bool probe = (seg->opts.present & TOU_OPT_PROBE) != 0 &&
               !(seg->flags & (TOU_SYN | TOU_FIN | TOU_RST)) && live_active(c);
  if (!probe) { /* SYN/FIN/RST are processed as such, their PROBE ignored */
    heard(c, now);
    want_output_if_due(c);
    return true;
  }
  /* docs/PROTOCOL.md 5.5: probes never carry application data. */
  if (seg->payload_len > 0 || !ack_plausible(c, seg)) {
    l->probe.ignored++;
    return false;
  }
  /* The probe first, then "heard": an ANSWER must be matched against the
   * ASK it answers before hearing the peer can start a new one. */
  uint64_t proofs = l->probe.proofs;
  if (link_probe_input(&l->probe, &c->ep->rng, now, &l->probe_cfg, &seg->opts))
    conn_raise(c, TOU_EV_LINK);
  heard(c, now);
  /* A complete exchange (ANSWER to our ASK, CONFIRM of our ANSWER): the
   * path works both ways now, so data need not wait for a backed-off RTO. */
  if (l->probe.proofs != proofs) conn_rtx_on_path_proven(c, now);
  want_output_if_due(c);
  return false;
}

void conn_live_after_input(tou_conn_t *c, uint64_t now) {
  if (!live_active(c)) return;
  tou_live_t *l = &c->live;
  live_track_outstanding(c, now);
  /* SND.UNA advanced: the peer heard us (docs/PROTOCOL.md 5.6, healing). */
  if (seq_gt(c->snd_una, l->una_before) &&
      link_probe_acked(&l->probe, &c->ep->rng, now, &l->probe_cfg,
                       seq_gt(c->snd_una, l->silent_snd_max)))
    conn_raise(c, TOU_EV_LINK);
  want_output_if_due(c);
}

/* Nothing heard for probe_idle while an answer is expected (data
 * outstanding): time to ask whether the link still works. */
static uint64_t probe_trigger(const tou_conn_t *c) {
  const tou_live_t *l = &c->live;
  const link_probe_t *p = &l->probe;
  if (l->probe_idle == 0 || c->snd_una == c->snd_max || p->state == TOU_LS_SILENT || p->ask_out ||
      p->ask_due)
    return TOU_NEVER;
  uint64_t from = l->last_heard;
  if (l->una_since != TOU_NEVER && l->una_since > from) from = l->una_since;
  if (p->last_ask_at != TOU_NEVER && p->last_ask_at > from) from = p->last_ask_at;
  uint64_t at = from + l->probe_idle;
  /* Never before the ASK rate limit allows one: a deadline that cannot act
   * would fire again at once. */
  if (p->last_ask_at != TOU_NEVER && at < p->last_ask_at + l->probe_cfg.min_gap)
    at = p->last_ask_at + l->probe_cfg.min_gap;
  return at;
}

static uint64_t min2(uint64_t a, uint64_t b) { return a < b ? a : b; }

uint64_t conn_live_deadline(const tou_conn_t *c) {
  if (!live_active(c)) return TOU_NEVER;
  uint64_t d = min2(keepalive_deadline(c), user_timeout_deadline(c));
  d = min2(d, link_probe_deadline(&c->live.probe));
  return min2(d, probe_trigger(c));
}

void conn_live_on_timer(tou_conn_t *c, uint64_t now) {
  if (!live_active(c)) return;
  tou_live_t *l = &c->live;
  live_track_outstanding(c, now);
  if (!user_timeout_on_timer(c, now) || !keepalive_on_timer(c, now)) return;
  if (link_probe_on_timer(&l->probe, &c->ep->rng, now, &l->probe_cfg)) {
    if (l->probe.state == TOU_LS_SILENT) l->silent_snd_max = c->snd_max;
    conn_raise(c, TOU_EV_LINK);
  }
  if (probe_trigger(c) <= now) link_probe_start(&l->probe, &c->ep->rng, now, &l->probe_cfg);
  want_output_if_due(c);
}

/* Probe segments: ACK with SEQ=SND.MAX and the current acknowledgment and
 * window, timestamps if in use, no SACK, no payload (docs/PROTOCOL.md 5.5).
 * Unlike an ACK they do not clear a pending ACK: the peer does not process
 * them as one. */
static void probe_build(tou_conn_t *c, uint64_t now, tou_segment_t *seg) {
  memset(seg, 0, sizeof *seg);
  seg->flags = TOU_ACK;
  seg->dst_cid = c->remote_cid;
  seg->src_cid = c->local_cid;
  seg->seq = c->snd_max;
  seg->ack = c->rcv_nxt;
  seg->window = conn_window_field(c);
  conn_set_options(c, &seg->opts, now, false);
  seg->opts.present &= ~(uint32_t)TOU_OPT_SACK;
  link_probe_take(&c->live.probe, now, &c->live.probe_cfg, &seg->opts);
}

bool conn_live_next_segment(tou_conn_t *c, uint64_t now, tou_segment_t *seg) {
  if (!live_active(c)) return false;
  tou_live_t *l = &c->live;
  live_track_outstanding(c, now);
  if (link_probe_due(&l->probe)) {
    probe_build(c, now, seg);
    return true;
  }
  if (l->ka_due) {
    l->ka_due = false;
    l->ka_sent++;
    keepalive_build(c, now, seg);
    return true;
  }
  return false;
}

/* ---- application calls ------------------------------------------------- */

void tou_conn_link_info(const tou_conn_t *c, tou_link_info_t *info) {
  const tou_live_t *l = &c->live;
  const link_probe_t *p = &l->probe;
  memset(info, 0, sizeof *info);
  info->state = p->state;
  info->inbound = p->inbound;
  info->outbound = p->outbound;
  info->last_heard = l->last_heard;
  info->silent_since = p->silent_since;
  info->asks_sent = p->asks_sent;
  info->answers_sent = p->answers_sent;
  info->confirms_sent = p->confirms_sent;
  info->exchanges = p->exchanges;
  info->keepalives_sent = l->ka_sent;
  info->user_timeout_us = l->user_timeout;
  info->peer_user_timeout_us = l->uto_peer;
}

tou_link_status_t tou_conn_link_state(const tou_conn_t *c) { return c->live.probe.state; }

int tou_conn_probe_now(tou_conn_t *c, uint64_t now) {
  if (!live_active(c)) return TOU_ERR_NOTCONN;
  if (!link_probe_start(&c->live.probe, &c->ep->rng, now, &c->live.probe_cfg)) return TOU_ERR_AGAIN;
  conn_want_output(c);
  ep_timer_update(c->ep, c);
  return TOU_OK;
}

int tou_conn_set_keepalive(tou_conn_t *c, uint64_t now, bool enable, uint64_t idle_us,
                           uint64_t intvl_us, unsigned cnt) {
  (void)now;
  tou_live_t *l = &c->live;
  l->ka_on = enable;
  if (idle_us) l->ka_idle = idle_us;
  if (intvl_us) l->ka_intvl = intvl_us < MIN_DURATION_US ? MIN_DURATION_US : intvl_us;
  if (cnt) l->ka_cnt = cnt;
  ep_timer_update(c->ep, c);
  return TOU_OK;
}

/* An explicit setting: RFC 5482 3.1 CHANGEABLE becomes false (the
 * application's value wins over the peer's), and the new value is
 * announced at once (3: "when the local user timeout changes"); 0 stops
 * announcing (the option has no "off" value). */
int tou_conn_set_user_timeout(tou_conn_t *c, uint64_t now, uint64_t timeout_us) {
  tou_live_t *l = &c->live;
  l->user_timeout = timeout_us;
  l->uto_adv = timeout_us;
  l->uto_changeable = false;
  l->uto_pending = timeout_us != 0 && c->state != TOU_CLOSED && c->state != TOU_TIME_WAIT;
  l->uto_in_flight = false;
  l->uto_on_syn = false;
  l->uto_bare = 0;
  if (l->uto_pending && conn_synchronized(c)) conn_ack_now(c);
  if (live_active(c)) live_track_outstanding(c, now);
  ep_timer_update(c->ep, c);
  return TOU_OK;
}

int tou_conn_set_link_probe(tou_conn_t *c, uint64_t now, uint64_t idle_us, uint64_t timeout_us,
                            uint64_t retry_us) {
  tou_live_t *l = &c->live;
  l->probe_idle = idle_us;
  if (timeout_us) l->probe_cfg.timeout = timeout_us;
  if (retry_us) l->probe_cfg.retry = retry_us;
  sane_probe_cfg(&l->probe_cfg);
  if (live_active(c)) live_track_outstanding(c, now);
  ep_timer_update(c->ep, c);
  return TOU_OK;
}

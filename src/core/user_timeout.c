/* RFC 5482 user timeout (RFC 9293 3.8.3, Linux TCP_USER_TIMEOUT): when
 * transmitted data stays unacknowledged this long — SND.UNA does not move
 * — the connection is aborted with TOU_ERR_TIMEDOUT, however many
 * retransmissions that took (while it is set, conn_timers.c does not count
 * data retransmissions against data_retries). A peer that keeps announcing
 * a zero window is alive (only not reading): hearing it restarts the clock.
 *
 * The User Timeout Option (RFC 5482 3, PROTOCOL.md 5.7) announces ours to
 * the peer and, when the configuration allows it, adapts ours to the
 * peer's announcement. */
#include "endpoint.h"

void live_track_outstanding(tou_conn_t *c, uint64_t now) {
  tou_live_t *l = &c->live;
  if (c->snd_una == c->snd_max) {
    l->una_since = TOU_NEVER;
    return;
  }
  if (l->una_since == TOU_NEVER || c->snd_una != l->una_seen) {
    l->una_seen = c->snd_una;
    l->una_since = now;
  }
  if (c->snd_wnd == 0 && l->last_heard > l->una_since) l->una_since = l->last_heard;
}

uint64_t user_timeout_deadline(const tou_conn_t *c) {
  const tou_live_t *l = &c->live;
  if (l->user_timeout == 0 || l->una_since == TOU_NEVER) return TOU_NEVER;
  return l->una_since + l->user_timeout;
}

bool user_timeout_on_timer(tou_conn_t *c, uint64_t now) {
  if (now < user_timeout_deadline(c)) return true;
  conn_finish(c, now, TOU_ERR_TIMEDOUT);
  return false;
}

/* ---- the option ---------------------------------------------------------- */

/* Pure ACKs are not acknowledged: this many of them carrying the option
 * count as delivered (three independent losses are unlikely). */
#define UTO_BARE_SENDS 3u

/* RFC 5482 3: announced when the application set a timeout: the
 * endpoint's user_timeout_us on the SYN or SYN-ACK (ADV_UTO; the received
 * option may still change ours: CHANGEABLE stays true). */
void uto_init(tou_conn_t *c) {
  tou_live_t *l = &c->live;
  l->uto_adv = c->ep->cfg.user_timeout_us;
  l->uto_changeable = true;
  l->uto_pending = l->uto_adv != 0;
}

/* Delivered once a segment carrying it that took sequence space (the SYN,
 * data, a FIN) is acknowledged. After the SYN it goes once more, on the
 * first segment of the synchronized connection (RFC 5482 3: the SYN, the
 * first non-SYN segment, and after a change), as options on a SYN are the
 * likeliest to be stripped or ignored on the way: one pure ACK, or data
 * until acknowledged. */
static void uto_check_delivered(tou_conn_t *c) {
  tou_live_t *l = &c->live;
  if (!l->uto_in_flight || seq_lt(c->snd_una, l->uto_end)) return;
  l->uto_in_flight = false;
  l->uto_pending = l->uto_on_syn;
  l->uto_bare = UTO_BARE_SENDS - 1;
  l->uto_on_syn = false;
}

void conn_uto_option(tou_conn_t *c, tou_options_t *o) {
  tou_live_t *l = &c->live;
  uto_check_delivered(c);
  if (!l->uto_pending) return;
  o->present |= TOU_OPT_UTO;
  o->uto = tou_wire_uto_field(l->uto_adv);
}

void conn_uto_on_sent(tou_conn_t *c, const tou_segment_t *seg) {
  tou_live_t *l = &c->live;
  if (!(seg->opts.present & TOU_OPT_UTO)) return;
  uint32_t len = (uint32_t)seg->payload_len + !!(seg->flags & TOU_SYN) + !!(seg->flags & TOU_FIN);
  if (len == 0) {
    if (++l->uto_bare >= UTO_BARE_SENDS && !l->uto_in_flight) l->uto_pending = false;
    return;
  }
  if (seg->flags & TOU_SYN) l->uto_on_syn = true;
  tou_seq_t end = seg->seq + len;
  if (!l->uto_in_flight || seq_gt(end, l->uto_end)) l->uto_end = end;
  l->uto_in_flight = true;
}

/* RFC 5482 3.1: with ENABLED (user_timeout_accept) and CHANGEABLE (no
 * explicit setting on this connection),
 *   USER_TIMEOUT = min(U_LIMIT, max(ADV_UTO, REMOTE_UTO, L_LIMIT)):
 * the peer can lengthen our timeout up to U_LIMIT (so that the connection
 * survives a long outage it expects) or ask for a short one, never below
 * L_LIMIT nor below what we announce ourselves. */
void conn_uto_input(tou_conn_t *c, const tou_segment_t *seg) {
  if (!(seg->opts.present & TOU_OPT_UTO)) return;
  tou_live_t *l = &c->live;
  const tou_config_t *cfg = &c->ep->cfg;
  l->uto_peer = tou_wire_uto_us(seg->opts.uto);
  if (!cfg->user_timeout_accept || !l->uto_changeable) return;
  uint64_t t = l->uto_adv > l->uto_peer ? l->uto_adv : l->uto_peer;
  if (t < cfg->user_timeout_min_us) t = cfg->user_timeout_min_us;
  if (t > cfg->user_timeout_max_us) t = cfg->user_timeout_max_us;
  l->user_timeout = t;
}

/* RFC 5482 user timeout (RFC 9293 3.8.3, Linux TCP_USER_TIMEOUT): when
 * transmitted data stays unacknowledged this long — SND.UNA does not move
 * — the connection is aborted with TOU_ERR_TIMEDOUT, however many
 * retransmissions that took. A peer that keeps announcing a zero window is
 * alive (only not reading): hearing it restarts the clock. */
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

#include "rtt.h"

/* RFC 6298 2.3 uses alpha = 1/8 and beta = 1/4: RTTVAR = (3*RTTVAR + |SRTT-R'|)/4
 * and SRTT = (7*SRTT + R')/8. Integer division in microseconds truncates,
 * far below any timer's resolution, and keeps the core deterministic. */
/* RFC 6298 2.3: RTO = SRTT + max(G, K*RTTVAR) with K = 4. */
#define RTT_K 4

static uint64_t clamp_rto(const tou_rtt_t *r, uint64_t rto) {
  if (rto < r->min_rto_us) return r->min_rto_us; /* RFC 6298 2.4 */
  if (rto > r->max_rto_us) return r->max_rto_us; /* RFC 6298 2.5 */
  return rto;
}

void tou_rtt_init(tou_rtt_t *r, uint64_t initial_rto_us, uint64_t min_rto_us,
                  uint64_t max_rto_us) {
  *r = (tou_rtt_t){0};
  if (max_rto_us < min_rto_us) max_rto_us = min_rto_us;
  r->min_rto_us = min_rto_us;
  r->max_rto_us = max_rto_us;
  r->min_rtt_window_us = TOU_RTT_MIN_WINDOW_US;
  r->base_rto_us = clamp_rto(r, initial_rto_us);
}

static uint64_t abs_diff(uint64_t a, uint64_t b) { return a > b ? a - b : b - a; }

/* Running minimum over a time window, keeping the best, second and third
 * best samples of successive sub-windows so that when the best one expires
 * a reasonable replacement is already known (Nichols' windowed filter, as
 * used for min_RTT by Linux and BBR). */
static void min_filter_update(tou_rtt_t *r, uint64_t rtt, uint64_t now) {
  tou_rtt_minsample_t s = {rtt, now};
  tou_rtt_minsample_t *m = r->min;
  uint64_t win = r->min_rtt_window_us;

  if (!r->has_sample || rtt <= m[0].rtt_us || now - m[2].at_us > win) {
    m[0] = m[1] = m[2] = s; /* new overall minimum, or everything expired */
    return;
  }
  if (rtt <= m[1].rtt_us) {
    m[1] = m[2] = s;
  } else if (rtt <= m[2].rtt_us) {
    m[2] = s;
  }
  /* Age the best samples out, promoting the next ones. */
  if (now - m[0].at_us > win) {
    m[0] = m[1];
    m[1] = m[2];
    m[2] = s;
    if (now - m[0].at_us > win) {
      m[0] = m[1];
      m[1] = m[2];
    }
  } else if (m[1].at_us == m[0].at_us && now - m[1].at_us > win / 4) {
    /* A quarter window passed without a better second choice: take this one. */
    m[1] = m[2] = s;
  } else if (m[2].at_us == m[1].at_us && now - m[2].at_us > win / 2) {
    m[2] = s;
  }
}

void tou_rtt_on_sample(tou_rtt_t *r, uint64_t rtt_us, uint64_t now) {
  if (rtt_us == 0) rtt_us = 1; /* a zero RTT would pin RTTVAR at zero forever */
  min_filter_update(r, rtt_us, now);
  r->latest_us = rtt_us;
  if (!r->has_sample) {
    /* RFC 6298 2.2: first measurement. */
    r->srtt_us = rtt_us;
    r->rttvar_us = rtt_us / 2;
    r->has_sample = true;
  } else {
    /* RFC 6298 2.3: RTTVAR is updated with the old SRTT, then SRTT. */
    uint64_t err = abs_diff(r->srtt_us, rtt_us);
    r->rttvar_us = (3 * r->rttvar_us + err) / 4;
    r->srtt_us = (7 * r->srtt_us + rtt_us) / 8;
  }
  uint64_t var = RTT_K * r->rttvar_us;
  if (var < TOU_RTT_GRANULARITY_US) var = TOU_RTT_GRANULARITY_US;
  r->base_rto_us = clamp_rto(r, r->srtt_us + var);
  r->backoff = 0;
}

void tou_rtt_on_timeout(tou_rtt_t *r) {
  /* Stop counting once the cap is reached so the shift cannot overflow. */
  if (tou_rtt_rto(r) < r->max_rto_us) r->backoff++;
}

void tou_rtt_reset_backoff(tou_rtt_t *r) { r->backoff = 0; }

uint64_t tou_rtt_rto(const tou_rtt_t *r) {
  uint64_t rto = r->base_rto_us;
  for (unsigned i = 0; i < r->backoff; i++) {
    if (rto >= r->max_rto_us / 2) return r->max_rto_us;
    rto *= 2;
  }
  return clamp_rto(r, rto);
}

#include "flood.h"

#define RATE_WINDOW_US 1000000u
#define RECHECK_US 1000000u /* while the queue stays full after the flood */

void flood_init(tou_flood_t *f) {
  *f = (tou_flood_t){.check_at = TOU_NEVER};
  hll_clear(&f->sources);
}

static void start_flood(tou_flood_t *f, tou_ep_stats_t *st, const tou_config_t *cfg,
                        uint64_t now) {
  f->active = true;
  f->ever = true;
  hll_clear(&f->sources);
  st->syn_floods++;
  f->check_at = now + cfg->syn_flood_quiet_us;
}

bool flood_on_syn(tou_flood_t *f, const tou_config_t *cfg, tou_ep_stats_t *st, uint64_t now,
                  uint64_t source_hash, bool queue_full) {
  st->syns_received++;
  if (now - f->window_start >= RATE_WINDOW_US || now < f->window_start) {
    f->window_start = now;
    f->window_syns = 0;
  }
  f->window_syns++;
  if (queue_full || f->window_syns > cfg->syn_flood_rate) {
    f->last_pressure = now;
    if (!f->active) start_flood(f, st, cfg, now);
  }
  if (f->active) hll_add(&f->sources, source_hash);
  switch (cfg->syncookies) {
    case TOU_SYNCOOKIES_ALWAYS: return true;
    case TOU_SYNCOOKIES_NEVER: return false;
    default: return f->active;
  }
}

void flood_cookie_sent(tou_flood_t *f, uint64_t now) {
  f->cookies_sent = true;
  f->last_cookie = now;
}

bool flood_cookie_acks_expected(const tou_flood_t *f, const tou_config_t *cfg, uint64_t now) {
  return f->cookies_sent && now - f->last_cookie <= cfg->syncookie_lifetime_us;
}

uint64_t flood_deadline(const tou_flood_t *f) { return f->check_at; }

void flood_on_timer(tou_flood_t *f, const tou_config_t *cfg, uint64_t now, bool queue_full) {
  if (!f->active || now < f->check_at) return;
  uint64_t calm_at = f->last_pressure + cfg->syn_flood_quiet_us;
  if (now >= calm_at && !queue_full) {
    f->active = false;
    f->check_at = TOU_NEVER;
    return;
  }
  f->check_at = calm_at > now ? calm_at : now + RECHECK_US;
}

void flood_get_stats(const tou_flood_t *f, tou_ep_stats_t *st) {
  st->syn_flood = f->active;
  st->syn_flood_sources = f->ever ? hll_estimate(&f->sources) : 0;
}

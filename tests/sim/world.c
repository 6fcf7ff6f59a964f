#include "world.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void world_init(sim_world_t *w, uint64_t seed, const sim_link_params_t *link,
                const tou_config_t *cfg, const sim_app_cfg_t *accept_cfg) {
  memset(w, 0, sizeof *w);
  w->sim = sim_new(seed);
  w->addr_a = sim_addr(1, 1000);
  w->addr_b = sim_addr(2, 2000);
  sim_link_params_t def = {.delay_us = 10 * SIM_MS};
  sim_link_both(w->sim, &w->addr_a, &w->addr_b, link ? link : &def);
  w->a = sim_host_new(w->sim, "A", &w->addr_a, cfg);
  w->b = sim_host_new(w->sim, "B", &w->addr_b, cfg);
  if (accept_cfg) w->b->accept_cfg = *accept_cfg;
  int rc = sim_host_listen(w->b, 16);
  if (rc != 0) {
    fprintf(stderr, "world: listen failed: %s\n", tou_error_name(rc));
    abort();
  }
}

void world_free(sim_world_t *w) {
  sim_host_free(w->a);
  sim_host_free(w->b);
  sim_free(w->sim);
}

sim_link_t *world_link_ab(sim_world_t *w) { return sim_link(w->sim, &w->addr_a, &w->addr_b); }
sim_link_t *world_link_ba(sim_world_t *w) { return sim_link(w->sim, &w->addr_b, &w->addr_a); }

static bool flag_set(void *ctx) { return *(const bool *)ctx; }

bool world_run_until_flag(sim_world_t *w, const bool *flag, uint64_t limit) {
  return sim_run_until_cond(w->sim, flag_set, (void *)flag, limit);
}

static void seglog_tap(void *ctx, const sim_tap_event_t *ev) {
  seglog_t *log = ctx;
  if (ev->kind != SIM_TAP_SEND || !sim_addr_eq(ev->from, &log->from)) return;
  if (log->n == SEGLOG_MAX) return;
  tou_segment_t seg;
  if (tou_wire_decode(ev->data, ev->len, &seg) != TOU_OK) return;
  seg.payload = NULL;
  log->at[log->n] = ev->now;
  log->seg[log->n] = seg;
  log->n++;
}

/* The simulator owns the log and frees it with itself. */
seglog_t *seglog_new(sim_t *sim, const tou_addr_t *from) {
  seglog_t *log = calloc(1, sizeof *log);
  if (!log) abort();
  log->from = *from;
  sim_add_tap_owned(sim, seglog_tap, log);
  return log;
}

size_t seglog_times(const seglog_t *log, const sim_flag_match_t *m, uint64_t *out, size_t max) {
  size_t k = 0;
  for (size_t i = 0; i < log->n && k < max; i++) {
    const tou_segment_t *s = &log->seg[i];
    if ((s->flags & m->mask) != m->value) continue;
    if (m->pure_only && s->payload_len) continue;
    if (m->data_only && !s->payload_len) continue;
    out[k++] = log->at[i];
  }
  return k;
}

void world_inject(sim_world_t *w, uint64_t at, const tou_addr_t *from, const tou_addr_t *to,
                  const tou_segment_t *seg) {
  static uint8_t buf[SIM_MAX_DATAGRAM]; /* single-threaded; sim_inject copies it */
  int n = tou_wire_encode(seg, buf, sizeof buf);
  if (n < 0) {
    fprintf(stderr, "world: cannot encode injected segment: %s\n", tou_error_name(n));
    abort();
  }
  sim_inject(w->sim, at, from, to, buf, (size_t)n);
}

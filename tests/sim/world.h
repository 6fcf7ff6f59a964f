/* The usual scenario setup: a simulator, a client host A (10.0.0.1:1000) and
 * a listening server host B (10.0.0.2:2000) joined by one link per
 * direction, plus small helpers scenarios share. */
#ifndef TOU_SIM_WORLD_H
#define TOU_SIM_WORLD_H

#include "app.h"
#include "host.h"
#include "match.h"
#include "segfmt.h"
#include "sim.h"

typedef struct sim_world {
  sim_t *sim;
  sim_host_t *a, *b;
  tou_addr_t addr_a, addr_b;
} sim_world_t;

/* link NULL: 10 ms each way, no impairment. cfg NULL: defaults. B listens
 * with a backlog of 16 and its accepted apps use accept_cfg (NULL: read
 * everything, send nothing). */
void world_init(sim_world_t *w, uint64_t seed, const sim_link_params_t *link,
                const tou_config_t *cfg, const sim_app_cfg_t *accept_cfg);
void world_free(sim_world_t *w);

sim_link_t *world_link_ab(sim_world_t *w);
sim_link_t *world_link_ba(sim_world_t *w);

/* Runs until *flag is true or limit (absolute virtual time) passes. */
bool world_run_until_flag(sim_world_t *w, const bool *flag, uint64_t limit);

/* Records the times and segments of datagrams sent from one address. */
#define SEGLOG_MAX 4096
typedef struct seglog {
  tou_addr_t from;
  size_t n;
  uint64_t at[SEGLOG_MAX];
  tou_segment_t seg[SEGLOG_MAX]; /* payload pointers are cleared */
} seglog_t;
/* Starts recording datagrams sent (SIM_TAP_SEND) from `from`. */
seglog_t *seglog_new(sim_t *sim, const tou_addr_t *from);
/* Times of the logged segments matching m, up to max; returns the count. */
size_t seglog_times(const seglog_t *log, const sim_flag_match_t *m, uint64_t *out, size_t max);

/* Encodes seg and delivers it to `to` at `at`, bypassing the links. */
void world_inject(sim_world_t *w, uint64_t at, const tou_addr_t *from, const tou_addr_t *to,
                  const tou_segment_t *seg);

#endif

/* Seeded soak of the whole lifecycle: 200 random worlds, each with random
 * impairments (loss, bursts, jitter, reordering, duplication, corruption, a
 * bottleneck, sometimes a blackout), random amounts of data each way (0 to
 * 8 KB, the data path of this issue is minimal) and a random close order
 * (half-close first, close as soon as queued, or close after reading).
 * Every world must deliver every byte exactly, end both connections
 * without error and leave both endpoints idle: no connection, no TIME_WAIT
 * record, no timer. Everything random is drawn from the world's own seed,
 * which it prints, so TOU_SIM_SEED=<that seed> replays a failing world. */
#include "scenario.h"

#define MS SIM_MS
#define SEC SIM_SEC
#define WORLDS 200

static double uniform(sim_rng_t *r, double lo, double hi) {
  return lo + (hi - lo) * sim_rng_double(r);
}

static void random_link(sim_rng_t *r, sim_link_params_t *p) {
  memset(p, 0, sizeof *p);
  p->delay_us = 1 * MS + sim_rng_below(r, 100 * MS);
  if (sim_rng_chance(r, 0.5)) p->jitter_us = sim_rng_below(r, 20 * MS);
  if (sim_rng_chance(r, 0.6)) p->loss = uniform(r, 0.0, 0.15);
  if (sim_rng_chance(r, 0.3)) {
    p->ge_p = uniform(r, 0.005, 0.05);
    p->ge_r = uniform(r, 0.2, 0.6);
    p->ge_loss_bad = uniform(r, 0.5, 1.0);
  }
  if (sim_rng_chance(r, 0.3)) {
    p->reorder = uniform(r, 0.0, 0.2);
    p->reorder_us = sim_rng_below(r, 50 * MS);
  }
  if (sim_rng_chance(r, 0.3)) {
    p->duplicate = uniform(r, 0.0, 0.1);
    p->dup_gap_us = sim_rng_below(r, 5 * MS);
  }
  if (sim_rng_chance(r, 0.3)) {
    p->corrupt = uniform(r, 0.0, 0.1);
    p->corrupt_bits = 1 + (unsigned)sim_rng_below(r, 3);
  }
  if (sim_rng_chance(r, 0.4)) {
    p->rate_bps = 500000 + sim_rng_below(r, 20000000);
    p->queue_bytes = 3000 + sim_rng_below(r, 60000);
  }
}

/* One of three close orders for one side. */
static void random_close(sim_rng_t *r, sim_app_cfg_t *c) {
  switch (sim_rng_below(r, 3)) {
    case 0: /* half-close when sent, close after EOF */
      c->shutdown_when_sent = true;
      c->close_when_done = true;
      break;
    case 1: /* read to EOF, then send and close */
      c->close_when_done = true;
      c->shutdown_when_sent = false;
      break;
    default: /* close right after queueing everything (graceful) */
      c->close_when_sent = true;
      break;
  }
}

static void one_world(uint64_t seed) {
  sim_world_t w;
  tou_config_t cfg;
  tou_config_default(&cfg);
  cfg.msl_us = 2 * SEC;
  world_init(&w, seed, NULL, &cfg, NULL);
  sim_rng_t *r = sim_rng(w.sim);
  sim_link_params_t ab, ba;
  random_link(r, &ab);
  random_link(r, &ba);
  sim_link_set_params(world_link_ab(&w), &ab);
  sim_link_set_params(world_link_ba(&w), &ba);
  if (sim_rng_chance(r, 0.2)) {
    uint64_t from = sim_rng_below(r, 2 * SEC), len = 100 * MS + sim_rng_below(r, 5 * SEC);
    sim_link_add_blackout(world_link_ab(&w), from, from + len);
    if (sim_rng_chance(r, 0.5)) sim_link_add_blackout(world_link_ba(&w), from, from + len);
  }
  size_t up = (size_t)sim_rng_below(r, 8193), down = (size_t)sim_rng_below(r, 8193);
  sim_app_cfg_t ccfg = {.send_bytes = up, .tx_pattern = 1, .rx_pattern = 2};
  sim_app_cfg_t scfg = {.send_bytes = down, .tx_pattern = 2, .rx_pattern = 1};
  random_close(r, &ccfg);
  random_close(r, &scfg);
  /* A side that closes as soon as its data is queued would reset the
   * connection if data arrived unread afterwards (RFC 9293 3.10.4, RFC
   * 2525): only allowed when the other side sends nothing. */
  if (ccfg.close_when_sent && down) ccfg.close_when_sent = false, ccfg.shutdown_when_sent = true,
                                    ccfg.close_when_done = true;
  if (scfg.close_when_sent && up) scfg.close_when_sent = false, scfg.shutdown_when_sent = true,
                                  scfg.close_when_done = true;
  /* Both sides must eventually send a FIN, or neither closes: a side that
   * waits for EOF before sending needs the other to half-close. */
  if (!ccfg.shutdown_when_sent && !ccfg.close_when_sent && !scfg.shutdown_when_sent &&
      !scfg.close_when_sent)
    ccfg.shutdown_when_sent = true;
  w.b->accept_cfg = scfg;
  sim_app_t *c = sim_app_connect(w.a, &w.addr_b, &ccfg, NULL);
  assert_non_null(c);
  sim_run_idle(w.sim, 1000 * SEC);
  sim_app_t *s = w.b->last_accepted;
  if (!s || !c->released || !s->released || c->data_mismatch || c->received != down ||
      (s && (s->data_mismatch || s->received != up))) {
    print_error("world seed 0x%llx: up %zu down %zu; client got %zu%s, server got %zu%s\n",
                (unsigned long long)sim_seed(w.sim), up, down, c->received,
                c->data_mismatch ? " (corrupt)" : "", s ? s->received : 0,
                s && s->data_mismatch ? " (corrupt)" : "");
  }
  assert_non_null(s);
  assert_false(c->data_mismatch);
  assert_false(s->data_mismatch);
  assert_int_equal(c->received, down);
  assert_int_equal(s->received, up);
  assert_true(c->released && s->released);
  assert_int_equal(c->error, 0);
  assert_int_equal(s->error, 0);
  tou_ep_stats_t sa, sb;
  tou_ep_get_stats(w.a->ep, &sa);
  tou_ep_get_stats(w.b->ep, &sb);
  assert_int_equal(sa.connections + sa.time_wait, 0);
  assert_int_equal(sb.connections + sb.time_wait, 0);
  assert_int_equal(tou_ep_next_deadline(w.a->ep), TOU_NEVER);
  assert_int_equal(tou_ep_next_deadline(w.b->ep), TOU_NEVER);
  world_free(&w);
}

static void test_random_worlds(void **state) {
  (void)state;
  uint64_t s = 0x50a4;
  for (int i = 0; i < WORLDS; i++) one_world(sim_splitmix64(&s));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_random_worlds),
  };
  SIM_RUN_TESTS(tests);
}

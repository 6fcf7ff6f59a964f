/* Goodput floors for the loss recovery and congestion control (issue 6):
 * a bulk transfer (4 s) over a 4 Mbit/s, 40 ms RTT path with a one-BDP drop-tail
 * queue must reach a minimum fraction of the capacity, per algorithm, on a
 * clean path and with 1 % random loss. The floors sit well below what the
 * seeds below achieve (bench/bench_goodput prints the full grid at
 * 100 Mbit/s); a regression in RACK, SACK, pacing or cwnd growth drops far
 * below them. Seeds are fixed; TOU_SIM_SEED replays another. */
#include <inttypes.h>

#include "scenario.h"

#define MS SIM_MS
#define SEC SIM_SEC
#define RATE 4000000ull

static double goodput(const char *algo, double loss, uint64_t seed, uint64_t duration,
                      tou_conn_info_t *info) {
  sim_link_params_t p = {.delay_us = 20 * MS, .rate_bps = RATE,
                         .queue_bytes = RATE / 8 * 40 * MS / SEC, .loss = loss};
  tou_config_t cfg;
  tou_config_default(&cfg);
  cfg.send_buffer = cfg.recv_buffer = 1u << 20;
  cfg.cc_algorithm = algo;
  sim_app_cfg_t reader = reader_cfg(1);
  sim_world_t w;
  world_init(&w, seed, &p, &cfg, &reader);
  sim_app_cfg_t sender = {.send_bytes = (size_t)(RATE / 8 * (duration / SEC + 2)),
                          .tx_pattern = 1};
  sim_app_t *c = sim_app_connect(w.a, &w.addr_b, &sender, NULL);
  assert_non_null(c);
  assert_true(world_run_until_flag(&w, &c->connected, 5 * SEC));
  uint64_t start = sim_now(w.sim);
  sim_run_until(w.sim, start + duration);
  sim_app_t *s = w.b->last_accepted;
  assert_non_null(s);
  assert_false(s->data_mismatch);
  tou_conn_get_info(c->conn, info);
  double g = (double)s->received * 8.0 / ((double)RATE * (double)duration / SEC);
  world_free(&w);
  return g;
}

static void check(const char *algo, double loss, uint64_t seed, double floor) {
  tou_conn_info_t i;
  double g = goodput(algo, loss, seed, 4 * SEC, &i);
  print_message("%s loss %.1f%%: goodput %.1f%% of capacity (retransmitted %" PRIu64
                ", timeouts %" PRIu64 ", tlp %" PRIu64 ")\n",
                algo, loss * 100, g * 100, (uint64_t)i.segs_retransmitted, (uint64_t)i.timeouts,
                (uint64_t)i.tlp_probes);
  if (g < floor) fail_msg("%s at %.1f%% loss: goodput %.3f below floor %.3f", algo, loss * 100, g, floor);
}

static void cubic_clean(void **state) { (void)state; check("cubic", 0, 601, 0.85); }
static void newreno_clean(void **state) { (void)state; check("newreno", 0, 602, 0.85); }
static void cubic_one_percent(void **state) { (void)state; check("cubic", 0.01, 603, 0.40); }
static void newreno_one_percent(void **state) { (void)state; check("newreno", 0.01, 604, 0.40); }

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(cubic_clean),
      cmocka_unit_test(newreno_clean),
      cmocka_unit_test(cubic_one_percent),
      cmocka_unit_test(newreno_one_percent),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

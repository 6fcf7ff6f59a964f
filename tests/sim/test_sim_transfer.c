/* Small transfers (a few KB each way) over impaired paths: random loss,
 * burst loss, reordering, duplication, corruption and a short blackout.
 * The data path of this issue is minimal (in-order delivery, cumulative ACK,
 * retransmission on RTO), so sizes stay small; every byte is checked against
 * its pattern and every corrupted datagram must be dropped by the CRC. */
#include <stdlib.h>

#include "scenario.h"

#define MS SIM_MS
#define SEC SIM_SEC

/* Pairs each corrupted delivery with the drop it must cause: the tap sees
 * the delivery just before the host feeds the datagram to its endpoint, so
 * a decoding drop traced while `in_corrupted` is set belongs to it. Drops of
 * intact datagrams (a version-reject answering a corrupted version byte is
 * itself dropped by the other side) are not counted. */
typedef struct crc_check {
  bool in_corrupted;
  uint64_t delivered_corrupted;
  uint64_t dropped_corrupted;
} crc_check_t;

static void count_corrupted(void *ctx, const sim_tap_event_t *ev) {
  crc_check_t *cc = ctx;
  if (ev->kind != SIM_TAP_DELIVER) return;
  cc->in_corrupted = ev->corrupted;
  if (ev->corrupted) cc->delivered_corrupted++;
}

static void count_crc_drop(void *ctx, const tou_trace_event_t *ev) {
  crc_check_t *cc = ctx;
  if (ev->kind == TOU_TRACE_SEG_DROP && cc->in_corrupted && ev->error <= TOU_ERR_TRUNCATED &&
      ev->error >= TOU_ERR_BAD_CHECKSUM)
    cc->dropped_corrupted++;
  /* A corrupted datagram must never be taken for a segment. */
  if (ev->kind == TOU_TRACE_SEG_RECV && cc->in_corrupted) {
    print_error("a corrupted datagram was accepted as a segment\n");
    fail();
  }
}

/* Runs a client->server transfer of `up` bytes and server->client of
 * `down` bytes on link p (both directions) and checks both arrive intact
 * and both sides close. */
static void transfer(uint64_t seed, const sim_link_params_t *p, size_t up, size_t down) {
  sim_world_t w;
  sim_app_cfg_t scfg = server_cfg(down);
  world_init(&w, seed, p, NULL, &scfg);
  crc_check_t cc = {0};
  sim_add_tap(w.sim, count_corrupted, &cc);
  w.a->on_trace = count_crc_drop;
  w.a->trace_ctx = &cc;
  w.b->on_trace = count_crc_drop;
  w.b->trace_ctx = &cc;
  sim_app_cfg_t ccfg = client_cfg(up);
  sim_app_t *c = sim_app_connect(w.a, &w.addr_b, &ccfg, NULL);
  assert_non_null(c);
  sim_run_idle(w.sim, 600 * SEC);
  sim_app_t *s = w.b->last_accepted;
  assert_non_null(s);
  assert_received_all(c, down);
  assert_received_all(s, up);
  assert_true(c->released);
  assert_true(s->released);
  /* Every corrupted datagram that reached a host was dropped, once. */
  assert_int_equal(cc.dropped_corrupted, cc.delivered_corrupted);
  world_free(&w);
}

static void test_clean(void **state) {
  (void)state;
  sim_link_params_t p = {.delay_us = 20 * MS};
  transfer(400, &p, 4000, 3000);
}

static void test_random_loss_5pct(void **state) {
  (void)state;
  sim_link_params_t p = {.delay_us = 20 * MS, .loss = 0.05};
  for (uint64_t seed = 410; seed < 415; seed++) transfer(seed, &p, 4000, 3000);
}

static void test_random_loss_20pct(void **state) {
  (void)state;
  sim_link_params_t p = {.delay_us = 20 * MS, .loss = 0.20};
  for (uint64_t seed = 420; seed < 423; seed++) transfer(seed, &p, 3000, 2000);
}

static void test_burst_loss(void **state) {
  (void)state;
  sim_link_params_t p = {.delay_us = 20 * MS, .ge_p = 0.05, .ge_r = 0.3, .ge_loss_bad = 0.9};
  for (uint64_t seed = 430; seed < 433; seed++) transfer(seed, &p, 4000, 3000);
}

static void test_reordering(void **state) {
  (void)state;
  sim_link_params_t p = {.delay_us = 20 * MS, .jitter_us = 15 * MS, .reorder = 0.2,
                         .reorder_us = 30 * MS};
  for (uint64_t seed = 440; seed < 443; seed++) transfer(seed, &p, 6000, 5000);
}

static void test_duplication(void **state) {
  (void)state;
  sim_link_params_t p = {.delay_us = 20 * MS, .duplicate = 0.3, .dup_gap_us = 2 * MS};
  for (uint64_t seed = 450; seed < 453; seed++) transfer(seed, &p, 6000, 5000);
}

static void test_corruption(void **state) {
  (void)state;
  sim_link_params_t p = {.delay_us = 20 * MS, .corrupt = 0.2, .corrupt_bits = 3};
  for (uint64_t seed = 460; seed < 463; seed++) transfer(seed, &p, 6000, 5000);
}

static void test_everything_at_once(void **state) {
  (void)state;
  sim_link_params_t p = {.delay_us = 30 * MS, .jitter_us = 10 * MS, .rate_bps = 2000000,
                         .queue_bytes = 30000, .loss = 0.03, .reorder = 0.1,
                         .reorder_us = 20 * MS, .duplicate = 0.05, .dup_gap_us = 1 * MS,
                         .corrupt = 0.05, .corrupt_bits = 3};
  for (uint64_t seed = 470; seed < 475; seed++) transfer(seed, &p, 5000, 5000);
}

/* Both directions go dark for 3 s in the middle of the transfer. */
static void test_short_blackout(void **state) {
  (void)state;
  sim_world_t w;
  sim_app_cfg_t scfg = server_cfg(3000);
  world_init(&w, 480, NULL, NULL, &scfg);
  sim_link_add_blackout(world_link_ab(&w), 25 * MS, 3 * SEC);
  sim_link_add_blackout(world_link_ba(&w), 25 * MS, 3 * SEC);
  sim_app_cfg_t ccfg = client_cfg(4000);
  sim_app_t *c = sim_app_connect(w.a, &w.addr_b, &ccfg, NULL);
  sim_run_idle(w.sim, 600 * SEC);
  assert_non_null(w.b->last_accepted);
  assert_received_all(c, 3000);
  assert_received_all(w.b->last_accepted, 4000);
  world_free(&w);
}

/* The whole system — links and both cores — is a function of the seed:
 * the same seed gives the same datagram trace, another seed another one. */
static uint64_t lossy_run_hash(uint64_t seed) {
  sim_world_t w;
  sim_link_params_t p = {.delay_us = 25 * MS, .jitter_us = 5 * MS, .loss = 0.1,
                         .duplicate = 0.05, .dup_gap_us = 1 * MS, .corrupt = 0.05};
  sim_app_cfg_t scfg = server_cfg(4000);
  world_init(&w, seed, &p, NULL, &scfg);
  sim_app_cfg_t ccfg = client_cfg(5000);
  sim_app_t *c = sim_app_connect(w.a, &w.addr_b, &ccfg, NULL);
  sim_run_idle(w.sim, 600 * SEC);
  assert_received_all(c, 4000);
  uint64_t h = sim_trace_hash(w.sim);
  world_free(&w);
  return h;
}

static void test_same_seed_same_trace(void **state) {
  (void)state;
  uint64_t h1 = lossy_run_hash(490), h2 = lossy_run_hash(490);
  assert_int_equal(h1, h2);
  if (!getenv("TOU_SIM_SEED")) assert_true(lossy_run_hash(491) != h1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_clean),
      cmocka_unit_test(test_random_loss_5pct),
      cmocka_unit_test(test_random_loss_20pct),
      cmocka_unit_test(test_burst_loss),
      cmocka_unit_test(test_reordering),
      cmocka_unit_test(test_duplication),
      cmocka_unit_test(test_corruption),
      cmocka_unit_test(test_everything_at_once),
      cmocka_unit_test(test_short_blackout),
      cmocka_unit_test(test_same_seed_same_trace),
  };
  SIM_RUN_TESTS(tests);
}

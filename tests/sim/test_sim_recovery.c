/* Recovery after retransmission timeouts on both sides at once. Found by
 * the seed sweep of test_sim_transfer (e.g. TOU_SIM_SEED=13, corruption):
 * when both sides have retransmitted after an RTO while their peer had in
 * fact received everything, each side's pure ACKs must still carry a
 * sequence number the peer finds acceptable — the next NEW sequence number
 * (SND.MAX), not the rewound SND.NXT of the retransmission. Otherwise every
 * ACK is "not acceptable" to the other side (RFC 9293 3.10.7.4, first
 * check), is answered by another unacceptable ACK, its acknowledgment field
 * is never processed, and the two endpoints exchange ACKs forever without
 * progress: an ACK storm and a silent stall. The core on main before
 * a52db08 (data-path integration) did exactly that: both sides stuck in
 * CLOSING, ~200 ACKs per second; this scenario is its regression test. */
#include "scenario.h"

#define MS SIM_MS
#define SEC SIM_SEC

typedef struct ack_cut {
  sim_t *sim;
  uint64_t until;
} ack_cut_t;

/* Drops pure ACKs (and nothing else) until a given time. */
static bool early_pure_ack(void *ctx, uint64_t index, const uint8_t *data, size_t len) {
  ack_cut_t *cut = ctx;
  (void)index;
  return sim_now(cut->sim) < cut->until && sim_match(&SIM_MATCH_PURE_ACK, data, len);
}

static void test_both_sides_rto_after_acks_lost(void **state) {
  (void)state;
  sim_world_t w;
  sim_app_cfg_t scfg = server_cfg(3000);
  world_init(&w, 600, NULL, NULL, &scfg);
  /* Every pure ACK is lost for the first 500 ms: all data arrives, no ACK
   * of it does, and both sides time out (RTO 200 ms after a 20 ms RTT) and
   * retransmit their first segment. */
  ack_cut_t cut = {.sim = w.sim, .until = 500 * MS};
  sim_link_add_filter(world_link_ab(&w), early_pure_ack, &cut, -1);
  sim_link_add_filter(world_link_ba(&w), early_pure_ack, &cut, -1);
  sim_app_cfg_t ccfg = client_cfg(3000);
  sim_app_t *c = sim_app_connect(w.a, &w.addr_b, &ccfg, NULL);
  sim_run_until(w.sim, 10 * SEC);
  sim_app_t *s = w.b->last_accepted;
  assert_non_null(s);
  assert_received_all(c, 3000);
  assert_received_all(s, 3000);
  /* Both FINs acknowledged: CLOSING -> TIME_WAIT on both sides. */
  assert_state_seen(c, TOU_TIME_WAIT);
  assert_state_seen(s, TOU_TIME_WAIT);
  uint64_t acks = w.a->stats.pure_ack_sent + w.b->stats.pure_ack_sent;
  print_message("pure ACKs sent in 10 s: %llu\n", (unsigned long long)acks);
  assert_true(acks < 100);
  world_free(&w);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_both_sides_rto_after_acks_lost),
  };
  SIM_RUN_TESTS(tests);
}

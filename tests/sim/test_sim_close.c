/* Every close order on the simulator (RFC 9293 3.6): active/passive,
 * simultaneous close through CLOSING, half-close with data still flowing
 * the other way, TIME_WAIT re-acknowledging a retransmitted FIN, RST in
 * TIME_WAIT ignored (RFC 1337), and abort. MSL is 5 s here so TIME_WAIT
 * lasts 10 s. Link: 10 ms each way. */
#include "scenario.h"

#define MS SIM_MS
#define SEC SIM_SEC
#define MSL (5 * SEC)

static void init(sim_world_t *w, uint64_t seed, const sim_app_cfg_t *scfg) {
  tou_config_t cfg;
  tou_config_default(&cfg);
  cfg.msl_us = MSL;
  world_init(w, seed, NULL, &cfg, scfg);
}

/* Connects A to B and returns both apps once established and idle. */
static sim_app_t *open_pair(sim_world_t *w, const sim_app_cfg_t *ccfg, sim_app_t **server) {
  sim_app_t *c = sim_app_connect(w->a, &w->addr_b, ccfg, NULL);
  assert_non_null(c);
  sim_run_until(w->sim, sim_now(w->sim) + 1 * SEC);
  assert_true(c->connected);
  *server = w->b->last_accepted;
  assert_non_null(*server);
  return c;
}

/* A closes first (active close: FIN_WAIT_1 -> FIN_WAIT_2 -> TIME_WAIT), B
 * sees EOF, then closes (CLOSE_WAIT -> LAST_ACK -> CLOSED). TIME_WAIT lasts
 * 2*MSL, after which neither endpoint has anything left to time. */
static void test_active_passive_close(void **state) {
  (void)state;
  sim_world_t w;
  sim_app_cfg_t scfg = reader_cfg(1);
  init(&w, 200, &scfg);
  sim_app_cfg_t ccfg = {.send_bytes = 3000, .tx_pattern = 1, .rx_pattern = 2};
  sim_app_t *s, *c = open_pair(&w, &ccfg, &s);
  uint64_t t0 = sim_now(w.sim);
  sim_app_close(c);
  sim_run_until(w.sim, t0 + 1 * SEC);
  assert_received_all(s, 3000);
  assert_int_equal(s->state, TOU_CLOSE_WAIT);
  assert_state_seen(c, TOU_FIN_WAIT_1);
  assert_state_seen(c, TOU_FIN_WAIT_2);
  assert_int_equal(c->state, TOU_FIN_WAIT_2);
  uint64_t t1 = sim_now(w.sim);
  sim_app_close(s);
  sim_run_until(w.sim, t1 + 1 * SEC);
  assert_state_seen(s, TOU_LAST_ACK);
  assert_int_equal(s->state, TOU_CLOSED);
  assert_int_equal(c->state, TOU_TIME_WAIT);
  /* B's FIN reached A at t1 + 10 ms: TIME_WAIT ends 2*MSL later. */
  assert_time_is(tou_ep_next_deadline(w.a->ep), t1 + 10 * MS + 2 * MSL);
  assert_int_equal(tou_ep_next_deadline(w.b->ep), TOU_NEVER);
  sim_run_until(w.sim, t1 + 10 * MS + 2 * MSL);
  assert_int_equal(tou_ep_next_deadline(w.a->ep), TOU_NEVER);
  assert_int_equal(w.a->stats.rst_sent + w.b->stats.rst_sent, 0);
  world_free(&w);
}

/* Both apps close at the same instant: the FINs cross, each side goes
 * FIN_WAIT_1 -> CLOSING -> TIME_WAIT. */
static void test_simultaneous_close(void **state) {
  (void)state;
  sim_world_t w;
  sim_app_cfg_t scfg = reader_cfg(1);
  init(&w, 210, &scfg);
  sim_app_cfg_t ccfg = reader_cfg(2);
  sim_app_t *s, *c = open_pair(&w, &ccfg, &s);
  uint64_t t0 = sim_now(w.sim);
  sim_app_close(c);
  sim_app_close(s);
  sim_run_until(w.sim, t0 + 1 * SEC);
  assert_state_seen(c, TOU_CLOSING);
  assert_state_seen(s, TOU_CLOSING);
  assert_int_equal(c->state, TOU_TIME_WAIT);
  assert_int_equal(s->state, TOU_TIME_WAIT);
  /* CLOSING -> TIME_WAIT when the ACK of our FIN arrives, one RTT after
   * the close. */
  assert_time_is(tou_ep_next_deadline(w.a->ep), t0 + 20 * MS + 2 * MSL);
  assert_time_is(tou_ep_next_deadline(w.b->ep), t0 + 20 * MS + 2 * MSL);
  sim_run_until(w.sim, t0 + 20 * MS + 2 * MSL);
  assert_int_equal(tou_ep_next_deadline(w.a->ep), TOU_NEVER);
  assert_int_equal(tou_ep_next_deadline(w.b->ep), TOU_NEVER);
  world_free(&w);
}

/* A half-closes right away; B keeps sending for a long time after it has
 * seen A's FIN, and every byte still arrives (RFC 9293 3.6: CLOSE means "I
 * have no more to send", the other direction stays open). */
static void test_half_close_data_keeps_flowing(void **state) {
  (void)state;
  sim_world_t w;
  sim_app_cfg_t scfg = {.tx_pattern = 2, .rx_pattern = 1};
  init(&w, 220, &scfg);
  sim_app_cfg_t ccfg = {.send_bytes = 1000, .tx_pattern = 1, .rx_pattern = 2,
                        .shutdown_when_sent = true, .close_when_done = true};
  sim_app_t *s, *c = open_pair(&w, &ccfg, &s);
  assert_true(c->shutdown_sent);
  assert_true(s->eof);
  assert_true(c->fin_acked);
  assert_int_equal(c->state, TOU_FIN_WAIT_2);
  assert_int_equal(s->state, TOU_CLOSE_WAIT);
  /* B streams for 30 s of virtual time after A's FIN. */
  uint64_t t0 = sim_now(w.sim);
  for (int i = 0; i < 30; i++) {
    sim_app_send_more(s, 2000);
    sim_run_until(w.sim, t0 + (uint64_t)(i + 1) * SEC);
    assert_int_equal(c->received, (size_t)(i + 1) * 2000);
  }
  assert_true(c->t_last_data > s->t_eof);
  assert_int_equal(c->received_at_shutdown, 0);
  sim_app_shutdown(s);
  sim_run_until(w.sim, sim_now(w.sim) + 1 * SEC);
  assert_received_all(c, 60000);
  assert_received_all(s, 1000);
  assert_state_seen(c, TOU_TIME_WAIT);
  sim_app_close(s);
  sim_run_until(w.sim, sim_now(w.sim) + 2 * MSL + 1 * SEC);
  assert_int_equal(s->state, TOU_CLOSED);
  assert_int_equal(tou_ep_next_deadline(w.a->ep), TOU_NEVER);
  world_free(&w);
}

/* The ACK of B's FIN is lost: B (LAST_ACK) retransmits its FIN after the
 * RTO, A in TIME_WAIT acknowledges it again and restarts the 2*MSL timer
 * (RFC 9293 3.10.7.4, TIME-WAIT: "Acknowledge it, and restart the 2 MSL
 * timeout"). */
static void test_time_wait_reacks_retransmitted_fin(void **state) {
  (void)state;
  sim_world_t w;
  sim_app_cfg_t scfg = reader_cfg(1);
  init(&w, 230, &scfg);
  sim_app_cfg_t ccfg = reader_cfg(2);
  sim_app_t *s, *c = open_pair(&w, &ccfg, &s);
  sim_app_close(c);
  sim_run_until(w.sim, sim_now(w.sim) + 1 * SEC);
  assert_int_equal(c->state, TOU_FIN_WAIT_2);
  seglog_t *alog = seglog_new(w.sim, &w.addr_a);
  seglog_t *blog = seglog_new(w.sim, &w.addr_b);
  sim_link_add_filter(world_link_ab(&w), sim_filter_flags, (void *)&SIM_MATCH_PURE_ACK, 1);
  uint64_t t1 = sim_now(w.sim);
  sim_app_close(s);
  sim_run_until(w.sim, t1 + 5 * SEC);
  uint64_t fins[8];
  size_t nfin = seglog_times(blog, &SIM_MATCH_FIN, fins, 8);
  assert_int_equal(nfin, 2);
  assert_time_is(fins[0], t1);
  assert_true(fins[1] > t1 && fins[1] <= t1 + 3 * SEC);
  uint64_t acks[8];
  size_t nack = seglog_times(alog, &SIM_MATCH_PURE_ACK, acks, 8);
  assert_int_equal(nack, 2);
  assert_time_is(acks[1], fins[1] + 10 * MS);
  assert_int_equal(s->state, TOU_CLOSED);
  assert_int_equal(c->state, TOU_TIME_WAIT);
  assert_time_is(tou_ep_next_deadline(w.a->ep), acks[1] + 2 * MSL);
  world_free(&w);
}

/* RFC 1337: a RST arriving in TIME_WAIT, even one with the exact sequence
 * number, must not cut TIME_WAIT short. */
static void test_rst_in_time_wait_ignored(void **state) {
  (void)state;
  sim_world_t w;
  sim_app_cfg_t scfg = reader_cfg(1);
  init(&w, 240, &scfg);
  sim_app_cfg_t ccfg = reader_cfg(2);
  sim_app_t *s, *c = open_pair(&w, &ccfg, &s);
  seglog_t *blog = seglog_new(w.sim, &w.addr_b);
  uint32_t a_cid = tou_conn_local_cid(c->conn), b_cid = tou_conn_local_cid(s->conn);
  sim_app_close(c);
  sim_run_until(w.sim, sim_now(w.sim) + 1 * SEC);
  sim_app_close(s);
  sim_run_until(w.sim, sim_now(w.sim) + 1 * SEC);
  assert_int_equal(c->state, TOU_TIME_WAIT);
  uint64_t deadline = tou_ep_next_deadline(w.a->ep);
  assert_true(deadline != TOU_NEVER);
  /* B's FIN was its last segment: the exact next sequence is its seq + 1. */
  uint64_t fins[4];
  assert_int_equal(seglog_times(blog, &SIM_MATCH_FIN, fins, 4), 1);
  tou_segment_t fin = {0};
  for (size_t i = 0; i < blog->n; i++)
    if (blog->seg[i].flags & TOU_FIN) fin = blog->seg[i];
  for (int k = 0; k < 3; k++) {
    tou_segment_t rst = {.flags = TOU_RST, .seq = fin.seq + 1 + (uint32_t)k, .dst_cid = a_cid,
                         .src_cid = b_cid};
    world_inject(&w, sim_now(w.sim) + 1 * MS, &w.addr_b, &w.addr_a, &rst);
    sim_run_until(w.sim, sim_now(w.sim) + 100 * MS);
  }
  assert_int_equal(c->state, TOU_TIME_WAIT);
  assert_time_is(tou_ep_next_deadline(w.a->ep), deadline);
  assert_int_equal(w.a->stats.rst_sent, 0);
  world_free(&w);
}

/* Abort: A sends RST and discards what it had queued; B's connection ends
 * with TOU_ERR_RESET one link delay later. */
static void test_abort(void **state) {
  (void)state;
  sim_world_t w;
  sim_app_cfg_t scfg = reader_cfg(1);
  init(&w, 250, &scfg);
  sim_app_cfg_t ccfg = reader_cfg(2);
  sim_app_t *s, *c = open_pair(&w, &ccfg, &s);
  /* B stops reading, so the data sits unread at B when A aborts. */
  sim_app_set_reading(s, false);
  sim_app_send_more(c, 1000);
  sim_run_until(w.sim, sim_now(w.sim) + 1 * SEC);
  assert_int_equal(s->received, 0);
  uint64_t t0 = sim_now(w.sim);
  sim_app_abort(c);
  assert_int_equal(w.a->stats.rst_sent, 1);
  assert_true(world_run_until_flag(&w, &s->closed, t0 + 1 * SEC));
  assert_error_is(s->error, TOU_ERR_RESET);
  assert_time_is(s->t_closed, t0 + 10 * MS);
  assert_int_equal(c->state, TOU_CLOSED);
  sim_run_until(w.sim, t0 + 200 * SEC);
  assert_int_equal(tou_ep_next_deadline(w.a->ep), TOU_NEVER);
  assert_int_equal(tou_ep_next_deadline(w.b->ep), TOU_NEVER);
  world_free(&w);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_active_passive_close),
      cmocka_unit_test(test_simultaneous_close),
      cmocka_unit_test(test_half_close_data_keeps_flowing),
      cmocka_unit_test(test_time_wait_reacks_retransmitted_fin),
      cmocka_unit_test(test_rst_in_time_wait_ignored),
      cmocka_unit_test(test_abort),
  };
  SIM_RUN_TESTS(tests);
}

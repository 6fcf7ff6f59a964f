/* Three-way handshake on the simulator: each of SYN, SYN-ACK and ACK lost
 * once and repeatedly (retransmissions at 1 s, then doubling: RFC 6298 2.1
 * and 5.5 applied to the SYN as RFC 9293 3.8.1 asks), connect timeout,
 * refused, simultaneous open (RFC 9293 Figure 8), an old duplicate SYN
 * (Figure 9) and the discovery of a half-open connection left by a peer that
 * restarted (Figure 11). Link: 10 ms each way unless stated. */
#include "scenario.h"

#define MS SIM_MS
#define SEC SIM_SEC

static sim_app_t *server_app(sim_world_t *w) { return w->b->last_accepted; }

static void run_transfer_and_check(sim_world_t *w, sim_app_t *client, uint64_t limit) {
  sim_run_idle(w->sim, limit);
  assert_true(client->connected);
  assert_received_all(client, 2000);
  assert_non_null(server_app(w));
  assert_received_all(server_app(w), 3000);
}

static void test_clean_handshake(void **state) {
  (void)state;
  sim_world_t w;
  sim_app_cfg_t scfg = server_cfg(2000);
  world_init(&w, 100, NULL, NULL, &scfg);
  sim_app_cfg_t ccfg = client_cfg(3000);
  int err = 0;
  sim_app_t *c = sim_app_connect(w.a, &w.addr_b, &ccfg, &err);
  assert_non_null(c);
  assert_int_equal(tou_conn_state(c->conn), TOU_SYN_SENT);
  assert_true(world_run_until_flag(&w, &c->connected, 5 * SEC));
  assert_time_is(c->t_connected, 20 * MS); /* one round trip */
  run_transfer_and_check(&w, c, 200 * SEC);
  world_free(&w);
}

/* Drops the SYNs numbered in `drops` (1-based) on A->B and checks that A
 * retransmits at 1 s, 3 s, 7 s, ... and connects one RTT after the first
 * SYN that gets through. */
static void syn_lost(unsigned lost) {
  sim_world_t w;
  sim_app_cfg_t scfg = server_cfg(2000);
  world_init(&w, 101 + lost, NULL, NULL, &scfg);
  for (unsigned i = 1; i <= lost; i++) sim_link_drop_nth(world_link_ab(&w), i);
  seglog_t *log = seglog_new(w.sim, &w.addr_a);
  sim_app_cfg_t ccfg = client_cfg(3000);
  sim_app_t *c = sim_app_connect(w.a, &w.addr_b, &ccfg, NULL);
  assert_non_null(c);
  assert_true(world_run_until_flag(&w, &c->connected, 100 * SEC));
  uint64_t syn[16];
  size_t n = seglog_times(log, &SIM_MATCH_SYN, syn, 16);
  assert_int_equal(n, lost + 1);
  uint64_t expect = 0, rto = SEC;
  for (size_t i = 0; i < n; i++) {
    assert_time_is(syn[i], expect);
    expect += rto;
    rto *= 2;
  }
  assert_time_is(c->t_connected, syn[lost] + 20 * MS);
  run_transfer_and_check(&w, c, 200 * SEC);
  world_free(&w);
}

static void test_syn_lost_once(void **state) {
  (void)state;
  syn_lost(1);
}
static void test_syn_lost_three_times(void **state) {
  (void)state;
  syn_lost(3);
}

/* Lets the first SYN through and drops every later one, so that the server's
 * own SYN-ACK timer is the only thing driving retransmission. */
static bool later_syns(void *ctx, uint64_t index, const uint8_t *data, size_t len) {
  unsigned *seen = ctx;
  (void)index;
  if (!sim_match(&SIM_MATCH_SYN, data, len)) return false;
  return (*seen)++ > 0;
}

static void synack_lost(unsigned lost) {
  sim_world_t w;
  sim_app_cfg_t scfg = server_cfg(2000);
  world_init(&w, 110 + lost, NULL, NULL, &scfg);
  unsigned syns = 0;
  sim_link_add_filter(world_link_ab(&w), later_syns, &syns, -1);
  sim_link_add_filter(world_link_ba(&w), sim_filter_flags, (void *)&SIM_MATCH_SYNACK, lost);
  seglog_t *log = seglog_new(w.sim, &w.addr_b);
  sim_app_cfg_t ccfg = client_cfg(3000);
  sim_app_t *c = sim_app_connect(w.a, &w.addr_b, &ccfg, NULL);
  assert_true(world_run_until_flag(&w, &c->connected, 100 * SEC));
  uint64_t sa[16];
  size_t n = seglog_times(log, &SIM_MATCH_SYNACK, sa, 16);
  assert_int_equal(n, lost + 1);
  uint64_t expect = 10 * MS, rto = SEC;
  for (size_t i = 0; i < n; i++) {
    assert_time_is(sa[i], expect);
    expect += rto;
    rto *= 2;
  }
  assert_time_is(c->t_connected, sa[lost] + 10 * MS);
  run_transfer_and_check(&w, c, 200 * SEC);
  world_free(&w);
}

static void test_synack_lost_once(void **state) {
  (void)state;
  synack_lost(1);
}
static void test_synack_lost_three_times(void **state) {
  (void)state;
  synack_lost(3);
}

/* The handshake's final ACK is lost: A is ESTABLISHED, B still in SYN_RCVD.
 * With nothing to send, B's SYN-ACK retransmission (1 s, 2 s, ...) draws a
 * new ACK from A (RFC 9293 3.10.7.4: a duplicate SYN-ACK is acknowledged). */
static void ack_lost(unsigned lost) {
  sim_world_t w;
  sim_app_cfg_t scfg = reader_cfg(1);
  world_init(&w, 120 + lost, NULL, NULL, &scfg);
  sim_link_add_filter(world_link_ab(&w), sim_filter_flags, (void *)&SIM_MATCH_PURE_ACK, lost);
  seglog_t *log = seglog_new(w.sim, &w.addr_b);
  sim_app_cfg_t ccfg = {.tx_pattern = 1, .rx_pattern = 2};
  sim_app_t *c = sim_app_connect(w.a, &w.addr_b, &ccfg, NULL);
  assert_true(world_run_until_flag(&w, &c->connected, 100 * SEC));
  assert_time_is(c->t_connected, 20 * MS);
  sim_app_t *s = NULL;
  for (uint64_t t = 0; t < 100 * SEC && !s; t += 1 * MS) {
    sim_run_until(w.sim, t);
    s = server_app(&w);
  }
  assert_non_null(s);
  uint64_t sa[16];
  size_t n = seglog_times(log, &SIM_MATCH_SYNACK, sa, 16);
  assert_int_equal(n, lost + 1);
  uint64_t expect = 10 * MS, rto = SEC;
  for (size_t i = 0; i < n; i++) {
    assert_time_is(sa[i], expect);
    expect += rto;
    rto *= 2;
  }
  /* Accepted when the ACK answering the last SYN-ACK arrives. */
  assert_time_is(s->t_connected, sa[lost] + 20 * MS);
  assert_int_equal(tou_conn_state(c->conn), TOU_ESTABLISHED);
  assert_int_equal(tou_conn_state(s->conn), TOU_ESTABLISHED);
  world_free(&w);
}

static void test_ack_lost_once(void **state) {
  (void)state;
  ack_lost(1);
}
static void test_ack_lost_three_times(void **state) {
  (void)state;
  ack_lost(3);
}

/* The lost ACK is repaired at once by the first data segment, which
 * carries the same acknowledgment. */
static void test_ack_lost_data_completes_handshake(void **state) {
  (void)state;
  sim_world_t w;
  sim_app_cfg_t scfg = server_cfg(2000);
  world_init(&w, 130, NULL, NULL, &scfg);
  sim_link_add_filter(world_link_ab(&w), sim_filter_flags, (void *)&SIM_MATCH_PURE_ACK, 1);
  sim_app_cfg_t ccfg = client_cfg(3000);
  sim_app_t *c = sim_app_connect(w.a, &w.addr_b, &ccfg, NULL);
  assert_true(world_run_until_flag(&w, &c->connected, 5 * SEC));
  sim_run_until(w.sim, 500 * MS);
  assert_non_null(server_app(&w));
  assert_time_is(server_app(&w)->t_connected, 30 * MS);
  run_transfer_and_check(&w, c, 200 * SEC);
  world_free(&w);
}

/* Nobody at the destination: SYNs at 0, 1, 3, 7 s (syn_retries = 3) and the
 * connect fails with TOU_ERR_TIMEDOUT when the last backoff (8 s) runs out,
 * at 15 s. */
static void test_connect_timeout(void **state) {
  (void)state;
  sim_world_t w;
  tou_config_t cfg;
  tou_config_default(&cfg);
  cfg.syn_retries = 3;
  world_init(&w, 140, NULL, &cfg, NULL);
  seglog_t *log = seglog_new(w.sim, &w.addr_a);
  tou_addr_t nobody = sim_addr(9, 9999);
  sim_app_cfg_t ccfg = client_cfg(100);
  sim_app_t *c = sim_app_connect(w.a, &nobody, &ccfg, NULL);
  assert_true(world_run_until_flag(&w, &c->closed, 1000 * SEC));
  assert_false(c->connected);
  assert_error_is(c->error, TOU_ERR_TIMEDOUT);
  assert_time_is(c->t_closed, 15 * SEC);
  uint64_t syn[16];
  size_t n = seglog_times(log, &SIM_MATCH_SYN, syn, 16);
  assert_int_equal(n, 4);
  assert_time_is(syn[1], 1 * SEC);
  assert_time_is(syn[2], 3 * SEC);
  assert_time_is(syn[3], 7 * SEC);
  sim_run_idle(w.sim, 2000 * SEC);
  assert_int_equal(tou_ep_next_deadline(w.a->ep), TOU_NEVER);
  world_free(&w);
}

/* A SYN to an endpoint that does not listen is answered with RST
 * (RFC 9293 3.10.7.1), which fails the connect with TOU_ERR_REFUSED
 * (3.10.7.3: RST acceptable in SYN_SENT). */
static void test_refused(void **state) {
  (void)state;
  sim_world_t w;
  world_init(&w, 150, NULL, NULL, NULL);
  tou_ep_unlisten(w.b->ep);
  sim_host_kick(w.b);
  sim_app_cfg_t ccfg = client_cfg(100);
  sim_app_t *c = sim_app_connect(w.a, &w.addr_b, &ccfg, NULL);
  assert_true(world_run_until_flag(&w, &c->closed, 10 * SEC));
  assert_error_is(c->error, TOU_ERR_REFUSED);
  assert_time_is(c->t_closed, 20 * MS);
  assert_int_equal(w.b->stats.rst_sent, 1);
  world_free(&w);
}

/* RFC 9293 Figure 8: both SYNs cross; each side goes SYN_SENT -> SYN_RCVD
 * -> ESTABLISHED, and one connection results that carries data both ways. */
static void test_simultaneous_open(void **state) {
  (void)state;
  sim_world_t w;
  world_init(&w, 160, NULL, NULL, NULL);
  tou_ep_unlisten(w.b->ep);
  sim_host_kick(w.b);
  sim_app_cfg_t acfg = client_cfg(3000), bcfg = server_cfg(2000);
  sim_app_t *a = sim_app_connect(w.a, &w.addr_b, &acfg, NULL);
  sim_app_t *b = sim_app_connect(w.b, &w.addr_a, &bcfg, NULL);
  assert_non_null(a);
  assert_non_null(b);
  assert_true(world_run_until_flag(&w, &a->connected, 10 * SEC));
  assert_true(world_run_until_flag(&w, &b->connected, 10 * SEC));
  assert_state_seen(a, TOU_SYN_RCVD);
  assert_state_seen(b, TOU_SYN_RCVD);
  sim_run_idle(w.sim, 200 * SEC);
  assert_received_all(a, 2000);
  assert_received_all(b, 3000);
  assert_null(w.b->last_accepted); /* no second, accepted connection */
  assert_int_equal(w.a->stats.rst_sent + w.b->stats.rst_sent, 0);
  world_free(&w);
}

/* RFC 9293 Figure 9. A's first SYN is lost; meanwhile an old duplicate SYN
 * from A's address (stale sequence number) reaches B. B answers it with a
 * SYN-ACK that A, in SYN_SENT, finds unacceptable and resets; B drops that
 * half-open connection; A's retransmitted SYN then opens the real one. */
static tou_segment_t stale_syn(uint32_t seq, uint32_t src_cid) {
  tou_segment_t s;
  memset(&s, 0, sizeof s);
  s.flags = TOU_SYN;
  s.seq = seq;
  s.src_cid = src_cid;
  s.window = 65535;
  s.opts.present = TOU_OPT_MSS;
  s.opts.mss = 1444;
  return s;
}

static void old_duplicate_syn(uint64_t seed, bool same_cid, bool lose_first_syn) {
  sim_world_t w;
  sim_app_cfg_t scfg = server_cfg(2000);
  world_init(&w, seed, NULL, NULL, &scfg);
  if (lose_first_syn) sim_link_drop_nth(world_link_ab(&w), 1);
  else sim_link_set_params(world_link_ab(&w), &(sim_link_params_t){.delay_us = 50 * MS});
  seglog_t *alog = seglog_new(w.sim, &w.addr_a);
  sim_app_cfg_t ccfg = client_cfg(3000);
  sim_app_t *c = sim_app_connect(w.a, &w.addr_b, &ccfg, NULL);
  assert_non_null(c);
  assert_int_equal(alog->n, 1);
  uint32_t isn = alog->seg[0].seq;
  uint32_t cid = same_cid ? tou_conn_local_cid(c->conn) : tou_conn_local_cid(c->conn) ^ 0x5a5a;
  tou_segment_t old = stale_syn(isn - 100000, cid);
  world_inject(&w, 1 * MS, &w.addr_a, &w.addr_b, &old);
  assert_true(world_run_until_flag(&w, &c->connected, 20 * SEC));
  /* A reset B's answer to the stale SYN (seq = that SYN-ACK's ack). */
  int rst = 0;
  for (size_t i = 0; i < alog->n; i++) {
    if (!(alog->seg[i].flags & TOU_RST)) continue;
    rst++;
    assert_int_equal(alog->seg[i].seq, isn - 100000 + 1);
  }
  assert_int_equal(rst, 1);
  run_transfer_and_check(&w, c, 200 * SEC);
  /* Exactly one connection was accepted, the real one. */
  int accepted = 0;
  for (sim_app_t *a = w.b->apps; a; a = a->next) accepted++;
  assert_int_equal(accepted, 1);
  world_free(&w);
}

static void test_old_duplicate_syn_same_cid(void **state) {
  (void)state;
  old_duplicate_syn(170, true, true);
}
static void test_old_duplicate_syn_other_cid(void **state) {
  (void)state;
  old_duplicate_syn(171, false, true);
}
static void test_old_duplicate_syn_before_real_one(void **state) {
  (void)state;
  old_duplicate_syn(172, false, false);
}

/* RFC 9293 Figure 11: B crashes and comes back with no memory of the
 * connection. A's next data segment reaches an endpoint with no such
 * connection and draws a RST, which A accepts: TOU_ERR_RESET. */
static void test_half_open_discovery_after_restart(void **state) {
  (void)state;
  sim_world_t w;
  sim_app_cfg_t scfg = reader_cfg(1);
  world_init(&w, 180, NULL, NULL, &scfg);
  sim_app_cfg_t ccfg = {.send_bytes = 1000, .tx_pattern = 1, .rx_pattern = 2};
  sim_app_t *c = sim_app_connect(w.a, &w.addr_b, &ccfg, NULL);
  sim_run_until(w.sim, 1 * SEC);
  assert_true(c->connected);
  assert_non_null(server_app(&w));
  assert_int_equal(server_app(&w)->received, 1000);
  sim_host_restart(w.b);
  assert_int_equal(sim_host_listen(w.b, 16), 0);
  sim_run_until(w.sim, 2 * SEC);
  sim_app_send_more(c, 500);
  assert_true(world_run_until_flag(&w, &c->closed, 10 * SEC));
  assert_error_is(c->error, TOU_ERR_RESET);
  assert_time_is(c->t_closed, 2 * SEC + 20 * MS);
  assert_int_equal(w.b->stats.rst_sent, 1);
  world_free(&w);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_clean_handshake),
      cmocka_unit_test(test_syn_lost_once),
      cmocka_unit_test(test_syn_lost_three_times),
      cmocka_unit_test(test_synack_lost_once),
      cmocka_unit_test(test_synack_lost_three_times),
      cmocka_unit_test(test_ack_lost_once),
      cmocka_unit_test(test_ack_lost_three_times),
      cmocka_unit_test(test_ack_lost_data_completes_handshake),
      cmocka_unit_test(test_connect_timeout),
      cmocka_unit_test(test_refused),
      cmocka_unit_test(test_simultaneous_open),
      cmocka_unit_test(test_old_duplicate_syn_same_cid),
      cmocka_unit_test(test_old_duplicate_syn_other_cid),
      cmocka_unit_test(test_old_duplicate_syn_before_real_one),
      cmocka_unit_test(test_half_open_discovery_after_restart),
  };
  SIM_RUN_TESTS(tests);
}

/* Opening a connection (RFC 9293 3.5): three-way handshake with losses,
 * connect timeout and its backoff, refusal, simultaneous open, old
 * duplicate SYNs, half-open discovery, listen backlogs, allocation failure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "pair.h"

#define MS 1000ull
#define SEC 1000000ull

/* Filter state: a log, and how many more of each kind of segment to drop. */
typedef struct ctx {
  pair_log_t log;
  int drop_syn;     /* SYN without ACK, from A */
  int drop_synack;  /* SYN+ACK, from B */
  int drop_ack;     /* bare ACK from A */
  bool blackhole[2]; /* drop everything from this node */
} ctx_t;

static bool filter(pair_t *p, int from, const tou_segment_t *s) {
  ctx_t *c = p->ctx;
  bool drop = c->blackhole[from];
  uint8_t f = s->flags & (TOU_SYN | TOU_ACK | TOU_RST | TOU_FIN);
  if (from == 0 && f == TOU_SYN && c->drop_syn > 0) c->drop_syn--, drop = true;
  if (from == 1 && f == (TOU_SYN | TOU_ACK) && c->drop_synack > 0) c->drop_synack--, drop = true;
  if (from == 0 && f == TOU_ACK && s->payload_len == 0 && c->drop_ack > 0) c->drop_ack--, drop = true;
  pair_log(&c->log, p, from, s, drop);
  return drop;
}

static ctx_t *setup_pair(pair_t *p, uint64_t delay) {
  pair_init(p, delay);
  ctx_t *c = calloc(1, sizeof *c);
  p->ctx = c;
  p->filter = filter;
  return c;
}

static void teardown_pair(pair_t *p) {
  free(p->ctx);
  pair_free(p);
}

static tou_conn_t *connect_a(pair_t *p) {
  int err;
  tou_conn_t *a = tou_ep_connect(p->ep[0], p->now, &p->addr[1], &err);
  assert_non_null(a);
  assert_int_equal(err, TOU_OK);
  assert_int_equal(tou_conn_state(a), TOU_SYN_SENT);
  return a;
}

static void lost_syn_is_retransmitted_after_initial_rto(void **state) {
  (void)state;
  pair_t p;
  ctx_t *c = setup_pair(&p, 10 * MS);
  c->drop_syn = 1;
  pair_start(&p);
  tou_ep_listen(p.ep[1], 4);
  uint64_t t0 = p.now;
  tou_conn_t *a = connect_a(&p);
  pair_run(&p, 999 * MS);
  assert_int_equal(tou_conn_state(a), TOU_SYN_SENT);
  pair_run(&p, 100 * MS);
  assert_int_equal(tou_conn_state(a), TOU_ESTABLISHED);
  assert_non_null(tou_ep_accept(p.ep[1]));
  /* Second SYN exactly one initial RTO (1 s) after the first. */
  assert_int_equal(c->log.e[0].at, t0);
  assert_int_equal(c->log.e[1].at, t0 + 1 * SEC);
  assert_int_equal(c->log.e[1].flags, TOU_SYN);
  tou_conn_info_t i;
  tou_conn_get_info(a, &i);
  assert_int_equal(i.segs_retransmitted, 1);
  assert_int_equal(i.srtt_us, 0); /* Karn: the retransmitted SYN is not timed */
  teardown_pair(&p);
}

static void repeated_syn_loss_backs_off(void **state) {
  (void)state;
  pair_t p;
  ctx_t *c = setup_pair(&p, 10 * MS);
  c->drop_syn = 3;
  pair_start(&p);
  tou_ep_listen(p.ep[1], 4);
  uint64_t t0 = p.now;
  tou_conn_t *a = connect_a(&p);
  pair_run(&p, 8 * SEC);
  assert_int_equal(tou_conn_state(a), TOU_ESTABLISHED);
  /* SYNs at 0, 1, 3, 7 s. */
  uint64_t want[] = {0, 1 * SEC, 3 * SEC, 7 * SEC};
  size_t k = 0;
  for (size_t i = 0; i < c->log.n; i++)
    if (c->log.e[i].from == 0 && c->log.e[i].flags == TOU_SYN) {
      assert_true(k < 4);
      assert_int_equal(c->log.e[i].at - t0, want[k++]);
    }
  assert_int_equal(k, 4);
  teardown_pair(&p);
}

static void connect_times_out_with_exponential_backoff(void **state) {
  (void)state;
  pair_t p;
  ctx_t *c = setup_pair(&p, 10 * MS);
  c->blackhole[0] = true;
  pair_start(&p);
  uint64_t t0 = p.now;
  tou_conn_t *a = connect_a(&p);
  pair_run_until(&p, t0 + 123 * SEC - 1);
  assert_int_equal(tou_conn_state(a), TOU_SYN_SENT);
  pair_run_until(&p, t0 + 123 * SEC);
  assert_int_equal(tou_conn_state(a), TOU_CLOSED);
  assert_int_equal(tou_conn_error(a), TOU_ERR_TIMEDOUT);
  assert_true(pair_events(&p, 0, a) & TOU_EV_CLOSED);
  assert_false(pair_events(&p, 0, a) & TOU_EV_CONNECTED);
  /* The initial SYN and syn_retries = 6 retransmissions: 0 1 3 7 15 31 63 s;
   * the connect fails one more RTO later, doubled but capped at max_rto
   * (60 s): at 123 s. */
  uint64_t want[] = {0, 1, 3, 7, 15, 31, 63};
  assert_int_equal(pair_log_count(&c->log, 0, 0xff, TOU_SYN), 7);
  for (size_t i = 0; i < 7; i++) assert_int_equal(c->log.e[i].at - t0, want[i] * SEC);
  assert_int_equal(tou_ep_next_deadline(p.ep[0]), TOU_NEVER);
  tou_conn_close(a, p.now);
  tou_ep_stats_t s;
  tou_ep_get_stats(p.ep[0], &s);
  assert_int_equal(s.connections, 0);
  teardown_pair(&p);
}

static void syn_retries_is_configurable(void **state) {
  (void)state;
  pair_t p;
  ctx_t *c = setup_pair(&p, 10 * MS);
  c->blackhole[0] = true;
  p.cfg[0].syn_retries = 2;
  p.cfg[0].initial_rto_us = 500 * MS;
  pair_start(&p);
  uint64_t t0 = p.now;
  tou_conn_t *a = connect_a(&p);
  pair_run(&p, 10 * SEC);
  assert_int_equal(tou_conn_error(a), TOU_ERR_TIMEDOUT);
  assert_int_equal(pair_log_count(&c->log, 0, 0xff, TOU_SYN), 3);
  assert_int_equal(c->log.e[2].at - t0, 1500 * MS); /* 0, 0.5, 1.5 s; fail at 3.5 s */
  teardown_pair(&p);
}

static void rst_to_syn_refuses_connection(void **state) {
  (void)state;
  pair_t p;
  ctx_t *c = setup_pair(&p, 10 * MS);
  pair_start(&p); /* B does not listen */
  tou_conn_t *a = connect_a(&p);
  pair_run(&p, 50 * MS);
  assert_int_equal(tou_conn_state(a), TOU_CLOSED);
  assert_int_equal(tou_conn_error(a), TOU_ERR_REFUSED);
  assert_true(pair_events(&p, 0, a) & TOU_EV_CLOSED);
  /* B's reply: RST+ACK, seq 0, ack = SYN's seq + 1 (RFC 9293 3.10.7.1). */
  assert_int_equal(c->log.n, 2);
  assert_int_equal(c->log.e[1].flags, TOU_RST | TOU_ACK);
  assert_int_equal(c->log.e[1].seq, 0);
  assert_int_equal(c->log.e[1].ack, c->log.e[0].seq + 1);
  assert_int_equal(c->log.e[1].dst_cid, tou_conn_local_cid(a));
  uint8_t b[4];
  assert_int_equal(tou_conn_recv(a, p.now, b, 4), TOU_ERR_REFUSED);
  assert_int_equal(tou_conn_send(a, p.now, b, 4), TOU_ERR_REFUSED);
  teardown_pair(&p);
}

static void rst_without_acceptable_ack_is_ignored_in_syn_sent(void **state) {
  (void)state;
  pair_t p;
  ctx_t *c = setup_pair(&p, 10 * MS);
  c->blackhole[0] = true;
  pair_start(&p);
  tou_conn_t *a = connect_a(&p);
  pair_run(&p, 1 * MS);
  tou_segment_t r = {.flags = TOU_RST | TOU_ACK, .dst_cid = tou_conn_local_cid(a),
                     .src_cid = 7, .seq = 0, .ack = c->log.e[0].seq + 5};
  pair_inject(&p, 0, &p.addr[1], &r);
  r.flags = TOU_RST; /* RST without ACK: RFC 5961 3.2, not acceptable in SYN-SENT */
  r.ack = 0;
  pair_inject(&p, 0, &p.addr[1], &r);
  assert_int_equal(tou_conn_state(a), TOU_SYN_SENT);
  teardown_pair(&p);
}

static void lost_synack_recovers(void **state) {
  (void)state;
  pair_t p;
  ctx_t *c = setup_pair(&p, 10 * MS);
  c->drop_synack = 2;
  pair_start(&p);
  tou_ep_listen(p.ep[1], 4);
  tou_conn_t *a = connect_a(&p);
  pair_run(&p, 990 * MS);
  assert_int_equal(tou_conn_state(a), TOU_SYN_SENT);
  assert_int_equal(p.ep[1] != NULL, 1);
  tou_ep_stats_t s;
  tou_ep_get_stats(p.ep[1], &s);
  assert_int_equal(s.half_open, 1);
  /* At 1 s both retransmit (A its SYN, B its SYN-ACK): B answers the
   * repeated SYN with its SYN-ACK again rather than creating a second
   * connection. */
  pair_run(&p, 100 * MS);
  assert_int_equal(tou_conn_state(a), TOU_ESTABLISHED);
  tou_conn_t *b = tou_ep_accept(p.ep[1]);
  assert_non_null(b);
  assert_null(tou_ep_accept(p.ep[1]));
  tou_ep_get_stats(p.ep[1], &s);
  assert_int_equal(s.connections, 1);
  assert_int_equal(s.half_open, 0);
  teardown_pair(&p);
}

static void lost_final_ack_recovered_by_synack_retransmission(void **state) {
  (void)state;
  pair_t p;
  ctx_t *c = setup_pair(&p, 10 * MS);
  c->drop_ack = 1;
  pair_start(&p);
  tou_ep_listen(p.ep[1], 4);
  tou_conn_t *a = connect_a(&p);
  pair_run(&p, 100 * MS);
  assert_int_equal(tou_conn_state(a), TOU_ESTABLISHED);
  tou_ep_stats_t s;
  tou_ep_get_stats(p.ep[1], &s);
  assert_int_equal(s.half_open, 1);
  assert_null(tou_ep_accept(p.ep[1]));
  pair_run(&p, 1 * SEC);
  tou_conn_t *b = tou_ep_accept(p.ep[1]);
  assert_non_null(b);
  assert_int_equal(tou_conn_state(b), TOU_ESTABLISHED);
  teardown_pair(&p);
}

static void lost_final_ack_recovered_by_data(void **state) {
  (void)state;
  pair_t p;
  ctx_t *c = setup_pair(&p, 10 * MS);
  c->drop_ack = 1;
  pair_start(&p);
  tou_ep_listen(p.ep[1], 4);
  tou_conn_t *a = connect_a(&p);
  pair_run(&p, 100 * MS);
  assert_int_equal(tou_conn_send(a, p.now, (const uint8_t *)"hi", 2), 2);
  pair_run(&p, 100 * MS);
  tou_conn_t *b = tou_ep_accept(p.ep[1]);
  assert_non_null(b);
  uint8_t buf[8];
  assert_int_equal(tou_conn_recv(b, p.now, buf, sizeof buf), 2);
  assert_memory_equal(buf, "hi", 2);
  teardown_pair(&p);
}

static void synack_retries_exhausted_drops_half_open(void **state) {
  (void)state;
  pair_t p;
  ctx_t *c = setup_pair(&p, 10 * MS);
  c->blackhole[1] = true;
  pair_start(&p);
  tou_ep_listen(p.ep[1], 4);
  tou_conn_t *a = connect_a(&p);
  (void)a;
  pair_run(&p, 200 * SEC);
  tou_ep_stats_t s;
  tou_ep_get_stats(p.ep[1], &s);
  assert_int_equal(s.half_open, 0);
  assert_int_equal(s.connections, 0);
  /* SYN-ACK sent once plus synack_retries = 5 times for that SYN; A's
   * retransmitted SYNs also made B repeat it. The half-open attempt went
   * back to LISTEN without any event. */
  assert_non_null(strstr(p.trace[1], "SYN_RCVD>LISTEN"));
  assert_null(tou_ep_accept(p.ep[1]));
  teardown_pair(&p);
}

static void simultaneous_open(void **state) {
  (void)state;
  pair_t p;
  setup_pair(&p, 10 * MS);
  pair_start(&p);
  int err;
  tou_conn_t *a = tou_ep_connect(p.ep[0], p.now, &p.addr[1], &err);
  tou_conn_t *b = tou_ep_connect(p.ep[1], p.now, &p.addr[0], &err);
  pair_run(&p, 100 * MS);
  assert_int_equal(tou_conn_state(a), TOU_ESTABLISHED);
  assert_int_equal(tou_conn_state(b), TOU_ESTABLISHED);
  assert_string_equal(p.trace[0],
                      "CLOSED>SYN_SENT SYN_SENT>SYN_RCVD SYN_RCVD>ESTABLISHED ");
  assert_string_equal(p.trace[1],
                      "CLOSED>SYN_SENT SYN_SENT>SYN_RCVD SYN_RCVD>ESTABLISHED ");
  assert_true(pair_events(&p, 0, a) & TOU_EV_CONNECTED);
  assert_true(pair_events(&p, 1, b) & TOU_EV_CONNECTED);
  assert_int_equal(tou_conn_remote_cid(a), tou_conn_local_cid(b));
  assert_int_equal(tou_conn_remote_cid(b), tou_conn_local_cid(a));
  tou_conn_info_t ia;
  tou_conn_get_info(a, &ia);
  assert_true(ia.wscale_ok && ia.sack_ok && ia.ts_ok);
  /* And it carries data both ways. */
  assert_int_equal(tou_conn_send(a, p.now, (const uint8_t *)"ab", 2), 2);
  assert_int_equal(tou_conn_send(b, p.now, (const uint8_t *)"cd", 2), 2);
  pair_run(&p, 100 * MS);
  uint8_t buf[4];
  assert_int_equal(tou_conn_recv(b, p.now, buf, 4), 2);
  assert_memory_equal(buf, "ab", 2);
  assert_int_equal(tou_conn_recv(a, p.now, buf, 4), 2);
  assert_memory_equal(buf, "cd", 2);
  teardown_pair(&p);
}

static void simultaneous_open_with_lost_synack(void **state) {
  (void)state;
  pair_t p;
  ctx_t *c = setup_pair(&p, 10 * MS);
  c->drop_synack = 1; /* B's SYN-ACK */
  pair_start(&p);
  int err;
  tou_conn_t *a = tou_ep_connect(p.ep[0], p.now, &p.addr[1], &err);
  tou_conn_t *b = tou_ep_connect(p.ep[1], p.now, &p.addr[0], &err);
  pair_run(&p, 3 * SEC);
  assert_int_equal(tou_conn_state(a), TOU_ESTABLISHED);
  assert_int_equal(tou_conn_state(b), TOU_ESTABLISHED);
  teardown_pair(&p);
}

/* RFC 9293 3.10.4: CLOSE in SYN-RECEIVED with nothing queued sends a FIN
 * after the SYN-ACK and enters FIN-WAIT-1; if both are lost, the RTO sends
 * the SYN-ACK and then the FIN again. */
static void close_in_syn_rcvd_sends_fin(void **state, bool lose) {
  pair_t p;
  ctx_t *c = setup_pair(&p, 10 * MS);
  pair_start(&p);
  int err;
  tou_conn_t *a = tou_ep_connect(p.ep[0], p.now, &p.addr[1], &err);
  tou_conn_t *b = tou_ep_connect(p.ep[1], p.now, &p.addr[0], &err);
  pair_run(&p, 10 * MS); /* the SYNs crossed: both SYN_RCVD */
  assert_int_equal(tou_conn_state(a), TOU_SYN_RCVD);
  if (lose) {
    c->blackhole[0] = true;
    pair_run(&p, 1 * MS); /* A's SYN-ACK lost */
  }
  tou_conn_shutdown(a, p.now);
  assert_int_equal(tou_conn_state(a), TOU_FIN_WAIT_1);
  pair_run(&p, 1 * MS);
  c->blackhole[0] = false;
  pair_run(&p, 3 * SEC);
  assert_int_equal(tou_conn_state(a), TOU_FIN_WAIT_2);
  assert_int_equal(tou_conn_state(b), TOU_CLOSE_WAIT);
  assert_true(pair_events(&p, 0, a) & TOU_EV_CONNECTED);
  assert_true(pair_events(&p, 1, b) & TOU_EV_CONNECTED);
  uint8_t buf[4];
  assert_int_equal(tou_conn_recv(b, p.now, buf, 4), TOU_ERR_EOF);
  size_t fins = pair_log_count(&c->log, 0, TOU_FIN, TOU_FIN);
  assert_int_equal(fins, lose ? 2 : 1);
  teardown_pair(&p);
  (void)state;
}
static void close_in_syn_rcvd(void **state) { close_in_syn_rcvd_sends_fin(state, false); }
static void close_in_syn_rcvd_lost(void **state) { close_in_syn_rcvd_sends_fin(state, true); }

/* RFC 9293 3.10.7.3: data and FIN on a SYN-ACK are taken once established. */
static void synack_with_data_and_fin(void **state) {
  (void)state;
  pair_t p;
  ctx_t *c = setup_pair(&p, 10 * MS);
  c->blackhole[0] = true;
  pair_start(&p);
  tou_conn_t *a = connect_a(&p);
  pair_run(&p, 1 * MS);
  tou_segment_t sa = {.flags = TOU_SYN | TOU_ACK | TOU_FIN | TOU_PSH,
                      .dst_cid = tou_conn_local_cid(a), .src_cid = 77, .seq = 5000,
                      .ack = c->log.e[0].seq + 1, .window = 4000,
                      .payload = (const uint8_t *)"hi", .payload_len = 2};
  pair_inject(&p, 0, &p.addr[1], &sa);
  assert_int_equal(tou_conn_state(a), TOU_CLOSE_WAIT);
  uint8_t buf[4];
  assert_int_equal(tou_conn_recv(a, p.now, buf, sizeof buf), 2);
  assert_memory_equal(buf, "hi", 2);
  assert_int_equal(tou_conn_recv(a, p.now, buf, sizeof buf), TOU_ERR_EOF);
  pair_run(&p, 1 * MS);
  /* The ACK covers SYN, 2 bytes and FIN. */
  assert_int_equal(c->log.e[c->log.n - 1].flags, TOU_ACK);
  assert_int_equal(c->log.e[c->log.n - 1].ack, 5000 + 1 + 2 + 1);
  teardown_pair(&p);
}

/* RFC 9293 Figure 8/9: an old duplicate SYN reaches B; B's SYN-ACK reaches
 * A, which has no such connection (another cid) and resets it; B returns
 * to LISTEN, and A's real connection is established. */
static void old_duplicate_syn_from_other_cid(void **state) {
  (void)state;
  pair_t p;
  setup_pair(&p, 10 * MS);
  pair_start(&p);
  tou_ep_listen(p.ep[1], 4);
  tou_segment_t old = {.flags = TOU_SYN, .dst_cid = 0, .src_cid = 0xdead, .seq = 90,
                       .window = 1000};
  pair_inject(&p, 1, &p.addr[0], &old);
  tou_conn_t *a = connect_a(&p);
  pair_run(&p, 100 * MS);
  assert_non_null(strstr(p.trace[1], "SYN_RCVD>LISTEN"));
  assert_int_equal(tou_conn_state(a), TOU_ESTABLISHED);
  tou_conn_t *b = tou_ep_accept(p.ep[1]);
  assert_non_null(b);
  assert_int_equal(tou_conn_remote_cid(b), tou_conn_local_cid(a));
  assert_null(tou_ep_accept(p.ep[1]));
  tou_ep_stats_t s;
  tou_ep_get_stats(p.ep[1], &s);
  assert_int_equal(s.connections, 1);
  assert_int_equal(s.half_open, 0);
  tou_ep_get_stats(p.ep[0], &s);
  assert_true(s.resets_sent >= 1);
  teardown_pair(&p);
}

/* The same with the old SYN carrying A's current cid: A is in SYN-SENT and
 * gets a SYN-ACK acknowledging the wrong sequence number; it answers with a
 * RST at SEG.ACK (RFC 9293 Figure 9, line 5) and carries on. */
static void old_duplicate_syn_same_cid(void **state) {
  (void)state;
  pair_t p;
  ctx_t *c = setup_pair(&p, 10 * MS);
  c->drop_syn = 1; /* A's real SYN is late: lost once */
  pair_start(&p);
  tou_ep_listen(p.ep[1], 4);
  tou_conn_t *a = connect_a(&p);
  tou_seq_t iss = c->log.e[0].seq;
  tou_segment_t old = {.flags = TOU_SYN, .src_cid = tou_conn_local_cid(a), .seq = iss - 5000,
                       .window = 1000};
  pair_inject(&p, 1, &p.addr[0], &old);
  pair_run(&p, 100 * MS);
  /* A sent a RST with seq = the SYN-ACK's ack (old seq + 1). */
  bool saw_rst = false;
  for (size_t i = 0; i < c->log.n; i++)
    if (c->log.e[i].from == 0 && c->log.e[i].flags == TOU_RST) {
      assert_int_equal(c->log.e[i].seq, iss - 5000 + 1);
      saw_rst = true;
    }
  assert_true(saw_rst);
  assert_int_equal(tou_conn_state(a), TOU_SYN_SENT);
  assert_non_null(strstr(p.trace[1], "SYN_RCVD>LISTEN"));
  pair_run(&p, 1 * SEC);
  assert_int_equal(tou_conn_state(a), TOU_ESTABLISHED);
  assert_non_null(tou_ep_accept(p.ep[1]));
  teardown_pair(&p);
}

/* Figure 10: A restarts (a new endpoint with fresh ids); B, still
 * established, sends data; A's endpoint resets it; B learns the connection
 * is gone. */
static void half_open_discovered_when_peer_restarted(void **state) {
  (void)state;
  pair_t p;
  setup_pair(&p, 10 * MS);
  pair_start(&p);
  tou_conn_t *a, *b;
  pair_connect(&p, &a, &b);
  tou_ep_free(p.ep[0]);
  p.seed[0][0] ^= 0xff;
  p.ep[0] = tou_ep_new(&p.cfg[0], p.now);
  assert_int_equal(tou_conn_send(b, p.now, (const uint8_t *)"anyone?", 7), 7);
  pair_run(&p, 100 * MS);
  assert_int_equal(tou_conn_state(b), TOU_CLOSED);
  assert_int_equal(tou_conn_error(b), TOU_ERR_RESET);
  assert_true(pair_events(&p, 1, b) & TOU_EV_CLOSED);
  teardown_pair(&p);
}

/* Figure 11: A restarts with the same ids (same seed) and connects again.
 * Its SYN matches B's old connection, which answers with a challenge ACK;
 * A (SYN-SENT) resets it with an exact RST; A's next SYN reaches the
 * listener. */
static void half_open_reset_by_reconnect_with_same_ids(void **state) {
  (void)state;
  pair_t p;
  ctx_t *c = setup_pair(&p, 10 * MS);
  pair_start(&p);
  tou_conn_t *a, *b;
  pair_connect(&p, &a, &b);
  uint32_t old_cid = tou_conn_local_cid(a);
  pair_run(&p, 10 * SEC);
  tou_ep_free(p.ep[0]);
  p.ep[0] = tou_ep_new(&p.cfg[0], p.now);
  tou_conn_t *a2 = connect_a(&p);
  assert_int_equal(tou_conn_local_cid(a2), old_cid); /* same seed, same first id */
  pair_run(&p, 100 * MS);
  assert_int_equal(tou_conn_state(b), TOU_CLOSED);
  assert_int_equal(tou_conn_error(b), TOU_ERR_RESET);
  assert_int_equal(tou_conn_state(a2), TOU_SYN_SENT);
  pair_run(&p, 1 * SEC);
  assert_int_equal(tou_conn_state(a2), TOU_ESTABLISHED);
  tou_conn_t *b2 = tou_ep_accept(p.ep[1]);
  assert_non_null(b2);
  assert_int_equal(tou_conn_state(b2), TOU_ESTABLISHED);
  (void)c;
  teardown_pair(&p);
}

static void accept_queue_full_defers_handshake(void **state) {
  (void)state;
  pair_t p;
  setup_pair(&p, 10 * MS);
  pair_start(&p);
  tou_ep_listen(p.ep[1], 1);
  tou_conn_t *a1 = connect_a(&p);
  pair_run(&p, 100 * MS);
  tou_conn_t *a2 = connect_a(&p);
  pair_run(&p, 100 * MS);
  assert_int_equal(tou_conn_state(a1), TOU_ESTABLISHED);
  assert_int_equal(tou_conn_state(a2), TOU_ESTABLISHED); /* A does not know */
  tou_ep_stats_t s;
  tou_ep_get_stats(p.ep[1], &s);
  assert_int_equal(s.accept_queue, 1);
  assert_int_equal(s.half_open, 1); /* its ACK was ignored */
  tou_conn_t *b1 = tou_ep_accept(p.ep[1]);
  assert_int_equal(tou_conn_remote_cid(b1), tou_conn_local_cid(a1));
  assert_null(tou_ep_accept(p.ep[1]));
  pair_run(&p, 1100 * MS); /* SYN-ACK retransmission, A's ACK, now room */
  tou_conn_t *b2 = tou_ep_accept(p.ep[1]);
  assert_non_null(b2);
  assert_int_equal(tou_conn_remote_cid(b2), tou_conn_local_cid(a2));
  teardown_pair(&p);
}

static void half_open_queue_full_drops_syn(void **state) {
  (void)state;
  pair_t p;
  ctx_t *c = setup_pair(&p, 10 * MS);
  c->blackhole[1] = true;
  p.cfg[1].syn_backlog = 2;
  p.cfg[1].syncookies = TOU_SYNCOOKIES_NEVER; /* else the third SYN gets a cookie */
  pair_start(&p);
  tou_ep_listen(p.ep[1], 8);
  for (int i = 0; i < 3; i++) connect_a(&p);
  pair_run(&p, 100 * MS);
  tou_ep_stats_t s;
  tou_ep_get_stats(p.ep[1], &s);
  assert_int_equal(s.half_open, 2);
  assert_int_equal(s.syns_dropped, 1);
  assert_int_equal(s.connections, 2);
  teardown_pair(&p);
}

static void connection_table_limit(void **state) {
  (void)state;
  pair_t p;
  setup_pair(&p, 10 * MS);
  p.cfg[0].max_connections = 2;
  pair_start(&p);
  connect_a(&p);
  connect_a(&p);
  int err = 0;
  assert_null(tou_ep_connect(p.ep[0], p.now, &p.addr[1], &err));
  assert_int_equal(err, TOU_ERR_LIMIT);
  teardown_pair(&p);
}

static void listen_twice_is_busy(void **state) {
  (void)state;
  pair_t p;
  setup_pair(&p, 10 * MS);
  pair_start(&p);
  assert_int_equal(tou_ep_listen(p.ep[1], 1), TOU_OK);
  assert_int_equal(tou_ep_listen(p.ep[1], 1), TOU_ERR_BUSY);
  tou_ep_unlisten(p.ep[1]);
  assert_int_equal(tou_ep_listen(p.ep[1], 1), TOU_OK);
  teardown_pair(&p);
}

static void unlisten_resets_unaccepted(void **state) {
  (void)state;
  pair_t p;
  setup_pair(&p, 10 * MS);
  pair_start(&p);
  tou_ep_listen(p.ep[1], 4);
  tou_conn_t *a = connect_a(&p);
  pair_run(&p, 100 * MS);
  assert_int_equal(tou_conn_state(a), TOU_ESTABLISHED);
  tou_ep_unlisten(p.ep[1]);
  pair_run(&p, 100 * MS);
  assert_int_equal(tou_conn_state(a), TOU_CLOSED);
  assert_int_equal(tou_conn_error(a), TOU_ERR_RESET);
  tou_ep_stats_t s;
  tou_ep_get_stats(p.ep[1], &s);
  assert_int_equal(s.connections, 0);
  assert_int_equal(s.accept_queue, 0);
  teardown_pair(&p);
}

static void shutdown_before_established_sends_fin_after(void **state) {
  (void)state;
  pair_t p;
  setup_pair(&p, 10 * MS);
  pair_start(&p);
  tou_ep_listen(p.ep[1], 4);
  tou_conn_t *a = connect_a(&p);
  assert_int_equal(tou_conn_send(a, p.now, (const uint8_t *)"early", 5), 5);
  assert_int_equal(tou_conn_shutdown(a, p.now), TOU_OK);
  assert_int_equal(tou_conn_state(a), TOU_SYN_SENT);
  pair_run(&p, 100 * MS);
  assert_int_equal(tou_conn_state(a), TOU_FIN_WAIT_2);
  tou_conn_t *b = tou_ep_accept(p.ep[1]);
  uint8_t buf[8];
  int end;
  assert_int_equal(pair_read_all(&p, b, buf, sizeof buf, &end), 5);
  assert_int_equal(end, TOU_ERR_EOF);
  teardown_pair(&p);
}

/* Allocation failures: every allocation of an endpoint's life made to fail
 * in turn; nothing crashes or leaks, and the failure surfaces as NULL,
 * TOU_ERR_NOMEM, or a dropped segment that is later retransmitted. */
static void ep_new_survives_each_allocation_failing(void **state) {
  (void)state;
  for (long k = 0; k < 16; k++) {
    fail_alloc_t f = {.budget = k};
    tou_config_t cfg;
    tou_config_default(&cfg);
    cfg.allocator = fail_allocator(&f);
    tou_ep_t *ep = tou_ep_new(&cfg, 0);
    if (ep != NULL) {
      tou_ep_free(ep);
      assert_true(k >= 4);
    }
    assert_int_equal(f.live, 0);
  }
}

static void allocation_failure_in_connect_and_listener(void **state) {
  (void)state;
  pair_t p;
  setup_pair(&p, 10 * MS);
  fail_alloc_t fa = {.budget = -1}, fb = {.budget = -1};
  p.cfg[0].allocator = fail_allocator(&fa);
  p.cfg[1].allocator = fail_allocator(&fb);
  pair_start(&p);
  tou_ep_listen(p.ep[1], 4);
  fa.budget = 0;
  int err = 0;
  assert_null(tou_ep_connect(p.ep[0], p.now, &p.addr[1], &err));
  assert_int_equal(err, TOU_ERR_NOMEM);
  fa.budget = -1;
  fb.budget = 0; /* the listener cannot allocate: the SYN is dropped */
  tou_conn_t *a = connect_a(&p);
  pair_run(&p, 500 * MS);
  tou_ep_stats_t s;
  tou_ep_get_stats(p.ep[1], &s);
  assert_int_equal(s.syns_dropped, 1);
  assert_int_equal(tou_conn_state(a), TOU_SYN_SENT);
  fb.budget = -1; /* memory is back: the retransmitted SYN gets through */
  pair_run(&p, 1 * SEC);
  assert_int_equal(tou_conn_state(a), TOU_ESTABLISHED);
  tou_conn_t *b = tou_ep_accept(p.ep[1]);
  assert_non_null(b);
  /* Buffers: the send buffer cannot grow -> NOMEM; the receive buffer
   * cannot grow -> the segment is dropped and retransmitted later. */
  fa.budget = 0;
  assert_int_equal(tou_conn_send(a, p.now, (const uint8_t *)"x", 1), TOU_ERR_NOMEM);
  fa.budget = -1;
  assert_int_equal(tou_conn_send(a, p.now, (const uint8_t *)"hello", 5), 5);
  fb.budget = 0;
  pair_run(&p, 100 * MS);
  uint8_t buf[8];
  assert_int_equal(tou_conn_recv(b, p.now, buf, sizeof buf), TOU_ERR_AGAIN);
  fb.budget = -1;
  pair_run(&p, 2 * SEC);
  assert_int_equal(tou_conn_recv(b, p.now, buf, sizeof buf), 5);
  assert_memory_equal(buf, "hello", 5);
  teardown_pair(&p);
  assert_int_equal(fa.live, 0);
  assert_int_equal(fb.live, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(lost_syn_is_retransmitted_after_initial_rto),
      cmocka_unit_test(repeated_syn_loss_backs_off),
      cmocka_unit_test(connect_times_out_with_exponential_backoff),
      cmocka_unit_test(syn_retries_is_configurable),
      cmocka_unit_test(rst_to_syn_refuses_connection),
      cmocka_unit_test(rst_without_acceptable_ack_is_ignored_in_syn_sent),
      cmocka_unit_test(lost_synack_recovers),
      cmocka_unit_test(lost_final_ack_recovered_by_synack_retransmission),
      cmocka_unit_test(lost_final_ack_recovered_by_data),
      cmocka_unit_test(synack_retries_exhausted_drops_half_open),
      cmocka_unit_test(simultaneous_open),
      cmocka_unit_test(simultaneous_open_with_lost_synack),
      cmocka_unit_test(synack_with_data_and_fin),
      cmocka_unit_test(close_in_syn_rcvd),
      cmocka_unit_test(close_in_syn_rcvd_lost),
      cmocka_unit_test(old_duplicate_syn_from_other_cid),
      cmocka_unit_test(old_duplicate_syn_same_cid),
      cmocka_unit_test(half_open_discovered_when_peer_restarted),
      cmocka_unit_test(half_open_reset_by_reconnect_with_same_ids),
      cmocka_unit_test(accept_queue_full_defers_handshake),
      cmocka_unit_test(half_open_queue_full_drops_syn),
      cmocka_unit_test(connection_table_limit),
      cmocka_unit_test(listen_twice_is_busy),
      cmocka_unit_test(unlisten_resets_unaccepted),
      cmocka_unit_test(shutdown_before_established_sends_fin_after),
      cmocka_unit_test(ep_new_survives_each_allocation_failing),
      cmocka_unit_test(allocation_failure_in_connect_and_listener),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

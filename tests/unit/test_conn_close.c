/* Closing (RFC 9293 3.6): every close order, half-close, simultaneous close
 * through CLOSING, FIN and LAST_ACK retransmission, TIME_WAIT records
 * (re-ACK, RFC 1337 RST ignore, eviction), abort, close with unread data,
 * the FIN_WAIT_2 orphan limit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "conn.h"
#include "pair.h"

#define MS 1000ull
#define SEC 1000000ull

typedef struct ctx {
  pair_log_t log;
  int drop_fin[2];     /* next FIN segments from node i */
  int drop_bare_ack[2]; /* next bare ACKs from node i */
  bool blackhole[2];
} ctx_t;

static bool filter(pair_t *p, int from, const tou_segment_t *s) {
  ctx_t *c = p->ctx;
  bool drop = c->blackhole[from];
  if ((s->flags & TOU_FIN) && c->drop_fin[from] > 0) c->drop_fin[from]--, drop = true;
  if (s->flags == TOU_ACK && s->payload_len == 0 && c->drop_bare_ack[from] > 0)
    c->drop_bare_ack[from]--, drop = true;
  pair_log(&c->log, p, from, s, drop);
  return drop;
}

static ctx_t *setup(pair_t *p, tou_conn_t **a, tou_conn_t **b) {
  pair_init(p, 10 * MS);
  ctx_t *c = calloc(1, sizeof *c);
  p->ctx = c;
  p->filter = filter;
  pair_start(p);
  pair_connect(p, a, b);
  assert_non_null(*b);
  p->nev = 0;
  return c;
}

static void teardown(pair_t *p) {
  free(p->ctx);
  pair_free(p);
}

static tou_ep_stats_t stats(pair_t *p, int i) {
  tou_ep_stats_t s;
  tou_ep_get_stats(p->ep[i], &s);
  return s;
}

static void passive_side_closes_first(void **state) {
  (void)state;
  pair_t p;
  tou_conn_t *a, *b;
  setup(&p, &a, &b);
  tou_conn_close(b, p.now); /* B is now the active closer */
  pair_run(&p, 100 * MS);
  assert_int_equal(tou_conn_state(a), TOU_CLOSE_WAIT);
  uint8_t buf[4];
  assert_int_equal(tou_conn_recv(a, p.now, buf, 4), TOU_ERR_EOF);
  assert_true(pair_events(&p, 0, a) & TOU_EV_READABLE);
  tou_conn_close(a, p.now);
  pair_run(&p, 100 * MS);
  assert_int_equal(stats(&p, 0).connections, 0);
  assert_int_equal(stats(&p, 1).connections, 0);
  assert_int_equal(stats(&p, 1).time_wait, 1);
  assert_int_equal(stats(&p, 0).time_wait, 0);
  teardown(&p);
}

static void simultaneous_close_goes_through_closing(void **state) {
  (void)state;
  pair_t p;
  tou_conn_t *a, *b;
  setup(&p, &a, &b);
  tou_conn_shutdown(a, p.now);
  tou_conn_shutdown(b, p.now);
  pair_run(&p, 100 * MS);
  const char *want = "ESTABLISHED>FIN_WAIT_1 FIN_WAIT_1>CLOSING CLOSING>TIME_WAIT ";
  assert_non_null(strstr(p.trace[0], want));
  assert_non_null(strstr(p.trace[1], want));
  assert_int_equal(tou_conn_state(a), TOU_TIME_WAIT);
  assert_int_equal(tou_conn_state(b), TOU_TIME_WAIT);
  assert_true(pair_events(&p, 0, a) & TOU_EV_SHUTDOWN);
  assert_true(pair_events(&p, 0, a) & TOU_EV_CLOSED);
  assert_int_equal(tou_conn_error(a), 0);
  assert_int_equal(stats(&p, 0).time_wait, 1);
  assert_int_equal(stats(&p, 1).time_wait, 1);
  teardown(&p);
}

static void lost_fin_is_retransmitted(void **state) {
  (void)state;
  pair_t p;
  tou_conn_t *a, *b;
  ctx_t *c = setup(&p, &a, &b);
  c->drop_fin[0] = 2;
  tou_conn_shutdown(a, p.now);
  /* FIN at 0 and the tail loss probe at 200 ms (RFC 8985 7.2: a PTO later
   * than the RTO is moved to the RTO time) are lost; the RTO at 400 ms
   * gets through. */
  pair_run(&p, 300 * MS);
  assert_int_equal(tou_conn_state(a), TOU_FIN_WAIT_1);
  assert_int_equal(tou_conn_state(b), TOU_ESTABLISHED);
  pair_run(&p, 5 * SEC);
  assert_int_equal(tou_conn_state(a), TOU_FIN_WAIT_2);
  assert_int_equal(tou_conn_state(b), TOU_CLOSE_WAIT);
  assert_int_equal(pair_log_count(&c->log, 0, TOU_FIN, TOU_FIN), 3);
  tou_conn_info_t i;
  tou_conn_get_info(a, &i);
  assert_int_equal(i.segs_retransmitted, 2);
  teardown(&p);
}

static void last_ack_retransmits_fin_and_time_wait_reacks(void **state) {
  (void)state;
  pair_t p;
  tou_conn_t *a, *b;
  ctx_t *c = setup(&p, &a, &b);
  tou_conn_shutdown(a, p.now);
  pair_run(&p, 100 * MS);
  c->drop_fin[1] = 1;       /* B's first FIN is lost: LAST_ACK retransmits */
  c->drop_bare_ack[0] = 1;  /* and A's (TIME_WAIT) ACK of the second is lost */
  tou_conn_close(b, p.now);
  assert_int_equal(tou_conn_state(b), TOU_LAST_ACK);
  pair_run(&p, 5 * SEC);
  /* FIN lost; retransmitted (A enters TIME_WAIT, its ACK lost); the third
   * FIN is re-ACKed by A's TIME_WAIT record, and B is done. */
  assert_int_equal(tou_conn_state(a), TOU_TIME_WAIT);
  assert_int_equal(stats(&p, 1).connections, 0);
  assert_int_equal(pair_log_count(&c->log, 1, TOU_FIN, TOU_FIN), 3);
  /* A's bare ACKs: the handshake's, the lost one, the re-ACK. */
  assert_int_equal(pair_log_count(&c->log, 0, 0xff, TOU_ACK), 3);
  /* The record's 2*MSL restarted at the re-ACK: it is still there just
   * before 60 s after the re-ACK, gone at 60 s. */
  uint64_t reack = 0;
  for (size_t i = 0; i < c->log.n; i++)
    if (c->log.e[i].from == 0 && c->log.e[i].flags == TOU_ACK && !c->log.e[i].dropped)
      reack = c->log.e[i].at;
  assert_true(reack > 0);
  pair_run_until(&p, reack + 60 * SEC - 1);
  assert_int_equal(stats(&p, 0).time_wait, 1);
  pair_run_until(&p, reack + 60 * SEC);
  assert_int_equal(stats(&p, 0).time_wait, 0);
  teardown(&p);
}

static tou_segment_t seg_to(tou_conn_t *from_conn, tou_conn_t *to_conn, uint8_t flags) {
  tou_segment_t s = {.flags = flags, .dst_cid = tou_conn_local_cid(to_conn),
                     .src_cid = tou_conn_local_cid(from_conn), .seq = from_conn->snd_max,
                     .ack = from_conn->rcv_nxt, .window = 100};
  return s;
}

static void time_wait_ignores_rst(void **state) {
  (void)state;
  pair_t p;
  tou_conn_t *a, *b;
  ctx_t *c = setup(&p, &a, &b);
  tou_conn_shutdown(a, p.now);
  pair_run(&p, 100 * MS);
  tou_segment_t rst = seg_to(b, a, TOU_RST); /* B's exact next sequence number */
  tou_conn_close(b, p.now);
  pair_run(&p, 100 * MS);
  assert_int_equal(stats(&p, 0).time_wait, 1);
  size_t before = c->log.n;
  rst.seq += 1; /* B's FIN took one */
  pair_inject(&p, 0, &p.addr[1], &rst);
  pair_run(&p, 100 * MS);
  assert_int_equal(stats(&p, 0).time_wait, 1); /* RFC 1337 */
  assert_int_equal(c->log.n, before);          /* and no reply */
  teardown(&p);
}

static void time_wait_answers_syn_and_data_with_ack(void **state) {
  (void)state;
  pair_t p;
  tou_conn_t *a, *b;
  ctx_t *c = setup(&p, &a, &b);
  tou_conn_shutdown(a, p.now);
  pair_run(&p, 100 * MS);
  tou_segment_t s = seg_to(b, a, TOU_ACK | TOU_PSH);
  tou_conn_close(b, p.now);
  pair_run(&p, 100 * MS);
  size_t before = c->log.n;
  s.payload = (const uint8_t *)"late";
  s.payload_len = 4;
  pair_inject(&p, 0, &p.addr[1], &s);
  s.payload_len = 0;
  s.flags = TOU_ACK; /* a bare ACK gets nothing: no ACK loops */
  pair_inject(&p, 0, &p.addr[1], &s);
  s.flags = TOU_SYN;
  pair_inject(&p, 0, &p.addr[1], &s);
  pair_run(&p, 100 * MS);
  /* A's record answered the data and the SYN with an ACK each (B, closed,
   * resets those; the record ignores the resets). */
  size_t acks = 0;
  for (size_t i = before; i < c->log.n; i++)
    if (c->log.e[i].from == 0) {
      assert_int_equal(c->log.e[i].flags, TOU_ACK);
      acks++;
    }
  assert_int_equal(acks, 2);
  assert_int_equal(stats(&p, 0).time_wait, 1);
  teardown(&p);
}

static void time_wait_records_are_bounded(void **state) {
  (void)state;
  pair_t p;
  pair_init(&p, 10 * MS);
  p.cfg[0].max_time_wait = 2;
  pair_start(&p);
  tou_ep_listen(p.ep[1], 16);
  for (int i = 0; i < 5; i++) {
    int err;
    tou_conn_t *a = tou_ep_connect(p.ep[0], p.now, &p.addr[1], &err);
    pair_run(&p, 100 * MS);
    tou_conn_t *b = tou_ep_accept(p.ep[1]);
    tou_conn_close(a, p.now);
    pair_run(&p, 100 * MS);
    tou_conn_close(b, p.now);
    pair_run(&p, 100 * MS);
  }
  tou_ep_stats_t s;
  tou_ep_get_stats(p.ep[0], &s);
  assert_int_equal(s.time_wait, 2);
  assert_int_equal(s.connections, 0);
  pair_free(&p);
}

static void abort_sends_rst_and_discards(void **state) {
  (void)state;
  pair_t p;
  tou_conn_t *a, *b;
  ctx_t *c = setup(&p, &a, &b);
  c->blackhole[0] = true;
  uint8_t big[4000] = {0};
  assert_int_equal(tou_conn_send(a, p.now, big, sizeof big), (int)sizeof big);
  pair_run(&p, 50 * MS); /* data lost: B's RCV.NXT is behind A's SND.NXT */
  c->blackhole[0] = false;
  tou_conn_abort(a, p.now);
  assert_int_equal(stats(&p, 0).connections, 0);
  pair_run(&p, 100 * MS);
  /* The RST at SND.NXT was in B's window but not exact: B sent a challenge
   * ACK, which A's endpoint (no connection any more) answered with an
   * exact RST. */
  assert_int_equal(tou_conn_state(b), TOU_CLOSED);
  assert_int_equal(tou_conn_error(b), TOU_ERR_RESET);
  assert_int_equal(pair_log_count(&c->log, 0, TOU_RST, TOU_RST), 2);
  assert_int_equal(stats(&p, 1).challenge_acks, 1);
  uint8_t buf[8];
  assert_int_equal(tou_conn_recv(b, p.now, buf, sizeof buf), TOU_ERR_RESET);
  teardown(&p);
}

static void abort_with_nothing_lost_needs_one_rst(void **state) {
  (void)state;
  pair_t p;
  tou_conn_t *a, *b;
  ctx_t *c = setup(&p, &a, &b);
  tou_conn_abort(b, p.now);
  pair_run(&p, 100 * MS);
  assert_int_equal(tou_conn_error(a), TOU_ERR_RESET);
  assert_true(pair_events(&p, 0, a) & TOU_EV_CLOSED);
  assert_int_equal(pair_log_count(&c->log, 1, TOU_RST, TOU_RST), 1);
  assert_int_equal(stats(&p, 1).connections, 0);
  teardown(&p);
}

static void close_with_unread_data_resets(void **state) {
  (void)state;
  pair_t p;
  tou_conn_t *a, *b;
  ctx_t *c = setup(&p, &a, &b);
  tou_conn_send(a, p.now, (const uint8_t *)"unread", 6);
  pair_run(&p, 100 * MS);
  tou_conn_close(b, p.now);
  pair_run(&p, 100 * MS);
  assert_int_equal(tou_conn_error(a), TOU_ERR_RESET);
  assert_int_equal(pair_log_count(&c->log, 1, TOU_FIN, TOU_FIN), 0);
  teardown(&p);
}

static void data_after_close_resets(void **state) {
  (void)state;
  pair_t p;
  tou_conn_t *a, *b;
  setup(&p, &a, &b);
  tou_conn_close(a, p.now);
  pair_run(&p, 100 * MS);
  assert_int_equal(tou_conn_state(b), TOU_CLOSE_WAIT);
  tou_conn_send(b, p.now, (const uint8_t *)"nobody reads this", 17);
  pair_run(&p, 100 * MS);
  assert_int_equal(tou_conn_error(b), TOU_ERR_RESET);
  assert_int_equal(stats(&p, 0).connections, 0);
  assert_int_equal(stats(&p, 0).time_wait, 0);
  teardown(&p);
}

static void orphaned_fin_wait_2_is_bounded(void **state) {
  (void)state;
  pair_t p;
  tou_conn_t *a, *b;
  setup(&p, &a, &b);
  tou_conn_close(a, p.now);
  pair_run(&p, 100 * MS);
  assert_int_equal(stats(&p, 0).connections, 1); /* FIN_WAIT_2, released */
  pair_run(&p, 59 * SEC);
  assert_int_equal(stats(&p, 0).connections, 1);
  pair_run(&p, 2 * SEC);
  assert_int_equal(stats(&p, 0).connections, 0);
  assert_int_equal(tou_conn_state(b), TOU_CLOSE_WAIT);
  teardown(&p);
}

static void held_fin_wait_2_waits_forever(void **state) {
  (void)state;
  pair_t p;
  tou_conn_t *a, *b;
  setup(&p, &a, &b);
  tou_conn_shutdown(a, p.now);
  pair_run(&p, 100 * MS);
  assert_int_equal(tou_ep_next_deadline(p.ep[0]), TOU_NEVER);
  pair_run(&p, 3600 * SEC);
  assert_int_equal(tou_conn_state(a), TOU_FIN_WAIT_2);
  tou_conn_send(b, p.now, (const uint8_t *)"still here", 10);
  pair_run(&p, 100 * MS);
  uint8_t buf[16];
  assert_int_equal(tou_conn_recv(a, p.now, buf, sizeof buf), 10);
  teardown(&p);
}

static void close_in_syn_sent_sends_nothing(void **state) {
  (void)state;
  pair_t p;
  pair_init(&p, 10 * MS);
  pair_start(&p);
  int err;
  tou_conn_t *a = tou_ep_connect(p.ep[0], p.now, &p.addr[1], &err);
  tou_conn_close(a, p.now);
  tou_addr_t to;
  uint8_t buf[1500];
  assert_int_equal(tou_ep_output(p.ep[0], p.now, &to, buf, sizeof buf), 0);
  assert_int_equal(stats(&p, 0).connections, 0);
  assert_int_equal(tou_ep_next_deadline(p.ep[0]), TOU_NEVER);
  pair_free(&p);
}

static void last_ack_gives_up_after_data_retries(void **state) {
  (void)state;
  pair_t p;
  tou_conn_t *a, *b;
  ctx_t *c = setup(&p, &a, &b);
  p.nev = 0;
  tou_conn_shutdown(a, p.now);
  pair_run(&p, 100 * MS);
  c->blackhole[1] = true;
  tou_conn_shutdown(b, p.now);
  assert_int_equal(tou_conn_state(b), TOU_LAST_ACK);
  pair_run(&p, 3600 * SEC);
  assert_int_equal(tou_conn_state(b), TOU_CLOSED);
  assert_int_equal(tou_conn_error(b), TOU_ERR_TIMEDOUT);
  /* FIN sent once + one tail loss probe + data_retries (15) RTO
   * retransmissions. */
  assert_int_equal(pair_log_count(&c->log, 1, TOU_FIN, TOU_FIN), 17);
  teardown(&p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(passive_side_closes_first),
      cmocka_unit_test(simultaneous_close_goes_through_closing),
      cmocka_unit_test(lost_fin_is_retransmitted),
      cmocka_unit_test(last_ack_retransmits_fin_and_time_wait_reacks),
      cmocka_unit_test(time_wait_ignores_rst),
      cmocka_unit_test(time_wait_answers_syn_and_data_with_ack),
      cmocka_unit_test(time_wait_records_are_bounded),
      cmocka_unit_test(abort_sends_rst_and_discards),
      cmocka_unit_test(abort_with_nothing_lost_needs_one_rst),
      cmocka_unit_test(close_with_unread_data_resets),
      cmocka_unit_test(data_after_close_resets),
      cmocka_unit_test(orphaned_fin_wait_2_is_bounded),
      cmocka_unit_test(held_fin_wait_2_waits_forever),
      cmocka_unit_test(close_in_syn_sent_sends_nothing),
      cmocka_unit_test(last_ack_gives_up_after_data_retries),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Minimal data transfer: in-order delivery, cumulative ACK, RTO
 * retransmission (one segment, then slow start), out-of-order data kept,
 * duplicates dropped, zero window and persist probes, retries exhausted. */
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
  unsigned data_seen[2];
  unsigned drop_data_nth[2][8]; /* 1-based indexes of data segments to drop */
  bool blackhole[2];
  bool duplicate;
} ctx_t;

static bool filter(pair_t *p, int from, const tou_segment_t *s) {
  ctx_t *c = p->ctx;
  bool drop = c->blackhole[from];
  if (s->payload_len > 0) {
    unsigned n = ++c->data_seen[from];
    for (int i = 0; i < 8; i++)
      if (c->drop_data_nth[from][i] == n) drop = true;
  }
  pair_log(&c->log, p, from, s, drop);
  return drop;
}

static ctx_t *setup(pair_t *p, tou_conn_t **a, tou_conn_t **b, uint32_t recv_buffer) {
  pair_init(p, 10 * MS);
  ctx_t *c = calloc(1, sizeof *c);
  p->ctx = c;
  p->filter = filter;
  if (recv_buffer) p->cfg[1].recv_buffer = recv_buffer;
  pair_start(p);
  pair_connect(p, a, b);
  assert_non_null(*b);
  c->log.n = 0;
  return c;
}

static void teardown(pair_t *p) {
  free(p->ctx);
  pair_free(p);
}

static void fill(uint8_t *buf, size_t n) {
  for (size_t i = 0; i < n; i++) buf[i] = (uint8_t)(i * 7 + (i >> 8));
}

static void lost_segment_is_retransmitted_alone_then_rest(void **state) {
  (void)state;
  pair_t p;
  tou_conn_t *a, *b;
  ctx_t *c = setup(&p, &a, &b, 0);
  c->drop_data_nth[0][0] = 2; /* the second of five segments */
  size_t n = 5 * TOU_MSS_DEFAULT_V4;
  uint8_t *x = malloc(n), *y = malloc(n);
  fill(x, n);
  assert_int_equal(tou_conn_send(a, p.now, x, n), (int)n);
  /* 1 in order; 3, 4, 5 kept out of order and SACKed. With three segments
   * SACKed RACK (RFC 8985) marks 2 lost at once: it is resent alone, long
   * before any RTO, and the receiver's next ACK covers everything. */
  pair_run(&p, 100 * MS);
  int end;
  assert_int_equal(pair_read_all(&p, b, y, n, &end), (int)n);
  assert_memory_equal(x, y, n);
  tou_conn_info_t i;
  tou_conn_get_info(a, &i);
  assert_int_equal(i.timeouts, 0);
  assert_int_equal(i.segs_retransmitted, 1);
  assert_int_equal(i.segs_lost, 1);
  assert_int_equal(i.segs_sacked, 3);
  assert_int_equal(i.bytes_acked, n);
  free(x), free(y);
  teardown(&p);
}

static void retries_exhausted_times_out(void **state) {
  (void)state;
  pair_t p;
  tou_conn_t *a, *b;
  ctx_t *c = setup(&p, &a, &b, 0);
  c->blackhole[0] = true;
  tou_conn_send(a, p.now, (const uint8_t *)"lost", 4);
  pair_run(&p, 3600 * SEC);
  assert_int_equal(tou_conn_state(a), TOU_CLOSED);
  assert_int_equal(tou_conn_error(a), TOU_ERR_TIMEDOUT);
  assert_true(pair_events(&p, 0, a) & TOU_EV_CLOSED);
  /* Sent once, one tail loss probe (RFC 8985 7, at the first RTO's time),
   * then data_retries = 15 RTO retransmissions. */
  size_t data = 0;
  for (size_t i = 0; i < c->log.n; i++)
    if (c->log.e[i].from == 0 && c->log.e[i].payload_len == 4) data++;
  assert_int_equal(data, 17);
  uint8_t buf[4];
  assert_int_equal(tou_conn_send(a, p.now, buf, 4), TOU_ERR_TIMEDOUT);
  assert_int_equal(tou_conn_recv(a, p.now, buf, 4), TOU_ERR_TIMEDOUT);
  teardown(&p);
}

static void every_state_with_data_outstanding_has_a_timer(void **state) {
  (void)state;
  pair_t p;
  tou_conn_t *a, *b;
  ctx_t *c = setup(&p, &a, &b, 0);
  c->blackhole[0] = true;
  tou_conn_send(a, p.now, (const uint8_t *)"x", 1);
  pair_run(&p, 1 * MS);
  assert_true(tou_ep_next_deadline(p.ep[0]) != TOU_NEVER);
  tou_conn_shutdown(a, p.now);
  pair_run(&p, 1 * MS);
  assert_true(tou_ep_next_deadline(p.ep[0]) != TOU_NEVER);
  c->blackhole[0] = false;
  pair_run(&p, 10 * SEC);
  assert_int_equal(tou_conn_state(a), TOU_FIN_WAIT_2);
  assert_int_equal(tou_ep_next_deadline(p.ep[0]), TOU_NEVER); /* idle costs nothing */
  teardown(&p);
}

static void duplicates_are_not_delivered_twice(void **state) {
  (void)state;
  pair_t p;
  tou_conn_t *a, *b;
  setup(&p, &a, &b, 0);
  tou_conn_send(a, p.now, (const uint8_t *)"once", 4);
  pair_run(&p, 100 * MS);
  /* Replay A's data segment at B. */
  tou_segment_t s = {.flags = TOU_ACK | TOU_PSH, .dst_cid = b->local_cid, .src_cid = a->local_cid,
                     .seq = a->snd_una - 4, .ack = a->rcv_nxt, .window = 100,
                     .payload = (const uint8_t *)"once", .payload_len = 4};
  pair_inject(&p, 1, &p.addr[0], &s);
  pair_inject(&p, 1, &p.addr[0], &s);
  pair_run(&p, 100 * MS);
  uint8_t buf[16];
  int end;
  assert_int_equal(pair_read_all(&p, b, buf, sizeof buf, &end), 4);
  tou_conn_info_t i;
  tou_conn_get_info(b, &i);
  assert_int_equal(i.dup_segs_received, 2);
  assert_int_equal(i.bytes_received, 4);
  teardown(&p);
}

static void zero_window_then_persist_then_resume(void **state) {
  (void)state;
  pair_t p;
  tou_conn_t *a, *b;
  ctx_t *c = setup(&p, &a, &b, 8192);
  size_t n = 40000;
  uint8_t *x = malloc(n), *y = malloc(n);
  fill(x, n);
  assert_int_equal(tou_conn_send(a, p.now, x, n), (int)n);
  pair_run(&p, 60 * SEC); /* B does not read */
  tou_conn_info_t ib;
  tou_conn_get_info(b, &ib);
  assert_int_equal(ib.rcv_wnd, 0);
  assert_int_equal(ib.bytes_received, 8192);
  assert_int_equal(tou_conn_state(a), TOU_ESTABLISHED); /* probes answered: alive */
  assert_true(tou_ep_next_deadline(p.ep[0]) != TOU_NEVER); /* persist timer */
  size_t probes_before = c->log.n;
  pair_run(&p, 120 * SEC);
  assert_true(c->log.n > probes_before);
  assert_int_equal(tou_conn_state(a), TOU_ESTABLISHED);
  /* B reads: its window update lets A continue. */
  size_t got = 0;
  for (int r = 0; r < 1000 && got < n; r++) {
    int end;
    got += pair_read_all(&p, b, y + got, n - got, &end);
    pair_run(&p, 50 * MS);
  }
  assert_int_equal(got, n);
  assert_memory_equal(x, y, n);
  free(x), free(y);
  teardown(&p);
}

static void lost_window_update_recovered_by_persist(void **state) {
  (void)state;
  pair_t p;
  tou_conn_t *a, *b;
  ctx_t *c = setup(&p, &a, &b, 4096);
  size_t n = 10000;
  uint8_t *x = malloc(n), *y = malloc(n);
  fill(x, n);
  tou_conn_send(a, p.now, x, n);
  pair_run(&p, 1 * SEC);
  c->blackhole[1] = true; /* the window update B sends on reading is lost */
  int end;
  size_t got = pair_read_all(&p, b, y, n, &end);
  pair_run(&p, 10 * MS);
  c->blackhole[1] = false;
  for (int r = 0; r < 2000 && got < n; r++) {
    pair_run(&p, 100 * MS);
    got += pair_read_all(&p, b, y + got, n - got, &end);
  }
  assert_int_equal(got, n);
  assert_memory_equal(x, y, n);
  free(x), free(y);
  teardown(&p);
}

static void window_scaling_opens_large_window(void **state) {
  (void)state;
  pair_t p;
  tou_conn_t *a, *b;
  setup(&p, &a, &b, 4u << 20);
  tou_conn_send(a, p.now, (const uint8_t *)"x", 1);
  pair_run(&p, 100 * MS); /* B's ACK carries a scaled window */
  tou_conn_info_t ia, ib;
  tou_conn_get_info(a, &ia);
  tou_conn_get_info(b, &ib);
  assert_true(ib.rcv_wscale >= 7);
  assert_int_equal(ia.snd_wscale, ib.rcv_wscale);
  /* Far beyond 64 KiB: the initial receive buffer (128 KiB by default;
   * autotuning grows it towards the 4 MiB maximum as the reader keeps up). */
  assert_true(ia.snd_wnd >= 100000u);
  teardown(&p);
}

static void recv_after_eof_and_shutdown_errors(void **state) {
  (void)state;
  pair_t p;
  tou_conn_t *a, *b;
  setup(&p, &a, &b, 0);
  uint8_t buf[4];
  assert_int_equal(tou_conn_recv(b, p.now, buf, 4), TOU_ERR_AGAIN);
  tou_conn_shutdown(a, p.now);
  assert_int_equal(tou_conn_shutdown(a, p.now), TOU_OK); /* idempotent */
  pair_run(&p, 100 * MS);
  assert_int_equal(tou_conn_recv(b, p.now, buf, 4), TOU_ERR_EOF);
  assert_int_equal(tou_conn_recv(b, p.now, buf, 4), TOU_ERR_EOF);
  assert_int_equal(tou_conn_send_space(a), 0);
  assert_true(tou_conn_send_space(b) > 0);
  teardown(&p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(lost_segment_is_retransmitted_alone_then_rest),
      cmocka_unit_test(retries_exhausted_times_out),
      cmocka_unit_test(every_state_with_data_outstanding_has_a_timer),
      cmocka_unit_test(duplicates_are_not_delivered_twice),
      cmocka_unit_test(zero_window_then_persist_then_resume),
      cmocka_unit_test(lost_window_update_recovered_by_persist),
      cmocka_unit_test(window_scaling_opens_large_window),
      cmocka_unit_test(recv_after_eof_and_shutdown_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

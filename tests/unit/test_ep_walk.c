/* tou_ep_walk(): every connection of an endpoint is listed, including the
 * ones the application does not hold (half-open, accept queue, released and
 * still closing) and the TIME_WAIT records (issue 7's ss-like listing). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "pair.h"

#define MS 1000ull
#define SEC 1000000ull

typedef struct rows {
  tou_ep_row_t r[16];
  tou_conn_info_t info[16];
  size_t n;
} rows_t;

static void collect(void *ctx, const tou_ep_row_t *row) {
  rows_t *rows = ctx;
  if (rows->n == 16) return;
  rows->r[rows->n] = *row;
  if (row->info) {
    rows->info[rows->n] = *row->info;
    rows->r[rows->n].info = &rows->info[rows->n];
  }
  rows->n++;
}

static const tou_ep_row_t *find(const rows_t *rows, tou_state_t state) {
  const tou_ep_row_t *found = NULL;
  for (size_t i = 0; i < rows->n; i++)
    if (rows->r[i].state == state) {
      assert_null(found); /* one row each in these tests */
      found = &rows->r[i];
    }
  assert_non_null(found);
  return found;
}

static bool blackhole_a(pair_t *p, int from, const tou_segment_t *s) {
  (void)s;
  return from == 0 && *(bool *)p->ctx;
}

static void lists_half_open_accept_queue_closing_and_time_wait(void **state) {
  (void)state;
  pair_t p;
  bool drop_a = false;
  pair_init(&p, 10 * MS);
  p.ctx = &drop_a;
  p.filter = blackhole_a;
  pair_start(&p);
  int err;

  /* 1: B closes first and ends in TIME_WAIT (a record). */
  tou_conn_t *a1, *b1;
  pair_connect(&p, &a1, &b1);
  assert_non_null(b1);
  uint32_t a1_cid = tou_conn_local_cid(a1);
  tou_conn_close(b1, p.now);
  pair_run(&p, 100 * MS);
  tou_conn_close(a1, p.now);
  pair_run(&p, 100 * MS);

  /* 2: established and accepted, held by the application. */
  tou_conn_t *a2 = tou_ep_connect(p.ep[0], p.now, &p.addr[1], &err);
  assert_non_null(a2);
  pair_run(&p, 100 * MS);
  assert_int_equal(tou_conn_state(a2), TOU_ESTABLISHED);

  /* 3: accepted, B sends and closes, A hears nothing: released, FIN_WAIT_1. */
  tou_conn_t *a3 = tou_ep_connect(p.ep[0], p.now, &p.addr[1], &err);
  assert_non_null(a3);
  pair_run(&p, 100 * MS);
  tou_conn_t *b2 = tou_ep_accept(p.ep[1]), *b3 = tou_ep_accept(p.ep[1]);
  assert_non_null(b3);
  assert_int_equal(tou_conn_remote_cid(b2), tou_conn_local_cid(a2));
  drop_a = true;
  assert_int_equal(tou_conn_send(b3, p.now, (const uint8_t *)"hello", 5), 5);
  tou_conn_close(b3, p.now);
  pair_run(&p, 50 * MS);

  /* 4: a SYN from elsewhere: half-open. */
  tou_addr_t x = pair_addr("X");
  tou_segment_t syn = {.flags = TOU_SYN, .src_cid = 0x1234, .seq = 777, .window = 1000};
  pair_inject(&p, 1, &x, &syn);
  pair_pump(&p);

  rows_t rows = {0};
  tou_ep_walk(p.ep[1], collect, &rows);
  assert_int_equal(rows.n, 4);

  const tou_ep_row_t *tw = find(&rows, TOU_TIME_WAIT);
  assert_null(tw->conn);
  assert_null(tw->info);
  assert_true(tou_addr_equal(tw->peer, &p.addr[0]));
  assert_int_equal(tw->remote_cid, a1_cid);
  assert_true(tw->expires > p.now);

  const tou_ep_row_t *held = find(&rows, TOU_ESTABLISHED); /* b2, accepted, idle */
  assert_ptr_equal(held->conn, b2);
  assert_true(held->app_owned);
  assert_non_null(held->info);
  assert_true(held->srtt_us > 0);
  assert_int_equal(held->cwnd, held->info->cwnd);

  const tou_ep_row_t *closing = find(&rows, TOU_FIN_WAIT_1);
  assert_ptr_equal(closing->conn, b3);
  assert_false(closing->app_owned);
  assert_int_equal(closing->send_queued, 5);
  assert_int_equal(closing->remote_cid, tou_conn_local_cid(a3));

  const tou_ep_row_t *half = find(&rows, TOU_SYN_RCVD);
  assert_false(half->app_owned);
  assert_true(tou_addr_equal(half->peer, &x));
  assert_int_equal(half->remote_cid, 0x1234);

  tou_ep_stats_t st;
  tou_ep_get_stats(p.ep[1], &st);
  assert_int_equal(st.connections + st.time_wait, rows.n);
  pair_free(&p);
}

/* Not accepted yet: the row is not the application's; data waiting in its
 * receive buffer shows as the receive queue. */
static void accept_queue_row_shows_recv_queue(void **state) {
  (void)state;
  pair_t p;
  bool drop_a = false;
  pair_init(&p, 10 * MS);
  p.ctx = &drop_a;
  p.filter = blackhole_a;
  pair_start(&p);
  assert_int_equal(tou_ep_listen(p.ep[1], 4), TOU_OK);
  int err;
  tou_conn_t *a = tou_ep_connect(p.ep[0], p.now, &p.addr[1], &err);
  pair_run(&p, 100 * MS);
  assert_int_equal(tou_conn_send(a, p.now, (const uint8_t *)"abc", 3), 3);
  pair_run(&p, 100 * MS);
  rows_t rows = {0};
  tou_ep_walk(p.ep[1], collect, &rows);
  assert_int_equal(rows.n, 1);
  assert_int_equal(rows.r[0].state, TOU_ESTABLISHED);
  assert_false(rows.r[0].app_owned);
  assert_int_equal(rows.r[0].recv_queued, 3);
  rows.n = 0;
  tou_ep_walk(p.ep[0], collect, &rows);
  assert_int_equal(rows.n, 1);
  assert_true(rows.r[0].app_owned);
  assert_ptr_equal(rows.r[0].conn, a);
  pair_free(&p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(lists_half_open_accept_queue_closing_and_time_wait),
      cmocka_unit_test(accept_queue_row_shows_recv_queue),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

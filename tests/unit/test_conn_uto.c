/* RFC 5482 User Timeout Option between two real endpoints: A announces its
 * user timeout, B adopts it when its configuration allows (ENABLED) and its
 * application has not chosen one (CHANGEABLE), and the adopted timeout
 * does what RFC 5482 is for: B's connection outlives an outage longer than
 * its retransmission limit, the one that ends it without the option. */
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
  bool dark; /* both directions drop everything */
} ctx_t;

static bool filter(pair_t *p, int from, const tou_segment_t *s) {
  (void)from, (void)s;
  return ((ctx_t *)p->ctx)->dark;
}

static uint64_t uto_of(const tou_conn_t *c, bool peer) {
  tou_link_info_t li;
  tou_conn_link_info(c, &li);
  return peer ? li.peer_user_timeout_us : li.user_timeout_us;
}

static void start(pair_t *p, ctx_t *c, bool accept, tou_conn_t **a, tou_conn_t **b) {
  pair_init(p, 10 * MS);
  p->ctx = c;
  p->filter = filter;
  p->cfg[0].user_timeout_us = 1200 * SEC; /* A announces 20 minutes */
  p->cfg[1].user_timeout_accept = accept;
  pair_start(p);
  pair_connect(p, a, b);
  assert_non_null(*b);
}

/* The SYN's announcement reaches B; A's later change too. B's own explicit
 * setting makes B deaf to the peer's announcements, and is announced to A
 * (which, not accepting, only records it). */
static void announcements_adopted_until_set_explicitly(void **state) {
  (void)state;
  pair_t p;
  ctx_t c = {0};
  tou_conn_t *a, *b;
  start(&p, &c, true, &a, &b);
  assert_int_equal(uto_of(b, true), 1200 * SEC);
  assert_int_equal(uto_of(b, false), 1200 * SEC);
  assert_int_equal(uto_of(a, true), 0);
  assert_int_equal(uto_of(a, false), 1200 * SEC);

  assert_int_equal(tou_conn_set_user_timeout(a, p.now, 1800 * SEC), TOU_OK);
  pair_run(&p, 100 * MS);
  assert_int_equal(uto_of(b, true), 1800 * SEC);
  assert_int_equal(uto_of(b, false), 1800 * SEC);

  assert_int_equal(tou_conn_set_user_timeout(b, p.now, 30 * SEC), TOU_OK);
  pair_run(&p, 100 * MS);
  assert_int_equal(uto_of(a, true), 30 * SEC);
  assert_int_equal(uto_of(a, false), 1800 * SEC); /* A does not accept */
  assert_int_equal(tou_conn_set_user_timeout(a, p.now, 2400 * SEC), TOU_OK);
  pair_run(&p, 100 * MS);
  assert_int_equal(uto_of(b, true), 2400 * SEC);
  assert_int_equal(uto_of(b, false), 30 * SEC); /* B's own choice stands */
  pair_free(&p);
}

/* B sends during a 15-minute two-way outage. Its retransmission limit
 * (data_retries 15, RTO capped at 60 s) runs out after about 7.7 minutes;
 * with A's 20 minutes adopted, B keeps retransmitting and the data gets
 * through once the path heals. */
static void run_outage(bool accept, int *b_error, uint64_t *b_acked) {
  pair_t p;
  ctx_t c = {0};
  tou_conn_t *a, *b;
  start(&p, &c, accept, &a, &b);
  static uint8_t data[3000];
  memset(data, 'b', sizeof data);
  c.dark = true;
  assert_int_equal(tou_conn_send(b, p.now, data, sizeof data), (int)sizeof data);
  pair_run(&p, 900 * SEC);
  c.dark = false;
  pair_run(&p, 120 * SEC);
  *b_error = tou_conn_state(b) == TOU_CLOSED ? tou_conn_error(b) : TOU_OK;
  tou_conn_info_t ib;
  tou_conn_get_info(b, &ib);
  *b_acked = ib.bytes_acked;
  pair_free(&p);
}

static void adopted_timeout_outlives_outage(void **state) {
  (void)state;
  int err;
  uint64_t acked;
  run_outage(false, &err, &acked); /* not accepted: B gives up */
  assert_int_equal(err, TOU_ERR_TIMEDOUT);
  run_outage(true, &err, &acked);
  assert_int_equal(err, TOU_OK);
  assert_int_equal(acked, 3000);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(announcements_adopted_until_set_explicitly),
      cmocka_unit_test(adopted_timeout_outlives_outage),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

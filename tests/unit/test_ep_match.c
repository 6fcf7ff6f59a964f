/* Which connection an opening SYN belongs to (docs/PROTOCOL.md 4.1):
 * (address, src_cid), else the oldest SYN_SENT connection to that address
 * without a peer cid (simultaneous open), else the listener, else RST. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "pair.h"

#define MS 1000ull

static bool drop_from_a(pair_t *p, int from, const tou_segment_t *s) {
  (void)p, (void)s;
  return from == 0;
}

static tou_conn_t *connect_to(pair_t *p, int from) {
  int err;
  tou_conn_t *c = tou_ep_connect(p->ep[from], p->now, &p->addr[1 - from], &err);
  assert_non_null(c);
  return c;
}

/* A has two connections to B in SYN_SENT (its SYNs are lost). B's SYN goes
 * to the one A opened first, and only to it. */
static void simultaneous_open_takes_the_oldest_syn_sent(void **state) {
  (void)state;
  pair_t p;
  pair_init(&p, 10 * MS);
  p.filter = drop_from_a;
  pair_start(&p);
  tou_conn_t *first = connect_to(&p, 0);
  pair_run(&p, 1 * MS);
  tou_conn_t *second = connect_to(&p, 0);
  pair_run(&p, 1 * MS);
  tou_conn_t *third = connect_to(&p, 0);
  pair_run(&p, 1 * MS);
  connect_to(&p, 1);
  pair_run(&p, 15 * MS); /* B's SYN has arrived at A */
  assert_int_equal(tou_conn_state(first), TOU_SYN_RCVD);
  assert_int_equal(tou_conn_state(second), TOU_SYN_SENT);
  assert_int_equal(tou_conn_state(third), TOU_SYN_SENT);
  assert_int_equal(tou_conn_remote_cid(second), 0);
  assert_int_equal(tou_conn_remote_cid(third), 0);
  assert_int_not_equal(tou_conn_remote_cid(first), 0);
  pair_free(&p);
}

/* Without a SYN_SENT connection to that address, a listener takes it; a
 * SYN_SENT connection to another address does not. */
static void syn_from_other_address_goes_to_listener(void **state) {
  (void)state;
  pair_t p;
  pair_init(&p, 10 * MS);
  p.filter = drop_from_a;
  pair_start(&p);
  int err;
  tou_addr_t other = pair_addr("C");
  tou_conn_t *to_c = tou_ep_connect(p.ep[0], p.now, &other, &err);
  assert_non_null(to_c);
  assert_int_equal(tou_ep_listen(p.ep[0], 4), TOU_OK);
  connect_to(&p, 1);
  pair_run(&p, 15 * MS);
  assert_int_equal(tou_conn_state(to_c), TOU_SYN_SENT);
  tou_ep_stats_t st;
  tou_ep_get_stats(p.ep[0], &st);
  assert_int_equal(st.half_open, 1);
  pair_free(&p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(simultaneous_open_takes_the_oldest_syn_sent),
      cmocka_unit_test(syn_from_other_address_goes_to_listener),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Memory follows use: the scoreboard ring of a connection starts with a
 * few entries and doubles with the flight, bounded by the send buffer
 * (scoreboard.h). A connection that exchanged a little and went idle does
 * not hold a ring sized for a full 2 MiB send buffer (2 x 1465 entries,
 * 141 KB); a bulk sender grows it as far as its flight needs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "conn.h"
#include "pair.h"

#define MS 1000ull
#define SEC 1000000ull

static void small_exchange_keeps_a_small_ring(void **state) {
  (void)state;
  pair_t p;
  tou_conn_t *a, *b;
  pair_open(&p, 10 * MS, &a, &b);
  assert_non_null(b);
  static uint8_t data[1000], buf[2000];
  memset(data, 'x', sizeof data);
  assert_int_equal(tou_conn_send(a, p.now, data, sizeof data), (int)sizeof data);
  pair_run(&p, 200 * MS);
  int end;
  assert_int_equal(pair_read_all(&p, b, buf, sizeof buf, &end), sizeof data);
  assert_int_equal(a->rec.sb.cap, 16);
  assert_true(a->rec.sb.max_cap >= 2 * (p.cfg[0].send_buffer / a->snd_mss));
  assert_int_equal(b->rec.sb.cap, 16); /* the receiver's pure ACKs need none */
  pair_free(&p);
}

static void bulk_sender_grows_it_within_the_bound(void **state) {
  (void)state;
  pair_t p;
  tou_conn_t *a, *b;
  pair_open(&p, 10 * MS, &a, &b);
  assert_non_null(b);
  static uint8_t data[65536], buf[65536];
  size_t total = 2u << 20, sent = 0, got = 0;
  uint32_t peak_count = 0;
  for (int i = 0; i < 20000 && got < total; i++) {
    while (sent < total) {
      size_t n = total - sent < sizeof data ? total - sent : sizeof data;
      for (size_t k = 0; k < n; k++) data[k] = (uint8_t)((sent + k) * 7);
      int w = tou_conn_send(a, p.now, data, n);
      if (w <= 0) break;
      sent += (size_t)w;
    }
    pair_run(&p, 1 * MS);
    if (a->rec.sb.count > peak_count) peak_count = a->rec.sb.count;
    int n;
    while ((n = tou_conn_recv(b, p.now, buf, sizeof buf)) > 0) {
      for (int k = 0; k < n; k++) assert_int_equal(buf[k], (uint8_t)((got + (size_t)k) * 7));
      got += (size_t)n;
    }
  }
  assert_int_equal(got, total);
  uint32_t cap = a->rec.sb.cap;
  assert_true(cap > 16);
  assert_true(cap <= a->rec.sb.max_cap);
  assert_true(peak_count <= cap);
  assert_int_equal(cap & (cap - 1), 0);           /* 16 doubled */
  pair_free(&p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(small_exchange_keeps_a_small_ring),
      cmocka_unit_test(bulk_sender_grows_it_within_the_bound),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

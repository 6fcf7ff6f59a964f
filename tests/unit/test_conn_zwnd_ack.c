/* A's one-byte persist probe sits beyond B's zero receive window, so A's
 * pure ACKs carry SEQ = RCV.NXT+1 at B (conn_output.c: SND.MAX). B must
 * still take their ACK field (RFC 9293 3.10.7.4: with a zero window
 * "special allowance should be made to accept valid ACKs"): B's own data
 * to A is then acknowledged within a round trip, with no RTO. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "conn.h"
#include "pair.h"

#define MS 1000ull
#define SEC 1000000ull

static void peer_data_acked_while_we_probe_its_zero_window(void **state) {
  (void)state;
  pair_t p;
  pair_init(&p, 10 * MS);
  p.cfg[1].recv_buffer = p.cfg[1].recv_buffer_initial = 8192;
  pair_start(&p);
  tou_conn_t *a, *b;
  pair_connect(&p, &a, &b);
  assert_non_null(b);

  /* A fills B's receive window; B does not read. A keeps data queued and
   * probes B's zero window. */
  static uint8_t data[40000];
  memset(data, 'a', sizeof data);
  assert_int_equal(tou_conn_send(a, p.now, data, sizeof data), (int)sizeof data);
  pair_run(&p, 3 * SEC);
  tou_conn_info_t ia, ib;
  tou_conn_get_info(a, &ia);
  assert_int_equal(ia.snd_wnd, 0);
  assert_true(ia.zero_window_probes > 0);
  assert_int_equal(a->snd_max, a->snd_una + 1); /* the probe byte is out */

  /* B sends 1000 bytes; A's ACKs of them must count at B. */
  tou_conn_get_info(b, &ib);
  uint64_t timeouts = ib.timeouts;
  uint64_t acked = ib.bytes_acked;
  memset(data, 'b', 1000);
  assert_int_equal(tou_conn_send(b, p.now, data, 1000), 1000);
  pair_run(&p, 100 * MS); /* five round trips; the delayed ACK is 40 ms at most */
  tou_conn_get_info(b, &ib);
  assert_int_equal(ib.bytes_acked - acked, 1000);
  assert_int_equal(ib.timeouts, timeouts);
  assert_int_equal(b->snd_una, b->snd_max);

  /* Still nothing of A's beyond the window was taken. */
  tou_conn_get_info(a, &ia);
  assert_int_equal(ia.snd_wnd, 0);
  pair_free(&p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(peer_data_acked_while_we_probe_its_zero_window),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

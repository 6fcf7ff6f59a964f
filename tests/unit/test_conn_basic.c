/* Connection basics end to end: handshake, data both ways, orderly close. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "pair.h"

#define MS 1000u
#define SEC 1000000u

static void handshake_establishes_both_sides(void **state) {
  (void)state;
  pair_t p;
  tou_conn_t *a, *b;
  pair_open(&p, 10 * MS, &a, &b);
  assert_non_null(b);
  assert_int_equal(tou_conn_state(a), TOU_ESTABLISHED);
  assert_int_equal(tou_conn_state(b), TOU_ESTABLISHED);
  assert_true(pair_events(&p, 0, a) & TOU_EV_CONNECTED);
  assert_true(pair_events(&p, 1, NULL) & TOU_EV_ACCEPT);
  assert_string_equal(p.trace[0], "CLOSED>SYN_SENT SYN_SENT>ESTABLISHED ");
  assert_string_equal(p.trace[1], "LISTEN>SYN_RCVD SYN_RCVD>ESTABLISHED ");
  assert_int_equal(tou_conn_remote_cid(a), tou_conn_local_cid(b));
  assert_int_equal(tou_conn_remote_cid(b), tou_conn_local_cid(a));
  tou_conn_info_t ia, ib;
  tou_conn_get_info(a, &ia);
  tou_conn_get_info(b, &ib);
  assert_true(ia.wscale_ok && ia.sack_ok && ia.ts_ok);
  assert_true(ib.wscale_ok && ib.sack_ok && ib.ts_ok);
  assert_int_equal(ia.snd_mss, TOU_MSS_DEFAULT_V4);
  assert_int_equal(ia.rcv_wscale, ib.snd_wscale);
  /* The SYN/SYN-ACK round trip gave A its first RTT sample: 20 ms. */
  assert_int_equal(ia.srtt_us, 20 * MS);
  /* 3 datagrams: SYN, SYN-ACK, ACK. */
  assert_int_equal(p.sent[0] + p.sent[1], 3);
  assert_null(tou_ep_accept(p.ep[1]));
  pair_free(&p);
}

static void options_follow_what_the_peer_offers(void **state) {
  (void)state;
  pair_t p;
  pair_init(&p, 1 * MS);
  p.cfg[1].mss = 1000;
  pair_start(&p);
  tou_conn_t *a, *b;
  pair_connect(&p, &a, &b);
  tou_conn_info_t ia, ib;
  tou_conn_get_info(a, &ia);
  tou_conn_get_info(b, &ib);
  assert_int_equal(ia.snd_mss, 1000); /* B announced 1000 */
  assert_int_equal(ib.snd_mss, 1000); /* B's own limit */
  pair_free(&p);
}

static void fill(uint8_t *buf, size_t n, uint32_t seed) {
  for (size_t i = 0; i < n; i++) buf[i] = (uint8_t)((i * 131u + seed * 7u) >> 3);
}

/* Sends n bytes from `from` to `to`, reading as it goes; returns bytes read. */
static size_t transfer(pair_t *p, tou_conn_t *from, tou_conn_t *to, const uint8_t *data, size_t n,
                       uint8_t *out) {
  size_t sent = 0, got = 0;
  for (int rounds = 0; rounds < 100000 && got < n; rounds++) {
    if (sent < n) {
      int k = tou_conn_send(from, p->now, data + sent, n - sent);
      assert_true(k >= 0);
      sent += (size_t)k;
    }
    pair_run(p, 5 * MS);
    int end;
    got += pair_read_all(p, to, out + got, n - got, &end);
  }
  return got;
}

static void data_flows_both_ways(void **state) {
  (void)state;
  pair_t p;
  tou_conn_t *a, *b;
  pair_open(&p, 5 * MS, &a, &b);
  size_t n = 1000 * 1000 + 17;
  uint8_t *x = malloc(n), *y = malloc(n), *out = malloc(n);
  fill(x, n, 1);
  fill(y, n, 2);
  assert_int_equal(transfer(&p, a, b, x, n, out), n);
  assert_memory_equal(out, x, n);
  assert_int_equal(transfer(&p, b, a, y, n, out), n);
  assert_memory_equal(out, y, n);
  tou_conn_info_t ia;
  tou_conn_get_info(a, &ia);
  assert_int_equal(ia.bytes_acked, n);
  assert_int_equal(ia.bytes_received, n);
  assert_int_equal(ia.segs_retransmitted, 0);
  assert_int_equal(tou_conn_send_queued(a), 0);
  free(x), free(y), free(out);
  pair_free(&p);
}

static void active_close_then_passive_close(void **state) {
  (void)state;
  pair_t p;
  tou_conn_t *a, *b;
  pair_open(&p, 10 * MS, &a, &b);
  assert_int_equal(tou_conn_send(a, p.now, (const uint8_t *)"hello", 5), 5);
  assert_int_equal(tou_conn_shutdown(a, p.now), TOU_OK);
  assert_int_equal(tou_conn_state(a), TOU_FIN_WAIT_1);
  assert_int_equal(tou_conn_send(a, p.now, (const uint8_t *)"x", 1), TOU_ERR_PIPE);
  pair_run(&p, 100 * MS);
  assert_int_equal(tou_conn_state(a), TOU_FIN_WAIT_2);
  assert_true(pair_events(&p, 0, a) & TOU_EV_SHUTDOWN);
  assert_int_equal(tou_conn_state(b), TOU_CLOSE_WAIT);
  uint8_t buf[16];
  int end;
  assert_int_equal(pair_read_all(&p, b, buf, sizeof buf, &end), 5);
  assert_int_equal(end, TOU_ERR_EOF);
  /* Half-close: B keeps sending to A for as long as it likes. */
  for (int i = 0; i < 5; i++) {
    assert_int_equal(tou_conn_send(b, p.now, (const uint8_t *)"more", 4), 4);
    pair_run(&p, 100 * MS);
    assert_int_equal(pair_read_all(&p, a, buf, sizeof buf, &end), 4);
    assert_int_equal(end, TOU_ERR_AGAIN);
  }
  tou_conn_close(b, p.now);
  pair_run(&p, 100 * MS);
  assert_int_equal(tou_conn_state(a), TOU_TIME_WAIT);
  assert_true(pair_events(&p, 0, a) & TOU_EV_CLOSED);
  assert_int_equal(tou_conn_error(a), 0);
  assert_int_equal(tou_conn_recv(a, p.now, buf, sizeof buf), TOU_ERR_EOF);
  tou_ep_stats_t s0, s1;
  tou_ep_get_stats(p.ep[0], &s0);
  tou_ep_get_stats(p.ep[1], &s1);
  assert_int_equal(s0.time_wait, 1);
  assert_int_equal(s1.connections, 0); /* B released and LAST_ACK done: freed */
  assert_string_equal(p.trace[1], "LISTEN>SYN_RCVD SYN_RCVD>ESTABLISHED ESTABLISHED>CLOSE_WAIT "
                                  "CLOSE_WAIT>LAST_ACK LAST_ACK>CLOSED ");
  tou_conn_close(a, p.now);
  tou_ep_get_stats(p.ep[0], &s0);
  assert_int_equal(s0.connections, 0);
  /* TIME_WAIT lasts 2*MSL = 60 s, then the record goes. */
  pair_run(&p, 59 * SEC);
  tou_ep_get_stats(p.ep[0], &s0);
  assert_int_equal(s0.time_wait, 1);
  pair_run(&p, 2 * SEC);
  tou_ep_get_stats(p.ep[0], &s0);
  assert_int_equal(s0.time_wait, 0);
  assert_int_equal(tou_ep_next_deadline(p.ep[0]), TOU_NEVER);
  assert_int_equal(tou_ep_next_deadline(p.ep[1]), TOU_NEVER);
  pair_free(&p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(handshake_establishes_both_sides),
      cmocka_unit_test(options_follow_what_the_peer_offers),
      cmocka_unit_test(data_flows_both_ways),
      cmocka_unit_test(active_close_then_passive_close),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

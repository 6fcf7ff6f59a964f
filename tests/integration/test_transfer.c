/* A bulk transfer each way at once over loopback, SHA-256 verified. The
 * default size (8 MiB each way) keeps the ctest entry fast under ASan
 * (1 MiB under valgrind, TOU_TEST_SMALL=1); the `integration_long` target
 * runs 256 MiB each way:
 *   test_transfer 256 */
#include "transfer.h"

static uint64_t mib = 0; /* from argv; 0: the default */

typedef struct transfer_test {
  uv_loop_t loop;
  tou_endpoint_t server_ep, client_ep;
  tou_stream_t server, client;
  tou_connect_t connect;
  xfer_t x;
} transfer_test_t;

static transfer_test_t *T;

/* Each stream's bytes came by the receive fast path (one copy, straight
 * into the read buffer) or through the core's receive buffer; with the
 * fast path on, a bulk reader that keeps up gets nearly all of them
 * directly (the rest: data that arrived while a read callback was due). */
static void check_paths(tou_stream_t *s, const char *who, bool direct) {
  tou_stream_info_t info;
  assert_int_equal(TOU(tou_get_info(s, &info)), 0);
  print_message("%s: %llu bytes in, %llu direct (one copy), %llu through the receive buffer\n",
                who, (unsigned long long)info.bytes_received,
                (unsigned long long)info.bytes_received_direct,
                (unsigned long long)info.bytes_received_buffered);
  assert_int_equal(info.bytes_received_direct + info.bytes_received_buffered, info.bytes_received);
  if (direct)
    assert_true(info.bytes_received_direct >= info.bytes_received / 2);
  else
    assert_int_equal(info.bytes_received_direct, 0);
}

static void transfer_run(bool direct) {
  transfer_test_t *t = calloc(1, sizeof *t);
  T = t;
  uv_loop_init(&t->loop);
  struct sockaddr_storage server_addr, client_addr;
  tou_endpoint_options_t opts;
  h_options(&opts);
  opts.send_buffer = opts.recv_buffer = 1 << 20;
  opts.disable_direct_read = !direct;
  assert_int_equal(h_endpoint(&t->loop, &t->server_ep, &opts, false, &server_addr), 0);
  assert_int_equal(h_endpoint(&t->loop, &t->client_ep, &opts, false, &client_addr), 0);
  xfer_init(&t->x, mib << 20, mib << 20);
  xfer_listen(&t->x, &t->server_ep, &t->server);
  xfer_connect(&t->x, &t->connect, &t->client_ep, &t->client, (const struct sockaddr *)&server_addr);
  h_run_until(&t->loop, &t->x.done, (unsigned)(8000 + mib * 1000));
  xfer_check(&t->x);

  tou_stream_info_t info;
  assert_int_equal(TOU(tou_get_info(&t->client, &info)), 0);
  print_message("client: %llu bytes out, %llu in, rtt %u us, cwnd %u, %llu retransmitted segs\n",
                (unsigned long long)info.bytes_sent, (unsigned long long)info.bytes_received,
                info.rtt_us, info.cwnd, (unsigned long long)info.segs_retransmitted);
  check_paths(&t->client, "client", direct);
  check_paths(&t->server, "server", direct);
  /* The send side: every data datagram goes out as header + payload
   * straight from the send buffer (one or two pieces: none is copied, not
   * even across the ring's wrap point), at least one per MSS of data. */
  tou_endpoint_t *eps[2] = {&t->client_ep, &t->server_ep};
  for (int i = 0; i < 2; i++) {
    tou_endpoint_stats_t st;
    assert_int_equal(TOU(tou_endpoint_stats(eps[i], &st)), 0);
    print_message("%s endpoint: %llu datagrams sent, %llu gathered, %llu dropped locally\n",
                  i ? "server" : "client", (unsigned long long)st.datagrams_sent,
                  (unsigned long long)st.datagrams_gathered,
                  (unsigned long long)st.datagrams_dropped_local);
    assert_true(st.datagrams_gathered >= (mib << 20) / opts.mss);
    assert_true(st.datagrams_gathered <= st.datagrams_sent);
  }
  tou_handle_t *hs[] = {(tou_handle_t *)&t->client, (tou_handle_t *)&t->server,
                        (tou_handle_t *)&t->client_ep, (tou_handle_t *)&t->server_ep};
  h_close_and_drain(&t->loop, hs, 4);
  xfer_free(&t->x);
  free(t);
}

static void transfer_both_ways(void **state) {
  (void)state;
  transfer_run(true);
}

/* The same with every byte through the receive buffer (two copies). */
static void transfer_both_ways_buffered(void **state) {
  (void)state;
  transfer_run(false);
}


int main(int argc, char **argv) {
  if (argc > 1) mib = strtoull(argv[1], NULL, 10);
  if (mib == 0) mib = h_small() ? 1 : 8;
  const struct CMUnitTest tests[] = {cmocka_unit_test(transfer_both_ways),
                                     cmocka_unit_test(transfer_both_ways_buffered)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/* A transfer through the tou-netem proxy logic (run in this loop) with 5 %
 * loss each way and 5 % of datagrams held back 5 ms (reordered), plus a little
 * jitter: both directions complete byte-exact (SHA-256). The proxy is seeded,
 * so the impairment pattern is the same on every run. */
#include "netem.h"
#include "transfer.h"

#define BYTES_EACH_WAY (512 * 1024)

typedef struct netem_test {
  uv_loop_t loop;
  tou_endpoint_t server_ep, client_ep;
  tou_stream_t server, client;
  tou_connect_t connect;
  netem_t *proxy;
  xfer_t x;
} netem_test_t;

static netem_test_t *T;

static void on_hang(void) {
  xfer_print(&T->x);
  if (getenv("TOU_TEST_TRACE")) h_trace_dump(stderr, 400);
  netem_print_counters(T->proxy, stderr);
}

static void transfer_through_lossy_proxy(void **state) {
  (void)state;
  netem_test_t *t = calloc(1, sizeof *t);
  T = t;
  uv_loop_init(&t->loop);
  struct sockaddr_storage server_addr, client_addr, proxy_addr;
  tou_endpoint_options_t opts;
  h_options(&opts);
  opts.min_rto_ms = 50; /* loopback RTTs are tiny; keep recovery quick */
  /* Bound the exponential backoff so that an unlucky run of losses cannot
   * push one retransmission past the hang guard. */
  opts.max_rto_ms = 400;
  if (getenv("TOU_TEST_TRACE")) opts.trace = h_trace_record;
  assert_int_equal(h_endpoint(&t->loop, &t->server_ep, &opts, false, &server_addr), 0);
  assert_int_equal(h_endpoint(&t->loop, &t->client_ep, &opts, false, &client_addr), 0);
  xfer_init(&t->x, BYTES_EACH_WAY, BYTES_EACH_WAY);
  xfer_listen(&t->x, &t->server_ep, &t->server);

  netem_config_t cfg;
  netem_config_default(&cfg);
  uv_ip4_addr("127.0.0.1", 0, (struct sockaddr_in *)&cfg.listen);
  memcpy(&cfg.upstream, &server_addr, sizeof server_addr);
  cfg.seed = 42;
  for (int d = 0; d < 2; d++) {
    cfg.dir[d].loss = 0.05;
    cfg.dir[d].reorder = 0.05;
    cfg.dir[d].reorder_delay_us = 5000;
    cfg.dir[d].delay_us = 1000;
    cfg.dir[d].jitter_us = 200;
  }
  assert_int_equal(netem_start(&t->loop, &cfg, &t->proxy), 0);
  assert_int_equal(netem_getsockname(t->proxy, &proxy_addr), 0);

  xfer_connect(&t->x, &t->connect, &t->client_ep, &t->client, (const struct sockaddr *)&proxy_addr);
  h_on_hang = on_hang;
  h_run_until(&t->loop, &t->x.done, 9000);
  xfer_check(&t->x);

  netem_counters_t up, down;
  netem_get_counters(t->proxy, NETEM_UP, &up);
  netem_get_counters(t->proxy, NETEM_DOWN, &down);
  print_message("proxy: up %llu lost / %llu reordered of %llu; down %llu lost / %llu reordered of %llu\n",
                (unsigned long long)up.lost, (unsigned long long)up.reordered,
                (unsigned long long)up.received, (unsigned long long)down.lost,
                (unsigned long long)down.reordered, (unsigned long long)down.received);
  /* The impairments really happened. */
  assert_true(up.lost > 0 && down.lost > 0);
  assert_true(up.reordered > 0 && down.reordered > 0);

  netem_close(t->proxy);
  tou_handle_t *hs[] = {(tou_handle_t *)&t->client, (tou_handle_t *)&t->server,
                        (tou_handle_t *)&t->client_ep, (tou_handle_t *)&t->server_ep};
  h_close_and_drain(&t->loop, hs, 4);
  xfer_free(&t->x);
  free(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(transfer_through_lossy_proxy)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}

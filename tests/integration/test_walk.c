/* tou_endpoint_walk lists every connection of an endpoint, also those no
 * stream holds any more: a stream closed by the application whose
 * connection still finishes its close, and the TIME_WAIT record after it. */
#include "harness.h"

typedef struct walk_test {
  uv_loop_t loop;
  tou_endpoint_t server_ep, client_ep;
  struct sockaddr_storage server_addr;
  tou_stream_t server, client;
  tou_connect_t connect;
  bool connected, accepted;
  uv_timer_t poll;
  tou_endpoint_t *poll_ep;
  int poll_state;
  bool found;
} walk_test_t;

static walk_test_t *T;

typedef struct rows {
  size_t n;
  tou_stream_info_t info[8];
  tou_stream_t *stream[8];
} rows_t;

static void collect(const tou_stream_info_t *info, tou_stream_t *stream, void *arg) {
  rows_t *r = arg;
  if (r->n == 8) return;
  r->info[r->n] = *info;
  r->stream[r->n] = stream;
  r->n++;
}

static rows_t walk(tou_endpoint_t *ep) {
  rows_t r = {0};
  assert_int_equal(TOU(tou_endpoint_walk(ep, collect, &r)), 0);
  return r;
}

static void on_connect(tou_connect_t *req, int status) {
  CB_ENTER();
  (void)req;
  assert_int_equal(status, 0);
  T->connected = true;
}

static void on_connection(tou_endpoint_t *ep, int status) {
  CB_ENTER();
  assert_int_equal(status, 0);
  assert_int_equal(TOU(tou_accept(ep, &T->server)), 0);
  T->accepted = true;
}

static void on_poll(uv_timer_t *t) {
  (void)t;
  rows_t r = walk(T->poll_ep);
  for (size_t i = 0; i < r.n; i++)
    if (r.info[i].state == T->poll_state) T->found = true;
  if (T->found) uv_timer_stop(&T->poll);
}

/* Runs the loop until ep lists a connection in `state` (hang guard only). */
static void wait_for_state(tou_endpoint_t *ep, int state) {
  T->poll_ep = ep;
  T->poll_state = state;
  T->found = false;
  uv_timer_start(&T->poll, on_poll, 1, 5);
  h_run_until(&T->loop, &T->found, 5000);
}

static uint16_t port_of(const struct sockaddr_storage *ss) {
  return ntohs(((const struct sockaddr_in *)ss)->sin_port);
}

static void lists_released_and_time_wait_connections(void **state) {
  (void)state;
  walk_test_t t;
  memset(&t, 0, sizeof t);
  T = &t;
  uv_loop_init(&t.loop);
  uv_timer_init(&t.loop, &t.poll);
  assert_int_equal(h_endpoint(&t.loop, &t.server_ep, NULL, false, &t.server_addr), 0);
  struct sockaddr_storage client_addr;
  assert_int_equal(h_endpoint(&t.loop, &t.client_ep, NULL, false, &client_addr), 0);
  assert_int_equal(TOU(tou_listen(&t.server_ep, 4, on_connection)), 0);
  assert_int_equal(TOU(tou_connect(&t.connect, &t.client_ep, &t.client,
                                   (const struct sockaddr *)&t.server_addr, on_connect)),
                   0);
  h_run_until(&t.loop, &t.connected, 5000);
  h_run_until(&t.loop, &t.accepted, 5000);

  rows_t r = walk(&t.client_ep);
  assert_int_equal(r.n, 1);
  assert_ptr_equal(r.stream[0], &t.client);
  assert_int_equal(r.info[0].state, TOU_STATE_ESTABLISHED);
  uint32_t client_cid = r.info[0].conn_id, server_cid = r.info[0].peer_conn_id;
  r = walk(&t.server_ep);
  assert_int_equal(r.n, 1);
  assert_ptr_equal(r.stream[0], &t.server);

  /* The client closes its stream: the connection goes on, with no stream. */
  TOU_V(tou_close((tou_handle_t *)&t.client, NULL));
  wait_for_state(&t.client_ep, TOU_STATE_FIN_WAIT_2);
  r = walk(&t.client_ep);
  assert_int_equal(r.n, 1);
  assert_null(r.stream[0]);
  assert_int_equal(r.info[0].conn_id, client_cid);
  assert_int_equal(r.info[0].peer_conn_id, server_cid);
  assert_int_equal(port_of(&r.info[0].peer), port_of(&t.server_addr));

  /* The server closes too: the client keeps a TIME_WAIT record. */
  TOU_V(tou_close((tou_handle_t *)&t.server, NULL));
  wait_for_state(&t.client_ep, TOU_STATE_TIME_WAIT);
  r = walk(&t.client_ep);
  assert_int_equal(r.n, 1);
  assert_null(r.stream[0]);
  assert_int_equal(r.info[0].state, TOU_STATE_TIME_WAIT);
  assert_int_equal(r.info[0].conn_id, client_cid);
  assert_int_equal(r.info[0].peer_conn_id, server_cid);
  assert_int_equal(port_of(&r.info[0].peer), port_of(&t.server_addr));
  tou_endpoint_stats_t st;
  assert_int_equal(TOU(tou_endpoint_stats(&t.client_ep, &st)), 0);
  assert_int_equal(st.time_wait, 1);

  uv_close((uv_handle_t *)&t.poll, NULL);
  tou_handle_t *hs[] = {(tou_handle_t *)&t.client_ep, (tou_handle_t *)&t.server_ep};
  h_close_and_drain(&t.loop, hs, 2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(lists_released_and_time_wait_connections),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

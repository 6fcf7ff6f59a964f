/* 1,000 connections open at once on one server endpoint: every client
 * connects, sends its number, gets it echoed; only when all 1,000 are
 * established and echoed do they close. The clients share 4 endpoints (250
 * connections from each UDP address). */
#include "harness.h"

#define CONNS 1000
#define CLIENT_EPS 4

typedef struct client {
  tou_stream_t stream;
  tou_connect_t connect;
  tou_write_t write;
  char msg[16];
  size_t msg_len;
  char got[16];
  size_t got_len;
  bool echoed;
} client_t;

typedef struct server_conn {
  tou_stream_t stream;
  tou_write_t write;
  char buf[16];
  size_t len;
} server_conn_t;

typedef struct many_test {
  uv_loop_t loop;
  tou_endpoint_t server_ep, client_eps[CLIENT_EPS];
  client_t clients[CONNS];
  server_conn_t servers[CONNS];
  int accepted, connected, echoed, max_open_server_streams;
  bool all_echoed;
} many_test_t;

static many_test_t *T;

static void on_server_written(tou_write_t *req, int status) {
  CB_ENTER();
  (void)req;
  assert_int_equal(status, 0);
}

static void on_server_read(tou_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  CB_ENTER();
  server_conn_t *c = s->data;
  if (nread > 0) {
    assert_true(c->len + (size_t)nread <= sizeof c->buf);
    memcpy(c->buf + c->len, buf->base, (size_t)nread);
    c->len += (size_t)nread;
    if (memchr(c->buf, ';', c->len)) {
      uv_buf_t b = uv_buf_init(c->buf, (unsigned)c->len);
      assert_int_equal(TOU(tou_write(&c->write, s, &b, 1, on_server_written)), 0);
    }
  }
  free(buf->base);
  if (nread < 0) assert_int_equal(nread, UV_EOF);
}

static void on_connection(tou_endpoint_t *ep, int status) {
  CB_ENTER();
  assert_int_equal(status, 0);
  assert_true(T->accepted < CONNS);
  server_conn_t *c = &T->servers[T->accepted++];
  c->stream.data = c;
  assert_int_equal(TOU(tou_accept(ep, &c->stream)), 0);
  assert_ptr_equal(c->stream.data, c);
  assert_int_equal(TOU(tou_read_start(&c->stream, h_alloc, on_server_read)), 0);
  tou_endpoint_stats_t st;
  assert_int_equal(TOU(tou_endpoint_stats(ep, &st)), 0);
  if ((int)st.streams > T->max_open_server_streams) T->max_open_server_streams = (int)st.streams;
}

static void on_client_read(tou_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  CB_ENTER();
  client_t *c = s->data;
  if (nread > 0) {
    assert_true(c->got_len + (size_t)nread <= sizeof c->got);
    memcpy(c->got + c->got_len, buf->base, (size_t)nread);
    c->got_len += (size_t)nread;
    if (c->got_len == c->msg_len) {
      assert_memory_equal(c->got, c->msg, c->msg_len);
      c->echoed = true;
      T->all_echoed = ++T->echoed == CONNS;
    }
  }
  free(buf->base);
}

static void on_client_written(tou_write_t *req, int status) {
  CB_ENTER();
  (void)req;
  assert_int_equal(status, 0);
}

static void on_connect(tou_connect_t *req, int status) {
  CB_ENTER();
  assert_int_equal(status, 0);
  T->connected++;
  client_t *c = req->handle->data;
  assert_int_equal(TOU(tou_read_start(&c->stream, h_alloc, on_client_read)), 0);
}

static void thousand_connections(void **state) {
  (void)state;
  many_test_t *t = calloc(1, sizeof *t);
  T = t;
  uv_loop_init(&t->loop);
  struct sockaddr_storage server_addr, addr;
  tou_endpoint_options_t opts;
  h_options(&opts);
  opts.syn_backlog = 2 * CONNS; /* all SYNs half-open at once, none dropped */
  assert_int_equal(h_endpoint(&t->loop, &t->server_ep, &opts, false, &server_addr), 0);
  for (int i = 0; i < CLIENT_EPS; i++)
    assert_int_equal(h_endpoint(&t->loop, &t->client_eps[i], NULL, false, &addr), 0);
  assert_int_equal(TOU(tou_listen(&t->server_ep, CONNS, on_connection)), 0);
  for (int i = 0; i < CONNS; i++) {
    client_t *c = &t->clients[i];
    c->stream.data = c;
    c->msg_len = (size_t)snprintf(c->msg, sizeof c->msg, "%d;", i);
    assert_int_equal(TOU(tou_connect(&c->connect, &t->client_eps[i % CLIENT_EPS], &c->stream,
                                     (const struct sockaddr *)&server_addr, on_connect)),
                     0);
    assert_ptr_equal(c->stream.data, c);
    uv_buf_t b = uv_buf_init(c->msg, (unsigned)c->msg_len);
    assert_int_equal(TOU(tou_write(&c->write, &c->stream, &b, 1, on_client_written)), 0);
  }
  h_run_until(&t->loop, &t->all_echoed, 9000);
  assert_int_equal(t->connected, CONNS);
  assert_int_equal(t->accepted, CONNS);
  assert_int_equal(t->max_open_server_streams, CONNS);

  tou_handle_t **hs = calloc(2 * CONNS + CLIENT_EPS + 1, sizeof *hs);
  size_t n = 0;
  for (int i = 0; i < CONNS; i++) {
    hs[n++] = (tou_handle_t *)&t->clients[i].stream;
    hs[n++] = (tou_handle_t *)&t->servers[i].stream;
  }
  for (int i = 0; i < CLIENT_EPS; i++) hs[n++] = (tou_handle_t *)&t->client_eps[i];
  hs[n++] = (tou_handle_t *)&t->server_ep;
  h_close_and_drain(&t->loop, hs, n);
  free(hs);
  free(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(thousand_connections)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}

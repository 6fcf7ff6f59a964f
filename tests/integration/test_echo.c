/* Echo over loopback: a client writes messages, the server echoes every byte,
 * the client half-closes and reads the echo up to UV_EOF. IPv4 and IPv6. */
#include "harness.h"

#define MESSAGES 20

typedef struct echo_test {
  uv_loop_t loop;
  tou_endpoint_t server_ep, client_ep;
  tou_stream_t server, client;
  tou_connect_t connect;
  tou_write_t writes[MESSAGES];
  tou_shutdown_t client_shut, server_shut;
  char sent[MESSAGES * 32];
  size_t sent_len;
  char echoed[MESSAGES * 32];
  size_t echoed_len;
  int connect_status, writes_done, server_eof, client_eof, shutdowns_done, accepted;
  bool done;
} echo_test_t;

static echo_test_t *T;

typedef struct echo_write {
  tou_write_t req;
  uv_buf_t buf;
} echo_write_t;

static void on_echo_written(tou_write_t *req, int status) {
  CB_ENTER();
  assert_int_equal(status, 0);
  echo_write_t *w = (echo_write_t *)req;
  free(w->buf.base);
  free(w);
}

static void check_done(void) {
  T->done = T->client_eof && T->server_eof && T->shutdowns_done == 2 &&
            T->writes_done == MESSAGES;
}

static void on_shutdown(tou_shutdown_t *req, int status) {
  CB_ENTER();
  (void)req;
  assert_int_equal(status, 0);
  T->shutdowns_done++;
  check_done();
}

static void on_server_read(tou_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  CB_ENTER();
  if (nread > 0) {
    echo_write_t *w = malloc(sizeof *w);
    w->buf = uv_buf_init(buf->base, (unsigned)nread); /* hand the buffer over */
    assert_int_equal(TOU(tou_write(&w->req, s, &w->buf, 1, on_echo_written)), 0);
    return;
  }
  free(buf->base);
  if (nread == 0) return;
  assert_int_equal(nread, UV_EOF);
  T->server_eof = 1;
  assert_int_equal(TOU(tou_shutdown(&T->server_shut, s, on_shutdown)), 0);
  check_done();
}

static void on_connection(tou_endpoint_t *ep, int status) {
  CB_ENTER();
  assert_int_equal(status, 0);
  assert_int_equal(TOU(tou_accept(ep, &T->server)), 0);
  T->accepted++;
  assert_int_equal(TOU(tou_read_start(&T->server, h_alloc, on_server_read)), 0);
}

static void on_client_read(tou_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  CB_ENTER();
  (void)s;
  if (nread > 0) {
    assert_true(T->echoed_len + (size_t)nread <= T->sent_len);
    memcpy(T->echoed + T->echoed_len, buf->base, (size_t)nread);
    T->echoed_len += (size_t)nread;
  }
  free(buf->base);
  if (nread < 0) {
    assert_int_equal(nread, UV_EOF);
    T->client_eof = 1;
    check_done();
  }
}

static void on_client_write(tou_write_t *req, int status) {
  CB_ENTER();
  (void)req;
  assert_int_equal(status, 0);
  T->writes_done++;
  check_done();
}

static void on_connect(tou_connect_t *req, int status) {
  CB_ENTER();
  T->connect_status = status;
  assert_int_equal(status, 0);
  assert_ptr_equal(req->handle, &T->client);
  assert_int_equal(TOU(tou_read_start(&T->client, h_alloc, on_client_read)), 0);
}

static void run_echo(bool ipv6) {
  echo_test_t t;
  memset(&t, 0, sizeof t);
  T = &t;
  uv_loop_init(&t.loop);
  struct sockaddr_storage server_addr, client_addr;
  int r = h_endpoint(&t.loop, &t.server_ep, NULL, ipv6, &server_addr);
  if (ipv6 && r != 0) {
    tou_handle_t *hs[] = {(tou_handle_t *)&t.server_ep};
    h_close_and_drain(&t.loop, hs, 1);
    skip(); /* no IPv6 loopback on this machine */
  }
  assert_int_equal(r, 0);
  assert_int_equal(h_endpoint(&t.loop, &t.client_ep, NULL, ipv6, &client_addr), 0);
  assert_int_equal(TOU(tou_listen(&t.server_ep, 16, on_connection)), 0);
  assert_int_equal(TOU(tou_connect(&t.connect, &t.client_ep, &t.client,
                                   (const struct sockaddr *)&server_addr, on_connect)),
                   0);
  /* Written before the handshake completes: queued, sent once established. */
  for (int i = 0; i < MESSAGES; i++) {
    char *m = t.sent + t.sent_len;
    int n = snprintf(m, 32, "message %d;", i);
    t.sent_len += (size_t)n;
    uv_buf_t b = uv_buf_init(m, (unsigned)n);
    assert_int_equal(TOU(tou_write(&t.writes[i], &t.client, &b, 1, on_client_write)), 0);
  }
  assert_int_equal(TOU(tou_shutdown(&t.client_shut, &t.client, on_shutdown)), 0);
  /* A write after shutdown is refused at once. */
  tou_write_t late;
  uv_buf_t lb = uv_buf_init("x", 1);
  assert_int_equal(TOU(tou_write(&late, &t.client, &lb, 1, on_client_write)), UV_EPIPE);

  h_run_until(&t.loop, &t.done, 8000);
  assert_int_equal(t.accepted, 1);
  assert_int_equal(t.echoed_len, t.sent_len);
  assert_memory_equal(t.echoed, t.sent, t.sent_len);

  tou_stream_info_t info;
  assert_int_equal(TOU(tou_get_info(&t.client, &info)), 0);
  assert_int_equal(info.bytes_sent, t.sent_len);
  assert_int_equal(info.bytes_received, t.sent_len);
  assert_int_equal(TOU(tou_stream_get_write_queue_size(&t.client)), 0);

  tou_handle_t *hs[] = {(tou_handle_t *)&t.client, (tou_handle_t *)&t.server,
                        (tou_handle_t *)&t.client_ep, (tou_handle_t *)&t.server_ep};
  h_close_and_drain(&t.loop, hs, 4);
}

static void echo_ipv4(void **state) {
  (void)state;
  run_echo(false);
}

static void echo_ipv6(void **state) {
  (void)state;
  run_echo(true);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(echo_ipv4),
      cmocka_unit_test(echo_ipv6),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

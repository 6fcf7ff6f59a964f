/* Reading with the receive fast path (payload copied once, from the
 * datagram into the alloc_cb buffer): libuv's contract holds. Each
 * alloc_cb is followed by its read_cb before the next alloc_cb (the reader
 * hands out one static buffer, as examples/signal does); no read_cb while
 * reading is stopped; every byte arrives once, in order; EOF comes after
 * the last byte. */
#include "harness.h"

#define TOTAL (4u << 20)
#define STOP_AT (256u << 10)
#define SEED 7

typedef struct read_test {
  uv_loop_t loop;
  tou_endpoint_t server_ep, client_ep;
  tou_stream_t server, client;
  tou_connect_t connect;
  tou_write_t write;
  tou_shutdown_t shut;
  uv_timer_t resume;
  uint8_t *out;
  uint64_t received, allocs, reads_while_stopped;
  bool outstanding, stopped, was_stopped, eof, done;
} read_test_t;

static read_test_t *T;
static char storage[65536];
static uint8_t expect[65536];

static void on_alloc(tou_stream_t *s, size_t suggested, uv_buf_t *buf) {
  (void)s, (void)suggested;
  assert_false(T->outstanding); /* the previous buffer's read_cb ran */
  T->outstanding = true;
  T->allocs++;
  *buf = uv_buf_init(storage, sizeof storage);
}

static void on_read(tou_stream_t *s, ssize_t nread, const uv_buf_t *buf);

static void on_resume(uv_timer_t *t) {
  (void)t;
  T->stopped = false;
  assert_int_equal(TOU(tou_read_start(&T->server, on_alloc, on_read)), 0);
}

static void on_read(tou_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  CB_ENTER();
  if (buf->base) {
    assert_true(T->outstanding);
    T->outstanding = false;
  }
  if (T->stopped) T->reads_while_stopped++;
  if (nread == UV_EOF) {
    assert_int_equal(T->received, TOTAL);
    T->eof = true;
    T->done = true;
    return;
  }
  assert_true(nread >= 0);
  if (nread == 0) return;
  h_fill(SEED, T->received, expect, (size_t)nread);
  assert_memory_equal(buf->base, expect, (size_t)nread);
  T->received += (uint64_t)nread;
  if (!T->was_stopped && T->received >= STOP_AT) {
    /* Stop for a while: data keeps arriving into the receive window. */
    T->was_stopped = T->stopped = true;
    assert_int_equal(TOU(tou_read_stop(s)), 0);
    uv_timer_start(&T->resume, on_resume, 100, 0);
  }
}

static void on_connection(tou_endpoint_t *ep, int status) {
  CB_ENTER();
  assert_int_equal(status, 0);
  assert_int_equal(TOU(tou_accept(ep, &T->server)), 0);
  assert_int_equal(TOU(tou_read_start(&T->server, on_alloc, on_read)), 0);
}

static void on_shutdown(tou_shutdown_t *req, int status) {
  (void)req;
  assert_int_equal(status, 0);
}

static void on_written(tou_write_t *req, int status) {
  assert_int_equal(status, 0);
  assert_int_equal(TOU(tou_shutdown(&T->shut, req->handle, on_shutdown)), 0);
}

static void on_connect(tou_connect_t *req, int status) {
  CB_ENTER();
  assert_int_equal(status, 0);
  uv_buf_t b = uv_buf_init((char *)T->out, TOTAL);
  assert_int_equal(TOU(tou_write(&T->write, req->handle, &b, 1, on_written)), 0);
}

static void read_contract(void **state) {
  (void)state;
  read_test_t *t = calloc(1, sizeof *t);
  T = t;
  t->out = malloc(TOTAL);
  h_fill(SEED, 0, t->out, TOTAL);
  uv_loop_init(&t->loop);
  uv_timer_init(&t->loop, &t->resume);
  struct sockaddr_storage server_addr, client_addr;
  assert_int_equal(h_endpoint(&t->loop, &t->server_ep, NULL, false, &server_addr), 0);
  assert_int_equal(h_endpoint(&t->loop, &t->client_ep, NULL, false, &client_addr), 0);
  assert_int_equal(TOU(tou_listen(&t->server_ep, 4, on_connection)), 0);
  assert_int_equal(TOU(tou_connect(&t->connect, &t->client_ep, &t->client,
                                   (const struct sockaddr *)&server_addr, on_connect)),
                   0);
  h_run_until(&t->loop, &t->done, 20000);
  assert_true(t->eof);
  assert_true(t->was_stopped);
  assert_int_equal(t->reads_while_stopped, 0);
  tou_stream_info_t info;
  assert_int_equal(TOU(tou_get_info(&t->server, &info)), 0);
  print_message("%llu bytes in %llu reads: %llu direct, %llu through the receive buffer\n",
                (unsigned long long)info.bytes_received, (unsigned long long)t->allocs,
                (unsigned long long)info.bytes_received_direct,
                (unsigned long long)info.bytes_received_buffered);
  assert_int_equal(info.bytes_received, TOTAL);
  assert_true(info.bytes_received_direct > 0);
  assert_true(info.bytes_received_buffered > 0); /* what came while stopped */
  uv_close((uv_handle_t *)&t->resume, NULL);
  tou_handle_t *hs[] = {(tou_handle_t *)&t->client, (tou_handle_t *)&t->server,
                        (tou_handle_t *)&t->client_ep, (tou_handle_t *)&t->server_ep};
  h_close_and_drain(&t->loop, hs, 4);
  free(t->out);
  free(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(read_contract)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}

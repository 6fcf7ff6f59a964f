/* Several streams of one endpoint receiving at once, their datagrams
 * interleaved in the same receive batches: the receive fast path (payload
 * copied once, straight into the alloc_cb buffer) serves every stream, not
 * only the one that happened to hold a buffer first. The reader hands out
 * one static buffer shared by all the streams, so each alloc_cb must be
 * followed by its read_cb before the next alloc_cb of any stream (libuv's
 * contract). */
#include "harness.h"

#define STREAMS 8
#define TOTAL (1u << 20)
#define SEED 11

typedef struct sender {
  tou_stream_t stream;
  tou_connect_t connect;
  tou_write_t write;
  tou_shutdown_t shut;
} sender_t;

typedef struct receiver {
  tou_stream_t stream;
  uint64_t received;
  bool eof;
} receiver_t;

typedef struct read_many_test {
  uv_loop_t loop;
  tou_endpoint_t server_ep, client_ep;
  sender_t senders[STREAMS];
  receiver_t receivers[STREAMS];
  int accepted, eofs;
  uint8_t *out;
  bool outstanding, done;
} read_many_test_t;

static read_many_test_t *T;
static char storage[65536];
static uint8_t expect[65536];

static void on_alloc(tou_stream_t *s, size_t suggested, uv_buf_t *buf) {
  (void)s, (void)suggested;
  assert_false(T->outstanding); /* the previous buffer's read_cb ran, whichever stream */
  T->outstanding = true;
  *buf = uv_buf_init(storage, sizeof storage);
}

static void on_read(tou_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  CB_ENTER();
  receiver_t *r = s->data;
  if (buf->base) {
    assert_true(T->outstanding);
    T->outstanding = false;
  }
  if (nread == UV_EOF) {
    assert_int_equal(r->received, TOTAL);
    r->eof = true;
    T->done = ++T->eofs == STREAMS;
    return;
  }
  assert_true(nread >= 0);
  h_fill(SEED, r->received, expect, (size_t)nread);
  assert_memory_equal(buf->base, expect, (size_t)nread);
  r->received += (uint64_t)nread;
}

static void on_connection(tou_endpoint_t *ep, int status) {
  CB_ENTER();
  assert_int_equal(status, 0);
  assert_true(T->accepted < STREAMS);
  receiver_t *r = &T->receivers[T->accepted++];
  r->stream.data = r;
  assert_int_equal(TOU(tou_accept(ep, &r->stream)), 0);
  assert_int_equal(TOU(tou_read_start(&r->stream, on_alloc, on_read)), 0);
}

static void on_shutdown(tou_shutdown_t *req, int status) {
  (void)req;
  assert_int_equal(status, 0);
}

static void on_written(tou_write_t *req, int status) {
  assert_int_equal(status, 0);
  sender_t *snd = req->handle->data;
  assert_int_equal(TOU(tou_shutdown(&snd->shut, req->handle, on_shutdown)), 0);
}

static void on_connect(tou_connect_t *req, int status) {
  CB_ENTER();
  assert_int_equal(status, 0);
  uv_buf_t b = uv_buf_init((char *)T->out, TOTAL);
  sender_t *snd = req->handle->data;
  assert_int_equal(TOU(tou_write(&snd->write, req->handle, &b, 1, on_written)), 0);
}

static void interleaved_streams_read_directly(void **state) {
  (void)state;
  read_many_test_t *t = calloc(1, sizeof *t);
  T = t;
  t->out = malloc(TOTAL);
  h_fill(SEED, 0, t->out, TOTAL);
  uv_loop_init(&t->loop);
  struct sockaddr_storage server_addr, client_addr;
  assert_int_equal(h_endpoint(&t->loop, &t->server_ep, NULL, false, &server_addr), 0);
  assert_int_equal(h_endpoint(&t->loop, &t->client_ep, NULL, false, &client_addr), 0);
  assert_int_equal(TOU(tou_listen(&t->server_ep, STREAMS, on_connection)), 0);
  for (int i = 0; i < STREAMS; i++) {
    sender_t *snd = &t->senders[i];
    snd->stream.data = snd;
    assert_int_equal(TOU(tou_connect(&snd->connect, &t->client_ep, &snd->stream,
                                     (const struct sockaddr *)&server_addr, on_connect)),
                     0);
  }
  h_run_until(&t->loop, &t->done, 30000);

  uint64_t received = 0, direct = 0, buffered = 0;
  for (int i = 0; i < STREAMS; i++) {
    tou_stream_info_t info;
    assert_int_equal(TOU(tou_get_info(&t->receivers[i].stream, &info)), 0);
    assert_int_equal(info.bytes_received, TOTAL);
    assert_int_equal(info.bytes_received_direct + info.bytes_received_buffered, TOTAL);
    received += info.bytes_received;
    direct += info.bytes_received_direct;
    buffered += info.bytes_received_buffered;
  }
  print_message("%d streams, %llu bytes: %llu direct (one copy), %llu through the receive buffer\n",
                STREAMS, (unsigned long long)received, (unsigned long long)direct,
                (unsigned long long)buffered);
  /* Every stream's reader keeps up, so only bytes arriving while that
   * stream's read_cb is due may take the buffered path. */
  assert_true(direct >= received - received / 20);

  tou_handle_t *hs[2 * STREAMS + 2];
  size_t n = 0;
  for (int i = 0; i < STREAMS; i++) {
    hs[n++] = (tou_handle_t *)&t->senders[i].stream;
    hs[n++] = (tou_handle_t *)&t->receivers[i].stream;
  }
  hs[n++] = (tou_handle_t *)&t->client_ep;
  hs[n++] = (tou_handle_t *)&t->server_ep;
  h_close_and_drain(&t->loop, hs, n);
  free(t->out);
  free(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(interleaved_streams_read_directly)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}

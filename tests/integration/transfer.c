#include "transfer.h"

static xfer_side_t *side_of(tou_stream_t *s) { return s->data; }

/* Prints what both sides had done (and the trace with TOU_TEST_TRACE=1)
 * before failing on an unexpected status. */
static void expect_ok(xfer_t *x, const char *what, int status) {
  if (status == 0) return;
  xfer_print(x);
  if (getenv("TOU_TEST_TRACE")) h_trace_dump(stderr, 300);
  fail_msg("%s: %s", what, uv_err_name(status));
}

static void check_done(xfer_t *x) {
  x->done = x->side[0].shut_done && x->side[1].shut_done && x->side[0].eof && x->side[1].eof;
}

static void on_shutdown(tou_shutdown_t *req, int status) {
  CB_ENTER();
  if (status != 0) {
    xfer_print(((xfer_side_t *)req->data)->x);
    if (getenv("TOU_TEST_TRACE")) h_trace_dump(stderr, 400);
  }
  assert_int_equal(status, 0);
  xfer_side_t *sd = req->data;
  sd->shut_done = true;
  check_done(sd->x);
}

static void pump_writes(xfer_side_t *sd);

static void on_written(tou_write_t *req, int status) {
  CB_ENTER();
  xfer_side_t *sd = side_of(req->handle);
  expect_ok(sd->x, "write", status);
  int slot = (int)(req - sd->writes);
  sd->busy[slot] = false;
  sd->written += req->data ? (uint64_t)(uintptr_t)req->data : 0;
  pump_writes(sd);
}

static void pump_writes(xfer_side_t *sd) {
  for (int i = 0; i < XFER_WRITES_IN_FLIGHT && sd->queued < sd->to_send; i++) {
    if (sd->busy[i]) continue;
    size_t n = sd->to_send - sd->queued < XFER_CHUNK ? (size_t)(sd->to_send - sd->queued)
                                                      : XFER_CHUNK;
    h_fill(sd->seed, sd->queued, sd->bufs[i], n);
    crypto_hash_sha256_update(&sd->sent_hash, sd->bufs[i], n);
    sd->busy[i] = true;
    sd->writes[i].data = (void *)(uintptr_t)n;
    uv_buf_t b = uv_buf_init((char *)sd->bufs[i], (unsigned)n);
    assert_int_equal(TOU(tou_write(&sd->writes[i], sd->stream, &b, 1, on_written)), 0);
    sd->queued += n;
  }
  if (sd->queued == sd->to_send && sd->written == sd->to_send && !sd->shut.handle) {
    sd->shut.data = sd;
    assert_int_equal(TOU(tou_shutdown(&sd->shut, sd->stream, on_shutdown)), 0);
  }
}

static void on_read(tou_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  CB_ENTER();
  xfer_side_t *sd = side_of(s);
  if (nread > 0) {
    crypto_hash_sha256_update(&sd->recv_hash, (const uint8_t *)buf->base, (size_t)nread);
    sd->received += (uint64_t)nread;
  }
  free(buf->base);
  if (nread < 0) {
    if (nread != UV_EOF) expect_ok(sd->x, "read", (int)nread);
    sd->eof = true;
    check_done(sd->x);
  }
}

static void on_connection(tou_endpoint_t *ep, int status) {
  CB_ENTER();
  assert_int_equal(status, 0);
  xfer_t *x = ep->data;
  assert_int_equal(TOU(tou_accept(ep, x->accept_into)), 0);
  xfer_start(x, 1, x->accept_into);
}

static void on_connect(tou_connect_t *req, int status) {
  CB_ENTER();
  xfer_t *x = req->data;
  expect_ok(x, "connect", status);
  xfer_start(x, 0, req->handle);
}

void xfer_listen(xfer_t *x, tou_endpoint_t *ep, tou_stream_t *server) {
  x->accept_into = server;
  ep->data = x;
  assert_int_equal(TOU(tou_listen(ep, 4, on_connection)), 0);
}

void xfer_connect(xfer_t *x, tou_connect_t *req, tou_endpoint_t *ep, tou_stream_t *client,
                  const struct sockaddr *addr) {
  req->data = x;
  assert_int_equal(TOU(tou_connect(req, ep, client, addr, on_connect)), 0);
}

void xfer_init(xfer_t *x, uint64_t a_to_b, uint64_t b_to_a) {
  assert_true(sodium_init() >= 0);
  memset(x, 0, sizeof *x);
  for (int i = 0; i < 2; i++) {
    xfer_side_t *sd = &x->side[i];
    sd->x = x;
    sd->seed = 1000 + (uint64_t)i;
    sd->to_send = i == 0 ? a_to_b : b_to_a;
    crypto_hash_sha256_init(&sd->sent_hash);
    crypto_hash_sha256_init(&sd->recv_hash);
    for (int j = 0; j < XFER_WRITES_IN_FLIGHT; j++) sd->bufs[j] = malloc(XFER_CHUNK);
  }
}

void xfer_start(xfer_t *x, int side, tou_stream_t *stream) {
  xfer_side_t *sd = &x->side[side];
  sd->stream = stream;
  stream->data = sd;
  assert_int_equal(TOU(tou_read_start(stream, h_alloc, on_read)), 0);
  pump_writes(sd);
}

void xfer_check(xfer_t *x) {
  for (int i = 0; i < 2; i++) {
    xfer_side_t *from = &x->side[i], *to = &x->side[1 - i];
    assert_int_equal(to->received, from->to_send);
    crypto_hash_sha256_final(&from->sent_hash, from->sent_digest);
    crypto_hash_sha256_final(&to->recv_hash, to->recv_digest);
    assert_memory_equal(from->sent_digest, to->recv_digest, 32);
  }
}

void xfer_free(xfer_t *x) {
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < XFER_WRITES_IN_FLIGHT; j++) free(x->side[i].bufs[j]);
}

void xfer_print(const xfer_t *x) {
  for (int i = 0; i < 2; i++) {
    const xfer_side_t *sd = &x->side[i];
    tou_stream_info_t info;
    memset(&info, 0, sizeof info);
    if (sd->stream) tou_get_info(sd->stream, &info);
    print_message("side %d: queued %llu/%llu written %llu received %llu eof %d shut %d | state %s "
                  "rtt %u rto %u cwnd %u ssthresh %u flight %u sndwnd %u rcvwnd %u segs %llu/%llu "
                  "retx %llu timeouts %llu sendq %zu space %zu\n",
                  i, (unsigned long long)sd->queued, (unsigned long long)sd->to_send,
                  (unsigned long long)sd->written, (unsigned long long)sd->received, sd->eof,
                  sd->shut_done, tou_stream_state_name(info.state), info.rtt_us, info.rto_us,
                  info.cwnd, info.ssthresh, info.bytes_in_flight, info.snd_wnd, info.rcv_wnd,
                  (unsigned long long)info.segs_sent, (unsigned long long)info.segs_received,
                  (unsigned long long)info.segs_retransmitted, (unsigned long long)info.timeouts,
                  info.send_queued, info.send_space);
  }
}

/* Every error path returns its libuv code: refused, timed out, version
 * rejected, reset by the peer, write after shutdown, end of stream, requests
 * cancelled by close, close during connect, abort. */
#include "harness.h"
#include "wire.h" /* tou_crc32c, to build a version reject */

typedef struct pair {
  uv_loop_t loop;
  tou_endpoint_t server_ep, client_ep;
  struct sockaddr_storage server_addr, client_addr;
  tou_stream_t server, client;
  tou_connect_t connect;
  int connect_status;
  bool connect_done, accepted;
  bool done;
  int read_status;  /* first negative nread seen by the client */
  int server_read_status;
} pair_t;

static pair_t *P;

static void on_connect(tou_connect_t *req, int status) {
  CB_ENTER();
  (void)req;
  P->connect_status = status;
  P->connect_done = true;
}

static void on_connection(tou_endpoint_t *ep, int status) {
  CB_ENTER();
  assert_int_equal(status, 0);
  assert_int_equal(TOU(tou_accept(ep, &P->server)), 0);
  P->accepted = true;
}

static void pair_open(pair_t *p, bool listen, const tou_endpoint_options_t *client_opts) {
  memset(p, 0, sizeof *p);
  P = p;
  uv_loop_init(&p->loop);
  assert_int_equal(h_endpoint(&p->loop, &p->server_ep, NULL, false, &p->server_addr), 0);
  assert_int_equal(h_endpoint(&p->loop, &p->client_ep, client_opts, false, &p->client_addr), 0);
  if (listen) assert_int_equal(TOU(tou_listen(&p->server_ep, 4, on_connection)), 0);
}

static bool both_ready;
static void connect_and_accept(pair_t *p) {
  assert_int_equal(TOU(tou_connect(&p->connect, &p->client_ep, &p->client,
                                   (const struct sockaddr *)&p->server_addr, on_connect)),
                   0);
  h_run_until(&p->loop, &p->connect_done, 5000);
  assert_int_equal(p->connect_status, 0);
  h_run_until(&p->loop, &p->accepted, 5000);
  both_ready = true;
}

static void pair_close(pair_t *p, bool client_open, bool server_open) {
  tou_handle_t *hs[] = {client_open ? (tou_handle_t *)&p->client : NULL,
                        server_open && p->accepted ? (tou_handle_t *)&p->server : NULL,
                        (tou_handle_t *)&p->client_ep, (tou_handle_t *)&p->server_ep};
  h_close_and_drain(&p->loop, hs, 4);
}

/* The peer has a tou endpoint but does not listen: it answers RST. */
static void connect_refused(void **state) {
  (void)state;
  pair_t p;
  pair_open(&p, false, NULL);
  assert_int_equal(TOU(tou_connect(&p.connect, &p.client_ep, &p.client,
                                   (const struct sockaddr *)&p.server_addr, on_connect)),
                   0);
  h_run_until(&p.loop, &p.connect_done, 5000);
  assert_int_equal(p.connect_status, UV_ECONNREFUSED);
  pair_close(&p, true, false);
}

static void discard_alloc(uv_handle_t *h, size_t s, uv_buf_t *b) {
  (void)h, (void)s;
  static char sink[65536];
  *b = uv_buf_init(sink, sizeof sink);
}
static void discard_recv(uv_udp_t *u, ssize_t n, const uv_buf_t *b, const struct sockaddr *a,
                         unsigned f) {
  (void)u, (void)n, (void)b, (void)a, (void)f;
}

/* A UDP port that swallows everything: the SYN retries run out. */
static void connect_timed_out(void **state) {
  (void)state;
  tou_endpoint_options_t o;
  h_options(&o);
  o.syn_retries = 2;
  o.initial_rto_ms = 50;
  o.min_rto_ms = 50;
  pair_t p;
  pair_open(&p, false, &o);
  uv_udp_t silent;
  struct sockaddr_in any;
  uv_ip4_addr("127.0.0.1", 0, &any);
  uv_udp_init(&p.loop, &silent);
  assert_int_equal(uv_udp_bind(&silent, (const struct sockaddr *)&any, 0), 0);
  uv_udp_recv_start(&silent, discard_alloc, discard_recv);
  struct sockaddr_storage silent_addr;
  int len = sizeof silent_addr;
  uv_udp_getsockname(&silent, (struct sockaddr *)&silent_addr, &len);
  assert_int_equal(TOU(tou_connect(&p.connect, &p.client_ep, &p.client,
                                   (const struct sockaddr *)&silent_addr, on_connect)),
                   0);
  h_run_until(&p.loop, &p.connect_done, 8000);
  assert_int_equal(p.connect_status, UV_ETIMEDOUT);
  uv_close((uv_handle_t *)&silent, NULL);
  pair_close(&p, true, false);
}

/* A UDP port whose endpoint speaks only "version 2": it answers each
 * datagram with a version reject (PROTOCOL.md 6) naming the sender's cid. */
typedef struct rejecter {
  uv_udp_t udp;
  uv_udp_send_t req;
  uint8_t out[TOU_WIRE_VREJECT_HEADER_LEN + 1];
  bool sending;
} rejecter_t;

static void rejecter_sent(uv_udp_send_t *req, int status) {
  (void)status;
  ((rejecter_t *)req->data)->sending = false;
}

static void rejecter_recv(uv_udp_t *u, ssize_t n, const uv_buf_t *b, const struct sockaddr *a,
                          unsigned f) {
  (void)f;
  rejecter_t *r = u->data;
  if (n < 12 || a == NULL || r->sending) return;
  const uint8_t *in = (const uint8_t *)b->base;
  memset(r->out, 0, sizeof r->out);
  r->out[1] = 1;
  memcpy(r->out + 4, in + 8, 4); /* destination: the rejected datagram's source cid */
  memcpy(r->out + 8, in + 4, 4);
  r->out[TOU_WIRE_VREJECT_HEADER_LEN] = 2;
  uint32_t crc = tou_crc32c(0, r->out, sizeof r->out);
  for (int i = 0; i < 4; i++) r->out[12 + i] = (uint8_t)(crc >> (24 - 8 * i));
  uv_buf_t ob = uv_buf_init((char *)r->out, sizeof r->out);
  r->req.data = r;
  r->sending = uv_udp_send(&r->req, u, &ob, 1, a, rejecter_sent) == 0;
}

/* The peer's endpoint speaks another protocol version: the connect fails
 * with UV_EPROTONOSUPPORT (not UV_ETIMEDOUT after the SYN retries). */
static void connect_version_rejected(void **state) {
  (void)state;
  pair_t p;
  pair_open(&p, false, NULL);
  rejecter_t r;
  memset(&r, 0, sizeof r);
  struct sockaddr_in any;
  uv_ip4_addr("127.0.0.1", 0, &any);
  uv_udp_init(&p.loop, &r.udp);
  r.udp.data = &r;
  assert_int_equal(uv_udp_bind(&r.udp, (const struct sockaddr *)&any, 0), 0);
  uv_udp_recv_start(&r.udp, discard_alloc, rejecter_recv);
  struct sockaddr_storage addr;
  int len = sizeof addr;
  uv_udp_getsockname(&r.udp, (struct sockaddr *)&addr, &len);
  assert_int_equal(TOU(tou_connect(&p.connect, &p.client_ep, &p.client,
                                   (const struct sockaddr *)&addr, on_connect)),
                   0);
  h_run_until(&p.loop, &p.connect_done, 5000);
  assert_int_equal(p.connect_status, UV_EPROTONOSUPPORT);
  uv_close((uv_handle_t *)&r.udp, NULL);
  pair_close(&p, true, false);
}

static void on_client_read(tou_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  CB_ENTER();
  (void)s;
  free(buf->base);
  if (nread < 0 && P->read_status == 0) {
    P->read_status = (int)nread;
    P->done = true;
  }
}

/* The peer aborts: our reads end with UV_ECONNRESET, our writes fail. */
static void reset_by_peer(void **state) {
  (void)state;
  pair_t p;
  pair_open(&p, true, NULL);
  connect_and_accept(&p);
  assert_int_equal(TOU(tou_read_start(&p.client, h_alloc, on_client_read)), 0);
  assert_int_equal(TOU(tou_abort(&p.server)), 0);
  /* The aborted stream is unusable but still needs tou_close. */
  uv_buf_t b = uv_buf_init("x", 1);
  tou_write_t w;
  assert_int_equal(TOU(tou_write(&w, &p.server, &b, 1, NULL)), UV_ENOTCONN);
  h_run_until(&p.loop, &p.done, 5000);
  assert_int_equal(p.read_status, UV_ECONNRESET);
  /* Writing to a reset connection reports the reset. */
  assert_int_equal(TOU(tou_write(&w, &p.client, &b, 1, NULL)), UV_ECONNRESET);
  pair_close(&p, true, true);
}

/* The peer half-closes: reads end with UV_EOF; we can still write, and
 * after our own shutdown writing gives UV_EPIPE. */
static int shutdown_status = 1;
static void on_shutdown(tou_shutdown_t *req, int status) {
  CB_ENTER();
  (void)req;
  shutdown_status = status;
}

static void eof_and_epipe(void **state) {
  (void)state;
  pair_t p;
  pair_open(&p, true, NULL);
  connect_and_accept(&p);
  assert_int_equal(TOU(tou_read_start(&p.client, h_alloc, on_client_read)), 0);
  tou_shutdown_t sreq;
  shutdown_status = 1;
  assert_int_equal(TOU(tou_shutdown(&sreq, &p.server, on_shutdown)), 0);
  assert_int_equal(TOU(tou_shutdown(&sreq, &p.server, on_shutdown)), UV_EALREADY);
  h_run_until(&p.loop, &p.done, 5000);
  assert_int_equal(p.read_status, UV_EOF);
  uv_buf_t b = uv_buf_init("after eof", 9);
  assert_int_equal(TOU(tou_try_write(&p.client, &b, 1)), 9); /* the other direction is open */
  tou_write_t w;
  assert_int_equal(TOU(tou_write(&w, &p.server, &b, 1, NULL)), UV_EPIPE);
  assert_int_equal(TOU(tou_try_write(&p.server, &b, 1)), UV_EPIPE);
  bool fin_acked = false;
  while (shutdown_status == 1) uv_run(&p.loop, UV_RUN_ONCE);
  fin_acked = shutdown_status == 0;
  assert_true(fin_acked);
  pair_close(&p, true, true);
}

/* Closing a stream with writes the core has not taken: they complete with
 * UV_ECANCELED, every request callback before the close callback. */
static int write_ok, write_cancelled, write_other, closes;
static bool close_seen_before_write;
static void on_counted_write(tou_write_t *req, int status) {
  CB_ENTER();
  (void)req;
  if (closes) close_seen_before_write = true;
  if (status == 0) write_ok++;
  else if (status == UV_ECANCELED) write_cancelled++;
  else write_other++;
}

static void close_cancels_writes(void **state) {
  (void)state;
  tou_endpoint_options_t o;
  h_options(&o);
  o.send_buffer = 16384;
  pair_t p;
  pair_open(&p, true, &o);
  connect_and_accept(&p);
  enum { N = 64, SIZE = 8192 };
  static tou_write_t reqs[N];
  static char data[SIZE];
  write_ok = write_cancelled = write_other = closes = 0;
  close_seen_before_write = false;
  for (int i = 0; i < N; i++) {
    uv_buf_t b = uv_buf_init(data, SIZE);
    assert_int_equal(TOU(tou_write(&reqs[i], &p.client, &b, 1, on_counted_write)), 0);
  }
  assert_true(TOU(tou_stream_get_write_queue_size(&p.client)) > 0);
  p.client.data = &closes;
  TOU_V(tou_close((tou_handle_t *)&p.client, h_count_close));
  bool closed = false;
  while (!closed) {
    uv_run(&p.loop, UV_RUN_ONCE);
    closed = closes == 1;
  }
  assert_false(close_seen_before_write);
  assert_int_equal(write_ok + write_cancelled, N);
  assert_int_equal(write_other, 0);
  assert_true(write_cancelled > 0);
  assert_true(write_ok > 0); /* the first ones fit in the send buffer */
  pair_close(&p, false, true);
}

/* Closing during the handshake cancels the connect request. */
static void close_during_connect(void **state) {
  (void)state;
  pair_t p;
  pair_open(&p, true, NULL);
  assert_int_equal(TOU(tou_connect(&p.connect, &p.client_ep, &p.client,
                                   (const struct sockaddr *)&p.server_addr, on_connect)),
                   0);
  closes = 0;
  p.client.data = &closes;
  TOU_V(tou_close((tou_handle_t *)&p.client, h_count_close));
  assert_false(p.connect_done); /* never from inside tou_close */
  h_run_until(&p.loop, &p.connect_done, 5000);
  assert_int_equal(p.connect_status, UV_ECANCELED);
  while (closes == 0) uv_run(&p.loop, UV_RUN_ONCE);
  /* Let the server see (and drop) whatever arrived; do not accept. */
  pair_close(&p, false, false);
}

/* Closing the endpoint closes its streams, their requests cancelled. */
static void endpoint_close_closes_streams(void **state) {
  (void)state;
  pair_t p;
  pair_open(&p, true, NULL);
  connect_and_accept(&p);
  write_ok = write_cancelled = write_other = closes = 0;
  tou_shutdown_t sreq;
  shutdown_status = 1;
  assert_int_equal(TOU(tou_shutdown(&sreq, &p.client, on_shutdown)), 0);
  p.client.data = &closes;
  tou_handle_t *hs[] = {(tou_handle_t *)&p.server, (tou_handle_t *)&p.client_ep,
                        (tou_handle_t *)&p.server_ep};
  h_close_and_drain(&p.loop, hs, 3);
  assert_int_equal(shutdown_status, UV_ECANCELED);
}

/* Closing a stream and then its endpoint from inside a read callback: no
 * callback runs inside either call, the stream's close callback comes before
 * the endpoint's, and the FIN still leaves (the peer reads UV_EOF). */
static int close_order[2], close_count;
static void on_ordered_close(tou_handle_t *h) {
  CB_ENTER();
  close_order[close_count++] = h->type;
}

static void on_server_read_then_close(tou_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  CB_ENTER();
  free(buf->base);
  if (nread <= 0) return;
  TOU_V(tou_close((tou_handle_t *)s, on_ordered_close));
  TOU_V(tou_close((tou_handle_t *)&P->server_ep, on_ordered_close));
  assert_int_equal(close_count, 0);
}

static void close_from_callbacks(void **state) {
  (void)state;
  pair_t p;
  pair_open(&p, true, NULL);
  connect_and_accept(&p);
  close_count = 0;
  assert_int_equal(TOU(tou_read_start(&p.server, h_alloc, on_server_read_then_close)), 0);
  assert_int_equal(TOU(tou_read_start(&p.client, h_alloc, on_client_read)), 0);
  uv_buf_t b = uv_buf_init("x", 1);
  assert_int_equal(TOU(tou_try_write(&p.client, &b, 1)), 1);
  h_run_until(&p.loop, &p.done, 5000);
  assert_int_equal(p.read_status, UV_EOF);
  while (close_count < 2) uv_run(&p.loop, UV_RUN_ONCE);
  assert_int_equal(close_order[0], TOU_HANDLE_STREAM);
  assert_int_equal(close_order[1], TOU_HANDLE_ENDPOINT);
  tou_handle_t *hs[] = {(tou_handle_t *)&p.client, (tou_handle_t *)&p.client_ep};
  h_close_and_drain(&p.loop, hs, 2);
}

/* Options: an unknown congestion control is refused; options the core does
 * not take per stream say UV_ENOTSUP instead of being ignored. */
static void options_are_checked(void **state) {
  (void)state;
  uv_loop_t loop;
  uv_loop_init(&loop);
  tou_endpoint_options_t o;
  h_options(&o);
  o.congestion_control = "bogus";
  tou_endpoint_t bad;
  memset(&bad, 0, sizeof bad);
  assert_int_equal(TOU(tou_endpoint_init(&loop, &bad, &o)), UV_EINVAL);
  /* RFC 5482 knobs reach the core: defaults as documented, and limits
   * that contradict each other are refused. */
  h_options(&o);
  tou_endpoint_options_t d;
  tou_endpoint_options_init(&d);
  assert_int_equal(d.user_timeout_ms, 0);
  assert_int_equal(d.user_timeout_accept, 0);
  assert_int_equal(d.user_timeout_min_ms, 100000);
  assert_int_equal(d.user_timeout_max_ms, 3600000);
  o.user_timeout_accept = 1;
  o.user_timeout_min_ms = 5000;
  o.user_timeout_max_ms = 4000;
  memset(&bad, 0, sizeof bad);
  assert_int_equal(TOU(tou_endpoint_init(&loop, &bad, &o)), UV_EINVAL);

  pair_t p;
  tou_endpoint_options_t reno;
  h_options(&reno);
  reno.congestion_control = "newreno";
  pair_open(&p, true, &reno);
  connect_and_accept(&p);
  tou_stream_info_t info;
  assert_int_equal(TOU(tou_get_info(&p.client, &info)), 0);
  assert_string_equal(info.congestion_control, "newreno");
  assert_int_equal(info.state, TOU_STATE_ESTABLISHED);
  assert_string_equal(TOU(tou_stream_state_name(info.state)), "ESTABLISHED");
  assert_int_equal(TOU(tou_stream_nodelay(&p.client, 1)), UV_ENOTSUP);
  assert_int_equal(TOU(tou_stream_keepalive(&p.client, 1, 60)), 0);
  assert_int_equal(TOU(tou_stream_user_timeout(&p.client, 1000)), 0);
  assert_int_equal(TOU(tou_stream_link_probe(&p.client, 1000, 5000)), 0);
  assert_int_equal(TOU(tou_stream_buffer_sizes(&p.client, 1000, 1000)), UV_ENOTSUP);
  assert_int_equal(TOU(tou_stream_congestion_control(&p.client, "cubic")), UV_ENOTSUP);
  assert_int_equal(TOU(tou_stream_set_link_cb(&p.client, NULL)), 0);
  tou_endpoint_stats_t st;
  assert_int_equal(TOU(tou_endpoint_stats(&p.server_ep, &st)), 0);
  assert_int_equal(st.streams, 1);
  assert_true(st.datagrams_received > 0 && st.datagrams_sent > 0);
  assert_true(st.socket_rcvbuf > 0);
  pair_close(&p, true, true);
  assert_int_equal(uv_loop_close(&loop), 0);
}

/* RFC 5482 through the public API: the client's endpoint default is
 * announced in its SYN and adopted by a server that accepts announcements;
 * the server's explicit per-stream setting is announced back. */
static void user_timeout_announced(void **state) {
  (void)state;
  pair_t p;
  memset(&p, 0, sizeof p);
  P = &p;
  uv_loop_init(&p.loop);
  tou_endpoint_options_t so, co;
  h_options(&so);
  so.user_timeout_accept = 1;
  h_options(&co);
  co.user_timeout_ms = 300000;
  assert_int_equal(h_endpoint(&p.loop, &p.server_ep, &so, false, &p.server_addr), 0);
  assert_int_equal(h_endpoint(&p.loop, &p.client_ep, &co, false, &p.client_addr), 0);
  assert_int_equal(TOU(tou_listen(&p.server_ep, 4, on_connection)), 0);
  connect_and_accept(&p);
  tou_stream_info_t si, ci;
  assert_int_equal(TOU(tou_get_info(&p.server, &si)), 0);
  assert_int_equal(si.peer_user_timeout_ms, 300000);
  assert_int_equal(si.user_timeout_ms, 300000);
  assert_int_equal(TOU(tou_stream_user_timeout(&p.server, 200000)), 0);
  for (int i = 0; i < 200; i++) {
    assert_int_equal(TOU(tou_get_info(&p.client, &ci)), 0);
    if (ci.peer_user_timeout_ms == 200000) break;
    uv_run(&p.loop, UV_RUN_ONCE);
  }
  assert_int_equal(ci.peer_user_timeout_ms, 200000);
  assert_int_equal(ci.user_timeout_ms, 300000); /* the client does not accept */
  pair_close(&p, true, true);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(connect_refused),
      cmocka_unit_test(connect_timed_out),
      cmocka_unit_test(connect_version_rejected),
      cmocka_unit_test(reset_by_peer),
      cmocka_unit_test(eof_and_epipe),
      cmocka_unit_test(close_cancels_writes),
      cmocka_unit_test(close_during_connect),
      cmocka_unit_test(endpoint_close_closes_streams),
      cmocka_unit_test(close_from_callbacks),
      cmocka_unit_test(options_are_checked),
      cmocka_unit_test(user_timeout_announced),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

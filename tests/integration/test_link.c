/* Link probing through a blackout: the proxy drops everything both ways for
 * 1.5 s while the client keeps writing. The client's link-state callback
 * reports SILENT, then BACK; every message written during the blackout
 * arrives once, in order, after it. */
#include "netem.h"
#include "harness.h"

#define MESSAGES 25

typedef struct link_test {
  uv_loop_t loop;
  tou_endpoint_t server_ep, client_ep;
  tou_stream_t server, client;
  tou_connect_t connect;
  tou_write_t writes[MESSAGES];
  char msgs[MESSAGES][8];
  uv_timer_t writer;
  netem_t *proxy;
  int written;
  char got[MESSAGES * 8];
  size_t got_len, want_len;
  int states[8];
  int nstates;
  bool done;
  bool per_stream; /* tou_stream_link_probe() on each stream, else endpoint options */
} link_test_t;

static link_test_t *T;

static void check_done(void) {
  T->done = T->got_len == T->want_len && T->written == MESSAGES && T->nstates >= 2 &&
            T->states[T->nstates - 1] == TOU_LINK_BACK;
}

static void on_link(tou_stream_t *s, int state) {
  CB_ENTER();
  (void)s;
  if (T->nstates < 8) T->states[T->nstates++] = state;
  check_done();
}

static void on_server_read(tou_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  CB_ENTER();
  (void)s;
  if (nread > 0) {
    assert_true(T->got_len + (size_t)nread <= sizeof T->got);
    memcpy(T->got + T->got_len, buf->base, (size_t)nread);
    T->got_len += (size_t)nread;
    check_done();
  }
  free(buf->base);
}

static void on_connection(tou_endpoint_t *ep, int status) {
  CB_ENTER();
  assert_int_equal(status, 0);
  assert_int_equal(TOU(tou_accept(ep, &T->server)), 0);
  assert_int_equal(TOU(tou_read_start(&T->server, h_alloc, on_server_read)), 0);
  if (T->per_stream) assert_int_equal(TOU(tou_stream_link_probe(&T->server, 100, 400)), 0);
}

static void on_write_tick(uv_timer_t *t) {
  if (T->written == MESSAGES) {
    uv_timer_stop(t);
    return;
  }
  uv_buf_t b = uv_buf_init(T->msgs[T->written], (unsigned)strlen(T->msgs[T->written]));
  assert_int_equal(TOU(tou_write(&T->writes[T->written], &T->client, &b, 1, NULL)), 0);
  T->written++;
}

static void on_connect(tou_connect_t *req, int status) {
  CB_ENTER();
  assert_int_equal(status, 0);
  if (T->per_stream) assert_int_equal(TOU(tou_stream_link_probe(req->handle, 100, 400)), 0);
  assert_int_equal(TOU(tou_stream_set_link_cb(req->handle, on_link)), 0);
  uv_timer_start(&T->writer, on_write_tick, 0, 100);
}

static void run_blackout(bool per_stream) {
  link_test_t *t = calloc(1, sizeof *t);
  T = t;
  t->per_stream = per_stream;
  uv_loop_init(&t->loop);
  struct sockaddr_storage server_addr, client_addr, proxy_addr;
  tou_endpoint_options_t opts;
  h_options(&opts);
  if (!per_stream) {
    opts.link_probe_idle_ms = 100;
    opts.link_probe_silent_ms = 400;
  }
  opts.min_rto_ms = 50;
  opts.max_rto_ms = 400;
  assert_int_equal(h_endpoint(&t->loop, &t->server_ep, &opts, false, &server_addr), 0);
  assert_int_equal(h_endpoint(&t->loop, &t->client_ep, &opts, false, &client_addr), 0);
  assert_int_equal(TOU(tou_listen(&t->server_ep, 4, on_connection)), 0);
  netem_config_t cfg;
  netem_config_default(&cfg);
  uv_ip4_addr("127.0.0.1", 0, (struct sockaddr_in *)&cfg.listen);
  memcpy(&cfg.upstream, &server_addr, sizeof server_addr);
  for (int d = 0; d < 2; d++) {
    cfg.dir[d].blackout[0] = (netem_blackout_t){300000, 1500000};
    cfg.dir[d].nblackouts = 1;
  }
  assert_int_equal(netem_start(&t->loop, &cfg, &t->proxy), 0);
  assert_int_equal(netem_getsockname(t->proxy, &proxy_addr), 0);
  for (int i = 0; i < MESSAGES; i++) {
    snprintf(t->msgs[i], sizeof t->msgs[i], "m%02d;", i);
    t->want_len += strlen(t->msgs[i]);
  }
  uv_timer_init(&t->loop, &t->writer);
  assert_int_equal(TOU(tou_connect(&t->connect, &t->client_ep, &t->client,
                                   (const struct sockaddr *)&proxy_addr, on_connect)),
                   0);
  h_run_until(&t->loop, &t->done, 9000);
  /* Every message once, in order. */
  char want[MESSAGES * 8];
  size_t n = 0;
  for (int i = 0; i < MESSAGES; i++) n += (size_t)sprintf(want + n, "%s", t->msgs[i]);
  assert_int_equal(t->got_len, n);
  assert_memory_equal(t->got, want, n);
  assert_true(t->nstates >= 2);
  assert_int_equal(t->states[0], TOU_LINK_SILENT);
  assert_int_equal(t->states[t->nstates - 1], TOU_LINK_BACK);
  tou_stream_info_t info;
  assert_int_equal(TOU(tou_get_info(&t->client, &info)), 0);
  assert_true(info.probes_sent > 0);
  assert_true(info.silent_since_us > 0);

  uv_close((uv_handle_t *)&t->writer, NULL);
  netem_close(t->proxy);
  tou_handle_t *hs[] = {(tou_handle_t *)&t->client, (tou_handle_t *)&t->server,
                        (tou_handle_t *)&t->client_ep, (tou_handle_t *)&t->server_ep};
  h_close_and_drain(&t->loop, hs, 4);
  free(t);
}

static void silent_then_back(void **state) {
  (void)state;
  run_blackout(true);
}

/* The same with nothing set per stream: link probing is on by default for
 * the public API, its durations endpoint options. */
static void silent_then_back_by_endpoint_options(void **state) {
  (void)state;
  run_blackout(false);
}

static void link_probe_defaults(void **state) {
  (void)state;
  tou_endpoint_options_t o;
  tou_endpoint_options_init(&o);
  assert_int_equal(o.link_probe_idle_ms, 3000);
  assert_int_equal(o.link_probe_silent_ms, 5000);
  assert_int_equal(o.link_probe_retry_ms, 60000);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(link_probe_defaults),
                                     cmocka_unit_test(silent_then_back),
                                     cmocka_unit_test(silent_then_back_by_endpoint_options)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}

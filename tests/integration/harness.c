#include "harness.h"

int h_in_tou;
void (*h_on_hang)(void);

void h_options(tou_endpoint_options_t *opts) {
  static const uint8_t seed[32] = {7, 1, 2, 3};
  tou_endpoint_options_init(opts);
  opts->seed = seed;
}

int h_endpoint(uv_loop_t *loop, tou_endpoint_t *ep, const tou_endpoint_options_t *opts,
               bool ipv6, struct sockaddr_storage *bound) {
  tou_endpoint_options_t o;
  if (!opts) {
    h_options(&o);
    opts = &o;
  }
  int r = TOU(tou_endpoint_init(loop, ep, opts));
  if (r) return r;
  struct sockaddr_storage any;
  memset(&any, 0, sizeof any);
  if (ipv6) uv_ip6_addr("::1", 0, (struct sockaddr_in6 *)&any);
  else uv_ip4_addr("127.0.0.1", 0, (struct sockaddr_in *)&any);
  r = TOU(tou_endpoint_bind(ep, (const struct sockaddr *)&any, 0));
  if (r) return r;
  int len = sizeof *bound;
  return TOU(tou_endpoint_getsockname(ep, (struct sockaddr *)bound, &len));
}

static void on_watchdog(uv_timer_t *t) { *(bool *)t->data = true; }

void h_run_until(uv_loop_t *loop, const bool *done, unsigned timeout_ms) {
  uv_timer_t watchdog;
  bool expired = false;
  uv_timer_init(loop, &watchdog);
  watchdog.data = &expired;
  timeout_ms *= h_timeout_scale();
  uv_timer_start(&watchdog, on_watchdog, timeout_ms, 0);
  while (!*done && !expired) uv_run(loop, UV_RUN_ONCE);
  uv_close((uv_handle_t *)&watchdog, NULL);
  uv_run(loop, UV_RUN_NOWAIT);
  if (expired && !*done && h_on_hang) h_on_hang();
  if (expired && !*done) fail_msg("no progress within %u ms (hang guard)", timeout_ms);
}

static int closes_pending;

static void on_drain_close(tou_handle_t *h) {
  CB_ENTER();
  (void)h;
  closes_pending--;
}

void h_close_and_drain(uv_loop_t *loop, tou_handle_t **handles, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (!handles[i]) continue;
    closes_pending++;
    TOU_V(tou_close(handles[i], on_drain_close));
  }
  uv_timer_t watchdog;
  bool expired = false;
  uv_timer_init(loop, &watchdog);
  watchdog.data = &expired;
  uv_timer_start(&watchdog, on_watchdog, 5000 * h_timeout_scale(), 0);
  uv_unref((uv_handle_t *)&watchdog);
  while (closes_pending > 0 && !expired) uv_run(loop, UV_RUN_ONCE);
  uv_close((uv_handle_t *)&watchdog, NULL);
  uv_run(loop, UV_RUN_DEFAULT);
  assert_int_equal(closes_pending, 0);
  assert_int_equal(uv_loop_close(loop), 0);
}

void h_fill(uint64_t seed, uint64_t off, uint8_t *buf, size_t len) {
  /* Byte i of the stream is a hash of (seed, i / 8): random access. */
  for (size_t i = 0; i < len; i++) {
    uint64_t pos = off + i;
    uint64_t z = seed * 0x9e3779b97f4a7c15ull + (pos >> 3) + 1;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    buf[i] = (uint8_t)(z >> ((pos & 7) * 8));
  }
}

void h_count_close(tou_handle_t *h) {
  CB_ENTER();
  if (h->data) (*(int *)h->data)++;
}

void h_alloc(tou_stream_t *s, size_t suggested, uv_buf_t *buf) {
  CB_ENTER();
  (void)s, (void)suggested;
  *buf = uv_buf_init(malloc(65536), 65536);
}

#define TRACE_RING 4096
static tou_trace_t trace_ring[TRACE_RING];
static unsigned trace_count;

void h_trace_record(void *arg, const tou_trace_t *t) {
  (void)arg;
  tou_trace_t *r = &trace_ring[trace_count++ % TRACE_RING];
  *r = *t;
  r->peer = NULL;
}

void h_trace_dump(FILE *f, unsigned last) {
  unsigned n = trace_count < TRACE_RING ? trace_count : TRACE_RING;
  if (last < n) n = last;
  for (unsigned i = trace_count - n; i < trace_count; i++) {
    const tou_trace_t *t = &trace_ring[i % TRACE_RING];
    static const char *types[] = {"state", "sent", "recv", "drop"};
    fprintf(f, "%llu ep=%p cid=%u %s %s->%s flags=%02x seq=%u ack=%u win=%u len=%zu err=%d\n",
            (unsigned long long)t->time_us, (void *)t->endpoint, t->conn_id, types[t->type],
            tou_stream_state_name(t->old_state), tou_stream_state_name(t->new_state),
            t->seg_flags, t->seq, t->ack, t->window, t->payload_len, t->error);
  }
}

bool h_small(void) {
  const char *s = getenv("TOU_TEST_SMALL");
  return s != NULL && strcmp(s, "1") == 0;
}

unsigned h_timeout_scale(void) {
  const char *s = getenv("TOU_TEST_TIMEOUT_SCALE");
  long n = s != NULL ? strtol(s, NULL, 10) : 1;
  return n < 1 ? 1 : n > 100 ? 100 : (unsigned)n;
}

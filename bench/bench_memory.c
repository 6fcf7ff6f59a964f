/* Memory per connection in the sans-I/O core, counted exactly through the
 * endpoint allocator (both endpoints in one process, datagrams handed
 * across a link with a one-way delay). Prints figures; not a test.
 *   build/bench/bench_memory [connections] [bulk MiB]
 * Figures, per connection end (both ends counted, divided by 2N):
 *   idle      established, nothing sent yet;
 *   exchanged one 1 KiB request and reply each, then idle (what a mostly
 *             idle, once active connection keeps: buffers, scoreboard);
 *   bulk      peak allocation of the sender and of the receiver during a
 *             one-way transfer over a 10 ms one-way path with default
 *             buffers (2 MiB send buffer, receive window autotuned to 4 MiB). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

#define DELAY_US 10000u
#define QMAX 65536

typedef struct counting {
  size_t live, peak;
} counting_t;

/* Each block carries its size in front, so free() can account it. */
static void *count_alloc(void *ctx, size_t size) {
  counting_t *c = ctx;
  size_t *p = malloc(size + sizeof(size_t) * 2);
  if (p == NULL) return NULL;
  p[0] = size;
  c->live += size;
  if (c->live > c->peak) c->peak = c->live;
  return p + 2;
}
static void count_free(void *ctx, void *ptr) {
  counting_t *c = ctx;
  if (ptr == NULL) return;
  size_t *p = (size_t *)ptr - 2;
  c->live -= p[0];
  free(p);
}

typedef struct dgram {
  uint64_t at;
  int to;
  size_t len;
  uint8_t b[1600];
} dgram_t;

static tou_ep_t *ep[2];
static counting_t mem[2];
static tou_addr_t addr[2] = {{.len = 1, .bytes = {'A'}}, {.len = 1, .bytes = {'B'}}};
static uint64_t now = 1000000;
static dgram_t *q;
static size_t qhead, qlen;

static void pump_out(void) {
  static uint8_t buf[2048];
  for (int i = 0; i < 2; i++) {
    tou_addr_t to;
    int n;
    while ((n = tou_ep_output(ep[i], now, &to, buf, sizeof buf)) > 0) {
      if (qlen == QMAX) continue; /* a full link drops */
      dgram_t *d = &q[(qhead + qlen++) % QMAX];
      d->at = now + DELAY_US;
      d->to = 1 - i;
      d->len = (size_t)n;
      memcpy(d->b, buf, (size_t)n);
    }
    tou_conn_t *c;
    unsigned e;
    while (tou_ep_next_event(ep[i], &c, &e)) {
    }
  }
}

/* Advances virtual time to `until`, delivering datagrams and firing timers
 * as they come due. */
static void run_until(uint64_t until) {
  for (;;) {
    pump_out();
    uint64_t next = UINT64_MAX;
    if (qlen > 0) next = q[qhead].at;
    for (int i = 0; i < 2; i++) {
      uint64_t d = tou_ep_next_deadline(ep[i]);
      if (d < next) next = d;
    }
    if (next > until) break;
    if (next > now) now = next;
    while (qlen > 0 && q[qhead].at <= now) {
      dgram_t *d = &q[qhead];
      qhead = (qhead + 1) % QMAX;
      qlen--;
      tou_ep_input(ep[d->to], now, &addr[1 - d->to], d->b, d->len);
    }
    for (int i = 0; i < 2; i++)
      if (tou_ep_next_deadline(ep[i]) <= now) tou_ep_on_timer(ep[i], now);
  }
  if (now < until) now = until;
}

static void setup(void) {
  for (int i = 0; i < 2; i++) {
    tou_config_t cfg;
    tou_config_default(&cfg);
    uint8_t seed[32] = {(uint8_t)(i + 1)};
    cfg.seed = seed;
    cfg.max_connections = 1 << 16;
    cfg.syncookies = TOU_SYNCOOKIES_NEVER;
    cfg.syn_backlog = 1 << 16;
    cfg.allocator = (tou_allocator_t){count_alloc, count_free, &mem[i]};
    ep[i] = tou_ep_new(&cfg, now);
    if (ep[i] == NULL) exit(1);
  }
  tou_ep_listen(ep[1], 1 << 16);
}

static double per_conn(size_t base0, size_t base1, int n) {
  return (double)(mem[0].live - base0 + mem[1].live - base1) / (2.0 * n);
}

static void read_all(tou_conn_t *c, size_t *got) {
  static uint8_t buf[65536];
  int k;
  while ((k = tou_conn_recv(c, now, buf, sizeof buf)) > 0) *got += (size_t)k;
}

static void many(int n) {
  tou_conn_t **a = calloc((size_t)n, sizeof *a), **b = calloc((size_t)n, sizeof *b);
  size_t base0 = mem[0].live, base1 = mem[1].live;
  for (int i = 0; i < n; i++) {
    int err;
    a[i] = tou_ep_connect(ep[0], now, &addr[1], &err);
  }
  run_until(now + 4 * DELAY_US);
  for (int i = 0; i < n; i++) b[i] = tou_ep_accept(ep[1]);
  if (b[n - 1] == NULL) {
    fprintf(stderr, "not all accepted\n");
    exit(1);
  }
  printf("idle:      %8.0f bytes per connection end (%d connections)\n", per_conn(base0, base1, n),
         n);
  static uint8_t msg[1024];
  for (int i = 0; i < n; i++) tou_conn_send(a[i], now, msg, sizeof msg);
  run_until(now + 4 * DELAY_US);
  for (int i = 0; i < n; i++) {
    size_t got = 0;
    read_all(b[i], &got);
    tou_conn_send(b[i], now, msg, sizeof msg);
  }
  run_until(now + 4 * DELAY_US);
  for (int i = 0; i < n; i++) {
    size_t got = 0;
    read_all(a[i], &got);
  }
  run_until(now + 1000000); /* delayed ACKs out, everything settled */
  printf("exchanged: %8.0f bytes per connection end (1 KiB each way, then idle)\n",
         per_conn(base0, base1, n));
  for (int i = 0; i < n; i++) {
    tou_conn_abort(a[i], now);
    tou_conn_abort(b[i], now);
  }
  run_until(now + 4 * DELAY_US);
  free(a);
  free(b);
}

static void bulk(size_t mib) {
  size_t base0 = mem[0].live, base1 = mem[1].live;
  int err;
  tou_conn_t *a = tou_ep_connect(ep[0], now, &addr[1], &err);
  run_until(now + 4 * DELAY_US);
  tou_conn_t *b = tou_ep_accept(ep[1]);
  mem[0].peak = mem[0].live;
  mem[1].peak = mem[1].live;
  static uint8_t buf[65536];
  size_t total = mib << 20, sent = 0, got = 0;
  while (got < total) {
    while (sent < total) {
      int k = tou_conn_send(a, now, buf, total - sent < sizeof buf ? total - sent : sizeof buf);
      if (k <= 0) break;
      sent += (size_t)k;
    }
    run_until(now + 1000);
    read_all(b, &got);
  }
  printf("bulk:      sender peak %8.0f bytes, receiver peak %8.0f bytes (%zu MiB, 20 ms RTT)\n",
         (double)(mem[0].peak - base0), (double)(mem[1].peak - base1), mib);
  tou_conn_abort(a, now);
  tou_conn_abort(b, now);
  run_until(now + 4 * DELAY_US);
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 1000;
  size_t mib = argc > 2 ? (size_t)atoi(argv[2]) : 64;
  q = calloc(QMAX, sizeof *q);
  setup();
  many(n);
  bulk(mib);
  tou_ep_free(ep[0]);
  tou_ep_free(ep[1]);
  free(q);
  return 0;
}

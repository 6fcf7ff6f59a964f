/* The impairment pipeline of tou-netem. Each datagram passes, in order:
 * blackout windows, loss, corruption, duplication, then scheduling
 * (rate limiter with a bounded queue, delay, jitter, reordering). Held
 * datagrams wait in one min-heap ordered by departure time, drained by one
 * timer, so a delayed path costs no CPU while idle. */
#include "netem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct session session_t;

typedef struct packet {
  uint64_t due_us;
  uint64_t order; /* FIFO among equal due times */
  session_t *session;
  int dir;
  size_t len;
  uint8_t data[];
} packet_t;

struct session {
  netem_t *n;
  uv_udp_t upstream; /* socket towards the upstream for this client */
  struct sockaddr_storage client;
  session_t *next;
};

struct netem {
  uv_loop_t *loop;
  netem_config_t cfg;
  uv_udp_t listener;
  uv_timer_t timer;
  session_t *sessions;
  unsigned nsessions;
  unsigned open_handles;
  bool closing;
  uint64_t rng;
  uint64_t first_packet_us; /* 0: none yet */
  uint64_t order;
  uint64_t rate_free_at[2];  /* when the rate limiter's link becomes idle */
  uint64_t queued_bytes[2];  /* bytes waiting behind the rate limiter */
  packet_t **heap;
  size_t heap_len, heap_cap;
  netem_counters_t counters[2];
  uint8_t recv_buf[65536];
};

static uint64_t now_us(void) { return uv_hrtime() / 1000; }

/* splitmix64: small, seedable, good enough for impairment decisions. */
static uint64_t rng_next(netem_t *n) {
  uint64_t z = (n->rng += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static double rng_unit(netem_t *n) { return (double)(rng_next(n) >> 11) / 9007199254740992.0; }

static bool chance(netem_t *n, double p) { return p > 0 && rng_unit(n) < p; }

void netem_config_default(netem_config_t *cfg) {
  memset(cfg, 0, sizeof *cfg);
  for (int d = 0; d < 2; d++) {
    cfg->dir[d].queue_bytes = 256 * 1024;
    cfg->dir[d].reorder_delay_us = 10000;
  }
  cfg->seed = 1;
  cfg->max_sessions = 1024;
  cfg->max_inflight = 65536;
}

/* ---- heap of held datagrams ---- */

static bool packet_before(const packet_t *a, const packet_t *b) {
  return a->due_us != b->due_us ? a->due_us < b->due_us : a->order < b->order;
}

static void heap_swap(netem_t *n, size_t i, size_t j) {
  packet_t *t = n->heap[i];
  n->heap[i] = n->heap[j];
  n->heap[j] = t;
}

static bool heap_push(netem_t *n, packet_t *p) {
  if (n->heap_len == n->heap_cap) {
    size_t cap = n->heap_cap ? n->heap_cap * 2 : 256;
    packet_t **h = realloc(n->heap, cap * sizeof *h);
    if (!h) return false;
    n->heap = h;
    n->heap_cap = cap;
  }
  size_t i = n->heap_len++;
  n->heap[i] = p;
  while (i > 0 && packet_before(n->heap[i], n->heap[(i - 1) / 2])) {
    heap_swap(n, i, (i - 1) / 2);
    i = (i - 1) / 2;
  }
  return true;
}

static packet_t *heap_pop(netem_t *n) {
  packet_t *top = n->heap[0];
  n->heap[0] = n->heap[--n->heap_len];
  size_t i = 0;
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < n->heap_len && packet_before(n->heap[l], n->heap[m])) m = l;
    if (r < n->heap_len && packet_before(n->heap[r], n->heap[m])) m = r;
    if (m == i) break;
    heap_swap(n, i, m);
    i = m;
  }
  return top;
}

/* ---- sending ---- */

static void send_now(netem_t *n, session_t *s, int dir, const uint8_t *data, size_t len) {
  uv_buf_t buf = uv_buf_init((char *)data, (unsigned)len);
  int r;
  if (dir == NETEM_UP)
    r = uv_udp_try_send(&s->upstream, &buf, 1, (const struct sockaddr *)&n->cfg.upstream);
  else
    r = uv_udp_try_send(&n->listener, &buf, 1, (const struct sockaddr *)&s->client);
  /* A full socket buffer drops the datagram, like a router would. */
  if (r < 0) {
    n->counters[dir].send_errors++;
    return;
  }
  n->counters[dir].forwarded++;
  n->counters[dir].bytes_forwarded += len;
}

static void on_timer(uv_timer_t *t);

static void arm_timer(netem_t *n) {
  if (n->closing) return;
  if (n->heap_len == 0) {
    uv_timer_stop(&n->timer);
    return;
  }
  uint64_t now = now_us(), due = n->heap[0]->due_us;
  uint64_t ms = due > now ? (due - now + 999) / 1000 : 0;
  uv_timer_start(&n->timer, on_timer, ms, 0);
}

static void release_due(netem_t *n) {
  uint64_t now = now_us();
  while (n->heap_len > 0 && n->heap[0]->due_us <= now) {
    packet_t *p = heap_pop(n);
    if (n->cfg.dir[p->dir].rate_bps) n->queued_bytes[p->dir] -= p->len;
    send_now(n, p->session, p->dir, p->data, p->len);
    free(p);
  }
}

static void on_timer(uv_timer_t *t) {
  netem_t *n = t->data;
  release_due(n);
  arm_timer(n);
}

/* ---- the pipeline ---- */

static bool in_blackout(netem_t *n, const netem_dir_config_t *c, uint64_t now) {
  uint64_t t = now - n->first_packet_us;
  for (unsigned i = 0; i < c->nblackouts; i++)
    if (t >= c->blackout[i].start_us && t < c->blackout[i].start_us + c->blackout[i].duration_us)
      return true;
  return false;
}

static uint64_t jittered_delay(netem_t *n, const netem_dir_config_t *c) {
  int64_t d = (int64_t)c->delay_us;
  if (c->jitter_us) d += (int64_t)(rng_next(n) % (2 * c->jitter_us + 1)) - (int64_t)c->jitter_us;
  return d > 0 ? (uint64_t)d : 0;
}

/* Schedules one copy; returns false when it was dropped by the queue bound. */
static bool schedule(netem_t *n, session_t *s, int dir, const uint8_t *data, size_t len,
                     uint64_t now) {
  const netem_dir_config_t *c = &n->cfg.dir[dir];
  netem_counters_t *k = &n->counters[dir];
  uint64_t due = now;
  if (c->rate_bps) {
    if (n->queued_bytes[dir] + len > c->queue_bytes) {
      k->queue_drop++;
      return false;
    }
    uint64_t start = n->rate_free_at[dir] > now ? n->rate_free_at[dir] : now;
    n->rate_free_at[dir] = start + (uint64_t)len * 8 * 1000000 / c->rate_bps;
    due = n->rate_free_at[dir];
  }
  due += jittered_delay(n, c);
  if (chance(n, c->reorder)) {
    due += c->reorder_delay_us;
    k->reordered++;
  }
  if (due <= now && n->heap_len == 0) {
    send_now(n, s, dir, data, len);
    return true;
  }
  if (n->heap_len >= n->cfg.max_inflight) {
    k->queue_drop++;
    return false;
  }
  packet_t *p = malloc(sizeof *p + len);
  if (!p) {
    k->queue_drop++;
    return false;
  }
  p->due_us = due;
  p->order = n->order++;
  p->session = s;
  p->dir = dir;
  p->len = len;
  memcpy(p->data, data, len);
  if (!heap_push(n, p)) {
    free(p);
    k->queue_drop++;
    return false;
  }
  if (c->rate_bps) n->queued_bytes[dir] += len;
  return true;
}

static void impair(netem_t *n, session_t *s, int dir, uint8_t *data, size_t len) {
  const netem_dir_config_t *c = &n->cfg.dir[dir];
  netem_counters_t *k = &n->counters[dir];
  uint64_t now = now_us();
  if (n->first_packet_us == 0) n->first_packet_us = now;
  k->received++;
  if (in_blackout(n, c, now)) {
    k->blackout++;
    return;
  }
  if (chance(n, c->loss)) {
    k->lost++;
    return;
  }
  if (len > 0 && chance(n, c->corrupt)) {
    uint64_t bit = rng_next(n) % (len * 8);
    data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    k->corrupted++;
  }
  bool dup = chance(n, c->dup);
  schedule(n, s, dir, data, len, now);
  if (dup) {
    k->duplicated++;
    schedule(n, s, dir, data, len, now);
  }
  release_due(n);
  arm_timer(n);
}

/* ---- sockets ---- */

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  (void)suggested;
  netem_t *n = h->data;
  *buf = uv_buf_init((char *)n->recv_buf, sizeof n->recv_buf);
}

static void session_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  (void)suggested;
  session_t *s = h->data;
  *buf = uv_buf_init((char *)s->n->recv_buf, sizeof s->n->recv_buf);
}

static void on_upstream_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf,
                             const struct sockaddr *addr, unsigned flags) {
  (void)flags;
  session_t *s = h->data;
  if (nread <= 0 || !addr) return;
  impair(s->n, s, NETEM_DOWN, (uint8_t *)buf->base, (size_t)nread);
}

static socklen_t addr_len(const struct sockaddr *a) {
  return a->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

static session_t *session_find(netem_t *n, const struct sockaddr *client) {
  for (session_t *s = n->sessions; s; s = s->next)
    if (memcmp(&s->client, client, addr_len(client)) == 0) return s;
  return NULL;
}

static session_t *session_open(netem_t *n, const struct sockaddr *client) {
  if (n->nsessions >= n->cfg.max_sessions) return NULL;
  session_t *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->n = n;
  memcpy(&s->client, client, addr_len(client));
  uv_udp_init(n->loop, &s->upstream);
  s->upstream.data = s;
  n->open_handles++;
  s->next = n->sessions;
  n->sessions = s;
  n->nsessions++;
  /* Bind to an ephemeral port now so that receiving starts before the first
   * send. */
  struct sockaddr_storage any;
  memset(&any, 0, sizeof any);
  any.ss_family = n->cfg.upstream.ss_family;
  uv_udp_bind(&s->upstream, (const struct sockaddr *)&any, 0);
  uv_udp_recv_start(&s->upstream, session_alloc_cb, on_upstream_recv);
  uv_send_buffer_size((uv_handle_t *)&s->upstream, &(int){4 << 20});
  uv_recv_buffer_size((uv_handle_t *)&s->upstream, &(int){4 << 20});
  return s;
}

static void on_listener_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf,
                             const struct sockaddr *addr, unsigned flags) {
  (void)flags;
  netem_t *n = h->data;
  if (nread <= 0 || !addr) return;
  session_t *s = session_find(n, addr);
  if (!s) s = session_open(n, addr);
  if (!s) {
    n->counters[NETEM_UP].no_session++;
    return;
  }
  impair(n, s, NETEM_UP, (uint8_t *)buf->base, (size_t)nread);
}

int netem_start(uv_loop_t *loop, const netem_config_t *cfg, netem_t **out) {
  netem_t *n = calloc(1, sizeof *n);
  if (!n) return UV_ENOMEM;
  n->loop = loop;
  n->cfg = *cfg;
  n->rng = cfg->seed;
  uv_udp_init(loop, &n->listener);
  n->listener.data = n;
  uv_timer_init(loop, &n->timer);
  n->timer.data = n;
  n->open_handles = 2;
  int r = uv_udp_bind(&n->listener, (const struct sockaddr *)&cfg->listen, 0);
  if (r == 0) r = uv_udp_recv_start(&n->listener, alloc_cb, on_listener_recv);
  if (r < 0) {
    netem_close(n);
    return r;
  }
  uv_send_buffer_size((uv_handle_t *)&n->listener, &(int){4 << 20});
  uv_recv_buffer_size((uv_handle_t *)&n->listener, &(int){4 << 20});
  *out = n;
  return 0;
}

int netem_getsockname(const netem_t *n, struct sockaddr_storage *addr) {
  int len = sizeof *addr;
  return uv_udp_getsockname(&n->listener, (struct sockaddr *)addr, &len);
}

void netem_get_counters(const netem_t *n, int dir, netem_counters_t *out) {
  *out = n->counters[dir];
}

void netem_print_counters(const netem_t *n, FILE *f) {
  static const char *names[2] = {"up (client->upstream)", "down (upstream->client)"};
  for (int d = 0; d < 2; d++) {
    const netem_counters_t *k = &n->counters[d];
    fprintf(f,
            "%-24s received %llu forwarded %llu (%llu bytes) lost %llu blackout %llu "
            "queue-drop %llu duplicated %llu corrupted %llu reordered %llu send-errors %llu",
            names[d], (unsigned long long)k->received, (unsigned long long)k->forwarded,
            (unsigned long long)k->bytes_forwarded, (unsigned long long)k->lost,
            (unsigned long long)k->blackout, (unsigned long long)k->queue_drop,
            (unsigned long long)k->duplicated, (unsigned long long)k->corrupted,
            (unsigned long long)k->reordered, (unsigned long long)k->send_errors);
    if (d == NETEM_UP) fprintf(f, " no-session %llu", (unsigned long long)k->no_session);
    fputc('\n', f);
  }
}

static void release_if_last(netem_t *n) {
  if (--n->open_handles > 0) return;
  while (n->heap_len) free(heap_pop(n));
  free(n->heap);
  free(n);
}

static void on_proxy_handle_closed(uv_handle_t *h) { release_if_last(h->data); }

static void on_session_closed(uv_handle_t *h) {
  session_t *s = h->data;
  netem_t *n = s->n;
  free(s);
  release_if_last(n);
}

void netem_close(netem_t *n) {
  if (n->closing) return;
  n->closing = true;
  uv_close((uv_handle_t *)&n->listener, on_proxy_handle_closed);
  uv_close((uv_handle_t *)&n->timer, on_proxy_handle_closed);
  for (session_t *s = n->sessions, *next; s; s = next) {
    next = s->next;
    uv_close((uv_handle_t *)&s->upstream, on_session_closed);
  }
}

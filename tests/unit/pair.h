/* Test helper for the core unit tests: two endpoints ("A" = 0, "B" = 1)
 * joined by an in-process link with a fixed one-way delay, driven by an
 * explicit fake clock. A filter can drop or observe each datagram; the
 * trace hook records state changes as text so tests can assert sequences.
 * (The full simulator with loss models lives in tests/sim.) */
#ifndef TOU_TEST_PAIR_H
#define TOU_TEST_PAIR_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "timer_heap.h"

#define PAIR_MAX_INFLIGHT 4096
#define PAIR_MAX_EVENTS 256

typedef struct pair_dgram {
  int to; /* node index */
  uint64_t at;
  tou_addr_t from;
  size_t len;
  uint8_t data[1600];
} pair_dgram_t;

typedef struct pair_event {
  int node;
  tou_conn_t *conn;
  unsigned events;
} pair_event_t;

struct pair;
/* Returns true to drop the datagram. seg is decoded; from is the sender index. */
typedef bool (*pair_filter_fn)(struct pair *p, int from, const tou_segment_t *seg);

typedef struct pair {
  uint64_t now;
  uint64_t delay;
  tou_ep_t *ep[2];
  tou_config_t cfg[2];
  tou_addr_t addr[2];
  uint8_t seed[2][32];
  pair_dgram_t *q; /* datagrams in flight */
  size_t qlen;
  pair_filter_fn filter;
  void *ctx;
  pair_event_t ev[PAIR_MAX_EVENTS];
  size_t nev;
  char trace[2][8192];
  unsigned sent[2]; /* datagrams each side sent */
  /* Optional: runs right after each datagram node `to` took in, before
   * anything is sent (e.g. an application that reads at once). */
  void (*after_input)(struct pair *p, int to);
  /* Optional: node i sends with tou_ep_output_gather() (the pair joins the
   * header and the payload left in place); every datagram sent is hashed. */
  bool gather[2];
  uint64_t gathered[2];  /* datagrams whose payload came by reference */
  uint64_t gathered_split[2]; /* of those, in two pieces (the ring's wrap point) */
  /* Optional: sees each gathered datagram (joined in dgram) and its pieces. */
  void (*on_gather)(struct pair *p, int i, const uint8_t *dgram, size_t len,
                    const tou_payload_ref_t *ref);
  uint64_t sent_hash[2]; /* FNV-1a over every datagram's bytes, in order */
} pair_t;

static inline tou_addr_t pair_addr(const char *s) {
  tou_addr_t a;
  memset(&a, 0, sizeof a);
  a.len = (uint8_t)strlen(s);
  memcpy(a.bytes, s, a.len);
  return a;
}

static inline void pair_trace(void *ctx, const tou_trace_event_t *ev) {
  char *t = ctx;
  size_t used = strlen(t);
  if (ev->kind != TOU_TRACE_STATE || used > 8000) return;
  snprintf(t + used, 8192 - used, "%s>%s ", tou_state_name(ev->old_state),
           tou_state_name(ev->new_state));
}

/* Fills p->cfg with defaults (seeded, traced); the caller may edit
 * p->cfg[i] before pair_start(). */
static inline void pair_init(pair_t *p, uint64_t delay) {
  memset(p, 0, sizeof *p);
  p->now = 1000000;
  p->delay = delay;
  p->q = calloc(PAIR_MAX_INFLIGHT, sizeof *p->q);
  for (int i = 0; i < 2; i++) {
    tou_config_default(&p->cfg[i]);
    memset(p->seed[i], 0x11 * (i + 1), 32);
    p->cfg[i].seed = p->seed[i];
    p->cfg[i].trace = pair_trace;
    p->cfg[i].trace_ctx = p->trace[i];
  }
  p->addr[0] = pair_addr("A");
  p->addr[1] = pair_addr("B");
}

static inline void pair_start(pair_t *p) {
  for (int i = 0; i < 2; i++) {
    p->ep[i] = tou_ep_new(&p->cfg[i], p->now);
    if (p->ep[i] == NULL) abort();
  }
}

static inline void pair_free(pair_t *p) {
  for (int i = 0; i < 2; i++) tou_ep_free(p->ep[i]);
  free(p->q);
}

static inline void pair_collect_events(pair_t *p) {
  for (int i = 0; i < 2; i++) {
    tou_conn_t *c;
    unsigned e;
    while (tou_ep_next_event(p->ep[i], &c, &e)) {
      if (p->nev < PAIR_MAX_EVENTS) p->ev[p->nev++] = (pair_event_t){i, c, e};
    }
  }
}

/* Events (OR of all bits) seen so far for conn on node i (conn NULL:
 * endpoint-level). */
static inline unsigned pair_events(const pair_t *p, int i, const tou_conn_t *c) {
  unsigned bits = 0;
  for (size_t k = 0; k < p->nev; k++)
    if (p->ev[k].node == i && p->ev[k].conn == c) bits |= p->ev[k].events;
  return bits;
}

/* Moves every datagram node i wants to send into the link. */
static inline void pair_pump_out(pair_t *p, int i) {
  uint8_t buf[1600];
  tou_addr_t to;
  int n;
  for (;;) {
    if (p->gather[i]) {
      tou_payload_ref_t ref;
      n = tou_ep_output_gather(p->ep[i], p->now, &to, buf, sizeof buf, &ref);
      size_t plen = tou_payload_len(&ref);
      if (n > 0 && plen > 0) {
        /* The payload stays where the core keeps it, not in buf. */
        size_t at = (size_t)n - plen;
        for (int k = 0; k < 2 && ref.len[k] > 0; k++) {
          if (ref.data[k] >= buf && ref.data[k] < buf + sizeof buf) abort();
          memcpy(buf + at, ref.data[k], ref.len[k]);
          at += ref.len[k];
        }
        p->gathered[i]++;
        if (ref.len[1] > 0) p->gathered_split[i]++;
        if (p->on_gather) p->on_gather(p, i, buf, (size_t)n, &ref);
      }
    } else {
      n = tou_ep_output(p->ep[i], p->now, &to, buf, sizeof buf);
    }
    if (n <= 0) break;
    if (p->sent_hash[i] == 0) p->sent_hash[i] = 14695981039346656037ull;
    for (int k = 0; k < n; k++) p->sent_hash[i] = (p->sent_hash[i] ^ buf[k]) * 1099511628211ull;
    p->sent[i]++;
    tou_segment_t seg;
    if (tou_wire_decode(buf, (size_t)n, &seg) != TOU_OK) abort();
    if (p->filter && p->filter(p, i, &seg)) continue;
    int dst = tou_addr_equal(&to, &p->addr[0]) ? 0 : tou_addr_equal(&to, &p->addr[1]) ? 1 : -1;
    if (dst < 0 || p->qlen == PAIR_MAX_INFLIGHT) continue;
    pair_dgram_t *d = &p->q[p->qlen++];
    d->to = dst;
    d->at = p->now + p->delay;
    d->from = p->addr[i];
    d->len = (size_t)n;
    memcpy(d->data, buf, (size_t)n);
  }
  if (n < 0) abort();
}

/* Every step also checks that each endpoint's timer heap agrees with its
 * connections' deadlines (a missed refresh would be a silent stall). */
static inline void pair_pump(pair_t *p) {
  pair_pump_out(p, 0);
  pair_pump_out(p, 1);
  pair_collect_events(p);
  for (int i = 0; i < 2; i++)
    if (!ep_timers_check(p->ep[i]) || !ep_progress_check(p->ep[i])) {
      fprintf(stderr, "node %d: timer heap out of date or a connection without a timer\n", i);
      abort();
    }
}

/* Injects a raw segment into node i as if it came from `from`. */
static inline void pair_inject(pair_t *p, int i, const tou_addr_t *from, const tou_segment_t *seg) {
  uint8_t buf[1600];
  int n = tou_wire_encode(seg, buf, sizeof buf);
  if (n < 0) abort();
  tou_ep_input(p->ep[i], p->now, from, buf, (size_t)n);
}

static inline uint64_t pair_next_time(const pair_t *p) {
  uint64_t t = TOU_NEVER;
  for (int i = 0; i < 2; i++) {
    uint64_t d = tou_ep_next_deadline(p->ep[i]);
    if (d < t) t = d;
  }
  for (size_t k = 0; k < p->qlen; k++)
    if (p->q[k].at < t) t = p->q[k].at;
  return t;
}

/* Runs the network and timers until `until` (absolute), in time order. */
static inline void pair_run_until(pair_t *p, uint64_t until) {
  pair_pump(p);
  for (;;) {
    uint64_t t = pair_next_time(p);
    if (t == TOU_NEVER || t > until) break;
    if (t > p->now) p->now = t;
    /* Deliver everything due, in sending order. */
    size_t k = 0;
    while (k < p->qlen) {
      if (p->q[k].at <= p->now) {
        pair_dgram_t d = p->q[k];
        memmove(&p->q[k], &p->q[k + 1], (p->qlen - k - 1) * sizeof *p->q);
        p->qlen--;
        tou_ep_input(p->ep[d.to], p->now, &d.from, d.data, d.len);
        if (p->after_input) p->after_input(p, d.to);
        pair_pump(p);
      } else {
        k++;
      }
    }
    for (int i = 0; i < 2; i++)
      if (tou_ep_next_deadline(p->ep[i]) <= p->now) tou_ep_on_timer(p->ep[i], p->now);
    pair_pump(p);
  }
  if (until > p->now) p->now = until;
}

static inline void pair_run(pair_t *p, uint64_t duration) { pair_run_until(p, p->now + duration); }

/* Connects A to a listening B and runs the handshake. *a and *b receive the
 * two connection ends. */
static inline void pair_connect(pair_t *p, tou_conn_t **a, tou_conn_t **b) {
  if (tou_ep_listen(p->ep[1], 16) != TOU_OK) abort();
  int err;
  *a = tou_ep_connect(p->ep[0], p->now, &p->addr[1], &err);
  if (*a == NULL) abort();
  pair_run(p, 4 * p->delay + 1);
  *b = tou_ep_accept(p->ep[1]);
}

/* A pair with the default configuration, connected: pair_init(),
 * pair_start() and pair_connect() in one. */
static inline void pair_open(pair_t *p, uint64_t delay, tou_conn_t **a, tou_conn_t **b) {
  pair_init(p, delay);
  pair_start(p);
  pair_connect(p, a, b);
}

/* Reads everything available from c into buf (up to cap); returns the count
 * and sets *end to the terminal code (TOU_ERR_AGAIN, TOU_ERR_EOF, ...). */
static inline size_t pair_read_all(pair_t *p, tou_conn_t *c, uint8_t *buf, size_t cap, int *end) {
  size_t got = 0;
  for (;;) {
    int n = tou_conn_recv(c, p->now, buf + got, cap - got);
    if (n <= 0) {
      if (end) *end = n == 0 ? TOU_ERR_AGAIN : n;
      return got;
    }
    got += (size_t)n;
  }
}

/* A log of segments as they left each node (before any filter drop). */
typedef struct pair_log_entry {
  int from;
  uint64_t at;
  uint8_t flags;
  uint32_t dst_cid, src_cid;
  tou_seq_t seq, ack;
  size_t payload_len;
  bool dropped;
} pair_log_entry_t;

typedef struct pair_log {
  pair_log_entry_t e[4096];
  size_t n;
} pair_log_t;

static inline void pair_log(pair_log_t *l, const pair_t *p, int from, const tou_segment_t *s,
                            bool dropped) {
  if (l->n == sizeof l->e / sizeof l->e[0]) return;
  l->e[l->n++] = (pair_log_entry_t){from, p->now, s->flags, s->dst_cid, s->src_cid,
                                    s->seq, s->ack, s->payload_len, dropped};
}

/* Counts logged segments from `from` whose flags, masked, equal `flags`. */
static inline size_t pair_log_count(const pair_log_t *l, int from, uint8_t mask, uint8_t flags) {
  size_t n = 0;
  for (size_t i = 0; i < l->n; i++)
    if (l->e[i].from == from && (l->e[i].flags & mask) == flags) n++;
  return n;
}

/* An allocator that fails once `budget` allocations have succeeded (-1:
 * never fails), counting live blocks. */
typedef struct fail_alloc {
  long budget;
  long live;
  long calls;
} fail_alloc_t;

static inline void *fail_alloc_fn(void *ctx, size_t size) {
  fail_alloc_t *f = ctx;
  f->calls++;
  if (f->budget == 0) return NULL;
  if (f->budget > 0) f->budget--;
  f->live++;
  return malloc(size);
}

static inline void fail_free_fn(void *ctx, void *ptr) {
  fail_alloc_t *f = ctx;
  f->live--;
  free(ptr);
}

static inline tou_allocator_t fail_allocator(fail_alloc_t *f) {
  return (tou_allocator_t){fail_alloc_fn, fail_free_fn, f};
}

#endif

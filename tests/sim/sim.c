#include "sim.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evq.h"

enum { EV_DELIVER = 1, EV_TIMER, EV_CALL };

#define SIM_MAX_TAPS 8

typedef struct sim_packet {
  tou_addr_t from, to;
  bool corrupted;
  bool injected;
  size_t len;
  uint8_t data[];
} sim_packet_t;

typedef struct sim_link_entry {
  tou_addr_t from, to;
  sim_link_t link;
} sim_link_entry_t;

struct sim {
  uint64_t seed;
  uint64_t now;
  uint64_t seed_state; /* splitmix64 state for derived seeds */
  sim_rng_t rng;
  sim_evq_t q;
  sim_node_t *nodes;
  sim_link_entry_t **links;
  size_t n_links, cap_links;
  sim_link_params_t default_link;
  struct {
    sim_tap_fn fn;
    void *ctx;
    bool owned;
  } taps[SIM_MAX_TAPS];
  unsigned n_taps;
  uint64_t hash;
  uint64_t events_run;
  bool trace;
};

static void *xcalloc(size_t n, size_t size) {
  void *p = calloc(n, size);
  if (!p) {
    fprintf(stderr, "sim: out of memory\n");
    abort();
  }
  return p;
}

static uint64_t seed_from_env(uint64_t fallback) {
  const char *s = getenv("TOU_SIM_SEED");
  if (!s || !*s) return fallback;
  char *end = NULL;
  unsigned long long v = strtoull(s, &end, 0);
  if (!end || *end) {
    fprintf(stderr, "sim: ignoring malformed TOU_SIM_SEED=%s\n", s);
    return fallback;
  }
  return (uint64_t)v;
}

sim_t *sim_new(uint64_t default_seed) {
  sim_t *sim = xcalloc(1, sizeof *sim);
  sim->seed = seed_from_env(default_seed);
  sim->seed_state = sim->seed;
  sim_rng_seed(&sim->rng, sim_splitmix64(&sim->seed_state));
  evq_init(&sim->q);
  sim->default_link.delay_us = 10 * SIM_MS;
  sim->hash = 0xcbf29ce484222325ull;
  const char *t = getenv("TOU_SIM_TRACE");
  sim->trace = t && *t && strcmp(t, "0") != 0;
  /* Printed on every run so that ctest's output of a failing test names the
   * seed to replay. */
  printf("sim: seed=0x%016" PRIx64 " (replay: TOU_SIM_SEED=0x%016" PRIx64 ")\n", sim->seed,
         sim->seed);
  fflush(stdout);
  return sim;
}

void sim_free(sim_t *sim) {
  if (!sim) return;
  sim_event_t ev;
  while (evq_pop(&sim->q, &ev))
    if (ev.kind == EV_DELIVER || ev.kind == EV_CALL) free(ev.obj);
  evq_free(&sim->q);
  for (size_t i = 0; i < sim->n_links; i++) free(sim->links[i]);
  for (unsigned i = 0; i < sim->n_taps; i++)
    if (sim->taps[i].owned) free(sim->taps[i].ctx);
  free(sim->links);
  free(sim);
}

uint64_t sim_seed(const sim_t *sim) { return sim->seed; }
uint64_t sim_now(const sim_t *sim) { return sim->now; }
uint64_t sim_derive_seed(sim_t *sim) { return sim_splitmix64(&sim->seed_state); }
sim_rng_t *sim_rng(sim_t *sim) { return &sim->rng; }
uint64_t sim_trace_hash(const sim_t *sim) { return sim->hash; }
uint64_t sim_events_run(const sim_t *sim) { return sim->events_run; }

tou_addr_t sim_addr(uint8_t host, uint16_t port) {
  tou_addr_t a;
  memset(&a, 0, sizeof a);
  a.len = 6;
  a.bytes[0] = 10;
  a.bytes[3] = host;
  a.bytes[4] = (uint8_t)(port >> 8);
  a.bytes[5] = (uint8_t)port;
  return a;
}

bool sim_addr_eq(const tou_addr_t *a, const tou_addr_t *b) {
  return a->len == b->len && a->len <= sizeof a->bytes && memcmp(a->bytes, b->bytes, a->len) == 0;
}

const char *sim_addr_str(const tou_addr_t *a, char *buf) {
  if (a->len == 6)
    snprintf(buf, 32, "%u.%u.%u.%u:%u", a->bytes[0], a->bytes[1], a->bytes[2], a->bytes[3],
             (unsigned)(a->bytes[4] << 8 | a->bytes[5]));
  else
    snprintf(buf, 32, "addr(len=%u)", a->len);
  return buf;
}

void sim_set_default_link(sim_t *sim, const sim_link_params_t *p) { sim->default_link = *p; }

sim_link_t *sim_link(sim_t *sim, const tou_addr_t *from, const tou_addr_t *to) {
  for (size_t i = 0; i < sim->n_links; i++)
    if (sim_addr_eq(&sim->links[i]->from, from) && sim_addr_eq(&sim->links[i]->to, to))
      return &sim->links[i]->link;
  if (sim->n_links == sim->cap_links) {
    size_t cap = sim->cap_links ? sim->cap_links * 2 : 8;
    sim_link_entry_t **links = realloc(sim->links, cap * sizeof *links);
    if (!links) abort();
    sim->links = links;
    sim->cap_links = cap;
  }
  sim_link_entry_t *e = xcalloc(1, sizeof *e);
  e->from = *from;
  e->to = *to;
  sim_link_init(&e->link, &sim->default_link, sim_derive_seed(sim));
  sim->links[sim->n_links++] = e;
  return &e->link;
}

void sim_link_both(sim_t *sim, const tou_addr_t *a, const tou_addr_t *b,
                   const sim_link_params_t *p) {
  sim_link_set_params(sim_link(sim, a, b), p);
  sim_link_set_params(sim_link(sim, b, a), p);
}

void sim_node_attach(sim_t *sim, sim_node_t *node, const sim_node_ops_t *ops,
                     const tou_addr_t *addr) {
  node->sim = sim;
  node->ops = ops;
  node->addr = *addr;
  node->timer_at = TOU_NEVER;
  node->timer_gen++;
  node->next = sim->nodes;
  sim->nodes = node;
}

void sim_node_detach(sim_node_t *node) {
  sim_t *sim = node->sim;
  for (sim_node_t **p = &sim->nodes; *p; p = &(*p)->next) {
    if (*p == node) {
      *p = node->next;
      break;
    }
  }
  /* Pending timer events carry the old generation and are skipped. */
  node->timer_gen++;
  node->timer_at = TOU_NEVER;
  node->next = NULL;
}

void sim_node_arm(sim_node_t *node, uint64_t at) {
  if (at == node->timer_at) return;
  node->timer_gen++;
  node->timer_at = at;
  if (at == TOU_NEVER) return;
  sim_t *sim = node->sim;
  sim_event_t ev = {.at = at < sim->now ? sim->now : at, .kind = EV_TIMER, .obj = node,
                    .gen = node->timer_gen};
  evq_push(&sim->q, ev);
}

/* FNV-1a style over 8-byte words (then the tail bytes): the trace hash
 * sees every byte of every datagram, so it must be cheap. */
static void hash_bytes(sim_t *sim, const void *p, size_t n) {
  const uint8_t *b = p;
  uint64_t h = sim->hash;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    memcpy(&w, b + i, 8);
    h ^= w;
    h *= 0x100000001b3ull;
    h ^= h >> 29;
  }
  for (; i < n; i++) {
    h ^= b[i];
    h *= 0x100000001b3ull;
  }
  sim->hash = h;
}

static void trace_print(const sim_tap_event_t *ev) {
  static const char *kinds[] = {"send", "drop", "deliver", "noroute", "inject"};
  char a[32], b[32];
  fprintf(stderr, "%10.6f sim %-7s %s -> %s len=%zu%s%s%s\n", (double)ev->now / 1e6,
          kinds[ev->kind], sim_addr_str(ev->from, a), sim_addr_str(ev->to, b), ev->len,
          ev->kind == SIM_TAP_DROP ? " " : "",
          ev->kind == SIM_TAP_DROP ? sim_fate_name(ev->fate) : "",
          ev->corrupted ? " corrupted" : "");
}

static void tap(sim_t *sim, sim_tap_kind_t kind, const tou_addr_t *from, const tou_addr_t *to,
                const uint8_t *data, size_t len, sim_fate_t fate, bool corrupted) {
  sim_tap_event_t ev = {.kind = kind, .now = sim->now, .from = from, .to = to, .data = data,
                        .len = len, .fate = fate, .corrupted = corrupted};
  uint8_t k = (uint8_t)kind, f = (uint8_t)fate, c = corrupted;
  hash_bytes(sim, &sim->now, sizeof sim->now);
  hash_bytes(sim, &k, 1);
  hash_bytes(sim, &f, 1);
  hash_bytes(sim, &c, 1);
  hash_bytes(sim, from->bytes, from->len);
  hash_bytes(sim, to->bytes, to->len);
  /* Header, options and the first payload bytes: what the cores decided.
   * The rest of a payload is the application's pattern at that sequence
   * number, checked byte by byte by app.c; hashing it made bulk transfers
   * spend a tenth of their time here. */
  uint64_t n = len;
  hash_bytes(sim, &n, sizeof n);
  hash_bytes(sim, data, len < 160 ? len : 160);
  if (sim->trace) trace_print(&ev);
  for (unsigned i = 0; i < sim->n_taps; i++) sim->taps[i].fn(sim->taps[i].ctx, &ev);
}

static void add_tap(sim_t *sim, sim_tap_fn fn, void *ctx, bool owned) {
  if (sim->n_taps == SIM_MAX_TAPS) {
    fprintf(stderr, "sim: too many taps\n");
    abort();
  }
  sim->taps[sim->n_taps].fn = fn;
  sim->taps[sim->n_taps].ctx = ctx;
  sim->taps[sim->n_taps].owned = owned;
  sim->n_taps++;
}

void sim_add_tap(sim_t *sim, sim_tap_fn fn, void *ctx) { add_tap(sim, fn, ctx, false); }
void sim_add_tap_owned(sim_t *sim, sim_tap_fn fn, void *ctx) { add_tap(sim, fn, ctx, true); }

static sim_packet_t *packet_new(const tou_addr_t *from, const tou_addr_t *to,
                                const uint8_t *data, size_t len) {
  sim_packet_t *pkt = malloc(sizeof *pkt + len);
  if (!pkt) abort();
  pkt->from = *from;
  pkt->to = *to;
  pkt->corrupted = false;
  pkt->injected = false;
  pkt->len = len;
  if (len) memcpy(pkt->data, data, len);
  return pkt;
}

static void schedule_delivery(sim_t *sim, uint64_t at, sim_packet_t *pkt) {
  sim_event_t ev = {.at = at, .kind = EV_DELIVER, .obj = pkt};
  evq_push(&sim->q, ev);
}

void sim_send(sim_t *sim, const tou_addr_t *from, const tou_addr_t *to, const uint8_t *data,
              size_t len) {
  tap(sim, SIM_TAP_SEND, from, to, data, len, SIM_FATE_DELIVER, false);
  sim_link_t *link = sim_link(sim, from, to);
  sim_link_verdict_t v;
  sim_link_admit(link, sim->now, data, len, &v);
  if (v.fate != SIM_FATE_DELIVER) {
    tap(sim, SIM_TAP_DROP, from, to, data, len, v.fate, false);
    return;
  }
  for (unsigned i = 0; i < v.copies; i++) {
    sim_packet_t *pkt = packet_new(from, to, data, len);
    if (v.corrupt[i]) {
      sim_link_corrupt(link, pkt->data, pkt->len);
      pkt->corrupted = true;
    }
    schedule_delivery(sim, v.arrive[i], pkt);
  }
}

void sim_inject(sim_t *sim, uint64_t at, const tou_addr_t *from, const tou_addr_t *to,
                const uint8_t *data, size_t len) {
  tap(sim, SIM_TAP_INJECT, from, to, data, len, SIM_FATE_DELIVER, false);
  sim_packet_t *pkt = packet_new(from, to, data, len);
  pkt->injected = true;
  schedule_delivery(sim, at < sim->now ? sim->now : at, pkt);
}

typedef struct sim_call {
  sim_call_fn fn;
  void *arg;
} sim_call_t;

void sim_call_at(sim_t *sim, uint64_t at, sim_call_fn fn, void *arg) {
  sim_call_t *call = xcalloc(1, sizeof *call);
  call->fn = fn;
  call->arg = arg;
  sim_event_t ev = {.at = at < sim->now ? sim->now : at, .kind = EV_CALL, .obj = call};
  evq_push(&sim->q, ev);
}

static sim_node_t *node_at(sim_t *sim, const tou_addr_t *addr) {
  for (sim_node_t *n = sim->nodes; n; n = n->next)
    if (sim_addr_eq(&n->addr, addr)) return n;
  return NULL;
}

static void deliver(sim_t *sim, sim_packet_t *pkt) {
  sim_node_t *node = node_at(sim, &pkt->to);
  if (!node) {
    tap(sim, SIM_TAP_NOROUTE, &pkt->from, &pkt->to, pkt->data, pkt->len, SIM_FATE_DELIVER,
        pkt->corrupted);
    return;
  }
  tap(sim, SIM_TAP_DELIVER, &pkt->from, &pkt->to, pkt->data, pkt->len, SIM_FATE_DELIVER,
      pkt->corrupted);
  if (node->ops->datagram) node->ops->datagram(node, &pkt->from, pkt->data, pkt->len);
}

static void run_event(sim_t *sim, sim_event_t *ev) {
  sim->now = ev->at;
  sim->events_run++;
  switch (ev->kind) {
    case EV_DELIVER:
      deliver(sim, ev->obj);
      free(ev->obj);
      break;
    case EV_TIMER: {
      sim_node_t *node = ev->obj;
      if (ev->gen != node->timer_gen) break; /* re-armed or detached since */
      node->timer_at = TOU_NEVER;
      if (node->ops->timer) node->ops->timer(node);
      break;
    }
    case EV_CALL: {
      sim_call_t *call = ev->obj;
      call->fn(sim, call->arg);
      free(call);
      break;
    }
  }
}

bool sim_step(sim_t *sim) {
  sim_event_t ev;
  if (!evq_pop(&sim->q, &ev)) return false;
  run_event(sim, &ev);
  return true;
}

void sim_run_until(sim_t *sim, uint64_t t) {
  const sim_event_t *next;
  while ((next = evq_peek(&sim->q)) && next->at <= t) sim_step(sim);
  if (t > sim->now) sim->now = t;
}

bool sim_run_until_cond(sim_t *sim, bool (*cond)(void *ctx), void *ctx, uint64_t limit) {
  for (;;) {
    if (cond(ctx)) return true;
    const sim_event_t *next = evq_peek(&sim->q);
    if (!next || next->at > limit) break;
    sim_step(sim);
  }
  if (limit != TOU_NEVER && limit > sim->now) sim->now = limit;
  return cond(ctx);
}

void sim_run_idle(sim_t *sim, uint64_t limit) {
  const sim_event_t *next;
  while ((next = evq_peek(&sim->q)) && next->at <= limit) sim_step(sim);
}

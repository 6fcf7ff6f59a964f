#include "evq.h"

#include <stdio.h>
#include <stdlib.h>

static bool before(const sim_event_t *a, const sim_event_t *b) {
  if (a->at != b->at) return a->at < b->at;
  return a->seq < b->seq;
}

static void swap(sim_event_t *a, sim_event_t *b) {
  sim_event_t t = *a;
  *a = *b;
  *b = t;
}

void evq_init(sim_evq_t *q) {
  q->items = NULL;
  q->len = q->cap = 0;
  q->next_seq = 0;
}

void evq_free(sim_evq_t *q) {
  free(q->items);
  evq_init(q);
}

void evq_push(sim_evq_t *q, sim_event_t ev) {
  if (q->len == q->cap) {
    size_t cap = q->cap ? q->cap * 2 : 64;
    sim_event_t *items = realloc(q->items, cap * sizeof *items);
    if (!items) {
      fprintf(stderr, "sim: out of memory in event queue\n");
      abort();
    }
    q->items = items;
    q->cap = cap;
  }
  ev.seq = q->next_seq++;
  size_t i = q->len++;
  q->items[i] = ev;
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (!before(&q->items[i], &q->items[parent])) break;
    swap(&q->items[i], &q->items[parent]);
    i = parent;
  }
}

const sim_event_t *evq_peek(const sim_evq_t *q) { return q->len ? &q->items[0] : NULL; }

bool evq_pop(sim_evq_t *q, sim_event_t *out) {
  if (q->len == 0) return false;
  *out = q->items[0];
  q->items[0] = q->items[--q->len];
  size_t i = 0;
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < q->len && before(&q->items[l], &q->items[m])) m = l;
    if (r < q->len && before(&q->items[r], &q->items[m])) m = r;
    if (m == i) break;
    swap(&q->items[i], &q->items[m]);
    i = m;
  }
  return true;
}

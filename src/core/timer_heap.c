#include "timer_heap.h"

#include "alloc.h"
#include "endpoint.h"

int timer_heap_init(tou_timer_heap_t *h, uint32_t cap, const tou_allocator_t *a) {
  h->len = 0;
  h->cap = cap;
  h->v = tou_mem_alloc(a, (size_t)cap * sizeof *h->v);
  return h->v != NULL ? TOU_OK : TOU_ERR_NOMEM;
}

void timer_heap_free(tou_timer_heap_t *h, const tou_allocator_t *a) {
  tou_mem_free(a, h->v);
  h->v = NULL;
  h->len = h->cap = 0;
}

static void place(tou_timer_heap_t *h, uint32_t i, tou_conn_t *c) {
  h->v[i] = c;
  c->heap_idx = i;
}

static void sift_up(tou_timer_heap_t *h, uint32_t i) {
  tou_conn_t *c = h->v[i];
  while (i > 0) {
    uint32_t parent = (i - 1) / 2;
    if (h->v[parent]->heap_key <= c->heap_key) break;
    place(h, i, h->v[parent]);
    i = parent;
  }
  place(h, i, c);
}

static void sift_down(tou_timer_heap_t *h, uint32_t i) {
  tou_conn_t *c = h->v[i];
  for (;;) {
    uint32_t l = 2 * i + 1, r = l + 1, m = i;
    uint64_t mk = c->heap_key;
    if (l < h->len && h->v[l]->heap_key < mk) m = l, mk = h->v[l]->heap_key;
    if (r < h->len && h->v[r]->heap_key < mk) m = r;
    if (m == i) break;
    place(h, i, h->v[m]);
    i = m;
  }
  place(h, i, c);
}

void ep_timer_remove(tou_ep_t *ep, tou_conn_t *c) {
  tou_timer_heap_t *h = &ep->timers;
  uint32_t i = c->heap_idx;
  if (i == TOU_HEAP_NONE) return;
  c->heap_idx = TOU_HEAP_NONE;
  tou_conn_t *last = h->v[--h->len];
  if (last == c) return;
  place(h, i, last);
  sift_up(h, i);
  sift_down(h, last->heap_idx);
}

void ep_timer_update(tou_ep_t *ep, tou_conn_t *c) {
  uint64_t key = c->dead ? TOU_NEVER : conn_deadline(c);
  if (key == TOU_NEVER) {
    ep_timer_remove(ep, c);
    return;
  }
  tou_timer_heap_t *h = &ep->timers;
  if (c->heap_idx == TOU_HEAP_NONE) {
    if (h->len == h->cap) return; /* cannot happen: one slot per connection */
    c->heap_key = key;
    place(h, h->len++, c);
    sift_up(h, c->heap_idx);
    return;
  }
  uint64_t old = c->heap_key;
  c->heap_key = key;
  if (key < old)
    sift_up(h, c->heap_idx);
  else if (key > old)
    sift_down(h, c->heap_idx);
}

uint64_t ep_timer_min(const tou_ep_t *ep) {
  return ep->timers.len > 0 ? ep->timers.v[0]->heap_key : TOU_NEVER;
}

tou_conn_t *ep_timer_take_due(tou_ep_t *ep, uint64_t now) {
  tou_conn_t *due = NULL, **tail = &due;
  while (ep->timers.len > 0 && ep->timers.v[0]->heap_key <= now) {
    tou_conn_t *c = ep->timers.v[0];
    ep_timer_remove(ep, c);
    c->timer_next = NULL;
    *tail = c;
    tail = &c->timer_next;
  }
  return due;
}

bool ep_timers_check(const tou_ep_t *ep) {
  const tou_timer_heap_t *h = &ep->timers;
  for (uint32_t i = 0; i < h->len; i++) {
    if (h->v[i]->heap_idx != i) return false;
    if (i > 0 && h->v[(i - 1) / 2]->heap_key > h->v[i]->heap_key) return false;
  }
  for (const tou_list_t *l = ep->all.next; l != &ep->all; l = l->next) {
    const tou_conn_t *c = tou_container_of(l, tou_conn_t, all_link);
    uint64_t d = conn_deadline(c);
    if (d == TOU_NEVER ? c->heap_idx != TOU_HEAP_NONE : (c->heap_idx == TOU_HEAP_NONE || c->heap_key != d))
      return false;
  }
  return true;
}

static bool has_outstanding(const tou_conn_t *c) {
  if (c->dead || c->state == TOU_CLOSED || c->state == TOU_TIME_WAIT) return false;
  if (c->state == TOU_SYN_SENT || c->state == TOU_SYN_RCVD) return true;
  if (c->snd_una != c->snd_max) return true;
  size_t off = (size_t)(tou_seq_t)(c->snd_nxt - c->snd_data);
  if (off < sendbuf_len(&c->sb)) return true;
  return c->fin_queued && !seq_gt(c->snd_una, c->fin_seq);
}

bool ep_progress_check(const tou_ep_t *ep) {
  for (const tou_list_t *l = ep->all.next; l != &ep->all; l = l->next) {
    const tou_conn_t *c = tou_container_of(l, tou_conn_t, all_link);
    if (has_outstanding(c) && conn_deadline(c) == TOU_NEVER && !list_linked(&c->output_link))
      return false;
  }
  return true;
}

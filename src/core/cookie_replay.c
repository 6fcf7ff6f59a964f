#include "cookie_replay.h"

#include <string.h>

#include "alloc.h"

static uint32_t clamp_cap(uint32_t cap) {
  if (cap == 0) return 1;
  return cap > TOU_COOKIE_REPLAY_MAX_CAP ? TOU_COOKIE_REPLAY_MAX_CAP : cap;
}

/* A load factor of at most 1/2 keeps chains short. */
static uint32_t buckets_for(uint32_t cap) {
  uint32_t n = 1;
  while (n < 2 * cap) n <<= 1;
  return n;
}

size_t cookie_replay_bytes(uint32_t cap) {
  cap = clamp_cap(cap);
  return sizeof(cookie_replay_t) + (size_t)cap * sizeof(cookie_replay_entry_t) +
         (size_t)buckets_for(cap) * sizeof(uint32_t);
}

cookie_replay_t *cookie_replay_new(const tou_allocator_t *a, uint32_t cap) {
  cap = clamp_cap(cap);
  uint32_t nb = buckets_for(cap);
  cookie_replay_t *r = tou_mem_alloc(a, cookie_replay_bytes(cap));
  if (r == NULL) return NULL;
  memset(r, 0, sizeof *r);
  r->cap = cap;
  r->mask = nb - 1;
  r->e = (cookie_replay_entry_t *)(r + 1);
  r->bucket = (uint32_t *)(r->e + cap);
  memset(r->bucket, 0xff, (size_t)nb * sizeof(uint32_t)); /* TOU_COOKIE_REPLAY_NONE */
  return r;
}

void cookie_replay_free(const tou_allocator_t *a, cookie_replay_t *r) { tou_mem_free(a, r); }

static bool same(const cookie_replay_key_t *x, const cookie_replay_key_t *y) {
  return x->server_cid == y->server_cid && x->client_cid == y->client_cid &&
         x->client_isn == y->client_isn && x->iss == y->iss;
}

/* Unlinks the oldest entry from its chain and the ring. */
static void drop_oldest(cookie_replay_t *r) {
  uint32_t i = r->oldest;
  uint32_t *link = &r->bucket[r->e[i].bucket];
  while (*link != i) link = &r->e[*link].next; /* it is in its chain */
  *link = r->e[i].next;
  r->oldest = (i + 1) % r->cap;
  r->count--;
}

bool cookie_replay_check_and_add(cookie_replay_t *r, uint64_t counter,
                                 const cookie_replay_key_t *k, uint64_t hash) {
  /* Cookies of two periods back have expired: forget them. */
  while (r->count > 0 && r->e[r->oldest].counter + 1 < counter) drop_oldest(r);
  uint32_t b = (uint32_t)hash & r->mask;
  for (uint32_t i = r->bucket[b]; i != TOU_COOKIE_REPLAY_NONE; i = r->e[i].next)
    if (same(&r->e[i].key, k)) return true;
  if (r->count == r->cap) {
    drop_oldest(r); /* FIFO: its replay is accepted from now on */
    r->evicted++;
  }
  uint32_t i = (r->oldest + r->count) % r->cap;
  r->e[i] = (cookie_replay_entry_t){.counter = counter, .key = *k, .bucket = b,
                                    .next = r->bucket[b]};
  r->bucket[b] = i;
  r->count++;
  return false;
}

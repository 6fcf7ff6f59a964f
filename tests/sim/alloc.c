#include "alloc.h"

#include <stdlib.h>

/* Each block carries its size in front, kept 16-byte aligned. */
#define HDR 16

static void *counting_alloc(void *ctx, size_t size) {
  sim_alloc_t *a = ctx;
  a->allocs++;
  if ((a->fail_nth && a->allocs == a->fail_nth) ||
      (a->limit_bytes && a->live_bytes + size > a->limit_bytes)) {
    a->failed++;
    return NULL;
  }
  unsigned char *p = malloc(size + HDR);
  if (!p) {
    a->failed++;
    return NULL;
  }
  *(size_t *)p = size;
  a->live_bytes += size;
  if (a->live_bytes > a->peak_bytes) a->peak_bytes = a->live_bytes;
  return p + HDR;
}

static void counting_free(void *ctx, void *ptr) {
  sim_alloc_t *a = ctx;
  if (!ptr) return;
  unsigned char *p = (unsigned char *)ptr - HDR;
  a->live_bytes -= *(size_t *)p;
  a->frees++;
  free(p);
}

tou_allocator_t sim_alloc_make(sim_alloc_t *counter) {
  tou_allocator_t al = {.alloc = counting_alloc, .free = counting_free, .ctx = counter};
  return al;
}

void sim_alloc_reset_peak(sim_alloc_t *counter) { counter->peak_bytes = counter->live_bytes; }

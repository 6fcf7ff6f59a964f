#include "recvbuf.h"

#include <string.h>

#include "alloc.h"

#define RECVBUF_MIN_CAP 4096u

void recvbuf_init(tou_recvbuf_t *rb, size_t limit, const tou_allocator_t *alloc) {
  memset(rb, 0, sizeof *rb);
  rb->limit = limit;
  rb->alloc = alloc;
}

void recvbuf_free(tou_recvbuf_t *rb) {
  tou_mem_free(rb->alloc, rb->data);
  tou_mem_free(rb->alloc, rb->ranges);
  rb->data = NULL;
  rb->ranges = NULL;
  rb->cap = rb->ready = rb->head = 0;
  rb->nranges = 0;
}

static int grow(tou_recvbuf_t *rb, size_t need) {
  size_t cap = rb->cap ? rb->cap : RECVBUF_MIN_CAP;
  while (cap < need) cap *= 2;
  if (cap > rb->limit) cap = rb->limit;
  uint8_t *d = tou_mem_alloc(rb->alloc, cap);
  if (d == NULL) return -1;
  /* Linearise the whole old ring (ready bytes and out-of-order data). */
  if (rb->cap > 0) {
    size_t first = rb->cap - rb->head;
    memcpy(d, rb->data + rb->head, first);
    memcpy(d + first, rb->data, rb->head);
  }
  tou_mem_free(rb->alloc, rb->data);
  rb->data = d;
  rb->cap = cap;
  rb->head = 0;
  return 0;
}

static void copy_in(tou_recvbuf_t *rb, size_t off, const uint8_t *data, size_t n) {
  size_t at = (rb->head + rb->ready + off) % rb->cap;
  size_t first = rb->cap - at < n ? rb->cap - at : n;
  memcpy(rb->data + at, data, first);
  memcpy(rb->data, data + first, n - first);
}

/* Where [s, e) goes among the ranges: ranges [*lo, *hi) overlap or touch
 * it and merge with it. */
static void find_merge_span(const tou_recvbuf_t *rb, uint32_t s, uint32_t e, unsigned *lo,
                            unsigned *hi) {
  unsigned i = 0;
  while (i < rb->nranges && rb->ranges[i].end < s) i++;
  unsigned j = i;
  while (j < rb->nranges && rb->ranges[j].start <= e) j++;
  *lo = i;
  *hi = j;
}

static void merge_range(tou_recvbuf_t *rb, uint32_t s, uint32_t e, unsigned lo, unsigned hi) {
  tou_recv_range_t m = {s, e};
  if (hi > lo) {
    if (rb->ranges[lo].start < m.start) m.start = rb->ranges[lo].start;
    if (rb->ranges[hi - 1].end > m.end) m.end = rb->ranges[hi - 1].end;
  }
  unsigned count = rb->nranges - (hi - lo) + 1;
  memmove(&rb->ranges[lo + 1], &rb->ranges[hi], (rb->nranges - hi) * sizeof rb->ranges[0]);
  rb->ranges[lo] = m;
  rb->nranges = count;
}

/* The first range, if it starts at RCV.NXT, becomes readable; the others
 * move closer by the same amount. */
static size_t advance_in_order(tou_recvbuf_t *rb) {
  if (rb->nranges == 0 || rb->ranges[0].start != 0) return 0;
  uint32_t adv = rb->ranges[0].end;
  for (unsigned i = 1; i < rb->nranges; i++) {
    rb->ranges[i - 1].start = rb->ranges[i].start - adv;
    rb->ranges[i - 1].end = rb->ranges[i].end - adv;
  }
  rb->nranges--;
  rb->ready += adv;
  return adv;
}

int recvbuf_write(tou_recvbuf_t *rb, size_t off, const uint8_t *data, size_t n) {
  size_t wnd = recvbuf_window(rb);
  if (off >= wnd || n == 0) return 0;
  if (n > wnd - off) n = wnd - off;
  size_t need = rb->ready + off + n;
  if (off == 0 && rb->nranges == 0) { /* in order, no holes: the common case */
    if (need > rb->cap && grow(rb, need) < 0) return TOU_ERR_NOMEM;
    copy_in(rb, 0, data, n);
    rb->ready += n;
    return (int)n;
  }
  unsigned lo, hi;
  find_merge_span(rb, (uint32_t)off, (uint32_t)(off + n), &lo, &hi);
  /* Everything that can fail is checked before anything changes. */
  if (rb->nranges - (hi - lo) + 1 > TOU_RECVBUF_MAX_RANGES) return TOU_ERR_LIMIT;
  if (rb->ranges == NULL) {
    rb->ranges = tou_mem_alloc(rb->alloc, TOU_RECVBUF_MAX_RANGES * sizeof rb->ranges[0]);
    if (rb->ranges == NULL) return TOU_ERR_NOMEM;
  }
  if (need > rb->cap && grow(rb, need) < 0) return TOU_ERR_NOMEM;
  copy_in(rb, off, data, n);
  merge_range(rb, (uint32_t)off, (uint32_t)(off + n), lo, hi);
  return (int)advance_in_order(rb);
}

size_t recvbuf_read(tou_recvbuf_t *rb, uint8_t *out, size_t n) {
  if (n > rb->ready) n = rb->ready;
  if (n == 0) return 0;
  size_t first = rb->cap - rb->head < n ? rb->cap - rb->head : n;
  memcpy(out, rb->data + rb->head, first);
  memcpy(out + first, rb->data, n - first);
  rb->head = (rb->head + n) % rb->cap;
  rb->ready -= n;
  return n;
}

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
  rb->data = NULL;
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

/* Ranges after adding [s, e): merged into a copy so that a refusal (too many
 * ranges) leaves the buffer untouched. Returns the new count or -1. */
static int merge_range(const tou_recvbuf_t *rb, uint32_t s, uint32_t e, tou_recv_range_t *out) {
  unsigned n = 0, i = 0;
  while (i < rb->nranges && rb->ranges[i].end < s) out[n++] = rb->ranges[i++];
  tou_recv_range_t m = {s, e};
  while (i < rb->nranges && rb->ranges[i].start <= e) {
    if (rb->ranges[i].start < m.start) m.start = rb->ranges[i].start;
    if (rb->ranges[i].end > m.end) m.end = rb->ranges[i].end;
    i++;
  }
  if (n == TOU_RECVBUF_MAX_RANGES) return -1;
  out[n++] = m;
  while (i < rb->nranges) {
    if (n == TOU_RECVBUF_MAX_RANGES) return -1;
    out[n++] = rb->ranges[i++];
  }
  return (int)n;
}

static void copy_in(tou_recvbuf_t *rb, size_t off, const uint8_t *data, size_t n) {
  size_t at = (rb->head + rb->ready + off) % rb->cap;
  size_t first = rb->cap - at < n ? rb->cap - at : n;
  memcpy(rb->data + at, data, first);
  memcpy(rb->data, data + first, n - first);
}

/* The first range starting at RCV.NXT becomes readable; the others move
 * closer by the same amount. */
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
  tou_recv_range_t merged[TOU_RECVBUF_MAX_RANGES];
  int count = merge_range(rb, (uint32_t)off, (uint32_t)(off + n), merged);
  if (count < 0) return TOU_ERR_LIMIT;
  size_t need = rb->ready + off + n;
  if (need > rb->cap && grow(rb, need) < 0) return TOU_ERR_NOMEM;
  copy_in(rb, off, data, n);
  memcpy(rb->ranges, merged, (size_t)count * sizeof merged[0]);
  rb->nranges = (unsigned)count;
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

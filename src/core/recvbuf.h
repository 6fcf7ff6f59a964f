/* Receive buffer: in-order bytes waiting for the application, followed by
 * out-of-order segments kept in place until the gap before them fills.
 * Positions are offsets from the in-order end (RCV.NXT). Bounded twice: by
 * `limit` bytes (the receive window) and by TOU_RECVBUF_MAX_RANGES separate
 * out-of-order ranges, so a peer sending many tiny disjoint pieces cannot
 * make bookkeeping grow. Duplicates are absorbed; nothing is delivered twice. */
#ifndef TOU_CORE_RECVBUF_H
#define TOU_CORE_RECVBUF_H

#include <stddef.h>
#include <stdint.h>

#include "core.h"

/* A drop-tail bottleneck overflowing in slow start loses every other
 * segment for a while: each hole is a range, and data past the last range
 * that fits is discarded (the sender then stalls until its RTO). 256 ranges
 * (2 KiB) cover the overshoot of a 1-BDP queue at 100 Mbit/s x 40 ms. */
#define TOU_RECVBUF_MAX_RANGES 256

typedef struct tou_recv_range {
  uint32_t start, end; /* [start, end) offsets from RCV.NXT */
} tou_recv_range_t;

typedef struct tou_recvbuf {
  uint8_t *data;
  size_t cap;
  size_t head;  /* ring index of the next byte to read */
  size_t ready; /* in-order bytes not yet read */
  size_t limit;
  /* Sorted, disjoint, non-adjacent; allocated at the first out-of-order
   * segment, so a connection that never sees reordering pays nothing. */
  tou_recv_range_t *ranges;
  unsigned nranges;
  const tou_allocator_t *alloc;
} tou_recvbuf_t;

void recvbuf_init(tou_recvbuf_t *rb, size_t limit, const tou_allocator_t *alloc);
void recvbuf_free(tou_recvbuf_t *rb);
/* Stores n bytes that start `off` bytes past RCV.NXT (bytes beyond the
 * window are cut off). Returns how far the in-order end advanced (RCV.NXT
 * moves by this much), TOU_ERR_LIMIT if the segment would need one range too
 * many, or TOU_ERR_NOMEM if the ring could not grow; then nothing is stored. */
int recvbuf_write(tou_recvbuf_t *rb, size_t off, const uint8_t *data, size_t n);
/* Copies up to n in-order bytes out. */
size_t recvbuf_read(tou_recvbuf_t *rb, uint8_t *out, size_t n);
static inline size_t recvbuf_ready(const tou_recvbuf_t *rb) { return rb->ready; }
/* Raises the limit (receive autotuning); the ring grows as data needs it. */
static inline void recvbuf_set_limit(tou_recvbuf_t *rb, size_t limit) {
  if (limit > rb->limit) rb->limit = limit;
}
/* Receive window: room past RCV.NXT. */
static inline size_t recvbuf_window(const tou_recvbuf_t *rb) { return rb->limit - rb->ready; }
/* Out-of-order ranges (for SACK blocks), oldest position first. */
static inline unsigned recvbuf_ranges(const tou_recvbuf_t *rb, const tou_recv_range_t **out) {
  *out = rb->ranges;
  return rb->nranges;
}

#endif

/* 32-bit sequence number arithmetic (RFC 9293 section 3.4, RFC 1982):
 * comparisons are modulo 2^32 and valid while the two numbers are less than
 * 2^31 apart. */
#ifndef TOU_CORE_SEQ_H
#define TOU_CORE_SEQ_H

#include <stdbool.h>
#include <stdint.h>

typedef uint32_t tou_seq_t;

static inline int32_t seq_diff(tou_seq_t a, tou_seq_t b) { return (int32_t)(a - b); }
static inline bool seq_lt(tou_seq_t a, tou_seq_t b) { return seq_diff(a, b) < 0; }
static inline bool seq_leq(tou_seq_t a, tou_seq_t b) { return seq_diff(a, b) <= 0; }
static inline bool seq_gt(tou_seq_t a, tou_seq_t b) { return seq_diff(a, b) > 0; }
static inline bool seq_geq(tou_seq_t a, tou_seq_t b) { return seq_diff(a, b) >= 0; }
static inline tou_seq_t seq_max(tou_seq_t a, tou_seq_t b) { return seq_gt(a, b) ? a : b; }
static inline tou_seq_t seq_min(tou_seq_t a, tou_seq_t b) { return seq_lt(a, b) ? a : b; }

/* lo <= x < hi, modulo 2^32. An empty window (lo == hi) contains nothing. */
static inline bool seq_in_window(tou_seq_t x, tou_seq_t lo, tou_seq_t hi) {
  return (uint32_t)(x - lo) < (uint32_t)(hi - lo);
}

/* lo <= x <= hi, modulo 2^32. */
static inline bool seq_between(tou_seq_t x, tou_seq_t lo, tou_seq_t hi) {
  return (uint32_t)(x - lo) <= (uint32_t)(hi - lo);
}

#endif

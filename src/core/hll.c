#include "hll.h"

#include <math.h>
#include <string.h>

void hll_clear(tou_hll_t *h) { memset(h->reg, 0, sizeof h->reg); }

void hll_add(tou_hll_t *h, uint64_t hash) {
  unsigned idx = (unsigned)(hash >> (64 - TOU_HLL_BITS));
  /* Rank: position of the first 1 bit in the remaining bits; a guard bit
   * bounds it when they are all zero. */
  uint64_t w = hash << TOU_HLL_BITS | (1ull << (TOU_HLL_BITS - 1));
  uint8_t rank = (uint8_t)(__builtin_clzll(w) + 1);
  if (rank > h->reg[idx]) h->reg[idx] = rank;
}

uint64_t hll_estimate(const tou_hll_t *h) {
  const double m = TOU_HLL_REGISTERS;
  double sum = 0;
  unsigned zeros = 0;
  for (unsigned i = 0; i < TOU_HLL_REGISTERS; i++) {
    sum += ldexp(1.0, -(int)h->reg[i]);
    if (h->reg[i] == 0) zeros++;
  }
  double alpha = 0.7213 / (1.0 + 1.079 / m);
  double e = alpha * m * m / sum;
  /* Small range: linear counting over the empty registers is exact-ish
   * where the raw estimate is biased. 64-bit hashes need no large-range
   * correction. */
  if (e <= 2.5 * m && zeros > 0) e = m * log(m / zeros);
  return (uint64_t)(e + 0.5);
}

/* HyperLogLog (Flajolet et al. 2007): how many distinct values (source
 * addresses of SYNs) were seen, in a fixed 4 KiB whatever their number.
 * The caller hashes the values with a keyed hash, so a sender cannot pick
 * addresses that skew the estimate. Standard error 1.04 / sqrt(4096) ~ 1.6 %. */
#ifndef TOU_CORE_HLL_H
#define TOU_CORE_HLL_H

#include <stdint.h>

#define TOU_HLL_BITS 12
#define TOU_HLL_REGISTERS (1u << TOU_HLL_BITS)

typedef struct tou_hll {
  uint8_t reg[TOU_HLL_REGISTERS];
} tou_hll_t;

void hll_clear(tou_hll_t *h);
/* Adds one (uniformly distributed) 64-bit hash. */
void hll_add(tou_hll_t *h, uint64_t hash);
/* Estimated number of distinct hashes added since the last clear. */
uint64_t hll_estimate(const tou_hll_t *h);

#endif

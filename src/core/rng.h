/* Per-endpoint randomness: libsodium's system generator, or a ChaCha20
 * keystream from a 32-byte seed so that tests and the simulator replay
 * exactly. Connection ids, ISN secrets and nonces all come from here. */
#ifndef TOU_CORE_RNG_H
#define TOU_CORE_RNG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOU_RNG_SEED_LEN 32

typedef struct tou_rng {
  bool seeded;
  uint8_t key[TOU_RNG_SEED_LEN];
  uint64_t counter; /* ChaCha20 nonce: one 64-byte block per value */
  uint8_t block[64];
  size_t used; /* bytes of block already handed out */
} tou_rng_t;

/* seed NULL: system randomness. Returns 0, or -1 if libsodium cannot start. */
int rng_init(tou_rng_t *r, const uint8_t *seed);
void rng_bytes(tou_rng_t *r, void *out, size_t len);
uint32_t rng_u32(tou_rng_t *r);
uint64_t rng_u64(tou_rng_t *r);

#endif

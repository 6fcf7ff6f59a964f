#include "rng.h"

#include <sodium.h>
#include <string.h>

int rng_init(tou_rng_t *r, const uint8_t *seed) {
  memset(r, 0, sizeof *r);
  /* sodium_init() is idempotent and thread-safe; it only selects
   * implementations, so it adds no state of ours. */
  if (sodium_init() < 0) return -1;
  if (seed == NULL) return 0;
  r->seeded = true;
  memcpy(r->key, seed, TOU_RNG_SEED_LEN);
  r->used = sizeof r->block;
  return 0;
}

static void refill(tou_rng_t *r) {
  uint8_t nonce[crypto_stream_chacha20_NONCEBYTES];
  memset(nonce, 0, sizeof nonce);
  for (size_t i = 0; i < sizeof nonce && i < 8; i++) nonce[i] = (uint8_t)(r->counter >> (8 * i));
  r->counter++;
  crypto_stream_chacha20(r->block, sizeof r->block, nonce, r->key);
  r->used = 0;
}

void rng_bytes(tou_rng_t *r, void *out, size_t len) {
  if (!r->seeded) {
    randombytes_buf(out, len);
    return;
  }
  uint8_t *p = out;
  while (len > 0) {
    if (r->used == sizeof r->block) refill(r);
    size_t n = sizeof r->block - r->used;
    if (n > len) n = len;
    memcpy(p, r->block + r->used, n);
    r->used += n;
    p += n;
    len -= n;
  }
}

uint32_t rng_u32(tou_rng_t *r) {
  uint32_t v;
  rng_bytes(r, &v, sizeof v);
  return v;
}

uint64_t rng_u64(tou_rng_t *r) {
  uint64_t v;
  rng_bytes(r, &v, sizeof v);
  return v;
}

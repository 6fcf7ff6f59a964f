#include "isn.h"

#include <sodium.h>
#include <string.h>

#include "core.h"

tou_seq_t isn_generate(const uint8_t key[TOU_ISN_KEY_LEN], uint64_t now_us,
                       uint32_t local_cid, uint32_t remote_cid, const tou_addr_t *peer) {
  uint8_t in[8 + 1 + sizeof peer->bytes];
  size_t n = 0;
  for (int i = 0; i < 4; i++) in[n++] = (uint8_t)(local_cid >> (8 * i));
  for (int i = 0; i < 4; i++) in[n++] = (uint8_t)(remote_cid >> (8 * i));
  size_t alen = peer->len <= sizeof peer->bytes ? peer->len : sizeof peer->bytes;
  in[n++] = (uint8_t)alen;
  memcpy(in + n, peer->bytes, alen);
  n += alen;
  uint8_t h[crypto_shorthash_BYTES];
  crypto_shorthash(h, in, n, key);
  uint32_t f = (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 24;
  /* RFC 6528 section 3: M is a 4-microsecond timer. */
  return (tou_seq_t)(now_us / 4) + f;
}

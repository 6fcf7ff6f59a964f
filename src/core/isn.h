/* Initial sequence numbers (RFC 6528): ISN = M + F(ids, secret), where M is a
 * clock ticking every 4 microseconds and F a keyed hash (SipHash-2-4 via
 * libsodium's crypto_shorthash) of what identifies the connection, so ISNs
 * of distinct connections are unrelated and cannot be predicted from
 * earlier ones, while a reincarnation of the same identifiers still moves
 * forward with the clock. */
#ifndef TOU_CORE_ISN_H
#define TOU_CORE_ISN_H

#include <stdint.h>

#include "seq.h"

#define TOU_ISN_KEY_LEN 16

struct tou_addr;

tou_seq_t isn_generate(const uint8_t key[TOU_ISN_KEY_LEN], uint64_t now_us,
                       uint32_t local_cid, uint32_t remote_cid, const struct tou_addr *peer);

#endif

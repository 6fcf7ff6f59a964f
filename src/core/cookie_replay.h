/* Replay filter for SYN cookies: a cookie is a valid ticket for its whole
 * lifetime, so an ACK captured on the path and sent again after its
 * connection ended (without a TIME_WAIT record to catch it, e.g. after a
 * reset) would rebuild a second connection. Each accepted cookie is
 * remembered in a Bloom filter (3 bits in 2^16) for the period the cookie
 * was made in; two generations cover every cookie still valid. 16 KiB,
 * allocated only once a cookie has been accepted. False positives (a fresh
 * cookie taken for a replay, about 1e-4 after 1000 cookies in one period)
 * cost that client a reset, as an expired cookie would. */
#ifndef TOU_CORE_COOKIE_REPLAY_H
#define TOU_CORE_COOKIE_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#define TOU_COOKIE_REPLAY_BITS 16

typedef struct cookie_replay {
  uint64_t counter[2]; /* period each generation holds */
  bool used[2];
  uint8_t bits[2][(1u << TOU_COOKIE_REPLAY_BITS) / 8];
} cookie_replay_t;

void cookie_replay_init(cookie_replay_t *r);
/* True when (counter, hash) was recorded before; otherwise records it. */
bool cookie_replay_check_and_add(cookie_replay_t *r, uint64_t counter, uint64_t hash);

#endif

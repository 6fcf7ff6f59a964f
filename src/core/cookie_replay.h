/* Replay check for SYN cookies: a cookie is a valid ticket for its whole
 * lifetime, so an ACK captured on the path and sent again after its
 * connection ended without a TIME_WAIT record (after a reset, or on the
 * passive-close side) would rebuild a second connection. While the
 * connection lives, or its TIME_WAIT record does, the listener's table
 * lookup already refuses the replay (listen_cookie.c cid_free); this record
 * covers the rest.
 *
 * Exact, never a false positive (a Bloom filter here reset legitimate
 * clients: ~5 % of them at 10,000 cookies a period): a hash set of the
 * validated handshakes (server cid, client cid, client ISN, cookie ISS) of
 * the current and previous cookie periods, at most `cap` entries. When full
 * the oldest entry is evicted (FIFO), and a replay of it is then accepted —
 * as Linux accepts every replay within a cookie's lifetime. Memory:
 * cookie_replay_bytes(cap), allocated once when the first cookie returns.
 * Buckets are chosen by a keyed hash (the caller's), so a flooder cannot
 * aim at one chain. */
#ifndef TOU_CORE_COOKIE_REPLAY_H
#define TOU_CORE_COOKIE_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core.h"

#define TOU_COOKIE_REPLAY_MAX_CAP (1u << 22)

typedef struct cookie_replay_key {
  uint32_t server_cid, client_cid, client_isn, iss;
} cookie_replay_key_t;

typedef struct cookie_replay_entry {
  uint64_t counter; /* cookie period */
  cookie_replay_key_t key;
  uint32_t bucket;  /* its chain */
  uint32_t next;    /* next entry in the chain, or TOU_COOKIE_REPLAY_NONE */
} cookie_replay_entry_t;

#define TOU_COOKIE_REPLAY_NONE UINT32_MAX

typedef struct cookie_replay {
  uint32_t cap, mask;      /* entries; buckets - 1 (buckets: a power of two >= 2 cap) */
  uint32_t oldest, count;  /* FIFO ring of entries */
  uint64_t evicted;        /* entries dropped while still in their period */
  cookie_replay_entry_t *e;
  uint32_t *bucket;
} cookie_replay_t;

/* Bytes cookie_replay_new() allocates for `cap` (clamped to 1..MAX_CAP). */
size_t cookie_replay_bytes(uint32_t cap);
cookie_replay_t *cookie_replay_new(const tou_allocator_t *a, uint32_t cap);
void cookie_replay_free(const tou_allocator_t *a, cookie_replay_t *r);

/* True when the handshake `k` (of cookie period `counter`, keyed hash
 * `hash`) was recorded before; otherwise records it. Entries older than the
 * previous period are forgotten first (their cookies have expired). */
bool cookie_replay_check_and_add(cookie_replay_t *r, uint64_t counter,
                                 const cookie_replay_key_t *k, uint64_t hash);

#endif

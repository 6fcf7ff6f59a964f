/* SYN cookies: the state a listener would keep for a half-open connection,
 * folded into the two values of its SYN-ACK that the client must echo — the
 * server's connection identifier (echoed as dst_cid in every later segment)
 * and its ISS (echoed as ack - 1) — so that under a SYN flood nothing is
 * allocated until a client completes the handshake.
 *
 * Encoding (docs/PROTOCOL.md section 8):
 *   server cid = r (23 bits) << 9 | options (9 bits)
 *     options  = mss index (3) | wscale (4, 15 = not offered) << 3
 *                | SACK-permitted << 7 | timestamps << 8
 *   ISS        = counter mod 4 << 30 | MAC (30 bits)
 *   MAC        = SipHash-2-4(key; counter, peer address, client cid, client ISN,
 *                server cid), counter = now / (lifetime / 2)
 * r is itself a keyed hash of the SYN, so a retransmitted SYN gets the same
 * answer. Pure functions: no allocation, no clock. */
#ifndef TOU_CORE_SYNCOOKIE_H
#define TOU_CORE_SYNCOOKIE_H

#include <stdbool.h>
#include <stdint.h>

#include "core.h"

#define TOU_SYNCOOKIE_KEY_LEN 16

/* What the client's SYN offered (the options a cookie rebuilds). */
typedef struct syncookie_opts {
  uint16_t mss;    /* rounded down to the cookie's MSS table */
  bool wscale_ok;  /* the SYN carried window scale ... */
  uint8_t wscale;  /* ... with this shift (0..14) */
  bool sack_ok;
  bool ts_ok;
} syncookie_opts_t;

/* The SYN a cookie answers / the ACK that returns it. */
typedef struct syncookie_id {
  const tou_addr_t *peer;
  uint32_t client_cid;
  tou_seq_t client_isn;
} syncookie_id_t;

/* Reads the options of a SYN into the cookie's (coarser) form. */
void syncookie_opts_from_syn(const tou_options_t *syn, syncookie_opts_t *out);

/* The server cid for a SYN; attempt (0, 1, ...) gives other values when
 * one is already in use. Never 0. */
uint32_t syncookie_server_cid(const uint8_t key[TOU_SYNCOOKIE_KEY_LEN], const syncookie_id_t *id,
                              const syncookie_opts_t *opts, unsigned attempt);

/* The ISS carrying the MAC for (id, server_cid) at time now. */
tou_seq_t syncookie_iss(const uint8_t key[TOU_SYNCOOKIE_KEY_LEN], uint64_t now_us,
                        uint64_t lifetime_us, const syncookie_id_t *id, uint32_t server_cid);

/* Checks a returning cookie: the ACK's dst_cid and ack - 1, the client cid
 * and seq - 1. Returns TOU_OK and the options, or TOU_ERR_INVAL (bad MAC:
 * forged, or another SYN's) / TOU_ERR_TIMEDOUT (older than the lifetime).
 * *counter receives the cookie's time counter (for the replay filter). */
int syncookie_check(const uint8_t key[TOU_SYNCOOKIE_KEY_LEN], uint64_t now_us,
                    uint64_t lifetime_us, const syncookie_id_t *id, uint32_t server_cid,
                    tou_seq_t iss, syncookie_opts_t *opts, uint64_t *counter);

/* Offset of the timestamp clock of a cookie connection: the SYN-ACK and the
 * rebuilt connection must agree on it without state. */
uint32_t syncookie_ts_offset(const uint8_t key[TOU_SYNCOOKIE_KEY_LEN], uint32_t server_cid);

#endif

/* SYN flood detection: decides when the listener stops keeping state for
 * half-open connections and answers with SYN cookies instead, and when it
 * goes back. A flood is suspected when a SYN finds the half-open queue full
 * or when more than syn_flood_rate SYNs arrive within one second; it is over
 * once neither has happened for syn_flood_quiet_us and the half-open queue
 * has room again (entries left by the flood expire with their SYN-ACK
 * retries). While it lasts, the distinct sources of SYNs are counted in a
 * fixed-size sketch (hll.h). Pure bookkeeping: the caller says whether the
 * queue is full and hashes the source address. */
#ifndef TOU_CORE_FLOOD_H
#define TOU_CORE_FLOOD_H

#include <stdbool.h>
#include <stdint.h>

#include "core.h"
#include "hll.h"

typedef struct tou_flood {
  bool active;            /* a flood is suspected: cookie mode (TOU_SYNCOOKIES_AUTO) */
  bool ever;              /* a flood was seen: sources hold its count */
  uint64_t last_pressure; /* last SYN that found the queue full or the rate exceeded */
  uint64_t check_at;      /* when to look whether the flood ended; TOU_NEVER */
  uint64_t window_start;  /* one-second window of the SYN rate */
  unsigned window_syns;
  bool cookies_sent;      /* a cookie went out ... */
  uint64_t last_cookie;   /* ... last at this time */
  tou_hll_t sources;
} tou_flood_t;

void flood_init(tou_flood_t *f);

/* A SYN for the listener arrived. Counts it and returns true when it must be
 * answered with a cookie rather than with state. */
bool flood_on_syn(tou_flood_t *f, const tou_config_t *cfg, tou_ep_stats_t *st, uint64_t now,
                  uint64_t source_hash, bool queue_full);

void flood_cookie_sent(tou_flood_t *f, uint64_t now);
/* Whether an ACK to no connection may carry one of our cookies: only if a
 * cookie went out within the cookie lifetime, so in normal times forged
 * cookie ACKs cost no MAC computation and meet a plain RST. */
bool flood_cookie_acks_expected(const tou_flood_t *f, const tou_config_t *cfg, uint64_t now);

uint64_t flood_deadline(const tou_flood_t *f);
void flood_on_timer(tou_flood_t *f, const tou_config_t *cfg, uint64_t now, bool queue_full);

/* Fills the flood fields of the endpoint statistics. */
void flood_get_stats(const tou_flood_t *f, tou_ep_stats_t *st);

#endif

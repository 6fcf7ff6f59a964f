/* TIME_WAIT as compact endpoint records (not full connections): what is
 * needed to re-acknowledge a retransmitted FIN and to recognise the old
 * connection's segments for 2*MSL. Bounded by config.max_time_wait; when
 * full the record closest to expiry is evicted (it is the oldest). */
#ifndef TOU_CORE_TIME_WAIT_H
#define TOU_CORE_TIME_WAIT_H

#include <stdint.h>

#include "core.h"
#include "list.h"

typedef struct tou_tw {
  tou_addr_t peer;
  uint32_t local_cid, remote_cid;
  tou_seq_t snd_nxt, rcv_nxt;
  bool ts_ok;
  uint32_t ts_recent, ts_offset;
  uint64_t expires;
  struct tou_tw *hnext;
  tou_list_t link; /* ordered by expiry: a restart moves a record to the back */
} tou_tw_t;

typedef struct tou_tw_table {
  tou_tw_t **buckets;
  size_t mask;
  tou_list_t fifo;
  unsigned count, max;
  const tou_allocator_t *alloc;
} tou_tw_table_t;

int tw_table_init(tou_tw_table_t *t, unsigned max, const tou_allocator_t *alloc);
void tw_table_free(tou_tw_table_t *t);
tou_tw_t *tw_lookup(const tou_tw_table_t *t, uint32_t local_cid);
/* A new record (the caller fills it); evicts the oldest when full. NULL when
 * allocation fails or max_time_wait is 0: the connection then simply ends. */
tou_tw_t *tw_insert(tou_tw_table_t *t, uint32_t local_cid, uint64_t expires);
void tw_remove(tou_tw_table_t *t, tou_tw_t *tw);
void tw_restart(tou_tw_table_t *t, tou_tw_t *tw, uint64_t expires);
uint64_t tw_deadline(const tou_tw_table_t *t);
/* The oldest record if it has expired by now, else NULL. */
tou_tw_t *tw_first_expired(const tou_tw_table_t *t, uint64_t now);

/* A segment for a TIME_WAIT record arrived (endpoint.c demultiplexes). */
void tw_input(tou_ep_t *ep, tou_tw_t *tw, uint64_t now, const tou_segment_t *seg);

#endif

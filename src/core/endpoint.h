/* The endpoint object (internal): the connection tables, the listener, the
 * event and output ready-lists, TIME_WAIT records and the queue of replies
 * the endpoint itself sends (RSTs to no connection, RSTs of released
 * connections, version rejects). */
#ifndef TOU_CORE_ENDPOINT_H
#define TOU_CORE_ENDPOINT_H

#include "conn.h"
#include "core.h"
#include "flood.h"
#include "isn.h"
#include "list.h"
#include "rng.h"
#include "syncookie.h"
#include "time_wait.h"
#include "timer_heap.h"

/* Replies queued at the endpoint; more are dropped (and counted). */
#define TOU_EP_REPLY_QUEUE 64
#define TOU_EP_RAW_REPLY_MAX 64

typedef struct ep_reply {
  tou_addr_t to;
  tou_segment_t seg; /* header only: endpoint replies never carry payload */
  uint8_t raw_len;   /* > 0: send raw[] verbatim (version reject) */
  uint8_t raw[TOU_EP_RAW_REPLY_MAX];
} ep_reply_t;

struct tou_ep {
  tou_config_t cfg;
  tou_rng_t rng;
  uint8_t isn_key[TOU_ISN_KEY_LEN];
  uint8_t hash_key[16]; /* keys the peer-table hash against collision flooding */

  tou_conn_t **cid_buckets;  /* by local cid */
  tou_conn_t **peer_buckets; /* by (peer address, remote cid); remote cid 0 = SYN_SENT */
  size_t bucket_mask;
  unsigned nconns;
  tou_list_t all;    /* every connection */
  tou_list_t events; /* connections with events for the application */
  tou_list_t output; /* connections that may have something to send */
  tou_list_t reap;   /* finished connections to free at the end of the call */

  /* Listener (the LISTEN state lives here, not in a connection). */
  bool listening;
  unsigned backlog;
  tou_list_t half_open, accept_q;
  unsigned n_half_open, n_accept;
  unsigned ep_events; /* TOU_EV_ACCEPT */

  tou_tw_table_t tw;
  tou_timer_heap_t timers;

  /* SYN flood defence (flood.h, listen_cookie.c). */
  uint8_t cookie_key[TOU_SYNCOOKIE_KEY_LEN];
  tou_flood_t flood;
  struct cookie_replay *cookie_replay; /* allocated when the first cookie returns */

  ep_reply_t replies[TOU_EP_REPLY_QUEUE];
  unsigned reply_head, reply_len;

  /* RFC 5961 section 7: one endpoint-wide challenge ACK budget per second. */
  uint64_t chack_window_start;
  unsigned chack_count;

  tou_ep_stats_t stats;
};

/* Tables (endpoint.c). */
tou_conn_t *ep_find_cid(const tou_ep_t *ep, uint32_t cid);
tou_conn_t *ep_find_peer(const tou_ep_t *ep, const tou_addr_t *peer, uint32_t remote_cid);
void ep_insert_conn(tou_ep_t *ep, tou_conn_t *c);
void ep_remove_conn(tou_ep_t *ep, tou_conn_t *c);
/* The remote cid became known (SYN seen): move c in the peer table. */
void ep_set_remote_cid(tou_ep_t *ep, tou_conn_t *c, uint32_t remote_cid);
/* A fresh local connection id: non-zero, not used by a connection or a
 * TIME_WAIT record. */
uint32_t ep_new_cid(tou_ep_t *ep);
/* Unlinks c from the connection table, timer heap, listener queues and
 * every endpoint list (idempotent). */
void ep_detach_conn(tou_ep_t *ep, tou_conn_t *c);
/* Drops c from the tables now; it is freed at the end of the current call. */
void ep_reap_later(tou_ep_t *ep, tou_conn_t *c);
/* Frees the connections ep_reap_later() collected. */
void ep_reap(tou_ep_t *ep);

/* Replies (ep_reply.c). */
void ep_queue_reply(tou_ep_t *ep, const tou_addr_t *to, const tou_segment_t *seg);
void ep_queue_raw(tou_ep_t *ep, const tou_addr_t *to, const uint8_t *raw, size_t len);
/* RFC 9293 3.10.7.1: the reset for a segment that matches no connection. */
void ep_reset_unmatched(tou_ep_t *ep, const tou_addr_t *to, const tou_segment_t *seg);
bool ep_challenge_ack_allowed(tou_ep_t *ep, uint64_t now);

/* Listener (listen.c). */
void listen_on_syn(tou_ep_t *ep, uint64_t now, const tou_addr_t *from, const tou_segment_t *seg);
/* A passive connection completed its handshake. False if the accept queue
 * is full: the caller ignores the ACK so that the SYN-ACK is retransmitted. */
bool listen_on_established(tou_ep_t *ep, tou_conn_t *c);
void listen_forget(tou_ep_t *ep, tou_conn_t *c);

/* Tracing: a test of one pointer when unset. */
void ep_trace_emit(tou_ep_t *ep, const tou_trace_event_t *ev);
static inline void ep_trace_state(tou_ep_t *ep, uint64_t now, const tou_conn_t *c,
                                  const tou_addr_t *peer, tou_state_t from, tou_state_t to) {
  if (ep->cfg.trace == NULL) return;
  tou_trace_event_t ev = {.kind = TOU_TRACE_STATE, .now = now, .conn = c, .peer = peer,
                          .old_state = from, .new_state = to};
  ep_trace_emit(ep, &ev);
}
static inline void ep_trace_seg(tou_ep_t *ep, uint64_t now, tou_trace_kind_t kind,
                                const tou_conn_t *c, const tou_addr_t *peer,
                                const tou_segment_t *seg, int error) {
  if (ep->cfg.trace == NULL) return;
  tou_trace_event_t ev = {.kind = kind, .now = now, .conn = c, .peer = peer, .seg = seg,
                          .error = error};
  if (c != NULL) ev.old_state = ev.new_state = c->state;
  ep_trace_emit(ep, &ev);
}

#endif

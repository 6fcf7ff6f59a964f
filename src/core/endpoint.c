/* Endpoint: configuration, connection tables, demultiplexing of incoming
 * datagrams, the output and event ready-lists, and the endpoint timer. */
#include "endpoint.h"
#include "cc.h"

#include <sodium.h>
#include <string.h>

#include "alloc.h"
#include "listen_cookie.h"

#define MAX_RECV_BUFFER (1u << 30) /* RFC 7323 2.3: the largest scaled window */
#define MIN_MSS 64u

bool tou_addr_equal(const tou_addr_t *a, const tou_addr_t *b) {
  return a->len == b->len && a->len <= sizeof a->bytes && memcmp(a->bytes, b->bytes, a->len) == 0;
}

const char *tou_state_name(tou_state_t state) {
  switch (state) {
    case TOU_CLOSED: return "CLOSED";
    case TOU_LISTEN: return "LISTEN";
    case TOU_SYN_SENT: return "SYN_SENT";
    case TOU_SYN_RCVD: return "SYN_RCVD";
    case TOU_ESTABLISHED: return "ESTABLISHED";
    case TOU_FIN_WAIT_1: return "FIN_WAIT_1";
    case TOU_FIN_WAIT_2: return "FIN_WAIT_2";
    case TOU_CLOSE_WAIT: return "CLOSE_WAIT";
    case TOU_CLOSING: return "CLOSING";
    case TOU_LAST_ACK: return "LAST_ACK";
    case TOU_TIME_WAIT: return "TIME_WAIT";
  }
  return "UNKNOWN";
}

void tou_config_default(tou_config_t *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->mss = TOU_MSS_DEFAULT_V4;
  cfg->send_buffer = 2u * 1024 * 1024;
  cfg->recv_buffer = 4u * 1024 * 1024;
  cfg->recv_buffer_initial = 128u * 1024;
  cfg->delack_us = 40000;
  cfg->initial_rto_us = 1000000;
  cfg->min_rto_us = 200000;
  cfg->max_rto_us = 60000000;
  cfg->syn_retries = 6;
  cfg->synack_retries = 5;
  cfg->data_retries = 15;
  cfg->msl_us = 30000000;
  cfg->max_connections = 4096;
  cfg->max_time_wait = 4096;
  cfg->challenge_acks_per_sec = 1000;
  cfg->syn_backlog = 256;
  cfg->syncookies = TOU_SYNCOOKIES_AUTO;
  cfg->syn_flood_rate = 1000;
  cfg->syn_flood_quiet_us = 10000000;
  cfg->syncookie_lifetime_us = 64000000;
  cfg->syncookie_replay_max = 16384;
  cfg->keepalive_idle_us = 7200000000ull;
  cfg->keepalive_intvl_us = 75000000;
  cfg->keepalive_cnt = 9;
  cfg->link_probe_timeout_us = 5000000;
  cfg->link_probe_retry_us = 60000000;
  cfg->link_probe_min_gap_us = 1000000;
  cfg->user_timeout_min_us = 100000000ull;  /* RFC 1122 4.2.3.5: R2 >= 100 s for data */
  cfg->user_timeout_max_us = 3600000000ull;
}

static bool config_valid(const tou_config_t *c) {
  return c->mss >= MIN_MSS && c->mss <= 65535 && c->send_buffer > 0 && c->recv_buffer >= c->mss &&
         c->recv_buffer <= MAX_RECV_BUFFER && c->initial_rto_us > 0 && c->min_rto_us > 0 &&
         c->max_rto_us >= c->min_rto_us && c->max_connections > 0 &&
         c->delack_us < 500000 && /* RFC 9293 3.8.6.3: MUST be less than 0.5 s */
         (!c->user_timeout_accept || c->user_timeout_min_us <= c->user_timeout_max_us) &&
         (c->allocator.alloc == NULL || c->allocator.free != NULL) &&
         tou_cc_find(c->cc_algorithm) != NULL;
}

/* ---- tables ------------------------------------------------------------ */

static size_t cid_bucket(const tou_ep_t *ep, uint32_t cid) {
  return (size_t)((cid * 0x9E3779B1u) >> 8) & ep->bucket_mask;
}

/* Keyed (SipHash) so that a sender cannot aim many addresses at one chain. */
static size_t peer_bucket(const tou_ep_t *ep, const tou_addr_t *peer, uint32_t rcid) {
  uint8_t in[4 + sizeof peer->bytes];
  memcpy(in, &rcid, 4);
  size_t alen = peer->len <= sizeof peer->bytes ? peer->len : sizeof peer->bytes;
  memcpy(in + 4, peer->bytes, alen);
  uint8_t h[crypto_shorthash_BYTES];
  crypto_shorthash(h, in, 4 + alen, ep->hash_key);
  uint64_t v;
  memcpy(&v, h, sizeof v);
  return (size_t)v & ep->bucket_mask;
}

tou_conn_t *ep_find_cid(const tou_ep_t *ep, uint32_t cid) {
  for (tou_conn_t *c = ep->cid_buckets[cid_bucket(ep, cid)]; c; c = c->cid_next)
    if (c->local_cid == cid) return c;
  return NULL;
}

tou_conn_t *ep_find_peer(const tou_ep_t *ep, const tou_addr_t *peer, uint32_t rcid) {
  for (tou_conn_t *c = ep->peer_buckets[peer_bucket(ep, peer, rcid)]; c; c = c->peer_next)
    if (c->remote_cid == rcid && tou_addr_equal(&c->peer, peer)) return c;
  return NULL;
}

static void unchain(tou_conn_t **head, tou_conn_t *c, size_t next_off) {
  for (tou_conn_t **pp = head; *pp; pp = (tou_conn_t **)(void *)((char *)*pp + next_off)) {
    if (*pp == c) {
      *pp = *(tou_conn_t **)(void *)((char *)c + next_off);
      return;
    }
  }
}

static void peer_unlink(tou_ep_t *ep, tou_conn_t *c) {
  if (!c->in_peer_table) return;
  unchain(&ep->peer_buckets[peer_bucket(ep, &c->peer, c->remote_cid)], c,
          offsetof(tou_conn_t, peer_next));
  c->in_peer_table = false;
}

static void peer_link(tou_ep_t *ep, tou_conn_t *c) {
  size_t b = peer_bucket(ep, &c->peer, c->remote_cid);
  c->peer_next = ep->peer_buckets[b];
  ep->peer_buckets[b] = c;
  c->in_peer_table = true;
}

void ep_insert_conn(tou_ep_t *ep, tou_conn_t *c) {
  size_t b = cid_bucket(ep, c->local_cid);
  c->cid_next = ep->cid_buckets[b];
  ep->cid_buckets[b] = c;
  c->in_cid_table = true;
}

void ep_remove_conn(tou_ep_t *ep, tou_conn_t *c) {
  if (c->in_cid_table) {
    unchain(&ep->cid_buckets[cid_bucket(ep, c->local_cid)], c, offsetof(tou_conn_t, cid_next));
    c->in_cid_table = false;
  }
  peer_unlink(ep, c);
}

void ep_set_remote_cid(tou_ep_t *ep, tou_conn_t *c, uint32_t rcid) {
  peer_unlink(ep, c);
  c->remote_cid = rcid;
  peer_link(ep, c);
}

uint32_t ep_new_cid(tou_ep_t *ep) {
  for (;;) {
    uint32_t cid = rng_u32(&ep->rng);
    if (cid != 0 && ep_find_cid(ep, cid) == NULL && tw_lookup(&ep->tw, cid) == NULL) return cid;
  }
}

void ep_detach_conn(tou_ep_t *ep, tou_conn_t *c) {
  ep_remove_conn(ep, c);
  ep_timer_remove(ep, c);
  listen_forget(ep, c);
  list_remove(&c->event_link);
  list_remove(&c->output_link);
  list_remove(&c->all_link);
}

void ep_reap_later(tou_ep_t *ep, tou_conn_t *c) {
  if (c->dead) return;
  c->dead = true;
  ep_detach_conn(ep, c);
  list_push_back(&ep->reap, &c->all_link);
}

void ep_reap(tou_ep_t *ep) {
  while (!list_empty(&ep->reap)) conn_destroy(tou_container_of(ep->reap.next, tou_conn_t, all_link));
}

void ep_trace_emit(tou_ep_t *ep, const tou_trace_event_t *ev) { ep->cfg.trace(ep->cfg.trace_ctx, ev); }

/* ---- lifecycle ----------------------------------------------------------- */

tou_ep_t *tou_ep_new(const tou_config_t *cfg, uint64_t now) {
  if (cfg == NULL || !config_valid(cfg)) return NULL;
  tou_ep_t *ep = tou_mem_alloc(&cfg->allocator, sizeof *ep);
  if (ep == NULL) return NULL;
  memset(ep, 0, sizeof *ep);
  ep->cfg = *cfg;
  ep->cfg.seed = NULL; /* copied into the RNG; the caller's buffer may go away */
  list_init(&ep->all);
  list_init(&ep->events);
  list_init(&ep->output);
  list_init(&ep->reap);
  list_init(&ep->half_open);
  list_init(&ep->accept_q);
  ep->chack_window_start = now;
  if (rng_init(&ep->rng, cfg->seed) < 0) goto fail;
  rng_bytes(&ep->rng, ep->isn_key, sizeof ep->isn_key);
  rng_bytes(&ep->rng, ep->hash_key, sizeof ep->hash_key);
  rng_bytes(&ep->rng, ep->cookie_key, sizeof ep->cookie_key);
  flood_init(&ep->flood);
  size_t n = 16;
  while (n < cfg->max_connections && n < (1u << 20)) n *= 2;
  ep->bucket_mask = n - 1;
  ep->cid_buckets = tou_mem_alloc(&ep->cfg.allocator, n * sizeof(tou_conn_t *));
  ep->peer_buckets = tou_mem_alloc(&ep->cfg.allocator, n * sizeof(tou_conn_t *));
  if (ep->cid_buckets == NULL || ep->peer_buckets == NULL) goto fail;
  memset(ep->cid_buckets, 0, n * sizeof(tou_conn_t *));
  memset(ep->peer_buckets, 0, n * sizeof(tou_conn_t *));
  if (tw_table_init(&ep->tw, cfg->max_time_wait, &ep->cfg.allocator) < 0) goto fail;
  if (timer_heap_init(&ep->timers, cfg->max_connections, &ep->cfg.allocator) < 0) goto fail;
  return ep;
fail:
  tou_ep_free(ep);
  return NULL;
}

void tou_ep_free(tou_ep_t *ep) {
  if (ep == NULL) return;
  while (!list_empty(&ep->all)) ep_reap_later(ep, tou_container_of(ep->all.next, tou_conn_t, all_link));
  ep_reap(ep);
  if (ep->tw.buckets != NULL) tw_table_free(&ep->tw);
  tou_allocator_t a = ep->cfg.allocator;
  tou_mem_free(&a, ep->cid_buckets);
  tou_mem_free(&a, ep->peer_buckets);
  timer_heap_free(&ep->timers, &a);
  listen_cookie_free(ep);
  sodium_memzero(ep->isn_key, sizeof ep->isn_key);
  sodium_memzero(ep->cookie_key, sizeof ep->cookie_key);
  tou_mem_free(&a, ep);
}

/* ---- input ------------------------------------------------------------- */

static void drop(tou_ep_t *ep, uint64_t now, const tou_addr_t *from, const tou_segment_t *seg,
                 int why) {
  ep->stats.dropped++;
  ep_trace_seg(ep, now, TOU_TRACE_SEG_DROP, NULL, from, seg, why);
}

static void deliver(tou_ep_t *ep, uint64_t now, tou_conn_t *c, const tou_segment_t *seg) {
  ep_trace_seg(ep, now, TOU_TRACE_SEG_RECV, c, &c->peer, seg, 0);
  conn_input(c, now, seg);
  ep_timer_update(ep, c);
}

/* The segment names one of our connection ids. It belongs to that connection
 * only if it also comes from the connection's peer address and carries the
 * peer's id (a SYN_SENT connection learns the peer's id from its SYN-ACK). */
static void dispatch_by_cid(tou_ep_t *ep, uint64_t now, const tou_addr_t *from,
                            const tou_segment_t *seg) {
  tou_conn_t *c = ep_find_cid(ep, seg->dst_cid);
  if (c != NULL && tou_addr_equal(&c->peer, from) &&
      (c->remote_cid == seg->src_cid || (c->remote_cid == 0 && c->state == TOU_SYN_SENT))) {
    deliver(ep, now, c, seg);
    return;
  }
  tou_tw_t *tw = tw_lookup(&ep->tw, seg->dst_cid);
  if (tw != NULL && tou_addr_equal(&tw->peer, from) && tw->remote_cid == seg->src_cid) {
    ep_trace_seg(ep, now, TOU_TRACE_SEG_RECV, NULL, from, seg, 0);
    tw_input(ep, tw, now, seg);
    return;
  }
  if (listen_cookie_ack(ep, now, from, seg)) return; /* completes a SYN-cookie handshake */
  ep_trace_seg(ep, now, TOU_TRACE_SEG_RECV, NULL, from, seg, 0);
  ep_reset_unmatched(ep, from, seg);
}

/* Simultaneous open (rule 2 below): the peer table chains connections
 * newest first, so the oldest SYN_SENT one without a peer id is the last
 * match in its chain. The oldest, because that is the connection whose SYN
 * the peer most likely answers with this one (docs/PROTOCOL.md 4.1). */
static tou_conn_t *oldest_syn_sent_to(const tou_ep_t *ep, const tou_addr_t *from) {
  tou_conn_t *oldest = NULL;
  for (tou_conn_t *c = ep->peer_buckets[peer_bucket(ep, from, 0)]; c; c = c->peer_next)
    if (c->remote_cid == 0 && c->state == TOU_SYN_SENT && tou_addr_equal(&c->peer, from))
      oldest = c;
  return oldest;
}

/* A segment with dst_cid 0 can only be an opening SYN (the sender does not
 * know our id yet). Matching rule, in order:
 *  1. a connection whose peer is (from, src_cid): a retransmitted SYN for a
 *     half-open connection, or an old/forged SYN for a synchronized one
 *     (which answers it with a challenge ACK, RFC 5961 4.2);
 *  2. simultaneous open: our own SYN_SENT connection to that address that
 *     has not learnt a peer id yet (the oldest one) takes the SYN as the
 *     peer's half of the handshake and goes to SYN_RCVD;
 *  3. the listener, which creates a SYN_RCVD connection;
 *  4. otherwise no connection: RST. */
static void dispatch_opening_syn(tou_ep_t *ep, uint64_t now, const tou_addr_t *from,
                                 const tou_segment_t *seg) {
  if ((seg->flags & (TOU_SYN | TOU_ACK | TOU_RST)) != TOU_SYN || seg->src_cid == 0) {
    ep_trace_seg(ep, now, TOU_TRACE_SEG_RECV, NULL, from, seg, 0);
    if (seg->src_cid != 0) ep_reset_unmatched(ep, from, seg);
    return;
  }
  tou_conn_t *c = ep_find_peer(ep, from, seg->src_cid);
  if (c != NULL && c->state == TOU_SYN_RCVD && c->passive && seg->seq != c->irs) {
    /* RFC 9293 3.10.7.4 (SYN-RECEIVED from a passive OPEN): a new SYN from
     * the same peer replaces the half-open attempt; back to LISTEN. */
    conn_return_to_listen(c, now);
    c = NULL;
  }
  if (c == NULL) c = oldest_syn_sent_to(ep, from);
  if (c != NULL) {
    deliver(ep, now, c, seg);
  } else if (ep->listening) {
    ep_trace_seg(ep, now, TOU_TRACE_SEG_RECV, NULL, from, seg, 0);
    listen_on_syn(ep, now, from, seg);
  } else {
    ep_trace_seg(ep, now, TOU_TRACE_SEG_RECV, NULL, from, seg, 0);
    ep_reset_unmatched(ep, from, seg);
  }
}

/* A version reject (PROTOCOL.md 6) counts only for a connection we are
 * opening that it names exactly: SYN-SENT with no answer yet (so no peer cid
 * known, and the reject's source cid is the 0 our SYN carried), our own cid
 * as its destination, from the address we sent the SYN to. The CRC does not
 * authenticate; the 32 random bits of our cid (and the address) are what a
 * blind attacker would have to guess, as many as TCP's SEG.ACK = ISS+1 test
 * on a RST in SYN-SENT. Anything else is dropped, never answered. */
static void version_reject_input(tou_ep_t *ep, uint64_t now, const tou_addr_t *from,
                                 const uint8_t *data, size_t len) {
  tou_version_reject_t vr;
  int rc = tou_wire_decode_version_reject(data, len, &vr);
  if (rc < 0) {
    drop(ep, now, from, NULL, rc);
    return;
  }
  tou_conn_t *c = vr.dst_cid != 0 ? ep_find_cid(ep, vr.dst_cid) : NULL;
  if (c == NULL || c->state != TOU_SYN_SENT || c->remote_cid != 0 || vr.src_cid != 0 ||
      !tou_addr_equal(&c->peer, from) || !conn_syn_sent_version_reject(c, now, &vr)) {
    drop(ep, now, from, NULL, TOU_ERR_BAD_VERSION);
    return;
  }
  ep_timer_update(ep, c);
  ep_reap(ep);
}

void tou_ep_input(tou_ep_t *ep, uint64_t now, const tou_addr_t *from, const uint8_t *data,
                  size_t len) {
  ep->stats.datagrams_in++;
  tou_segment_t seg;
  int rc = tou_wire_decode(data, len, &seg);
  if (rc == TOU_ERR_BAD_VERSION && data[0] == 0) {
    version_reject_input(ep, now, from, data, len);
    return;
  }
  if (rc < 0) {
    drop(ep, now, from, NULL, rc);
    if (rc == TOU_ERR_BAD_VERSION) {
      uint8_t raw[TOU_EP_RAW_REPLY_MAX];
      int n = tou_wire_encode_version_reject(data, len, raw, sizeof raw);
      if (n > 0) ep_queue_raw(ep, from, raw, (size_t)n);
    }
    return;
  }
  if (seg.dst_cid != 0)
    dispatch_by_cid(ep, now, from, &seg);
  else
    dispatch_opening_syn(ep, now, from, &seg);
  ep_reap(ep);
}

tou_conn_t *tou_ep_conn_for(const tou_ep_t *ep, const tou_addr_t *from, const uint8_t *data,
                            size_t len) {
  uint32_t cid = tou_wire_peek_dst_cid(data, len);
  tou_conn_t *c = cid != 0 ? ep_find_cid(ep, cid) : NULL;
  return c != NULL && tou_addr_equal(&c->peer, from) ? c : NULL;
}

/* ---- output ------------------------------------------------------------- */

static int output_reply(tou_ep_t *ep, uint64_t now, tou_addr_t *to, uint8_t *buf, size_t cap) {
  ep_reply_t *r = &ep->replies[ep->reply_head];
  int n;
  if (r->raw_len > 0) {
    if (cap < r->raw_len) return TOU_ERR_NOBUFS;
    memcpy(buf, r->raw, r->raw_len);
    n = r->raw_len;
  } else {
    n = tou_wire_encode(&r->seg, buf, cap);
    if (n < 0) return n;
    if (r->seg.flags & TOU_RST) ep->stats.resets_sent++;
    ep_trace_seg(ep, now, TOU_TRACE_SEG_SENT, NULL, &r->to, &r->seg, 0);
  }
  *to = r->to;
  ep->reply_head = (ep->reply_head + 1) % TOU_EP_REPLY_QUEUE;
  ep->reply_len--;
  return n;
}

/* A connection's segment into buf: whole (gather NULL: the payload's
 * pieces copied after the header), or only its header with *gather naming
 * the payload's pieces in the send buffer. Returns the datagram's length. */
static int encode_conn_segment(tou_ep_t *ep, const tou_segment_t *seg,
                               const tou_payload_ref_t *pieces, uint8_t *buf, size_t cap,
                               tou_payload_ref_t *gather) {
  int n = tou_wire_encode_head_split(seg, pieces->len[0], pieces->data[1], buf, cap);
  if (n < 0 || seg->payload_len == 0) return n;
  if (gather) {
    *gather = *pieces;
    ep->stats.datagrams_gathered++;
  } else {
    memcpy(buf + n, pieces->data[0], pieces->len[0]);
    if (pieces->len[1] > 0) memcpy(buf + n + pieces->len[0], pieces->data[1], pieces->len[1]);
  }
  return n + (int)seg->payload_len;
}

/* One datagram: into buf whole, or (gather non-NULL) its header into buf
 * and its payload left where it lies in the send buffer. */
static int output(tou_ep_t *ep, uint64_t now, tou_addr_t *to, uint8_t *buf, size_t cap,
                  tou_payload_ref_t *gather) {
  if (gather) *gather = (tou_payload_ref_t){{NULL, NULL}, {0, 0}};
  if (ep->reply_len > 0) {
    int n = output_reply(ep, now, to, buf, cap);
    if (n > 0) ep->stats.datagrams_out++;
    return n;
  }
  if (cap < TOU_WIRE_MAX_HEADER_LEN + 1) return list_empty(&ep->output) ? 0 : TOU_ERR_NOBUFS;
  size_t pcap = cap - TOU_WIRE_MAX_HEADER_LEN;
  if (pcap > ep->cfg.mss) pcap = ep->cfg.mss;
  while (!list_empty(&ep->output)) {
    tou_conn_t *c = tou_container_of(ep->output.next, tou_conn_t, output_link);
    tou_segment_t seg;
    tou_payload_ref_t pieces;
    list_remove(&c->output_link);
    bool sent = conn_next_segment(c, now, &seg, pcap, &pieces);
    ep_timer_update(ep, c);
    if (!sent) continue;
    list_push_back(&ep->output, &c->output_link); /* round robin between connections */
    int n = encode_conn_segment(ep, &seg, &pieces, buf, cap, gather);
    if (n < 0) return n;
    *to = c->peer;
    ep->stats.datagrams_out++;
    ep_trace_seg(ep, now, TOU_TRACE_SEG_SENT, c, &c->peer, &seg, 0);
    return n;
  }
  ep_reap(ep);
  return 0;
}

int tou_ep_output(tou_ep_t *ep, uint64_t now, tou_addr_t *to, uint8_t *buf, size_t cap) {
  return output(ep, now, to, buf, cap, NULL);
}

int tou_ep_output_gather(tou_ep_t *ep, uint64_t now, tou_addr_t *to, uint8_t *buf, size_t cap,
                         tou_payload_ref_t *payload) {
  return output(ep, now, to, buf, cap, payload);
}

/* ---- timers ------------------------------------------------------------- */

uint64_t tou_ep_next_deadline(const tou_ep_t *ep) {
  uint64_t d = tw_deadline(&ep->tw), c = ep_timer_min(ep);
  if (flood_deadline(&ep->flood) < d) d = flood_deadline(&ep->flood);
  return c < d ? c : d;
}

void tou_ep_on_timer(tou_ep_t *ep, uint64_t now) {
  /* Each due connection runs once per call even if its deadline stays due. */
  tou_conn_t *c = ep_timer_take_due(ep, now);
  while (c != NULL) {
    tou_conn_t *next = c->timer_next;
    conn_on_timer(c, now);
    ep_timer_update(ep, c);
    c = next;
  }
  tou_tw_t *tw;
  while ((tw = tw_first_expired(&ep->tw, now)) != NULL) {
    ep_trace_state(ep, now, NULL, &tw->peer, TOU_TIME_WAIT, TOU_CLOSED);
    tw_remove(&ep->tw, tw);
  }
  ep_reap(ep);
  flood_on_timer(&ep->flood, &ep->cfg, now, ep->n_half_open >= ep->cfg.syn_backlog);
}

/* ---- events, listen, accept ------------------------------------------------ */

bool tou_ep_next_event(tou_ep_t *ep, tou_conn_t **conn, unsigned *events) {
  if (ep->ep_events != 0) {
    *conn = NULL;
    *events = ep->ep_events;
    ep->ep_events = 0;
    return true;
  }
  tou_list_t *f = list_front(&ep->events);
  if (f == NULL) return false;
  tou_conn_t *c = tou_container_of(f, tou_conn_t, event_link);
  list_remove(f);
  *conn = c;
  *events = c->events;
  c->events = 0;
  return true;
}

int tou_ep_listen(tou_ep_t *ep, unsigned backlog) {
  if (ep->listening) return TOU_ERR_BUSY;
  ep->listening = true;
  ep->backlog = backlog > 0 ? backlog : 1;
  return TOU_OK;
}

void tou_ep_unlisten(tou_ep_t *ep) {
  if (!ep->listening) return;
  ep->listening = false;
  /* Connections nobody accepted are reset, as when a listening TCP socket
   * is closed. */
  while (!list_empty(&ep->half_open))
    conn_abort_unaccepted(tou_container_of(ep->half_open.next, tou_conn_t, queue_link));
  while (!list_empty(&ep->accept_q))
    conn_abort_unaccepted(tou_container_of(ep->accept_q.next, tou_conn_t, queue_link));
  ep_reap(ep);
}

tou_conn_t *tou_ep_accept(tou_ep_t *ep) {
  tou_list_t *f = list_front(&ep->accept_q);
  if (f == NULL) return NULL;
  tou_conn_t *c = tou_container_of(f, tou_conn_t, queue_link);
  listen_forget(ep, c);
  c->owner = CONN_OWNER_APP;
  if (c->events != 0) list_push_back(&ep->events, &c->event_link);
  return c;
}

tou_conn_t *tou_ep_connect(tou_ep_t *ep, uint64_t now, const tou_addr_t *peer, int *err) {
  int dummy;
  if (err == NULL) err = &dummy;
  if (peer == NULL || peer->len == 0 || peer->len > sizeof peer->bytes) {
    *err = TOU_ERR_INVAL;
    return NULL;
  }
  if (ep->nconns >= ep->cfg.max_connections) {
    *err = TOU_ERR_LIMIT;
    return NULL;
  }
  tou_conn_t *c = conn_new(ep, now, peer, false);
  if (c == NULL) {
    *err = TOU_ERR_NOMEM;
    return NULL;
  }
  c->owner = CONN_OWNER_APP;
  ep_set_remote_cid(ep, c, 0); /* findable by a simultaneous-open SYN */
  conn_start_active(c, now);
  *err = TOU_OK;
  return c;
}

void tou_ep_get_stats(const tou_ep_t *ep, tou_ep_stats_t *st) {
  *st = ep->stats;
  st->connections = ep->nconns;
  st->half_open = ep->n_half_open;
  st->accept_queue = ep->n_accept;
  st->time_wait = ep->tw.count;
  flood_get_stats(&ep->flood, st);
}

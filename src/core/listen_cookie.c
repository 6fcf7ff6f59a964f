#include "listen_cookie.h"

#include <sodium.h>
#include <string.h>

#include "alloc.h"
#include "cookie_replay.h"
#include "endpoint.h"
#include "syncookie.h"

#define CID_ATTEMPTS 4

/* Keyed, so that a flooder cannot choose addresses that bias the count. */
static uint64_t source_hash(const tou_ep_t *ep, const tou_addr_t *a) {
  size_t alen = a->len <= sizeof a->bytes ? a->len : sizeof a->bytes;
  uint8_t h[crypto_shorthash_BYTES];
  crypto_shorthash(h, a->bytes, alen, ep->cookie_key);
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = v << 8 | h[i];
  return v;
}

/* The shift a connection of this endpoint announces (conn.c wscale_for):
 * the rebuilt connection computes it again, so both must agree. */
static uint8_t our_wscale(const tou_config_t *cfg) {
  uint8_t s = 0;
  while (s < 14 && (cfg->recv_buffer >> s) > 65535u) s++;
  return s;
}

static void drop_syn(tou_ep_t *ep, uint64_t now, const tou_addr_t *from,
                     const tou_segment_t *seg, int why) {
  ep->stats.syns_dropped++;
  ep->stats.dropped++;
  ep_trace_seg(ep, now, TOU_TRACE_SEG_DROP, NULL, from, seg, why);
}

/* The SYN-ACK a SYN_RCVD connection would send (conn_open.c syn_options),
 * with the cookie as server cid and ISS. It echoes only options the SYN
 * carried, plus MSS: never more than 4 bytes longer than the SYN, so a
 * spoofed SYN cannot be used for amplification. */
static void build_synack(const tou_ep_t *ep, uint64_t now, const tou_segment_t *syn,
                         const syncookie_opts_t *o, uint32_t scid, tou_seq_t iss,
                         tou_segment_t *r) {
  const tou_config_t *cfg = &ep->cfg;
  memset(r, 0, sizeof *r);
  r->flags = TOU_SYN | TOU_ACK;
  r->dst_cid = syn->src_cid;
  r->src_cid = scid;
  r->seq = iss;
  r->ack = syn->seq + 1;
  uint32_t wnd = rcv_initial_buffer(cfg); /* what the rebuilt connection starts with */
  r->window = (uint16_t)(wnd > 65535 ? 65535 : wnd);
  r->opts.present = TOU_OPT_MSS;
  r->opts.mss = (uint16_t)cfg->mss;
  if (o->wscale_ok) {
    r->opts.present |= TOU_OPT_WSCALE;
    r->opts.wscale = our_wscale(cfg);
  }
  if (o->sack_ok) r->opts.present |= TOU_OPT_SACK_PERM;
  if (o->ts_ok) {
    r->opts.present |= TOU_OPT_TIMESTAMP;
    r->opts.ts_val = (uint32_t)(now / 1000) + syncookie_ts_offset(ep->cookie_key, scid);
    r->opts.ts_ecr = syn->opts.ts_val;
  }
}

static bool cid_free(const tou_ep_t *ep, uint32_t cid) {
  return ep_find_cid(ep, cid) == NULL && tw_lookup(&ep->tw, cid) == NULL;
}

bool listen_cookie_syn(tou_ep_t *ep, uint64_t now, const tou_addr_t *from,
                       const tou_segment_t *seg, bool queue_full) {
  if (!flood_on_syn(&ep->flood, &ep->cfg, &ep->stats, now, source_hash(ep, from), queue_full))
    return false;
  syncookie_opts_t o;
  syncookie_opts_from_syn(&seg->opts, &o);
  syncookie_id_t id = {.peer = from, .client_cid = seg->src_cid, .client_isn = seg->seq};
  uint32_t scid = 0;
  for (unsigned i = 0; i < CID_ATTEMPTS && scid == 0; i++) {
    uint32_t cand = syncookie_server_cid(ep->cookie_key, &id, &o, i);
    if (cid_free(ep, cand)) scid = cand;
  }
  if (scid == 0) {
    drop_syn(ep, now, from, seg, TOU_ERR_BUSY);
    return true;
  }
  tou_seq_t iss = syncookie_iss(ep->cookie_key, now, ep->cfg.syncookie_lifetime_us, &id, scid);
  tou_segment_t r;
  build_synack(ep, now, seg, &o, scid, iss, &r);
  uint64_t lost = ep->stats.replies_dropped;
  ep_queue_reply(ep, from, &r);
  if (ep->stats.replies_dropped == lost) {
    ep->stats.cookies_sent++;
    flood_cookie_sent(&ep->flood, now);
  }
  return true;
}

static cookie_replay_key_t replay_key(const tou_segment_t *ack) {
  return (cookie_replay_key_t){.server_cid = ack->dst_cid, .client_cid = ack->src_cid,
                               .client_isn = ack->seq - 1, .iss = ack->ack - 1};
}

/* Keyed, so that a flooder cannot aim at one chain of the record. */
static uint64_t replay_hash(const tou_ep_t *ep, const cookie_replay_key_t *k) {
  uint8_t in[16];
  memcpy(in, &k->server_cid, 4);
  memcpy(in + 4, &k->client_cid, 4);
  memcpy(in + 8, &k->client_isn, 4);
  memcpy(in + 12, &k->iss, 4);
  uint8_t h[crypto_shorthash_BYTES];
  crypto_shorthash(h, in, sizeof in, ep->cookie_key);
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = v << 8 | h[i];
  return v;
}

/* A replay whose cid is still in use (a live connection or a TIME_WAIT
 * record) was refused before this by cid_free(); this catches the ones
 * whose connection is gone without a record. */
static bool replayed(tou_ep_t *ep, uint64_t counter, const tou_segment_t *ack) {
  if (ep->cfg.syncookie_replay_max == 0) return false; /* off: accepted, as Linux does */
  if (ep->cookie_replay == NULL) {
    ep->cookie_replay = cookie_replay_new(&ep->cfg.allocator, ep->cfg.syncookie_replay_max);
    if (ep->cookie_replay == NULL) return true; /* cannot tell: refuse */
  }
  cookie_replay_key_t k = replay_key(ack);
  return cookie_replay_check_and_add(ep->cookie_replay, counter, &k, replay_hash(ep, &k));
}

static void reject(tou_ep_t *ep, uint64_t now, const tou_addr_t *from, const tou_segment_t *seg,
                   int why) {
  ep->stats.cookie_failures++;
  ep_trace_seg(ep, now, TOU_TRACE_SEG_DROP, NULL, from, seg, why);
}

/* The client's SYN as the cookie remembers it, to start the connection
 * through the ordinary passive-open path. */
static void rebuild_syn(const tou_segment_t *ack, const syncookie_opts_t *o, tou_segment_t *syn) {
  memset(syn, 0, sizeof *syn);
  syn->flags = TOU_SYN;
  syn->src_cid = ack->src_cid;
  syn->seq = ack->seq - 1;
  syn->window = ack->window;
  syn->opts.present = TOU_OPT_MSS;
  syn->opts.mss = o->mss;
  if (o->wscale_ok) {
    syn->opts.present |= TOU_OPT_WSCALE;
    syn->opts.wscale = o->wscale;
  }
  if (o->sack_ok) syn->opts.present |= TOU_OPT_SACK_PERM;
  if (o->ts_ok) {
    syn->opts.present |= TOU_OPT_TIMESTAMP;
    syn->opts.ts_val = (ack->opts.present & TOU_OPT_TIMESTAMP) ? ack->opts.ts_val : 0;
  }
}

bool listen_cookie_ack(tou_ep_t *ep, uint64_t now, const tou_addr_t *from,
                       const tou_segment_t *seg) {
  if (!ep->listening || (seg->flags & (TOU_SYN | TOU_RST)) || !(seg->flags & TOU_ACK)) return false;
  if (!flood_cookie_acks_expected(&ep->flood, &ep->cfg, now)) return false;
  syncookie_id_t id = {.peer = from, .client_cid = seg->src_cid, .client_isn = seg->seq - 1};
  syncookie_opts_t o;
  uint64_t counter;
  int rc = syncookie_check(ep->cookie_key, now, ep->cfg.syncookie_lifetime_us, &id, seg->dst_cid,
                           seg->ack - 1, &o, &counter);
  if (rc != TOU_OK) {
    reject(ep, now, from, seg, rc);
    return false;
  }
  if (!cid_free(ep, seg->dst_cid)) { /* taken since by a connection to someone else */
    reject(ep, now, from, seg, TOU_ERR_BUSY);
    return false;
  }
  /* Room first: a client whose ACK is dropped here retries with the same
   * cookie (its first data segment), which must not look like a replay. */
  if (ep->n_accept >= ep->backlog || ep->nconns >= ep->cfg.max_connections) {
    drop_syn(ep, now, from, seg, TOU_ERR_LIMIT);
    return true;
  }
  if (replayed(ep, counter, seg)) {
    reject(ep, now, from, seg, TOU_ERR_STATE);
    return false;
  }
  tou_conn_t *c = conn_new(ep, now, from, true);
  if (c == NULL) {
    drop_syn(ep, now, from, seg, TOU_ERR_NOMEM);
    return true;
  }
  ep_remove_conn(ep, c);
  c->local_cid = seg->dst_cid;
  ep_insert_conn(ep, c);
  tou_segment_t syn;
  rebuild_syn(seg, &o, &syn);
  conn_start_passive(c, now, &syn);
  /* Where the cookie SYN-ACK left the handshake: sent once, at the cookie
   * ISS, with the cookie's timestamp clock. */
  c->ts_offset = syncookie_ts_offset(ep->cookie_key, c->local_cid);
  c->iss = c->snd_una = seg->ack - 1;
  c->snd_nxt = c->snd_max = c->snd_data = seg->ack;
  c->syn_pending = false;
  c->syn_sends = 1;
  ep->stats.cookies_validated++;
  ep_trace_seg(ep, now, TOU_TRACE_SEG_RECV, c, &c->peer, seg, 0);
  conn_input(c, now, seg);
  if (c->state == TOU_SYN_RCVD) conn_return_to_listen(c, now); /* the ACK did not complete it */
  ep_timer_update(ep, c);
  return true;
}

void listen_cookie_free(tou_ep_t *ep) {
  cookie_replay_free(&ep->cfg.allocator, ep->cookie_replay);
  ep->cookie_replay = NULL;
}

/* Replies the endpoint sends on its own behalf, held in a bounded queue:
 * RSTs to segments that match no connection, RSTs of connections that are
 * already gone, TIME_WAIT ACKs, version rejects. */
#include <string.h>

#include "endpoint.h"

static ep_reply_t *reply_slot(tou_ep_t *ep, const tou_addr_t *to) {
  if (ep->reply_len == TOU_EP_REPLY_QUEUE) {
    ep->stats.replies_dropped++;
    return NULL;
  }
  ep_reply_t *r = &ep->replies[(ep->reply_head + ep->reply_len) % TOU_EP_REPLY_QUEUE];
  ep->reply_len++;
  r->to = *to;
  r->raw_len = 0;
  return r;
}

void ep_queue_reply(tou_ep_t *ep, const tou_addr_t *to, const tou_segment_t *seg) {
  ep_reply_t *r = reply_slot(ep, to);
  if (r == NULL) return;
  r->seg = *seg;
  r->seg.payload = NULL;
  r->seg.payload_len = 0;
}

void ep_queue_raw(tou_ep_t *ep, const tou_addr_t *to, const uint8_t *raw, size_t len) {
  if (len == 0 || len > TOU_EP_RAW_REPLY_MAX) return;
  ep_reply_t *r = reply_slot(ep, to);
  if (r == NULL) return;
  memcpy(r->raw, raw, len);
  r->raw_len = (uint8_t)len;
}

/* RFC 9293 3.10.7.1 (CLOSED): never answer a RST; if the segment has an
 * ACK the reset takes its sequence number from it, so that the receiver
 * accepts it as an exact match (RFC 5961); otherwise it acknowledges the
 * segment. The connection ids are echoed swapped, so it reaches the
 * connection that sent the segment. */
void ep_reset_unmatched(tou_ep_t *ep, const tou_addr_t *to, const tou_segment_t *seg) {
  if (seg->flags & TOU_RST) return;
  tou_segment_t r;
  memset(&r, 0, sizeof r);
  r.dst_cid = seg->src_cid;
  r.src_cid = seg->dst_cid;
  if (seg->flags & TOU_ACK) {
    r.flags = TOU_RST;
    r.seq = seg->ack;
  } else {
    uint32_t len = (uint32_t)seg->payload_len + !!(seg->flags & TOU_SYN) + !!(seg->flags & TOU_FIN);
    r.flags = TOU_RST | TOU_ACK;
    r.seq = 0;
    r.ack = seg->seq + len;
  }
  ep_queue_reply(ep, to, &r);
}

/* RFC 5961 section 7: challenge ACKs are limited per endpoint, so an attacker
 * cannot use them to make us send without bound. A zero limit disables
 * them entirely. */
bool ep_challenge_ack_allowed(tou_ep_t *ep, uint64_t now) {
  if (now - ep->chack_window_start >= 1000000 || now < ep->chack_window_start) {
    ep->chack_window_start = now;
    ep->chack_count = 0;
  }
  if (ep->chack_count >= ep->cfg.challenge_acks_per_sec) {
    ep->stats.challenge_acks_limited++;
    return false;
  }
  ep->chack_count++;
  ep->stats.challenge_acks++;
  return true;
}

/* The listener: the LISTEN state of RFC 9293, a bounded queue of half-open
 * (SYN_RCVD) connections and a bounded accept queue. */
#include "endpoint.h"
#include "listen_cookie.h"

static void drop_syn(tou_ep_t *ep, uint64_t now, const tou_addr_t *from,
                     const tou_segment_t *seg, int why) {
  ep->stats.syns_dropped++;
  ep->stats.dropped++;
  ep_trace_seg(ep, now, TOU_TRACE_SEG_DROP, NULL, from, seg, why);
}

/* RFC 9293 3.10.7.2 (LISTEN), for a segment the endpoint has already
 * checked to be a SYN without ACK or RST. When the half-open queue is full
 * the SYN is dropped here; this is where a stateless answer (SYN cookies)
 * takes over, since nothing has been allocated yet. */
void listen_on_syn(tou_ep_t *ep, uint64_t now, const tou_addr_t *from, const tou_segment_t *seg) {
  bool full = ep->n_half_open >= ep->cfg.syn_backlog || ep->nconns >= ep->cfg.max_connections;
  if (listen_cookie_syn(ep, now, from, seg, full)) return; /* flood: stateless answer */
  if (full) {
    drop_syn(ep, now, from, seg, TOU_ERR_LIMIT);
    return;
  }
  tou_conn_t *c = conn_new(ep, now, from, true);
  if (c == NULL) {
    drop_syn(ep, now, from, seg, TOU_ERR_NOMEM);
    return;
  }
  list_push_back(&ep->half_open, &c->queue_link);
  c->listen_queue = LISTEN_Q_HALF_OPEN;
  ep->n_half_open++;
  conn_start_passive(c, now, seg);
}

bool listen_on_established(tou_ep_t *ep, tou_conn_t *c) {
  if (ep->n_accept >= ep->backlog) return false;
  listen_forget(ep, c);
  list_push_back(&ep->accept_q, &c->queue_link);
  c->listen_queue = LISTEN_Q_ACCEPT;
  ep->n_accept++;
  ep->ep_events |= TOU_EV_ACCEPT;
  return true;
}

void listen_forget(tou_ep_t *ep, tou_conn_t *c) {
  if (c->listen_queue == LISTEN_Q_HALF_OPEN) ep->n_half_open--;
  if (c->listen_queue == LISTEN_Q_ACCEPT) ep->n_accept--;
  c->listen_queue = LISTEN_Q_NONE;
  list_remove(&c->queue_link);
}

/* Connection lifecycle, state changes, events and the application calls. */
#include <string.h>

#include "alloc.h"
#include "endpoint.h"

/* Smallest shift that lets the whole receive buffer be advertised in the
 * 16-bit window field (RFC 7323 2.2). */
static uint8_t wscale_for(uint32_t buffer) {
  uint8_t s = 0;
  while (s < 14 && (buffer >> s) > 65535u) s++;
  return s;
}

tou_conn_t *conn_new(tou_ep_t *ep, uint64_t now, const tou_addr_t *peer, bool passive) {
  (void)now;
  tou_conn_t *c = tou_mem_alloc(&ep->cfg.allocator, sizeof *c);
  if (c == NULL) return NULL;
  memset(c, 0, sizeof *c);
  c->ep = ep;
  c->state = passive ? TOU_LISTEN : TOU_CLOSED;
  c->owner = CONN_OWNER_CORE;
  c->passive = passive;
  c->peer = *peer;
  c->local_cid = ep_new_cid(ep);
  c->heap_idx = TOU_HEAP_NONE;
  list_init(&c->all_link);
  list_init(&c->event_link);
  list_init(&c->output_link);
  list_init(&c->queue_link);
  sendbuf_init(&c->sb, ep->cfg.send_buffer, &ep->cfg.allocator);
  recvbuf_init(&c->rb, ep->cfg.recv_buffer, &ep->cfg.allocator);
  c->rtx_at = c->linger_at = TOU_NEVER;
  tou_rtt_init(&c->rtt, ep->cfg.initial_rto_us, ep->cfg.min_rto_us, ep->cfg.max_rto_us);
  c->snd_mss = ep->cfg.mss < TOU_MSS_DEFAULT_V6 ? ep->cfg.mss : TOU_MSS_DEFAULT_V6;
  c->rcv_wscale = wscale_for(ep->cfg.recv_buffer);
  c->ts_offset = rng_u32(&ep->rng);
  c->cwnd = 10 * c->snd_mss; /* RFC 6928 initial window until the cc module plugs in */
  c->ssthresh = UINT32_MAX;
  conn_rec_init(c, now);
  conn_ack_init(c);
  conn_rcv_init(c);
  conn_live_init(c, now);
  list_push_back(&ep->all, &c->all_link);
  ep_insert_conn(ep, c);
  ep->nconns++;
  return c;
}

void conn_destroy(tou_conn_t *c) {
  tou_ep_t *ep = c->ep;
  ep_detach_conn(ep, c);
  sendbuf_free(&c->sb);
  recvbuf_free(&c->rb);
  conn_rec_free(c);
  ep->nconns--;
  tou_mem_free(&ep->cfg.allocator, c);
}

void conn_set_state(tou_conn_t *c, uint64_t now, tou_state_t st) {
  tou_state_t old = c->state;
  if (old == st) return;
  c->state = st;
  ep_trace_state(c->ep, now, c, &c->peer, old, st);
}

/* Events wait in the connection until the application owns it (a passive
 * connection's events are delivered once it has been accepted). */
void conn_raise(tou_conn_t *c, unsigned events) {
  if (c->owner == CONN_OWNER_RELEASED) return;
  c->events |= events;
  if (c->owner == CONN_OWNER_APP && !list_linked(&c->event_link))
    list_push_back(&c->ep->events, &c->event_link);
}

void conn_want_output(tou_conn_t *c) {
  if (!c->dead && !list_linked(&c->output_link)) list_push_back(&c->ep->output, &c->output_link);
}

void conn_finish(tou_conn_t *c, uint64_t now, int error) {
  if (c->state == TOU_CLOSED && c->dead) return;
  if (c->error == 0) c->error = error;
  conn_set_state(c, now, TOU_CLOSED);
  c->rtx_at = c->linger_at = TOU_NEVER;
  list_remove(&c->output_link);
  ep_remove_conn(c->ep, c);
  sendbuf_free(&c->sb);
  conn_rec_free(c);
  if (error != 0) recvbuf_free(&c->rb); /* RFC 9293 3.10.7.4: a reset flushes the queues */
  if (c->owner == CONN_OWNER_APP) {
    conn_raise(c, TOU_EV_CLOSED | TOU_EV_READABLE);
  } else {
    ep_reap_later(c->ep, c);
  }
}

/* ---- application calls ------------------------------------------------ */

static int closed_error(const tou_conn_t *c) { return c->error != 0 ? c->error : TOU_ERR_NOTCONN; }

int tou_conn_send(tou_conn_t *c, uint64_t now, const uint8_t *data, size_t len) {
  (void)now;
  if (c->state == TOU_CLOSED || c->state == TOU_TIME_WAIT) return closed_error(c);
  if (c->fin_queued) return TOU_ERR_PIPE;
  if (len > INT32_MAX) len = INT32_MAX;
  if (len == 0) return 0;
  size_t space = sendbuf_space(&c->sb);
  size_t n = sendbuf_append(&c->sb, data, len);
  if (n == 0 && space > 0) return TOU_ERR_NOMEM;
  if (conn_synchronized(c)) conn_want_output(c);
  ep_timer_update(c->ep, c);
  return (int)n;
}

size_t tou_conn_send_space(const tou_conn_t *c) {
  if (c->fin_queued || c->state == TOU_CLOSED || c->state == TOU_TIME_WAIT) return 0;
  return sendbuf_space(&c->sb);
}

size_t tou_conn_send_queued(const tou_conn_t *c) { return sendbuf_len(&c->sb); }

int tou_conn_recv(tou_conn_t *c, uint64_t now, uint8_t *buf, size_t len) {
  if (len > INT32_MAX) len = INT32_MAX;
  if (recvbuf_ready(&c->rb) > 0) {
    if (len == 0) return 0;
    size_t n = recvbuf_read(&c->rb, buf, len);
    c->stats.bytes_read_buffered += n;
    conn_rcv_on_read(c, now, n); /* autotuning, window update (rcv_window.c) */
    ep_timer_update(c->ep, c);
    return (int)n;
  }
  if (c->eof) return TOU_ERR_EOF;
  if (c->state == TOU_CLOSED || c->state == TOU_TIME_WAIT) return closed_error(c);
  return TOU_ERR_AGAIN;
}

int tou_conn_shutdown(tou_conn_t *c, uint64_t now) {
  if (c->state == TOU_CLOSED || c->state == TOU_TIME_WAIT) return c->fin_queued ? 0 : closed_error(c);
  conn_shutdown_send(c, now);
  ep_timer_update(c->ep, c);
  return TOU_OK;
}

static void release(tou_conn_t *c) {
  c->owner = CONN_OWNER_RELEASED;
  c->events = 0;
  list_remove(&c->event_link);
}

void tou_conn_close(tou_conn_t *c, uint64_t now) {
  release(c);
  switch (c->state) {
    case TOU_CLOSED:
    case TOU_TIME_WAIT: /* already over; the endpoint's record lives on */
      ep_reap_later(c->ep, c);
      break;
    case TOU_SYN_SENT: /* RFC 9293 3.10.4: delete the TCB, nothing to tell the peer */
      conn_finish(c, now, TOU_ERR_ABORTED);
      break;
    default:
      if (recvbuf_ready(&c->rb) > 0) {
        /* RFC 9293 3.10.4 / RFC 2525 2.17: closing with unread data resets,
         * so the peer learns its data was not consumed. */
        conn_send_rst(c);
        conn_finish(c, now, TOU_ERR_ABORTED);
      } else {
        conn_shutdown_send(c, now);
        conn_arm_linger(c, now);
      }
  }
  ep_timer_update(c->ep, c);
  ep_reap(c->ep);
}

void tou_conn_abort(tou_conn_t *c, uint64_t now) {
  release(c);
  if (c->state != TOU_CLOSED && c->state != TOU_TIME_WAIT) {
    conn_send_rst(c);
    conn_finish(c, now, TOU_ERR_ABORTED);
  } else {
    ep_reap_later(c->ep, c);
  }
  ep_timer_update(c->ep, c);
  ep_reap(c->ep);
}

tou_state_t tou_conn_state(const tou_conn_t *c) { return c->state; }
int tou_conn_error(const tou_conn_t *c) { return c->error; }
const tou_addr_t *tou_conn_peer(const tou_conn_t *c) { return &c->peer; }
void tou_conn_set_user(tou_conn_t *c, void *user) { c->user = user; }
void *tou_conn_user(const tou_conn_t *c) { return c->user; }
uint32_t tou_conn_local_cid(const tou_conn_t *c) { return c->local_cid; }
uint32_t tou_conn_remote_cid(const tou_conn_t *c) { return c->remote_cid; }

void tou_conn_get_info(const tou_conn_t *c, tou_conn_info_t *info) {
  *info = c->stats;
  info->state = c->state;
  info->error = c->error;
  info->local_cid = c->local_cid;
  info->remote_cid = c->remote_cid;
  info->snd_mss = c->snd_mss;
  info->snd_wscale = c->wscale_ok ? c->snd_wscale : 0;
  info->rcv_wscale = c->wscale_ok ? c->rcv_wscale : 0;
  info->wscale_ok = c->wscale_ok;
  info->sack_ok = c->sack_ok;
  info->ts_ok = c->ts_ok;
  info->srtt_us = tou_rtt_srtt(&c->rtt);
  info->rttvar_us = c->rtt.has_sample ? c->rtt.rttvar_us : 0;
  info->rto_us = tou_rtt_rto(&c->rtt);
  info->cwnd = c->cwnd;
  info->ssthresh = c->ssthresh;
  info->snd_wnd = c->snd_wnd;
  info->rcv_wnd = conn_window_to_advertise(c);
  info->bytes_in_flight = (uint32_t)(c->snd_max - c->snd_una);
  info->retries = c->retries;
  info->rcv_buffer = (uint32_t)c->rb.limit;
  info->rcv_rtt_us = c->rcv_rtt_us;
  conn_rec_fill_info(c, info);
}

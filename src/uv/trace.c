/* The core's trace hook, translated to the public tou_trace_t. It runs
 * synchronously (possibly inside a tou_* call): the application's trace
 * callback observes only and must not call tou_* functions. */
#include <string.h>

#include "internal.h"

static tou_trace_type_t type_of(tou_trace_kind_t kind) {
  switch (kind) {
    case TOU_TRACE_STATE: return TOU_TRACE_TYPE_STATE;
    case TOU_TRACE_SEG_SENT: return TOU_TRACE_TYPE_SENT;
    case TOU_TRACE_SEG_RECV: return TOU_TRACE_TYPE_RECEIVED;
    case TOU_TRACE_SEG_DROP: return TOU_TRACE_TYPE_DROPPED;
  }
  return TOU_TRACE_TYPE_DROPPED;
}

void tou__trace_adapter(void *ctx, const tou_trace_event_t *ev) {
  struct tou_endpoint_impl *impl = ctx;
  if (!impl->opts.trace) return;
  tou_trace_t t;
  memset(&t, 0, sizeof t);
  t.type = type_of(ev->kind);
  t.time_us = ev->now;
  t.endpoint = impl->handle;
  const tou_addr_t *peer = ev->peer;
  if (ev->conn) {
    t.stream = tou_conn_user(ev->conn);
    t.conn_id = tou_conn_local_cid(ev->conn);
    if (!peer) peer = tou_conn_peer(ev->conn);
    if (ev->kind == TOU_TRACE_STATE) {
      t.old_state = (int)ev->old_state;
      t.new_state = (int)ev->new_state;
    } else {
      t.old_state = t.new_state = (int)tou_conn_state(ev->conn);
    }
  }
  struct sockaddr_storage ss;
  if (peer && peer->len > 0) {
    tou__addr_to_sockaddr(peer, &ss);
    t.peer = (const struct sockaddr *)&ss;
  }
  if (ev->seg) {
    t.seg_flags = ev->seg->flags;
    t.seq = ev->seg->seq;
    t.ack = ev->seg->ack;
    t.window = ev->seg->window;
    t.payload_len = ev->seg->payload_len;
  }
  t.error = tou__uv_err(ev->error);
  impl->opts.trace(impl->opts.trace_arg, &t);
}

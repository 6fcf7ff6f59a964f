/* From core events to application callbacks.
 *
 * Rule: no application callback runs inside the tou_* call that caused it.
 * Every tou_* function ends with tou__pump(), which only sends, collects the
 * core's events into per-stream "pending" bits and schedules a dispatch (a
 * uv_idle handle, so the loop does not block in poll meanwhile). Callbacks run
 * from tou__dispatch(), which is only entered from libuv's own callbacks
 * (idle, check after received datagrams, timer). */
#include "internal.h"

/* Rounds of (callbacks, pump) per dispatch before yielding to the loop, so a
 * busy endpoint cannot starve other handles. */
#define DISPATCH_ROUNDS 8

static void on_idle(uv_idle_t *idle) { tou__dispatch(idle->data); }

void tou__schedule(struct tou_endpoint_impl *impl) {
  if (!impl->finishing) uv_idle_start(&impl->idle, on_idle);
}

void tou__mark(tou_stream_t *s, unsigned bits) {
  if (s->flags & TOU_F_CLOSED) return;
  struct tou_endpoint_impl *impl = s->endpoint->impl;
  if (s->pending == 0) {
    s->pending_prev = impl->pending_tail;
    s->pending_next = NULL;
    if (impl->pending_tail) impl->pending_tail->pending_next = s;
    else impl->pending_head = s;
    impl->pending_tail = s;
  }
  s->pending |= bits;
  tou__schedule(impl);
}

void tou__unmark(tou_stream_t *s) {
  if (s->pending == 0) return;
  struct tou_endpoint_impl *impl = s->endpoint->impl;
  if (s->pending_prev) s->pending_prev->pending_next = s->pending_next;
  else impl->pending_head = s->pending_next;
  if (s->pending_next) s->pending_next->pending_prev = s->pending_prev;
  else impl->pending_tail = s->pending_prev;
  s->pending_next = s->pending_prev = NULL;
  s->pending = 0;
}

static unsigned bits_of_events(unsigned ev) {
  unsigned bits = 0;
  if (ev & TOU_EV_CONNECTED) bits |= TOU_P_CONNECT;
  if (ev & TOU_EV_READABLE) bits |= TOU_P_READ;
  if (ev & TOU_EV_WRITABLE) bits |= TOU_P_WRITE;
  if (ev & TOU_EV_SHUTDOWN) bits |= TOU_P_SHUTDOWN;
  if (ev & TOU_EV_CLOSED) bits |= TOU_P_OVER;
  if (ev & TOU_EV_LINK) bits |= TOU_P_LINK;
  return bits;
}

void tou__collect(struct tou_endpoint_impl *impl) {
  tou_conn_t *c;
  unsigned ev;
  while (tou_ep_next_event(impl->core, &c, &ev)) {
    if (!c) {
      if (ev & TOU_EV_ACCEPT) tou__pull_accepts(impl);
      continue;
    }
    /* NULL: not accepted yet (tou_accept() checks its state) or released. */
    tou_stream_t *s = tou_conn_user(c);
    unsigned bits = bits_of_events(ev);
    if (s && bits) tou__mark(s, bits);
  }
}

void tou__pump(struct tou_endpoint_impl *impl) {
  if (impl->finishing) return;
  tou__flush_output(impl);
  tou__collect(impl);
  tou__timer_arm(impl);
  if (impl->pending_head || impl->accept_announced < impl->accept_len ||
      (impl->handle->flags & TOU_F_CLOSING))
    tou__schedule(impl);
}

static void announce_connections(struct tou_endpoint_impl *impl) {
  tou_endpoint_t *ep = impl->handle;
  while (impl->accept_announced < impl->accept_len && !(ep->flags & TOU_F_CLOSING)) {
    impl->accept_announced++;
    impl->connection_cb(ep, 0);
  }
}

/* One round: every stream pending when it starts gets its callbacks. Streams
 * marked during the round (by callbacks) wait for the next one. */
static void run_round(struct tou_endpoint_impl *impl) {
  tou_stream_t *s = impl->pending_head;
  tou_stream_t *last = impl->pending_tail;
  while (s) {
    bool was_last = s == last;
    tou_stream_t *next = s->pending_next;
    unsigned bits = s->pending;
    tou__unmark(s);
    tou__stream_deliver(s, bits); /* may free s (close_cb) */
    if (was_last) break;
    s = next;
  }
}

void tou__dispatch(struct tou_endpoint_impl *impl) {
  if (impl->dispatching || impl->finishing) return;
  impl->dispatching = true;
  tou__stream_flush_held(impl, false); /* normally done by the receive path */
  for (int round = 0; round < DISPATCH_ROUNDS; round++) {
    announce_connections(impl);
    run_round(impl);
    tou__pump(impl); /* what the callbacks and reads produced */
    if (!impl->pending_head && impl->accept_announced >= impl->accept_len) break;
  }
  impl->dispatching = false;
  bool idle = !impl->pending_head &&
              (impl->accept_announced >= impl->accept_len || (impl->handle->flags & TOU_F_CLOSING));
  if (!idle) return; /* the idle handle stays started: another turn soon */
  uv_idle_stop(&impl->idle);
  if (impl->handle->flags & TOU_F_CLOSING) {
    impl->finishing = true;
    tou__endpoint_finish_close(impl);
  }
}

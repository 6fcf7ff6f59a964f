/* One uv_timer_t per endpoint, armed at the core's next deadline: idle
 * connections cost no timer wake-ups, and 10,000 connections still mean one
 * armed timer. The clock is uv_hrtime() in microseconds (uv_now()'s cached
 * millisecond tick is too coarse for RTT measurement). */
#include "internal.h"

uint64_t tou__now(void) { return uv_hrtime() / 1000; }

static void on_timer(uv_timer_t *timer) {
  struct tou_endpoint_impl *impl = timer->data;
  impl->armed_deadline = TOU_NEVER;
  tou_ep_on_timer(impl->core, tou__now());
  tou__pump(impl);
  tou__dispatch(impl);
}

int tou__timer_init(struct tou_endpoint_impl *impl) {
  int r = uv_timer_init(impl->handle->loop, &impl->timer);
  if (r == 0) impl->timer.data = impl;
  impl->armed_deadline = TOU_NEVER;
  return r;
}

void tou__timer_arm(struct tou_endpoint_impl *impl) {
  if (impl->handle->flags & TOU_F_CLOSING) return;
  uint64_t deadline = tou_ep_next_deadline(impl->core);
  if (deadline == impl->armed_deadline) return;
  impl->armed_deadline = deadline;
  if (deadline == TOU_NEVER) {
    uv_timer_stop(&impl->timer);
    return;
  }
  uint64_t now = tou__now();
  /* Round up: libuv counts whole milliseconds, and waking before the
   * deadline would only re-arm. */
  uint64_t ms = deadline > now ? (deadline - now + 999) / 1000 : 0;
  uv_timer_start(&impl->timer, on_timer, ms, 0);
}

/* The endpoint's timer: a binary min-heap of connections keyed by
 * conn_deadline(), so tou_ep_next_deadline() is O(1) and a timer change
 * O(log n). The key is refreshed by ep_timer_update() after every place a
 * connection can change its timers (input, output, timer, application
 * calls), not by each timer write: one rule, easy to keep. ep_timers_check()
 * verifies the rule (the unit tests run it after every step). */
#ifndef TOU_CORE_TIMER_HEAP_H
#define TOU_CORE_TIMER_HEAP_H

#include <stdbool.h>
#include <stdint.h>

#include "core.h"

#define TOU_HEAP_NONE UINT32_MAX

typedef struct tou_timer_heap {
  tou_conn_t **v;
  uint32_t len, cap;
} tou_timer_heap_t;

int timer_heap_init(tou_timer_heap_t *h, uint32_t cap, const tou_allocator_t *a);
void timer_heap_free(tou_timer_heap_t *h, const tou_allocator_t *a);

/* Re-reads c's deadline and moves, inserts or removes it. */
void ep_timer_update(tou_ep_t *ep, tou_conn_t *c);
void ep_timer_remove(tou_ep_t *ep, tou_conn_t *c);
/* Earliest connection deadline, TOU_NEVER when none. */
uint64_t ep_timer_min(const tou_ep_t *ep);
/* Takes every connection due by now out of the heap (their keys are
 * refreshed by ep_timer_update() after they run). Returns a list linked
 * through timer_next. */
tou_conn_t *ep_timer_take_due(tou_ep_t *ep, uint64_t now);
/* True when every connection's key equals conn_deadline() and the heap
 * is ordered. For tests. */
bool ep_timers_check(const tou_ep_t *ep);
/* True when no connection can stall silently: each one with something
 * outstanding (our SYN, unacknowledged or unsent data, a FIN not yet
 * acknowledged) has a timer armed or is queued for output. For tests. */
bool ep_progress_check(const tou_ep_t *ep);

#endif

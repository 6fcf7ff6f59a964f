/* The simulator's event queue: a binary min-heap ordered by (time, insertion
 * sequence). The sequence number breaks ties, so two events due at the same
 * virtual microsecond always run in the order they were scheduled and a run
 * never depends on heap layout. */
#ifndef TOU_SIM_EVQ_H
#define TOU_SIM_EVQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sim_event {
  uint64_t at;  /* virtual time, microseconds */
  uint64_t seq; /* assigned by evq_push */
  int kind;     /* interpreted by the simulator */
  void *obj;    /* node, packet or callback argument */
  void *aux;
  uint64_t gen; /* timer generation (stale timers are skipped) */
} sim_event_t;

typedef struct sim_evq {
  sim_event_t *items;
  size_t len, cap;
  uint64_t next_seq;
} sim_evq_t;

void evq_init(sim_evq_t *q);
void evq_free(sim_evq_t *q);
/* Aborts the test process on allocation failure: the simulator is test code. */
void evq_push(sim_evq_t *q, sim_event_t ev);
/* Earliest event, or NULL when empty. */
const sim_event_t *evq_peek(const sim_evq_t *q);
bool evq_pop(sim_evq_t *q, sim_event_t *out);

#endif

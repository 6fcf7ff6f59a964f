/* A counting allocator for endpoints under test (tou_config_t.allocator):
 * live and peak bytes, allocation count, and optional failure injection
 * (fail the Nth allocation, or everything beyond a byte limit), so a
 * scenario can assert that memory stays under a bound while it is attacked
 * and that the core survives running out. */
#ifndef TOU_SIM_ALLOC_H
#define TOU_SIM_ALLOC_H

#include <stddef.h>
#include <stdint.h>

#include "core.h"

typedef struct sim_alloc {
  size_t live_bytes, peak_bytes;
  uint64_t allocs, frees, failed;
  uint64_t fail_nth;  /* fail the allocation with this 1-based number; 0 = never */
  size_t limit_bytes; /* fail allocations that would exceed this; 0 = no limit */
} sim_alloc_t;

/* An allocator whose ctx is a (caller-owned, zero-initialised) counter. */
tou_allocator_t sim_alloc_make(sim_alloc_t *counter);
/* Resets the peak to the current live size (to measure one phase). */
void sim_alloc_reset_peak(sim_alloc_t *counter);

#endif

/* Allocation through the endpoint's allocator (malloc/free when unset), so
 * tests can make any allocation fail. */
#ifndef TOU_CORE_ALLOC_H
#define TOU_CORE_ALLOC_H

#include <stdlib.h>

#include "core.h"

static inline void *tou_mem_alloc(const tou_allocator_t *a, size_t size) {
  return a->alloc != NULL ? a->alloc(a->ctx, size) : malloc(size);
}

static inline void tou_mem_free(const tou_allocator_t *a, void *p) {
  if (p == NULL) return;
  if (a->alloc != NULL) {
    if (a->free != NULL) a->free(a->ctx, p);
  } else {
    free(p);
  }
}

#endif

/* Intrusive circular doubly-linked list: the connection object carries its
 * own links, so queueing never allocates and removal is O(1). */
#ifndef TOU_CORE_LIST_H
#define TOU_CORE_LIST_H

#include <stdbool.h>
#include <stddef.h>

typedef struct tou_list {
  struct tou_list *prev, *next;
} tou_list_t;

#define tou_container_of(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

static inline void list_init(tou_list_t *l) { l->prev = l->next = l; }
static inline bool list_empty(const tou_list_t *l) { return l->next == l; }
/* A node initialised with list_init() and not in any list is "unlinked". */
static inline bool list_linked(const tou_list_t *n) { return n->next != n; }

static inline void list_push_back(tou_list_t *head, tou_list_t *n) {
  n->prev = head->prev;
  n->next = head;
  head->prev->next = n;
  head->prev = n;
}

static inline void list_remove(tou_list_t *n) {
  n->prev->next = n->next;
  n->next->prev = n->prev;
  list_init(n);
}

static inline tou_list_t *list_front(const tou_list_t *head) {
  return list_empty(head) ? NULL : head->next;
}

#endif

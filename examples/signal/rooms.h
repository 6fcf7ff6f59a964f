/* The server's room table: which member (an integer the server chooses, its
 * client slot) is in which room under which name. Bounded: at most max_rooms
 * rooms with at most max_members members each; a room exists while it has
 * members. Pure bookkeeping, no I/O. */
#ifndef SIGNAL_ROOMS_H
#define SIGNAL_ROOMS_H

#include <stddef.h>

#include "sigmsg.h"

typedef struct room_member {
  int id;
  char name[SIG_MAX_NAME + 1];
} room_member_t;

typedef struct room {
  char name[SIG_MAX_ROOM + 1];
  unsigned count; /* 0: the slot is free */
  room_member_t *members; /* max_members slots, the first count in use */
} room_t;

typedef struct rooms {
  room_t *rooms;
  unsigned max_rooms, max_members;
  unsigned in_use;
} rooms_t;

#define ROOMS_OK 0
#define ROOMS_E_INVALID (-1)   /* bad room or member name */
#define ROOMS_E_FULL (-2)      /* the room has max_members */
#define ROOMS_E_TOO_MANY (-3)  /* max_rooms rooms exist */
#define ROOMS_E_NAME_TAKEN (-4)
#define ROOMS_E_NOT_FOUND (-5)
#define ROOMS_E_NOMEM (-6)

/* Returns ROOMS_OK or ROOMS_E_NOMEM / ROOMS_E_INVALID (a bound of 0). */
int rooms_init(rooms_t *t, unsigned max_rooms, unsigned max_members);
void rooms_free(rooms_t *t);

/* Adds member id under name to room (created if needed). On success *index
 * is the room's slot, stable while the room exists. */
int rooms_join(rooms_t *t, const char *room, const char *name, int id, unsigned *index);
/* Removes member id from room slot index; a room left empty is freed. */
int rooms_leave(rooms_t *t, unsigned index, int id);
/* The room in slot index, or NULL if that slot is free or out of range. */
const room_t *rooms_get(const rooms_t *t, unsigned index);
/* The id of the member called name in room slot index, or -1. */
int rooms_find(const rooms_t *t, unsigned index, const char *name);

#endif

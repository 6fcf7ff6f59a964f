#include "rooms.h"

#include <stdlib.h>
#include <string.h>

int rooms_init(rooms_t *t, unsigned max_rooms, unsigned max_members) {
  memset(t, 0, sizeof *t);
  if (max_rooms == 0 || max_members == 0) return ROOMS_E_INVALID;
  t->rooms = calloc(max_rooms, sizeof *t->rooms);
  if (!t->rooms) return ROOMS_E_NOMEM;
  t->max_rooms = max_rooms;
  t->max_members = max_members;
  return ROOMS_OK;
}

void rooms_free(rooms_t *t) {
  for (unsigned i = 0; t->rooms && i < t->max_rooms; i++) free(t->rooms[i].members);
  free(t->rooms);
  memset(t, 0, sizeof *t);
}

static int find_room(const rooms_t *t, const char *name) {
  for (unsigned i = 0; i < t->max_rooms; i++)
    if (t->rooms[i].count && !strcmp(t->rooms[i].name, name)) return (int)i;
  return -1;
}

int rooms_join(rooms_t *t, const char *room, const char *name, int id, unsigned *index) {
  if (!sig_valid_ident(room, SIG_MAX_ROOM) || !sig_valid_ident(name, SIG_MAX_NAME))
    return ROOMS_E_INVALID;
  int i = find_room(t, room);
  if (i < 0) {
    if (t->in_use == t->max_rooms) return ROOMS_E_TOO_MANY;
    for (i = 0; t->rooms[i].count; i++) {}
    room_t *r = &t->rooms[i];
    if (!r->members) {
      r->members = calloc(t->max_members, sizeof *r->members);
      if (!r->members) return ROOMS_E_NOMEM;
    }
    strcpy(r->name, room); /* length checked by sig_valid_ident */
    t->in_use++;
  } else {
    if (rooms_find(t, (unsigned)i, name) >= 0) return ROOMS_E_NAME_TAKEN;
    if (t->rooms[i].count == t->max_members) return ROOMS_E_FULL;
  }
  room_t *r = &t->rooms[i];
  room_member_t *m = &r->members[r->count++];
  m->id = id;
  strcpy(m->name, name);
  *index = (unsigned)i;
  return ROOMS_OK;
}

int rooms_leave(rooms_t *t, unsigned index, int id) {
  if (index >= t->max_rooms || t->rooms[index].count == 0) return ROOMS_E_NOT_FOUND;
  room_t *r = &t->rooms[index];
  for (unsigned k = 0; k < r->count; k++) {
    if (r->members[k].id != id) continue;
    /* Keep join order: the member list is what "joined" reports. */
    memmove(&r->members[k], &r->members[k + 1], (r->count - k - 1) * sizeof *r->members);
    if (--r->count == 0) {
      r->name[0] = '\0';
      t->in_use--;
    }
    return ROOMS_OK;
  }
  return ROOMS_E_NOT_FOUND;
}

const room_t *rooms_get(const rooms_t *t, unsigned index) {
  if (index >= t->max_rooms || t->rooms[index].count == 0) return NULL;
  return &t->rooms[index];
}

int rooms_find(const rooms_t *t, unsigned index, const char *name) {
  const room_t *r = rooms_get(t, index);
  for (unsigned k = 0; r && k < r->count; k++)
    if (!strcmp(r->members[k].name, name)) return r->members[k].id;
  return -1;
}

/* What a client's message does in its room: join, relay, leave, and the
 * error replies. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"

/* ---- sending ------------------------------------------------------------- */


void server_send_text(client_t *c, char *text) {
  if (!text) return; /* out of memory: the message is lost, the server lives */
  int r = sconn_send(&c->conn, text);
  sig_text_free(text);
  if (r == UV_ENOBUFS) server_drop_client(c, "not reading (outgoing queue full)");
}

void server_send_error(client_t *c, sig_err_t code, const char *detail) {
  server_log(c->srv, "error client=%d code=%s %s", c->id, sig_err_code(code), detail);
  server_send_text(c, sig_build_error(code, detail));
}

/* Sends text (built once) to every member of c's room but c. */
void server_send_to_room(client_t *c, const char *text) {
  server_t *s = c->srv;
  const room_t *r = rooms_get(&s->rooms, c->room);
  if (!text || !r) return;
  /* Collect ids first: a send can drop a client, which edits the room. */
  int ids[r->count];
  unsigned n = 0;
  for (unsigned k = 0; k < r->count; k++)
    if (r->members[k].id != c->id) ids[n++] = r->members[k].id;
  for (unsigned k = 0; k < n; k++) {
    client_t *to = &s->clients[ids[k]];
    if (to->in_use && to->joined && sconn_send(&to->conn, text) == UV_ENOBUFS)
      server_drop_client(to, "not reading (outgoing queue full)");
  }
}

/* ---- rooms ----------------------------------------------------------------- */

void server_leave_room(client_t *c, const char *reason) {
  if (!c->joined) return;
  server_t *s = c->srv;
  if (reason) {
    /* The member vanished without a bye: tell the room as if it had said one. */
    char *bye = sig_build_bye_from(c->name, reason);
    server_send_to_room(c, bye);
    sig_text_free(bye);
  }
  c->joined = false;
  rooms_leave(&s->rooms, c->room, c->id);
  server_log(s, "leave client=%d name=%s", c->id, c->name);
}

void server_handle_join(client_t *c, const sig_msg_t *m) {
  server_t *s = c->srv;
  if (c->joined) {
    server_send_error(c, SIG_E_ALREADY_JOINED, "already in a room: send bye first");
    return;
  }
  unsigned index;
  int r = rooms_join(&s->rooms, m->room, m->name, c->id, &index);
  switch (r) {
    case ROOMS_OK: break;
    case ROOMS_E_FULL: server_send_error(c, SIG_E_ROOM_FULL, "the room is full"); return;
    case ROOMS_E_TOO_MANY: server_send_error(c, SIG_E_TOO_MANY_ROOMS, "too many rooms"); return;
    case ROOMS_E_NAME_TAKEN:
      server_send_error(c, SIG_E_NAME_TAKEN, "that name is in use in this room");
      return;
    default: server_send_error(c, SIG_E_BAD_FIELD, "cannot join"); return;
  }
  c->joined = true;
  c->room = index;
  snprintf(c->name, sizeof c->name, "%s", m->name);
  const room_t *room = rooms_get(&s->rooms, index);
  const char *others[room->count];
  size_t n = 0;
  for (unsigned k = 0; k < room->count; k++)
    if (room->members[k].id != c->id) others[n++] = room->members[k].name;
  server_log(s, "join client=%d name=%s room=%s members=%u", c->id, c->name, room->name,
            room->count);
  server_send_text(c, sig_build_joined(room->name, c->name, others, n));
  char *relay = sig_build_relay(m, c->name);
  server_send_to_room(c, relay);
  sig_text_free(relay);
}

void server_handle_relayed(client_t *c, const sig_msg_t *m) {
  server_t *s = c->srv;
  if (!c->joined) {
    server_send_error(c, SIG_E_NOT_JOINED, "join a room first");
    return;
  }
  int to = -1;
  if (m->to && (to = rooms_find(&s->rooms, c->room, m->to)) < 0) {
    server_send_error(c, SIG_E_NO_SUCH_PEER, "\"to\" names nobody in this room");
    return;
  }
  server_log(s, "relay %s from=%s to=%s", sig_type_name(m->type), c->name, m->to ? m->to : "room");
  char *relay = sig_build_relay(m, c->name);
  if (to >= 0) {
    if (relay && sconn_send(&s->clients[to].conn, relay) == UV_ENOBUFS)
      server_drop_client(&s->clients[to], "not reading (outgoing queue full)");
  } else {
    server_send_to_room(c, relay);
  }
  sig_text_free(relay);
  if (m->type == SIG_BYE) server_leave_room(c, NULL);
}


void server_log_roster(client_t *c) {
  server_t *s = c->srv;
  const room_t *r = rooms_get(&s->rooms, c->room);
  if (!r || s->opts.quiet) return;
  printf("EVENT room %s:", r->name);
  for (unsigned k = 0; k < r->count; k++)
    printf(" %s=%s", r->members[k].name, s->clients[r->members[k].id].link);
  putchar('\n');
  fflush(stdout);
}


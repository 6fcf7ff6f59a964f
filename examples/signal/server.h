/* signal-server's state and the functions its files share:
 *   server.c       options, the endpoint, signals, the event log, main
 *   server_conn.c  one client's connection: accept, messages in, errors, link, close
 *   server_room.c  what a message does: join, relay to the room or to "to",
 *                  leave; error replies; the roster with link states */
#ifndef SIGNAL_SERVER_H
#define SIGNAL_SERVER_H

#include <stdbool.h>
#include <tou.h>

#include "rooms.h"
#include "sconn.h"
#include "signal_opts.h"
#include "sigmsg.h"

typedef struct client {
  sconn_t conn; /* first */
  struct server *srv;
  int id; /* slot; -1 for a refused connection */
  bool in_use, joined;
  unsigned room;
  char name[SIG_MAX_NAME + 1];
  char addr[64];
  const char *link; /* "heard", "silent" or "back": the last link verdict */
} client_t;

typedef struct server {
  uv_loop_t *loop;
  server_opts_t opts;
  tou_endpoint_t ep;
  rooms_t rooms;
  client_t *clients;
  unsigned active;
  uv_signal_t sigint, sigterm;
  bool stopping;
} server_t;

/* server.c: one "EVENT ..." line on stdout (unless --quiet). */
void server_log(server_t *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* server_conn.c */
void server_on_connection(tou_endpoint_t *ep, int status);
/* Resets a client that broke the rules of the road (does not read). */
void server_drop_client(client_t *c, const char *why);

/* server_room.c */
void server_send_text(client_t *c, char *text); /* releases text */
void server_send_error(client_t *c, sig_err_t code, const char *detail);
void server_send_to_room(client_t *c, const char *text); /* all members but c */
/* reason non-NULL: c vanished; the room gets a "bye" with that reason. */
void server_leave_room(client_t *c, const char *reason);
void server_handle_join(client_t *c, const sig_msg_t *m);
void server_handle_relayed(client_t *c, const sig_msg_t *m);
void server_log_roster(client_t *c);

#endif

/* signal-server: a video-call signalling server over tou.
 *
 * Clients join rooms and exchange the messages a WebRTC call needs (offer,
 * answer, ICE candidates, bye); the server relays each to the other members
 * of the sender's room (or to the one named in "to"). Every message is
 * validated (sigmsg.c) before anything is relayed; a bad one gets an error
 * reply and changes nothing else. The server watches each member's link
 * (tou's "can you hear me?" probing) and tells the room when a member goes
 * silent or comes back. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tou.h>

#include "rooms.h"
#include "sconn.h"
#include "sigmsg.h"
#include "signal_opts.h"

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

static void log_event(server_t *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void log_event(server_t *s, const char *fmt, ...) {
  if (s->opts.quiet) return;
  va_list ap;
  va_start(ap, fmt);
  fputs("EVENT ", stdout);
  vprintf(fmt, ap);
  fputc('\n', stdout);
  va_end(ap);
  fflush(stdout);
}

/* ---- sending ------------------------------------------------------------- */

static void drop_client(client_t *c, const char *why);

static void send_text(client_t *c, char *text) {
  if (!text) return; /* out of memory: the message is lost, the server lives */
  int r = sconn_send(&c->conn, text);
  sig_text_free(text);
  if (r == UV_ENOBUFS) drop_client(c, "not reading (outgoing queue full)");
}

static void send_error(client_t *c, sig_err_t code, const char *detail) {
  log_event(c->srv, "error client=%d code=%s %s", c->id, sig_err_code(code), detail);
  send_text(c, sig_build_error(code, detail));
}

/* Sends text (built once) to every member of c's room but c. */
static void send_to_room(client_t *c, const char *text) {
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
      drop_client(to, "not reading (outgoing queue full)");
  }
}

/* ---- rooms ----------------------------------------------------------------- */

static void leave_room(client_t *c, const char *reason) {
  if (!c->joined) return;
  server_t *s = c->srv;
  if (reason) {
    /* The member vanished without a bye: tell the room as if it had said one. */
    char *bye = sig_build_bye_from(c->name, reason);
    send_to_room(c, bye);
    sig_text_free(bye);
  }
  c->joined = false;
  rooms_leave(&s->rooms, c->room, c->id);
  log_event(s, "leave client=%d name=%s", c->id, c->name);
}

static void handle_join(client_t *c, const sig_msg_t *m) {
  server_t *s = c->srv;
  if (c->joined) {
    send_error(c, SIG_E_ALREADY_JOINED, "already in a room: send bye first");
    return;
  }
  unsigned index;
  int r = rooms_join(&s->rooms, m->room, m->name, c->id, &index);
  switch (r) {
    case ROOMS_OK: break;
    case ROOMS_E_FULL: send_error(c, SIG_E_ROOM_FULL, "the room is full"); return;
    case ROOMS_E_TOO_MANY: send_error(c, SIG_E_TOO_MANY_ROOMS, "too many rooms"); return;
    case ROOMS_E_NAME_TAKEN:
      send_error(c, SIG_E_NAME_TAKEN, "that name is in use in this room");
      return;
    default: send_error(c, SIG_E_BAD_FIELD, "cannot join"); return;
  }
  c->joined = true;
  c->room = index;
  snprintf(c->name, sizeof c->name, "%s", m->name);
  const room_t *room = rooms_get(&s->rooms, index);
  const char *others[room->count];
  size_t n = 0;
  for (unsigned k = 0; k < room->count; k++)
    if (room->members[k].id != c->id) others[n++] = room->members[k].name;
  log_event(s, "join client=%d name=%s room=%s members=%u", c->id, c->name, room->name,
            room->count);
  send_text(c, sig_build_joined(room->name, c->name, others, n));
  char *relay = sig_build_relay(m, c->name);
  send_to_room(c, relay);
  sig_text_free(relay);
}

static void handle_relayed(client_t *c, const sig_msg_t *m) {
  server_t *s = c->srv;
  if (!c->joined) {
    send_error(c, SIG_E_NOT_JOINED, "join a room first");
    return;
  }
  int to = -1;
  if (m->to && (to = rooms_find(&s->rooms, c->room, m->to)) < 0) {
    send_error(c, SIG_E_NO_SUCH_PEER, "\"to\" names nobody in this room");
    return;
  }
  log_event(s, "relay %s from=%s to=%s", sig_type_name(m->type), c->name, m->to ? m->to : "room");
  char *relay = sig_build_relay(m, c->name);
  if (to >= 0) {
    if (relay && sconn_send(&s->clients[to].conn, relay) == UV_ENOBUFS)
      drop_client(&s->clients[to], "not reading (outgoing queue full)");
  } else {
    send_to_room(c, relay);
  }
  sig_text_free(relay);
  if (m->type == SIG_BYE) leave_room(c, NULL);
}

/* ---- connection callbacks ------------------------------------------------- */

static void on_message(sconn_t *conn, const uint8_t *data, size_t len) {
  client_t *c = (client_t *)conn;
  if (c->id < 0) return;
  sig_msg_t m;
  char detail[160];
  sig_err_t e = sig_parse(data, len, 0, &m, detail, sizeof detail);
  if (e != SIG_OK) {
    send_error(c, e, detail);
    return;
  }
  if (m.type == SIG_JOIN) handle_join(c, &m);
  else handle_relayed(c, &m);
  sig_msg_free(&m);
}

static void on_frame_error(sconn_t *conn, int err) {
  client_t *c = (client_t *)conn;
  char detail[160];
  if (err == FRAME_ERR_TOO_LARGE) {
    snprintf(detail, sizeof detail, "a message of %u bytes is over the %zu-byte limit; closing",
             conn->decoder.bad_length, conn->decoder.max);
    send_error(c, SIG_E_TOO_LARGE, detail);
  } else {
    snprintf(detail, sizeof detail, "%s; closing", frame_strerror(err));
    send_error(c, SIG_E_FRAMING, detail);
  }
  leave_room(c, "disconnected");
  sconn_shutdown(conn); /* the error reply goes first, then our FIN */
}

static void on_end(sconn_t *conn, int status) {
  client_t *c = (client_t *)conn;
  log_event(c->srv, "end client=%d %s", c->id, status == UV_EOF ? "eof" : uv_err_name(status));
  leave_room(c, "disconnected");
  if (status == UV_EOF) sconn_shutdown(conn);
  else sconn_close(conn);
}

/* One line with every member of c's room and its link, for the operator. */
static void log_roster(client_t *c) {
  server_t *s = c->srv;
  const room_t *r = rooms_get(&s->rooms, c->room);
  if (!r || s->opts.quiet) return;
  printf("EVENT room %s:", r->name);
  for (unsigned k = 0; k < r->count; k++)
    printf(" %s=%s", r->members[k].name, s->clients[r->members[k].id].link);
  putchar('\n');
  fflush(stdout);
}

static void on_link(sconn_t *conn, int state) {
  client_t *c = (client_t *)conn;
  const char *word = state == TOU_LINK_SILENT ? "silent" : state == TOU_LINK_BACK ? "back"
                                                                                  : "heard";
  c->link = word;
  log_event(c->srv, "link client=%d name=%s %s", c->id, c->joined ? c->name : "-", word);
  if (!c->joined) return;
  log_roster(c);
  if (state == TOU_LINK_HEARD) return;
  char *text = sig_build_peer_link(c->name, word);
  send_to_room(c, text);
  sig_text_free(text);
}

static void on_closed(sconn_t *conn) {
  client_t *c = (client_t *)conn;
  server_t *s = c->srv;
  log_event(s, "closed client=%d", c->id);
  if (c->id < 0) {
    free(c);
    return;
  }
  c->in_use = false;
  s->active--;
}

static const sconn_callbacks_t callbacks = {on_message, on_frame_error, on_end, on_link,
                                            on_closed};

static void drop_client(client_t *c, const char *why) {
  if (c->conn.closing) return;
  log_event(c->srv, "drop client=%d %s", c->id, why);
  leave_room(c, "disconnected");
  tou_abort(&c->conn.stream);
  sconn_close(&c->conn);
}

static void describe_peer(client_t *c) {
  struct sockaddr_storage ss;
  int len = sizeof ss;
  char host[48] = "?";
  int port = 0;
  if (tou_stream_getpeername(&c->conn.stream, (struct sockaddr *)&ss, &len) == 0) {
    if (ss.ss_family == AF_INET6) {
      uv_ip6_name((struct sockaddr_in6 *)&ss, host, sizeof host);
      port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    } else {
      uv_ip4_name((struct sockaddr_in *)&ss, host, sizeof host);
      port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    }
  }
  snprintf(c->addr, sizeof c->addr, "%s:%d", host, port);
}

static void on_connection(tou_endpoint_t *ep, int status) {
  server_t *s = ep->data;
  if (status < 0) return;
  client_t *c = NULL;
  for (unsigned i = 0; i < s->opts.max_clients && !c; i++)
    if (!s->clients[i].in_use) c = &s->clients[i];
  bool refused = c == NULL || s->stopping;
  if (refused) c = malloc(sizeof *c); /* only to say why, then close */
  if (!c) return;
  int id = refused ? -1 : (int)(c - s->clients);
  memset(c, 0, sizeof *c);
  sconn_init(&c->conn, &callbacks, s, s->opts.max_message, 1u << 20);
  c->srv = s;
  c->id = id;
  c->link = "heard";
  if (tou_accept(ep, &c->conn.stream) != 0) {
    frame_decoder_free(&c->conn.decoder);
    if (refused) free(c);
    return;
  }
  describe_peer(c);
  if (refused) {
    send_text(c, sig_build_error(SIG_E_SERVER_FULL, "too many clients"));
    sconn_shutdown(&c->conn);
    return;
  }
  c->in_use = true;
  s->active++;
  int link_err;
  int r = sconn_start(&c->conn, s->opts.probe_idle_ms, s->opts.silent_ms, &link_err);
  log_event(s, "connect client=%d from=%s%s", c->id, c->addr,
            link_err ? " link-probe=unavailable" : "");
  if (r < 0) sconn_close(&c->conn);
}

/* ---- main --------------------------------------------------------------------- */

static void on_ep_closed(tou_handle_t *h) { (void)h; }

static void on_signal(uv_signal_t *sig, int signum) {
  (void)signum;
  server_t *s = sig->data;
  if (s->stopping) return;
  s->stopping = true;
  log_event(s, "stopping clients=%u", s->active);
  for (unsigned i = 0; i < s->opts.max_clients; i++)
    if (s->clients[i].in_use) sconn_close(&s->clients[i].conn);
  tou_close((tou_handle_t *)&s->ep, on_ep_closed);
  uv_close((uv_handle_t *)&s->sigint, NULL);
  uv_close((uv_handle_t *)&s->sigterm, NULL);
}

int main(int argc, char **argv) {
  static server_t srv;
  server_t *s = &srv;
  char err[160];
  int pr = server_opts_parse(argc, argv, &s->opts, err, sizeof err, stdout);
  if (pr != 0) {
    if (pr < 0) {
      fprintf(stderr, "signal-server: %s\n", err);
      server_opts_usage(stderr);
    }
    return pr < 0 ? 2 : 0;
  }
  s->loop = uv_default_loop();
  s->clients = calloc(s->opts.max_clients, sizeof *s->clients);
  if (!s->clients || rooms_init(&s->rooms, s->opts.max_rooms, s->opts.max_members) != ROOMS_OK) {
    fprintf(stderr, "signal-server: out of memory\n");
    return 1;
  }
  struct sockaddr_storage addr;
  if (uv_ip4_addr(s->opts.host, s->opts.port, (struct sockaddr_in *)&addr) != 0 &&
      uv_ip6_addr(s->opts.host, s->opts.port, (struct sockaddr_in6 *)&addr) != 0) {
    fprintf(stderr, "signal-server: bad address %s (numeric IPv4 or IPv6)\n", s->opts.host);
    return 2;
  }
  tou_endpoint_options_t eo;
  tou_endpoint_options_init(&eo);
  eo.nodelay = 1; /* small messages, wanted now */
  if (s->opts.max_rto_ms) eo.max_rto_ms = s->opts.max_rto_ms;
  int r = tou_endpoint_init(s->loop, &s->ep, &eo);
  s->ep.data = s;
  if (r == 0) r = tou_endpoint_bind(&s->ep, (const struct sockaddr *)&addr, 0);
  if (r == 0) r = tou_listen(&s->ep, 128, on_connection);
  if (r < 0) {
    fprintf(stderr, "signal-server: cannot listen on %s port %d: %s\n", s->opts.host,
            s->opts.port, uv_strerror(r));
    return 1;
  }
  struct sockaddr_storage bound;
  int len = sizeof bound;
  tou_endpoint_getsockname(&s->ep, (struct sockaddr *)&bound, &len);
  int port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                               : ((struct sockaddr_in *)&bound)->sin_port);
  bool quiet = s->opts.quiet;
  s->opts.quiet = 0; /* the port is always printed: scripts need it */
  log_event(s, "listening %s %d", s->opts.host, port);
  s->opts.quiet = quiet;
  uv_signal_init(s->loop, &s->sigint);
  uv_signal_init(s->loop, &s->sigterm);
  s->sigint.data = s->sigterm.data = s;
  uv_signal_start(&s->sigint, on_signal, SIGINT);
  uv_signal_start(&s->sigterm, on_signal, SIGTERM);
  uv_run(s->loop, UV_RUN_DEFAULT);
  uv_loop_close(s->loop);
  rooms_free(&s->rooms);
  free(s->clients);
  return 0;
}

/* One client's connection: accepted, messages in, framing errors, end,
 * link changes, closed. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"

/* ---- connection callbacks ------------------------------------------------- */

static void on_message(sconn_t *conn, const uint8_t *data, size_t len) {
  client_t *c = (client_t *)conn;
  if (c->id < 0) return;
  sig_msg_t m;
  char detail[160];
  sig_err_t e = sig_parse(data, len, 0, &m, detail, sizeof detail);
  if (e != SIG_OK) {
    server_send_error(c, e, detail);
    return;
  }
  if (m.type == SIG_JOIN) server_handle_join(c, &m);
  else server_handle_relayed(c, &m);
  sig_msg_free(&m);
}

static void on_frame_error(sconn_t *conn, int err) {
  client_t *c = (client_t *)conn;
  char detail[160];
  if (err == FRAME_ERR_TOO_LARGE) {
    snprintf(detail, sizeof detail, "a message of %u bytes is over the %zu-byte limit; closing",
             conn->decoder.bad_length, conn->decoder.max);
    server_send_error(c, SIG_E_TOO_LARGE, detail);
  } else {
    snprintf(detail, sizeof detail, "%s; closing", frame_strerror(err));
    server_send_error(c, SIG_E_FRAMING, detail);
  }
  server_leave_room(c, "disconnected");
  sconn_shutdown(conn); /* the error reply goes first, then our FIN */
}

static void on_end(sconn_t *conn, int status) {
  client_t *c = (client_t *)conn;
  server_log(c->srv, "end client=%d %s", c->id, status == UV_EOF ? "eof" : uv_err_name(status));
  server_leave_room(c, "disconnected");
  if (status == UV_EOF) sconn_shutdown(conn);
  else sconn_close(conn);
}

/* One line with every member of c's room and its link, for the operator. */
static void on_link(sconn_t *conn, int state) {
  client_t *c = (client_t *)conn;
  const char *word = state == TOU_LINK_SILENT ? "silent" : state == TOU_LINK_BACK ? "back"
                                                                                  : "heard";
  c->link = word;
  server_log(c->srv, "link client=%d name=%s %s", c->id, c->joined ? c->name : "-", word);
  if (!c->joined) return;
  server_log_roster(c);
  if (state == TOU_LINK_HEARD) return;
  char *text = sig_build_peer_link(c->name, word);
  server_send_to_room(c, text);
  sig_text_free(text);
}

static void on_closed(sconn_t *conn) {
  client_t *c = (client_t *)conn;
  server_t *s = c->srv;
  server_log(s, "closed client=%d", c->id);
  if (c->id < 0) {
    free(c);
    return;
  }
  c->in_use = false;
  s->active--;
}

static const sconn_callbacks_t callbacks = {on_message, on_frame_error, on_end, on_link,
                                            on_closed};

void server_drop_client(client_t *c, const char *why) {
  if (c->conn.closing) return;
  server_log(c->srv, "drop client=%d %s", c->id, why);
  server_leave_room(c, "disconnected");
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

void server_on_connection(tou_endpoint_t *ep, int status) {
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
    server_send_text(c, sig_build_error(SIG_E_SERVER_FULL, "too many clients"));
    sconn_shutdown(&c->conn);
    return;
  }
  c->in_use = true;
  s->active++;
  int link_err;
  int r = sconn_start(&c->conn, s->opts.probe_idle_ms, s->opts.silent_ms, &link_err);
  server_log(s, "connect client=%d from=%s%s", c->id, c->addr,
            link_err ? " link-probe=unavailable" : "");
  if (r < 0) sconn_close(&c->conn);
}


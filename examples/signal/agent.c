/* One signalling client: its socket, its connection, its end. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

void agent_say(agent_t *a, const char *fmt, ...) {
  if (!a->app->verbose) return;
  va_list ap;
  va_start(ap, fmt);
  printf("%s: ", a->name);
  vprintf(fmt, ap);
  putchar('\n');
  va_end(ap);
  fflush(stdout);
}

void agent_fail(agent_t *a, const char *fmt, ...) {
  if (a->phase == PH_FAILED || a->phase == PH_DONE) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(a->why, sizeof a->why, fmt, ap);
  va_end(ap);
  a->phase = PH_FAILED;
  printf("FAIL %s room=%s: %s\n", a->name, a->room, a->why);
  fflush(stdout);
  sconn_close(&a->conn);
}


static void on_message(sconn_t *c, const uint8_t *data, size_t len) {
  agent_t *a = (agent_t *)c;
  if (a->phase == PH_INTERACTIVE || a->role == ROLE_NONE) {
    printf("RECV %.*s\n", (int)len, (const char *)data);
    fflush(stdout);
    return;
  }
  sig_msg_t m;
  char detail[160];
  sig_err_t e = sig_parse(data, len, 1, &m, detail, sizeof detail);
  if (e != SIG_OK) {
    agent_fail(a, "bad message from the server (%s: %s)", sig_err_code(e), detail);
    return;
  }
  if (a->app->verbose) agent_say(a, "RECV %.*s", (int)len, (const char *)data);
  call_on_message(a, &m);
  sig_msg_free(&m);
}

static void on_frame_error(sconn_t *c, int err) {
  agent_fail((agent_t *)c, "framing: %s", frame_strerror(err));
}

static void on_end(sconn_t *c, int status) {
  agent_t *a = (agent_t *)c;
  if (a->phase == PH_CLOSING) return; /* the server's FIN after ours */
  if (a->role == ROLE_NONE) {
    printf("EVENT end %s\n", uv_err_name(status));
    sconn_shutdown(c);
    return;
  }
  agent_fail(a, "connection ended in phase %d: %s", (int)a->phase, uv_err_name(status));
}

static void on_link(sconn_t *c, int state) {
  agent_t *a = (agent_t *)c;
  printf("LINK %s %s\n", a->name,
         state == TOU_LINK_SILENT ? "silent" : state == TOU_LINK_BACK ? "back" : "heard");
  fflush(stdout);
}

static void agent_done(agent_t *a) {
  if (a->finished) return;
  a->finished = true;
  app_t *app = a->app;
  app->finished++;
  if (a->phase != PH_DONE) app->failed++;
  if (app->finished == app->count) {
    uv_close((uv_handle_t *)&app->deadline, NULL);
    uv_close((uv_handle_t *)&app->sigint, NULL);
    uv_close((uv_handle_t *)&app->sigterm, NULL);
    if (app->input_open) {
      app->input_open = false;
      uv_close((uv_handle_t *)&app->input, NULL);
    }
  }
}

static void on_ep_closed(tou_handle_t *h) { agent_done(h->data); }

static void on_linger(uv_timer_t *t) {
  agent_t *a = t->data;
  uv_close((uv_handle_t *)&a->linger, NULL);
  uv_close((uv_handle_t *)&a->trickle, NULL);
  tou_close((tou_handle_t *)&a->ep, on_ep_closed);
}

static void on_closed(sconn_t *c) {
  agent_t *a = (agent_t *)c;
  if (a->phase == PH_CLOSING) a->phase = PH_DONE;
  else if (a->phase == PH_INTERACTIVE) a->phase = PH_DONE;
  else if (a->phase != PH_FAILED) agent_fail(a, "closed in phase %d", (int)a->phase);
  /* Keep the socket a moment: if our last ACK was lost, the server's FIN
   * comes again and deserves an answer (TIME_WAIT's job). */
  uv_timer_start(&a->linger, on_linger, a->phase == PH_DONE ? a->app->linger_ms : 0, 0);
}

static const sconn_callbacks_t callbacks = {on_message, on_frame_error, on_end, on_link,
                                            on_closed};

static void on_connect(tou_connect_t *req, int status) {
  agent_t *a = req->data;
  if (status < 0) {
    if (status != UV_ECANCELED) agent_fail(a, "connect: %s", uv_err_name(status));
    return;
  }
  int link_err;
  int r = sconn_start(&a->conn, a->app->probe_idle_ms, a->app->silent_ms, &link_err);
  if (r < 0) {
    agent_fail(a, "read: %s", uv_err_name(r));
    return;
  }
  a->connected = true;
  if (a->input_done && a->phase == PH_INTERACTIVE) {
    a->phase = PH_CLOSING; /* stdin ended before the connection was up */
    sconn_shutdown(&a->conn);
  }
}

int agent_start(app_t *app, agent_t *a) {
  a->app = app;
  a->cand_target = app->candidates;
  sconn_init(&a->conn, &callbacks, a, FRAME_DEFAULT_MAX, 1u << 20);
  a->conn.wait_peer_fin = true;
  uv_timer_init(app->loop, &a->linger);
  a->linger.data = a;
  uv_timer_init(app->loop, &a->trickle);
  a->trickle.data = a;
  tou_endpoint_options_t eo;
  tou_endpoint_options_init(&eo);
  eo.nodelay = 1;
  int r = tou_endpoint_init(app->loop, &a->ep, &eo);
  if (r < 0) return r;
  a->ep.data = a;
  struct sockaddr_storage any;
  if (app->server.ss_family == AF_INET6) uv_ip6_addr("::", 0, (struct sockaddr_in6 *)&any);
  else uv_ip4_addr("0.0.0.0", 0, (struct sockaddr_in *)&any);
  r = tou_endpoint_bind(&a->ep, (const struct sockaddr *)&any, 0);
  a->connect_req.data = a;
  if (r == 0)
    r = tou_connect(&a->connect_req, &a->ep, &a->conn.stream,
                    (const struct sockaddr *)&app->server, on_connect);
  if (r == 0) {
    /* Written now, sent once the handshake completes: tou queues writes
     * in order, so whatever is typed meanwhile follows the join. */
    a->phase = a->role == ROLE_NONE ? PH_INTERACTIVE : PH_JOINING;
    agent_send(a, sig_build_join(a->room, a->name));
  }
  if (r < 0) {
    tou_close((tou_handle_t *)&a->ep, NULL);
    uv_close((uv_handle_t *)&a->linger, NULL);
    uv_close((uv_handle_t *)&a->trickle, NULL);
  }
  return r;
}


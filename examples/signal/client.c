/* signal-client: a signalling client over tou.
 *
 * Scripted calls (for tests and load): each "agent" is one client that joins
 * a room and plays one side of a WebRTC call set-up, checking every message
 * it receives against what that side must see next:
 *   caller: join -> (peer joins) -> offer -> answer <- -> K candidates both
 *           ways -> bye
 *   callee: join -> offer <- -> answer -> K candidates both ways -> bye <-
 *           -> bye
 * --role caller|callee runs one agent; --pairs N runs N calls (2N clients,
 * each with its own UDP socket) in rooms PREFIX-0 .. PREFIX-(N-1).
 *
 * Interactive (no --role, no --pairs): joins --room as --name, then each
 * stdin line is sent: "offer TEXT", "answer TEXT", "candidate TEXT", "bye",
 * or a raw JSON object; received messages are printed as RECV lines. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

/* ---- interactive ------------------------------------------------------------- */

static void send_typed(agent_t *a, char *line) {
  char *text = NULL;
  if (line[0] == '{') {
    int r = sconn_send(&a->conn, line); /* as typed: the server judges it */
    if (r < 0) printf("EVENT error %s\n", uv_err_name(r));
    return;
  }
  if (!strncmp(line, "offer ", 6)) text = sig_build_sdp(SIG_OFFER, line + 6, NULL);
  else if (!strncmp(line, "answer ", 7)) text = sig_build_sdp(SIG_ANSWER, line + 7, NULL);
  else if (!strncmp(line, "candidate ", 10)) text = sig_build_candidate(line + 10, "0", 0, NULL);
  else if (!strcmp(line, "bye")) text = sig_build_bye(NULL);
  else {
    printf("EVENT error commands: offer TEXT, answer TEXT, candidate TEXT, bye, {json}\n");
    fflush(stdout);
    return;
  }
  agent_send(a, text);
}

static void input_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  (void)h, (void)suggested;
  static char storage[4096];
  *buf = uv_buf_init(storage, sizeof storage);
}

static void on_input(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  app_t *app = s->data;
  agent_t *a = &app->agents[0];
  if (nread < 0) {
    app->input_open = false;
    uv_close((uv_handle_t *)&app->input, NULL);
    a->input_done = true;
    if (a->phase == PH_INTERACTIVE && a->connected) {
      a->phase = PH_CLOSING;
      sconn_shutdown(&a->conn);
    }
    return;
  }
  for (ssize_t i = 0; i < nread; i++) {
    char ch = buf->base[i];
    if (ch != '\n') {
      if (app->input_len + 1 < sizeof app->input_line) app->input_line[app->input_len++] = ch;
      continue;
    }
    app->input_line[app->input_len] = '\0';
    app->input_len = 0;
    if (app->input_line[0]) send_typed(a, app->input_line);
  }
}

/* ---- main -------------------------------------------------------------------- */

/* SIGINT/SIGTERM: an interactive client leaves gracefully (our FIN; the
 * server tells the room "bye"); scripted calls still running agent_fail. */
static void on_signal(uv_signal_t *sig, int signum) {
  (void)signum;
  app_t *app = sig->data;
  for (unsigned i = 0; i < app->count; i++) {
    agent_t *a = &app->agents[i];
    if (a->phase == PH_INTERACTIVE && a->connected) {
      a->phase = PH_CLOSING;
      sconn_shutdown(&a->conn);
    } else if (a->phase != PH_CLOSING && a->phase != PH_DONE) {
      agent_fail(a, "interrupted in phase %d", (int)a->phase);
    }
  }
}

static void on_deadline(uv_timer_t *t) {
  app_t *app = t->data;
  for (unsigned i = 0; i < app->count; i++)
    if (app->agents[i].phase != PH_DONE)
      agent_fail(&app->agents[i], "timed out in phase %d", (int)app->agents[i].phase);
}

int main(int argc, char **argv) {
  static app_t app_storage;
  app_t *app = &app_storage;
  client_opts_t o;
  char err[160];
  int pr = client_opts_parse(argc, argv, &o, err, sizeof err, stdout);
  if (pr != 0) {
    if (pr < 0) {
      fprintf(stderr, "signal-client: %s\n", err);
      client_opts_usage(stderr);
    }
    return pr < 0 ? 2 : 0;
  }
  if (uv_ip4_addr(o.host, o.port, (struct sockaddr_in *)&app->server) != 0 &&
      uv_ip6_addr(o.host, o.port, (struct sockaddr_in6 *)&app->server) != 0) {
    fprintf(stderr, "signal-client: bad address %s (numeric IPv4 or IPv6)\n", o.host);
    return 2;
  }
  app->candidates = o.candidates;
  app->timeout_s = o.timeout_s;
  app->linger_ms = o.linger_ms;
  app->hold_ms = o.hold_ms;
  app->probe_idle_ms = o.probe_idle_ms;
  app->silent_ms = o.silent_ms;
  app->verbose = o.verbose;
  app->watch = o.watch;
  const char *room = o.room, *name = o.name;
  client_role_t role = o.role;
  unsigned pairs = o.pairs;
  app->loop = uv_default_loop();
  app->count = pairs ? pairs * 2 : 1;
  app->agents = calloc(app->count, sizeof *app->agents);
  if (!app->agents) return 1;
  for (unsigned i = 0; i < app->count; i++) {
    agent_t *a = &app->agents[i];
    if (pairs) {
      a->role = i % 2 ? ROLE_CALLEE : ROLE_CALLER;
      snprintf(a->room, sizeof a->room, "%.40s-%u", room, i / 2);
      snprintf(a->name, sizeof a->name, "%s-%u", a->role == ROLE_CALLER ? "caller" : "callee",
               i / 2);
    } else {
      a->role = role;
      snprintf(a->room, sizeof a->room, "%s", room);
      snprintf(a->name, sizeof a->name, "%s",
               name ? name : role == ROLE_CALLEE ? "callee" : "caller");
    }
    if (!sig_valid_ident(a->room, SIG_MAX_ROOM) || !sig_valid_ident(a->name, SIG_MAX_NAME)) {
      fprintf(stderr, "signal-client: room and name: 1..64 / 1..32 of [A-Za-z0-9._-]\n");
      return 2;
    }
  }
  uv_timer_init(app->loop, &app->deadline);
  app->deadline.data = app;
  uv_timer_start(&app->deadline, on_deadline, (uint64_t)app->timeout_s * 1000, 0);
  uv_signal_init(app->loop, &app->sigint);
  uv_signal_init(app->loop, &app->sigterm);
  app->sigint.data = app->sigterm.data = app;
  uv_signal_start(&app->sigint, on_signal, SIGINT);
  uv_signal_start(&app->sigterm, on_signal, SIGTERM);
  for (unsigned i = 0; i < app->count; i++) {
    int r = agent_start(app, &app->agents[i]);
    if (r < 0) {
      fprintf(stderr, "signal-client: %s\n", uv_strerror(r));
      return 1;
    }
  }
  if (role == ROLE_NONE && !pairs) {
    app->timeout_s = 0;
    uv_timer_stop(&app->deadline);
    if (!app->watch && uv_pipe_init(app->loop, &app->input, 0) == 0 &&
        uv_pipe_open(&app->input, 0) == 0) {
      app->input.data = app;
      app->input_open = true;
      uv_read_start((uv_stream_t *)&app->input, input_alloc, on_input);
    }
  }
  uv_run(app->loop, UV_RUN_DEFAULT);
  uv_loop_close(app->loop);
  printf("RESULT %s clients=%u failed=%u\n", app->failed ? "agent_fail" : "ok", app->count, app->failed);
  free(app->agents);
  return app->failed ? 1 : 0;
}


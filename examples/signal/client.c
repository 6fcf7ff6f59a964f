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
#include <tou.h>

#include "sconn.h"
#include "sigmsg.h"
#include "signal_opts.h"

enum phase {
  PH_CONNECTING,
  PH_JOINING,      /* join sent, waiting for joined */
  PH_WAIT_PEER,    /* caller: alone in the room */
  PH_WAIT_OFFER,   /* callee */
  PH_WAIT_ANSWER,  /* caller: offer sent */
  PH_CANDIDATES,   /* exchanging candidates */
  PH_WAIT_BYE,     /* callee: all candidates done */
  PH_IN_CALL,      /* caller: --hold, the call is up */
  PH_INTERACTIVE,
  PH_CLOSING,
  PH_DONE,
  PH_FAILED,
};

typedef struct agent {
  sconn_t conn; /* first */
  struct app *app;
  client_role_t role;
  enum phase phase;
  char room[SIG_MAX_ROOM + 1], name[SIG_MAX_NAME + 1], peer[SIG_MAX_NAME + 1];
  unsigned cand_sent, cand_recv;
  unsigned cand_target; /* candidates to send: --candidates, more when trickling */
  tou_endpoint_t ep;
  tou_connect_t connect_req;
  uv_timer_t linger;
  uv_timer_t trickle; /* caller with --hold: one more candidate every 500 ms */
  char why[200];
  bool finished, connected;
  bool input_done; /* interactive: stdin ended */
} agent_t;

typedef struct app {
  uv_loop_t *loop;
  struct sockaddr_storage server;
  unsigned candidates, linger_ms, timeout_s, probe_idle_ms, silent_ms;
  unsigned hold_ms; /* caller: stay in the call this long before bye */
  int verbose;
  agent_t *agents;
  unsigned count, finished, failed;
  uv_timer_t deadline;
  uv_signal_t sigint, sigterm; /* leave the room and close, then exit */
  int watch; /* interactive without stdin: print what arrives until a signal */
  uv_pipe_t input;
  bool input_open;
  char input_line[SIG_MAX_SDP + 256];
  size_t input_len;
} app_t;

static void say(agent_t *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(agent_t *a, const char *fmt, ...) {
  if (!a->app->verbose) return;
  va_list ap;
  va_start(ap, fmt);
  printf("%s: ", a->name);
  vprintf(fmt, ap);
  putchar('\n');
  va_end(ap);
  fflush(stdout);
}

static void fail(agent_t *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(agent_t *a, const char *fmt, ...) {
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

static void send_msg(agent_t *a, char *text) {
  if (!text) {
    fail(a, "out of memory");
    return;
  }
  int r = sconn_send(&a->conn, text);
  if (a->app->verbose) say(a, "SEND %s", text);
  sig_text_free(text);
  if (r < 0) fail(a, "send: %s", uv_err_name(r));
}

/* The SDP and candidates name their sender, so that the receiver can check
 * that it got its peer's and not anyone else's. */
static char *build_offer_or_answer(agent_t *a, sig_type_t t) {
  char sdp[256];
  snprintf(sdp, sizeof sdp,
           "v=0\r\no=%s 1 1 IN IP4 127.0.0.1\r\ns=tou call in %s\r\n"
           "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n",
           a->name, a->room);
  return sig_build_sdp(t, sdp, NULL);
}

static void send_candidates(agent_t *a) {
  for (; a->cand_sent < a->cand_target; a->cand_sent++) {
    char cand[160];
    snprintf(cand, sizeof cand, "candidate:%u 1 udp %u 127.0.0.1 %u typ host %s", a->cand_sent,
             2130706431u - a->cand_sent, 50000 + a->cand_sent, a->name);
    send_msg(a, sig_build_candidate(cand, "0", 0, NULL));
  }
}

static void finish_call(agent_t *a) {
  a->phase = PH_CLOSING;
  sconn_shutdown(&a->conn);
}

static void hang_up(agent_t *a) {
  send_msg(a, sig_build_bye("hang up"));
  say(a, "call complete");
  finish_call(a);
}

static void on_hang_up(uv_timer_t *t) {
  agent_t *a = t->data;
  uv_timer_stop(&a->trickle);
  if (a->phase == PH_IN_CALL) hang_up(a);
}

/* Trickle ICE: candidates keep coming during the call. It also keeps data
 * flowing through the server to the peer, which is what lets the server's
 * link probe notice when that peer stops answering. */
static void on_trickle(uv_timer_t *t) {
  agent_t *a = t->data;
  if (a->phase != PH_IN_CALL) return;
  a->cand_target++; /* the peer checks the numbering, not the total */
  send_candidates(a);
}

static void check_candidate(agent_t *a, const sig_msg_t *m) {
  char want[160];
  snprintf(want, sizeof want, "candidate:%u ", a->cand_recv);
  if (strncmp(m->candidate, want, strlen(want)) || !strstr(m->candidate, a->peer)) {
    fail(a, "candidate %u out of order or from the wrong peer: %s", a->cand_recv, m->candidate);
    return;
  }
  a->cand_recv++;
}

static bool from_peer(agent_t *a, const sig_msg_t *m) {
  if (!a->peer[0]) snprintf(a->peer, sizeof a->peer, "%s", m->from);
  if (strcmp(a->peer, m->from)) {
    fail(a, "%s from %s, expected only %s", sig_type_name(m->type), m->from, a->peer);
    return false;
  }
  return true;
}

static void on_call_message(agent_t *a, const sig_msg_t *m) {
  if (m->type == SIG_PEER_LINK) {
    printf("PEER-LINK %s room=%s %s %s\n", a->name, a->room, m->name, m->state);
    fflush(stdout);
    return;
  }
  if (m->type == SIG_ERROR) {
    fail(a, "server error %s: %s", m->code, m->message);
    return;
  }
  switch (a->phase) {
    case PH_JOINING:
      if (m->type != SIG_JOINED) break;
      if (a->role == ROLE_CALLEE) {
        a->phase = PH_WAIT_OFFER;
      } else if (cJSON_GetArraySize(m->members) > 0) {
        snprintf(a->peer, sizeof a->peer, "%s", cJSON_GetArrayItem(m->members, 0)->valuestring);
        a->phase = PH_WAIT_ANSWER;
        send_msg(a, build_offer_or_answer(a, SIG_OFFER));
      } else {
        a->phase = PH_WAIT_PEER;
      }
      return;
    case PH_WAIT_PEER:
      if (m->type != SIG_JOIN || !from_peer(a, m)) break;
      a->phase = PH_WAIT_ANSWER;
      send_msg(a, build_offer_or_answer(a, SIG_OFFER));
      return;
    case PH_WAIT_OFFER:
      if (m->type == SIG_JOIN) return; /* the caller arriving; its offer follows */
      if (m->type != SIG_OFFER || !from_peer(a, m)) break;
      if (!strstr(m->sdp, a->peer)) {
        fail(a, "offer does not come from %s", a->peer);
        return;
      }
      send_msg(a, build_offer_or_answer(a, SIG_ANSWER));
      send_candidates(a);
      a->phase = PH_CANDIDATES;
      return;
    case PH_WAIT_ANSWER:
      if (m->type != SIG_ANSWER || !from_peer(a, m)) break;
      if (!strstr(m->sdp, a->peer)) {
        fail(a, "answer does not come from %s", a->peer);
        return;
      }
      send_candidates(a);
      a->phase = PH_CANDIDATES;
      if (a->cand_recv == a->app->candidates) goto all_candidates;
      return;
    case PH_CANDIDATES:
      if (m->type != SIG_CANDIDATE || !from_peer(a, m)) break;
      check_candidate(a, m);
      if (a->phase != PH_CANDIDATES || a->cand_recv < a->app->candidates) return;
    all_candidates:
      if (a->role == ROLE_CALLER && a->app->hold_ms) {
        a->phase = PH_IN_CALL;
        uv_timer_start(&a->linger, on_hang_up, a->app->hold_ms, 0);
        uv_timer_start(&a->trickle, on_trickle, 500, 500);
      } else if (a->role == ROLE_CALLER) {
        hang_up(a);
      } else {
        a->phase = PH_WAIT_BYE;
      }
      return;
    case PH_WAIT_BYE:
      if (m->type == SIG_CANDIDATE && from_peer(a, m)) {
        check_candidate(a, m); /* trickled during the call */
        return;
      }
      if (m->type != SIG_BYE || !from_peer(a, m)) break;
      send_msg(a, sig_build_bye("hang up"));
      say(a, "call complete");
      finish_call(a);
      return;
    default: break;
  }
  fail(a, "unexpected %s in phase %d", sig_type_name(m->type), (int)a->phase);
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
    fail(a, "bad message from the server (%s: %s)", sig_err_code(e), detail);
    return;
  }
  if (a->app->verbose) say(a, "RECV %.*s", (int)len, (const char *)data);
  on_call_message(a, &m);
  sig_msg_free(&m);
}

static void on_frame_error(sconn_t *c, int err) {
  fail((agent_t *)c, "framing: %s", frame_strerror(err));
}

static void on_end(sconn_t *c, int status) {
  agent_t *a = (agent_t *)c;
  if (a->phase == PH_CLOSING) return; /* the server's FIN after ours */
  if (a->role == ROLE_NONE) {
    printf("EVENT end %s\n", uv_err_name(status));
    sconn_shutdown(c);
    return;
  }
  fail(a, "connection ended in phase %d: %s", (int)a->phase, uv_err_name(status));
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
  else if (a->phase != PH_FAILED) fail(a, "closed in phase %d", (int)a->phase);
  /* Keep the socket a moment: if our last ACK was lost, the server's FIN
   * comes again and deserves an answer (TIME_WAIT's job). */
  uv_timer_start(&a->linger, on_linger, a->phase == PH_DONE ? a->app->linger_ms : 0, 0);
}

static const sconn_callbacks_t callbacks = {on_message, on_frame_error, on_end, on_link,
                                            on_closed};

static void on_connect(tou_connect_t *req, int status) {
  agent_t *a = req->data;
  if (status < 0) {
    if (status != UV_ECANCELED) fail(a, "connect: %s", uv_err_name(status));
    return;
  }
  int link_err;
  int r = sconn_start(&a->conn, a->app->probe_idle_ms, a->app->silent_ms, &link_err);
  if (r < 0) {
    fail(a, "read: %s", uv_err_name(r));
    return;
  }
  a->connected = true;
  if (a->input_done && a->phase == PH_INTERACTIVE) {
    a->phase = PH_CLOSING; /* stdin ended before the connection was up */
    sconn_shutdown(&a->conn);
  }
}

static int agent_start(app_t *app, agent_t *a) {
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
    send_msg(a, sig_build_join(a->room, a->name));
  }
  if (r < 0) {
    tou_close((tou_handle_t *)&a->ep, NULL);
    uv_close((uv_handle_t *)&a->linger, NULL);
    uv_close((uv_handle_t *)&a->trickle, NULL);
  }
  return r;
}

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
  send_msg(a, text);
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
 * server tells the room "bye"); scripted calls still running fail. */
static void on_signal(uv_signal_t *sig, int signum) {
  (void)signum;
  app_t *app = sig->data;
  for (unsigned i = 0; i < app->count; i++) {
    agent_t *a = &app->agents[i];
    if (a->phase == PH_INTERACTIVE && a->connected) {
      a->phase = PH_CLOSING;
      sconn_shutdown(&a->conn);
    } else if (a->phase != PH_CLOSING && a->phase != PH_DONE) {
      fail(a, "interrupted in phase %d", (int)a->phase);
    }
  }
}

static void on_deadline(uv_timer_t *t) {
  app_t *app = t->data;
  for (unsigned i = 0; i < app->count; i++)
    if (app->agents[i].phase != PH_DONE)
      fail(&app->agents[i], "timed out in phase %d", (int)app->agents[i].phase);
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
  printf("RESULT %s clients=%u failed=%u\n", app->failed ? "fail" : "ok", app->count, app->failed);
  free(app->agents);
  return app->failed ? 1 : 0;
}

/* chat: two people talk over one tou stream (see chat_cli.c for usage).
 *
 * This file sets up: command line, addresses, the endpoint, signals; chat.h
 * lists the other files. Lines typed before the connection is up are kept
 * in order (chat_send.c) and written once it is; lines typed while the link
 * is silent are written at once — tou keeps them in its send buffer and
 * retransmits them until the peer hears them, in order, exactly once. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat.h"

uint64_t chat_now_ms(void) { return uv_hrtime() / 1000000u; }

static void on_sigint(uv_signal_t *s, int signum) {
  (void)signum;
  chat_t *c = s->data;
  if (++c->interrupts >= 2 || !c->established) {
    chat_abort(c, "by Ctrl-C");
    return;
  }
  chat_view_event(&c->view, "closing (Ctrl-C again to abort with RST)");
  chat_start_quit(c);
}

static void on_deadline(uv_timer_t *t) { chat_abort(t->data, "by --timeout"); }

/* ---- setup ------------------------------------------------------------------- */

static int resolve(const char *host, int port, struct sockaddr_storage *out) {
  uv_getaddrinfo_t req;
  struct addrinfo hints;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  char service[16];
  snprintf(service, sizeof service, "%d", port);
  int r = uv_getaddrinfo(uv_default_loop(), &req, NULL, host, service, &hints);
  if (r < 0) return r;
  memcpy(out, req.addrinfo->ai_addr, req.addrinfo->ai_addrlen);
  uv_freeaddrinfo(req.addrinfo);
  return 0;
}

static int load_script(chat_t *c, const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "chat: %s: %s\n", path, strerror(errno));
    return -1;
  }
  static char text[1 << 20];
  size_t n = fread(text, 1, sizeof text, f);
  fclose(f);
  if (n == sizeof text) {
    fprintf(stderr, "chat: %s: larger than 1 MiB\n", path);
    return -1;
  }
  char err[128];
  if (chat_script_parse(text, n, &c->script, err, sizeof err) < 0) {
    fprintf(stderr, "chat: %s: %s\n", path, err);
    return -1;
  }
  return 0;
}

static int setup(chat_t *c) {
  int r;
  int family = AF_INET;
  if (c->opts.host) {
    r = resolve(c->opts.host, c->opts.port, &c->peer_addr);
    if (r < 0) {
      fprintf(stderr, "chat: cannot resolve %s: %s\n", c->opts.host, uv_strerror(r));
      return r;
    }
    family = c->peer_addr.ss_family;
  }
  struct sockaddr_storage local;
  const char *bind_host = c->opts.bind_host ? c->opts.bind_host
                          : family == AF_INET6 ? "::" : "0.0.0.0";
  r = resolve(bind_host, c->opts.local_port, &local);
  if (r < 0) {
    fprintf(stderr, "chat: bad --bind %s: %s\n", bind_host, uv_strerror(r));
    return r;
  }

  tou_endpoint_options_t eo;
  tou_endpoint_options_init(&eo);
  eo.nodelay = 1; /* chat lines are small and wanted now */
  eo.trace = chat_on_trace;
  eo.trace_arg = c;
  if (c->opts.max_rto_ms) eo.max_rto_ms = c->opts.max_rto_ms;
  uint8_t seed[32];
  if (c->opts.seed) {
    for (size_t i = 0; i < sizeof seed; i++) seed[i] = (uint8_t)(c->opts.seed >> (8 * (i % 4)));
    eo.seed = seed;
  }
  r = tou_endpoint_init(c->loop, &c->ep, &eo);
  if (r == 0) {
    c->ep_open = true;
    c->ep.data = c;
    r = tou_endpoint_bind(&c->ep, (const struct sockaddr *)&local, 0);
  }
  if (r < 0) {
    fprintf(stderr, "chat: cannot use %s port %d: %s\n", bind_host, c->opts.local_port,
            uv_strerror(r));
    return r;
  }
  struct sockaddr_storage bound;
  int len = sizeof bound;
  tou_endpoint_getsockname(&c->ep, (struct sockaddr *)&bound, &len);
  int port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                               : ((struct sockaddr_in *)&bound)->sin_port);
  if (c->opts.mode == CHAT_MODE_LISTEN) {
    r = tou_listen(&c->ep, 4, chat_on_connection);
    if (r == 0) chat_view_event(&c->view, "listening %s %d", bind_host, port);
  } else {
    chat_view_event(&c->view, "bound %s %d", bind_host, port);
    r = chat_start_connect(c);
  }
  if (r < 0) fprintf(stderr, "chat: %s\n", uv_strerror(r));
  return r;
}

int main(int argc, char **argv) {
  static chat_t chat;
  chat_t *c = &chat;
  char err[160];
  int r = chat_cli_parse(argc, argv, &c->opts, err, sizeof err, stdout);
  if (r == 1) return 0;
  if (r < 0) {
    fprintf(stderr, "chat: %s\n", err);
    chat_cli_usage(stderr);
    return 2;
  }
  if (c->opts.script && load_script(c, c->opts.script) < 0) return 2;
  c->loop = uv_default_loop();
  chat_view_init(&c->view, stdout, c->opts.events, c->opts.name, c->opts.timestamps);
  line_framer_init(&c->peer_framer, c->peer_line, sizeof c->peer_line);
  line_framer_init(&c->input_framer, c->input_line, sizeof c->input_line);
  c->link = CHAT_LINK_CONNECTING;
  c->tcp_state = TOU_STATE_CLOSED;
  uv_timer_t *timers[] = {&c->script_timer, &c->tick_timer, &c->linger_timer, &c->retry_timer,
                          &c->deadline_timer};
  for (size_t i = 0; i < sizeof timers / sizeof timers[0]; i++) {
    uv_timer_init(c->loop, timers[i]);
    timers[i]->data = c;
  }
  uv_signal_init(c->loop, &c->sigint);
  c->sigint.data = c;
  uv_signal_start(&c->sigint, on_sigint, SIGINT);
  if (c->opts.timeout_s)
    uv_timer_start(&c->deadline_timer, on_deadline, (uint64_t)c->opts.timeout_s * 1000, 0);

  if (setup(c) < 0) {
    chat_finish(c, 1);
    uv_run(c->loop, UV_RUN_DEFAULT);
    return 1;
  }
  if (!c->opts.script && chat_open_input(c) < 0) {
    fprintf(stderr, "chat: cannot read stdin\n");
    chat_finish(c, 1);
  }
  uv_run(c->loop, UV_RUN_DEFAULT);
  if (c->view.status_line) fputc('\n', stdout); /* leave the prompt line */
  chat_script_free(&c->script);
  uv_loop_close(c->loop);
  return c->exit_code;
}


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

#include "server.h"

void server_log(server_t *s, const char *fmt, ...) {
  if (s->opts.quiet) return;
  va_list ap;
  va_start(ap, fmt);
  fputs("EVENT ", stdout);
  vprintf(fmt, ap);
  fputc('\n', stdout);
  va_end(ap);
  fflush(stdout);
}

/* ---- main --------------------------------------------------------------------- */

static void on_ep_closed(tou_handle_t *h) { (void)h; }

static void on_signal(uv_signal_t *sig, int signum) {
  (void)signum;
  server_t *s = sig->data;
  if (s->stopping) return;
  s->stopping = true;
  server_log(s, "stopping clients=%u", s->active);
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
  if (r == 0) r = tou_listen(&s->ep, 128, server_on_connection);
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
  server_log(s, "listening %s %d", s->opts.host, port);
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


/* The README's demo: two tou endpoints in one process on 127.0.0.1 (real
 * UDP over loopback), printing every state change and segment: the
 * three-way handshake, an echo of a few messages, and the four-way close
 * down to TIME_WAIT on the active closer and CLOSED on the passive one. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tou.h>

static const char *messages[] = {"hello", "can you hear me?", "goodbye"};
#define NMESSAGES (sizeof messages / sizeof messages[0])

static uv_loop_t *loop;
static tou_endpoint_t server_ep, client_ep;
static tou_stream_t server_stream, client_stream;
static tou_connect_t connect_req;
static tou_write_t client_write, server_write;
static tou_shutdown_t client_shutdown, server_shutdown;
static uv_timer_t watchdog, server_pause;
static uint64_t t0;
static unsigned next_message;
static char echo_buf[256];
static bool client_time_wait, server_closed, finished;
static int exit_code = 1;

static const char *who(const tou_endpoint_t *ep) { return ep == &server_ep ? "server" : "client"; }

static void print_time(void) {
  printf("  %7.3f ms  ", (double)(uv_hrtime() / 1000 - t0) / 1000.0);
}

static void segment_name(unsigned f, char *out, size_t cap) {
  static const struct { unsigned bit; const char *name; } names[] = {
      {TOU_SEGFLAG_SYN, "SYN"}, {TOU_SEGFLAG_FIN, "FIN"}, {TOU_SEGFLAG_RST, "RST"},
      {TOU_SEGFLAG_PSH, "PSH"}, {TOU_SEGFLAG_ACK, "ACK"}};
  out[0] = 0;
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (f & names[i].bit) {
      if (out[0]) strncat(out, "-", cap - strlen(out) - 1);
      strncat(out, names[i].name, cap - strlen(out) - 1);
    }
}

static void maybe_finish(void);

static void on_trace(void *arg, const tou_trace_t *t) {
  (void)arg;
  char flags[32];
  switch (t->type) {
    case TOU_TRACE_TYPE_STATE:
      print_time();
      printf("%s  state %s -> %s\n", who(t->endpoint), tou_stream_state_name(t->old_state),
             tou_stream_state_name(t->new_state));
      if (t->endpoint == &client_ep && t->new_state == TOU_STATE_TIME_WAIT)
        client_time_wait = true;
      if (t->endpoint == &server_ep && t->new_state == TOU_STATE_CLOSED &&
          t->old_state == TOU_STATE_LAST_ACK)
        server_closed = true;
      break;
    case TOU_TRACE_TYPE_SENT:
    case TOU_TRACE_TYPE_RECEIVED:
      segment_name(t->seg_flags, flags, sizeof flags);
      print_time();
      printf("%s  %s %-11s seq=%u ack=%u win=%u len=%zu\n", who(t->endpoint),
             t->type == TOU_TRACE_TYPE_SENT ? "sends   " : "receives", flags, t->seq, t->ack,
             t->window, t->payload_len);
      break;
    case TOU_TRACE_TYPE_DROPPED:
      print_time();
      printf("%s  dropped a datagram: %s\n", who(t->endpoint), uv_strerror(t->error));
      break;
  }
}

static void on_closed(tou_handle_t *h) { (void)h; }

static void finish(int code) {
  if (finished) return;
  finished = true;
  exit_code = code;
  uv_close((uv_handle_t *)&watchdog, NULL);
  uv_close((uv_handle_t *)&server_pause, NULL);
  tou_close((tou_handle_t *)&client_stream, on_closed);
  tou_close((tou_handle_t *)&server_stream, on_closed);
  tou_close((tou_handle_t *)&client_ep, on_closed);
  tou_close((tou_handle_t *)&server_ep, on_closed);
}

static void maybe_finish(void) {
  if (!client_time_wait || !server_closed || finished) return;
  printf("\n== done ==\n");
  printf("  The client (active closer) is in TIME_WAIT: it would linger 2*MSL (60 s) to\n"
         "  answer a retransmitted FIN; the demo does not wait. The server (passive\n"
         "  closer) went CLOSE_WAIT -> LAST_ACK -> CLOSED. Closing both endpoints.\n");
  finish(0);
}

static void alloc_cb(tou_stream_t *s, size_t suggested, uv_buf_t *buf) {
  (void)s, (void)suggested;
  static char storage[2][65536];
  *buf = uv_buf_init(storage[s == &server_stream], sizeof storage[0]);
}

static void send_next_message(void);

static void on_server_shutdown(tou_shutdown_t *req, int status) {
  (void)req;
  print_time();
  printf("server  its FIN was acknowledged (status %s)\n", status ? uv_err_name(status) : "0");
  maybe_finish();
}

static void on_server_pause(uv_timer_t *t) {
  (void)t;
  printf("\n== four-way close, second half: server FIN, client ACK ==\n");
  tou_shutdown(&server_shutdown, &server_stream, on_server_shutdown);
}

static void on_server_read(tou_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  if (nread > 0) {
    print_time();
    printf("server  read %zd bytes: \"%.*s\" -> echoing them back\n", nread, (int)nread,
           buf->base);
    memcpy(echo_buf, buf->base, (size_t)nread < sizeof echo_buf ? (size_t)nread : sizeof echo_buf);
    uv_buf_t out = uv_buf_init(echo_buf, (unsigned)nread);
    tou_write(&server_write, s, &out, 1, NULL);
  } else if (nread == UV_EOF) {
    print_time();
    printf("server  read end of stream (the client's FIN); it closes its own side a moment\n"
           "                     later (had it answered at once, its FIN would carry the ACK:\n"
           "                     a three-segment close)\n");
    uv_timer_start(&server_pause, on_server_pause, 2, 0);
  } else if (nread < 0) {
    printf("server  read error: %s\n", uv_strerror((int)nread));
    finish(1);
  }
}

static void on_client_shutdown(tou_shutdown_t *req, int status) {
  (void)req;
  print_time();
  printf("client  its FIN was acknowledged (status %s)\n", status ? uv_err_name(status) : "0");
}

static void on_client_read(tou_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  (void)s;
  if (nread > 0) {
    print_time();
    printf("client  read the echo: \"%.*s\"\n", (int)nread, buf->base);
    send_next_message();
  } else if (nread == UV_EOF) {
    print_time();
    printf("client  read end of stream (the server's FIN)\n");
    maybe_finish();
  } else if (nread < 0) {
    printf("client  read error: %s\n", uv_strerror((int)nread));
    finish(1);
  }
}

static void send_next_message(void) {
  if (next_message == NMESSAGES) {
    printf("\n== four-way close, first half: client FIN, server ACK ==\n");
    print_time();
    printf("client  shuts down its sending side (half-close)\n");
    tou_shutdown(&client_shutdown, &client_stream, on_client_shutdown);
    return;
  }
  const char *m = messages[next_message++];
  printf("\n");
  print_time();
  printf("client  writes \"%s\"\n", m);
  uv_buf_t buf = uv_buf_init((char *)m, (unsigned)strlen(m));
  tou_write(&client_write, &client_stream, &buf, 1, NULL);
}

static void on_connection(tou_endpoint_t *ep, int status) {
  if (status < 0 || tou_accept(ep, &server_stream) != 0) {
    printf("accept failed\n");
    finish(1);
    return;
  }
  print_time();
  printf("server  accepted the connection\n");
  tou_read_start(&server_stream, alloc_cb, on_server_read);
}

static void on_connect(tou_connect_t *req, int status) {
  print_time();
  printf("client  connect callback: %s\n", status ? uv_strerror(status) : "connected");
  if (status) {
    finish(1);
    return;
  }
  printf("\n== echo ==\n");
  tou_read_start(req->handle, alloc_cb, on_client_read);
  send_next_message();
}

static void on_watchdog(uv_timer_t *t) {
  (void)t;
  printf("demo: no progress for 10 s — the connection is stuck\n");
  finish(1);
}

static int bind_loopback(tou_endpoint_t *ep, struct sockaddr_in *bound) {
  tou_endpoint_options_t opts;
  tou_endpoint_options_init(&opts);
  opts.trace = on_trace;
  opts.nodelay = 1;
  int r = tou_endpoint_init(loop, ep, &opts);
  struct sockaddr_in any;
  uv_ip4_addr("127.0.0.1", 0, &any);
  if (r == 0) r = tou_endpoint_bind(ep, (const struct sockaddr *)&any, 0);
  int len = sizeof *bound;
  if (r == 0) r = tou_endpoint_getsockname(ep, (struct sockaddr *)bound, &len);
  return r;
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  loop = uv_default_loop();
  t0 = uv_hrtime() / 1000;
  struct sockaddr_in server_addr, client_addr;
  int r = bind_loopback(&server_ep, &server_addr);
  if (r == 0) r = bind_loopback(&client_ep, &client_addr);
  if (r == 0) r = tou_listen(&server_ep, 16, on_connection);
  if (r != 0) {
    fprintf(stderr, "demo: %s\n", uv_strerror(r));
    return 1;
  }
  printf("tou %s demo: two endpoints in one process, real UDP over loopback\n",
         tou_version_string());
  printf("  server endpoint: 127.0.0.1:%d, listening\n", ntohs(server_addr.sin_port));
  printf("  client endpoint: 127.0.0.1:%d\n", ntohs(client_addr.sin_port));
  printf("\n== three-way handshake: SYN, SYN-ACK, ACK ==\n");
  uv_timer_init(loop, &watchdog);
  uv_timer_init(loop, &server_pause);
  uv_timer_start(&watchdog, on_watchdog, 10000, 0);
  r = tou_connect(&connect_req, &client_ep, &client_stream, (const struct sockaddr *)&server_addr,
                  on_connect);
  if (r != 0) {
    fprintf(stderr, "demo: connect: %s\n", uv_strerror(r));
    return 1;
  }
  uv_run(loop, UV_RUN_DEFAULT);
  uv_loop_close(loop);
  return exit_code;
}

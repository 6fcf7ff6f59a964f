/* chat: two people talk over one tou stream (see chat_cli.c for usage).
 *
 * This file is the glue between the pieces: the command line (chat_cli), the
 * newline framing (line_framer), the timed script (chat_script), what is
 * printed (chat_view) and tou itself. Lines typed before the connection is up
 * are kept here, in order, and written once it is; lines typed while the link
 * is silent are written at once — tou keeps them in its send buffer and
 * retransmits them until the peer hears them, in order, exactly once. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tou.h>
#include <unistd.h>

#include "chat_cli.h"
#include "chat_script.h"
#include "chat_view.h"
#include "line_framer.h"

#define CHAT_MAX_LINE 4096
#define CHAT_MAX_QUEUED (1u << 20) /* bytes typed but not yet accepted by tou */
#define CHAT_CONNECT_RETRIES 20
#define CHAT_RETRY_MS 500

typedef struct out_msg {
  tou_write_t req;
  struct chat *chat;
  struct out_msg *next; /* in chat.held while not connected */
  size_t len;
  char text[]; /* the line and its "\n" */
} out_msg_t;

typedef struct chat {
  uv_loop_t *loop;
  chat_opts_t opts;
  chat_view_t view;
  chat_script_t script;
  size_t next_step;
  unsigned wait_for; /* /wait N: messages received before the script goes on */

  tou_endpoint_t ep;
  tou_stream_t stream;
  tou_connect_t connect_req;
  tou_shutdown_t shutdown_req;
  struct sockaddr_storage peer_addr;
  bool ep_open, have_stream, established, quitting, fin_acked, peer_eof, finished;
  unsigned attempts;
  uint32_t conn_id;
  int tcp_state;

  chat_link_t link;
  uint64_t last_heard_ms;

  out_msg_t *held_head, *held_tail; /* typed before the connection was up */
  size_t queued_bytes;
  unsigned sent, received;

  line_framer_t peer_framer, input_framer;
  char peer_line[CHAT_MAX_LINE], input_line[CHAT_MAX_LINE];
  union {
    uv_tty_t tty;
    uv_pipe_t pipe;
  } input;
  bool input_open;
  int interrupts;
  uv_signal_t sigint;
  uv_timer_t script_timer, tick_timer, linger_timer, retry_timer, deadline_timer;
  int exit_code;
} chat_t;

static uint64_t now_ms(void) { return uv_hrtime() / 1000000u; }

static void finish(chat_t *c, int code);
static void start_quit(chat_t *c);
static void run_script(chat_t *c);
static int start_connect(chat_t *c);

/* ---- sending ------------------------------------------------------------ */

static void on_written(tou_write_t *req, int status) {
  out_msg_t *m = req->data;
  chat_t *c = m->chat;
  c->queued_bytes -= m->len;
  if (status < 0 && status != UV_ECANCELED)
    chat_view_event(&c->view, "error write %s", uv_err_name(status));
  free(m);
}

static void write_msg(chat_t *c, out_msg_t *m) {
  uv_buf_t buf = uv_buf_init(m->text, (unsigned)m->len);
  m->req.data = m;
  int r = tou_write(&m->req, &c->stream, &buf, 1, on_written);
  if (r < 0) {
    chat_view_event(&c->view, "error write %s", uv_err_name(r));
    c->queued_bytes -= m->len;
    free(m);
  }
}

static void flush_held(chat_t *c) {
  while (c->held_head) {
    out_msg_t *m = c->held_head;
    c->held_head = m->next;
    write_msg(c, m);
  }
  c->held_tail = NULL;
}

static void send_text(chat_t *c, const char *text, size_t len) {
  if (c->quitting) {
    chat_view_event(&c->view, "error closing, message not sent");
    return;
  }
  if (c->queued_bytes + len + 1 > CHAT_MAX_QUEUED) {
    /* Bounded: a person cannot type 1 MiB faster than tou sends it, a
     * script can; refuse rather than grow without limit. */
    chat_view_event(&c->view, "error send queue full, message not sent");
    return;
  }
  out_msg_t *m = malloc(sizeof *m + len + 1);
  if (!m) {
    chat_view_event(&c->view, "error out of memory");
    return;
  }
  m->chat = c;
  m->next = NULL;
  m->len = len + 1;
  memcpy(m->text, text, len);
  m->text[len] = '\n';
  c->queued_bytes += m->len;
  c->sent++;
  chat_view_message(&c->view, 0, text, len);
  if (c->established) {
    write_msg(c, m);
  } else {
    if (c->held_tail) c->held_tail->next = m;
    else c->held_head = m;
    c->held_tail = m;
  }
}

/* ---- commands and typed lines ------------------------------------------- */

static void show_state(chat_t *c) {
  tou_stream_info_t info;
  if (!c->have_stream || tou_get_info(&c->stream, &info) < 0) {
    chat_view_line(&c->view, "STATE %s link=%s (no connection)",
                   tou_stream_state_name(c->tcp_state), chat_link_word(c->link));
    return;
  }
  chat_view_line(&c->view,
                 "STATE %s link=%s messages_sent=%u messages_received=%u bytes_sent=%llu "
                 "bytes_received=%llu send_queued=%zu write_queue=%zu rtt_us=%u rto_us=%u "
                 "cwnd=%u retransmitted=%llu timeouts=%llu",
                 tou_stream_state_name(info.state), chat_link_word(c->link), c->sent,
                 c->received, (unsigned long long)info.bytes_sent,
                 (unsigned long long)info.bytes_received, info.send_queued,
                 info.write_queue_size, info.rtt_us, info.rto_us, info.cwnd,
                 (unsigned long long)info.segs_retransmitted, (unsigned long long)info.timeouts);
}

static void do_abort(chat_t *c, const char *why) {
  if (c->have_stream && tou_abort(&c->stream) == 0)
    chat_view_event(&c->view, "aborted %s (RST sent)", why);
  else
    chat_view_event(&c->view, "aborted %s", why);
  finish(c, 1);
}

/* Returns true when the script must pause (an unmet /wait). */
static bool handle_line(chat_t *c, const char *line, size_t len) {
  if (len == 0) return false;
  if (line[0] != '/') {
    send_text(c, line, len);
    return false;
  }
  if (!strcmp(line, "/quit")) {
    start_quit(c);
  } else if (!strcmp(line, "/state")) {
    show_state(c);
  } else if (!strcmp(line, "/abort")) {
    do_abort(c, "by /abort");
  } else if (!strncmp(line, "/wait ", 6)) {
    c->wait_for = (unsigned)strtoul(line + 6, NULL, 10);
    return c->received < c->wait_for;
  } else if (!strcmp(line, "/help")) {
    chat_cli_usage(c->view.out);
  } else {
    chat_view_event(&c->view, "error unknown command %s (try /help)", line);
  }
  return false;
}

static int on_input_line(void *arg, int status, const char *line, size_t len) {
  chat_t *c = arg;
  if (status == LINE_TOO_LONG)
    chat_view_event(&c->view, "error line too long (max %d bytes), not sent", CHAT_MAX_LINE - 1);
  else
    handle_line(c, line, len);
  return c->finished;
}

/* ---- the script ---------------------------------------------------------- */

static void on_script_timer(uv_timer_t *t) {
  chat_t *c = t->data;
  const script_step_t *s = &c->script.steps[c->next_step++];
  if (handle_line(c, s->text, strlen(s->text))) return; /* resumed by on_peer_line */
  run_script(c);
}

static void run_script(chat_t *c) {
  if (c->finished || c->next_step >= c->script.count) return;
  uv_timer_start(&c->script_timer, on_script_timer, c->script.steps[c->next_step].delay_ms, 0);
}

/* ---- stdin --------------------------------------------------------------- */

static void input_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  (void)suggested;
  static char storage[4096];
  (void)h;
  *buf = uv_buf_init(storage, sizeof storage);
}

static void close_input(chat_t *c) {
  if (!c->input_open) return;
  c->input_open = false;
  uv_close((uv_handle_t *)&c->input, NULL);
}

static void on_input(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  chat_t *c = s->data;
  if (nread > 0) {
    line_framer_feed(&c->input_framer, (const uint8_t *)buf->base, (size_t)nread, on_input_line, c);
  } else if (nread < 0) {
    close_input(c);
    if (!c->finished) start_quit(c); /* end of input: like nc, close our side */
  }
}

static int open_input(chat_t *c) {
  uv_handle_type t = uv_guess_handle(0);
  int r;
  if (t == UV_TTY) {
    r = uv_tty_init(c->loop, &c->input.tty, 0, 1);
    chat_view_use_status_line(&c->view, uv_guess_handle(1) == UV_TTY);
  } else if (t == UV_NAMED_PIPE) {
    r = uv_pipe_init(c->loop, &c->input.pipe, 0);
    if (r == 0) r = uv_pipe_open(&c->input.pipe, 0);
  } else {
    /* A file or /dev/null: libuv cannot poll it; read it all now. */
    char buf[4096];
    ssize_t n;
    while ((n = read(0, buf, sizeof buf)) > 0)
      line_framer_feed(&c->input_framer, (const uint8_t *)buf, (size_t)n, on_input_line, c);
    start_quit(c);
    return 0;
  }
  if (r < 0) return r;
  c->input.tty.data = c;
  c->input_open = true;
  return uv_read_start((uv_stream_t *)&c->input, input_alloc, on_input);
}

/* ---- the peer's lines ---------------------------------------------------- */

static int on_peer_line(void *arg, int status, const char *line, size_t len) {
  chat_t *c = arg;
  if (status == LINE_TOO_LONG) {
    chat_view_event(&c->view, "error peer sent a line over %d bytes, skipped",
                    CHAT_MAX_LINE - 1);
    return 0;
  }
  c->received++;
  chat_view_message(&c->view, 1, line, len);
  if (c->wait_for && c->received == c->wait_for && c->next_step > 0 &&
      !uv_is_active((uv_handle_t *)&c->script_timer)) {
    c->wait_for = 0;
    run_script(c);
  }
  return 0;
}

static void peer_alloc(tou_stream_t *s, size_t suggested, uv_buf_t *buf) {
  (void)s, (void)suggested;
  static char storage[65536];
  *buf = uv_buf_init(storage, sizeof storage);
}

static void maybe_exit(chat_t *c);

static void on_peer_read(tou_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  chat_t *c = s->data;
  if (nread > 0) {
    line_framer_feed(&c->peer_framer, (const uint8_t *)buf->base, (size_t)nread, on_peer_line, c);
  } else if (nread == UV_EOF) {
    c->peer_eof = true;
    if (line_framer_pending(&c->peer_framer))
      chat_view_event(&c->view, "error peer's last line had no newline, dropped");
    chat_view_event(&c->view, "peer-closed");
    if (!c->quitting) start_quit(c);
    maybe_exit(c);
  } else if (nread < 0) {
    chat_view_event(&c->view, "error connection %s (%s)", uv_err_name((int)nread),
                    uv_strerror((int)nread));
    if (c->link != CHAT_LINK_CLOSED) {
      c->link = CHAT_LINK_CLOSED;
      chat_view_link(&c->view, c->link);
    }
    finish(c, 1);
  }
}

/* ---- link state ----------------------------------------------------------- */

static void set_link(chat_t *c, chat_link_t link) {
  if (c->link == link) return;
  c->link = link;
  chat_view_link(&c->view, link);
}

static void on_link(tou_stream_t *s, int state) {
  chat_t *c = s->data;
  switch (state) {
    case TOU_LINK_HEARD:
      if (c->link != CHAT_LINK_BACK) set_link(c, CHAT_LINK_CONNECTED);
      break;
    case TOU_LINK_SILENT: set_link(c, CHAT_LINK_SILENT); break;
    case TOU_LINK_BACK: set_link(c, CHAT_LINK_BACK); break;
    default: chat_view_event(&c->view, "link-state %d", state); break;
  }
}

/* "can you hear me? ...": shown while nothing has been heard for longer than
 * the probe idle time although data we sent is unacknowledged — that is
 * when the core sends its probe (tou_stream_link_probe). A healthy link
 * answers within a round trip, well inside the 250 ms margin. The verdicts
 * silent and back come from the core's link-state callback. */
static void on_tick(uv_timer_t *t) {
  chat_t *c = t->data;
  if (!c->established || c->finished) return;
  tou_stream_info_t info;
  bool expecting = tou_get_info(&c->stream, &info) == 0 && info.send_queued > 0;
  if (expecting && (c->link == CHAT_LINK_CONNECTED || c->link == CHAT_LINK_BACK) &&
      now_ms() - c->last_heard_ms > c->opts.probe_idle_ms + 250)
    set_link(c, CHAT_LINK_PROBING);
}

/* ---- trace: state changes (and segments with --trace) ------------------- */

static void segment_flags(unsigned f, char *out, size_t cap) {
  static const struct {
    unsigned bit;
    const char *name;
  } names[] = {{TOU_SEGFLAG_SYN, "SYN"},
               {TOU_SEGFLAG_FIN, "FIN"},
               {TOU_SEGFLAG_RST, "RST"},
               {TOU_SEGFLAG_ACK, "ACK"}};
  out[0] = 0;
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (f & names[i].bit) {
      if (out[0]) strncat(out, "-", cap - strlen(out) - 1);
      strncat(out, names[i].name, cap - strlen(out) - 1);
    }
}

static void on_trace(void *arg, const tou_trace_t *t) {
  chat_t *c = arg;
  bool ours = c->conn_id == 0 || t->conn_id == c->conn_id;
  if (!ours) return;
  if (t->type == TOU_TRACE_TYPE_STATE) {
    c->tcp_state = t->new_state;
    chat_view_event(&c->view, "state %s -> %s", tou_stream_state_name(t->old_state),
                    tou_stream_state_name(t->new_state));
    return;
  }
  if (t->type == TOU_TRACE_TYPE_RECEIVED) {
    c->last_heard_ms = now_ms();
    if (c->link == CHAT_LINK_PROBING) set_link(c, CHAT_LINK_CONNECTED);
  }
  if (!c->opts.trace) return;
  char flags[32];
  segment_flags(t->seg_flags, flags, sizeof flags);
  if (t->type == TOU_TRACE_TYPE_DROPPED)
    chat_view_event(&c->view, "segment dropped %s", uv_err_name(t->error));
  else
    chat_view_event(&c->view, "segment %s %s seq=%u ack=%u len=%zu",
                    t->type == TOU_TRACE_TYPE_SENT ? "sent" : "received",
                    flags[0] ? flags : "-", t->seq, t->ack, t->payload_len);
}

/* ---- connection ------------------------------------------------------------ */

static void on_established(chat_t *c) {
  c->established = true;
  c->last_heard_ms = now_ms();
  tou_stream_info_t info;
  if (tou_get_info(&c->stream, &info) == 0) c->conn_id = info.conn_id;
  struct sockaddr_storage peer;
  int len = sizeof peer;
  char host[64] = "?";
  int port = 0;
  if (tou_stream_getpeername(&c->stream, (struct sockaddr *)&peer, &len) == 0) {
    if (peer.ss_family == AF_INET6) {
      uv_ip6_name((struct sockaddr_in6 *)&peer, host, sizeof host);
      port = ntohs(((struct sockaddr_in6 *)&peer)->sin6_port);
    } else {
      uv_ip4_name((struct sockaddr_in *)&peer, host, sizeof host);
      port = ntohs(((struct sockaddr_in *)&peer)->sin_port);
    }
  }
  chat_view_event(&c->view, "connected %s %d", host, port);
  set_link(c, CHAT_LINK_CONNECTED);
  int r = tou_read_start(&c->stream, peer_alloc, on_peer_read);
  if (r < 0) {
    chat_view_event(&c->view, "error read %s", uv_err_name(r));
    finish(c, 1);
    return;
  }
  r = tou_stream_link_probe(&c->stream, c->opts.probe_idle_ms, c->opts.silent_ms);
  if (r == 0) r = tou_stream_set_link_cb(&c->stream, on_link);
  if (r < 0) chat_view_event(&c->view, "link-probe unavailable %s", uv_err_name(r));
  uv_timer_start(&c->tick_timer, on_tick, 250, 250);
  flush_held(c);
  if (c->quitting) {
    c->quitting = false; /* requested before the connection was up */
    start_quit(c);
  }
  run_script(c);
}

static void on_retry_timer(uv_timer_t *t) {
  chat_t *c = t->data;
  int r = start_connect(c);
  if (r < 0) {
    chat_view_event(&c->view, "error connect %s", uv_err_name(r));
    finish(c, 1);
  }
}

static void on_retry_closed(tou_handle_t *h) {
  chat_t *c = h->data;
  if (!c->finished) uv_timer_start(&c->retry_timer, on_retry_timer, CHAT_RETRY_MS, 0);
}

static void on_connect(tou_connect_t *req, int status) {
  chat_t *c = req->data;
  if (status == 0) {
    on_established(c);
    return;
  }
  if (status == UV_ECANCELED || c->finished) return;
  bool retry = c->opts.mode == CHAT_MODE_PEER &&
               (status == UV_ECONNREFUSED || status == UV_ETIMEDOUT) &&
               ++c->attempts < CHAT_CONNECT_RETRIES;
  chat_view_event(&c->view, "connect-failed %s%s", uv_err_name(status),
                  retry ? " (retrying)" : "");
  if (!retry) {
    finish(c, 1);
    return;
  }
  c->have_stream = false;
  c->stream.data = c;
  tou_close((tou_handle_t *)&c->stream, on_retry_closed);
}

static int start_connect(chat_t *c) {
  c->stream.data = c;
  c->connect_req.data = c;
  int r = tou_connect(&c->connect_req, &c->ep, &c->stream, (const struct sockaddr *)&c->peer_addr,
                      on_connect);
  if (r == 0) c->have_stream = true;
  return r;
}

static void on_extra_closed(tou_handle_t *h) { free(h); }

static void on_connection(tou_endpoint_t *ep, int status) {
  chat_t *c = ep->data;
  if (status < 0) {
    chat_view_event(&c->view, "error listen %s", uv_err_name(status));
    return;
  }
  if (c->have_stream) {
    /* One conversation at a time: refuse the others (RST). */
    tou_stream_t *extra = calloc(1, sizeof *extra);
    if (extra && tou_accept(ep, extra) == 0) {
      tou_abort(extra);
      tou_close((tou_handle_t *)extra, on_extra_closed);
      chat_view_event(&c->view, "refused a second peer");
    } else {
      free(extra);
    }
    return;
  }
  c->stream.data = c;
  if (tou_accept(ep, &c->stream) != 0) return;
  c->have_stream = true;
  on_established(c);
}

/* ---- closing ---------------------------------------------------------------- */

static void on_closed(tou_handle_t *h) { (void)h; }

static void finish(chat_t *c, int code) {
  if (c->finished) return;
  c->finished = true;
  c->exit_code = code;
  while (c->held_head) {
    out_msg_t *m = c->held_head;
    c->held_head = m->next;
    free(m);
  }
  close_input(c);
  uv_close((uv_handle_t *)&c->sigint, NULL);
  uv_close((uv_handle_t *)&c->script_timer, NULL);
  uv_close((uv_handle_t *)&c->tick_timer, NULL);
  uv_close((uv_handle_t *)&c->linger_timer, NULL);
  uv_close((uv_handle_t *)&c->retry_timer, NULL);
  uv_close((uv_handle_t *)&c->deadline_timer, NULL);
  if (c->have_stream) tou_close((tou_handle_t *)&c->stream, on_closed);
  if (c->ep_open) tou_close((tou_handle_t *)&c->ep, on_closed);
  c->have_stream = c->ep_open = false;
  chat_view_event(&c->view, "exit %d", code);
}

static void on_linger(uv_timer_t *t) { finish(t->data, 0); }

static void maybe_exit(chat_t *c) {
  if (c->finished || !c->fin_acked || !c->peer_eof) return;
  set_link(c, CHAT_LINK_CLOSED);
  if (c->tcp_state == TOU_STATE_TIME_WAIT) {
    /* We closed first: stay in TIME_WAIT a little so that the ACK of the
     * peer's FIN can be repeated if it was lost (RFC 9293 3.6), rather than
     * leaving the peer retransmitting its FIN to a closed port. */
    chat_view_event(&c->view, "time-wait lingering %u ms", c->opts.linger_ms);
    uv_timer_start(&c->linger_timer, on_linger, c->opts.linger_ms, 0);
  } else {
    finish(c, 0);
  }
}

static void on_shutdown(tou_shutdown_t *req, int status) {
  chat_t *c = req->data;
  if (status < 0) {
    if (status != UV_ECANCELED) {
      chat_view_event(&c->view, "error close %s", uv_err_name(status));
      finish(c, 1);
    }
    return;
  }
  c->fin_acked = true;
  chat_view_event(&c->view, "fin-acked");
  maybe_exit(c);
}

static void start_quit(chat_t *c) {
  if (c->quitting || c->finished) return;
  c->quitting = true;
  if (!c->established) {
    if (c->opts.mode == CHAT_MODE_LISTEN && !c->have_stream) finish(c, 0);
    return; /* connecting: on_established closes once it is up */
  }
  chat_view_event(&c->view, "closing");
  c->shutdown_req.data = c;
  int r = tou_shutdown(&c->shutdown_req, &c->stream, on_shutdown);
  if (r < 0) {
    chat_view_event(&c->view, "error close %s", uv_err_name(r));
    finish(c, 1);
  }
}

static void on_sigint(uv_signal_t *s, int signum) {
  (void)signum;
  chat_t *c = s->data;
  if (++c->interrupts >= 2 || !c->established) {
    do_abort(c, "by Ctrl-C");
    return;
  }
  chat_view_event(&c->view, "closing (Ctrl-C again to abort with RST)");
  start_quit(c);
}

static void on_deadline(uv_timer_t *t) { do_abort(t->data, "by --timeout"); }

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
  eo.trace = on_trace;
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
    r = tou_listen(&c->ep, 4, on_connection);
    if (r == 0) chat_view_event(&c->view, "listening %s %d", bind_host, port);
  } else {
    chat_view_event(&c->view, "bound %s %d", bind_host, port);
    r = start_connect(c);
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
    finish(c, 1);
    uv_run(c->loop, UV_RUN_DEFAULT);
    return 1;
  }
  if (!c->opts.script && open_input(c) < 0) {
    fprintf(stderr, "chat: cannot read stdin\n");
    finish(c, 1);
  }
  uv_run(c->loop, UV_RUN_DEFAULT);
  if (c->view.status_line) fputc('\n', stdout); /* leave the prompt line */
  chat_script_free(&c->script);
  uv_loop_close(c->loop);
  return c->exit_code;
}

/* What the user types (stdin) or the script says: commands and lines. */
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat.h"

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

void chat_abort(chat_t *c, const char *why) {
  if (c->have_stream && tou_abort(&c->stream) == 0)
    chat_view_event(&c->view, "aborted %s (RST sent)", why);
  else
    chat_view_event(&c->view, "aborted %s", why);
  chat_finish(c, 1);
}

/* Returns true when the script must pause (an unmet /wait). */
static bool handle_line(chat_t *c, const char *line, size_t len) {
  if (len == 0) return false;
  if (line[0] != '/') {
    chat_send_text(c, line, len);
    return false;
  }
  if (!strcmp(line, "/quit")) {
    chat_start_quit(c);
  } else if (!strcmp(line, "/state")) {
    show_state(c);
  } else if (!strcmp(line, "/abort")) {
    chat_abort(c, "by /abort");
  } else if (!strcmp(line, "/wait back")) {
    c->wait_back = !c->back_seen;
    return c->wait_back;
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
  chat_run_script(c);
}

void chat_run_script(chat_t *c) {
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

void chat_close_input(chat_t *c) {
  if (!c->input_open) return;
  c->input_open = false;
  uv_close((uv_handle_t *)&c->input, NULL);
}

static void on_input(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  chat_t *c = s->data;
  if (nread > 0) {
    line_framer_feed(&c->input_framer, (const uint8_t *)buf->base, (size_t)nread, on_input_line, c);
  } else if (nread < 0) {
    chat_close_input(c);
    if (!c->finished) chat_start_quit(c); /* end of input: like nc, close our side */
  }
}

int chat_open_input(chat_t *c) {
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
    chat_start_quit(c);
    return 0;
  }
  if (r < 0) return r;
  c->input.tty.data = c;
  c->input_open = true;
  return uv_read_start((uv_stream_t *)&c->input, input_alloc, on_input);
}


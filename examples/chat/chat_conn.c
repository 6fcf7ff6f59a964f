/* The tou connection: opening (listen, connect, simultaneous open with
 * retries), reading the peer's lines, the link state, the trace, closing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat.h"

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
    chat_run_script(c);
  }
  return 0;
}

static void peer_alloc(tou_stream_t *s, size_t suggested, uv_buf_t *buf) {
  (void)s, (void)suggested;
  static char storage[65536];
  *buf = uv_buf_init(storage, sizeof storage);
}


static void on_peer_read(tou_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  chat_t *c = s->data;
  if (nread > 0) {
    line_framer_feed(&c->peer_framer, (const uint8_t *)buf->base, (size_t)nread, on_peer_line, c);
  } else if (nread == UV_EOF) {
    c->peer_eof = true;
    if (line_framer_pending(&c->peer_framer))
      chat_view_event(&c->view, "error peer's last line had no newline, dropped");
    chat_view_event(&c->view, "peer-closed");
    if (!c->quitting) chat_start_quit(c);
    chat_maybe_exit(c);
  } else if (nread < 0) {
    chat_view_event(&c->view, "error connection %s (%s)", uv_err_name((int)nread),
                    uv_strerror((int)nread));
    if (c->link != CHAT_LINK_CLOSED) {
      c->link = CHAT_LINK_CLOSED;
      chat_view_link(&c->view, c->link);
    }
    chat_finish(c, 1);
  }
}

/* ---- link state ----------------------------------------------------------- */

static void set_link(chat_t *c, chat_link_t link) {
  if (c->link == link) return;
  c->link = link;
  chat_view_link(&c->view, link);
  if (link == CHAT_LINK_SILENT) c->back_seen = false;
  if (link == CHAT_LINK_BACK) c->back_seen = true;
  if (c->wait_back && link == CHAT_LINK_BACK && c->next_step > 0 &&
      !uv_is_active((uv_handle_t *)&c->script_timer)) {
    c->wait_back = false;
    chat_run_script(c);
  }
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
      chat_now_ms() - c->last_heard_ms > c->opts.probe_idle_ms + 250)
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

void chat_on_trace(void *arg, const tou_trace_t *t) {
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
    c->last_heard_ms = chat_now_ms();
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
  c->last_heard_ms = chat_now_ms();
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
    chat_finish(c, 1);
    return;
  }
  r = tou_stream_link_probe(&c->stream, c->opts.probe_idle_ms, c->opts.silent_ms);
  if (r == 0) r = tou_stream_set_link_cb(&c->stream, on_link);
  if (r < 0) chat_view_event(&c->view, "link-probe unavailable %s", uv_err_name(r));
  uv_timer_start(&c->tick_timer, on_tick, 250, 250);
  chat_flush_held(c);
  if (c->quitting) {
    c->quitting = false; /* requested before the connection was up */
    chat_start_quit(c);
  }
  chat_run_script(c);
}

static void on_retry_timer(uv_timer_t *t) {
  chat_t *c = t->data;
  int r = chat_start_connect(c);
  if (r < 0) {
    chat_view_event(&c->view, "error connect %s", uv_err_name(r));
    chat_finish(c, 1);
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
    chat_finish(c, 1);
    return;
  }
  c->have_stream = false;
  c->stream.data = c;
  tou_close((tou_handle_t *)&c->stream, on_retry_closed);
}

int chat_start_connect(chat_t *c) {
  c->stream.data = c;
  c->connect_req.data = c;
  int r = tou_connect(&c->connect_req, &c->ep, &c->stream, (const struct sockaddr *)&c->peer_addr,
                      on_connect);
  if (r == 0) c->have_stream = true;
  return r;
}

static void on_extra_closed(tou_handle_t *h) { free(h); }

void chat_on_connection(tou_endpoint_t *ep, int status) {
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

void chat_finish(chat_t *c, int code) {
  if (c->finished) return;
  c->finished = true;
  c->exit_code = code;
  while (c->held_head) {
    out_msg_t *m = c->held_head;
    c->held_head = m->next;
    free(m);
  }
  chat_close_input(c);
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

static void on_linger(uv_timer_t *t) { chat_finish(t->data, 0); }

void chat_maybe_exit(chat_t *c) {
  if (c->finished || !c->fin_acked || !c->peer_eof) return;
  set_link(c, CHAT_LINK_CLOSED);
  if (c->tcp_state == TOU_STATE_TIME_WAIT) {
    /* We closed first: stay in TIME_WAIT a little so that the ACK of the
     * peer's FIN can be repeated if it was lost (RFC 9293 3.6), rather than
     * leaving the peer retransmitting its FIN to a closed port. */
    chat_view_event(&c->view, "time-wait lingering %u ms", c->opts.linger_ms);
    uv_timer_start(&c->linger_timer, on_linger, c->opts.linger_ms, 0);
  } else {
    chat_finish(c, 0);
  }
}

static void on_shutdown(tou_shutdown_t *req, int status) {
  chat_t *c = req->data;
  if (status < 0) {
    if (status != UV_ECANCELED) {
      chat_view_event(&c->view, "error close %s", uv_err_name(status));
      chat_finish(c, 1);
    }
    return;
  }
  c->fin_acked = true;
  chat_view_event(&c->view, "fin-acked");
  chat_maybe_exit(c);
}

void chat_start_quit(chat_t *c) {
  if (c->quitting || c->finished) return;
  c->quitting = true;
  if (!c->established) {
    if (c->opts.mode == CHAT_MODE_LISTEN && !c->have_stream) chat_finish(c, 0);
    return; /* connecting: on_established closes once it is up */
  }
  chat_view_event(&c->view, "closing");
  c->shutdown_req.data = c;
  int r = tou_shutdown(&c->shutdown_req, &c->stream, on_shutdown);
  if (r < 0) {
    chat_view_event(&c->view, "error close %s", uv_err_name(r));
    chat_finish(c, 1);
  }
}


/* Outgoing lines: kept in order until the connection is up, then written;
 * bounded by CHAT_MAX_QUEUED. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat.h"

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

void chat_flush_held(chat_t *c) {
  while (c->held_head) {
    out_msg_t *m = c->held_head;
    c->held_head = m->next;
    write_msg(c, m);
  }
  c->held_tail = NULL;
}

void chat_send_text(chat_t *c, const char *text, size_t len) {
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


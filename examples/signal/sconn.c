#include "sconn.h"

#include <stdlib.h>
#include <string.h>

typedef struct out_buf {
  tou_write_t req;
  sconn_t *conn;
  size_t len;
  uint8_t data[];
} out_buf_t;

void sconn_init(sconn_t *c, const sconn_callbacks_t *cb, void *owner, size_t max_message,
                size_t max_out) {
  memset(c, 0, sizeof *c);
  c->cb = cb;
  c->owner = owner;
  c->out_max = max_out;
  frame_decoder_init(&c->decoder, max_message);
}

static void on_alloc(tou_stream_t *s, size_t suggested, uv_buf_t *buf) {
  (void)s, (void)suggested;
  static char storage[65536]; /* consumed before the next read: one will do */
  *buf = uv_buf_init(storage, sizeof storage);
}

void sconn_close(sconn_t *c);

static void end(sconn_t *c, int status) {
  if (c->ended) return;
  c->ended = true;
  c->cb->on_end(c, status);
  if (c->fin_acked) sconn_close(c);
}

static void on_read(tou_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  sconn_t *c = (sconn_t *)s;
  if (nread < 0) {
    end(c, (int)nread);
    return;
  }
  const uint8_t *p = (const uint8_t *)buf->base;
  size_t left = (size_t)nread;
  while (left > 0 && !c->discarding && !c->closing) {
    const uint8_t *msg;
    size_t msg_len;
    ssize_t used = frame_decode(&c->decoder, p, left, &msg, &msg_len);
    if (used < 0) {
      /* The stream is out of step now; keep reading (so that the close is
       * graceful, not a reset for unread data) but ignore the rest. */
      c->discarding = true;
      c->cb->on_frame_error(c, (int)used);
      return;
    }
    p += used;
    left -= (size_t)used;
    if (msg) c->cb->on_message(c, msg, msg_len);
  }
}

static void on_link(tou_stream_t *s, int state) {
  sconn_t *c = (sconn_t *)s;
  if (c->cb->on_link && !c->closing) c->cb->on_link(c, state);
}

int sconn_start(sconn_t *c, unsigned probe_idle_ms, unsigned silent_ms, int *link_err) {
  *link_err = 0;
  int r = tou_read_start(&c->stream, on_alloc, on_read);
  if (r < 0) return r;
  if (probe_idle_ms > 0) {
    int lr = tou_stream_link_probe(&c->stream, probe_idle_ms, silent_ms);
    if (lr == 0) lr = tou_stream_set_link_cb(&c->stream, on_link);
    *link_err = lr;
  }
  return 0;
}

static void on_written(tou_write_t *req, int status) {
  (void)status; /* a failed write also ends the read side: on_end reports it */
  out_buf_t *o = req->data;
  o->conn->out_bytes -= o->len;
  free(o);
}

static int queue(sconn_t *c, const void *header, size_t hlen, const void *data, size_t len) {
  if (c->closing || c->shutting_down) return UV_EPIPE;
  if (c->out_bytes + hlen + len > c->out_max) return UV_ENOBUFS;
  out_buf_t *o = malloc(sizeof *o + hlen + len);
  if (!o) return UV_ENOMEM;
  o->conn = c;
  o->len = hlen + len;
  if (hlen) memcpy(o->data, header, hlen);
  if (len) memcpy(o->data + hlen, data, len);
  o->req.data = o;
  uv_buf_t buf = uv_buf_init((char *)o->data, (unsigned)o->len);
  int r = tou_write(&o->req, &c->stream, &buf, 1, on_written);
  if (r < 0) {
    free(o);
    return r;
  }
  c->out_bytes += o->len;
  return 0;
}

int sconn_send(sconn_t *c, const char *json) {
  size_t len = strlen(json);
  if (len == 0 || len > UINT32_MAX) return UV_EINVAL;
  uint8_t header[FRAME_HEADER_LEN];
  frame_put_header(header, (uint32_t)len);
  return queue(c, header, sizeof header, json, len);
}

int sconn_send_raw(sconn_t *c, const void *data, size_t len) {
  return queue(c, NULL, 0, data, len);
}

static void on_handle_closed(tou_handle_t *h) {
  sconn_t *c = (sconn_t *)h;
  frame_decoder_free(&c->decoder);
  c->cb->on_closed(c);
}

void sconn_close(sconn_t *c) {
  if (c->closing) return;
  c->closing = true;
  tou_close((tou_handle_t *)&c->stream, on_handle_closed);
}

static void on_shutdown(tou_shutdown_t *req, int status) {
  sconn_t *c = req->data;
  c->fin_acked = status == 0;
  if (status < 0 || !c->wait_peer_fin || c->ended) sconn_close(c);
}

void sconn_shutdown(sconn_t *c) {
  if (c->shutting_down || c->closing) return;
  c->shutting_down = true;
  c->shutdown_req.data = c;
  if (tou_shutdown(&c->shutdown_req, &c->stream, on_shutdown) < 0) sconn_close(c);
}

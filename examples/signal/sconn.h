/* A signalling connection: one tou stream carrying length-prefixed JSON
 * messages (frame.h), with a bounded outgoing queue. Used by the server for
 * each client and by the client. */
#ifndef SIGNAL_SCONN_H
#define SIGNAL_SCONN_H

#include <stdbool.h>
#include <stddef.h>
#include <tou.h>

#include "frame.h"

typedef struct sconn sconn_t;

typedef struct sconn_callbacks {
  /* A complete message (not yet validated). */
  void (*on_message)(sconn_t *c, const uint8_t *data, size_t len);
  /* The byte stream broke the framing (FRAME_ERR_*); further input is
   * discarded. Called once. */
  void (*on_frame_error)(sconn_t *c, int err);
  /* The peer finished (UV_EOF) or the connection failed (UV_E*). Once. */
  void (*on_end)(sconn_t *c, int status);
  /* Link state changes (TOU_LINK_*); may be NULL. */
  void (*on_link)(sconn_t *c, int state);
  /* The handle is closed; the memory may be reused. */
  void (*on_closed)(sconn_t *c);
} sconn_callbacks_t;

struct sconn {
  tou_stream_t stream; /* first: a tou_stream_t * is an sconn_t * */
  const sconn_callbacks_t *cb;
  void *owner;
  frame_decoder_t decoder;
  size_t out_bytes, out_max;
  tou_shutdown_t shutdown_req;
  bool discarding, ended, shutting_down, fin_acked, closing;
  /* After our FIN is acknowledged, close only once the peer's FIN came too
   * (a client, which closes first); the server closes at once. */
  bool wait_peer_fin;
};

/* max_message bounds incoming messages, max_out the bytes queued for
 * sending. The stream must be connected or accepted into c->stream next. */
void sconn_init(sconn_t *c, const sconn_callbacks_t *cb, void *owner, size_t max_message,
                size_t max_out);
/* Starts reading; asks for link probing when probe_idle_ms > 0 (a failure
 * there is reported in *link_err and not fatal). Returns 0 or a UV_E* code. */
int sconn_start(sconn_t *c, unsigned probe_idle_ms, unsigned silent_ms, int *link_err);
/* Queues one message (JSON text). Returns 0, UV_ENOBUFS when the outgoing
 * queue is full (a consumer that does not read), or another UV_E* code. */
int sconn_send(sconn_t *c, const char *json);
/* Sends raw bytes as they are (tests that break the framing on purpose). */
int sconn_send_raw(sconn_t *c, const void *data, size_t len);
/* Finishes sending (FIN after what is queued), then closes. */
void sconn_shutdown(sconn_t *c);
/* Closes now; on_closed follows. Idempotent. */
void sconn_close(sconn_t *c);

#endif

#include "frame.h"

#include <stdlib.h>
#include <string.h>

void frame_decoder_init(frame_decoder_t *d, size_t max) {
  memset(d, 0, sizeof *d);
  d->max = max;
}

void frame_decoder_free(frame_decoder_t *d) {
  free(d->buf);
  d->buf = NULL;
  d->buf_cap = 0;
}

void frame_put_header(uint8_t out[FRAME_HEADER_LEN], uint32_t len) {
  out[0] = (uint8_t)(len >> 24);
  out[1] = (uint8_t)(len >> 16);
  out[2] = (uint8_t)(len >> 8);
  out[3] = (uint8_t)len;
}

const char *frame_strerror(int err) {
  switch (err) {
    case FRAME_ERR_EMPTY: return "empty message (length 0)";
    case FRAME_ERR_TOO_LARGE: return "message too large";
    case FRAME_ERR_NOMEM: return "out of memory";
  }
  return "unknown framing error";
}

static int fail(frame_decoder_t *d, int err) {
  d->error = err;
  return err;
}

ssize_t frame_decode(frame_decoder_t *d, const uint8_t *data, size_t len, const uint8_t **msg,
                     size_t *msg_len) {
  *msg = NULL;
  *msg_len = 0;
  if (d->error) return d->error;
  size_t used = 0;
  if (d->header_have < FRAME_HEADER_LEN) {
    size_t take = FRAME_HEADER_LEN - d->header_have;
    if (take > len) take = len;
    if (take > 0) memcpy(d->header + d->header_have, data, take);
    d->header_have += take;
    used += take;
    if (d->header_have < FRAME_HEADER_LEN) return (ssize_t)used;
    d->need = (uint32_t)d->header[0] << 24 | (uint32_t)d->header[1] << 16 |
              (uint32_t)d->header[2] << 8 | d->header[3];
    d->have = 0;
    /* Checked before buffering anything: the length is the peer's word. */
    if (d->need == 0) return fail(d, FRAME_ERR_EMPTY);
    if (d->need > d->max) {
      d->bad_length = d->need;
      return fail(d, FRAME_ERR_TOO_LARGE);
    }
    if (d->buf_cap < d->need) {
      uint8_t *grown = realloc(d->buf, d->need);
      if (!grown) return fail(d, FRAME_ERR_NOMEM);
      d->buf = grown;
      d->buf_cap = d->need;
    }
  }
  size_t take = d->need - d->have;
  if (take > len - used) take = len - used;
  if (take > 0) memcpy(d->buf + d->have, data + used, take);
  d->have += take;
  used += take;
  if (d->have == d->need) {
    *msg = d->buf;
    *msg_len = d->need;
    d->header_have = 0;
  }
  return (ssize_t)used;
}

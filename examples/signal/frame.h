/* Length-prefixed framing for the signalling stream: each message is a
 * 4-byte big-endian length, then that many bytes of JSON.
 *
 * The decoder takes untrusted bytes in pieces of any size. A length of zero
 * or above the decoder's limit is an error before any payload is buffered,
 * so a hostile length costs nothing; after an error the stream cannot be
 * resynchronised and the decoder keeps returning it. */
#ifndef SIGNAL_FRAME_H
#define SIGNAL_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define FRAME_HEADER_LEN 4
#define FRAME_DEFAULT_MAX (64u * 1024u)

#define FRAME_ERR_EMPTY (-1)     /* length 0: no message is empty */
#define FRAME_ERR_TOO_LARGE (-2) /* length above the limit */
#define FRAME_ERR_NOMEM (-3)

typedef struct frame_decoder {
  size_t max;                   /* largest payload accepted */
  uint8_t header[FRAME_HEADER_LEN];
  size_t header_have;
  uint32_t need;                /* payload length of the current message */
  uint8_t *buf;                 /* payload storage, grown up to max */
  size_t buf_cap, have;
  int error;                    /* sticky */
  uint32_t bad_length;          /* the offending length, for the error reply */
} frame_decoder_t;

void frame_decoder_init(frame_decoder_t *d, size_t max);
void frame_decoder_free(frame_decoder_t *d);

/* Consumes bytes of data, stopping after the first complete message. Returns
 * the bytes consumed (>= 0) or a FRAME_ERR_*. When a message completed,
 * *msg / *msg_len point to its payload (valid until the next call);
 * otherwise *msg is NULL. Call again with the rest of data. */
ssize_t frame_decode(frame_decoder_t *d, const uint8_t *data, size_t len, const uint8_t **msg,
                     size_t *msg_len);

/* Writes the 4-byte header for a payload of len bytes. */
void frame_put_header(uint8_t out[FRAME_HEADER_LEN], uint32_t len);

/* A human-readable name of a FRAME_ERR_*. */
const char *frame_strerror(int err);

#endif

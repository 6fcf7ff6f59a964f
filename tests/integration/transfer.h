/* A bulk transfer both ways at once between two streams, each direction
 * verified with SHA-256 (libsodium). Used over plain loopback and through
 * the netem proxy. */
#ifndef TOU_TEST_TRANSFER_H
#define TOU_TEST_TRANSFER_H

#include <sodium.h>

#include "harness.h"

#define XFER_CHUNK 65536
#define XFER_WRITES_IN_FLIGHT 4

typedef struct xfer_side {
  tou_stream_t *stream;
  uint64_t seed;          /* of the bytes this side sends */
  uint64_t to_send, queued, written;
  uint64_t received;
  crypto_hash_sha256_state sent_hash, recv_hash;
  uint8_t sent_digest[32], recv_digest[32];
  tou_write_t writes[XFER_WRITES_IN_FLIGHT];
  uint8_t *bufs[XFER_WRITES_IN_FLIGHT];
  bool busy[XFER_WRITES_IN_FLIGHT];
  tou_shutdown_t shut;
  bool shut_done, eof;
  struct xfer *x;
} xfer_side_t;

typedef struct xfer {
  xfer_side_t side[2];
  bool done;
  tou_stream_t *accept_into; /* xfer_listen() */
} xfer_t;

/* Prepares both sides (a sends bytes_a_to_b, b sends bytes_b_to_a). */
void xfer_init(xfer_t *x, uint64_t bytes_a_to_b, uint64_t bytes_b_to_a);
/* Starts one side once its stream is connected/accepted. */
void xfer_start(xfer_t *x, int side, tou_stream_t *stream);
/* After xfer_init(): the server side listens on ep and starts side 1 on
 * the connection it accepts into *server (ep->data becomes x). */
void xfer_listen(xfer_t *x, tou_endpoint_t *ep, tou_stream_t *server);
/* The client side connects *client from ep to addr and starts side 0 once
 * connected (req->data becomes x). */
void xfer_connect(xfer_t *x, tou_connect_t *req, tou_endpoint_t *ep, tou_stream_t *client,
                  const struct sockaddr *addr);
/* After done: each direction's digests match and byte counts are exact. */
void xfer_check(xfer_t *x);
void xfer_free(xfer_t *x);
/* Progress and connection figures of both sides (diagnostics). */
void xfer_print(const xfer_t *x);

#endif

/* One negative error space for the whole core. The libuv binding maps these
 * to UV_E* codes; tou_error_name() gives a stable display name. */
#ifndef TOU_CORE_ERROR_H
#define TOU_CORE_ERROR_H

enum tou_error {
  TOU_OK = 0,
  /* Wire decoding: each malformed class has its own code. */
  TOU_ERR_TRUNCATED = -1,      /* datagram shorter than a header or its header length */
  TOU_ERR_BAD_VERSION = -2,    /* version byte not supported */
  TOU_ERR_BAD_HEADER_LEN = -3, /* header length below the fixed header */
  TOU_ERR_BAD_OPTION = -4,     /* option length malformed or option value invalid */
  TOU_ERR_BAD_CHECKSUM = -5,   /* CRC32C mismatch: corrupted datagram */
  TOU_ERR_NOBUFS = -6,         /* caller's output buffer too small */
  /* API and connection errors. */
  TOU_ERR_INVAL = -7,     /* invalid argument */
  TOU_ERR_NOMEM = -8,     /* allocation failed or a configured limit reached */
  TOU_ERR_REFUSED = -9,   /* peer answered our SYN with RST */
  TOU_ERR_RESET = -10,    /* peer reset an established connection */
  TOU_ERR_TIMEDOUT = -11, /* retransmissions, user timeout or keepalive exhausted */
  TOU_ERR_ABORTED = -12,  /* aborted locally */
  TOU_ERR_PIPE = -13,     /* send after shutdown */
  TOU_ERR_NOTCONN = -14,  /* operation needs a synchronized connection */
  TOU_ERR_AGAIN = -15,    /* nothing can be done now; try after an event */
  TOU_ERR_STATE = -16,    /* operation not valid in the current state */
  TOU_ERR_EOF = -17,      /* peer finished sending and all data was read */
  TOU_ERR_BUSY = -18,     /* already listening / address in use */
  TOU_ERR_LIMIT = -19,    /* backlog or connection table full */
  TOU_ERR_VERSION = -20,  /* peer answered our SYN with a version reject (PROTOCOL.md 6) */
};

/* Stable name of an error code ("TOU_ERR_TIMEDOUT"), "TOU_OK" for 0. */
const char *tou_error_name(int err);
/* Human-readable description ("connection timed out"). */
const char *tou_error_text(int err);

#endif

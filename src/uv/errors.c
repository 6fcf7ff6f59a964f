/* The core's TOU_ERR_* codes as libuv's UV_E* codes, and the small name
 * functions of the public API. */
#include "internal.h"

_Static_assert(TOU_STATE_TIME_WAIT == (int)TOU_TIME_WAIT && TOU_STATE_SYN_RCVD == (int)TOU_SYN_RCVD,
               "public TOU_STATE_* must equal the core's states");
_Static_assert(TOU_SEGFLAG_FIN == TOU_FIN && TOU_SEGFLAG_SYN == TOU_SYN &&
                   TOU_SEGFLAG_RST == TOU_RST && TOU_SEGFLAG_ACK == TOU_ACK,
               "public segment flags must equal the wire's");

int tou__uv_err(int err) {
  switch (err) {
    case TOU_OK: return 0;
    case TOU_ERR_REFUSED: return UV_ECONNREFUSED;
    case TOU_ERR_RESET: return UV_ECONNRESET;
    case TOU_ERR_TIMEDOUT: return UV_ETIMEDOUT;
    case TOU_ERR_ABORTED: return UV_ECONNABORTED;
    case TOU_ERR_PIPE: return UV_EPIPE;
    case TOU_ERR_NOTCONN: return UV_ENOTCONN;
    case TOU_ERR_AGAIN: return UV_EAGAIN;
    case TOU_ERR_EOF: return UV_EOF;
    case TOU_ERR_BUSY: return UV_EBUSY;
    case TOU_ERR_LIMIT: return UV_ENOBUFS;
    case TOU_ERR_VERSION: return UV_EPROTONOSUPPORT;
    case TOU_ERR_NOBUFS: return UV_ENOBUFS;
    case TOU_ERR_NOMEM: return UV_ENOMEM;
    case TOU_ERR_INVAL: return UV_EINVAL;
    case TOU_ERR_STATE: return UV_EINVAL;
    /* Malformed datagrams (only ever seen in traces). */
    case TOU_ERR_TRUNCATED:
    case TOU_ERR_BAD_VERSION:
    case TOU_ERR_BAD_HEADER_LEN:
    case TOU_ERR_BAD_OPTION:
    case TOU_ERR_BAD_CHECKSUM: return UV_EPROTO;
  }
  return err < 0 ? UV_EPROTO : 0;
}

TOU_EXTERN const char *tou_stream_state_name(int state) {
  if (state < TOU_STATE_CLOSED || state > TOU_STATE_TIME_WAIT) return "UNKNOWN";
  return tou_state_name((tou_state_t)state);
}

TOU_EXTERN const char *tou_version_string(void) { return "0.1.0"; }

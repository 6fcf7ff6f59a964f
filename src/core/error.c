#include "error.h"

const char *tou_error_name(int err) {
  switch (err) {
#define X(e) case e: return #e;
    X(TOU_OK) X(TOU_ERR_TRUNCATED) X(TOU_ERR_BAD_VERSION) X(TOU_ERR_BAD_HEADER_LEN)
    X(TOU_ERR_BAD_OPTION) X(TOU_ERR_BAD_CHECKSUM) X(TOU_ERR_NOBUFS) X(TOU_ERR_INVAL)
    X(TOU_ERR_NOMEM) X(TOU_ERR_REFUSED) X(TOU_ERR_RESET) X(TOU_ERR_TIMEDOUT)
    X(TOU_ERR_ABORTED) X(TOU_ERR_PIPE) X(TOU_ERR_NOTCONN) X(TOU_ERR_AGAIN)
    X(TOU_ERR_STATE) X(TOU_ERR_EOF) X(TOU_ERR_BUSY) X(TOU_ERR_LIMIT)
    X(TOU_ERR_VERSION)
#undef X
  }
  return "TOU_ERR_UNKNOWN";
}

const char *tou_error_text(int err) {
  switch (err) {
    case TOU_OK: return "success";
    case TOU_ERR_TRUNCATED: return "truncated datagram";
    case TOU_ERR_BAD_VERSION: return "unsupported protocol version";
    case TOU_ERR_BAD_HEADER_LEN: return "bad header length";
    case TOU_ERR_BAD_OPTION: return "malformed option";
    case TOU_ERR_BAD_CHECKSUM: return "integrity check failed";
    case TOU_ERR_NOBUFS: return "buffer too small";
    case TOU_ERR_INVAL: return "invalid argument";
    case TOU_ERR_NOMEM: return "out of memory or limit reached";
    case TOU_ERR_REFUSED: return "connection refused";
    case TOU_ERR_RESET: return "connection reset by peer";
    case TOU_ERR_TIMEDOUT: return "connection timed out";
    case TOU_ERR_ABORTED: return "connection aborted";
    case TOU_ERR_PIPE: return "broken pipe: sending side shut down";
    case TOU_ERR_NOTCONN: return "not connected";
    case TOU_ERR_AGAIN: return "resource temporarily unavailable";
    case TOU_ERR_STATE: return "operation not valid in this state";
    case TOU_ERR_EOF: return "end of stream";
    case TOU_ERR_BUSY: return "resource busy";
    case TOU_ERR_LIMIT: return "limit reached";
    case TOU_ERR_VERSION: return "peer does not speak this protocol version";
  }
  return "unknown error";
}

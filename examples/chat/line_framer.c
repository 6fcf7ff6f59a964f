#include "line_framer.h"

#include <string.h>

void line_framer_init(line_framer_t *f, char *storage, size_t cap) {
  f->buf = storage;
  f->cap = cap;
  f->len = 0;
  f->discarding = 0;
}

static int emit(line_framer_t *f, line_cb cb, void *arg) {
  size_t n = f->len;
  if (n > 0 && f->buf[n - 1] == '\r') n--; /* accept CRLF from telnet-like peers */
  f->buf[n] = '\0';
  f->len = 0;
  return cb(arg, LINE_OK, f->buf, n);
}

int line_framer_feed(line_framer_t *f, const uint8_t *data, size_t len, line_cb cb, void *arg) {
  size_t i = 0;
  while (i < len) {
    const uint8_t *nl = memchr(data + i, '\n', len - i);
    size_t chunk = nl ? (size_t)(nl - (data + i)) : len - i;
    if (f->discarding) {
      /* Skip the rest of the over-long line; it was reported already. */
      if (nl) f->discarding = 0;
      i += chunk + (nl ? 1 : 0);
      continue;
    }
    if (chunk > f->cap - 1 - f->len) {
      f->len = 0;
      f->discarding = nl == NULL;
      i += chunk + (nl ? 1 : 0);
      int rc = cb(arg, LINE_TOO_LONG, NULL, 0);
      if (rc) return rc;
      continue;
    }
    memcpy(f->buf + f->len, data + i, chunk);
    f->len += chunk;
    i += chunk;
    if (nl) {
      i++;
      int rc = emit(f, cb, arg);
      if (rc) return rc;
    }
  }
  return 0;
}

size_t line_framer_pending(const line_framer_t *f) { return f->discarding ? 0 : f->len; }

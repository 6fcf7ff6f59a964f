/* Newline-delimited framing for the chat stream: bytes in, whole lines out.
 *
 * The stream is untrusted: a line longer than the framer's capacity is not
 * buffered without bound, it is reported once as too long and skipped up to
 * its newline; the framer then resynchronises on the next line. */
#ifndef CHAT_LINE_FRAMER_H
#define CHAT_LINE_FRAMER_H

#include <stddef.h>
#include <stdint.h>

#define LINE_OK 0
#define LINE_TOO_LONG (-1)

/* Called for each complete line (status LINE_OK: line is NUL-terminated,
 * without its "\n" or "\r\n", len excludes the NUL) or once per over-long
 * line (status LINE_TOO_LONG: line is NULL, len is 0). A nonzero return
 * stops line_framer_feed, which returns that value. */
typedef int (*line_cb)(void *arg, int status, const char *line, size_t len);

typedef struct line_framer {
  char *buf;       /* caller's storage, cap bytes */
  size_t cap;      /* longest line accepted is cap - 1 bytes */
  size_t len;      /* bytes of the current partial line */
  int discarding;  /* inside an over-long line, waiting for its newline */
} line_framer_t;

/* storage must hold at least 2 bytes and outlive the framer. */
void line_framer_init(line_framer_t *f, char *storage, size_t cap);

/* Feeds len bytes. Returns 0, or the first nonzero value a callback returned
 * (the rest of data is then not consumed). */
int line_framer_feed(line_framer_t *f, const uint8_t *data, size_t len, line_cb cb, void *arg);

/* Bytes of an unfinished line held (for "data lost at end of stream"). */
size_t line_framer_pending(const line_framer_t *f);

#endif

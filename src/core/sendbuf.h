/* Send buffer: the bytes the application queued that the peer has not yet
 * acknowledged (sent or not), as a ring that grows on demand up to a fixed
 * limit. Offset 0 is the oldest unacknowledged byte. */
#ifndef TOU_CORE_SENDBUF_H
#define TOU_CORE_SENDBUF_H

#include <stddef.h>
#include <stdint.h>

#include "core.h"

typedef struct tou_sendbuf {
  uint8_t *data;
  size_t cap;   /* allocated bytes */
  size_t head;  /* index of offset 0 */
  size_t len;   /* bytes held */
  size_t limit; /* most bytes ever held */
  const tou_allocator_t *alloc;
} tou_sendbuf_t;

void sendbuf_init(tou_sendbuf_t *sb, size_t limit, const tou_allocator_t *alloc);
void sendbuf_free(tou_sendbuf_t *sb);
/* Appends up to n bytes; returns how many fit (fewer when the limit is reached
 * or growing the ring fails). */
size_t sendbuf_append(tou_sendbuf_t *sb, const uint8_t *data, size_t n);
/* Copies up to n bytes starting at offset off into out; returns the count. */
size_t sendbuf_copy(const tou_sendbuf_t *sb, size_t off, uint8_t *out, size_t n);
/* Where the bytes [off, off + n) lie in the ring, without copying: *p1 and *n1
 * and, when they wrap around the ring's end, *p2 and *n2 (else *n2 is 0).
 * Returns *n1 + *n2 (fewer than n past the end). Valid until the buffer
 * next changes. */
size_t sendbuf_peek(const tou_sendbuf_t *sb, size_t off, size_t n, const uint8_t **p1, size_t *n1,
                    const uint8_t **p2, size_t *n2);
/* Drops the n oldest bytes (acknowledged). */
void sendbuf_consume(tou_sendbuf_t *sb, size_t n);
static inline size_t sendbuf_len(const tou_sendbuf_t *sb) { return sb->len; }
static inline size_t sendbuf_space(const tou_sendbuf_t *sb) { return sb->limit - sb->len; }

#endif

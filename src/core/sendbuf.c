#include "sendbuf.h"

#include <string.h>

#include "alloc.h"

#define SENDBUF_MIN_CAP 4096u

void sendbuf_init(tou_sendbuf_t *sb, size_t limit, const tou_allocator_t *alloc) {
  memset(sb, 0, sizeof *sb);
  sb->limit = limit;
  sb->alloc = alloc;
}

void sendbuf_free(tou_sendbuf_t *sb) {
  tou_mem_free(sb->alloc, sb->data);
  sb->data = NULL;
  sb->cap = sb->len = sb->head = 0;
}

/* Copies n bytes from ring position `from` into out, wrapping. */
static void ring_read(const uint8_t *ring, size_t cap, size_t from, uint8_t *out, size_t n) {
  size_t first = cap - from < n ? cap - from : n;
  memcpy(out, ring + from, first);
  memcpy(out + first, ring, n - first);
}

static void ring_write(uint8_t *ring, size_t cap, size_t at, const uint8_t *in, size_t n) {
  size_t first = cap - at < n ? cap - at : n;
  memcpy(ring + at, in, first);
  memcpy(ring, in + first, n - first);
}

/* Memory follows use: an idle connection holds no buffer, a busy one grows
 * by doubling up to the limit. */
static int grow(tou_sendbuf_t *sb, size_t need) {
  size_t cap = sb->cap ? sb->cap : SENDBUF_MIN_CAP;
  while (cap < need) cap *= 2;
  if (cap > sb->limit) cap = sb->limit;
  uint8_t *d = tou_mem_alloc(sb->alloc, cap);
  if (d == NULL) return -1;
  if (sb->len > 0) ring_read(sb->data, sb->cap, sb->head, d, sb->len);
  tou_mem_free(sb->alloc, sb->data);
  sb->data = d;
  sb->cap = cap;
  sb->head = 0;
  return 0;
}

size_t sendbuf_append(tou_sendbuf_t *sb, const uint8_t *data, size_t n) {
  if (n > sendbuf_space(sb)) n = sendbuf_space(sb);
  if (n == 0) return 0;
  if (sb->len + n > sb->cap && grow(sb, sb->len + n) < 0) {
    n = sb->cap - sb->len; /* take what still fits */
    if (n == 0) return 0;
  }
  ring_write(sb->data, sb->cap, (sb->head + sb->len) % sb->cap, data, n);
  sb->len += n;
  return n;
}

size_t sendbuf_copy(const tou_sendbuf_t *sb, size_t off, uint8_t *out, size_t n) {
  if (off >= sb->len) return 0;
  if (n > sb->len - off) n = sb->len - off;
  ring_read(sb->data, sb->cap, (sb->head + off) % sb->cap, out, n);
  return n;
}

size_t sendbuf_peek(const tou_sendbuf_t *sb, size_t off, size_t n, const uint8_t **p1, size_t *n1,
                    const uint8_t **p2, size_t *n2) {
  *p1 = *p2 = NULL;
  *n1 = *n2 = 0;
  if (off >= sb->len || n == 0) return 0;
  if (n > sb->len - off) n = sb->len - off;
  size_t start = (sb->head + off) % sb->cap;
  size_t first = sb->cap - start < n ? sb->cap - start : n;
  *p1 = sb->data + start;
  *n1 = first;
  if (first < n) {
    *p2 = sb->data;
    *n2 = n - first;
  }
  return n;
}

void sendbuf_consume(tou_sendbuf_t *sb, size_t n) {
  if (n > sb->len) n = sb->len;
  sb->len -= n;
  sb->head = sb->len == 0 ? 0 : (sb->head + n) % sb->cap;
}

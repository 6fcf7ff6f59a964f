/* libFuzzer target: the segment decoder. Where decoding succeeds, encoding
 * the struct again and decoding that must give the same struct. Each input is
 * decoded twice: as is, and with its CRC32C field recomputed, since random
 * mutations almost never keep the checksum valid and would otherwise never
 * reach the options parser. Also feeds the bytes to the version-reject
 * decoder and encoder (same hostile input). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t out[65536 + TOU_WIRE_MAX_HEADER_LEN];

static void check_segment(const uint8_t *data, size_t size) {
  tou_segment_t seg;
  int rc = tou_wire_decode(data, size, &seg);
  if (rc == TOU_OK) {
    if (seg.payload_len > size) abort();
    int n = tou_wire_encode(&seg, out, sizeof out);
    if (size <= 65536 && n < 0) abort(); /* what we accept we can write */
    if (n >= 0) {
      tou_segment_t again;
      if (tou_wire_decode(out, (size_t)n, &again) != TOU_OK) abort();
      if (!tou_wire_segment_equal(&seg, &again)) abort();
      /* Canonical form: a re-encoding is never longer than the input (the
       * input may carry reserved bits, NOPs or unknown options we drop). */
      if ((size_t)n > size) abort();
    }
  } else if (rc >= 0) {
    abort();
  }
}

static void check_version_reject(const uint8_t *data, size_t size) {
  tou_version_reject_t vr;
  int rc = tou_wire_decode_version_reject(data, size, &vr);
  if (rc == TOU_OK &&
      (vr.version_count == 0 || TOU_WIRE_VREJECT_HEADER_LEN + vr.version_count > size))
    abort();
  int r = tou_wire_encode_version_reject(data, size, out, sizeof out);
  if (r > 0) {
    if ((size_t)r > size) abort(); /* no amplification */
    if (tou_wire_decode_version_reject(out, (size_t)r, &vr) != TOU_OK) abort();
  }
}

/* The CRC32C field at off computed as the encoder does (segments: 24,
 * version rejects: 12). */
static void fix_crc(uint8_t *d, size_t size, size_t off) {
  static const uint8_t zero[4] = {0};
  uint32_t c = tou_crc32c(0, d, off);
  c = tou_crc32c(c, zero, 4);
  c = tou_crc32c(c, d + off + 4, size - off - 4);
  uint8_t *f = d + off;
  f[0] = (uint8_t)(c >> 24), f[1] = (uint8_t)(c >> 16), f[2] = (uint8_t)(c >> 8), f[3] = (uint8_t)c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  check_segment(data, size);
  check_version_reject(data, size);
  if (size >= TOU_WIRE_VREJECT_HEADER_LEN && size <= 65536) {
    uint8_t *copy = malloc(size);
    if (copy == NULL) return 0;
    memcpy(copy, data, size);
    if (size >= TOU_WIRE_HEADER_LEN) {
      fix_crc(copy, size, 24);
      check_segment(copy, size);
    }
    fix_crc(copy, size, 12);
    check_version_reject(copy, size);
    free(copy);
  }
  return 0;
}

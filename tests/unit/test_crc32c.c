/* CRC32C: the standard check value, RFC 3720 appendix B.4 vectors,
 * incremental = one-shot, and the hardware path = the portable one: for
 * short buffers (one serial chain), and up to 64 KiB where three interleaved
 * chains are joined by carry-less multiplies (every chunk size of one 3-way
 * block up to 2 KiB, the 6 KiB block boundaries, incremental calls cut at
 * odd points). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crc32c.h"
#include "wire.h"

static void check_value(void **state) {
  (void)state;
  const uint8_t *s = (const uint8_t *)"123456789";
  assert_int_equal(tou_crc32c(0, s, 9), 0xE3069283u);
  assert_int_equal(tou_crc32c_portable(0, s, 9), 0xE3069283u);
  assert_int_equal(tou_crc32c_hw(0, s, 9), 0xE3069283u);
  assert_int_equal(tou_crc32c(0, NULL, 0), 0);
  assert_int_equal(tou_crc32c(0x12345678u, NULL, 0), 0x12345678u);
}

/* RFC 3720 B.4 lists the CRC as the bytes sent on the wire (little-endian
 * order of the reflected register), e.g. "aa 36 91 8a" for 32 zero bytes,
 * i.e. the register value 0x8a9136aa. */
static void rfc3720_vectors(void **state) {
  (void)state;
  uint8_t buf[48];
  memset(buf, 0, 32);
  assert_int_equal(tou_crc32c(0, buf, 32), 0x8a9136aau);
  memset(buf, 0xff, 32);
  assert_int_equal(tou_crc32c(0, buf, 32), 0x62a8ab43u);
  for (int i = 0; i < 32; i++) buf[i] = (uint8_t)i;
  assert_int_equal(tou_crc32c(0, buf, 32), 0x46dd794eu);
  for (int i = 0; i < 32; i++) buf[i] = (uint8_t)(31 - i);
  assert_int_equal(tou_crc32c(0, buf, 32), 0x113fdb5cu);
  /* iSCSI SCSI Read (10) command PDU */
  static const uint8_t pdu[48] = {
      0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
      0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18, 0x28, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  assert_int_equal(tou_crc32c(0, pdu, sizeof pdu), 0xd9963a56u);
  assert_int_equal(tou_crc32c_portable(0, pdu, sizeof pdu), 0xd9963a56u);
}

static void fill(uint8_t *p, size_t n, uint32_t seed) {
  for (size_t i = 0; i < n; i++) {
    seed = seed * 1664525u + 1013904223u;
    p[i] = (uint8_t)(seed >> 24);
  }
}

static void incremental_equals_one_shot(void **state) {
  (void)state;
  uint8_t buf[1031];
  fill(buf, sizeof buf, 7);
  uint32_t whole = tou_crc32c(0, buf, sizeof buf);
  for (size_t cut = 0; cut <= sizeof buf; cut += 13) {
    uint32_t c = tou_crc32c(0, buf, cut);
    assert_int_equal(tou_crc32c(c, buf + cut, sizeof buf - cut), whole);
    c = tou_crc32c_portable(0, buf, cut);
    assert_int_equal(tou_crc32c_portable(c, buf + cut, sizeof buf - cut), whole);
  }
  /* byte at a time */
  uint32_t c = 0;
  for (size_t i = 0; i < sizeof buf; i++) c = tou_crc32c(c, buf + i, 1);
  assert_int_equal(c, whole);
}

/* Every length 0..300 at every alignment 0..7, random content: the
 * accelerated path (when the CPU has one) must equal the portable one. */
static void accelerated_equals_portable(void **state) {
  (void)state;
  uint8_t buf[320];
  fill(buf, sizeof buf, 99);
  for (size_t off = 0; off < 8; off++)
    for (size_t len = 0; len + off <= 308; len++)
      assert_int_equal(tou_crc32c_hw(0x5a5a5a5au, buf + off, len),
                       tou_crc32c_portable(0x5a5a5a5au, buf + off, len));
  if (!tou_crc32c_hw_available()) print_message("note: no SSE4.2, hw path = portable\n");
}

#define BIG (64u * 1024)
/* One 3-way block takes at most 3 * 256 words (crc32c.c). */
#define BLOCK_MAX (3u * 8 * 256)

static uint8_t *big_random(uint32_t seed) {
  uint8_t *b = malloc(BIG + 8);
  assert_non_null(b);
  fill(b, BIG + 8, seed);
  return b;
}

/* Every length up to 2100 bytes at 8 alignments: every chunk size of the
 * interleaved path and every remainder after it. */
static void accelerated_equals_portable_to_2k(void **state) {
  (void)state;
  uint8_t *buf = big_random(0x2b);
  for (size_t off = 0; off < 8; off++)
    for (size_t len = 0; len <= 2100; len++)
      assert_int_equal(tou_crc32c_hw(0xdeadbeefu, buf + off, len),
                       tou_crc32c_portable(0xdeadbeefu, buf + off, len));
  free(buf);
}

/* Lengths up to 64 KiB: a sweep in odd steps, and each side of every
 * multiple of the largest block (where the loop goes from full blocks to
 * one smaller block and a serial tail). */
static void accelerated_equals_portable_to_64k(void **state) {
  (void)state;
  uint8_t *buf = big_random(0x64);
  for (size_t len = 2101; len <= BIG; len += 397)
    assert_int_equal(tou_crc32c_hw(1, buf + (len & 7), len),
                     tou_crc32c_portable(1, buf + (len & 7), len));
  for (size_t k = 1; k * BLOCK_MAX <= BIG; k++)
    for (size_t d = 0; d <= 48; d++) {
      size_t len = k * BLOCK_MAX - 24 + d;
      if (len > BIG) break;
      assert_int_equal(tou_crc32c_hw(0, buf + 3, len), tou_crc32c_portable(0, buf + 3, len));
    }
  assert_int_equal(tou_crc32c_hw(0, buf, BIG), tou_crc32c_portable(0, buf, BIG));
  free(buf);
}

/* A 64 KiB buffer fed in pieces cut at odd points (each piece its own call,
 * so each starts a fresh 3-way split) gives the one-shot result. */
static void accelerated_incremental_at_odd_cuts(void **state) {
  (void)state;
  uint8_t *buf = big_random(0x1d);
  const uint32_t whole = tou_crc32c_portable(0, buf, BIG);
  static const size_t cuts[] = {1,    3,    7,    23,   191,   193,   577,   1471,
                                2305, 4607, 6143, 6145, 20011, 32769, 65521, 65535};
  for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
    uint32_t c = tou_crc32c_hw(0, buf, cuts[i]);
    assert_int_equal(tou_crc32c_hw(c, buf + cuts[i], BIG - cuts[i]), whole);
  }
  /* Many uneven pieces in a row. */
  uint32_t c = 0;
  size_t at = 0, step = 1;
  while (at < BIG) {
    size_t n = step < BIG - at ? step : BIG - at;
    c = tou_crc32c_hw(c, buf + at, n);
    at += n;
    step = step * 3 + 1; /* 1, 4, 13, 40, ... then wrap to keep pieces varied */
    if (step > 9000) step = 5;
  }
  assert_int_equal(c, whole);
  assert_int_equal(tou_crc32c(0, buf, BIG), whole);
  free(buf);
}

/* Each hardware path on its own (tou_crc32c_hw() picks the 512-bit fold
 * for long buffers where the CPU has it, so the 3-way path would otherwise
 * go untested there): every length to 2100 bytes at 8 alignments, then a
 * sweep to 64 KiB and each side of the 256-byte rounds and 64- and
 * 16-byte steps of the fold. */
static void each_path_equals_portable(void **state) {
  (void)state;
  uint8_t *buf = big_random(0x77);
  uint32_t (*const paths[])(uint32_t, const uint8_t *, size_t) = {tou_crc32c_sse42,
                                                                   tou_crc32c_wide};
  for (size_t p = 0; p < 2; p++) {
    for (size_t off = 0; off < 8; off++)
      for (size_t len = 0; len <= 2100; len++)
        assert_int_equal(paths[p](0x1234567u + (uint32_t)len, buf + off, len),
                         tou_crc32c_portable(0x1234567u + (uint32_t)len, buf + off, len));
    for (size_t len = 2101; len <= BIG; len += 251)
      assert_int_equal(paths[p](7, buf + (len & 7), len), tou_crc32c_portable(7, buf + (len & 7), len));
    for (size_t k = 1; k * 256 <= BIG; k += 13)
      for (size_t d = 0; d <= 96; d++) {
        size_t len = k * 256 - 48 + d;
        if (len > BIG) break;
        assert_int_equal(paths[p](~0u, buf + 5, len), tou_crc32c_portable(~0u, buf + 5, len));
      }
  }
  if (!tou_crc32c_wide_available())
    print_message("note: no AVX-512 VPCLMULQDQ, wide path = 3-way path\n");
  free(buf);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(check_value),
      cmocka_unit_test(rfc3720_vectors),
      cmocka_unit_test(incremental_equals_one_shot),
      cmocka_unit_test(accelerated_equals_portable),
      cmocka_unit_test(accelerated_equals_portable_to_2k),
      cmocka_unit_test(accelerated_equals_portable_to_64k),
      cmocka_unit_test(accelerated_incremental_at_odd_cuts),
      cmocka_unit_test(each_path_equals_portable),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

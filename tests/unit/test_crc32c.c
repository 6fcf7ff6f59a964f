/* CRC32C: the standard check value, RFC 3720 appendix B.4 vectors,
 * incremental = one-shot, and the hardware path = the portable one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(check_value),
      cmocka_unit_test(rfc3720_vectors),
      cmocka_unit_test(incremental_equals_one_shot),
      cmocka_unit_test(accelerated_equals_portable),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

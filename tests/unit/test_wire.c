/* Segment codec (docs/PROTOCOL.md). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "error.h"
#include "wire.h"

static tou_segment_t data_segment(const char *payload) {
  tou_segment_t s;
  memset(&s, 0, sizeof s);
  s.flags = TOU_ACK | TOU_PSH;
  s.dst_cid = 0x5eed0002u;
  s.src_cid = 0x5eed0001u;
  s.seq = 0x10000001u;
  s.ack = 0x20000001u;
  s.window = 512;
  s.opts.present = TOU_OPT_TIMESTAMP;
  s.opts.ts_val = 1000;
  s.opts.ts_ecr = 900;
  s.payload = (const uint8_t *)payload;
  s.payload_len = strlen(payload);
  return s;
}

static void basic_round_trip(void **state) {
  (void)state;
  tou_segment_t s = data_segment("hello");
  uint8_t buf[256];
  int n = tou_wire_encode(&s, buf, sizeof buf);
  assert_int_equal(n, (int)tou_wire_encoded_size(&s));
  assert_int_equal(n, 28 + 12 + 5);
  tou_segment_t d;
  assert_int_equal(tou_wire_decode(buf, (size_t)n, &d), TOU_OK);
  assert_true(tou_wire_segment_equal(&s, &d));
  assert_ptr_equal(d.payload, buf + 40);
}

static void corruption_detected(void **state) {
  (void)state;
  tou_segment_t s = data_segment("hello");
  uint8_t buf[256];
  int n = tou_wire_encode(&s, buf, sizeof buf);
  for (int i = 0; i < n; i++) {
    buf[i] ^= 0x40;
    tou_segment_t d;
    assert_int_not_equal(tou_wire_decode(buf, (size_t)n, &d), TOU_OK);
    buf[i] ^= 0x40;
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(basic_round_trip),
      cmocka_unit_test(corruption_detected),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

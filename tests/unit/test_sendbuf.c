/* Send buffer: a ring that grows on demand up to its limit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pair.h"
#include "sendbuf.h"

static const tou_allocator_t plain = {0};

static void append_copy_consume_wraps(void **state) {
  (void)state;
  tou_sendbuf_t sb;
  sendbuf_init(&sb, 10000, &plain);
  assert_int_equal(sendbuf_len(&sb), 0);
  assert_null(sb.data); /* nothing allocated until used */
  uint8_t in[10000], out[10000];
  for (size_t i = 0; i < sizeof in; i++) in[i] = (uint8_t)(i * 13);
  size_t head = 0, tail = 0; /* stream offsets of oldest byte and next byte */
  unsigned wrapped = 0;
  for (int round = 0; round < 200; round++) {
    size_t n = (size_t)(round * 37 % 3000) + 1;
    size_t room = sendbuf_space(&sb);
    size_t want = n < room ? n : room;
    uint8_t chunk[3001];
    for (size_t i = 0; i < want; i++) chunk[i] = in[(tail + i) % sizeof in];
    assert_int_equal(sendbuf_append(&sb, chunk, n), want);
    tail += want;
    assert_int_equal(sendbuf_len(&sb), tail - head);
    size_t off = (size_t)(round % 5) * 100;
    size_t got = sendbuf_copy(&sb, off, out, 2000);
    size_t expect = tail - head > off ? tail - head - off : 0;
    if (expect > 2000) expect = 2000;
    assert_int_equal(got, expect);
    for (size_t i = 0; i < got; i++) assert_int_equal(out[i], in[(head + off + i) % sizeof in]);
    /* The same bytes in place, one piece or two across the wrap point. */
    const uint8_t *p1, *p2;
    size_t n1, n2;
    assert_int_equal(sendbuf_peek(&sb, off, 2000, &p1, &n1, &p2, &n2), expect);
    assert_int_equal(n1 + n2, expect);
    if (n2 > 0) {
      wrapped++;
      assert_ptr_equal(p2, sb.data);
      assert_ptr_equal(p1 + n1, sb.data + sb.cap);
    }
    if (n1 > 0) assert_memory_equal(p1, out, n1);
    if (n2 > 0) assert_memory_equal(p2, out + n1, n2);
    size_t c = (size_t)(round * 53 % 2500);
    if (c > tail - head) c = tail - head;
    sendbuf_consume(&sb, c);
    head += c;
  }
  assert_true(sb.cap <= 10000);
  assert_true(wrapped > 0);
  sendbuf_free(&sb);
}

static void limit_is_respected(void **state) {
  (void)state;
  tou_sendbuf_t sb;
  sendbuf_init(&sb, 5000, &plain);
  uint8_t buf[6000] = {1};
  assert_int_equal(sendbuf_append(&sb, buf, sizeof buf), 5000);
  assert_int_equal(sendbuf_append(&sb, buf, 1), 0);
  assert_int_equal(sendbuf_space(&sb), 0);
  assert_int_equal(sb.cap, 5000);
  sendbuf_consume(&sb, 10000); /* more than held: clamps */
  assert_int_equal(sendbuf_len(&sb), 0);
  assert_int_equal(sendbuf_copy(&sb, 0, buf, 10), 0);
  sendbuf_free(&sb);
}

static void growth_failure_keeps_contents(void **state) {
  (void)state;
  fail_alloc_t f = {.budget = 1};
  tou_allocator_t a = fail_allocator(&f);
  tou_sendbuf_t sb;
  sendbuf_init(&sb, 1 << 20, &a);
  uint8_t buf[5000];
  for (size_t i = 0; i < sizeof buf; i++) buf[i] = (uint8_t)i;
  assert_int_equal(sendbuf_append(&sb, buf, 1000), 1000); /* 4096-byte ring */
  /* Growing fails: only what still fits in the current ring is taken. */
  assert_int_equal(sendbuf_append(&sb, buf + 1000, 4000), 3096);
  uint8_t out[4096];
  assert_int_equal(sendbuf_copy(&sb, 0, out, sizeof out), 4096);
  assert_memory_equal(out, buf, 4096);
  assert_int_equal(sendbuf_append(&sb, buf, 1), 0);
  sendbuf_free(&sb);
  assert_int_equal(f.live, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(append_copy_consume_wraps),
      cmocka_unit_test(limit_is_respected),
      cmocka_unit_test(growth_failure_keeps_contents),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

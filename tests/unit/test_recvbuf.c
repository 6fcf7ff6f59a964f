/* Receive buffer: in-order delivery, out-of-order ranges kept (bounded),
 * duplicates absorbed, window accounting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pair.h"
#include "recvbuf.h"

static const tou_allocator_t plain = {0};

static void in_order_then_read(void **state) {
  (void)state;
  tou_recvbuf_t rb;
  recvbuf_init(&rb, 100, &plain);
  assert_int_equal(recvbuf_window(&rb), 100);
  assert_int_equal(recvbuf_write(&rb, 0, (const uint8_t *)"hello", 5), 5);
  assert_int_equal(recvbuf_ready(&rb), 5);
  assert_int_equal(recvbuf_window(&rb), 95);
  uint8_t out[8];
  assert_int_equal(recvbuf_read(&rb, out, 3), 3);
  assert_memory_equal(out, "hel", 3);
  assert_int_equal(recvbuf_window(&rb), 98);
  assert_int_equal(recvbuf_read(&rb, out, 8), 2);
  assert_memory_equal(out, "lo", 2);
  assert_int_equal(recvbuf_read(&rb, out, 8), 0);
  recvbuf_free(&rb);
}

static void out_of_order_filled_later(void **state) {
  (void)state;
  tou_recvbuf_t rb;
  recvbuf_init(&rb, 1000, &plain);
  assert_int_equal(recvbuf_write(&rb, 6, (const uint8_t *)"world", 5), 0);
  assert_int_equal(recvbuf_write(&rb, 20, (const uint8_t *)"!", 1), 0);
  const tou_recv_range_t *r;
  assert_int_equal(recvbuf_ranges(&rb, &r), 2);
  assert_int_equal(r[0].start, 6);
  assert_int_equal(r[0].end, 11);
  assert_int_equal(recvbuf_ready(&rb), 0);
  /* The gap fills: everything up to the next hole becomes readable at once. */
  assert_int_equal(recvbuf_write(&rb, 0, (const uint8_t *)"hello ", 6), 11);
  assert_int_equal(recvbuf_ranges(&rb, &r), 1);
  assert_int_equal(r[0].start, 9); /* 20 - 11 */
  uint8_t out[32];
  assert_int_equal(recvbuf_read(&rb, out, sizeof out), 11);
  assert_memory_equal(out, "hello world", 11);
  assert_int_equal(recvbuf_write(&rb, 0, (const uint8_t *)"123456789", 9), 10);
  assert_int_equal(recvbuf_read(&rb, out, sizeof out), 10);
  assert_memory_equal(out, "123456789!", 10);
  recvbuf_free(&rb);
}

static void duplicates_and_overlaps_absorbed(void **state) {
  (void)state;
  tou_recvbuf_t rb;
  recvbuf_init(&rb, 1000, &plain);
  assert_int_equal(recvbuf_write(&rb, 10, (const uint8_t *)"klmno", 5), 0);
  assert_int_equal(recvbuf_write(&rb, 10, (const uint8_t *)"klmno", 5), 0);
  assert_int_equal(recvbuf_write(&rb, 12, (const uint8_t *)"mnopq", 5), 0);
  const tou_recv_range_t *r;
  assert_int_equal(recvbuf_ranges(&rb, &r), 1);
  assert_int_equal(r[0].end, 17);
  assert_int_equal(recvbuf_write(&rb, 0, (const uint8_t *)"abcdefghijkl", 12), 17);
  uint8_t out[32];
  assert_int_equal(recvbuf_read(&rb, out, sizeof out), 17);
  assert_memory_equal(out, "abcdefghijklmnopq", 17);
  recvbuf_free(&rb);
}

static void window_cuts_excess(void **state) {
  (void)state;
  tou_recvbuf_t rb;
  recvbuf_init(&rb, 8, &plain);
  assert_int_equal(recvbuf_write(&rb, 0, (const uint8_t *)"0123456789", 10), 8);
  assert_int_equal(recvbuf_window(&rb), 0);
  assert_int_equal(recvbuf_write(&rb, 0, (const uint8_t *)"x", 1), 0);
  uint8_t out[16];
  assert_int_equal(recvbuf_read(&rb, out, sizeof out), 8);
  assert_memory_equal(out, "01234567", 8);
  recvbuf_free(&rb);
}

static void range_count_is_bounded(void **state) {
  (void)state;
  tou_recvbuf_t rb;
  recvbuf_init(&rb, 1 << 16, &plain);
  for (unsigned i = 0; i < TOU_RECVBUF_MAX_RANGES; i++)
    assert_int_equal(recvbuf_write(&rb, 10 + 10 * i, (const uint8_t *)"x", 1), 0);
  assert_int_equal(rb.nranges, TOU_RECVBUF_MAX_RANGES);
  /* One more separate piece is refused and nothing changes... */
  assert_int_equal(recvbuf_write(&rb, 10 + 10 * TOU_RECVBUF_MAX_RANGES + 5, (const uint8_t *)"y", 1),
                   TOU_ERR_LIMIT);
  assert_int_equal(rb.nranges, TOU_RECVBUF_MAX_RANGES);
  /* ...but a piece that joins existing ranges, or fills the front, is fine. */
  assert_int_equal(recvbuf_write(&rb, 11, (const uint8_t *)"abcdefghi", 9), 0);
  assert_int_equal(rb.nranges, TOU_RECVBUF_MAX_RANGES - 1);
  assert_int_equal(recvbuf_write(&rb, 0, (const uint8_t *)"0123456789", 10), 21);
  recvbuf_free(&rb);
}

static void ring_wraps_and_grows(void **state) {
  (void)state;
  tou_recvbuf_t rb;
  recvbuf_init(&rb, 20000, &plain);
  uint8_t in[3000], out[3000];
  uint32_t stream_in = 0, stream_out = 0;
  for (int round = 0; round < 100; round++) {
    size_t n = (size_t)(round * 131 % 2900) + 1;
    if (n > recvbuf_window(&rb)) n = recvbuf_window(&rb);
    for (size_t i = 0; i < n; i++) in[i] = (uint8_t)(stream_in + i);
    /* Deliver the second half first, then the first half. */
    size_t h = n / 2;
    assert_int_equal(recvbuf_write(&rb, h, in + h, n - h), h == 0 ? (int)n : 0);
    if (h > 0) assert_int_equal(recvbuf_write(&rb, 0, in, h), (int)n);
    stream_in += (uint32_t)n;
    size_t k = recvbuf_read(&rb, out, (size_t)(round * 97 % 3000));
    for (size_t i = 0; i < k; i++) assert_int_equal(out[i], (uint8_t)(stream_out + i));
    stream_out += (uint32_t)k;
  }
  assert_true(rb.cap <= 20000);
  recvbuf_free(&rb);
}

static void growth_failure_refuses_segment(void **state) {
  (void)state;
  fail_alloc_t f = {.budget = 0};
  tou_allocator_t a = fail_allocator(&f);
  tou_recvbuf_t rb;
  recvbuf_init(&rb, 1000, &a);
  assert_int_equal(recvbuf_write(&rb, 5, (const uint8_t *)"abc", 3), TOU_ERR_NOMEM);
  assert_int_equal(rb.nranges, 0);
  f.budget = -1;
  assert_int_equal(recvbuf_write(&rb, 0, (const uint8_t *)"abc", 3), 3);
  recvbuf_free(&rb);
  assert_int_equal(f.live, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(in_order_then_read),
      cmocka_unit_test(out_of_order_filled_later),
      cmocka_unit_test(duplicates_and_overlaps_absorbed),
      cmocka_unit_test(window_cuts_excess),
      cmocka_unit_test(range_count_is_bounded),
      cmocka_unit_test(ring_wraps_and_grows),
      cmocka_unit_test(growth_failure_refuses_segment),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

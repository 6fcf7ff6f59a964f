/* 32-bit modular sequence arithmetic (RFC 9293 3.4, RFC 1982). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "seq.h"

static void compare_simple(void **state) {
  (void)state;
  assert_true(seq_lt(1, 2));
  assert_false(seq_lt(2, 2));
  assert_true(seq_leq(2, 2));
  assert_true(seq_gt(3, 2));
  assert_false(seq_gt(2, 2));
  assert_true(seq_geq(2, 2));
  assert_int_equal(seq_diff(10, 3), 7);
  assert_int_equal(seq_diff(3, 10), -7);
}

/* Across the wrap 0xffffffff -> 0: "after" still compares greater. */
static void compare_across_wrap(void **state) {
  (void)state;
  assert_true(seq_lt(0xffffffffu, 0));
  assert_true(seq_gt(0, 0xffffffffu));
  assert_true(seq_lt(0xfffffff0u, 0x10));
  assert_true(seq_gt(0x10, 0xfffffff0u));
  assert_int_equal(seq_diff(0x10, 0xfffffff0u), 0x20);
  assert_int_equal(seq_diff(0xfffffff0u, 0x10), -0x20);
  assert_int_equal(seq_max(0xfffffff0u, 0x10), 0x10);
  assert_int_equal(seq_min(0xfffffff0u, 0x10), 0xfffffff0u);
  assert_int_equal(seq_max(5, 5), 5);
  /* every base, including both sides of the wrap, with small and large
   * distances below 2^31 */
  static const uint32_t bases[] = {0, 1, 0x7fffffffu, 0x80000000u, 0xfffffffeu, 0xffffffffu};
  static const uint32_t dists[] = {1, 2, 1000, 0x10000, 0x7ffffffeu, 0x7fffffffu};
  for (size_t i = 0; i < sizeof bases / sizeof bases[0]; i++) {
    for (size_t j = 0; j < sizeof dists / sizeof dists[0]; j++) {
      tou_seq_t a = bases[i], b = a + dists[j];
      assert_true(seq_lt(a, b));
      assert_true(seq_leq(a, b));
      assert_true(seq_gt(b, a));
      assert_true(seq_geq(b, a));
      assert_false(seq_lt(b, a));
      assert_false(seq_gt(a, b));
      assert_int_equal(seq_diff(b, a), (int32_t)dists[j]);
      assert_int_equal(seq_max(a, b), b);
      assert_int_equal(seq_min(a, b), a);
    }
  }
}

/* Exactly 2^31 apart the order is undefined by RFC 1982; the implementation
 * says a - b = INT32_MIN, i.e. a < b in both directions. Documented so
 * nobody relies on it: windows are far below 2^31 (2^30 max with wscale 14). */
static void compare_half_space(void **state) {
  (void)state;
  assert_int_equal(seq_diff(0x80000000u, 0), INT32_MIN);
  assert_true(seq_lt(0x80000000u, 0));
  assert_true(seq_lt(0, 0x80000000u));
}

static void in_window_edges(void **state) {
  (void)state;
  /* [lo, hi) */
  assert_true(seq_in_window(100, 100, 200));
  assert_true(seq_in_window(199, 100, 200));
  assert_false(seq_in_window(200, 100, 200));
  assert_false(seq_in_window(99, 100, 200));
  /* empty window contains nothing, not even lo */
  assert_false(seq_in_window(100, 100, 100));
  assert_false(seq_in_window(0, 0, 0));
  /* window across the wrap */
  assert_true(seq_in_window(0xfffffff0u, 0xfffffff0u, 0x10));
  assert_true(seq_in_window(0xffffffffu, 0xfffffff0u, 0x10));
  assert_true(seq_in_window(0, 0xfffffff0u, 0x10));
  assert_true(seq_in_window(0xf, 0xfffffff0u, 0x10));
  assert_false(seq_in_window(0x10, 0xfffffff0u, 0x10));
  assert_false(seq_in_window(0xffffffefu, 0xfffffff0u, 0x10));
  /* one-element window */
  assert_true(seq_in_window(0xffffffffu, 0xffffffffu, 0));
  assert_false(seq_in_window(0, 0xffffffffu, 0));
}

static void between_edges(void **state) {
  (void)state;
  /* [lo, hi] */
  assert_true(seq_between(100, 100, 200));
  assert_true(seq_between(200, 100, 200));
  assert_false(seq_between(201, 100, 200));
  assert_false(seq_between(99, 100, 200));
  assert_true(seq_between(5, 5, 5)); /* lo == hi: exactly that number */
  assert_false(seq_between(6, 5, 5));
  assert_true(seq_between(0x10, 0xfffffff0u, 0x10));
  assert_true(seq_between(0, 0xfffffff0u, 0x10));
  assert_false(seq_between(0x11, 0xfffffff0u, 0x10));
  assert_false(seq_between(0xffffffefu, 0xfffffff0u, 0x10));
  /* the typical ACK check: SND.UNA <= SEG.ACK <= SND.NXT across the wrap */
  tou_seq_t una = 0xfffffffau, nxt = 0x00000004u;
  for (tou_seq_t ack = una; ack != nxt + 1; ack++) assert_true(seq_between(ack, una, nxt));
  assert_false(seq_between(una - 1, una, nxt));
  assert_false(seq_between(nxt + 1, una, nxt));
}

/* in_window and between agree with the diff-based definitions, for a sweep
 * of positions around windows placed at both sides of the wrap. */
static void windows_agree_with_diff(void **state) {
  (void)state;
  static const uint32_t los[] = {0, 0x7fffff00u, 0xffffff00u, 0xfffffff9u};
  static const uint32_t sizes[] = {0, 1, 7, 300};
  for (size_t i = 0; i < 4; i++) {
    for (size_t j = 0; j < 4; j++) {
      tou_seq_t lo = los[i], hi = lo + sizes[j];
      for (int32_t off = -400; off <= 400; off++) {
        tou_seq_t x = lo + (uint32_t)off;
        bool in = off >= 0 && (uint32_t)off < sizes[j];
        bool btw = off >= 0 && (uint32_t)off <= sizes[j];
        assert_int_equal(seq_in_window(x, lo, hi), in);
        assert_int_equal(seq_between(x, lo, hi), btw);
        assert_int_equal(seq_in_window(x, lo, hi), seq_leq(lo, x) && seq_lt(x, hi));
      }
    }
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(compare_simple),     cmocka_unit_test(compare_across_wrap),
      cmocka_unit_test(compare_half_space), cmocka_unit_test(in_window_edges),
      cmocka_unit_test(between_edges),      cmocka_unit_test(windows_agree_with_diff),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

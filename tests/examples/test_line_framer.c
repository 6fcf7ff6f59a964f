/* Chat framing: newline-delimited lines from untrusted bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "line_framer.h"

typedef struct got {
  char lines[16][64];
  int count, too_long, stop_after;
} got_t;

static int collect(void *arg, int status, const char *line, size_t len) {
  got_t *g = arg;
  if (status == LINE_TOO_LONG) {
    g->too_long++;
    assert_null(line);
    return 0;
  }
  assert_int_equal(strlen(line), len); /* NUL-terminated at len */
  assert_true(g->count < 16);
  snprintf(g->lines[g->count++], 64, "%s", line);
  return g->stop_after && g->count == g->stop_after ? 7 : 0;
}

static int feed_str(line_framer_t *f, const char *s, got_t *g) {
  return line_framer_feed(f, (const uint8_t *)s, strlen(s), collect, g);
}

static void test_lines_and_crlf(void **state) {
  (void)state;
  char buf[32];
  line_framer_t f;
  got_t g = {0};
  line_framer_init(&f, buf, sizeof buf);
  assert_int_equal(feed_str(&f, "one\ntwo\r\n\nthree", &g), 0);
  assert_int_equal(g.count, 3);
  assert_string_equal(g.lines[0], "one");
  assert_string_equal(g.lines[1], "two");
  assert_string_equal(g.lines[2], "");
  assert_int_equal(line_framer_pending(&f), 5);
  feed_str(&f, "\n", &g);
  assert_string_equal(g.lines[3], "three");
  assert_int_equal(line_framer_pending(&f), 0);
}

static void test_byte_by_byte(void **state) {
  (void)state;
  char buf[32];
  line_framer_t f;
  got_t g = {0};
  line_framer_init(&f, buf, sizeof buf);
  const char *s = "hello world\nsecond line\n";
  for (size_t i = 0; i < strlen(s); i++)
    assert_int_equal(line_framer_feed(&f, (const uint8_t *)s + i, 1, collect, &g), 0);
  assert_int_equal(g.count, 2);
  assert_string_equal(g.lines[0], "hello world");
  assert_string_equal(g.lines[1], "second line");
}

static void test_capacity_boundary(void **state) {
  (void)state;
  char buf[8]; /* lines up to 7 bytes */
  line_framer_t f;
  got_t g = {0};
  line_framer_init(&f, buf, sizeof buf);
  feed_str(&f, "1234567\n12345678\nok\n", &g);
  assert_int_equal(g.count, 2);
  assert_string_equal(g.lines[0], "1234567");
  assert_string_equal(g.lines[1], "ok");
  assert_int_equal(g.too_long, 1);
}

static void test_overlong_across_feeds_resyncs(void **state) {
  (void)state;
  char buf[8];
  line_framer_t f;
  got_t g = {0};
  line_framer_init(&f, buf, sizeof buf);
  feed_str(&f, "abcd", &g);
  feed_str(&f, "efghij", &g); /* now too long: reported once */
  feed_str(&f, "klmnopqrstuvwxyz", &g);
  feed_str(&f, "zz\nnext\n", &g);
  assert_int_equal(g.too_long, 1);
  assert_int_equal(g.count, 1);
  assert_string_equal(g.lines[0], "next");
  assert_int_equal(line_framer_pending(&f), 0);
}

static void test_huge_input_stays_bounded(void **state) {
  (void)state;
  char buf[16];
  line_framer_t f;
  got_t g = {0};
  line_framer_init(&f, buf, sizeof buf);
  static uint8_t junk[1 << 20];
  memset(junk, 'x', sizeof junk);
  for (int i = 0; i < 8; i++) line_framer_feed(&f, junk, sizeof junk, collect, &g);
  assert_int_equal(g.too_long, 1);
  assert_int_equal(line_framer_pending(&f), 0);
  feed_str(&f, "\nfine\n", &g);
  assert_int_equal(g.count, 1);
  assert_string_equal(g.lines[0], "fine");
}

static void test_callback_stops_feed(void **state) {
  (void)state;
  char buf[16];
  line_framer_t f;
  got_t g = {0};
  g.stop_after = 1;
  line_framer_init(&f, buf, sizeof buf);
  assert_int_equal(feed_str(&f, "a\nb\n", &g), 7);
  assert_int_equal(g.count, 1);
}

static int count_len(void *arg, int status, const char *line, size_t len) {
  (void)line;
  if (status == LINE_OK) *(size_t *)arg = len;
  return 0;
}

static void test_nul_byte_kept_in_length(void **state) {
  (void)state;
  char buf[16];
  line_framer_t f;
  line_framer_init(&f, buf, sizeof buf);
  const uint8_t data[] = {'a', 0, 'b', '\n'};
  size_t len = 0;
  line_framer_feed(&f, data, sizeof data, count_len, &len);
  assert_int_equal(len, 3); /* the length, not strlen, tells the line's end */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_lines_and_crlf),
      cmocka_unit_test(test_byte_by_byte),
      cmocka_unit_test(test_capacity_boundary),
      cmocka_unit_test(test_overlong_across_feeds_resyncs),
      cmocka_unit_test(test_huge_input_stays_bounded),
      cmocka_unit_test(test_callback_stops_feed),
      cmocka_unit_test(test_nul_byte_kept_in_length),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

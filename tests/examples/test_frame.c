/* Signalling framing: 4-byte big-endian length + payload, hostile input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "frame.h"

/* Feeds everything, collecting messages into out (joined by '|'). Returns 0
 * or the first error. */
static int feed(frame_decoder_t *d, const uint8_t *p, size_t len, size_t chunk, char *out,
                size_t cap, int *count) {
  while (len > 0) {
    size_t n = len < chunk ? len : chunk;
    while (n > 0) {
      const uint8_t *msg;
      size_t msg_len;
      ssize_t used = frame_decode(d, p, n, &msg, &msg_len);
      if (used < 0) return (int)used;
      assert_true((size_t)used <= n);
      p += used, len -= (size_t)used, n -= (size_t)used;
      if (msg) {
        (*count)++;
        size_t at = strlen(out);
        assert_true(at + msg_len + 2 < cap);
        memcpy(out + at, msg, msg_len);
        out[at + msg_len] = '|';
        out[at + msg_len + 1] = 0;
      }
    }
  }
  return 0;
}

static size_t put(uint8_t *buf, const char *s) {
  frame_put_header(buf, (uint32_t)strlen(s));
  memcpy(buf + 4, s, strlen(s));
  return 4 + strlen(s);
}

static void test_messages_in_any_pieces(void **state) {
  (void)state;
  uint8_t wire[256];
  size_t n = put(wire, "{\"a\":1}");
  n += put(wire + n, "x");
  n += put(wire + n, "{\"type\":\"bye\"}");
  for (size_t chunk = 1; chunk <= n; chunk++) {
    frame_decoder_t d;
    frame_decoder_init(&d, 64);
    char out[256] = "";
    int count = 0;
    assert_int_equal(feed(&d, wire, n, chunk, out, sizeof out, &count), 0);
    assert_int_equal(count, 3);
    assert_string_equal(out, "{\"a\":1}|x|{\"type\":\"bye\"}|");
    frame_decoder_free(&d);
  }
}

static void test_zero_length_is_an_error(void **state) {
  (void)state;
  frame_decoder_t d;
  frame_decoder_init(&d, 64);
  const uint8_t zero[4] = {0, 0, 0, 0};
  const uint8_t *msg;
  size_t len;
  assert_int_equal(frame_decode(&d, zero, 4, &msg, &len), FRAME_ERR_EMPTY);
  /* Sticky: the stream is out of step. */
  assert_int_equal(frame_decode(&d, (const uint8_t *)"\0\0\0\1x", 5, &msg, &len), FRAME_ERR_EMPTY);
  frame_decoder_free(&d);
}

static void test_oversized_rejected_before_buffering(void **state) {
  (void)state;
  frame_decoder_t d;
  frame_decoder_init(&d, FRAME_DEFAULT_MAX);
  const uint8_t huge[4] = {0xff, 0xff, 0xff, 0xff};
  const uint8_t *msg;
  size_t len;
  assert_int_equal(frame_decode(&d, huge, 4, &msg, &len), FRAME_ERR_TOO_LARGE);
  assert_null(d.buf); /* nothing allocated for a hostile length */
  assert_int_equal(d.bad_length, 0xffffffffu);
  frame_decoder_free(&d);

  /* Exactly the limit is fine, one more is not. */
  frame_decoder_init(&d, 8);
  uint8_t hdr[4];
  frame_put_header(hdr, 8);
  assert_int_equal(frame_decode(&d, hdr, 4, &msg, &len), 4);
  assert_int_equal(frame_decode(&d, (const uint8_t *)"12345678", 8, &msg, &len), 8);
  assert_non_null(msg);
  assert_int_equal(len, 8);
  frame_put_header(hdr, 9);
  assert_int_equal(frame_decode(&d, hdr, 4, &msg, &len), FRAME_ERR_TOO_LARGE);
  frame_decoder_free(&d);
}

static void test_empty_input_and_partial_header(void **state) {
  (void)state;
  frame_decoder_t d;
  frame_decoder_init(&d, 16);
  const uint8_t *msg;
  size_t len;
  assert_int_equal(frame_decode(&d, NULL, 0, &msg, &len), 0);
  assert_null(msg);
  const uint8_t part[2] = {0, 0};
  assert_int_equal(frame_decode(&d, part, 2, &msg, &len), 2);
  assert_null(msg);
  assert_int_equal(frame_decode(&d, (const uint8_t *)"\0\2hi", 4, &msg, &len), 4);
  assert_non_null(msg);
  assert_memory_equal(msg, "hi", 2);
  frame_decoder_free(&d);
}

/* Random bytes in random pieces: never crashes, never returns more than it
 * was given, never yields a message over the limit (ASan watches memory). */
static void test_random_garbage(void **state) {
  (void)state;
  uint64_t x = 0x9e3779b97f4a7c15ull;
  static uint8_t junk[4096];
  for (int round = 0; round < 200; round++) {
    for (size_t i = 0; i < sizeof junk; i++) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      /* Mostly small lengths so that some messages complete. */
      junk[i] = (i % 5 == 0) ? 0 : (uint8_t)x;
    }
    frame_decoder_t d;
    frame_decoder_init(&d, 300);
    size_t off = 0;
    while (off < sizeof junk) {
      size_t n = 1 + (size_t)(x % 97);
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      if (n > sizeof junk - off) n = sizeof junk - off;
      const uint8_t *msg;
      size_t len;
      ssize_t used = frame_decode(&d, junk + off, n, &msg, &len);
      if (used < 0) break;
      assert_true((size_t)used <= n);
      if (msg) assert_true(len >= 1 && len <= 300);
      off += (size_t)used;
    }
    frame_decoder_free(&d);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_messages_in_any_pieces),
      cmocka_unit_test(test_zero_length_is_an_error),
      cmocka_unit_test(test_oversized_rejected_before_buffering),
      cmocka_unit_test(test_empty_input_and_partial_header),
      cmocka_unit_test(test_random_garbage),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

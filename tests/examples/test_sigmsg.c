/* Signalling messages: validation of hostile JSON, builders round trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sigmsg.h"

static sig_err_t parse(const char *text, int from_server, sig_msg_t *m) {
  char detail[160];
  sig_err_t e = sig_parse((const uint8_t *)text, strlen(text), from_server, m, detail,
                          sizeof detail);
  if (e != SIG_OK) assert_true(detail[0] != '\0'); /* every refusal says why */
  return e;
}

static void expect_client_error(const char *text, sig_err_t want) {
  sig_msg_t m;
  sig_err_t got = parse(text, 0, &m);
  if (got != want) fail_msg("%s: got %s, want %s", text, sig_err_code(got), sig_err_code(want));
  assert_null(m.root);
}

static void test_client_messages_rejected(void **state) {
  (void)state;
  expect_client_error("", SIG_E_BAD_JSON);
  expect_client_error("{", SIG_E_BAD_JSON);
  expect_client_error("{\"type\":\"join\"} trailing", SIG_E_BAD_JSON);
  expect_client_error("[1,2]", SIG_E_NOT_OBJECT);
  expect_client_error("\"join\"", SIG_E_NOT_OBJECT);
  expect_client_error("{}", SIG_E_BAD_TYPE);
  expect_client_error("{\"type\":5}", SIG_E_BAD_TYPE);
  expect_client_error("{\"type\":\"dance\"}", SIG_E_UNKNOWN_TYPE);
  expect_client_error("{\"type\":\"Join\"}", SIG_E_UNKNOWN_TYPE);
  expect_client_error("{\"type\":\"joined\",\"room\":\"r\",\"name\":\"n\",\"members\":[]}",
                      SIG_E_WRONG_SIDE);
  expect_client_error("{\"type\":\"error\",\"code\":\"x\",\"message\":\"y\"}", SIG_E_WRONG_SIDE);
  expect_client_error("{\"type\":\"join\",\"room\":\"r\"}", SIG_E_MISSING_FIELD);
  expect_client_error("{\"type\":\"join\",\"room\":\"a b\",\"name\":\"n\"}", SIG_E_BAD_FIELD);
  expect_client_error("{\"type\":\"join\",\"room\":\"\",\"name\":\"n\"}", SIG_E_BAD_FIELD);
  expect_client_error("{\"type\":\"join\",\"room\":7,\"name\":\"n\"}", SIG_E_BAD_FIELD);
  expect_client_error(
      "{\"type\":\"join\",\"room\":\"r\",\"name\":\"123456789012345678901234567890123\"}",
      SIG_E_BAD_FIELD);
  expect_client_error("{\"type\":\"offer\"}", SIG_E_MISSING_FIELD);
  expect_client_error("{\"type\":\"offer\",\"sdp\":null}", SIG_E_BAD_FIELD);
  expect_client_error("{\"type\":\"offer\",\"sdp\":\"x\",\"to\":\"\"}", SIG_E_BAD_FIELD);
  expect_client_error("{\"type\":\"candidate\",\"candidate\":\"c\",\"sdpMLineIndex\":-1}",
                      SIG_E_BAD_FIELD);
  expect_client_error("{\"type\":\"candidate\",\"candidate\":\"c\",\"sdpMLineIndex\":1.5}",
                      SIG_E_BAD_FIELD);
  expect_client_error("{\"type\":\"candidate\",\"candidate\":\"c\",\"sdpMLineIndex\":1e300}",
                      SIG_E_BAD_FIELD);
  expect_client_error("{\"type\":\"bye\",\"reason\":[]}", SIG_E_BAD_FIELD);
}

static void test_deep_nesting_is_refused(void **state) {
  (void)state;
  /* cJSON limits nesting (CJSON_NESTING_LIMIT): no stack exhaustion. */
  size_t n = 60000;
  char *deep = malloc(n + 1);
  memset(deep, '[', n);
  deep[n] = 0;
  expect_client_error(deep, SIG_E_BAD_JSON);
  free(deep);
}

static void test_client_messages_accepted(void **state) {
  (void)state;
  sig_msg_t m;
  assert_int_equal(parse("{\"type\":\"join\",\"room\":\"r-1\",\"name\":\"alice\",\"x\":{}}", 0, &m),
                   SIG_OK);
  assert_int_equal(m.type, SIG_JOIN);
  assert_string_equal(m.room, "r-1");
  assert_string_equal(m.name, "alice");
  sig_msg_free(&m);
  assert_int_equal(parse("{\"type\":\"candidate\",\"candidate\":\"\",\"sdpMLineIndex\":2}", 0, &m),
                   SIG_OK);
  assert_int_equal(m.mline_index, 2);
  assert_null(m.sdp_mid);
  sig_msg_free(&m);
  /* Input need not be NUL-terminated: only len bytes are read. */
  char buf[20];
  memcpy(buf, "{\"type\":\"bye\"}XXXXXX", 20);
  char detail[64];
  assert_int_equal(sig_parse((const uint8_t *)buf, 14, 0, &m, detail, sizeof detail), SIG_OK);
  sig_msg_free(&m);
}

static void test_builders_round_trip(void **state) {
  (void)state;
  const char *sdp = "v=0\r\no=- \"quoted\" \\ back\r\n\xc3\xa9";
  char *text = sig_build_sdp(SIG_OFFER, sdp, "bob");
  sig_msg_t m;
  assert_int_equal(parse(text, 0, &m), SIG_OK);
  assert_string_equal(m.sdp, sdp);
  assert_string_equal(m.to, "bob");
  /* Relayed: "from" is the server's word, whatever the client claimed. */
  char *relay = sig_build_relay(&m, "alice");
  sig_msg_free(&m);
  sig_text_free(text);
  assert_int_equal(parse(relay, 1, &m), SIG_OK);
  assert_string_equal(m.from, "alice");
  assert_string_equal(m.sdp, sdp);
  sig_msg_free(&m);
  sig_text_free(relay);

  text = sig_build_candidate("candidate:1 1 udp 1 1.2.3.4 5 typ host", "0", 0, NULL);
  assert_int_equal(parse(text, 0, &m), SIG_OK);
  cJSON_AddStringToObject(m.root, "from", "mallory");
  relay = sig_build_relay(&m, "alice");
  sig_msg_free(&m);
  assert_int_equal(parse(relay, 1, &m), SIG_OK);
  assert_string_equal(m.from, "alice");
  assert_int_equal(m.mline_index, 0);
  sig_msg_free(&m);
  sig_text_free(relay);
  sig_text_free(text);

  const char *members[] = {"a", "b"};
  text = sig_build_joined("room", "c", members, 2);
  assert_int_equal(parse(text, 1, &m), SIG_OK);
  assert_int_equal(cJSON_GetArraySize(m.members), 2);
  sig_msg_free(&m);
  sig_text_free(text);

  text = sig_build_error(SIG_E_TOO_LARGE, "big");
  assert_int_equal(parse(text, 1, &m), SIG_OK);
  assert_string_equal(m.code, "too-large");
  sig_msg_free(&m);
  sig_text_free(text);

  text = sig_build_peer_link("a", "silent");
  assert_int_equal(parse(text, 1, &m), SIG_OK);
  assert_string_equal(m.state, "silent");
  sig_msg_free(&m);
  sig_text_free(text);

  /* A relayed message without "from" is not valid from the server. */
  text = sig_build_bye(NULL);
  assert_int_equal(parse(text, 1, &m), SIG_E_MISSING_FIELD);
  sig_text_free(text);
  text = sig_build_bye_from("a", "disconnected");
  assert_int_equal(parse(text, 1, &m), SIG_OK);
  sig_msg_free(&m);
  sig_text_free(text);
}

static void test_every_error_has_a_code(void **state) {
  (void)state;
  for (int e = 0; e < SIG_E_COUNT; e++) assert_string_not_equal(sig_err_code(e), "unknown");
  assert_string_equal(sig_err_code(SIG_E_COUNT), "unknown");
  assert_true(sig_valid_ident("a.b_c-9", 8));
  assert_false(sig_valid_ident("abcdefghi", 8));
  assert_false(sig_valid_ident("", 8));
  assert_false(sig_valid_ident("a/b", 8));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_client_messages_rejected),
      cmocka_unit_test(test_deep_nesting_is_refused),
      cmocka_unit_test(test_client_messages_accepted),
      cmocka_unit_test(test_builders_round_trip),
      cmocka_unit_test(test_every_error_has_a_code),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The chat's timed scripts and command line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "chat_cli.h"
#include "chat_script.h"
#include "chat_view.h"

static int parse(const char *text, chat_script_t *s, char *err) {
  return chat_script_parse(text, strlen(text), s, err, 128);
}

static void test_script_steps(void **state) {
  (void)state;
  chat_script_t s;
  char err[128];
  assert_int_equal(parse("# comment\n\n+100 hello there\nplain\r\n  +0 /quit\n", &s, err), 0);
  assert_int_equal(s.count, 3);
  assert_int_equal(s.steps[0].delay_ms, 100);
  assert_string_equal(s.steps[0].text, "hello there");
  assert_int_equal(s.steps[1].delay_ms, 0);
  assert_string_equal(s.steps[1].text, "plain");
  assert_string_equal(s.steps[2].text, "/quit");
  chat_script_free(&s);
}

static void test_script_errors_name_the_line(void **state) {
  (void)state;
  chat_script_t s;
  char err[128];
  assert_int_equal(parse("ok\n+abc x\n", &s, err), -1);
  assert_string_equal(err, "line 2: bad delay (want +MILLISECONDS, at most 600000)");
  assert_null(s.steps);
  assert_int_equal(parse("+5\n", &s, err), -1); /* a delay with no text */
  assert_int_equal(parse("+99999999999999999999 x\n", &s, err), -1);
  assert_int_equal(parse("+600001 x\n", &s, err), -1);
  assert_int_equal(parse("+10x y\n", &s, err), -1);
  char big[SCRIPT_MAX_TEXT + 10];
  memset(big, 'a', sizeof big - 1);
  big[sizeof big - 1] = 0;
  assert_int_equal(parse(big, &s, err), -1);
  assert_int_equal(chat_script_parse("a\0b\n", 4, &s, err, sizeof err), -1);
}

static int cli(chat_opts_t *o, char *err, const char *a0, ...) {
  char *argv[16] = {"chat"};
  int argc = 1;
  va_list ap;
  va_start(ap, a0);
  for (const char *a = a0; a && argc < 15; a = va_arg(ap, const char *)) argv[argc++] = (char *)a;
  va_end(ap);
  FILE *null = fopen("/dev/null", "w");
  int r = chat_cli_parse(argc, argv, o, err, 128, null);
  fclose(null);
  return r;
}

static void test_cli_modes(void **state) {
  (void)state;
  chat_opts_t o;
  char err[128];
  assert_int_equal(cli(&o, err, "--listen", "7000", NULL), 0);
  assert_int_equal(o.mode, CHAT_MODE_LISTEN);
  assert_int_equal(o.local_port, 7000);
  assert_int_equal(cli(&o, err, "127.0.0.1", "7000", "--events", NULL), 0);
  assert_int_equal(o.mode, CHAT_MODE_CONNECT);
  assert_int_equal(o.port, 7000);
  assert_true(o.events);
  assert_int_equal(cli(&o, err, "--peer", "::1", "7001", "--port", "7002", "--script", "f", NULL),
                   0);
  assert_int_equal(o.mode, CHAT_MODE_PEER);
  assert_int_equal(o.port, 7001);
  assert_int_equal(o.local_port, 7002);
  assert_true(o.events); /* implied by --script */
  assert_int_equal(cli(&o, err, "--help", NULL), 1);
}

static void test_cli_rejects(void **state) {
  (void)state;
  chat_opts_t o;
  char err[128];
  assert_int_equal(cli(&o, err, NULL), -1);
  assert_int_equal(cli(&o, err, "--listen", "70000", NULL), -1);
  assert_int_equal(cli(&o, err, "--listen", "1", "host", "2", NULL), -1);
  assert_int_equal(cli(&o, err, "--peer", "h", "1", NULL), -1); /* no --port */
  assert_int_equal(cli(&o, err, "h", "0", NULL), -1);
  assert_int_equal(cli(&o, err, "h", "1", "--port", "3", NULL), -1);
  assert_int_equal(cli(&o, err, "h", "1", "--silent", "0", NULL), -1);
  assert_int_equal(cli(&o, err, "h", "1", "--bogus", "0", NULL), -1);
  assert_int_equal(cli(&o, err, "h", "1", "--timeout", NULL), -1);
  assert_int_equal(cli(&o, err, "h", "1", "--listen", "-5", NULL), -1);
}

static void test_view_sanitizes(void **state) {
  (void)state;
  char out[16];
  assert_int_equal(chat_sanitize("a\x1b[2Jb\tc\x7f", 9, out, sizeof out), 9);
  assert_string_equal(out, "a?[2Jb\tc?");
  assert_int_equal(chat_sanitize("0123456789abcdefXYZ", 19, out, sizeof out), 15);
  assert_string_equal(chat_link_word(CHAT_LINK_PROBING), "probing");
  assert_string_equal(chat_link_text(CHAT_LINK_PROBING), "can you hear me? ...");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_script_steps),
      cmocka_unit_test(test_script_errors_name_the_line),
      cmocka_unit_test(test_cli_modes),
      cmocka_unit_test(test_cli_rejects),
      cmocka_unit_test(test_view_sanitizes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

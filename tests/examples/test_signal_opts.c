/* Command lines of signal-server and signal-client. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "signal_opts.h"

#define ARGV(...) ((char *[]){__VA_ARGS__}), (int)(sizeof((char *[]){__VA_ARGS__}) / sizeof(char *))

static int server(server_opts_t *o, char **argv, int argc) {
  char err[160];
  FILE *null = fopen("/dev/null", "w");
  int r = server_opts_parse(argc, argv, o, err, sizeof err, null);
  fclose(null);
  return r;
}

static int client(client_opts_t *o, char **argv, int argc) {
  char err[160];
  FILE *null = fopen("/dev/null", "w");
  int r = client_opts_parse(argc, argv, o, err, sizeof err, null);
  fclose(null);
  return r;
}

static void test_server(void **state) {
  (void)state;
  server_opts_t o;
  assert_int_equal(server(&o, ARGV("s", "7100")), 0);
  assert_int_equal(o.port, 7100);
  assert_int_equal(o.max_message, 65536);
  assert_int_equal(server(&o, ARGV("s", "--max-rooms", "50", "--max-message", "1024", "-q", "0")),
                   0);
  assert_int_equal(o.max_rooms, 50);
  assert_int_equal(o.max_message, 1024);
  assert_true(o.quiet);
  assert_int_equal(server(&o, ARGV("s", "--help")), 1);
  assert_int_equal(server(&o, ARGV("s")), -1);
  assert_int_equal(server(&o, ARGV("s", "1", "2")), -1);
  assert_int_equal(server(&o, ARGV("s", "70000")), -1);
  assert_int_equal(server(&o, ARGV("s", "1", "--max-rooms", "0")), -1);
  assert_int_equal(server(&o, ARGV("s", "1", "--max-rooms", "12x")), -1);
  assert_int_equal(server(&o, ARGV("s", "1", "--max-rooms", "-1")), -1);
  assert_int_equal(server(&o, ARGV("s", "1", "--max-rto", "10")), -1);
  assert_int_equal(server(&o, ARGV("s", "1", "--frobnicate", "1")), -1);
  assert_int_equal(server(&o, ARGV("s", "1", "--host")), -1);
}

static void test_client(void **state) {
  (void)state;
  client_opts_t o;
  assert_int_equal(client(&o, ARGV("c", "127.0.0.1", "7100", "--role", "callee", "-v")), 0);
  assert_int_equal(o.role, ROLE_CALLEE);
  assert_int_equal(o.port, 7100);
  assert_int_equal(o.candidates, 3);
  assert_true(o.verbose);
  assert_int_equal(client(&o, ARGV("c", "::1", "1", "--pairs", "50", "--room", "many")), 0);
  assert_int_equal(o.pairs, 50);
  assert_string_equal(o.room, "many");
  assert_int_equal(client(&o, ARGV("c", "h", "1", "--watch")), 0);
  assert_int_equal(client(&o, ARGV("c", "h")), -1);
  assert_int_equal(client(&o, ARGV("c", "h", "0")), -1);
  assert_int_equal(client(&o, ARGV("c", "h", "1", "--role", "boss")), -1);
  assert_int_equal(client(&o, ARGV("c", "h", "1", "--pairs", "2", "--role", "caller")), -1);
  assert_int_equal(client(&o, ARGV("c", "h", "1", "--pairs", "0")), -1);
  assert_int_equal(client(&o, ARGV("c", "h", "1", "--pairs", "1001")), -1);
  assert_int_equal(client(&o, ARGV("c", "h", "1", "--linger", "abc")), -1);
  assert_int_equal(client(&o, ARGV("c", "h", "1", "--watch", "--role", "caller")), -1);
  assert_int_equal(client(&o, ARGV("c", "h", "1", "x")), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_server),
      cmocka_unit_test(test_client),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The server's room table: bounds and bookkeeping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "rooms.h"

static void test_join_leave(void **state) {
  (void)state;
  rooms_t t;
  assert_int_equal(rooms_init(&t, 2, 2), ROOMS_OK);
  unsigned a, b;
  assert_int_equal(rooms_join(&t, "r", "alice", 10, &a), ROOMS_OK);
  assert_int_equal(rooms_join(&t, "r", "bob", 11, &b), ROOMS_OK);
  assert_int_equal(a, b);
  assert_int_equal(rooms_find(&t, a, "bob"), 11);
  assert_int_equal(rooms_find(&t, a, "carol"), -1);
  const room_t *r = rooms_get(&t, a);
  assert_int_equal(r->count, 2);
  assert_string_equal(r->members[0].name, "alice");
  assert_int_equal(rooms_leave(&t, a, 10), ROOMS_OK);
  assert_string_equal(rooms_get(&t, a)->members[0].name, "bob");
  assert_int_equal(rooms_leave(&t, a, 10), ROOMS_E_NOT_FOUND);
  assert_int_equal(rooms_leave(&t, a, 11), ROOMS_OK);
  assert_null(rooms_get(&t, a)); /* freed when empty */
  assert_int_equal(t.in_use, 0);
  rooms_free(&t);
}

static void test_bounds(void **state) {
  (void)state;
  rooms_t t;
  assert_int_equal(rooms_init(&t, 2, 2), ROOMS_OK);
  unsigned i;
  assert_int_equal(rooms_join(&t, "r1", "a", 1, &i), ROOMS_OK);
  assert_int_equal(rooms_join(&t, "r1", "a", 2, &i), ROOMS_E_NAME_TAKEN);
  assert_int_equal(rooms_join(&t, "r1", "b", 2, &i), ROOMS_OK);
  assert_int_equal(rooms_join(&t, "r1", "c", 3, &i), ROOMS_E_FULL);
  assert_int_equal(rooms_join(&t, "r2", "c", 3, &i), ROOMS_OK);
  assert_int_equal(rooms_join(&t, "r3", "d", 4, &i), ROOMS_E_TOO_MANY);
  /* Freed slots are reused. */
  assert_int_equal(rooms_leave(&t, i, 3), ROOMS_OK);
  unsigned j;
  assert_int_equal(rooms_join(&t, "r3", "d", 4, &j), ROOMS_OK);
  assert_int_equal(i, j);
  assert_string_equal(rooms_get(&t, j)->name, "r3");
  rooms_free(&t);
}

static void test_invalid(void **state) {
  (void)state;
  rooms_t t;
  assert_int_equal(rooms_init(&t, 0, 2), ROOMS_E_INVALID);
  assert_int_equal(rooms_init(&t, 1, 1), ROOMS_OK);
  unsigned i;
  assert_int_equal(rooms_join(&t, "", "a", 1, &i), ROOMS_E_INVALID);
  assert_int_equal(rooms_join(&t, "r", "a b", 1, &i), ROOMS_E_INVALID);
  assert_int_equal(rooms_leave(&t, 5, 1), ROOMS_E_NOT_FOUND);
  assert_null(rooms_get(&t, 99));
  assert_int_equal(rooms_find(&t, 99, "a"), -1);
  rooms_free(&t);
}

static void test_many_rooms(void **state) {
  (void)state;
  rooms_t t;
  assert_int_equal(rooms_init(&t, 50, 2), ROOMS_OK);
  char name[16];
  unsigned idx[50];
  for (int r = 0; r < 50; r++) {
    snprintf(name, sizeof name, "room-%d", r);
    assert_int_equal(rooms_join(&t, name, "caller", 2 * r, &idx[r]), ROOMS_OK);
    assert_int_equal(rooms_join(&t, name, "callee", 2 * r + 1, &idx[r]), ROOMS_OK);
  }
  assert_int_equal(t.in_use, 50);
  assert_int_equal(rooms_join(&t, "room-50", "x", 100, &idx[0]), ROOMS_E_TOO_MANY);
  for (int r = 0; r < 50; r++) {
    snprintf(name, sizeof name, "room-%d", r);
    assert_int_equal(rooms_find(&t, idx[r], "callee"), 2 * r + 1);
  }
  rooms_free(&t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_join_leave),
      cmocka_unit_test(test_bounds),
      cmocka_unit_test(test_invalid),
      cmocka_unit_test(test_many_rooms),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

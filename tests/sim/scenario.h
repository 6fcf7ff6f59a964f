/* Shared by the scenario files: standard app configurations and checks.
 * Header-only so each test_sim_*.c stays one self-contained program. */
#ifndef TOU_SIM_SCENARIO_H
#define TOU_SIM_SCENARIO_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "world.h"

/* Client: sends `bytes` of pattern 1, half-closes, reads pattern 2 to EOF, closes. */
static inline sim_app_cfg_t client_cfg(size_t bytes) {
  sim_app_cfg_t c = {.send_bytes = bytes, .tx_pattern = 1, .rx_pattern = 2,
                     .shutdown_when_sent = true, .close_when_done = true};
  return c;
}
/* Server: the mirror image with pattern 2. */
static inline sim_app_cfg_t server_cfg(size_t bytes) {
  sim_app_cfg_t c = {.send_bytes = bytes, .tx_pattern = 2, .rx_pattern = 1,
                     .shutdown_when_sent = true, .close_when_done = true};
  return c;
}
/* Passive app: reads everything, sends nothing, never closes by itself. */
static inline sim_app_cfg_t reader_cfg(uint32_t rx_pattern) {
  sim_app_cfg_t c = {.rx_pattern = rx_pattern};
  return c;
}

/* Everything the app expected arrived, byte-exact, with EOF. */
static inline void assert_received_all(const sim_app_t *a, size_t bytes) {
  assert_non_null(a);
  assert_false(a->data_mismatch);
  assert_int_equal(a->received, bytes);
  assert_true(a->eof);
}

static inline bool state_seen(const sim_app_t *a, tou_state_t s) {
  return (a->states_seen >> s) & 1u;
}

#define assert_state_seen(app, st)                                                        \
  do {                                                                                    \
    if (!state_seen((app), (st))) {                                                       \
      print_error("state %s never reached (last %s)\n", tou_state_name(st),               \
                  tou_state_name((app)->state));                                          \
      fail();                                                                             \
    }                                                                                     \
  } while (0)

#define assert_error_is(got, want)                                                        \
  do {                                                                                    \
    int got_ = (got), want_ = (want);                                                     \
    if (got_ != want_) {                                                                  \
      print_error("error %s, expected %s\n", tou_error_name(got_), tou_error_name(want_)); \
      fail();                                                                             \
    }                                                                                     \
  } while (0)

#define assert_time_is(got, want_us)                                                      \
  do {                                                                                    \
    uint64_t got_ = (got), want_ = (want_us);                                             \
    if (got_ != want_) {                                                                  \
      print_error("time %.6f s, expected %.6f s\n", (double)got_ / 1e6,                   \
                  (double)want_ / 1e6);                                                   \
      fail();                                                                             \
    }                                                                                     \
  } while (0)

/* Runs a scenario file's tests; TOU_SIM_TEST=<pattern> runs only the
 * matching ones (with TOU_SIM_SEED and TOU_SIM_TRACE, one failing case is
 * replayed and traced on its own). */
#define SIM_RUN_TESTS(tests)                                      \
  do {                                                            \
    const char *filter_ = getenv("TOU_SIM_TEST");                 \
    if (filter_ && *filter_) cmocka_set_test_filter(filter_);     \
    return cmocka_run_group_tests((tests), NULL, NULL);           \
  } while (0)

#endif

/* Shared helpers of the loopback integration tests: endpoints on 127.0.0.1,
 * a watchdog against hangs, and the re-entrancy check — every tou_* call made
 * by a test goes through TOU()/TOU_V(), which raise h_in_tou around it, and
 * every callback starts with CB_ENTER(), which fails when a callback runs
 * inside a tou_* call. */
#ifndef TOU_TEST_HARNESS_H
#define TOU_TEST_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <tou.h>

extern int h_in_tou;
/* Called before a hang is reported (print diagnostics); NULL: none. */
extern void (*h_on_hang)(void);

#define TOU(call)                  \
  ({                               \
    h_in_tou++;                    \
    __auto_type h_result_ = (call); \
    h_in_tou--;                    \
    h_result_;                     \
  })
#define TOU_V(call) \
  do {              \
    h_in_tou++;     \
    call;           \
    h_in_tou--;     \
  } while (0)
#define CB_ENTER() assert_int_equal(h_in_tou, 0)

/* Options for tests: defaults, a fixed seed. */
void h_options(tou_endpoint_options_t *opts);

/* Initializes and binds ep on 127.0.0.1 (or ::1 when ipv6), port 0; fills
 * *bound with the address. NULL opts: h_options(). Returns 0 or UV_E*. */
int h_endpoint(uv_loop_t *loop, tou_endpoint_t *ep, const tou_endpoint_options_t *opts,
               bool ipv6, struct sockaddr_storage *bound);

/* Runs the loop until *done becomes true; fails the test after timeout_ms
 * (a hang guard only, never a pass/fail timing). */
void h_run_until(uv_loop_t *loop, const bool *done, unsigned timeout_ms);

/* Closes the handles still open with tou_close (NULL entries skipped), runs
 * the loop until every close callback ran, and checks the loop has nothing
 * left (uv_loop_close() == 0). */
void h_close_and_drain(uv_loop_t *loop, tou_handle_t **handles, size_t n);

/* Deterministic bytes: fills buf with the stream of generator `seed`
 * starting at byte offset `off`. */
void h_fill(uint64_t seed, uint64_t off, uint8_t *buf, size_t len);

/* A close callback counting into the handle's data (an int *) when set. */
void h_count_close(tou_handle_t *h);

/* An alloc_cb handing out malloc'd 64 KiB buffers; read callbacks free them. */
void h_alloc(tou_stream_t *s, size_t suggested, uv_buf_t *buf);

/* A trace callback keeping the last records in a ring; h_trace_dump()
 * prints them (diagnostics for a failing test). */
void h_trace_record(void *arg, const tou_trace_t *t);
void h_trace_dump(FILE *f, unsigned last);

/* True when TOU_TEST_SMALL=1 (set by the valgrind build, `make valgrind`):
 * tests that move a lot of data move less, each saying how much. */
bool h_small(void);

/* TOU_TEST_TIMEOUT_SCALE (1 to 100, default 1; the valgrind build sets 5):
 * every hang guard (h_run_until, h_close_and_drain) waits that many times
 * longer, for a program slowed down by its checker. */
unsigned h_timeout_scale(void);

#endif

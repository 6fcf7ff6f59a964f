/* The sequence number of segments that take no sequence space (pure ACKs,
 * window updates). The peer applies RFC 9293's acceptability test to them
 * (RCV.NXT <= SEG.SEQ < RCV.NXT+RCV.WND) and drops the ACK field of one
 * that fails it, so they must never carry a sequence number below what the
 * peer has already received: SND.MAX, not SND.NXT, which an RTO rewinds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "conn.h"
#include "pair.h"

#define MS 1000ull
#define SEC 1000000ull

typedef struct ctx {
  pair_log_t log;
  bool blackhole[2];
} ctx_t;

static bool filter(pair_t *p, int from, const tou_segment_t *s) {
  ctx_t *c = p->ctx;
  pair_log(&c->log, p, from, s, c->blackhole[from]);
  return c->blackhole[from];
}

static size_t pure_acks_from(const ctx_t *c, int from) {
  size_t n = 0;
  for (size_t i = 0; i < c->log.n; i++) {
    const pair_log_entry_t *e = &c->log.e[i];
    if (e->from == from && e->payload_len == 0 && e->flags == TOU_ACK) n++;
  }
  return n;
}

/* A's data reached B but B's ACKs were lost; A's retransmission timer
 * rewinds SND.NXT to SND.UNA (conn_timers.c does so while the SYN is
 * unacknowledged and without a recovery scoreboard; the test sets that
 * state directly, with cwnd closed so that the next segment is the window
 * update and not the resent data). A's window update must still open B's
 * window at once, not be refused as an old duplicate. */
static void window_update_after_rewind_is_accepted(void **state) {
  (void)state;
  pair_t p;
  pair_init(&p, 10 * MS);
  ctx_t *c = calloc(1, sizeof *c);
  p.ctx = c;
  p.filter = filter;
  p.cfg[0].recv_buffer = p.cfg[0].recv_buffer_initial = 8192;
  p.cfg[0].nodelay = true; /* A's data all goes at once, tail included */
  pair_start(&p);
  tou_conn_t *a, *b;
  pair_connect(&p, &a, &b);
  assert_non_null(b);

  /* B fills A's receive window; A does not read. */
  static uint8_t data[20000];
  memset(data, 'b', sizeof data);
  assert_int_equal(tou_conn_send(b, p.now, data, sizeof data), (int)sizeof data);
  pair_run(&p, 2 * SEC);
  tou_conn_info_t ib;
  tou_conn_get_info(b, &ib);
  assert_int_equal(ib.snd_wnd, 0);

  /* A sends; B receives it all, but every segment of B is lost. */
  tou_conn_info_t ia;
  int n = 3000;
  c->blackhole[1] = true;
  assert_int_equal(tou_conn_send(a, p.now, data, (size_t)n), n);
  pair_run(&p, 15 * MS);
  tou_conn_get_info(b, &ib);
  assert_int_equal(ib.bytes_received, n);
  tou_conn_get_info(a, &ia);
  assert_int_equal(ia.bytes_acked, 0);

  a->snd_nxt = a->snd_una; /* the RTO's rewind */
  uint32_t cwnd = a->rec.cc.cwnd;
  a->rec.cc.cwnd = 0;

  /* A reads: its window update goes out as a pure ACK. */
  static uint8_t buf[8192];
  int end;
  assert_int_equal(pair_read_all(&p, a, buf, sizeof buf, &end), 8192);
  c->log.n = 0;
  pair_run(&p, 15 * MS);
  assert_int_equal(pure_acks_from(c, 0), 1);
  tou_conn_get_info(b, &ib);
  assert_true(ib.snd_wnd > 0);          /* accepted: B's window opened */
  assert_int_equal(pure_acks_from(c, 1), 0); /* no "unacceptable segment" ACK */

  a->rec.cc.cwnd = cwnd;
  free(c);
  pair_free(&p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(window_update_after_rewind_is_accepted),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

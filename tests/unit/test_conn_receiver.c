/* The receiver side of the data path against one real connection (A),
 * segments injected as if from its peer: the ACK policy (conn_ack.c:
 * quick ACKs, delayed ACKs, immediate ACKs for reordering), receiver SWS
 * avoidance and window updates, receive-buffer autotuning (rcv_window.c)
 * and PAWS (conn_ts.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "conn.h"
#include "pair.h"

#define MS 1000ull
#define SEC 1000000ull
#define MSS TOU_MSS_DEFAULT_V4

typedef struct ctx {
  pair_log_t log;
} ctx_t;

static bool filter(pair_t *p, int from, const tou_segment_t *s) {
  pair_log(&((ctx_t *)p->ctx)->log, p, from, s, false);
  return false;
}

static uint8_t payload[MSS];

/* A and B connected with the configuration `edit` makes (may be NULL). */
static ctx_t *setup(pair_t *p, tou_conn_t **a, tou_conn_t **b, void (*edit)(tou_config_t *)) {
  pair_init(p, 10 * MS);
  ctx_t *c = calloc(1, sizeof *c);
  p->ctx = c;
  p->filter = filter;
  if (edit) edit(&p->cfg[0]), edit(&p->cfg[1]);
  pair_start(p);
  pair_connect(p, a, b);
  c->log.n = 0;
  p->nev = 0;
  return c;
}

static void teardown(pair_t *p) {
  free(p->ctx);
  pair_free(p);
}

/* A data segment "from B" to A at A's RCV.NXT + off, with a timestamp newer
 * than anything A has seen (unless tsval_delta says otherwise). */
static tou_segment_t data_to_a(const tou_conn_t *a, uint32_t off, size_t len,
                               int32_t tsval_delta) {
  tou_segment_t s = {.flags = TOU_ACK, .dst_cid = a->local_cid, .src_cid = a->remote_cid,
                     .seq = a->rcv_nxt + off, .ack = a->snd_una, .window = 1000,
                     .payload = payload, .payload_len = len};
  if (a->ts_ok) {
    s.opts.present = TOU_OPT_TIMESTAMP;
    s.opts.ts_val = a->ts_recent + (uint32_t)tsval_delta;
  }
  return s;
}

/* Injects seg into A and returns how many segments A sent in answer. */
static size_t feed_a(pair_t *p, ctx_t *c, const tou_segment_t *seg) {
  size_t before = c->log.n;
  pair_inject(p, 0, &p->addr[1], seg);
  pair_pump_out(p, 0);
  return c->log.n - before;
}

/* Uses up A's quick ACKs (the first segments of a connection). */
static void past_quickacks(pair_t *p, ctx_t *c, tou_conn_t *a) {
  for (int i = 0; i < 16; i++) {
    tou_segment_t s = data_to_a(a, 0, MSS, 1);
    assert_int_equal(feed_a(p, c, &s), 1);
  }
  uint8_t buf[16 * MSS];
  pair_read_all(p, a, buf, sizeof buf, NULL);
  pair_pump_out(p, 0);
  c->log.n = 0;
}

/* RFC 9293 3.8.6.3 / RFC 5681 4.2, with Linux's quick ACKs: the first 16
 * segments are acknowledged one by one; then a lone full segment waits for
 * the 40 ms timer and the second is acknowledged at once. */
static void quick_then_delayed_acks(void **state) {
  (void)state;
  pair_t p;
  tou_conn_t *a, *b;
  ctx_t *c = setup(&p, &a, &b, NULL);
  past_quickacks(&p, c, a);
  tou_segment_t s = data_to_a(a, 0, MSS, 1);
  assert_int_equal(feed_a(&p, c, &s), 0);
  assert_int_equal(tou_ep_next_deadline(p.ep[0]), p.now + 40 * MS);
  s = data_to_a(a, 0, MSS, 1);
  assert_int_equal(feed_a(&p, c, &s), 1);
  assert_int_equal(c->log.e[0].ack, a->rcv_nxt);
  /* A lone one again: the timer sends its ACK 40 ms later, no earlier. */
  s = data_to_a(a, 0, MSS, 1);
  assert_int_equal(feed_a(&p, c, &s), 0);
  uint64_t t0 = p.now;
  p.filter = NULL; /* the log below is taken by hand */
  c->log.n = 0;
  p.now = t0 + 40 * MS - 1;
  if (tou_ep_next_deadline(p.ep[0]) <= p.now) tou_ep_on_timer(p.ep[0], p.now);
  p.filter = filter;
  pair_pump_out(&p, 0);
  assert_int_equal(c->log.n, 0);
  p.now = t0 + 40 * MS;
  tou_ep_on_timer(p.ep[0], p.now);
  pair_pump_out(&p, 0);
  assert_int_equal(c->log.n, 1);
  assert_int_equal(c->log.e[0].ack, a->rcv_nxt);
  tou_conn_info_t i;
  tou_conn_get_info(a, &i);
  assert_int_equal(i.acks_delack_timer, 1);
  assert_int_equal(i.acks_delayed, 2);
  teardown(&p);
}

/* Out-of-order data and the segment filling the hole are acknowledged at
 * once (RFC 5681 4.2: the sender's fast retransmit and recovery need them),
 * even with the quick ACKs used up. */
static void reordering_acked_at_once(void **state) {
  (void)state;
  pair_t p;
  tou_conn_t *a, *b;
  ctx_t *c = setup(&p, &a, &b, NULL);
  past_quickacks(&p, c, a);
  tou_seq_t nxt = a->rcv_nxt;
  tou_segment_t s = data_to_a(a, MSS, MSS, 1);
  assert_int_equal(feed_a(&p, c, &s), 1);
  assert_int_equal(c->log.e[0].ack, nxt); /* a duplicate ACK */
  s = data_to_a(a, 0, MSS, 1);
  assert_int_equal(feed_a(&p, c, &s), 1);
  assert_int_equal(c->log.e[1].ack, nxt + 2 * MSS);
  teardown(&p);
}

static void no_delack(tou_config_t *cfg) { cfg->delack_us = 0; }

static void delack_zero_acks_every_segment(void **state) {
  (void)state;
  pair_t p;
  tou_conn_t *a, *b;
  ctx_t *c = setup(&p, &a, &b, no_delack);
  past_quickacks(&p, c, a);
  for (int k = 0; k < 3; k++) {
    tou_segment_t s = data_to_a(a, 0, 100, 1);
    assert_int_equal(feed_a(&p, c, &s), 1);
  }
  teardown(&p);
}

/* RFC 9293 3.8.6.3: the delay MUST be less than 0.5 s. */
static void delack_bound_enforced(void **state) {
  (void)state;
  tou_config_t cfg;
  tou_config_default(&cfg);
  uint8_t seed[32] = {1};
  cfg.seed = seed;
  cfg.delack_us = 500 * MS;
  assert_null(tou_ep_new(&cfg, 0));
  cfg.delack_us = 499 * MS;
  tou_ep_t *ep = tou_ep_new(&cfg, 0);
  assert_non_null(ep);
  tou_ep_free(ep);
}

static void small_buffer(tou_config_t *cfg) { cfg->recv_buffer = cfg->recv_buffer_initial = 8 * MSS; }

/* Receiver SWS avoidance (RFC 9293 3.8.6.2.2): a full buffer advertises
 * zero; reading less than min(buffer/2, MSS) neither sends an update nor
 * moves the window in the next ACK; reading a full segment's worth sends
 * the update at once (the sender sees a zero window). */
static void sws_small_openings_not_advertised(void **state) {
  (void)state;
  pair_t p;
  tou_conn_t *a, *b;
  ctx_t *c = setup(&p, &a, &b, small_buffer);
  for (int k = 0; k < 8; k++) {
    tou_segment_t s = data_to_a(a, 0, MSS, 1);
    feed_a(&p, c, &s);
  }
  tou_conn_info_t i;
  tou_conn_get_info(a, &i);
  assert_int_equal(i.rcv_wnd, 0);
  c->log.n = 0;
  uint8_t buf[8 * MSS];
  assert_int_equal(tou_conn_recv(a, p.now, buf, 1000), 1000);
  pair_pump_out(&p, 0);
  assert_int_equal(c->log.n, 0); /* no window update for 1000 bytes */
  tou_conn_get_info(a, &i);
  assert_int_equal(i.rcv_wnd, 0); /* and none in the next ACK either */
  assert_int_equal(tou_conn_recv(a, p.now, buf, 500), 500);
  pair_pump_out(&p, 0);
  assert_int_equal(c->log.n, 1);
  assert_int_equal((uint32_t)c->log.e[0].ack, a->rcv_nxt);
  tou_conn_get_info(a, &i);
  assert_int_equal(i.rcv_wnd, 1500);
  teardown(&p);
}

/* Moves `total` bytes B -> A; A's application reads whenever data is
 * ready unless `reader` is false. Returns A's receive buffer at the end. */
static uint32_t bulk_to_a(pair_t *p, tou_conn_t *a, tou_conn_t *b, size_t total, bool reader) {
  static uint8_t chunk[64 * 1024], sink[256 * 1024];
  size_t sent = 0;
  for (int round = 0; round < 20000; round++) {
    while (sent < total) {
      size_t n = total - sent < sizeof chunk ? total - sent : sizeof chunk;
      int rc = tou_conn_send(b, p->now, chunk, n);
      if (rc <= 0) break;
      sent += (size_t)rc;
    }
    pair_run(p, 1 * MS);
    if (reader) pair_read_all(p, a, sink, sizeof sink, NULL);
    if (sent == total && tou_conn_send_queued(b) == 0) break;
  }
  tou_conn_info_t i;
  tou_conn_get_info(a, &i);
  return i.rcv_buffer;
}

/* Dynamic right-sizing: a reader that keeps up makes the buffer grow from
 * the initial 128 KiB (the sender is window-bound on this path), up to
 * recv_buffer and never beyond; one that does not read never makes it grow. */
static void autotuning_grows_with_reader(void **state) {
  (void)state;
  pair_t p;
  tou_conn_t *a, *b;
  setup(&p, &a, &b, NULL);
  uint32_t grown = bulk_to_a(&p, a, b, 2u << 20, true);
  print_message("reader keeping up: receive buffer %u bytes\n", grown);
  assert_true(grown >= 512 * 1024);
  assert_true(grown <= p.cfg[0].recv_buffer);
  teardown(&p);
}

static void half_mib_max(tou_config_t *cfg) { cfg->recv_buffer = 512 * 1024; }

static void autotuning_stops_at_recv_buffer(void **state) {
  (void)state;
  pair_t p;
  tou_conn_t *a, *b;
  setup(&p, &a, &b, half_mib_max);
  assert_int_equal(bulk_to_a(&p, a, b, 2u << 20, true), 512 * 1024);
  teardown(&p);
}

static void autotuning_needs_a_reader(void **state) {
  (void)state;
  pair_t p;
  tou_conn_t *a, *b;
  setup(&p, &a, &b, NULL);
  assert_int_equal(bulk_to_a(&p, a, b, 1u << 20, false), 128 * 1024);
  teardown(&p);
}

/* RFC 7323 5.3 R1: a segment whose TSval is older than TS.Recent (by more
 * than the one-tick slack) is an old duplicate: dropped, answered with an
 * ACK, its data not delivered. Within the slack it is accepted. */
static void paws_drops_old_timestamps(void **state) {
  (void)state;
  pair_t p;
  tou_conn_t *a, *b;
  ctx_t *c = setup(&p, &a, &b, NULL);
  assert_true(a->ts_ok);
  tou_seq_t nxt = a->rcv_nxt;
  tou_segment_t s = data_to_a(a, 0, 100, -2);
  assert_int_equal(feed_a(&p, c, &s), 1);
  assert_int_equal(a->rcv_nxt, nxt);
  assert_int_equal(c->log.e[0].ack, nxt);
  tou_conn_info_t i;
  tou_conn_get_info(a, &i);
  assert_int_equal(i.paws_dropped, 1);
  uint8_t buf[200];
  assert_int_equal(tou_conn_recv(a, p.now, buf, sizeof buf), TOU_ERR_AGAIN);
  s = data_to_a(a, 0, 100, -1); /* one tick: reordering, not an old duplicate */
  feed_a(&p, c, &s);
  assert_int_equal(a->rcv_nxt, nxt + 100);
  /* A RST is never subject to PAWS: covered by test_conn_rst (no TS). */
  teardown(&p);
}

/* RFC 7323 5.5: after 24 days without a TS.Recent update it is no longer
 * trusted: an "old" TSval is accepted and becomes TS.Recent. */
static void paws_forgets_after_24_days(void **state) {
  (void)state;
  pair_t p;
  tou_conn_t *a, *b;
  ctx_t *c = setup(&p, &a, &b, NULL);
  tou_segment_t s = data_to_a(a, 0, 100, 1);
  feed_a(&p, c, &s); /* TS.Recent set now */
  uint32_t recent = a->ts_recent;
  tou_seq_t nxt = a->rcv_nxt;
  p.now += 25ull * 24 * 3600 * SEC;
  s = data_to_a(a, 0, 100, -1000);
  feed_a(&p, c, &s);
  assert_int_equal(a->rcv_nxt, nxt + 100);
  assert_int_equal(a->ts_recent, recent - 1000);
  teardown(&p);
}

/* RFC 7323 4.3: with a delayed ACK, the TSval echoed is that of the
 * earliest segment not yet acknowledged (SEG.SEQ <= Last.ACK.sent). */
static void echo_of_earliest_unacknowledged(void **state) {
  (void)state;
  pair_t p;
  tou_conn_t *a, *b;
  ctx_t *c = setup(&p, &a, &b, NULL);
  past_quickacks(&p, c, a);
  tou_segment_t s = data_to_a(a, 0, MSS, 5);
  uint32_t first = s.opts.ts_val;
  assert_int_equal(feed_a(&p, c, &s), 0); /* delayed */
  s = data_to_a(a, 0, MSS, 10);
  assert_int_equal(feed_a(&p, c, &s), 1);
  assert_int_equal(a->ts_recent, first);
  teardown(&p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(quick_then_delayed_acks),
      cmocka_unit_test(reordering_acked_at_once),
      cmocka_unit_test(delack_zero_acks_every_segment),
      cmocka_unit_test(delack_bound_enforced),
      cmocka_unit_test(sws_small_openings_not_advertised),
      cmocka_unit_test(autotuning_grows_with_reader),
      cmocka_unit_test(autotuning_stops_at_recv_buffer),
      cmocka_unit_test(autotuning_needs_a_reader),
      cmocka_unit_test(paws_drops_old_timestamps),
      cmocka_unit_test(paws_forgets_after_24_days),
      cmocka_unit_test(echo_of_earliest_unacknowledged),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

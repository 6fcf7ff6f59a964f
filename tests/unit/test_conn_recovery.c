/* The connection with its loss recovery and congestion control plugged in
 * (conn_recovery.c): initial window, one retransmission per RTO then slow
 * start, tail loss probes, SACK block order and DSACK on the receiver,
 * algorithm selection and the TCP_INFO-like figures. Two endpoints over the
 * pair.h link, 10 ms each way. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "conn.h"
#include "pair.h"

#define MS 1000ull
#define SEC 1000000ull
#define MSS TOU_MSS_DEFAULT_V4
/* A full data segment's payload: the MSS less the 12 bytes of the
 * timestamp option it carries (RFC 6691). */
#define SEG (MSS - 12)

typedef struct ctx {
  pair_log_t log;
  unsigned data_seen[2];
  unsigned drop_data_nth[2][8]; /* 1-based indexes of data segments to drop */
  bool blackhole[2];
  /* Last SACK option B sent, and whether any of B's ACKs carried a DSACK. */
  tou_options_t last_sack;
  bool dsack_seen;
  /* A copy of A's first data segment, for re-injection. */
  bool have_copy;
  tou_segment_t copy;
  uint8_t copy_payload[2048];
} ctx_t;

static bool filter(pair_t *p, int from, const tou_segment_t *s) {
  ctx_t *c = p->ctx;
  bool drop = c->blackhole[from];
  if (s->payload_len > 0) {
    unsigned n = ++c->data_seen[from];
    for (int i = 0; i < 8; i++)
      if (c->drop_data_nth[from][i] == n) drop = true;
    if (from == 0 && !c->have_copy && s->payload_len <= sizeof c->copy_payload) {
      c->copy = *s;
      memcpy(c->copy_payload, s->payload, s->payload_len);
      c->copy.payload = c->copy_payload;
      c->have_copy = true;
    }
  }
  if (from == 1 && (s->opts.present & TOU_OPT_SACK)) {
    c->last_sack = s->opts;
    if (s->opts.sack_count && seq_leq(s->opts.sack[0].right, s->ack)) c->dsack_seen = true;
  }
  pair_log(&c->log, p, from, s, drop);
  return drop;
}

static ctx_t *setup_cfg(pair_t *p, tou_conn_t **a, tou_conn_t **b, const char *algo) {
  pair_init(p, 10 * MS);
  ctx_t *c = calloc(1, sizeof *c);
  p->ctx = c;
  p->filter = filter;
  for (int i = 0; i < 2; i++) {
    p->cfg[i].cc_algorithm = algo;
    p->cfg[i].send_buffer = 1u << 20;
    p->cfg[i].recv_buffer = 1u << 20;
  }
  pair_start(p);
  pair_connect(p, a, b);
  assert_non_null(*b);
  c->log.n = 0;
  return c;
}

static void teardown(pair_t *p) {
  free(p->ctx);
  pair_free(p);
}

static uint8_t *pattern(size_t n) {
  uint8_t *x = malloc(n);
  for (size_t i = 0; i < n; i++) x[i] = (uint8_t)(i * 13 + (i >> 9));
  return x;
}

/* Data segments from node `from` logged in [t0, t1). */
static size_t data_sent_between(const ctx_t *c, int from, uint64_t t0, uint64_t t1) {
  size_t n = 0;
  for (size_t i = 0; i < c->log.n; i++) {
    const pair_log_entry_t *e = &c->log.e[i];
    if (e->from == from && e->payload_len > 0 && e->at >= t0 && e->at < t1) n++;
  }
  return n;
}

/* Runs until B has read n bytes (or the limit); checks them against x. */
static void expect_delivery(pair_t *p, tou_conn_t *b, const uint8_t *x, size_t n, uint64_t limit) {
  uint8_t *y = malloc(n);
  size_t got = 0;
  uint64_t end = p->now + limit;
  while (got < n && p->now < end) {
    pair_run(p, 10 * MS);
    got += pair_read_all(p, b, y + got, n - got, NULL);
  }
  assert_int_equal(got, n);
  assert_memory_equal(x, y, n);
  free(y);
}

/* RFC 6928: ten segments leave before the first ACK can return. */
static void initial_window_is_ten_segments(void **state) {
  (void)state;
  pair_t p;
  tou_conn_t *a, *b;
  ctx_t *c = setup_cfg(&p, &a, &b, NULL);
  size_t n = 100 * MSS;
  uint8_t *x = pattern(n);
  uint64_t t0 = p.now;
  assert_int_equal(tou_conn_send(a, p.now, x, n), (int)n);
  pair_run(&p, 15 * MS); /* the first ACK is back at 20 ms */
  assert_int_equal(data_sent_between(c, 0, t0, p.now), 10);
  expect_delivery(&p, b, x, n, 5 * SEC);
  tou_conn_info_t i;
  tou_conn_get_info(a, &i);
  assert_int_equal(i.segs_retransmitted, 0);
  assert_true(i.cwnd > 10 * MSS); /* slow start grew it */
  free(x);
  teardown(&p);
}

/* RFC 6928 counts the initial window in segments: with a small MSS the
 * 12 bytes of the timestamp option are a large part of each segment, and
 * a window of 10 * SND.MSS bytes would let an eleventh segment out
 * (10 * 100 bytes hold 11 data segments of 88). cwnd counts in SMSS, the
 * payload of a full data segment. */
static void initial_window_small_mss(void **state) {
  (void)state;
  pair_t p;
  pair_init(&p, 10 * MS);
  ctx_t *c = calloc(1, sizeof *c);
  p.ctx = c;
  p.filter = filter;
  for (int k = 0; k < 2; k++) p.cfg[k].mss = 100;
  pair_start(&p);
  tou_conn_t *a, *b;
  pair_connect(&p, &a, &b);
  assert_non_null(b);
  c->log.n = 0;
  size_t n = 50 * 88;
  uint8_t *x = pattern(n);
  uint64_t t0 = p.now;
  assert_int_equal(tou_conn_send(a, p.now, x, n), (int)n);
  pair_run(&p, 15 * MS); /* the first ACK is back at 20 ms */
  assert_int_equal(data_sent_between(c, 0, t0, p.now), 10);
  tou_conn_info_t i;
  tou_conn_get_info(a, &i);
  assert_int_equal(i.snd_mss, 100);
  assert_int_equal(i.cwnd, 10 * 88);
  expect_delivery(&p, b, x, n, 5 * SEC);
  free(x);
  teardown(&p);
}

/* RFC 6298 5.4 / RFC 8985 6.3: after a blackout long enough for the RTO,
 * exactly one segment goes at the timeout; more follow only as ACKs return
 * (cwnd = 1 SMSS, slow start). Never the whole window in a burst. */
static void rto_resends_one_segment_then_slow_start(void **state) {
  (void)state;
  pair_t p;
  tou_conn_t *a, *b;
  ctx_t *c = setup_cfg(&p, &a, &b, NULL);
  size_t n = 30 * MSS;
  uint8_t *x = pattern(n);
  c->blackhole[0] = true;
  assert_int_equal(tou_conn_send(a, p.now, x, n), (int)n);
  tou_conn_info_t i;
  /* The tail loss probe (2 * SRTT = 40 ms) is lost in the blackout too; it
   * re-arms the RTO (200 ms floor). */
  do {
    pair_run(&p, 1 * MS);
    tou_conn_get_info(a, &i);
  } while (i.tlp_probes == 0 && p.now < 10 * SEC);
  assert_int_equal(i.tlp_probes, 1);
  assert_int_equal(i.timeouts, 0);
  c->blackhole[0] = false;
  do {
    pair_run(&p, 1 * MS);
    tou_conn_get_info(a, &i);
  } while (i.timeouts == 0 && p.now < 10 * SEC);
  assert_int_equal(i.timeouts, 1);
  /* The loss window is one SMSS: the payload of one full data segment
   * (RFC 5681; SMSS excludes the timestamp option, RFC 6691). */
  assert_int_equal(i.cwnd, SEG);
  uint64_t t_rto = p.now;
  /* Exactly one data segment in the round trip after the timeout. */
  pair_run(&p, 18 * MS);
  assert_int_equal(data_sent_between(c, 0, t_rto - 1 * MS, p.now), 1);
  expect_delivery(&p, b, x, n, 5 * SEC);
  tou_conn_get_info(a, &i);
  assert_int_equal(i.timeouts, 1);
  free(x);
  teardown(&p);
}

/* RFC 8985 7: the last segment of a flight is lost; the probe retransmits
 * it instead of an RTO, so cwnd is not collapsed to one segment. */
static void tail_loss_probe_avoids_rto(void **state) {
  (void)state;
  pair_t p;
  tou_conn_t *a, *b;
  ctx_t *c = setup_cfg(&p, &a, &b, NULL);
  c->drop_data_nth[0][0] = 5;
  size_t n = 5 * SEG;
  uint8_t *x = pattern(n);
  assert_int_equal(tou_conn_send(a, p.now, x, n), (int)n);
  /* Once 1-4 are ACKed one segment is in flight: PTO = 2 * SRTT + 200 ms
   * (the peer's worst-case delayed ACK), capped at the RTO time. */
  expect_delivery(&p, b, x, n, 300 * MS);
  tou_conn_info_t i;
  tou_conn_get_info(a, &i);
  assert_int_equal(i.timeouts, 0);
  assert_int_equal(i.tlp_probes, 1);
  assert_int_equal(i.segs_retransmitted, 1);
  assert_true(i.cwnd >= 10 * MSS);
  free(x);
  teardown(&p);
}

/* RFC 2018 4: the first SACK block holds the most recently received
 * segment. Segments 2 and 4 of 6 are lost: after 6 arrives, B's SACK lists
 * [5, 6] before [3]. */
static void sack_first_block_is_most_recent(void **state) {
  (void)state;
  pair_t p;
  tou_conn_t *a, *b;
  ctx_t *c = setup_cfg(&p, &a, &b, NULL);
  c->drop_data_nth[0][0] = 2;
  c->drop_data_nth[0][1] = 4;
  size_t n = 6 * SEG;
  uint8_t *x = pattern(n);
  assert_int_equal(tou_conn_send(a, p.now, x, n), (int)n);
  pair_run(&p, 12 * MS); /* all six arrived at 10 ms, before any retransmission */
  tou_seq_t base = c->copy.seq; /* segment 1 */
  assert_int_equal(c->last_sack.sack_count, 2);
  assert_int_equal(c->last_sack.sack[0].left, base + 4 * SEG);
  assert_int_equal(c->last_sack.sack[0].right, base + 6 * SEG);
  assert_int_equal(c->last_sack.sack[1].left, base + 2 * SEG);
  assert_int_equal(c->last_sack.sack[1].right, base + 3 * SEG);
  expect_delivery(&p, b, x, n, 1 * SEC);
  tou_conn_info_t i;
  tou_conn_get_info(a, &i);
  assert_int_equal(i.segs_retransmitted, 2);
  assert_int_equal(i.timeouts, 0);
  free(x);
  teardown(&p);
}

/* RFC 2883: data received twice is reported in a DSACK block. */
static void duplicate_data_draws_dsack(void **state) {
  (void)state;
  pair_t p;
  tou_conn_t *a, *b;
  ctx_t *c = setup_cfg(&p, &a, &b, NULL);
  size_t n = 3 * SEG;
  uint8_t *x = pattern(n);
  assert_int_equal(tou_conn_send(a, p.now, x, n), (int)n);
  expect_delivery(&p, b, x, n, 1 * SEC);
  assert_false(c->dsack_seen);
  assert_true(c->have_copy);
  pair_inject(&p, 1, &p.addr[0], &c->copy); /* an old duplicate of segment 1 */
  pair_run(&p, 1 * MS);
  assert_true(c->dsack_seen);
  assert_int_equal(c->last_sack.sack[0].left, c->copy.seq);
  assert_int_equal(c->last_sack.sack[0].right, c->copy.seq + (tou_seq_t)c->copy.payload_len);
  pair_run(&p, 50 * MS);
  tou_conn_info_t i;
  tou_conn_get_info(a, &i);
  assert_int_equal(i.dsacks_received, 1);
  free(x);
  teardown(&p);
}

static void algorithm_selection(void **state) {
  (void)state;
  pair_t p;
  tou_conn_t *a, *b;
  ctx_t *c = setup_cfg(&p, &a, &b, "newreno");
  (void)c;
  tou_conn_info_t i;
  tou_conn_get_info(a, &i);
  assert_string_equal(i.cc_algorithm, "newreno");
  teardown(&p);
  c = setup_cfg(&p, &a, &b, NULL);
  tou_conn_get_info(a, &i);
  assert_string_equal(i.cc_algorithm, "cubic");
  teardown(&p);
  /* An unknown name is a configuration error. */
  tou_config_t cfg;
  tou_config_default(&cfg);
  cfg.cc_algorithm = "vegas";
  assert_null(tou_ep_new(&cfg, 0));
}

/* The figures after a clean 2 MiB transfer. */
static void info_after_transfer(void **state) {
  (void)state;
  pair_t p;
  tou_conn_t *a, *b;
  setup_cfg(&p, &a, &b, NULL);
  size_t n = 2u << 20;
  uint8_t *x = pattern(n);
  size_t queued = 0;
  uint8_t *y = malloc(n);
  size_t got = 0;
  while (got < n && p.now < 60 * SEC) {
    if (queued < n) {
      int k = tou_conn_send(a, p.now, x + queued, n - queued);
      if (k > 0) queued += (size_t)k;
    }
    pair_run(&p, 5 * MS);
    got += pair_read_all(&p, b, y + got, n - got, NULL);
  }
  assert_int_equal(got, n);
  assert_memory_equal(x, y, n);
  pair_run(&p, 100 * MS);
  tou_conn_info_t i;
  tou_conn_get_info(a, &i);
  assert_int_equal(i.bytes_acked, n);
  assert_int_equal(i.bytes_in_flight, 0);
  assert_int_equal(i.segs_retransmitted, 0);
  assert_int_equal(i.segs_lost, 0);
  assert_in_range(i.srtt_us, 20 * MS, 25 * MS);
  assert_in_range(i.min_rtt_us, 20 * MS, 21 * MS);
  assert_true(i.delivery_rate > 0);
  assert_true(i.cwnd > 10 * MSS);
  free(x);
  free(y);
  teardown(&p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(initial_window_is_ten_segments),
      cmocka_unit_test(initial_window_small_mss),
      cmocka_unit_test(rto_resends_one_segment_then_slow_start),
      cmocka_unit_test(tail_loss_probe_avoids_rto),
      cmocka_unit_test(sack_first_block_is_most_recent),
      cmocka_unit_test(duplicate_data_draws_dsack),
      cmocka_unit_test(algorithm_selection),
      cmocka_unit_test(info_after_transfer),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

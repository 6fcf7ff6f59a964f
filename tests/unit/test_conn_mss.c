/* RFC 9293 3.7.1 / RFC 6691: the MSS counts payload only and the sender
 * reduces each segment's data by the options it carries, so no datagram
 * exceeds the fixed header plus the MSS (docs/PROTOCOL.md). A bulk transfer
 * in both directions with loss makes every kind of data segment appear:
 * new data with timestamps, data with SACK blocks (each side has holes in
 * what it receives), retransmissions of segments first sent with fewer
 * option bytes, tail loss probes and FINs. */
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

typedef struct ctx {
  unsigned data_seen[2];
  size_t max_dgram[2];     /* largest datagram each side sent */
  size_t max_payload[2];   /* largest payload each side sent */
  unsigned sack_data[2];   /* data segments carrying SACK blocks */
  unsigned full_ts_only[2]; /* data segments of exactly MSS - 12 bytes */
  uint32_t mss;
  unsigned drop_only[2][3]; /* when set: drop only these data segments (1-based) */
} ctx_t;

static bool filter(pair_t *p, int from, const tou_segment_t *s) {
  ctx_t *c = p->ctx;
  size_t len = tou_wire_encoded_size(s);
  if (len > c->max_dgram[from]) c->max_dgram[from] = len;
  if (s->payload_len == 0) return false;
  if (s->payload_len > c->max_payload[from]) c->max_payload[from] = s->payload_len;
  if (s->opts.present & TOU_OPT_SACK) c->sack_data[from]++;
  if (s->payload_len == c->mss - 12) c->full_ts_only[from]++;
  unsigned n = ++c->data_seen[from];
  if (c->drop_only[0][0] || c->drop_only[1][0])
    return n == c->drop_only[from][0] || n == c->drop_only[from][1] || n == c->drop_only[from][2];
  /* Every 7th of the first 400 data segments in each direction is lost. */
  return n <= 400 && n % 7 == 3;
}

static uint8_t *pattern(size_t n, unsigned salt) {
  uint8_t *x = malloc(n);
  for (size_t i = 0; i < n; i++) x[i] = (uint8_t)(i * 13 + (i >> 9) + salt);
  return x;
}

/* Sends n bytes each way at once, runs until both sides have read them and
 * the peer's FIN, and checks the bytes. */
static void bulk_both_ways(pair_t *p, tou_conn_t *a, tou_conn_t *b, size_t n) {
  uint8_t *x[2] = {pattern(n, 1), pattern(n, 2)};
  uint8_t *y[2] = {malloc(n), malloc(n)};
  tou_conn_t *end[2] = {a, b};
  size_t sent[2] = {0, 0}, got[2] = {0, 0};
  uint64_t limit = p->now + 60 * SEC;
  bool closed[2] = {false, false};
  while ((got[0] < n || got[1] < n) && p->now < limit) {
    for (int i = 0; i < 2; i++) {
      if (sent[i] < n) {
        int k = tou_conn_send(end[i], p->now, x[i] + sent[i], n - sent[i]);
        if (k > 0) sent[i] += (size_t)k;
      }
      if (sent[i] == n && !closed[i]) closed[i] = tou_conn_shutdown(end[i], p->now) == TOU_OK;
      got[i] += pair_read_all(p, end[1 - i], y[i] + got[i], n - got[i], NULL);
    }
    pair_run(p, 5 * MS);
  }
  for (int i = 0; i < 2; i++) {
    assert_int_equal(got[i], n);
    assert_memory_equal(x[i], y[i], n);
    free(x[i]), free(y[i]);
  }
}

static void run(uint32_t mss) {
  pair_t p;
  tou_conn_t *a, *b;
  pair_init(&p, 10 * MS);
  ctx_t *c = calloc(1, sizeof *c);
  c->mss = mss;
  p.ctx = c;
  p.filter = filter;
  for (int i = 0; i < 2; i++) {
    p.cfg[i].mss = mss;
    p.cfg[i].send_buffer = 256u << 10;
    p.cfg[i].recv_buffer = 256u << 10;
  }
  pair_start(&p);
  pair_connect(&p, &a, &b);
  assert_non_null(b);
  bulk_both_ways(&p, a, b, 400 * (size_t)mss);
  tou_conn_info_t ia, ib;
  tou_conn_get_info(a, &ia);
  tou_conn_get_info(b, &ib);
  assert_int_equal(ia.snd_mss, mss);
  for (int i = 0; i < 2; i++) {
    assert_true(c->max_dgram[i] <= TOU_WIRE_HEADER_LEN + mss);
    assert_true(c->max_payload[i] <= mss - 12); /* timestamps on every segment */
    /* The case the fix is about happened: SACK blocks rode on data, and
     * most segments were still full-sized (MSS less the timestamps). */
    assert_true(c->sack_data[i] > 0);
    assert_true(c->full_ts_only[i] > 100);
  }
  assert_true(ia.segs_retransmitted > 0 && ib.segs_retransmitted > 0);
  free(c);
  pair_free(&p);
}

static void datagrams_fit_default_v4_mss(void **state) {
  (void)state;
  run(TOU_MSS_DEFAULT_V4);
}

static void datagrams_fit_small_mss(void **state) {
  (void)state;
  run(536);
}

/* The budget helper itself: SND.MSS less the padded options area. */
static void payload_budget_subtracts_encoded_options(void **state) {
  (void)state;
  pair_t p;
  tou_conn_t *a, *b;
  pair_init(&p, 10 * MS);
  pair_start(&p);
  pair_connect(&p, &a, &b);
  assert_non_null(b);
  tou_options_t o;
  memset(&o, 0, sizeof o);
  assert_int_equal(conn_payload_budget(a, &o), TOU_MSS_DEFAULT_V4);
  o.present = TOU_OPT_TIMESTAMP;
  assert_int_equal(conn_payload_budget(a, &o), TOU_MSS_DEFAULT_V4 - 12);
  o.present |= TOU_OPT_SACK;
  o.sack_count = 4; /* 10 + 2 + 32 = 44 */
  assert_int_equal(conn_payload_budget(a, &o), TOU_MSS_DEFAULT_V4 - 44);
  /* Nothing out of order: the next data segment carries timestamps only. */
  assert_int_equal(conn_data_payload_budget(a), TOU_MSS_DEFAULT_V4 - 12);
  pair_free(&p);
}

/* RFC 8985 7.3: the tail loss probe resends the last segment. Here that
 * segment left full-sized with timestamps only, and by the time of the
 * probe A holds out-of-order data from B, so the probe carries a SACK block
 * too: it is split to fit, and it still counts as the probe. */
static void tail_loss_probe_split_to_fit_sack(void **state) {
  (void)state;
  pair_t p;
  tou_conn_t *a, *b;
  pair_init(&p, 10 * MS);
  ctx_t *c = calloc(1, sizeof *c);
  c->mss = TOU_MSS_DEFAULT_V4;
  c->drop_only[0][0] = 3; /* A's last segment */
  /* B's first segment and its next two retransmissions: A holds a hole,
   * and SACKs it, until after its probe. */
  c->drop_only[1][0] = 1, c->drop_only[1][1] = 4, c->drop_only[1][2] = 5;
  p.ctx = c;
  p.filter = filter;
  pair_start(&p);
  pair_connect(&p, &a, &b);
  assert_non_null(b);
  size_t n = 3 * conn_data_payload_budget(a);
  uint8_t *x = pattern(n, 3), *y = malloc(n);
  assert_int_equal(tou_conn_send(a, p.now, x, n), (int)n);
  assert_int_equal(tou_conn_send(b, p.now, x, n), (int)n);
  size_t got = 0;
  while (got < n && p.now < 5 * SEC) {
    pair_run(&p, 5 * MS);
    got += pair_read_all(&p, b, y + got, n - got, NULL);
  }
  assert_int_equal(got, n);
  assert_memory_equal(x, y, n);
  tou_conn_info_t i;
  tou_conn_get_info(a, &i);
  assert_int_equal(i.timeouts, 0);
  assert_int_equal(i.tlp_probes, 1);
  assert_true(c->max_dgram[0] <= TOU_WIRE_HEADER_LEN + TOU_MSS_DEFAULT_V4);
  assert_true(c->sack_data[0] > 0);
  free(x), free(y), free(c);
  pair_free(&p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(payload_budget_subtracts_encoded_options),
      cmocka_unit_test(datagrams_fit_default_v4_mss),
      cmocka_unit_test(datagrams_fit_small_mss),
      cmocka_unit_test(tail_loss_probe_split_to_fit_sack),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/* RST and SYN handling against an established connection (RFC 9293
 * 3.10.7, RFC 5961): exact-match resets, challenge ACKs and their rate
 * limit, blind injection, resets for segments to no connection. */
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
} ctx_t;

static bool filter(pair_t *p, int from, const tou_segment_t *s) {
  pair_log(&((ctx_t *)p->ctx)->log, p, from, s, false);
  return false;
}

static ctx_t *setup(pair_t *p, tou_conn_t **a, tou_conn_t **b, unsigned chack_limit) {
  pair_init(p, 10 * MS);
  ctx_t *c = calloc(1, sizeof *c);
  p->ctx = c;
  p->filter = filter;
  p->cfg[0].challenge_acks_per_sec = chack_limit;
  pair_start(p);
  pair_connect(p, a, b);
  /* Some data in flight both ways so the windows are not trivially empty. */
  tou_conn_send(*a, p->now, (const uint8_t *)"0123456789", 10);
  tou_conn_send(*b, p->now, (const uint8_t *)"abcdefghij", 10);
  pair_run(p, 100 * MS);
  c->log.n = 0;
  p->nev = 0;
  return c;
}

static void teardown(pair_t *p) {
  free(p->ctx);
  pair_free(p);
}

/* A segment "from B" to A's connection; seq relative to A's RCV.NXT. */
static tou_segment_t to_a(const tou_conn_t *a, uint8_t flags, int32_t seq_off) {
  tou_segment_t s = {.flags = flags, .dst_cid = a->local_cid, .src_cid = a->remote_cid,
                     .seq = a->rcv_nxt + (tou_seq_t)seq_off, .ack = a->snd_una, .window = 1000};
  return s;
}

static size_t sent_by(const ctx_t *c, int node, uint8_t flags) {
  return pair_log_count(&c->log, node, 0xff, flags);
}

static void exact_rst_resets(void **state) {
  (void)state;
  pair_t p;
  tou_conn_t *a, *b;
  ctx_t *c = setup(&p, &a, &b, 1000);
  tou_segment_t r = to_a(a, TOU_RST, 0);
  pair_inject(&p, 0, &p.addr[1], &r);
  pair_pump(&p);
  assert_int_equal(tou_conn_state(a), TOU_CLOSED);
  assert_int_equal(tou_conn_error(a), TOU_ERR_RESET);
  assert_true(pair_events(&p, 0, a) & TOU_EV_CLOSED);
  assert_int_equal(c->log.n, 0); /* never answer a RST */
  teardown(&p);
}

static void inexact_rst_in_window_gets_challenge_ack(void **state) {
  (void)state;
  pair_t p;
  tou_conn_t *a, *b;
  ctx_t *c = setup(&p, &a, &b, 1000);
  tou_seq_t rcv_nxt = a->rcv_nxt, snd_nxt = a->snd_nxt;
  tou_segment_t r = to_a(a, TOU_RST, 1);
  pair_inject(&p, 0, &p.addr[1], &r);
  pair_pump_out(&p, 0);
  assert_int_equal(tou_conn_state(a), TOU_ESTABLISHED);
  assert_int_equal(c->log.n, 1);
  assert_int_equal(c->log.e[0].flags, TOU_ACK);
  assert_int_equal(c->log.e[0].seq, snd_nxt);
  assert_int_equal(c->log.e[0].ack, rcv_nxt);
  tou_ep_stats_t s;
  tou_ep_get_stats(p.ep[0], &s);
  assert_int_equal(s.challenge_acks, 1);
  /* The real peer, B, ignores the challenge ACK (nothing new in it) and the
   * connection carries on. */
  pair_run(&p, 100 * MS);
  assert_int_equal(tou_conn_state(b), TOU_ESTABLISHED);
  teardown(&p);
}

static void rst_outside_window_is_dropped_silently(void **state) {
  (void)state;
  pair_t p;
  tou_conn_t *a, *b;
  ctx_t *c = setup(&p, &a, &b, 1000);
  tou_segment_t r = to_a(a, TOU_RST, -1);
  pair_inject(&p, 0, &p.addr[1], &r);
  r = to_a(a, TOU_RST, (int32_t)(256 * 1024 + 10));
  pair_inject(&p, 0, &p.addr[1], &r);
  pair_pump_out(&p, 0);
  assert_int_equal(tou_conn_state(a), TOU_ESTABLISHED);
  assert_int_equal(c->log.n, 0);
  teardown(&p);
}

static void syn_in_established_gets_challenge_ack(void **state) {
  (void)state;
  pair_t p;
  tou_conn_t *a, *b;
  ctx_t *c = setup(&p, &a, &b, 1000);
  /* Addressed by cid, at RCV.NXT, and (dst_cid 0) as an opening SYN from
   * the peer's address and id: both get a challenge ACK, neither resets. */
  tou_segment_t s = to_a(a, TOU_SYN, 0);
  pair_inject(&p, 0, &p.addr[1], &s);
  pair_pump_out(&p, 0);
  s.dst_cid = 0;
  s.seq += 12345;
  pair_inject(&p, 0, &p.addr[1], &s);
  pair_pump_out(&p, 0);
  assert_int_equal(tou_conn_state(a), TOU_ESTABLISHED);
  assert_int_equal(sent_by(c, 0, TOU_ACK), 2);
  assert_int_equal(c->log.e[0].ack, a->rcv_nxt);
  teardown(&p);
}

static void challenge_acks_are_rate_limited(void **state) {
  (void)state;
  pair_t p;
  tou_conn_t *a, *b;
  ctx_t *c = setup(&p, &a, &b, 5);
  for (int i = 0; i < 20; i++) {
    tou_segment_t r = to_a(a, (i & 1) ? TOU_RST : TOU_SYN, 100 + i);
    pair_inject(&p, 0, &p.addr[1], &r);
    pair_pump_out(&p, 0);
    p.now += 10 * MS;
  }
  assert_int_equal(sent_by(c, 0, TOU_ACK), 5);
  tou_ep_stats_t s;
  tou_ep_get_stats(p.ep[0], &s);
  assert_int_equal(s.challenge_acks, 5);
  assert_int_equal(s.challenge_acks_limited, 15);
  p.now += 1 * SEC; /* a new second, a new budget */
  tou_segment_t r = to_a(a, TOU_RST, 7);
  pair_inject(&p, 0, &p.addr[1], &r);
  pair_pump_out(&p, 0);
  assert_int_equal(sent_by(c, 0, TOU_ACK), 6);
  assert_int_equal(tou_conn_state(a), TOU_ESTABLISHED);
  teardown(&p);
}

/* Blind injection: RSTs and SYNs with random sequence numbers never reset
 * the connection unless one hits RCV.NXT exactly. */
static void blind_rst_and_syn_injection(void **state) {
  (void)state;
  pair_t p;
  tou_conn_t *a, *b;
  setup(&p, &a, &b, 1000);
  uint32_t x = 12345;
  int exact = 0;
  for (int i = 0; i < 20000; i++) {
    x = x * 1103515245u + 12345u;
    tou_segment_t s = to_a(a, (x >> 31) ? TOU_RST : TOU_SYN, 0);
    s.seq = x ^ (x >> 13);
    if (s.seq == a->rcv_nxt) {
      exact++;
      continue;
    }
    pair_inject(&p, 0, &p.addr[1], &s);
    if (i % 64 == 0) {
      pair_pump_out(&p, 0); /* drain replies */
      p.qlen = 0;
    }
    p.now += 100;
  }
  assert_int_equal(tou_conn_state(a), TOU_ESTABLISHED);
  assert_int_equal(exact, 0);
  teardown(&p);
}

static void ack_of_unsent_data_is_acked_and_dropped(void **state) {
  (void)state;
  pair_t p;
  tou_conn_t *a, *b;
  ctx_t *c = setup(&p, &a, &b, 1000);
  tou_segment_t s = to_a(a, TOU_ACK | TOU_PSH, 0);
  s.ack = a->snd_max + 1000;
  s.payload = (const uint8_t *)"zz";
  s.payload_len = 2;
  tou_seq_t rcv = a->rcv_nxt;
  pair_inject(&p, 0, &p.addr[1], &s);
  pair_pump_out(&p, 0);
  assert_int_equal(a->rcv_nxt, rcv); /* the data was not taken */
  assert_int_equal(sent_by(c, 0, TOU_ACK), 1);
  assert_int_equal(tou_conn_state(a), TOU_ESTABLISHED);
  teardown(&p);
}

static void segment_without_ack_is_dropped(void **state) {
  (void)state;
  pair_t p;
  tou_conn_t *a, *b;
  ctx_t *c = setup(&p, &a, &b, 1000);
  tou_segment_t s = to_a(a, TOU_PSH, 0);
  s.payload = (const uint8_t *)"zz";
  s.payload_len = 2;
  tou_seq_t rcv = a->rcv_nxt;
  pair_inject(&p, 0, &p.addr[1], &s);
  pair_pump_out(&p, 0);
  assert_int_equal(a->rcv_nxt, rcv);
  assert_int_equal(c->log.n, 0);
  teardown(&p);
}

static void segment_from_wrong_address_or_cid_is_not_the_connection(void **state) {
  (void)state;
  pair_t p;
  tou_conn_t *a, *b;
  ctx_t *c = setup(&p, &a, &b, 1000);
  tou_addr_t mallory = pair_addr("M");
  tou_segment_t r = to_a(a, TOU_RST, 0); /* exact, but from elsewhere */
  pair_inject(&p, 0, &mallory, &r);
  r.src_cid ^= 1; /* from the right address, wrong peer id */
  pair_inject(&p, 0, &p.addr[1], &r);
  pair_pump_out(&p, 0);
  assert_int_equal(tou_conn_state(a), TOU_ESTABLISHED);
  (void)c;
  teardown(&p);
}

/* RFC 9293 3.10.7.1: resets for segments that match no connection. */
static void reset_generation_for_unknown_connection(void **state) {
  (void)state;
  pair_t p;
  ctx_t *c = calloc(1, sizeof *c);
  pair_init(&p, 10 * MS);
  p.ctx = c;
  p.filter = filter;
  pair_start(&p);
  tou_segment_t s = {.flags = TOU_ACK | TOU_PSH, .dst_cid = 99, .src_cid = 7, .seq = 1000,
                     .ack = 5555, .payload = (const uint8_t *)"abc", .payload_len = 3};
  pair_inject(&p, 1, &p.addr[0], &s);
  s.flags = TOU_FIN | TOU_PSH; /* no ACK */
  pair_inject(&p, 1, &p.addr[0], &s);
  s.flags = TOU_RST | TOU_ACK; /* never answered */
  pair_inject(&p, 1, &p.addr[0], &s);
  tou_segment_t syn = {.flags = TOU_SYN, .src_cid = 7, .seq = 70};
  pair_inject(&p, 1, &p.addr[0], &syn); /* not listening */
  pair_pump_out(&p, 1);
  assert_int_equal(c->log.n, 3);
  assert_int_equal(c->log.e[0].flags, TOU_RST);
  assert_int_equal(c->log.e[0].seq, 5555);
  assert_int_equal(c->log.e[0].dst_cid, 7);
  assert_int_equal(c->log.e[0].src_cid, 99);
  assert_int_equal(c->log.e[1].flags, TOU_RST | TOU_ACK);
  assert_int_equal(c->log.e[1].seq, 0);
  assert_int_equal(c->log.e[1].ack, 1000 + 3 + 1);
  assert_int_equal(c->log.e[2].flags, TOU_RST | TOU_ACK);
  assert_int_equal(c->log.e[2].ack, 71);
  free(c);
  pair_free(&p);
}

static void rst_in_syn_rcvd_returns_to_listen(void **state) {
  (void)state;
  pair_t p;
  ctx_t *c = calloc(1, sizeof *c);
  pair_init(&p, 10 * MS);
  p.ctx = c;
  p.filter = filter;
  pair_start(&p);
  tou_ep_listen(p.ep[1], 4);
  tou_segment_t syn = {.flags = TOU_SYN, .src_cid = 7, .seq = 70, .window = 1000};
  pair_inject(&p, 1, &p.addr[0], &syn);
  pair_pump_out(&p, 1);
  assert_int_equal(c->log.n, 1);
  assert_int_equal(c->log.e[0].flags, TOU_SYN | TOU_ACK);
  assert_int_equal(c->log.e[0].ack, 71);
  /* An ACK that does not acknowledge the SYN-ACK draws <SEQ=SEG.ACK><RST>. */
  tou_segment_t bad = {.flags = TOU_ACK, .dst_cid = c->log.e[0].src_cid, .src_cid = 7,
                       .seq = 71, .ack = c->log.e[0].seq + 7};
  pair_inject(&p, 1, &p.addr[0], &bad);
  pair_pump_out(&p, 1);
  assert_int_equal(c->log.n, 2);
  assert_int_equal(c->log.e[1].flags, TOU_RST);
  assert_int_equal(c->log.e[1].seq, c->log.e[0].seq + 7);
  /* A RST at RCV.NXT: back to LISTEN, silently. */
  tou_segment_t rst = {.flags = TOU_RST, .dst_cid = c->log.e[0].src_cid, .src_cid = 7, .seq = 71};
  pair_inject(&p, 1, &p.addr[0], &rst);
  tou_ep_stats_t s;
  tou_ep_get_stats(p.ep[1], &s);
  assert_int_equal(s.half_open, 0);
  assert_int_equal(s.connections, 0);
  assert_non_null(strstr(p.trace[1], "LISTEN>SYN_RCVD SYN_RCVD>LISTEN"));
  free(c);
  pair_free(&p);
}

/* Bare ACKs outside the window are answered at most once per 500 ms, so
 * two desynchronised ends cannot ping-pong ACKs at line rate. */
static void out_of_window_bare_acks_are_rate_limited(void **state) {
  (void)state;
  pair_t p;
  tou_conn_t *a, *b;
  ctx_t *c = setup(&p, &a, &b, 1000);
  for (int i = 0; i < 10; i++) {
    tou_segment_t s = to_a(a, TOU_ACK, 1 << 30); /* far outside the window */
    pair_inject(&p, 0, &p.addr[1], &s);
    pair_pump_out(&p, 0);
    p.qlen = 0;
    p.now += 10 * MS;
  }
  assert_int_equal(sent_by(c, 0, TOU_ACK), 1);
  p.now += 500 * MS;
  tou_segment_t s = to_a(a, TOU_ACK, 1 << 30);
  pair_inject(&p, 0, &p.addr[1], &s);
  pair_pump_out(&p, 0);
  assert_int_equal(sent_by(c, 0, TOU_ACK), 2);
  /* Old data is always answered (it has length). */
  tou_segment_t d = to_a(a, TOU_ACK | TOU_PSH, -2);
  d.payload = (const uint8_t *)"ab";
  d.payload_len = 2;
  pair_inject(&p, 0, &p.addr[1], &d);
  pair_pump_out(&p, 0);
  assert_int_equal(sent_by(c, 0, TOU_ACK), 3);
  teardown(&p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(exact_rst_resets),
      cmocka_unit_test(inexact_rst_in_window_gets_challenge_ack),
      cmocka_unit_test(rst_outside_window_is_dropped_silently),
      cmocka_unit_test(syn_in_established_gets_challenge_ack),
      cmocka_unit_test(challenge_acks_are_rate_limited),
      cmocka_unit_test(blind_rst_and_syn_injection),
      cmocka_unit_test(ack_of_unsent_data_is_acked_and_dropped),
      cmocka_unit_test(segment_without_ack_is_dropped),
      cmocka_unit_test(segment_from_wrong_address_or_cid_is_not_the_connection),
      cmocka_unit_test(reset_generation_for_unknown_connection),
      cmocka_unit_test(rst_in_syn_rcvd_returns_to_listen),
      cmocka_unit_test(out_of_window_bare_acks_are_rate_limited),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Endpoint: configuration, trace hook output, malformed input, version
 * reject, the bounded reply queue, small output buffers, names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "pair.h"

#define MS 1000ull

typedef struct tlog {
  unsigned kinds[4];
  unsigned sent_by_conn, sent_by_ep, recv_matched, recv_unmatched;
  int last_drop_error;
  char states[2048];
} tlog_t;

static void tracer(void *ctx, const tou_trace_event_t *ev) {
  tlog_t *t = ctx;
  t->kinds[ev->kind]++;
  switch (ev->kind) {
    case TOU_TRACE_STATE: {
      size_t u = strlen(t->states);
      snprintf(t->states + u, sizeof t->states - u, "%s>%s ", tou_state_name(ev->old_state),
               tou_state_name(ev->new_state));
      assert_non_null(ev->peer);
      break;
    }
    case TOU_TRACE_SEG_SENT:
      assert_non_null(ev->seg);
      if (ev->conn) t->sent_by_conn++; else t->sent_by_ep++;
      break;
    case TOU_TRACE_SEG_RECV:
      assert_non_null(ev->seg);
      if (ev->conn) t->recv_matched++; else t->recv_unmatched++;
      break;
    case TOU_TRACE_SEG_DROP:
      t->last_drop_error = ev->error;
      break;
  }
}

static void trace_reports_states_and_segments(void **state) {
  (void)state;
  pair_t p;
  pair_init(&p, 5 * MS);
  tlog_t ta = {0}, tb = {0};
  p.cfg[0].trace = tracer, p.cfg[0].trace_ctx = &ta;
  p.cfg[1].trace = tracer, p.cfg[1].trace_ctx = &tb;
  pair_start(&p);
  tou_conn_t *a, *b;
  pair_connect(&p, &a, &b);
  tou_conn_send(a, p.now, (const uint8_t *)"data", 4);
  pair_run(&p, 50 * MS);
  assert_string_equal(ta.states, "CLOSED>SYN_SENT SYN_SENT>ESTABLISHED ");
  assert_string_equal(tb.states, "LISTEN>SYN_RCVD SYN_RCVD>ESTABLISHED ");
  /* A: SYN, ACK, data. B: SYN-ACK, ACK of data. */
  assert_int_equal(ta.sent_by_conn, 3);
  assert_int_equal(tb.sent_by_conn, 2);
  assert_int_equal(ta.recv_matched, 2);
  assert_int_equal(tb.recv_matched, 2);
  assert_int_equal(tb.recv_unmatched, 1); /* the SYN, handed to the listener */
  assert_int_equal(ta.kinds[TOU_TRACE_SEG_DROP], 0);
  /* A segment to no connection: traced as received unmatched; the RST as
   * sent by the endpoint. */
  tou_segment_t s = {.flags = TOU_ACK, .dst_cid = 4242, .src_cid = 1, .ack = 9};
  pair_inject(&p, 0, &p.addr[1], &s);
  pair_pump(&p);
  assert_int_equal(ta.recv_unmatched, 1);
  assert_int_equal(ta.sent_by_ep, 1);
  pair_free(&p);
}

static void malformed_input_is_dropped_and_traced(void **state) {
  (void)state;
  tlog_t t = {0};
  tou_config_t cfg;
  tou_config_default(&cfg);
  cfg.trace = tracer;
  cfg.trace_ctx = &t;
  tou_ep_t *ep = tou_ep_new(&cfg, 0);
  tou_addr_t from = pair_addr("x");
  uint8_t junk[40] = {1, 7};
  tou_ep_input(ep, 0, &from, junk, 5);
  assert_int_equal(t.last_drop_error, TOU_ERR_TRUNCATED);
  tou_segment_t s = {.flags = TOU_SYN, .src_cid = 3};
  uint8_t buf[128];
  int n = tou_wire_encode(&s, buf, sizeof buf);
  buf[n - 1] ^= 1; /* corrupt */
  tou_ep_input(ep, 0, &from, buf, (size_t)n);
  assert_int_equal(t.last_drop_error, TOU_ERR_BAD_CHECKSUM);
  tou_ep_stats_t st;
  tou_ep_get_stats(ep, &st);
  assert_int_equal(st.dropped, 2);
  assert_int_equal(st.datagrams_in, 2);
  tou_addr_t to;
  assert_int_equal(tou_ep_output(ep, 0, &to, buf, sizeof buf), 0); /* no reply */
  tou_ep_free(ep);
}

static void unknown_version_gets_version_reject(void **state) {
  (void)state;
  tou_config_t cfg;
  tou_config_default(&cfg);
  tou_ep_t *ep = tou_ep_new(&cfg, 0);
  tou_segment_t s = {.flags = TOU_SYN, .src_cid = 3, .seq = 1};
  uint8_t buf[128];
  int n = tou_wire_encode(&s, buf, sizeof buf);
  buf[0] = 77; /* a version we do not speak */
  tou_addr_t from = pair_addr("x"), to;
  tou_ep_input(ep, 0, &from, buf, (size_t)n);
  uint8_t out[128];
  int m = tou_ep_output(ep, 0, &to, out, sizeof out);
  assert_true(m > 0 && m <= n);
  assert_true(tou_addr_equal(&to, &from));
  uint8_t expect[128];
  assert_int_equal(tou_wire_encode_version_reject(buf, (size_t)n, expect, sizeof expect), m);
  assert_memory_equal(out, expect, (size_t)m);
  tou_ep_free(ep);
}

/* A version reject for our SYN (PROTOCOL.md 6), listing version 2 only. */
static size_t make_reject(uint8_t *buf, uint32_t dst_cid, uint32_t src_cid) {
  memset(buf, 0, TOU_WIRE_VREJECT_HEADER_LEN + 1);
  buf[1] = 1;
  for (int i = 0; i < 4; i++) {
    buf[4 + i] = (uint8_t)(dst_cid >> (24 - 8 * i));
    buf[8 + i] = (uint8_t)(src_cid >> (24 - 8 * i));
  }
  buf[TOU_WIRE_VREJECT_HEADER_LEN] = 2;
  size_t n = TOU_WIRE_VREJECT_HEADER_LEN + 1;
  uint32_t crc = tou_crc32c(0, buf, n);
  for (int i = 0; i < 4; i++) buf[12 + i] = (uint8_t)(crc >> (24 - 8 * i));
  return n;
}

/* A version reject ends a connect only when it names our opening SYN and
 * comes from the address the SYN went to; the others are dropped
 * (traced as TOU_ERR_BAD_VERSION, or the reject decoder's error), and
 * never answered. */
static void version_reject_ends_matching_connect_only(void **state) {
  (void)state;
  tlog_t t = {0};
  tou_config_t cfg;
  tou_config_default(&cfg);
  cfg.trace = tracer;
  cfg.trace_ctx = &t;
  tou_ep_t *ep = tou_ep_new(&cfg, 0);
  tou_addr_t server = pair_addr("server"), other = pair_addr("other"), to;
  int err = 0;
  tou_conn_t *c = tou_ep_connect(ep, 0, &server, &err);
  assert_non_null(c);
  uint8_t out[256];
  int n = tou_ep_output(ep, 0, &to, out, sizeof out);
  assert_true(n > 0);
  tou_segment_t syn;
  assert_int_equal(tou_wire_decode(out, (size_t)n, &syn), TOU_OK);
  uint8_t rej[64];
  size_t len = make_reject(rej, syn.src_cid, 0);

  tou_ep_input(ep, 1000, &other, rej, len); /* not the SYN's destination */
  assert_int_equal(tou_conn_state(c), TOU_SYN_SENT);
  assert_int_equal(t.last_drop_error, TOU_ERR_BAD_VERSION);
  rej[len - 1] ^= 1; /* corrupted */
  t.last_drop_error = 0;
  tou_ep_input(ep, 1000, &server, rej, len);
  assert_int_equal(tou_conn_state(c), TOU_SYN_SENT);
  assert_int_equal(t.last_drop_error, TOU_ERR_BAD_CHECKSUM);
  len = make_reject(rej, syn.src_cid ^ 1, 0); /* another cid */
  tou_ep_input(ep, 1000, &server, rej, len);
  assert_int_equal(tou_conn_state(c), TOU_SYN_SENT);
  assert_int_equal(tou_ep_output(ep, 1000, &to, out, sizeof out), 0); /* no answers */

  len = make_reject(rej, syn.src_cid, 0);
  tou_ep_input(ep, 2000, &server, rej, len);
  assert_int_equal(tou_conn_state(c), TOU_CLOSED);
  assert_int_equal(tou_conn_error(c), TOU_ERR_VERSION);
  assert_string_equal(tou_error_name(TOU_ERR_VERSION), "TOU_ERR_VERSION");
  assert_int_equal(tou_ep_output(ep, 2000, &to, out, sizeof out), 0);
  tou_ep_stats_t st;
  tou_ep_get_stats(ep, &st);
  assert_int_equal(st.dropped, 3);
  tou_conn_close(c, 2000);
  tou_ep_free(ep);
}

static void reply_queue_is_bounded(void **state) {
  (void)state;
  tou_config_t cfg;
  tou_config_default(&cfg);
  tou_ep_t *ep = tou_ep_new(&cfg, 0);
  tou_addr_t from = pair_addr("x"), to;
  for (int i = 0; i < 1000; i++) {
    tou_segment_t s = {.flags = TOU_ACK, .dst_cid = 5, .src_cid = 6, .ack = (tou_seq_t)i};
    uint8_t buf[128];
    int n = tou_wire_encode(&s, buf, sizeof buf);
    tou_ep_input(ep, 0, &from, buf, (size_t)n);
  }
  uint8_t out[256];
  int count = 0;
  while (tou_ep_output(ep, 0, &to, out, sizeof out) > 0) count++;
  assert_int_equal(count, 64);
  tou_ep_stats_t st;
  tou_ep_get_stats(ep, &st);
  assert_int_equal(st.replies_dropped, 1000 - 64);
  assert_int_equal(st.resets_sent, 64);
  tou_ep_free(ep);
}

static void small_output_buffer_is_refused_not_lost(void **state) {
  (void)state;
  pair_t p;
  pair_init(&p, 5 * MS);
  pair_start(&p);
  int err;
  tou_ep_connect(p.ep[0], p.now, &p.addr[1], &err);
  tou_addr_t to;
  uint8_t small[20], big[1600];
  assert_int_equal(tou_ep_output(p.ep[0], p.now, &to, small, sizeof small), TOU_ERR_NOBUFS);
  int n = tou_ep_output(p.ep[0], p.now, &to, big, sizeof big);
  assert_true(n > 0);
  tou_segment_t s;
  assert_int_equal(tou_wire_decode(big, (size_t)n, &s), TOU_OK);
  assert_int_equal(s.flags, TOU_SYN);
  pair_free(&p);
}

static void invalid_config_is_refused(void **state) {
  (void)state;
  tou_config_t cfg;
  tou_config_default(&cfg);
  assert_null(tou_ep_new(NULL, 0));
  cfg.mss = 10;
  assert_null(tou_ep_new(&cfg, 0));
  tou_config_default(&cfg);
  cfg.recv_buffer = 2u << 30;
  assert_null(tou_ep_new(&cfg, 0));
  tou_config_default(&cfg);
  cfg.max_rto_us = cfg.min_rto_us - 1;
  assert_null(tou_ep_new(&cfg, 0));
  tou_config_default(&cfg);
  cfg.max_connections = 0;
  assert_null(tou_ep_new(&cfg, 0));
  tou_config_default(&cfg);
  cfg.user_timeout_accept = true; /* RFC 5482 L_LIMIT above U_LIMIT */
  cfg.user_timeout_min_us = cfg.user_timeout_max_us + 1;
  assert_null(tou_ep_new(&cfg, 0));
}

static void defaults_match_documentation(void **state) {
  (void)state;
  tou_config_t cfg;
  tou_config_default(&cfg);
  assert_int_equal(cfg.mss, TOU_MSS_DEFAULT_V4);
  assert_int_equal(cfg.initial_rto_us, 1000000);
  assert_int_equal(cfg.min_rto_us, 200000);
  assert_int_equal(cfg.max_rto_us, 60000000);
  assert_int_equal(cfg.syn_retries, 6);
  assert_int_equal(cfg.synack_retries, 5);
  assert_int_equal(cfg.data_retries, 15);
  assert_int_equal(cfg.msl_us, 30000000);
  assert_int_equal(cfg.challenge_acks_per_sec, 1000);
  assert_int_equal(cfg.syn_backlog, 256);
  /* PROTOCOL.md 5.7: the UTO option is adopted only when enabled; limits
   * 100 s (RFC 1122 R2) and 3600 s. */
  assert_int_equal(cfg.user_timeout_us, 0);
  assert_false(cfg.user_timeout_accept);
  assert_int_equal(cfg.user_timeout_min_us, 100000000ull);
  assert_int_equal(cfg.user_timeout_max_us, 3600000000ull);
}

static void state_names(void **state) {
  (void)state;
  const char *want[] = {"CLOSED", "LISTEN", "SYN_SENT", "SYN_RCVD", "ESTABLISHED", "FIN_WAIT_1",
                        "FIN_WAIT_2", "CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT"};
  for (int s = TOU_CLOSED; s <= TOU_TIME_WAIT; s++)
    assert_string_equal(tou_state_name((tou_state_t)s), want[s]);
  assert_string_equal(tou_state_name((tou_state_t)99), "UNKNOWN");
}

/* A connected pair whose A sends each write at once (no Nagle), settled. */
static void open_nodelay_pair(pair_t *p, tou_conn_t **a, tou_conn_t **b) {
  pair_init(p, 5 * MS);
  p->cfg[0].nodelay = true;
  pair_start(p);
  pair_connect(p, a, b);
  pair_run(p, 50 * MS);
}

static void events_are_coalesced_per_connection(void **state) {
  (void)state;
  pair_t p;
  tou_conn_t *a, *b;
  open_nodelay_pair(&p, &a, &b);
  /* Three segments reach B; the application looks only afterwards. */
  tou_addr_t to;
  uint8_t buf[3][1600];
  int len[3], segs = 0;
  for (int i = 0; i < 3; i++) {
    tou_conn_send(a, p.now, (const uint8_t *)"x", 1);
    len[i] = tou_ep_output(p.ep[0], p.now, &to, buf[i], sizeof buf[i]);
    if (len[i] > 0) segs++;
  }
  for (int i = 0; i < 3; i++) tou_ep_input(p.ep[1], p.now, &p.addr[0], buf[i], (size_t)len[i]);
  assert_int_equal(segs, 3);
  tou_conn_t *c;
  unsigned e;
  assert_true(tou_ep_next_event(p.ep[1], &c, &e));
  assert_ptr_equal(c, b);
  assert_true(e & TOU_EV_READABLE);
  assert_false(tou_ep_next_event(p.ep[1], &c, &e)); /* one entry for all three */
  assert_int_equal(tou_conn_recv(b, p.now, buf[0], sizeof buf[0]), 3);
  pair_free(&p);
}

/* The demultiplexing hint names the connection tou_ep_input() would feed,
 * and nothing for another source, a cid the endpoint does not hold or a
 * truncated header. */
static void conn_for_names_the_receiving_connection(void **state) {
  (void)state;
  pair_t p;
  tou_conn_t *a, *b;
  open_nodelay_pair(&p, &a, &b);
  tou_addr_t to;
  uint8_t buf[1600];
  tou_conn_send(a, p.now, (const uint8_t *)"x", 1);
  int len = tou_ep_output(p.ep[0], p.now, &to, buf, sizeof buf);
  assert_true(len > 0);
  assert_ptr_equal(tou_ep_conn_for(p.ep[1], &p.addr[0], buf, (size_t)len), b);
  assert_null(tou_ep_conn_for(p.ep[1], &p.addr[1], buf, (size_t)len)); /* wrong source */
  assert_null(tou_ep_conn_for(p.ep[0], &p.addr[0], buf, (size_t)len)); /* not its cid */
  assert_null(tou_ep_conn_for(p.ep[1], &p.addr[0], buf, 10));
  pair_free(&p);
}

/* Five hundred connections at once: tables, timer heap and TIME_WAIT
 * records at scale; everything returns to empty. */
static void many_connections(void **state) {
  (void)state;
  enum { N = 500 };
  pair_t p;
  pair_init(&p, 5 * MS);
  p.cfg[0].max_time_wait = 200;
  p.cfg[1].syn_backlog = N;
  pair_start(&p);
  tou_ep_listen(p.ep[1], N);
  static tou_conn_t *a[N], *b[N];
  for (int i = 0; i < N; i++) {
    int err;
    a[i] = tou_ep_connect(p.ep[0], p.now, &p.addr[1], &err);
    assert_non_null(a[i]);
  }
  pair_run(&p, 100 * MS);
  for (int i = 0; i < N; i++) {
    b[i] = tou_ep_accept(p.ep[1]);
    assert_non_null(b[i]);
    assert_int_equal(tou_conn_state(a[i]), TOU_ESTABLISHED);
  }
  assert_null(tou_ep_accept(p.ep[1]));
  for (int i = 0; i < N; i++) {
    uint8_t msg[4] = {(uint8_t)i, (uint8_t)(i >> 8), 1, 2};
    assert_int_equal(tou_conn_send(a[i], p.now, msg, 4), 4);
  }
  pair_run(&p, 100 * MS);
  /* Each server connection got its own client's bytes (cids kept apart). */
  for (int i = 0; i < N; i++) {
    uint8_t got[8];
    assert_int_equal(tou_conn_recv(b[i], p.now, got, sizeof got), 4);
    uint32_t from = 0;
    for (int k = 0; k < N; k++)
      if (tou_conn_remote_cid(b[i]) == tou_conn_local_cid(a[k])) from = (uint32_t)k;
    assert_int_equal(got[0] | got[1] << 8, from);
  }
  for (int i = 0; i < N; i++) tou_conn_close(a[i], p.now);
  pair_run(&p, 100 * MS);
  for (int i = 0; i < N; i++) tou_conn_close(b[i], p.now);
  pair_run(&p, 100 * MS);
  tou_ep_stats_t s0, s1;
  tou_ep_get_stats(p.ep[0], &s0);
  tou_ep_get_stats(p.ep[1], &s1);
  assert_int_equal(s0.connections, 0);
  assert_int_equal(s1.connections, 0);
  assert_int_equal(s0.time_wait, 200); /* bounded: the oldest were evicted */
  pair_run(&p, 61 * 1000 * MS);
  tou_ep_get_stats(p.ep[0], &s0);
  assert_int_equal(s0.time_wait, 0);
  assert_int_equal(tou_ep_next_deadline(p.ep[0]), TOU_NEVER);
  assert_int_equal(tou_ep_next_deadline(p.ep[1]), TOU_NEVER);
  pair_free(&p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(trace_reports_states_and_segments),
      cmocka_unit_test(malformed_input_is_dropped_and_traced),
      cmocka_unit_test(unknown_version_gets_version_reject),
      cmocka_unit_test(version_reject_ends_matching_connect_only),
      cmocka_unit_test(reply_queue_is_bounded),
      cmocka_unit_test(small_output_buffer_is_refused_not_lost),
      cmocka_unit_test(invalid_config_is_refused),
      cmocka_unit_test(defaults_match_documentation),
      cmocka_unit_test(state_names),
      cmocka_unit_test(events_are_coalesced_per_connection),
      cmocka_unit_test(many_connections),
      cmocka_unit_test(conn_for_names_the_receiving_connection),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

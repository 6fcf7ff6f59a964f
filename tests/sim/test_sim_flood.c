/* SYN flood (issue 5): 100,000 SYNs from random spoofed source addresses
 * reach the listener B over 10 s while 20 real clients connect and
 * exchange data. Every real client gets through (its handshake completes
 * on a SYN cookie), B's memory — counted by a test allocator — stays under a
 * fixed bound and does not grow with the number of SYNs, the flood counters
 * and signal are right, no reply to a SYN is more than twice its size, and
 * B leaves cookie mode once the flood is over. Then: forged, tampered,
 * replayed and expired cookies are rejected.
 *
 * Spoofed SYNs are fed to B's endpoint directly and its answers drained
 * here (they go to addresses nobody listens on), so the 100,000 datagrams
 * cost no link bookkeeping; the real clients use ordinary simulated links. */
#include <stdlib.h>

#include "scenario.h"

#include "conn.h" /* sizeof(struct tou_conn), for the memory bound */

#define MS SIM_MS
#define SEC SIM_SEC

#define SPOOFED 100000
#define FLOOD_START (1 * SEC)
#define FLOOD_US (10 * SEC)
#define SPACING_US (FLOOD_US / SPOOFED)
#define CLIENTS 20
#define BUF 16384 /* B's send and receive buffers */

/* ---- a counting allocator ------------------------------------------- */

typedef struct counting {
  size_t now, peak;
  uint64_t allocs;
} counting_t;

static void *count_alloc(void *ctx, size_t size) {
  counting_t *c = ctx;
  size_t *p = malloc(size + sizeof(max_align_t));
  if (!p) return NULL;
  *p = size;
  c->now += size;
  c->allocs++;
  if (c->now > c->peak) c->peak = c->now;
  return (char *)p + sizeof(max_align_t);
}

static void count_free(void *ctx, void *ptr) {
  counting_t *c = ctx;
  size_t *p = (size_t *)(void *)((char *)ptr - sizeof(max_align_t));
  c->now -= *p;
  free(p);
}

/* ---- the flood ------------------------------------------------------ */

typedef struct flood {
  sim_world_t *w;
  sim_host_t *b;
  unsigned sent;
  size_t max_reply, syn_len_of_max; /* largest reply and the SYN it answered */
  bool reply_too_big;
  uint64_t replies;
  uint64_t syn_bytes, reply_bytes; /* to and from spoofed addresses, all replies */
  size_t peak_at_10k;
  counting_t *mem;
} flood_t;

static tou_addr_t spoofed_addr(sim_rng_t *rng) {
  tou_addr_t a;
  memset(&a, 0, sizeof a);
  a.len = 6;
  a.bytes[0] = 172; /* never a simulated host (10.0.0.x) */
  uint64_t r = sim_rng_next(rng);
  memcpy(a.bytes + 1, &r, 5);
  return a;
}

static bool is_real_node(const tou_addr_t *a) { return a->bytes[0] == 10; }

/* B's output after an injected SYN: replies to spoofed addresses are
 * measured and discarded, anything else goes on the simulated links. */
static void drain_b(flood_t *f, size_t syn_len) {
  sim_t *sim = f->w->sim;
  uint8_t buf[SIM_MAX_DATAGRAM];
  for (;;) {
    tou_addr_t to;
    int n = tou_ep_output(f->b->ep, sim_now(sim), &to, buf, sizeof buf);
    assert_true(n >= 0);
    if (n == 0) break;
    if (is_real_node(&to)) {
      sim_send(sim, &f->b->node.addr, &to, buf, (size_t)n);
      continue;
    }
    f->replies++;
    f->reply_bytes += (uint64_t)n;
    if ((size_t)n > f->max_reply) {
      f->max_reply = (size_t)n;
      f->syn_len_of_max = syn_len;
    }
    if ((size_t)n > 2 * syn_len) f->reply_too_big = true;
  }
  sim_host_kick(f->b);
}

static void flood_step(sim_t *sim, void *arg) {
  flood_t *f = arg;
  sim_rng_t *rng = sim_rng(sim);
  tou_segment_t syn;
  memset(&syn, 0, sizeof syn);
  syn.flags = TOU_SYN;
  syn.src_cid = sim_rng_u32(rng) | 1u;
  syn.seq = sim_rng_u32(rng);
  syn.window = 65535;
  /* Every other SYN bare, the rest with all options a client sends. */
  if (f->sent & 1u) {
    syn.opts.present = TOU_OPT_MSS | TOU_OPT_WSCALE | TOU_OPT_SACK_PERM | TOU_OPT_TIMESTAMP;
    syn.opts.mss = 1444;
    syn.opts.wscale = 7;
    syn.opts.ts_val = sim_rng_u32(rng);
  }
  uint8_t buf[256];
  int n = tou_wire_encode(&syn, buf, sizeof buf);
  assert_true(n > 0);
  tou_addr_t from = spoofed_addr(rng);
  f->syn_bytes += (uint64_t)n;
  tou_ep_input(f->b->ep, sim_now(sim), &from, buf, (size_t)n);
  drain_b(f, (size_t)n);
  if (++f->sent == SPOOFED / 10) f->peak_at_10k = f->mem->peak;
  if (f->sent < SPOOFED) sim_call_at(sim, sim_now(sim) + SPACING_US, flood_step, f);
}

/* ---- real clients ---------------------------------------------------- */

typedef struct client {
  sim_host_t *h;
  sim_app_t *app;
  tou_addr_t server;
} client_t;

static void client_start(sim_t *sim, void *arg) {
  (void)sim;
  client_t *c = arg;
  sim_app_cfg_t cfg = client_cfg(20000);
  c->app = sim_app_connect(c->h, &c->server, &cfg, NULL);
  assert_non_null(c->app);
}

/* Later replies (SYN-ACK retransmissions of the half-open connections)
 * leave B through the links: counted here. */
static void spoof_tap(void *ctx, const sim_tap_event_t *ev) {
  flood_t *f = ctx;
  if (ev->kind == SIM_TAP_SEND && !is_real_node(ev->to)) f->reply_bytes += ev->len;
}

static tou_config_t server_config(counting_t *mem) {
  tou_config_t cfg;
  tou_config_default(&cfg);
  cfg.send_buffer = BUF;
  cfg.recv_buffer = BUF;
  cfg.allocator = (tou_allocator_t){.alloc = count_alloc, .free = count_free, .ctx = mem};
  return cfg;
}

static void test_flood_real_clients_get_through(void **state) {
  (void)state;
  counting_t mem = {0};
  tou_config_t bcfg = server_config(&mem);
  sim_world_t w;
  sim_app_cfg_t scfg = server_cfg(10000);
  world_init(&w, 500, NULL, NULL, &scfg);
  /* Replace B by a host with the counting allocator. */
  sim_host_free(w.b);
  w.b = sim_host_new(w.sim, "B", &w.addr_b, &bcfg);
  w.b->accept_cfg = scfg;
  assert_int_equal(sim_host_listen(w.b, 64), 0);
  size_t baseline = mem.now;

  client_t clients[CLIENTS];
  for (unsigned i = 0; i < CLIENTS; i++) {
    char name[16];
    snprintf(name, sizeof name, "C%u", i);
    tou_addr_t a = sim_addr((uint8_t)(10 + i), 3000);
    clients[i].h = sim_host_new(w.sim, name, &a, NULL);
    clients[i].server = w.addr_b;
    clients[i].app = NULL;
    /* Spread over the flood: the first at 1.25 s, the last at 10.75 s. */
    sim_call_at(w.sim, FLOOD_START + SEC / 4 + i * (FLOOD_US / CLIENTS), client_start, &clients[i]);
  }
  flood_t f = {.w = &w, .b = w.b, .mem = &mem};
  sim_add_tap(w.sim, spoof_tap, &f);
  sim_call_at(w.sim, FLOOD_START, flood_step, &f);

  /* Mid-flood: the signal is up. */
  sim_run_until(w.sim, FLOOD_START + FLOOD_US / 2);
  tou_ep_stats_t st;
  tou_ep_get_stats(w.b->ep, &st);
  assert_true(st.syn_flood);
  assert_int_equal(st.half_open, bcfg.syn_backlog);

  sim_run_until(w.sim, FLOOD_START + FLOOD_US + 5 * SEC);
  assert_int_equal(f.sent, SPOOFED);
  tou_ep_get_stats(w.b->ep, &st);
  print_message("syns %llu cookies sent %llu validated %llu failures %llu dropped %llu "
                "half-open %u sources ~%llu flood %d\n",
                (unsigned long long)st.syns_received, (unsigned long long)st.cookies_sent,
                (unsigned long long)st.cookies_validated, (unsigned long long)st.cookie_failures,
                (unsigned long long)st.syns_dropped, st.half_open,
                (unsigned long long)st.syn_flood_sources, st.syn_flood);
  /* Every real client connected and exchanged its data. */
  for (unsigned i = 0; i < CLIENTS; i++) {
    sim_app_t *a = clients[i].app;
    assert_non_null(a);
    assert_true(a->connected);
    assert_received_all(a, 10000);
    assert_error_is(a->error, TOU_OK);
  }
  unsigned served = 0;
  for (sim_app_t *a = w.b->apps; a; a = a->next) {
    assert_received_all(a, 20000);
    served++;
  }
  assert_int_equal(served, CLIENTS);
  /* Counters: the first syn_backlog spoofed SYNs got state, every later SYN
   * (spoofed or real) a cookie; each real client completed on a cookie. */
  assert_int_equal(st.syns_received, SPOOFED + CLIENTS);
  assert_int_equal(st.cookies_sent, SPOOFED + CLIENTS - bcfg.syn_backlog);
  assert_int_equal(st.cookies_validated, CLIENTS);
  assert_int_equal(st.cookie_failures, 0);
  assert_int_equal(st.syn_floods, 1);
  assert_true(st.syn_flood);
  /* The sketch (1.6 % standard error): within 8 % of the 100,000 distinct sources (+ clients). */
  assert_true(st.syn_flood_sources > 92000 && st.syn_flood_sources < 108000);
  /* No amplification: a reply is never more than twice the SYN. */
  print_message("replies to spoofed SYNs %llu, largest %zu bytes (for a %zu-byte SYN)\n",
                (unsigned long long)f.replies, f.max_reply, f.syn_len_of_max);
  assert_false(f.reply_too_big);
  /* (The total, with the SYN-ACK retransmissions of the half-open
   * connections, is checked once they have all given up, below.) */
  /* Memory: bounded by the half-open queue and the real connections, and
   * the same after 100,000 SYNs as after 10,000. */
  size_t per_conn = sizeof(struct tou_conn) + 2 * BUF;
  size_t bound = baseline + bcfg.syn_backlog * sizeof(struct tou_conn) + CLIENTS * per_conn +
                 32 * 1024;
  print_message("memory: baseline %zu, peak after 10k SYNs %zu, peak %zu, bound %zu bytes\n",
                baseline, f.peak_at_10k, mem.peak, bound);
  assert_true(mem.peak <= bound);
  assert_true(mem.peak <= f.peak_at_10k + CLIENTS * per_conn);

  /* After the flood: the half-open entries time out (SYN-ACK retries, about
   * a minute), then after syn_flood_quiet_us B leaves cookie mode. */
  sim_run_until(w.sim, FLOOD_START + FLOOD_US + 90 * SEC);
  tou_ep_get_stats(w.b->ep, &st);
  assert_false(st.syn_flood);
  assert_int_equal(st.half_open, 0);
  print_message("bytes to spoofed sources %llu for %llu bytes of spoofed SYNs (x%.3f)\n",
                (unsigned long long)f.reply_bytes, (unsigned long long)f.syn_bytes,
                (double)f.reply_bytes / (double)f.syn_bytes);
  assert_true(f.reply_bytes * 10 <= f.syn_bytes * 12); /* at most 1.2 times the flood */
  /* A new client now gets a stateful handshake (no cookie). */
  uint64_t cookies = st.cookies_sent;
  client_start(w.sim, &clients[0]);
  assert_true(world_run_until_flag(&w, &clients[0].app->eof, sim_now(w.sim) + 10 * SEC));
  assert_received_all(clients[0].app, 10000);
  tou_ep_get_stats(w.b->ep, &st);
  assert_int_equal(st.cookies_sent, cookies);
  assert_int_equal(st.syn_floods, 1);

  for (unsigned i = 0; i < CLIENTS; i++) sim_host_free(clients[i].h);
  world_free(&w);
}

/* ---- forged, tampered, replayed and expired cookies ------------------ */

typedef struct capture {
  tou_addr_t from;
  bool have_ack;
  uint8_t ack[256];
  size_t ack_len;
} capture_t;

/* Records the first pure ACK A sends: the one returning the cookie. */
static void capture_tap(void *ctx, const sim_tap_event_t *ev) {
  capture_t *c = ctx;
  if (ev->kind != SIM_TAP_SEND || c->have_ack || !sim_addr_eq(ev->from, &c->from)) return;
  if (!sim_match(&SIM_MATCH_PURE_ACK, ev->data, ev->len) || ev->len > sizeof c->ack) return;
  memcpy(c->ack, ev->data, ev->len);
  c->ack_len = ev->len;
  c->have_ack = true;
}

static void inject_raw(sim_world_t *w, const uint8_t *data, size_t len, const tou_addr_t *from) {
  sim_inject(w->sim, sim_now(w->sim), from, &w->addr_b, data, len);
  sim_run_until(w->sim, sim_now(w->sim) + 1 * MS);
}

static void reencode_inject(sim_world_t *w, const tou_segment_t *seg, const tou_addr_t *from) {
  uint8_t buf[512];
  int n = tou_wire_encode(seg, buf, sizeof buf);
  assert_true(n > 0);
  inject_raw(w, buf, (size_t)n, from);
}

static void test_forged_and_replayed_cookies(void **state) {
  (void)state;
  tou_config_t cfg;
  tou_config_default(&cfg);
  cfg.syncookies = TOU_SYNCOOKIES_ALWAYS;
  sim_world_t w;
  sim_app_cfg_t rcfg = reader_cfg(1);
  world_init(&w, 501, NULL, &cfg, &rcfg);
  capture_t cap = {.from = w.addr_a};
  sim_add_tap(w.sim, capture_tap, &cap);
  sim_app_cfg_t ccfg = {.send_bytes = 3000, .tx_pattern = 1, .rx_pattern = 2};
  sim_app_t *c = sim_app_connect(w.a, &w.addr_b, &ccfg, NULL);
  assert_true(world_run_until_flag(&w, &c->connected, 2 * SEC));
  sim_run_until(w.sim, 1 * SEC);
  sim_app_t *s = w.b->last_accepted;
  assert_non_null(s);
  assert_int_equal(s->received, 3000);
  tou_ep_stats_t st;
  tou_ep_get_stats(w.b->ep, &st);
  assert_int_equal(st.cookies_sent, 1);
  assert_int_equal(st.cookies_validated, 1);
  assert_int_equal(st.half_open, 0); /* no state was ever kept */
  assert_true(cap.have_ack);
  tou_segment_t ack;
  assert_int_equal(tou_wire_decode(cap.ack, cap.ack_len, &ack), TOU_OK);

  /* Replayed while the connection lives: it belongs to the connection (a
   * duplicate ACK), nothing new is created. */
  inject_raw(&w, cap.ack, cap.ack_len, &w.addr_a);
  tou_ep_get_stats(w.b->ep, &st);
  assert_int_equal(st.cookies_validated, 1);
  assert_int_equal(st.cookie_failures, 0);
  assert_int_equal(st.connections, 1);

  /* Forged: random server cids and ISS from A's real address and cid. */
  sim_rng_t *rng = sim_rng(w.sim);
  uint64_t rst_before = w.b->stats.rst_sent;
  for (unsigned i = 0; i < 1000; i++) {
    tou_segment_t f = ack;
    f.dst_cid = sim_rng_u32(rng) | 1u;
    f.ack = sim_rng_u32(rng);
    reencode_inject(&w, &f, &w.addr_a);
  }
  tou_ep_get_stats(w.b->ep, &st);
  assert_int_equal(st.cookie_failures, 1000);
  assert_int_equal(st.cookies_validated, 1);
  assert_int_equal(st.connections, 1);
  assert_int_equal(w.b->stats.rst_sent - rst_before, 1000); /* as for any unknown cid */

  /* Abort the connection (no TIME_WAIT record remains at B), then replay
   * the captured ACK: the MAC is still good, the replay filter refuses it. */
  sim_app_abort(c);
  sim_run_until(w.sim, sim_now(w.sim) + 100 * MS);
  assert_true(s->closed);
  sim_app_close(s);
  sim_run_until(w.sim, sim_now(w.sim) + 100 * MS);
  tou_ep_get_stats(w.b->ep, &st);
  assert_int_equal(st.connections, 0);
  uint64_t fails = st.cookie_failures;
  inject_raw(&w, cap.ack, cap.ack_len, &w.addr_a);
  tou_ep_get_stats(w.b->ep, &st);
  assert_int_equal(st.cookie_failures, fails + 1);
  assert_int_equal(st.cookies_validated, 1);
  assert_int_equal(st.connections, 0);

  /* Tampered: the same cookie from another address, with another client
   * cid, or one bit of the ISS flipped. */
  tou_addr_t other = sim_addr(7, 1000);
  inject_raw(&w, cap.ack, cap.ack_len, &other);
  tou_segment_t t = ack;
  t.src_cid ^= 1u;
  reencode_inject(&w, &t, &w.addr_a);
  t = ack;
  t.ack ^= 1u << 20;
  reencode_inject(&w, &t, &w.addr_a);
  tou_ep_get_stats(w.b->ep, &st);
  assert_int_equal(st.cookie_failures, fails + 4);
  assert_int_equal(st.connections, 0);

  /* Expired: a cookie made now, returned after its lifetime (64 s). */
  c = sim_app_connect(w.a, &w.addr_b, &ccfg, NULL);
  cap.have_ack = false;
  sim_link_add_filter(world_link_ab(&w), sim_filter_flags, (void *)&SIM_MATCH_PURE_ACK, -1);
  sim_link_add_filter(world_link_ab(&w), sim_filter_flags, (void *)&SIM_MATCH_DATA, -1);
  assert_true(world_run_until_flag(&w, &c->connected, sim_now(w.sim) + 2 * SEC));
  sim_run_until(w.sim, sim_now(w.sim) + 100 * MS);
  assert_true(cap.have_ack);
  sim_app_abort(c);
  sim_run_until(w.sim, sim_now(w.sim) + cfg.syncookie_lifetime_us + 1 * SEC);
  tou_ep_get_stats(w.b->ep, &st);
  fails = st.cookie_failures;
  /* Keep cookie ACKs expected: send a fresh cookie first. */
  tou_segment_t syn = {.flags = TOU_SYN, .src_cid = 99, .seq = 5, .window = 1000};
  reencode_inject(&w, &syn, &other);
  inject_raw(&w, cap.ack, cap.ack_len, &w.addr_a);
  tou_ep_get_stats(w.b->ep, &st);
  assert_int_equal(st.cookie_failures, fails + 1);
  assert_int_equal(st.connections, 0);
  world_free(&w);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_flood_real_clients_get_through),
      cmocka_unit_test(test_forged_and_replayed_cookies),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

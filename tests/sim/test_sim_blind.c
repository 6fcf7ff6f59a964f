/* Off-path attacks on an established connection (RFC 5961): an attacker
 * who knows both addresses and both connection identifiers but not the
 * sequence numbers injects 100,000 segments — RSTs and SYNs with random
 * sequence numbers — into B. Only a RST carrying exactly RCV.NXT may reset
 * the connection (5961 section 3.2); an in-window RST or any SYN earns a
 * challenge ACK (3.2, 4.2), and challenge ACKs stay within
 * challenge_acks_per_sec (section 7). Afterwards the connection still
 * carries data byte-exact, and the exact-match RST does reset it. */
#include "alloc.h"
#include "scenario.h"

#define MS SIM_MS
#define SEC SIM_SEC

#define ATTEMPTS 100000
#define ATTACK_US (10 * SEC)
#define SPACING_US (ATTACK_US / ATTEMPTS)

typedef struct attack {
  sim_world_t *w;
  uint32_t a_cid, b_cid;
  uint32_t rcv_nxt; /* B's next expected sequence number */
  unsigned sent;
  unsigned exact_rst; /* random RSTs that happened to hit RCV.NXT exactly */
  uint64_t start, end;
  uint64_t b_acks_before;
} attack_t;

/* B's RCV.NXT is what A has sent so far: seq + length of A's segments, SYN
 * and FIN counting one each. */
static uint32_t next_seq_from(const seglog_t *log) {
  uint32_t nxt = 0;
  bool any = false;
  for (size_t i = 0; i < log->n; i++) {
    const tou_segment_t *s = &log->seg[i];
    if (s->flags & TOU_RST) continue;
    uint32_t end = s->seq + (uint32_t)s->payload_len + ((s->flags & TOU_SYN) ? 1u : 0u) +
                   ((s->flags & TOU_FIN) ? 1u : 0u);
    if (!any || seq_gt(end, nxt)) nxt = end;
    any = true;
  }
  return nxt;
}

static void attack_step(sim_t *sim, void *arg) {
  attack_t *at = arg;
  sim_rng_t *rng = sim_rng(sim);
  tou_segment_t seg;
  memset(&seg, 0, sizeof seg);
  seg.seq = sim_rng_u32(rng);
  seg.src_cid = at->a_cid;
  seg.window = 65535;
  switch (at->sent % 3) {
    case 0: /* blind reset */
      seg.flags = TOU_RST;
      seg.dst_cid = at->b_cid;
      if (seg.seq == at->rcv_nxt) at->exact_rst++;
      break;
    case 1: /* SYN aimed at the connection */
      seg.flags = TOU_SYN;
      seg.dst_cid = at->b_cid;
      break;
    default: /* SYN as if opening a new connection from A's address and cid */
      seg.flags = TOU_SYN;
      seg.dst_cid = 0;
      break;
  }
  world_inject(at->w, sim_now(sim), &at->w->addr_a, &at->w->addr_b, &seg);
  if (++at->sent < ATTEMPTS) sim_call_at(sim, sim_now(sim) + SPACING_US, attack_step, at);
}

static void test_blind_rst_and_syn_injection(void **state) {
  (void)state;
  sim_world_t w;
  sim_app_cfg_t scfg = reader_cfg(1);
  /* One counter for both endpoints: the attack must grow neither. */
  sim_alloc_t mem = {0};
  tou_config_t cfg;
  tou_config_default(&cfg);
  cfg.allocator = sim_alloc_make(&mem);
  world_init(&w, 300, NULL, &cfg, &scfg);
  seglog_t *alog = seglog_new(w.sim, &w.addr_a);
  sim_app_cfg_t ccfg = {.send_bytes = 5000, .tx_pattern = 1, .rx_pattern = 2};
  sim_app_t *c = sim_app_connect(w.a, &w.addr_b, &ccfg, NULL);
  sim_run_until(w.sim, 2 * SEC);
  sim_app_t *s = w.b->last_accepted;
  assert_non_null(s);
  assert_int_equal(s->received, 5000);

  attack_t at = {.w = &w, .a_cid = tou_conn_local_cid(c->conn),
                 .b_cid = tou_conn_local_cid(s->conn), .rcv_nxt = next_seq_from(alog)};
  at.start = sim_now(w.sim);
  at.b_acks_before = w.b->stats.pure_ack_sent;
  tou_ep_stats_t st0, st1;
  tou_ep_get_stats(w.b->ep, &st0);
  uint64_t b_rst_before = w.b->stats.rst_sent;
  size_t live_before = mem.live_bytes;
  sim_alloc_reset_peak(&mem);
  sim_call_at(w.sim, at.start, attack_step, &at);
  sim_run_until(w.sim, at.start + ATTACK_US + 1 * SEC);
  assert_int_equal(at.sent, ATTEMPTS);
  /* 100,000 attack segments and a third of them SYNs "from a new
   * connection": not one byte of lasting state, and no growth on the way. */
  print_message("endpoint memory: %zu bytes before, peak %zu, after %zu\n", live_before,
                mem.peak_bytes, mem.live_bytes);
  assert_int_equal(mem.live_bytes, live_before);
  assert_true(mem.peak_bytes <= live_before + 4096);

  /* Zero resets unless a random RST hit RCV.NXT exactly (p ~ 3e-5). */
  if (at.exact_rst == 0) {
    assert_false(s->closed);
    assert_false(c->closed);
    assert_int_equal(s->state, TOU_ESTABLISHED);
    assert_int_equal(c->state, TOU_ESTABLISHED);
  } else {
    assert_true(s->closed);
    assert_error_is(s->error, TOU_ERR_RESET);
    world_free(&w);
    return;
  }
  /* The connection never answers an attack with a RST of its own. */
  assert_int_equal(w.b->stats.rst_sent, b_rst_before);
  /* Challenge ACKs: every SYN deserves one, so the limiter is what bounds
   * them: about challenge_acks_per_sec (1000) per second of attack. */
  uint64_t challenges = w.b->stats.pure_ack_sent - at.b_acks_before;
  print_message("challenge ACKs sent during the attack: %llu\n",
                (unsigned long long)challenges);
  assert_true(challenges <= 1000ull * (ATTACK_US / SEC + 1));
  assert_true(challenges >= 1000ull * (ATTACK_US / SEC - 1));
  /* The endpoint's own counters agree with what went on the wire, and
   * account for every attempt that deserved a challenge but was limited. */
  tou_ep_get_stats(w.b->ep, &st1);
  assert_int_equal(st1.challenge_acks - st0.challenge_acks, challenges);
  assert_true(st1.challenge_acks_limited - st0.challenge_acks_limited >=
              2u * ATTEMPTS / 3 - challenges);
  assert_int_equal(st1.resets_sent, st0.resets_sent);

  /* Still a working connection. */
  sim_app_send_more(c, 7000);
  sim_run_until(w.sim, sim_now(w.sim) + 2 * SEC);
  assert_int_equal(s->received, 12000);
  assert_false(s->data_mismatch);

  /* The exact-match RST is accepted. */
  tou_segment_t rst = {.flags = TOU_RST, .seq = next_seq_from(alog), .src_cid = at.a_cid,
                       .dst_cid = at.b_cid};
  world_inject(&w, sim_now(w.sim) + 1 * MS, &w.addr_a, &w.addr_b, &rst);
  assert_true(world_run_until_flag(&w, &s->closed, sim_now(w.sim) + 1 * SEC));
  assert_error_is(s->error, TOU_ERR_RESET);
  world_free(&w);
}

/* RSTs that all land inside the window but never exactly on RCV.NXT: each
 * earns a challenge ACK up to the rate limit and none resets. */
static void test_in_window_rst_flood_rate_limited(void **state) {
  (void)state;
  sim_world_t w;
  sim_app_cfg_t scfg = reader_cfg(1);
  world_init(&w, 310, NULL, NULL, &scfg);
  seglog_t *alog = seglog_new(w.sim, &w.addr_a);
  sim_app_cfg_t ccfg = {.send_bytes = 100, .tx_pattern = 1, .rx_pattern = 2};
  sim_app_t *c = sim_app_connect(w.a, &w.addr_b, &ccfg, NULL);
  sim_run_until(w.sim, 1 * SEC);
  sim_app_t *s = w.b->last_accepted;
  assert_non_null(s);
  uint32_t nxt = next_seq_from(alog);
  uint64_t acks_before = w.b->stats.pure_ack_sent;
  uint64_t t0 = sim_now(w.sim);
  /* 5000 RSTs in 0.5 s, seq in [RCV.NXT + 1, RCV.NXT + 50000]. */
  for (unsigned i = 0; i < 5000; i++) {
    tou_segment_t rst = {.flags = TOU_RST, .seq = nxt + 1 + (uint32_t)(i * 10),
                         .src_cid = tou_conn_local_cid(c->conn),
                         .dst_cid = tou_conn_local_cid(s->conn)};
    world_inject(&w, t0 + i * 100, &w.addr_a, &w.addr_b, &rst);
  }
  sim_run_until(w.sim, t0 + 2 * SEC);
  assert_false(s->closed);
  assert_int_equal(s->state, TOU_ESTABLISHED);
  uint64_t challenges = w.b->stats.pure_ack_sent - acks_before;
  print_message("challenge ACKs for 5000 in-window RSTs in 0.5 s: %llu\n",
                (unsigned long long)challenges);
  assert_true(challenges >= 1);
  /* limit * (duration + 1 s): holds for a per-second counter and for a
   * token bucket of one second's worth. */
  assert_true(challenges <= 1500);
  world_free(&w);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_blind_rst_and_syn_injection),
      cmocka_unit_test(test_in_window_rst_flood_rate_limited),
  };
  SIM_RUN_TESTS(tests);
}

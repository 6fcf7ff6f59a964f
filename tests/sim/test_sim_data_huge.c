/* Issue 6 matrix, 64 MiB under every impairment of the smaller matrix:
 * 5 % and 20 % random loss, burst loss, heavy reordering, duplication,
 * corruption, a narrow bottleneck with a small queue, a 30 s two-way
 * blackout mid-transfer and a reader that stops for 20 s — each way and
 * both ways at once, byte-exact (clean and 1 % are in test_sim_data_big).
 * Hours of virtual time but about 25 s of CPU without sanitizers, where it
 * is an ordinary ctest entry; under ASan (minutes) only
 * `cmake --build build-asan --target sim_data_long` runs it, with
 * test_sim_data_big. */
#include "xfer.h"

#define MS SIM_MS
#define SEC SIM_SEC
#define BIG xfer_big() /* 64 MiB, 1 MiB under valgrind */
#define VIRTUAL_LIMIT (200000 * SEC)

static void run_three(uint64_t seed, xfer_opts_t *o, const char *what) {
  o->limit = VIRTUAL_LIMIT;
  const size_t dirs[3][2] = {{BIG, 0}, {0, BIG}, {BIG, BIG}};
  const char *names[3] = {"up", "down", "both"};
  for (int i = 0; i < 3; i++) {
    xfer_result_t r;
    xfer_run(seed + (uint64_t)i, o, dirs[i][0], dirs[i][1], &r);
    print_message("%zu MiB %s, %s: %.1f s virtual, %llu payloads sent in two pieces\n",
                  BIG >> 20, names[i], what, (double)(r.t_done - r.t_connected) / 1e6,
                  (unsigned long long)r.split_payloads);
    /* 64 MiB through a 2 MiB send ring: segments across its wrap point,
     * described in two pieces (the gathered output, as the binding sends).
     * The 1 MiB of the valgrind run need not wrap it. */
    if (BIG > ((size_t)2 << 20)) assert_true(r.split_payloads > 0);
  }
}

static const sim_link_params_t fast = {.mtu = 1472, .delay_us = 20 * MS, .rate_bps = 100000000,
                                       .queue_bytes = 500000};

static void test_loss_5pct(void **state) {
  (void)state;
  xfer_opts_t o = {.link = fast};
  o.link.loss = 0.05;
  run_three(0xe100, &o, "5 % loss");
}

static void test_loss_20pct(void **state) {
  (void)state;
  xfer_opts_t o = {.link = fast};
  o.link.loss = 0.20;
  run_three(0xe110, &o, "20 % loss");
}

static void test_burst_loss(void **state) {
  (void)state;
  xfer_opts_t o = {.link = fast};
  o.link.ge_p = 0.02;
  o.link.ge_r = 0.3;
  o.link.ge_loss_bad = 0.9;
  /* Bursts bounded in time as well: one Markov step per millisecond of
   * silence. With steps per datagram only, a sender in timeout backoff (one
   * datagram per timeout) met bursts lasting as many timeouts as datagrams,
   * and a quarter to a half of the seeds ended in ETIMEDOUT after
   * data_retries timeouts; with it, the 12 seeds 0xf000-0xf00b all pass
   * 'down' in 310-326 s. */
  o.link.ge_step_us = 1 * MS;
  run_three(0xe120, &o, "burst loss");
}

static void test_heavy_reordering(void **state) {
  (void)state;
  xfer_opts_t o = {.link = fast};
  o.link.jitter_us = 15 * MS;
  o.link.reorder = 0.3;
  o.link.reorder_us = 30 * MS;
  run_three(0xe130, &o, "heavy reordering");
}

static void test_duplication(void **state) {
  (void)state;
  xfer_opts_t o = {.link = fast};
  o.link.duplicate = 0.2;
  o.link.dup_gap_us = 3 * MS;
  run_three(0xe140, &o, "duplication");
}

static void test_corruption(void **state) {
  (void)state;
  xfer_opts_t o = {.link = fast, .watch = true};
  o.link.corrupt = 0.05;
  o.link.corrupt_bits = 3;
  run_three(0xe150, &o, "corruption");
}

static void test_narrow_bottleneck(void **state) {
  (void)state;
  xfer_opts_t o = {.link = {.mtu = 1472, .delay_us = 20 * MS, .rate_bps = 10000000,
                            .queue_bytes = 6000}};
  run_three(0xe160, &o, "10 Mbit/s, 6 kB queue");
}

static void test_blackout_30s(void **state) {
  (void)state;
  xfer_opts_t o = {.link = fast, .blackout_from = 2 * SEC, .blackout_to = 32 * SEC};
  run_three(0xe170, &o, "30 s two-way blackout at 2 s");
}

static void test_stopped_reader(void **state) {
  (void)state;
  xfer_opts_t o = {.link = fast, .resume_reading_at = 20 * SEC};
  run_three(0xe180, &o, "readers stopped for 20 s");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_loss_5pct),        cmocka_unit_test(test_loss_20pct),
      cmocka_unit_test(test_burst_loss),       cmocka_unit_test(test_heavy_reordering),
      cmocka_unit_test(test_duplication),      cmocka_unit_test(test_corruption),
      cmocka_unit_test(test_narrow_bottleneck), cmocka_unit_test(test_blackout_30s),
      cmocka_unit_test(test_stopped_reader),
  };
  SIM_RUN_TESTS(tests);
}

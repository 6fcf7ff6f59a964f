/* Goodput of one bulk transfer over the deterministic simulator (tests/sim)
 * as a fraction of the bottleneck capacity, per congestion control and loss
 * rate; and the CPU cost of the core per transferred MiB.
 *
 * Path: 100 Mbit/s bottleneck each way, 20 ms one-way delay (40 ms RTT),
 * drop-tail queue of one bandwidth-delay product (500 kB), random loss in
 * both directions. Buffers 8 MiB so the window never limits. The client
 * sends for DURATION seconds of virtual time after the handshake; goodput is
 * the in-order bytes the server application read in that time. Several
 * seeds per cell: min / median / max are printed (runs differ by where the
 * losses fall).
 *
 *   bench_goodput [seconds=20] [seeds=3]
 *
 * Not a test: figures are printed, nothing is asserted. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "world.h"

#define MS SIM_MS
#define SEC SIM_SEC
#define RATE_BPS 100000000ull
#define ONE_WAY_US (20 * MS)
#define BDP_BYTES (RATE_BPS / 8 * 2 * ONE_WAY_US / SEC)

static double cpu_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct run_result {
  double goodput_frac;
  uint64_t received;
  tou_conn_info_t info; /* sender's figures at the end */
  double cpu_s;
} run_result_t;

static run_result_t run_once(const char *algo, double loss, uint64_t seed, uint64_t duration) {
  sim_link_params_t p = {.delay_us = ONE_WAY_US, .rate_bps = RATE_BPS,
                         .queue_bytes = BDP_BYTES, .loss = loss};
  tou_config_t cfg;
  tou_config_default(&cfg);
  cfg.send_buffer = 8u << 20;
  cfg.recv_buffer = 8u << 20;
  cfg.cc_algorithm = algo;
  sim_app_cfg_t reader = {.rx_pattern = 1};
  sim_world_t w;
  double c0 = cpu_seconds();
  world_init(&w, seed, &p, &cfg, &reader);
  /* More than the path can carry in `duration`: the sender never runs dry. */
  sim_app_cfg_t sender = {.send_bytes = (size_t)(RATE_BPS / 8 * (duration / SEC + 2)),
                          .tx_pattern = 1};
  sim_app_t *c = sim_app_connect(w.a, &w.addr_b, &sender, NULL);
  run_result_t r = {0};
  if (c == NULL) {
    fprintf(stderr, "connect failed\n");
    exit(1);
  }
  world_run_until_flag(&w, &c->connected, 10 * SEC);
  uint64_t start = sim_now(w.sim);
  sim_run_until(w.sim, start + duration);
  sim_app_t *s = w.b->last_accepted;
  r.received = s ? s->received : 0;
  if (s && s->data_mismatch) fprintf(stderr, "DATA MISMATCH (seed %" PRIu64 ")\n", seed);
  r.goodput_frac = (double)r.received * 8.0 / ((double)RATE_BPS * (double)duration / SEC);
  if (c->conn) tou_conn_get_info(c->conn, &r.info);
  world_free(&w);
  r.cpu_s = cpu_seconds() - c0;
  return r;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Core only: two endpoints handing datagrams straight to each other (no
 * simulator, no delay, no loss); CPU per MiB covers both ends (segment
 * encode/decode with CRC32C, copies into and out of the buffers, ACK
 * processing). */
static double core_cpu_per_mib(size_t mib) {
  tou_config_t cfg;
  tou_config_default(&cfg);
  uint8_t seed_a[32], seed_b[32];
  memset(seed_a, 1, sizeof seed_a);
  memset(seed_b, 2, sizeof seed_b);
  cfg.seed = seed_a;
  cfg.send_buffer = cfg.recv_buffer = 1u << 20;
  tou_ep_t *a = tou_ep_new(&cfg, 0);
  cfg.seed = seed_b;
  tou_ep_t *b = tou_ep_new(&cfg, 0);
  tou_addr_t aa = {.len = 1, .bytes = {1}}, ba = {.len = 1, .bytes = {2}};
  tou_ep_listen(b, 4);
  int err;
  tou_conn_t *ca = tou_ep_connect(a, 0, &ba, &err), *cb = NULL;
  static uint8_t dgram[2048], chunk[65536];
  memset(chunk, 0x5a, sizeof chunk);
  uint64_t now = 0, sent = 0, got = 0, total = (uint64_t)mib << 20;
  double c0 = cpu_seconds();
  while (got < total && now < 3600 * SEC) {
    now += 10; /* 10 us per round: the clock must move for RTT samples */
    if (ca && sent < total) {
      int n = tou_conn_send(ca, now, chunk, (size_t)(total - sent < sizeof chunk ? total - sent : sizeof chunk));
      if (n > 0) sent += (uint64_t)n;
    }
    tou_addr_t to;
    int n;
    while ((n = tou_ep_output(a, now, &to, dgram, sizeof dgram)) > 0) tou_ep_input(b, now, &aa, dgram, (size_t)n);
    if (!cb) cb = tou_ep_accept(b);
    if (cb) {
      int r;
      while ((r = tou_conn_recv(cb, now, chunk, sizeof chunk)) > 0) got += (uint64_t)r;
    }
    while ((n = tou_ep_output(b, now, &to, dgram, sizeof dgram)) > 0) tou_ep_input(a, now, &ba, dgram, (size_t)n);
    if (tou_ep_next_deadline(a) <= now) tou_ep_on_timer(a, now);
    if (tou_ep_next_deadline(b) <= now) tou_ep_on_timer(b, now);
    tou_conn_t *ev;
    unsigned bits;
    while (tou_ep_next_event(a, &ev, &bits)) {}
    while (tou_ep_next_event(b, &ev, &bits)) {}
  }
  double cpu = cpu_seconds() - c0;
  tou_ep_free(a);
  tou_ep_free(b);
  if (got < total) {
    fprintf(stderr, "core loopback stalled at %" PRIu64 " bytes\n", got);
    return -1;
  }
  return cpu / (double)mib;
}

int main(int argc, char **argv) {
  uint64_t duration = (argc > 1 ? strtoull(argv[1], NULL, 10) : 20) * SEC;
  int seeds = argc > 2 ? atoi(argv[2]) : 3;
  if (seeds < 1 || seeds > 32) seeds = 3;
  const char *algos[] = {"cubic", "newreno"};
  const double losses[] = {0.0, 0.001, 0.01, 0.05};
  printf("goodput / capacity: 100 Mbit/s, RTT 40 ms, queue %" PRIu64 " B (1 BDP), %" PRIu64
         " s per run, %d seeds (min / median / max)\n",
         (uint64_t)BDP_BYTES, (uint64_t)(duration / SEC), seeds);
  printf("%-8s %6s  %7s %7s %7s  %8s %7s %6s %5s %5s %9s\n", "cc", "loss", "min", "median", "max",
         "retrans", "lost", "tlp", "rto", "srtt", "sim cpu/MiB");
  double sim_cpu = 0, sim_mib = 0;
  for (size_t ai = 0; ai < 2; ai++) {
    for (size_t li = 0; li < 4; li++) {
      double g[32];
      run_result_t last = {0};
      for (int k = 0; k < seeds; k++) {
        run_result_t r = run_once(algos[ai], losses[li], 1000 + (uint64_t)k * 7919, duration);
        g[k] = r.goodput_frac;
        sim_cpu += r.cpu_s;
        sim_mib += (double)r.received / (1 << 20);
        last = r;
      }
      qsort(g, (size_t)seeds, sizeof g[0], cmp_double);
      printf("%-8s %5.1f%%  %6.1f%% %6.1f%% %6.1f%%  %8" PRIu64 " %7" PRIu64 " %6" PRIu64
             " %5" PRIu64 " %4" PRIu64 "ms %6.1f ms\n",
             algos[ai], losses[li] * 100, g[0] * 100, g[seeds / 2] * 100, g[seeds - 1] * 100,
             last.info.segs_retransmitted, last.info.segs_lost, last.info.tlp_probes,
             last.info.timeouts, last.info.srtt_us / 1000,
             last.received ? last.cpu_s * 1000 / ((double)last.received / (1 << 20)) : 0.0);
      fflush(stdout);
    }
  }
  printf("(retrans/lost/tlp/rto/srtt: sender figures of the last seed; sim cpu/MiB includes "
         "the simulator and the pattern-checking apps)\n");
  printf("simulated runs: %.2f s CPU for %.0f MiB delivered = %.2f ms/MiB\n", sim_cpu, sim_mib,
         sim_mib > 0 ? sim_cpu * 1000 / sim_mib : 0.0);
  double core = core_cpu_per_mib(256);
  printf("core only (two endpoints in-process, no simulator, 256 MiB): %.3f ms CPU per MiB "
         "(both ends) = %.0f MiB/s\n",
         core * 1000, core > 0 ? 1.0 / core : 0.0);
  return 0;
}

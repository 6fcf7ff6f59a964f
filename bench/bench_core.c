/* CPU cost of the sans-I/O core, both endpoints in one process with datagrams
 * handed across directly (no link model, no loss): microseconds of CPU per
 * MiB transferred, and per connection opened and closed. Prints figures;
 * not a test.
 *   build/bench/bench_core [MiB] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core.h"

static tou_ep_t *ep[2];
static tou_addr_t addr[2] = {{.len = 1, .bytes = {'A'}}, {.len = 1, .bytes = {'B'}}};
static uint64_t now = 1000000;

static double cpu_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Moves datagrams both ways until neither side has anything to send; one
 * virtual microsecond per datagram, timers fired when due. */
static void shuttle(void) {
  static uint8_t buf[2048];
  for (int idle = 0; idle < 2;) {
    idle++;
    for (int i = 0; i < 2; i++) {
      tou_addr_t to;
      int n;
      while ((n = tou_ep_output(ep[i], now, &to, buf, sizeof buf)) > 0) {
        now += 1;
        tou_ep_input(ep[1 - i], now, &addr[i], buf, (size_t)n);
        idle = 0;
      }
      if (tou_ep_next_deadline(ep[i]) <= now) tou_ep_on_timer(ep[i], now), idle = 0;
      tou_conn_t *c;
      unsigned e;
      while (tou_ep_next_event(ep[i], &c, &e)) {
      }
    }
  }
}

static void setup(void) {
  for (int i = 0; i < 2; i++) {
    tou_config_t cfg;
    tou_config_default(&cfg);
    uint8_t seed[32] = {(uint8_t)(i + 1)};
    cfg.seed = seed;
    cfg.max_connections = 1 << 16;
    cfg.max_time_wait = 1 << 16;
    /* Default SYN-cookie policy (auto): thousands of connections per
     * virtual second look like a SYN flood, so most of open/close goes
     * through cookies, every one of which must be accepted (the replay
     * check is exact: no legitimate client is reset). */
    ep[i] = tou_ep_new(&cfg, now);
    if (ep[i] == NULL) exit(1);
  }
  tou_ep_listen(ep[1], 1 << 16);
}

static void bulk(size_t mib) {
  int err;
  tou_conn_t *a = tou_ep_connect(ep[0], now, &addr[1], &err);
  shuttle();
  tou_conn_t *b = tou_ep_accept(ep[1]);
  if (b == NULL) {
    fprintf(stderr, "bulk: not accepted\n");
    exit(1);
  }
  static uint8_t buf[65536];
  size_t total = mib << 20, sent = 0, got = 0;
  double t0 = cpu_seconds();
  while (got < total) {
    if (sent < total) {
      int k = tou_conn_send(a, now, buf, total - sent < sizeof buf ? total - sent : sizeof buf);
      if (k > 0) sent += (size_t)k;
    }
    shuttle();
    int n;
    while ((n = tou_conn_recv(b, now, buf, sizeof buf)) > 0) got += (size_t)n;
    now += 100;
  }
  double t = cpu_seconds() - t0;
  tou_conn_info_t info;
  tou_conn_get_info(a, &info);
  printf("bulk:        %zu MiB one way, %.0f us CPU per MiB (%.2f Gbit/s per core), %llu segments, %llu retransmitted\n",
         mib, t * 1e6 / (double)mib, (double)total * 8 / t / 1e9,
         (unsigned long long)info.segs_sent, (unsigned long long)info.segs_retransmitted);
  tou_conn_close(a, now);
  tou_conn_close(b, now);
  shuttle();
}

static void open_close(int n) {
  double t0 = cpu_seconds();
  for (int i = 0; i < n; i++) {
    int err;
    tou_conn_t *a = tou_ep_connect(ep[0], now, &addr[1], &err);
    shuttle();
    tou_conn_t *b = tou_ep_accept(ep[1]);
    if (b == NULL) {
      fprintf(stderr, "connection %d: not accepted (A state %s, error %s)\n", i,
              tou_state_name(tou_conn_state(a)), tou_error_name(tou_conn_error(a)));
      exit(1);
    }
    tou_conn_close(a, now);
    shuttle();
    tou_conn_close(b, now);
    shuttle();
  }
  double t = cpu_seconds() - t0;
  tou_ep_stats_t s, srv;
  tou_ep_get_stats(ep[0], &s);
  tou_ep_get_stats(ep[1], &srv);
  printf("open/close:  %d connections (handshake + four-way close), %.2f us CPU each; %u TIME_WAIT records held\n",
         n, t * 1e6 / n, s.time_wait);
  printf("cookies:     %llu sent, %llu validated, %llu failures (server)\n",
         (unsigned long long)srv.cookies_sent, (unsigned long long)srv.cookies_validated,
         (unsigned long long)srv.cookie_failures);
}

int main(int argc, char **argv) {
  size_t mib = argc > 1 ? (size_t)atoi(argv[1]) : 256;
  setup();
  bulk(mib);
  open_close(20000);
  tou_ep_free(ep[0]);
  tou_ep_free(ep[1]);
  return 0;
}

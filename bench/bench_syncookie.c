/* SYN handling cost: spoofed SYNs per second through one listening
 * endpoint (tou_ep_input + draining tou_ep_output), answered statelessly
 * with cookies (syncookies=always) or with state (syncookies=never, a
 * half-open queue large enough that nothing is dropped; its connections
 * are reset afterwards), and the cost of validating a cookie ACK that
 * rebuilds a connection. Prints figures; not a test. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core.h"

static double seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t x = 88172645463325252ull;
static uint64_t rnd(void) {
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return x;
}

static tou_addr_t addr(uint64_t r) {
  tou_addr_t a = {.len = 6};
  memcpy(a.bytes, &r, 6);
  return a;
}

/* Sends n SYNs; with ack_back, completes each handshake from the cookie. */
static double run(unsigned mode, unsigned n, bool ack_back) {
  static const uint8_t seed[32] = {7};
  tou_config_t cfg;
  tou_config_default(&cfg);
  cfg.seed = seed;
  cfg.syncookies = mode;
  cfg.syn_backlog = n;
  cfg.max_connections = 2 * n + 16;
  tou_ep_t *ep = tou_ep_new(&cfg, 0);
  tou_ep_listen(ep, n);
  uint8_t buf[2048], out[2048];
  double t0 = seconds();
  for (unsigned i = 0; i < n; i++) {
    tou_segment_t syn = {.flags = TOU_SYN, .src_cid = (uint32_t)rnd() | 1, .seq = (uint32_t)rnd(),
                         .window = 65535};
    syn.opts.present = TOU_OPT_MSS | TOU_OPT_WSCALE | TOU_OPT_SACK_PERM | TOU_OPT_TIMESTAMP;
    syn.opts.mss = 1444;
    syn.opts.wscale = 7;
    int len = tou_wire_encode(&syn, buf, sizeof buf);
    tou_addr_t from = addr(rnd()), to;
    tou_ep_input(ep, 1000, &from, buf, (size_t)len);
    int m;
    while ((m = tou_ep_output(ep, 1000, &to, out, sizeof out)) > 0) {
      if (!ack_back) continue;
      tou_segment_t sa;
      if (tou_wire_decode(out, (size_t)m, &sa) != TOU_OK || !(sa.flags & TOU_SYN)) continue;
      tou_segment_t ack = {.flags = TOU_ACK, .dst_cid = sa.src_cid, .src_cid = syn.src_cid,
                           .seq = syn.seq + 1, .ack = sa.seq + 1, .window = 512};
      ack.opts.present = TOU_OPT_TIMESTAMP;
      int k = tou_wire_encode(&ack, buf, sizeof buf);
      tou_ep_input(ep, 1000, &from, buf, (size_t)k);
    }
  }
  double dt = seconds() - t0;
  tou_ep_stats_t st;
  tou_ep_get_stats(ep, &st);
  if (ack_back && st.cookies_validated + st.accept_queue == 0) printf("  (no connection rebuilt!)\n");
  tou_ep_free(ep);
  return n / dt;
}

int main(void) {
  const unsigned n = 200000;
  run(TOU_SYNCOOKIES_ALWAYS, 1000, false); /* warm up */
  double cookie = run(TOU_SYNCOOKIES_ALWAYS, n, false);
  double state = run(TOU_SYNCOOKIES_NEVER, n, false);
  double rebuild = run(TOU_SYNCOOKIES_ALWAYS, n / 4, true);
  printf("SYNs answered with a cookie (no state): %.0f per second\n", cookie);
  printf("SYNs answered with state (half-open connection): %.0f per second\n", state);
  printf("cookie handshakes (SYN, cookie SYN-ACK, ACK rebuilding the connection): %.0f per second\n",
         rebuild);
  printf("cookie / stateful SYN rate: x%.2f\n", cookie / state);
  return 0;
}

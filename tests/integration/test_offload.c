/* UDP segmentation offloads (GSO on send, GRO on receive; Linux): a bulk
 * transfer each way, SHA-256 verified, with offloads on at both ends, forced
 * off at both ends (tou_endpoint_options_t.disable_udp_offload), mixed, over
 * IPv6, and with a socket on which the kernel refuses GSO sends (SO_NO_CHECK:
 * Linux segments only checksummed datagrams), where the endpoint must fall
 * back to plain datagrams without losing any. Where the kernel has no
 * offloads the transfers still run; the offload counters are then checked
 * to stay zero. */
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "transfer.h"

/* Bytes each way: 3 MiB, 128 KiB under valgrind (TOU_TEST_SMALL=1), or a
 * size in KiB from argv. */
static uint64_t xfer_bytes = 3u << 20;

typedef struct offload_test {
  uv_loop_t loop;
  tou_endpoint_t server_ep, client_ep;
  tou_stream_t server, client;
  tou_connect_t connect;
  xfer_t x;
} offload_test_t;

static offload_test_t *T;

/* The descriptor(s) of the socket bound to addr in this process. */
static void set_no_check(const struct sockaddr_storage *addr) {
  int found = 0;
  for (int fd = 3; fd < 1024; fd++) {
    struct sockaddr_storage sa;
    socklen_t len = sizeof sa;
    if (getsockname(fd, (struct sockaddr *)&sa, &len) != 0) continue;
    if (sa.ss_family != addr->ss_family) continue;
    if (memcmp(&sa, addr, len) != 0) continue;
    int on = 1;
    assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_NO_CHECK, &on, sizeof on), 0);
    found++;
  }
  assert_true(found > 0);
}

/* Recent kernels pass GSO buffers through loopback whole (UDP GSO is one
 * of the software offloads every device has), so a GRO socket gets them
 * coalesced; older ones may cut them before the device. The GRO counters
 * are checked from Linux 5.6 on. */
static bool loopback_keeps_gso_buffers(void) {
  struct utsname u;
  unsigned major = 0, minor = 0;
  if (uname(&u) != 0 || sscanf(u.release, "%u.%u", &major, &minor) != 2) return false;
  return major > 5 || (major == 5 && minor >= 6);
}

typedef struct scenario {
  bool client_off, server_off, ipv6, refuse_gso;
} scenario_t;

static void run(const scenario_t *sc) {
  offload_test_t *t = calloc(1, sizeof *t);
  T = t;
  uv_loop_init(&t->loop);
  struct sockaddr_storage server_addr, client_addr;
  tou_endpoint_options_t copts, sopts;
  h_options(&copts);
  copts.send_buffer = copts.recv_buffer = 1 << 20;
  sopts = copts;
  copts.disable_udp_offload = sc->client_off;
  sopts.disable_udp_offload = sc->server_off;
  int r = h_endpoint(&t->loop, &t->server_ep, &sopts, sc->ipv6, &server_addr);
  if (r == UV_EADDRNOTAVAIL && sc->ipv6) {
    /* No IPv6 loopback here: the IPv4 cases carry the test. */
    print_message("no ::1 on this machine, IPv6 case skipped\n");
    tou_handle_t *hs[] = {(tou_handle_t *)&t->server_ep};
    h_close_and_drain(&t->loop, hs, 1);
    free(t);
    return;
  }
  assert_int_equal(r, 0);
  assert_int_equal(h_endpoint(&t->loop, &t->client_ep, &copts, sc->ipv6, &client_addr), 0);
  int gso_before = 0;
  if (sc->refuse_gso) {
    set_no_check(&client_addr);
    tou_endpoint_stats_t before;
    assert_int_equal(TOU(tou_endpoint_stats(&t->client_ep, &before)), 0);
    gso_before = before.gso;
  }
  xfer_init(&t->x, xfer_bytes, xfer_bytes);
  xfer_listen(&t->x, &t->server_ep, &t->server);
  xfer_connect(&t->x, &t->connect, &t->client_ep, &t->client, (const struct sockaddr *)&server_addr);
  h_run_until(&t->loop, &t->x.done, 30000);
  xfer_check(&t->x);

  tou_endpoint_stats_t cs, ss;
  assert_int_equal(TOU(tou_endpoint_stats(&t->client_ep, &cs)), 0);
  assert_int_equal(TOU(tou_endpoint_stats(&t->server_ep, &ss)), 0);
  print_message("client: gso %d (%llu buffers) gro %d (%llu buffers), %llu datagrams sent, "
                "%llu send errors, %llu bytes; server: gso %d (%llu) gro %d (%llu), %llu datagrams sent\n",
                cs.gso, (unsigned long long)cs.gso_buffers, cs.gro,
                (unsigned long long)cs.gro_buffers, (unsigned long long)cs.datagrams_sent,
                (unsigned long long)cs.send_errors, (unsigned long long)cs.bytes_sent, ss.gso, (unsigned long long)ss.gso_buffers,
                ss.gro, (unsigned long long)ss.gro_buffers,
                (unsigned long long)ss.datagrams_sent);
  /* Both receive paths (our GRO one and libuv's recvmmsg) feed the fast
   * path: most bytes are copied once, straight into the read buffer. */
  tou_stream_t *streams[2] = {&t->client, &t->server};
  for (int i = 0; i < 2; i++) {
    tou_stream_info_t si;
    assert_int_equal(TOU(tou_get_info(streams[i], &si)), 0);
    print_message("%s: %llu bytes in, %llu direct\n", i ? "server" : "client",
                  (unsigned long long)si.bytes_received,
                  (unsigned long long)si.bytes_received_direct);
    assert_int_equal(si.bytes_received_direct + si.bytes_received_buffered, si.bytes_received);
    assert_true(si.bytes_received_direct >= si.bytes_received / 2);
  }
  /* Forced off: not one buffer of either kind. */
  if (sc->client_off) {
    assert_int_equal(cs.gso + cs.gro, 0);
    assert_int_equal(cs.gso_buffers + cs.gro_buffers, 0);
  }
  if (sc->server_off) {
    assert_int_equal(ss.gso + ss.gro, 0);
    assert_int_equal(ss.gso_buffers + ss.gro_buffers, 0);
  }
  /* Refused by the kernel: GSO is dropped at the first send (it was on:
   * only a refusal turns it off), and no datagram is lost for it. */
  if (sc->refuse_gso) {
    if (!gso_before) print_message("no UDP GSO in this kernel: fallback not exercised\n");
    assert_int_equal(cs.gso, 0);
    assert_int_equal(cs.gso_buffers, 0);
    assert_int_equal(cs.send_errors, 0);
  }
  /* Where the kernel has GSO, a bulk of full segments goes out in runs; a
   * GRO receiver on loopback gets such a run whole. */
  if (!sc->server_off && ss.gso) assert_true(ss.gso_buffers > 0);
  if (!sc->client_off && !sc->refuse_gso && cs.gso) {
    assert_true(cs.gso_buffers > 0);
    if (ss.gro && loopback_keeps_gso_buffers()) assert_true(ss.gro_buffers > 0);
  }
  if (!sc->server_off && ss.gso && cs.gro && loopback_keeps_gso_buffers())
    assert_true(cs.gro_buffers > 0);

  tou_handle_t *hs[] = {(tou_handle_t *)&t->client, (tou_handle_t *)&t->server,
                        (tou_handle_t *)&t->client_ep, (tou_handle_t *)&t->server_ep};
  h_close_and_drain(&t->loop, hs, 4);
  xfer_free(&t->x);
  free(t);
}

static void offload_on(void **state) {
  (void)state;
  scenario_t sc = {false, false, false, false};
  run(&sc);
}

static void offload_forced_off(void **state) {
  (void)state;
  scenario_t sc = {true, true, false, false};
  run(&sc);
}

/* A GSO sender to a plain receiver (the kernel cuts the buffer at the
 * socket) and a plain sender to a GRO receiver. */
static void offload_mixed(void **state) {
  (void)state;
  scenario_t sc = {true, false, false, false};
  run(&sc);
}

static void offload_on_ipv6(void **state) {
  (void)state;
  scenario_t sc = {false, false, true, false};
  run(&sc);
}

static void offload_refused_falls_back(void **state) {
  (void)state;
  scenario_t sc = {false, false, false, true};
  run(&sc);
}

int main(int argc, char **argv) {
  if (h_small()) xfer_bytes = 128u << 10;
  if (argc > 1 && strtoull(argv[1], NULL, 10) > 0) xfer_bytes = strtoull(argv[1], NULL, 10) << 10;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(offload_on),
      cmocka_unit_test(offload_forced_off),
      cmocka_unit_test(offload_mixed),
      cmocka_unit_test(offload_on_ipv6),
      cmocka_unit_test(offload_refused_falls_back),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

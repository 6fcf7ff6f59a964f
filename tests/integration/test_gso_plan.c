/* The UDP GSO grouping rules (src/uv/gso.c), without sockets: which
 * consecutive datagrams leave as one buffer the kernel cuts every seg_size
 * bytes. */
#include <arpa/inet.h>
#include <netinet/in.h>

#include "gso.h"
#include "harness.h"

static struct sockaddr_storage v4(const char *ip, uint16_t port) {
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  uv_ip4_addr(ip, port, (struct sockaddr_in *)&ss);
  return ss;
}

static struct sockaddr_storage v6(const char *ip, uint16_t port, uint32_t scope) {
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  uv_ip6_addr(ip, port, (struct sockaddr_in6 *)&ss);
  ((struct sockaddr_in6 *)&ss)->sin6_scope_id = scope;
  return ss;
}

#define N 200
static size_t lens[N];
static struct sockaddr_storage addrs[N];
static tou_gso_group_t groups[N];

/* n datagrams of size len to one address. */
static void same(unsigned n, size_t len) {
  struct sockaddr_storage a = v4("127.0.0.1", 4000);
  for (unsigned i = 0; i < n; i++) {
    lens[i] = len;
    addrs[i] = a;
  }
}

static unsigned plan(unsigned n) {
  return tou__gso_plan(lens, addrs, n, TOU_GSO_MAX_BYTES, TOU_GSO_MAX_SEGMENTS, groups);
}

/* Every datagram is in exactly one group, in order; each group obeys the
 * kernel's rules. */
static void check_invariants(unsigned n, unsigned ng, size_t max_bytes, unsigned max_segs) {
  unsigned next = 0;
  for (unsigned k = 0; k < ng; k++) {
    const tou_gso_group_t *g = &groups[k];
    assert_int_equal(g->first, next);
    assert_true(g->count >= 1 && g->count <= max_segs);
    assert_int_equal(g->seg_size, lens[g->first]);
    size_t bytes = 0;
    for (unsigned i = 0; i < g->count; i++) {
      size_t l = lens[g->first + i];
      bytes += l;
      assert_true(tou__gso_same_dest(&addrs[g->first], &addrs[g->first + i]));
      if (i + 1 < g->count) assert_int_equal(l, g->seg_size); /* only the tail is short */
      else assert_true(l <= g->seg_size);
    }
    assert_int_equal(bytes, g->bytes);
    if (g->count > 1) assert_true(bytes <= max_bytes);
    next += g->count;
  }
  assert_int_equal(next, n);
}

static void empty_batch(void **state) {
  (void)state;
  assert_int_equal(plan(0), 0);
}

static void one_datagram(void **state) {
  (void)state;
  same(1, 1472);
  assert_int_equal(plan(1), 1);
  assert_int_equal(groups[0].count, 1);
  assert_int_equal(groups[0].bytes, 1472);
}

/* 1472-byte datagrams: 44 fit under 65507 bytes (44 * 1472 = 64768). */
static void full_runs_split_by_bytes(void **state) {
  (void)state;
  same(100, 1472);
  unsigned ng = plan(100);
  check_invariants(100, ng, TOU_GSO_MAX_BYTES, TOU_GSO_MAX_SEGMENTS);
  assert_int_equal(ng, 3);
  assert_int_equal(groups[0].count, 44);
  assert_int_equal(groups[1].count, 44);
  assert_int_equal(groups[2].count, 12);
  assert_int_equal(groups[0].seg_size, 1472);
}

/* Small datagrams: the 64-segment limit comes first. */
static void small_runs_split_by_segments(void **state) {
  (void)state;
  same(130, 100);
  unsigned ng = plan(130);
  check_invariants(130, ng, TOU_GSO_MAX_BYTES, TOU_GSO_MAX_SEGMENTS);
  assert_int_equal(ng, 3);
  assert_int_equal(groups[0].count, 64);
  assert_int_equal(groups[1].count, 64);
  assert_int_equal(groups[2].count, 2);
}

/* A shorter datagram ends its group; the next starts a new one. */
static void short_tail_closes_group(void **state) {
  (void)state;
  same(6, 1000);
  lens[2] = 400; /* tail of group 0 */
  lens[5] = 999; /* tail of group 1 */
  unsigned ng = plan(6);
  check_invariants(6, ng, TOU_GSO_MAX_BYTES, TOU_GSO_MAX_SEGMENTS);
  assert_int_equal(ng, 2);
  assert_int_equal(groups[0].count, 3);
  assert_int_equal(groups[0].bytes, 2400);
  assert_int_equal(groups[1].first, 3);
  assert_int_equal(groups[1].count, 3);
}

/* A larger datagram cannot join: the kernel would cut it at seg_size. */
static void larger_datagram_starts_group(void **state) {
  (void)state;
  same(4, 500);
  lens[2] = 600;
  unsigned ng = plan(4);
  check_invariants(4, ng, TOU_GSO_MAX_BYTES, TOU_GSO_MAX_SEGMENTS);
  assert_int_equal(ng, 2);
  assert_int_equal(groups[0].count, 2);
  assert_int_equal(groups[1].first, 2);
  assert_int_equal(groups[1].seg_size, 600);
  assert_int_equal(groups[1].count, 2); /* 600 then 500: the short tail */
}

/* Another destination (address, port, family or IPv6 scope) never joins,
 * and order is kept: A A B A gives three groups. */
static void destinations_split_groups(void **state) {
  (void)state;
  same(4, 1200);
  addrs[2] = v4("127.0.0.1", 4001);
  unsigned ng = plan(4);
  check_invariants(4, ng, TOU_GSO_MAX_BYTES, TOU_GSO_MAX_SEGMENTS);
  assert_int_equal(ng, 3);
  assert_int_equal(groups[0].count, 2);
  assert_int_equal(groups[1].count, 1);
  assert_int_equal(groups[2].count, 1);

  struct sockaddr_storage a = v4("127.0.0.1", 4000), b = v4("127.0.0.2", 4000);
  assert_false(tou__gso_same_dest(&a, &b));
  struct sockaddr_storage x = v6("::1", 4000, 0), y = v6("::1", 4000, 2), z = v6("::1", 4000, 0);
  assert_false(tou__gso_same_dest(&x, &y));
  assert_true(tou__gso_same_dest(&x, &z));
  assert_false(tou__gso_same_dest(&a, &x));
  /* Stray bytes past the address (sin_zero, flowinfo) do not matter. */
  ((struct sockaddr_in *)&b)->sin_addr.s_addr = htonl(0x7f000001);
  memset(((struct sockaddr_in *)&b)->sin_zero, 0xff, sizeof((struct sockaddr_in *)&b)->sin_zero);
  assert_true(tou__gso_same_dest(&a, &b));
  ((struct sockaddr_in6 *)&z)->sin6_flowinfo = 7;
  assert_true(tou__gso_same_dest(&x, &z));
}

/* An empty datagram is never grouped (a zero segment size is invalid). */
static void empty_datagrams_stand_alone(void **state) {
  (void)state;
  same(4, 0);
  lens[2] = 10;
  lens[3] = 10;
  unsigned ng = plan(4);
  assert_int_equal(ng, 3);
  assert_int_equal(groups[0].count, 1);
  assert_int_equal(groups[1].count, 1);
  assert_int_equal(groups[2].count, 2);
}

/* Limits are the caller's: a 3-segment, 3000-byte cap. */
static void custom_limits(void **state) {
  (void)state;
  same(10, 1000);
  unsigned ng = tou__gso_plan(lens, addrs, 10, 2500, 3, groups);
  check_invariants(10, ng, 2500, 3);
  assert_int_equal(ng, 5);
  for (unsigned k = 0; k < ng; k++) assert_int_equal(groups[k].count, 2);
  ng = tou__gso_plan(lens, addrs, 10, 3000, 3, groups);
  check_invariants(10, ng, 3000, 3);
  assert_int_equal(ng, 4);
  assert_int_equal(groups[3].count, 1);
}

/* A seeded mix of sizes and destinations: the invariants always hold, and
 * no two neighbouring groups could have been one. */
static void random_batches_keep_invariants(void **state) {
  (void)state;
  uint64_t x = 88172645463325252ull;
  for (int round = 0; round < 2000; round++) {
    unsigned n = 0;
    for (; n < N; n++) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      static const size_t sizes[] = {1472, 1472, 1472, 1472, 60, 1000, 16412};
      lens[n] = sizes[x % 7];
      addrs[n] = v4("127.0.0.1", (uint16_t)(4000 + (x >> 8) % 2 * ((x >> 9) % 3 == 0)));
      if ((x >> 20) % 50 == 0) break;
    }
    unsigned ng = plan(n);
    check_invariants(n, ng, TOU_GSO_MAX_BYTES, TOU_GSO_MAX_SEGMENTS);
    for (unsigned k = 0; k + 1 < ng; k++) {
      const tou_gso_group_t *g = &groups[k], *h = &groups[k + 1];
      bool could_join = g->count < TOU_GSO_MAX_SEGMENTS &&
                        lens[g->first + g->count - 1] == g->seg_size &&
                        lens[h->first] <= g->seg_size &&
                        g->bytes + lens[h->first] <= TOU_GSO_MAX_BYTES &&
                        tou__gso_same_dest(&addrs[g->first], &addrs[h->first]);
      assert_false(could_join);
    }
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(empty_batch),
      cmocka_unit_test(one_datagram),
      cmocka_unit_test(full_runs_split_by_bytes),
      cmocka_unit_test(small_runs_split_by_segments),
      cmocka_unit_test(short_tail_closes_group),
      cmocka_unit_test(larger_datagram_starts_group),
      cmocka_unit_test(destinations_split_groups),
      cmocka_unit_test(empty_datagrams_stand_alone),
      cmocka_unit_test(custom_limits),
      cmocka_unit_test(random_batches_keep_invariants),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

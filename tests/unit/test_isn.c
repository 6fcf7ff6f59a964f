/* Initial sequence numbers (RFC 6528) and the per-endpoint RNG. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core.h"
#include "isn.h"
#include "rng.h"

static tou_addr_t addr(const char *s) {
  tou_addr_t a;
  memset(&a, 0, sizeof a);
  a.len = (uint8_t)strlen(s);
  memcpy(a.bytes, s, a.len);
  return a;
}

static void isn_follows_clock_for_same_ids(void **state) {
  (void)state;
  uint8_t key[TOU_ISN_KEY_LEN] = {1, 2, 3};
  tou_addr_t p = addr("peer");
  tou_seq_t a = isn_generate(key, 1000000, 5, 6, &p);
  tou_seq_t b = isn_generate(key, 1000000 + 4000, 5, 6, &p);
  assert_int_equal(b - a, 1000); /* M ticks every 4 us */
  assert_int_equal(isn_generate(key, 1000000, 5, 6, &p), a);
}

static void isn_unrelated_across_ids_addresses_and_keys(void **state) {
  (void)state;
  uint8_t key[TOU_ISN_KEY_LEN] = {1, 2, 3}, key2[TOU_ISN_KEY_LEN] = {9};
  tou_addr_t p = addr("peer"), q = addr("peeq");
  tou_seq_t base = isn_generate(key, 0, 5, 6, &p);
  tou_seq_t v[] = {isn_generate(key, 0, 4, 6, &p), isn_generate(key, 0, 5, 7, &p),
                   isn_generate(key, 0, 5, 6, &q), isn_generate(key2, 0, 5, 6, &p)};
  for (size_t i = 0; i < 4; i++) {
    assert_int_not_equal(v[i], base);
    /* Not a small offset from one another (a counter would be). */
    uint32_t d = v[i] - base;
    assert_true(d > 1000000 && d < UINT32_MAX - 1000000);
  }
}

static void seeded_rng_is_deterministic_and_distinct(void **state) {
  (void)state;
  uint8_t s1[32] = {1}, s2[32] = {2};
  tou_rng_t a, b, c;
  rng_init(&a, s1);
  rng_init(&b, s1);
  rng_init(&c, s2);
  uint8_t x[100], y[100], z[100];
  rng_bytes(&a, x, 37);
  rng_bytes(&a, x + 37, 63); /* split reads give the same stream */
  rng_bytes(&b, y, 100);
  rng_bytes(&c, z, 100);
  assert_memory_equal(x, y, 100);
  assert_memory_not_equal(x, z, 100);
  assert_int_not_equal(rng_u64(&a), rng_u64(&a));
}

static void system_rng_differs(void **state) {
  (void)state;
  tou_rng_t a;
  assert_int_equal(rng_init(&a, NULL), 0);
  assert_int_not_equal(rng_u64(&a), rng_u64(&a));
}

/* Endpoints with the same seed choose the same ids and ISNs; with
 * different seeds, different ones. */
static void endpoint_ids_come_from_its_rng(void **state) {
  (void)state;
  uint8_t s1[32] = {7}, s2[32] = {8};
  tou_config_t cfg;
  tou_config_default(&cfg);
  tou_addr_t p = addr("x");
  uint32_t cids[3];
  for (int i = 0; i < 3; i++) {
    cfg.seed = i == 2 ? s2 : s1;
    tou_ep_t *ep = tou_ep_new(&cfg, 0);
    int err;
    tou_conn_t *c = tou_ep_connect(ep, 0, &p, &err);
    cids[i] = tou_conn_local_cid(c);
    assert_int_not_equal(cids[i], 0);
    tou_ep_free(ep);
  }
  assert_int_equal(cids[0], cids[1]);
  assert_int_not_equal(cids[0], cids[2]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(isn_follows_clock_for_same_ids),
      cmocka_unit_test(isn_unrelated_across_ids_addresses_and_keys),
      cmocka_unit_test(seeded_rng_is_deterministic_and_distinct),
      cmocka_unit_test(system_rng_differs),
      cmocka_unit_test(endpoint_ids_come_from_its_rng),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

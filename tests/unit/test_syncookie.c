/* SYN cookies (syncookie.h): every option combination survives the round
 * trip, the MSS is rounded down to the table, a cookie is valid between
 * half its lifetime and its lifetime and not after, any change to what the
 * MAC covers is refused, and the server cid is deterministic and non-zero.
 * Also the HyperLogLog sketch (hll.h), the flood detector (flood.h) and the
 * replay filter (cookie_replay.h) that go with them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cookie_replay.h"
#include "flood.h"
#include "hll.h"
#include "syncookie.h"

#define SEC 1000000ull
#define LIFE (64 * SEC)

static const uint8_t key[TOU_SYNCOOKIE_KEY_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

static tou_addr_t addr(uint8_t last) {
  tou_addr_t a = {.len = 6, .bytes = {10, 0, 0, last, 0x1f, 0x90}};
  return a;
}

static void round_trip_all_options(void **state) {
  (void)state;
  tou_addr_t peer = addr(1);
  static const uint16_t mss_in[] = {0, 63, 64, 500, 536, 1200, 1204, 1400, 1444, 1460, 9000, 65535};
  static const uint16_t mss_out[] = {1204, 1204, 64, 64, 536, 1024, 1204, 1380, 1444, 1444, 8940, 8940};
  for (size_t m = 0; m < sizeof mss_in / sizeof mss_in[0]; m++) {
    for (int ws = -1; ws <= 14; ws++) {
      for (int flags = 0; flags < 4; flags++) {
        tou_options_t syn = {.present = TOU_OPT_TIMESTAMP * (flags & 1) |
                                        TOU_OPT_SACK_PERM * !!(flags & 2)};
        if (mss_in[m]) syn.present |= TOU_OPT_MSS, syn.mss = mss_in[m];
        if (ws >= 0) syn.present |= TOU_OPT_WSCALE, syn.wscale = (uint8_t)ws;
        syncookie_opts_t o, back;
        syncookie_opts_from_syn(&syn, &o);
        assert_int_equal(o.mss, mss_out[m]);
        syncookie_id_t id = {.peer = &peer, .client_cid = 0x1234 + (uint32_t)m,
                             .client_isn = 0xfffffff0u + (uint32_t)ws};
        uint32_t scid = syncookie_server_cid(key, &id, &o, 0);
        assert_int_not_equal(scid, 0);
        assert_int_equal(scid, syncookie_server_cid(key, &id, &o, 0)); /* deterministic */
        assert_int_not_equal(scid, syncookie_server_cid(key, &id, &o, 1));
        tou_seq_t iss = syncookie_iss(key, 1000 * SEC, LIFE, &id, scid);
        uint64_t counter;
        assert_int_equal(syncookie_check(key, 1000 * SEC + 1, LIFE, &id, scid, iss, &back, &counter),
                         TOU_OK);
        assert_int_equal(back.mss, o.mss);
        assert_int_equal(back.wscale_ok, ws >= 0);
        assert_int_equal(back.wscale, ws >= 0 ? ws : 0);
        assert_int_equal(back.sack_ok, (flags & 2) != 0);
        assert_int_equal(back.ts_ok, (flags & 1) != 0);
      }
    }
  }
}

static void lifetime(void **state) {
  (void)state;
  tou_addr_t peer = addr(2);
  syncookie_id_t id = {.peer = &peer, .client_cid = 7, .client_isn = 99};
  syncookie_opts_t o = {.mss = 1444}, back;
  uint32_t scid = syncookie_server_cid(key, &id, &o, 0);
  uint64_t made = 320 * SEC + 5; /* just after the start of period 10 (32 s each) */
  tou_seq_t iss = syncookie_iss(key, made, LIFE, &id, scid);
  uint64_t c;
  assert_int_equal(syncookie_check(key, made, LIFE, &id, scid, iss, &back, &c), TOU_OK);
  assert_int_equal(c, 10);
  /* Valid through the next period, refused from the one after. */
  assert_int_equal(syncookie_check(key, 384 * SEC - 1, LIFE, &id, scid, iss, &back, &c), TOU_OK);
  assert_int_equal(syncookie_check(key, 384 * SEC, LIFE, &id, scid, iss, &back, &c),
                   TOU_ERR_TIMEDOUT);
  /* Four periods later the counter bits match again: the MAC does not. */
  assert_int_equal(syncookie_check(key, made + 128 * SEC, LIFE, &id, scid, iss, &back, &c),
                   TOU_ERR_INVAL);
  /* At time 0 no earlier period exists. */
  tou_seq_t old = (3u << 30) | (iss & 0x3fffffffu);
  assert_int_equal(syncookie_check(key, 0, LIFE, &id, scid, old, &back, &c), TOU_ERR_TIMEDOUT);
}

static void tampering_refused(void **state) {
  (void)state;
  tou_addr_t peer = addr(3), other = addr(4);
  syncookie_id_t id = {.peer = &peer, .client_cid = 0xabcdef, .client_isn = 0x11111111};
  syncookie_opts_t o = {.mss = 1444, .wscale_ok = true, .wscale = 7, .sack_ok = true}, back;
  uint32_t scid = syncookie_server_cid(key, &id, &o, 0);
  uint64_t now = 5000 * SEC, c;
  tou_seq_t iss = syncookie_iss(key, now, LIFE, &id, scid);
  for (int bit = 0; bit < 32; bit++) {
    assert_int_not_equal(syncookie_check(key, now, LIFE, &id, scid, iss ^ (1u << bit), &back, &c),
                         TOU_OK);
    /* Flipping an option bit of the cid (or any other) breaks the MAC. */
    assert_int_not_equal(syncookie_check(key, now, LIFE, &id, scid ^ (1u << bit), iss, &back, &c),
                         TOU_OK);
  }
  syncookie_id_t t = id;
  t.peer = &other;
  assert_int_equal(syncookie_check(key, now, LIFE, &t, scid, iss, &back, &c), TOU_ERR_INVAL);
  t = id;
  t.client_cid++;
  assert_int_equal(syncookie_check(key, now, LIFE, &t, scid, iss, &back, &c), TOU_ERR_INVAL);
  t = id;
  t.client_isn++;
  assert_int_equal(syncookie_check(key, now, LIFE, &t, scid, iss, &back, &c), TOU_ERR_INVAL);
  uint8_t key2[TOU_SYNCOOKIE_KEY_LEN];
  memcpy(key2, key, sizeof key2);
  key2[0] ^= 1;
  assert_int_equal(syncookie_check(key2, now, LIFE, &id, scid, iss, &back, &c), TOU_ERR_INVAL);
  /* Timestamp offsets: a function of the cid alone, different per cid. */
  assert_int_equal(syncookie_ts_offset(key, scid), syncookie_ts_offset(key, scid));
  assert_int_not_equal(syncookie_ts_offset(key, scid), syncookie_ts_offset(key, scid + 1));
}

static uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

static void hll_accuracy(void **state) {
  (void)state;
  static tou_hll_t h;
  hll_clear(&h);
  assert_int_equal(hll_estimate(&h), 0);
  static const uint64_t sizes[] = {1, 10, 100, 1000, 10000, 100000, 1000000};
  uint64_t added = 0;
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    for (; added < sizes[i]; added++) {
      hll_add(&h, mix(added));
      hll_add(&h, mix(added)); /* duplicates do not count */
    }
    double e = (double)hll_estimate(&h), n = (double)sizes[i];
    print_message("n %.0f estimate %.0f\n", n, e);
    assert_true(e >= n * 0.93 - 1 && e <= n * 1.07 + 1);
  }
}

static void flood_enters_and_leaves(void **state) {
  (void)state;
  tou_config_t cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.syn_flood_rate = 100;
  cfg.syn_flood_quiet_us = 10 * SEC;
  cfg.syncookie_lifetime_us = LIFE;
  tou_flood_t f;
  tou_ep_stats_t st;
  memset(&st, 0, sizeof st);
  flood_init(&f);
  uint64_t t = 1000 * SEC;
  /* 100 SYNs in one second: no flood. */
  for (int i = 0; i < 100; i++) assert_false(flood_on_syn(&f, &cfg, &st, t + i * 1000, mix(i), false));
  assert_false(f.active);
  /* The 101st within the second: flood, cookies from this SYN on. */
  assert_true(flood_on_syn(&f, &cfg, &st, t + 200000, mix(500), false));
  assert_true(f.active);
  assert_int_equal(st.syn_floods, 1);
  /* A full queue is pressure too. */
  t += 5 * SEC;
  assert_true(flood_on_syn(&f, &cfg, &st, t, mix(501), true));
  assert_int_equal(flood_deadline(&f), 1000 * SEC + 200000 + 10 * SEC);
  flood_on_timer(&f, &cfg, flood_deadline(&f), false);
  assert_true(f.active); /* pressure at t: calm from t + 10 s */
  assert_int_equal(flood_deadline(&f), t + 10 * SEC);
  /* Calm, but the queue is still full: checked again every second. */
  flood_on_timer(&f, &cfg, t + 10 * SEC, true);
  assert_true(f.active);
  assert_int_equal(flood_deadline(&f), t + 11 * SEC);
  flood_on_timer(&f, &cfg, t + 11 * SEC, false);
  assert_false(f.active);
  assert_int_equal(flood_deadline(&f), TOU_NEVER);
  flood_get_stats(&f, &st);
  assert_false(st.syn_flood);
  assert_int_equal(st.syn_flood_sources, 2);
  assert_int_equal(st.syns_received, 102);
  /* Cookie ACKs are looked at only within a lifetime of the last cookie. */
  assert_false(flood_cookie_acks_expected(&f, &cfg, t));
  flood_cookie_sent(&f, t);
  assert_true(flood_cookie_acks_expected(&f, &cfg, t + LIFE));
  assert_false(flood_cookie_acks_expected(&f, &cfg, t + LIFE + 1));
  /* Policies. */
  cfg.syncookies = TOU_SYNCOOKIES_ALWAYS;
  assert_true(flood_on_syn(&f, &cfg, &st, t + 100 * SEC, mix(1), false));
  cfg.syncookies = TOU_SYNCOOKIES_NEVER;
  assert_false(flood_on_syn(&f, &cfg, &st, t + 100 * SEC, mix(1), true));
  assert_true(f.active); /* still detected and reported */
}

static cookie_replay_key_t rkey(uint32_t i) {
  return (cookie_replay_key_t){.server_cid = 0x100 + i, .client_cid = 7, .client_isn = i * 3,
                               .iss = 0xabc0 + i};
}

static bool seen(cookie_replay_t *r, uint64_t counter, uint32_t i, uint64_t hash) {
  cookie_replay_key_t k = rkey(i);
  return cookie_replay_check_and_add(r, counter, &k, hash);
}

static void replay_filter(void **state) {
  (void)state;
  const tou_allocator_t a = {0};
  cookie_replay_t *r = cookie_replay_new(&a, 4);
  assert_non_null(r);
  assert_int_equal(r->cap, 4);
  assert_false(seen(r, 10, 1, mix(1)));
  assert_true(seen(r, 10, 1, mix(1)));
  /* Exact: same bucket (even the same hash), different handshake. */
  assert_false(seen(r, 10, 2, mix(1)));
  assert_true(seen(r, 10, 2, mix(1)));
  assert_false(seen(r, 11, 3, mix(3))); /* next period: 10's still remembered */
  assert_true(seen(r, 11, 1, mix(1)));
  /* Full (4): the oldest (1) is evicted first, and its replay accepted. */
  assert_false(seen(r, 11, 4, mix(4)));
  assert_false(seen(r, 11, 5, mix(5)));
  assert_int_equal(r->count, 4);
  assert_int_equal(r->evicted, 1);
  assert_false(seen(r, 11, 1, mix(1))); /* evicted: accepted (and recorded again) */
  assert_true(seen(r, 11, 5, mix(5)));
  /* Period 13: everything of 10 and 11 has expired and is forgotten. */
  assert_false(seen(r, 13, 9, mix(9)));
  assert_int_equal(r->count, 1);
  cookie_replay_free(&a, r);
  /* 100,000 distinct handshakes through a record of 1000: never one taken
   * for a replay; the memory is that of 1000 entries. */
  r = cookie_replay_new(&a, 1000);
  for (uint32_t i = 0; i < 100000; i++) assert_false(seen(r, 20, 1000 + i, mix(i)));
  for (uint32_t i = 99000; i < 100000; i++) assert_true(seen(r, 20, 1000 + i, mix(i)));
  assert_true(cookie_replay_bytes(1000) < 1000 * 48 + 256);
  assert_int_equal(cookie_replay_bytes(0), cookie_replay_bytes(1));
  cookie_replay_free(&a, r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(round_trip_all_options), cmocka_unit_test(lifetime),
      cmocka_unit_test(tampering_refused),      cmocka_unit_test(hll_accuracy),
      cmocka_unit_test(flood_enters_and_leaves), cmocka_unit_test(replay_filter),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

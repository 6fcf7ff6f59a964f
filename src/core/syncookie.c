#include "syncookie.h"

#include <sodium.h>
#include <string.h>

/* MSS values a cookie can carry (3 bits): the client's offer is rounded
 * down to one of them, as Linux does with its msstab. 1204 and 1444 are the
 * IPv6-minimum and IPv4 defaults, so the common offers survive exactly. */
static const uint16_t mss_table[8] = {64, 536, 1024, 1204, 1280, 1380, 1444, 8940};

#define WSCALE_NONE 15u
#define OPT_BITS 9u
#define OPT_MASK ((1u << OPT_BITS) - 1)
#define MAC_MASK 0x3fffffffu

/* Domain separation: the cid hash and the MAC use one key. */
enum { DOMAIN_CID = 1, DOMAIN_MAC = 2, DOMAIN_TS = 3 };

typedef struct hbuf {
  uint8_t b[64];
  size_t n;
} hbuf_t;

static void put(hbuf_t *h, const void *p, size_t len) {
  memcpy(h->b + h->n, p, len);
  h->n += len;
}

static void put_u32(hbuf_t *h, uint32_t v) {
  uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
  put(h, b, 4);
}

static void put_id(hbuf_t *h, const syncookie_id_t *id) {
  uint8_t alen = id->peer->len <= sizeof id->peer->bytes ? id->peer->len : 0;
  put(h, &alen, 1);
  put(h, id->peer->bytes, alen);
  put_u32(h, id->client_cid);
  put_u32(h, id->client_isn);
}

static uint64_t hash(const uint8_t key[TOU_SYNCOOKIE_KEY_LEN], const hbuf_t *h) {
  uint8_t out[crypto_shorthash_BYTES];
  crypto_shorthash(out, h->b, h->n, key);
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = v << 8 | out[i];
  return v;
}

void syncookie_opts_from_syn(const tou_options_t *syn, syncookie_opts_t *out) {
  /* Without a usable MSS option the connection assumes the IPv6 default
   * (conn_open.c negotiate()); the cookie must rebuild the same value. */
  uint32_t mss = (syn->present & TOU_OPT_MSS) && syn->mss >= 64 ? syn->mss : TOU_MSS_DEFAULT_V6;
  unsigned i = 7;
  while (i > 0 && mss_table[i] > mss) i--;
  out->mss = mss_table[i];
  out->wscale_ok = (syn->present & TOU_OPT_WSCALE) != 0;
  out->wscale = out->wscale_ok ? (syn->wscale > 14 ? 14 : syn->wscale) : 0;
  out->sack_ok = (syn->present & TOU_OPT_SACK_PERM) != 0;
  out->ts_ok = (syn->present & TOU_OPT_TIMESTAMP) != 0;
}

static uint32_t encode_opts(const syncookie_opts_t *o) {
  unsigned idx = 0;
  while (idx < 7 && mss_table[idx + 1] <= o->mss) idx++;
  uint32_t ws = o->wscale_ok ? o->wscale : WSCALE_NONE;
  return idx | ws << 3 | (uint32_t)o->sack_ok << 7 | (uint32_t)o->ts_ok << 8;
}

static bool decode_opts(uint32_t bits, syncookie_opts_t *o) {
  uint32_t ws = bits >> 3 & 15u;
  if (ws > 14 && ws != WSCALE_NONE) return false;
  o->mss = mss_table[bits & 7u];
  o->wscale_ok = ws != WSCALE_NONE;
  o->wscale = o->wscale_ok ? (uint8_t)ws : 0;
  o->sack_ok = (bits >> 7 & 1u) != 0;
  o->ts_ok = (bits >> 8 & 1u) != 0;
  return true;
}

uint32_t syncookie_server_cid(const uint8_t key[TOU_SYNCOOKIE_KEY_LEN], const syncookie_id_t *id,
                              const syncookie_opts_t *opts, unsigned attempt) {
  uint32_t bits = encode_opts(opts);
  for (;; attempt += 0x10000u) {
    hbuf_t h = {.n = 0};
    uint8_t d = DOMAIN_CID;
    put(&h, &d, 1);
    put_id(&h, id);
    put_u32(&h, attempt);
    uint32_t cid = (uint32_t)(hash(key, &h) & 0x7fffffu) << OPT_BITS | bits;
    if (cid != 0) return cid;
  }
}

static uint32_t mac(const uint8_t key[TOU_SYNCOOKIE_KEY_LEN], uint64_t counter,
                    const syncookie_id_t *id, uint32_t server_cid) {
  hbuf_t h = {.n = 0};
  uint8_t d = DOMAIN_MAC;
  put(&h, &d, 1);
  put_u32(&h, (uint32_t)counter);
  put_u32(&h, (uint32_t)(counter >> 32));
  put_id(&h, id);
  put_u32(&h, server_cid);
  return (uint32_t)hash(key, &h) & MAC_MASK;
}

static uint64_t period_of(uint64_t lifetime_us) {
  uint64_t p = lifetime_us / 2;
  return p > 0 ? p : 1;
}

tou_seq_t syncookie_iss(const uint8_t key[TOU_SYNCOOKIE_KEY_LEN], uint64_t now_us,
                        uint64_t lifetime_us, const syncookie_id_t *id, uint32_t server_cid) {
  uint64_t counter = now_us / period_of(lifetime_us);
  return (uint32_t)(counter & 3u) << 30 | mac(key, counter, id, server_cid);
}

int syncookie_check(const uint8_t key[TOU_SYNCOOKIE_KEY_LEN], uint64_t now_us,
                    uint64_t lifetime_us, const syncookie_id_t *id, uint32_t server_cid,
                    tou_seq_t iss, syncookie_opts_t *opts, uint64_t *counter) {
  uint64_t now_counter = now_us / period_of(lifetime_us);
  /* The two counter bits name the period the cookie was made in, among the
   * last four; only the current and the previous one are still valid. */
  uint64_t age = (now_counter - (iss >> 30)) & 3u;
  if (age > 1 || age > now_counter) return TOU_ERR_TIMEDOUT;
  uint64_t c = now_counter - age;
  uint32_t want = mac(key, c, id, server_cid), got = iss & MAC_MASK;
  /* Constant time: the comparison must not tell how many bits matched. */
  if (sodium_memcmp(&want, &got, sizeof want) != 0) return TOU_ERR_INVAL;
  if (!decode_opts(server_cid & OPT_MASK, opts)) return TOU_ERR_INVAL;
  *counter = c;
  return TOU_OK;
}

uint32_t syncookie_ts_offset(const uint8_t key[TOU_SYNCOOKIE_KEY_LEN], uint32_t server_cid) {
  hbuf_t h = {.n = 0};
  uint8_t d = DOMAIN_TS;
  put(&h, &d, 1);
  put_u32(&h, server_cid);
  return (uint32_t)hash(key, &h);
}

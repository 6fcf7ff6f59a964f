/* Segment codec (docs/PROTOCOL.md): round trips, the documented examples
 * byte-exact, one error per malformation class, corruption detection, encoder
 * errors and the version-reject datagram. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "error.h"
#include "wire.h"

/* ---- the worked examples of docs/PROTOCOL.md (same bytes) -------------- */

#define C_CID 0x1a2b3c4du /* client's connection identifier */
#define S_CID 0x9e8f7a6bu /* server's connection identifier */
#define C_ISN 0x12345678u
#define S_ISN 0xabcdef01u

static const uint8_t ex_syn[] = {
    0x01, 0x0c, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x1a, 0x2b, 0x3c, 0x4d, 0x12, 0x34, 0x56, 0x78,
    0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0x00, 0x00, 0x73, 0x72, 0x51, 0x57, 0x02, 0x04, 0x05, 0xa4,
    0x03, 0x03, 0x07, 0x04, 0x02, 0x08, 0x0a, 0x00, 0x00, 0x03, 0xe8, 0x00, 0x00, 0x00, 0x00, 0x00};
static const uint8_t ex_synack[] = {
    0x01, 0x0c, 0x00, 0x12, 0x1a, 0x2b, 0x3c, 0x4d, 0x9e, 0x8f, 0x7a, 0x6b, 0xab, 0xcd, 0xef, 0x01,
    0x12, 0x34, 0x56, 0x79, 0xff, 0xff, 0x00, 0x00, 0x0a, 0x6d, 0xd9, 0xf3, 0x02, 0x04, 0x05, 0xa4,
    0x03, 0x03, 0x07, 0x04, 0x02, 0x08, 0x0a, 0x00, 0x00, 0x13, 0x88, 0x00, 0x00, 0x03, 0xe8, 0x00};
static const uint8_t ex_ack[] = {
    0x01, 0x0a, 0x00, 0x10, 0x9e, 0x8f, 0x7a, 0x6b, 0x1a, 0x2b, 0x3c, 0x4d, 0x12, 0x34, 0x56, 0x79,
    0xab, 0xcd, 0xef, 0x02, 0x02, 0x00, 0x00, 0x00, 0xed, 0x64, 0x3e, 0x5d, 0x08, 0x0a, 0x00, 0x00,
    0x03, 0xf2, 0x00, 0x00, 0x13, 0x88, 0x00, 0x00};
static const uint8_t ex_data[] = {
    0x01, 0x0a, 0x00, 0x18, 0x9e, 0x8f, 0x7a, 0x6b, 0x1a, 0x2b, 0x3c, 0x4d, 0x12, 0x34, 0x56, 0x79,
    0xab, 0xcd, 0xef, 0x02, 0x02, 0x00, 0x00, 0x00, 0x9e, 0x92, 0xdf, 0x23, 0x08, 0x0a, 0x00, 0x00,
    0x03, 0xfc, 0x00, 0x00, 0x13, 0x88, 0x00, 0x00, 0x68, 0x65, 0x6c, 0x6c, 0x6f};
static const uint8_t ex_fin[] = {
    0x01, 0x0a, 0x00, 0x11, 0x9e, 0x8f, 0x7a, 0x6b, 0x1a, 0x2b, 0x3c, 0x4d, 0x12, 0x34, 0x56, 0x7e,
    0xab, 0xcd, 0xef, 0x02, 0x02, 0x00, 0x00, 0x00, 0xae, 0x73, 0x9c, 0x2e, 0x08, 0x0a, 0x00, 0x00,
    0x04, 0x06, 0x00, 0x00, 0x13, 0x92, 0x00, 0x00};
static const uint8_t ex_rst[] = {
    0x01, 0x07, 0x00, 0x04, 0x1a, 0x2b, 0x3c, 0x4d, 0x9e, 0x8f, 0x7a, 0x6b, 0xab, 0xcd, 0xef, 0x02,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x69, 0xd7, 0x93, 0x9a};

typedef struct example {
  const char *name;
  const uint8_t *bytes;
  size_t len;
} example_t;

#define EXAMPLE(n) {#n, ex_##n, sizeof ex_##n}
static const example_t examples[] = {EXAMPLE(syn), EXAMPLE(synack), EXAMPLE(ack),
                                     EXAMPLE(data), EXAMPLE(fin),   EXAMPLE(rst)};
#define N_EXAMPLES (sizeof examples / sizeof examples[0])

static tou_segment_t seg_make(uint8_t flags, uint32_t dst, uint32_t src, uint32_t seq, uint32_t ack,
                              uint16_t window) {
  tou_segment_t s;
  memset(&s, 0, sizeof s);
  s.flags = flags;
  s.dst_cid = dst;
  s.src_cid = src;
  s.seq = seq;
  s.ack = ack;
  s.window = window;
  return s;
}

static void add_ts(tou_segment_t *s, uint32_t val, uint32_t ecr) {
  s->opts.present |= TOU_OPT_TIMESTAMP;
  s->opts.ts_val = val;
  s->opts.ts_ecr = ecr;
}

/* The segments the examples were generated from. */
static tou_segment_t expected_example(const char *name) {
  tou_segment_t s;
  if (strcmp(name, "syn") == 0 || strcmp(name, "synack") == 0) {
    bool syn = strcmp(name, "syn") == 0;
    s = syn ? seg_make(TOU_SYN, 0, C_CID, C_ISN, 0, 65535)
            : seg_make(TOU_SYN | TOU_ACK, C_CID, S_CID, S_ISN, C_ISN + 1, 65535);
    s.opts.present = TOU_OPT_MSS | TOU_OPT_WSCALE | TOU_OPT_SACK_PERM;
    s.opts.mss = 1444;
    s.opts.wscale = 7;
    add_ts(&s, syn ? 1000 : 5000, syn ? 0 : 1000);
  } else if (strcmp(name, "ack") == 0) {
    s = seg_make(TOU_ACK, S_CID, C_CID, C_ISN + 1, S_ISN + 1, 512);
    add_ts(&s, 1010, 5000);
  } else if (strcmp(name, "data") == 0) {
    s = seg_make(TOU_ACK | TOU_PSH, S_CID, C_CID, C_ISN + 1, S_ISN + 1, 512);
    add_ts(&s, 1020, 5000);
    s.payload = (const uint8_t *)"hello";
    s.payload_len = 5;
  } else if (strcmp(name, "fin") == 0) {
    s = seg_make(TOU_FIN | TOU_ACK, S_CID, C_CID, C_ISN + 6, S_ISN + 1, 512);
    add_ts(&s, 1030, 5010);
  } else {
    s = seg_make(TOU_RST, C_CID, S_CID, S_ISN + 1, 0, 0);
  }
  return s;
}

/* Each field checked on its own (not only through tou_wire_segment_equal),
 * so a bug in the comparison helper cannot hide a decoding bug. */
static void assert_segment_fields(const tou_segment_t *d, const tou_segment_t *e) {
  assert_int_equal(d->flags, e->flags);
  assert_int_equal(d->dst_cid, e->dst_cid);
  assert_int_equal(d->src_cid, e->src_cid);
  assert_int_equal(d->seq, e->seq);
  assert_int_equal(d->ack, e->ack);
  assert_int_equal(d->window, e->window);
  assert_int_equal(d->urgent, e->urgent);
  assert_int_equal(d->opts.present, e->opts.present);
  if (e->opts.present & TOU_OPT_MSS) assert_int_equal(d->opts.mss, e->opts.mss);
  if (e->opts.present & TOU_OPT_WSCALE) assert_int_equal(d->opts.wscale, e->opts.wscale);
  if (e->opts.present & TOU_OPT_TIMESTAMP) {
    assert_int_equal(d->opts.ts_val, e->opts.ts_val);
    assert_int_equal(d->opts.ts_ecr, e->opts.ts_ecr);
  }
  if (e->opts.present & TOU_OPT_SACK) {
    assert_int_equal(d->opts.sack_count, e->opts.sack_count);
    for (unsigned i = 0; i < e->opts.sack_count; i++) {
      assert_int_equal(d->opts.sack[i].left, e->opts.sack[i].left);
      assert_int_equal(d->opts.sack[i].right, e->opts.sack[i].right);
    }
  }
  if (e->opts.present & TOU_OPT_PROBE) {
    assert_int_equal(d->opts.probe_phase, e->opts.probe_phase);
    assert_int_equal(d->opts.probe_nonce, e->opts.probe_nonce);
    assert_int_equal(d->opts.probe_echo, e->opts.probe_echo);
  }
  if (e->opts.present & TOU_OPT_UTO) assert_int_equal(d->opts.uto, e->opts.uto);
  assert_int_equal(d->payload_len, e->payload_len);
  if (e->payload_len > 0) assert_memory_equal(d->payload, e->payload, e->payload_len);
  else assert_null(d->payload);
  assert_true(tou_wire_segment_equal(d, e));
}

static void protocol_examples_decode(void **state) {
  (void)state;
  for (size_t i = 0; i < N_EXAMPLES; i++) {
    const example_t *ex = &examples[i];
    tou_segment_t d, e = expected_example(ex->name);
    print_message("example %s\n", ex->name);
    assert_int_equal(tou_wire_decode(ex->bytes, ex->len, &d), TOU_OK);
    assert_segment_fields(&d, &e);
    if (d.payload_len > 0) assert_ptr_equal(d.payload, ex->bytes + ex->len - d.payload_len);
  }
}

/* The encoder reproduces the documented bytes exactly. */
static void protocol_examples_encode(void **state) {
  (void)state;
  for (size_t i = 0; i < N_EXAMPLES; i++) {
    const example_t *ex = &examples[i];
    tou_segment_t e = expected_example(ex->name);
    uint8_t buf[128];
    assert_int_equal(tou_wire_encoded_size(&e), ex->len);
    assert_int_equal(tou_wire_encode(&e, buf, sizeof buf), (int)ex->len);
    assert_memory_equal(buf, ex->bytes, ex->len);
  }
}

/* Spot checks of the layout itself, independent of the encoder. */
static void protocol_example_layout(void **state) {
  (void)state;
  assert_int_equal(ex_syn[0], TOU_WIRE_VERSION);
  assert_int_equal(ex_syn[1] * 4, 48);       /* 28 + 20 bytes of options */
  assert_int_equal(ex_syn[3], TOU_SYN);      /* flags in the low bits of bytes 2-3 */
  assert_int_equal(ex_synack[3], 0x12);      /* SYN|ACK as in TCP */
  assert_int_equal(ex_rst[1], 7);            /* bare header: 7 words */
  assert_int_equal(ex_data[40], 'h');        /* payload right after the header */
  assert_memory_equal(ex_syn + 28, "\x02\x04\x05\xa4", 4); /* MSS 1444 */
}

/* The hex dumps in docs/PROTOCOL.md ("0000  01 0c ..." lines), in document
 * order: the version reject of section 6, then the six examples of section 7.
 * The document is found from this file's path (CMake compiles it by absolute
 * path), so the doc and these bytes cannot drift apart. */
#define MAX_DUMPS 16
typedef struct dumps {
  size_t count;
  uint8_t bytes[MAX_DUMPS][128];
  size_t len[MAX_DUMPS];
} dumps_t;

static void read_protocol_dumps(dumps_t *d) {
  char path[1024];
  const char *tail = strstr(__FILE__, "tests/unit/test_wire.c");
  assert_non_null(tail);
  snprintf(path, sizeof path, "%.*sdocs/PROTOCOL.md", (int)(tail - __FILE__), __FILE__);
  FILE *f = fopen(path, "r");
  if (f == NULL) fail_msg("cannot open %s", path);
  memset(d, 0, sizeof *d);
  char line[512];
  bool in_dump = false;
  while (fgets(line, sizeof line, f) != NULL) {
    unsigned off;
    int used;
    if (sscanf(line, "%4x  %n", &off, &used) == 1 && used == 6 && strlen(line) > 6) {
      if (!in_dump) {
        assert_true(d->count < MAX_DUMPS);
        d->count++;
        in_dump = true;
      }
      size_t k = d->count - 1;
      assert_int_equal(off, d->len[k]); /* offsets count up by 16 */
      const char *p = line + used;
      unsigned byte;
      int n;
      while (sscanf(p, "%2x%n", &byte, &n) == 1) {
        assert_true(d->len[k] < sizeof d->bytes[k]);
        d->bytes[k][d->len[k]++] = (uint8_t)byte;
        p += n;
      }
    } else {
      in_dump = false;
    }
  }
  fclose(f);
}

static void protocol_doc_holds_the_same_bytes(void **state) {
  (void)state;
  static dumps_t d;
  read_protocol_dumps(&d);
  assert_int_equal(d.count, 1 + N_EXAMPLES);
  uint8_t in[sizeof ex_syn], reject[32];
  memcpy(in, ex_syn, sizeof ex_syn);
  in[0] = 2;
  int n = tou_wire_encode_version_reject(in, sizeof in, reject, sizeof reject);
  assert_int_equal(d.len[0], n);
  assert_memory_equal(d.bytes[0], reject, (size_t)n);
  for (size_t i = 0; i < N_EXAMPLES; i++) {
    print_message("doc example %zu: %s\n", i, examples[i].name);
    assert_int_equal(d.len[1 + i], examples[i].len);
    assert_memory_equal(d.bytes[1 + i], examples[i].bytes, examples[i].len);
  }
}

/* ---- round trips ------------------------------------------------------- */

/* Option sets: every subset of MSS / WSCALE / SACK_PERM / TIMESTAMP / PROBE /
 * UTO, times SACK absent or with 1..4 blocks. */
static tou_options_t option_set(unsigned subset, unsigned sack_blocks, uint32_t salt) {
  tou_options_t o;
  memset(&o, 0, sizeof o);
  if (subset & 1) o.present |= TOU_OPT_MSS, o.mss = (uint16_t)(1204 + salt);
  if (subset & 2) o.present |= TOU_OPT_WSCALE, o.wscale = (uint8_t)(salt % 15);
  if (subset & 4) o.present |= TOU_OPT_SACK_PERM;
  if (subset & 8) {
    o.present |= TOU_OPT_TIMESTAMP;
    o.ts_val = 0xfffffff0u + salt;
    o.ts_ecr = salt * 7;
  }
  if (subset & 16) {
    o.present |= TOU_OPT_PROBE;
    o.probe_phase = (uint8_t)(1 + salt % 3);
    o.probe_nonce = 0x8000000000000001ull * (salt + 1);
    o.probe_echo = ~o.probe_nonce;
  }
  if (subset & 32) {
    o.present |= TOU_OPT_UTO;
    o.uto = (uint16_t)(salt * 0x9e37u); /* both granularities, 0 and 0x7fff included */
  }
  if (sack_blocks > 0) {
    o.present |= TOU_OPT_SACK;
    o.sack_count = (uint8_t)sack_blocks;
    for (unsigned i = 0; i < sack_blocks; i++) {
      o.sack[i].left = 0xfffff000u + 1000 * i + salt; /* crosses the 2^32 wrap */
      o.sack[i].right = o.sack[i].left + 500;
    }
  }
  return o;
}

static void round_trip_all_flags_and_options(void **state) {
  (void)state;
  static const uint8_t payload[] = "the quick brown fox";
  uint8_t buf[512], buf2[512];
  unsigned count = 0;
  for (unsigned flags = 0; flags < 64; flags++) {
    for (unsigned subset = 0; subset < 64; subset++) {
      for (unsigned sack = 0; sack <= TOU_WIRE_MAX_SACK; sack++) {
        uint32_t salt = flags * 320 + subset * 5 + sack;
        tou_segment_t s = seg_make((uint8_t)flags, salt * 0x01000193u, ~salt, 0xfffffffeu + salt,
                                   salt * 3, (uint16_t)(salt * 11));
        s.urgent = (uint16_t)(flags & TOU_URG ? salt : 0);
        s.opts = option_set(subset, sack, salt);
        s.payload = payload;
        s.payload_len = salt % sizeof payload;

        size_t olen = tou_wire_options_size(&s.opts);
        assert_int_equal(olen % 4, 0);
        int n = tou_wire_encode(&s, buf, sizeof buf);
        assert_true(n > 0);
        assert_int_equal((size_t)n, tou_wire_encoded_size(&s));
        assert_int_equal(buf[1] * 4, TOU_WIRE_HEADER_LEN + olen);

        tou_segment_t d;
        assert_int_equal(tou_wire_decode(buf, (size_t)n, &d), TOU_OK);
        assert_segment_fields(&d, &s);

        /* decode -> encode -> decode: identical struct and identical bytes */
        int n2 = tou_wire_encode(&d, buf2, sizeof buf2);
        assert_int_equal(n2, n);
        assert_memory_equal(buf, buf2, (size_t)n);
        tou_segment_t d2;
        assert_int_equal(tou_wire_decode(buf2, (size_t)n2, &d2), TOU_OK);
        assert_true(tou_wire_segment_equal(&d, &d2));
        count++;
      }
    }
  }
  assert_int_equal(count, 64 * 64 * 5);
}

/* The caller may build the payload in place, right after the header. */
static void encode_payload_in_place(void **state) {
  (void)state;
  tou_segment_t s = expected_example("data");
  uint8_t buf[128];
  size_t hlen = TOU_WIRE_HEADER_LEN + tou_wire_options_size(&s.opts);
  memcpy(buf + hlen, "hello", 5);
  s.payload = buf + hlen;
  assert_int_equal(tou_wire_encode(&s, buf, sizeof buf), (int)sizeof ex_data);
  assert_memory_equal(buf, ex_data, sizeof ex_data);
}

/* The gathered form: the header (checksum over header and payload) in buf,
 * the payload untouched elsewhere; together the same bytes as
 * tou_wire_encode() (the PROTOCOL.md example, and a large segment with
 * options). The whole datagram must fit in cap. */
static void encode_head_matches_encode(void **state) {
  (void)state;
  tou_segment_t s = expected_example("data");
  uint8_t head[128];
  int h = tou_wire_encode_head(&s, head, sizeof head);
  assert_int_equal(h + (int)s.payload_len, (int)sizeof ex_data);
  assert_memory_equal(head, ex_data, (size_t)h);
  assert_memory_equal(s.payload, ex_data + h, s.payload_len);

  static uint8_t payload[1400], whole[1500], gathered[1500];
  for (size_t i = 0; i < sizeof payload; i++) payload[i] = (uint8_t)(i * 31 + 7);
  tou_segment_t big = {.flags = TOU_ACK | TOU_PSH, .dst_cid = 7, .src_cid = 9, .seq = 123456,
                       .ack = 654321, .window = 999, .payload = payload,
                       .payload_len = sizeof payload};
  big.opts.present = TOU_OPT_TIMESTAMP | TOU_OPT_SACK;
  big.opts.ts_val = 11, big.opts.ts_ecr = 22;
  big.opts.sack_count = 2;
  big.opts.sack[0].left = 1000, big.opts.sack[0].right = 2000;
  big.opts.sack[1].left = 3000, big.opts.sack[1].right = 4000;
  int n = tou_wire_encode(&big, whole, sizeof whole);
  assert_true(n > 0);
  h = tou_wire_encode_head(&big, gathered, sizeof gathered);
  assert_int_equal(h + (int)sizeof payload, n);
  memcpy(gathered + h, payload, sizeof payload);
  assert_memory_equal(gathered, whole, (size_t)n);
  tou_segment_t d;
  assert_int_equal(tou_wire_decode(gathered, (size_t)n, &d), TOU_OK);
  assert_int_equal(tou_wire_encode_head(&big, gathered, (size_t)n - 1), TOU_ERR_NOBUFS);
}

/* The gathered form with the payload in two pieces (a ring's wrap point):
 * for every split position, the header (its checksum over both pieces) and
 * the pieces joined are the bytes tou_wire_encode() writes. A split the
 * pieces cannot describe is refused. */
static void encode_head_split_matches_encode(void **state) {
  (void)state;
  static uint8_t payload[300], ring_tail[300], whole[400], joined[400];
  for (size_t i = 0; i < sizeof payload; i++) payload[i] = (uint8_t)(i * 13 + 5);
  tou_segment_t s = {.flags = TOU_ACK | TOU_PSH, .dst_cid = 3, .src_cid = 4, .seq = 77,
                     .ack = 88, .window = 512, .payload = payload,
                     .payload_len = sizeof payload};
  s.opts.present = TOU_OPT_TIMESTAMP;
  s.opts.ts_val = 5, s.opts.ts_ecr = 6;
  int n = tou_wire_encode(&s, whole, sizeof whole);
  assert_true(n > 0);
  for (size_t first = 1; first <= sizeof payload; first++) {
    /* The rest lies elsewhere: a copy, so the pieces are not contiguous. */
    memcpy(ring_tail, payload + first, sizeof payload - first);
    int h = tou_wire_encode_head_split(&s, first, ring_tail, joined, sizeof joined);
    assert_int_equal(h + (int)sizeof payload, n);
    memcpy(joined + h, payload, first);
    memcpy(joined + h + first, ring_tail, sizeof payload - first);
    assert_memory_equal(joined, whole, (size_t)n);
  }
  assert_int_equal(tou_wire_encode_head_split(&s, sizeof payload + 1, ring_tail, joined,
                                              sizeof joined),
                   TOU_ERR_INVAL);
  assert_int_equal(tou_wire_encode_head_split(&s, 10, NULL, joined, sizeof joined),
                   TOU_ERR_INVAL);
  assert_int_equal(tou_wire_encode_head_split(&s, 10, ring_tail, joined, (size_t)n - 1),
                   TOU_ERR_NOBUFS);
}

/* Reserved bits are covered by the checksum but ignored on receipt. */
static void reserved_bits_ignored(void **state) {
  (void)state;
  uint8_t buf[64];
  memcpy(buf, ex_ack, sizeof ex_ack);
  buf[2] = 0xff;
  buf[3] |= 0xc0;
  tou_segment_t d;
  assert_int_equal(tou_wire_decode(buf, sizeof ex_ack, &d), TOU_ERR_BAD_CHECKSUM);
  uint32_t c = tou_crc32c(0, buf, 24);
  c = tou_crc32c(c, (const uint8_t *)"\0\0\0\0", 4);
  c = tou_crc32c(c, buf + 28, sizeof ex_ack - 28);
  buf[24] = (uint8_t)(c >> 24), buf[25] = (uint8_t)(c >> 16), buf[26] = (uint8_t)(c >> 8),
  buf[27] = (uint8_t)c;
  assert_int_equal(tou_wire_decode(buf, sizeof ex_ack, &d), TOU_OK);
  assert_int_equal(d.flags, TOU_ACK);
}

/* ---- malformed datagrams ------------------------------------------------ */

static void put_crc(uint8_t *d, size_t len) {
  uint32_t c = tou_crc32c(0, d, 24);
  c = tou_crc32c(c, (const uint8_t *)"\0\0\0\0", 4);
  c = tou_crc32c(c, d + 28, len - 28);
  d[24] = (uint8_t)(c >> 24), d[25] = (uint8_t)(c >> 16), d[26] = (uint8_t)(c >> 8),
  d[27] = (uint8_t)c;
}

/* A valid header (copied from the ACK example) with the given options area
 * (its length must be a multiple of 4) and a correct checksum. */
static size_t with_options(uint8_t *buf, const uint8_t *opts, size_t olen) {
  memcpy(buf, ex_ack, TOU_WIRE_HEADER_LEN);
  memcpy(buf + TOU_WIRE_HEADER_LEN, opts, olen);
  buf[1] = (uint8_t)((TOU_WIRE_HEADER_LEN + olen) / 4);
  put_crc(buf, TOU_WIRE_HEADER_LEN + olen);
  return TOU_WIRE_HEADER_LEN + olen;
}

static int decode_options_area(const char *opts, size_t olen) {
  uint8_t buf[TOU_WIRE_MAX_HEADER_LEN];
  assert_true(olen % 4 == 0 && olen <= 100);
  size_t n = with_options(buf, (const uint8_t *)opts, olen);
  tou_segment_t d;
  int rc = tou_wire_decode(buf, n, &d);
  /* the options parser alone agrees with the full decoder */
  tou_options_t o;
  assert_int_equal(tou_wire_parse_options((const uint8_t *)opts, olen, &o), rc);
  return rc;
}
#define OPTS(lit) decode_options_area(lit, sizeof(lit) - 1)

/* Truncated at every length: shorter than the fixed header or its header
 * length → TRUNCATED; a cut inside the payload leaves a well-framed datagram
 * (UDP carries the length, tou has none) whose checksum then fails. */
static void truncated_at_every_length(void **state) {
  (void)state;
  for (size_t i = 0; i < N_EXAMPLES; i++) {
    const example_t *ex = &examples[i];
    size_t hlen = (size_t)ex->bytes[1] * 4;
    for (size_t k = 0; k < ex->len; k++) {
      tou_segment_t d;
      int rc = tou_wire_decode(ex->bytes, k, &d);
      assert_int_equal(rc, k < hlen ? TOU_ERR_TRUNCATED : TOU_ERR_BAD_CHECKSUM);
    }
  }
  tou_segment_t d;
  assert_int_equal(tou_wire_decode(NULL, 0, &d), TOU_ERR_TRUNCATED);
}

static void bad_version(void **state) {
  (void)state;
  static const uint8_t versions[] = {0, 2, 3, 0x7f, 0xff};
  uint8_t buf[64];
  for (size_t i = 0; i < sizeof versions; i++) {
    memcpy(buf, ex_ack, sizeof ex_ack);
    buf[0] = versions[i];
    put_crc(buf, sizeof ex_ack); /* checksum valid: the version alone is wrong */
    tou_segment_t d;
    assert_int_equal(tou_wire_decode(buf, sizeof ex_ack, &d), TOU_ERR_BAD_VERSION);
    assert_int_equal(tou_wire_decode(buf, 1, &d), TOU_ERR_BAD_VERSION);
  }
}

static void bad_header_length(void **state) {
  (void)state;
  uint8_t buf[200];
  memset(buf, 0, sizeof buf);
  memcpy(buf, ex_ack, TOU_WIRE_HEADER_LEN); /* then zeros: EOL options, zero payload */
  tou_segment_t d;
  for (unsigned words = 0; words < 256; words++) {
    buf[1] = (uint8_t)words;
    put_crc(buf, sizeof buf); /* 200 bytes: every legal header length fits */
    int rc = tou_wire_decode(buf, sizeof buf, &d);
    if (words < 7 || words > 32) assert_int_equal(rc, TOU_ERR_BAD_HEADER_LEN);
    else assert_int_equal(rc, TOU_OK);
  }
  /* a legal header length beyond the datagram */
  memcpy(buf, ex_ack, sizeof ex_ack);
  buf[1] = 11; /* 44 > 40 */
  put_crc(buf, sizeof ex_ack);
  assert_int_equal(tou_wire_decode(buf, sizeof ex_ack, &d), TOU_ERR_TRUNCATED);
  buf[1] = 32;
  assert_int_equal(tou_wire_decode(buf, sizeof ex_ack, &d), TOU_ERR_TRUNCATED);
}

static void bad_checksum(void **state) {
  (void)state;
  uint8_t buf[64];
  for (int byte = 24; byte < 28; byte++) {
    memcpy(buf, ex_data, sizeof ex_data);
    buf[byte] ^= 1;
    tou_segment_t d;
    assert_int_equal(tou_wire_decode(buf, sizeof ex_data, &d), TOU_ERR_BAD_CHECKSUM);
  }
  /* an all-zero checksum field is not a "no checksum" escape (UDP's is) */
  memcpy(buf, ex_data, sizeof ex_data);
  memset(buf + 24, 0, 4);
  tou_segment_t d;
  assert_int_equal(tou_wire_decode(buf, sizeof ex_data, &d), TOU_ERR_BAD_CHECKSUM);
}

static void options_accepted_forms(void **state) {
  (void)state;
  /* NOPs, unknown kinds (skipped by length), EOL then anything, any order */
  assert_int_equal(OPTS("\x01\x01\x01\x01"), TOU_OK);
  assert_int_equal(OPTS("\x63\x02\x00\x00"), TOU_OK);            /* unknown, len 2 */
  assert_int_equal(OPTS("\x63\x08\xff\xff\xff\xff\xff\xff"), TOU_OK);
  assert_int_equal(OPTS("\x00\xff\x05\x01"), TOU_OK);            /* garbage after EOL */
  assert_int_equal(OPTS("\x04\x02\x02\x04\x05\xa4\x01\x01"), TOU_OK); /* SACK_PERM first */
  assert_int_equal(OPTS("\x03\x03\x0e\x00"), TOU_OK);            /* wscale 14: the max */
  assert_int_equal(OPTS("\x1c\x04\xff\xff"), TOU_OK);            /* UTO: any value */
  tou_options_t o;
  static const uint8_t mixed[] = {0x01, 0x63, 0x03, 0x00, 0x01, 0x02, 0x04, 0x01, 0x02, 0x00, 0, 0};
  assert_int_equal(tou_wire_parse_options(mixed, sizeof mixed, &o), TOU_OK);
  assert_int_equal(o.present, TOU_OPT_MSS);
  assert_int_equal(o.mss, 0x0102);
  assert_int_equal(tou_wire_parse_options(NULL, 0, &o), TOU_OK);
  assert_int_equal(o.present, 0);
}

static void options_malformed(void **state) {
  (void)state;
  /* length byte below 2 (would loop or underflow) */
  assert_int_equal(OPTS("\x63\x00\x00\x00"), TOU_ERR_BAD_OPTION);
  assert_int_equal(OPTS("\x63\x01\x00\x00"), TOU_ERR_BAD_OPTION);
  assert_int_equal(OPTS("\x02\x00\x00\x00"), TOU_ERR_BAD_OPTION);
  /* running past the options area */
  assert_int_equal(OPTS("\x63\x05\x00\x00"), TOU_ERR_BAD_OPTION);
  assert_int_equal(OPTS("\x01\x01\x08\x0a"), TOU_ERR_BAD_OPTION);
  assert_int_equal(OPTS("\x01\x01\x01\x63"), TOU_ERR_BAD_OPTION); /* no room for the length */
  /* known kinds with the wrong length */
  assert_int_equal(OPTS("\x02\x03\x05\x00"), TOU_ERR_BAD_OPTION);
  assert_int_equal(OPTS("\x02\x05\x05\xa4\x00\x00\x00\x00"), TOU_ERR_BAD_OPTION);
  assert_int_equal(OPTS("\x03\x02\x00\x00"), TOU_ERR_BAD_OPTION);
  assert_int_equal(OPTS("\x03\x04\x07\x00"), TOU_ERR_BAD_OPTION);
  assert_int_equal(OPTS("\x04\x03\x00\x00"), TOU_ERR_BAD_OPTION);
  assert_int_equal(OPTS("\x08\x09\x00\x00\x00\x01\x00\x00\x00\x02\x00\x00"), TOU_ERR_BAD_OPTION);
  assert_int_equal(OPTS("\x08\x0b\x00\x00\x00\x01\x00\x00\x00\x02\x00\x00"), TOU_ERR_BAD_OPTION);
  assert_int_equal(OPTS("\x05\x02\x00\x00"), TOU_ERR_BAD_OPTION);  /* SACK, no block */
  assert_int_equal(OPTS("\x05\x09\x00\x00\x00\x01\x00\x00\x00\x02\x00\x00"), TOU_ERR_BAD_OPTION);
  assert_int_equal(OPTS("\x05\x0b\x00\x00\x00\x01\x00\x00\x00\x02\x00\x00"), TOU_ERR_BAD_OPTION);
  assert_int_equal(OPTS("\x1e\x12\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
                        "\x00\x00"),
                   TOU_ERR_BAD_OPTION); /* PROBE len 18 */
  assert_int_equal(OPTS("\x1e\x14\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
                        "\x00\x00"),
                   TOU_ERR_BAD_OPTION); /* PROBE len 20 */
  assert_int_equal(OPTS("\x1c\x03\x00\x00"), TOU_ERR_BAD_OPTION); /* UTO len 3 */
  assert_int_equal(OPTS("\x1c\x05\x00\x01\x00\x00\x00\x00"), TOU_ERR_BAD_OPTION); /* UTO len 5 */
  /* invalid values */
  assert_int_equal(OPTS("\x03\x03\x0f\x00"), TOU_ERR_BAD_OPTION); /* wscale 15 */
  assert_int_equal(OPTS("\x03\x03\xff\x00"), TOU_ERR_BAD_OPTION);
  for (int phase = 0; phase < 256; phase++) {
    char p[20] = "\x1e\x13";
    p[2] = (char)phase;
    int rc = decode_options_area(p, sizeof p);
    assert_int_equal(rc, phase >= 1 && phase <= 3 ? TOU_OK : TOU_ERR_BAD_OPTION);
  }
  /* duplicated known options */
  assert_int_equal(OPTS("\x02\x04\x05\xa4\x02\x04\x05\xa4"), TOU_ERR_BAD_OPTION);
  assert_int_equal(OPTS("\x03\x03\x07\x03\x03\x07\x00\x00"), TOU_ERR_BAD_OPTION);
  assert_int_equal(OPTS("\x04\x02\x04\x02"), TOU_ERR_BAD_OPTION);
  assert_int_equal(OPTS("\x05\x0a\x00\x00\x00\x01\x00\x00\x00\x02\x05\x0a\x00\x00\x00\x01\x00\x00"
                        "\x00\x02"),
                   TOU_ERR_BAD_OPTION);
  assert_int_equal(OPTS("\x08\x0a\x00\x00\x00\x01\x00\x00\x00\x02\x08\x0a\x00\x00\x00\x01\x00\x00"
                        "\x00\x02"),
                   TOU_ERR_BAD_OPTION);
  assert_int_equal(OPTS("\x1c\x04\x00\x05\x1c\x04\x80\x01"), TOU_ERR_BAD_OPTION);
  /* unknown kinds may repeat */
  assert_int_equal(OPTS("\x63\x02\x63\x02"), TOU_OK);
}

/* SACK lengths 2 + 8n: only n = 1..4 are accepted. */
static void options_sack_lengths(void **state) {
  (void)state;
  uint8_t area[100];
  for (size_t olen = 0; olen <= 98; olen++) {
    memset(area, 0, sizeof area);
    area[0] = TOU_OPTK_SACK;
    area[1] = (uint8_t)olen;
    tou_options_t o;
    int rc = tou_wire_parse_options(area, sizeof area, &o);
    bool ok = olen >= 10 && olen <= 34 && (olen - 2) % 8 == 0;
    assert_int_equal(rc, ok ? TOU_OK : TOU_ERR_BAD_OPTION);
    if (ok) assert_int_equal(o.sack_count, (olen - 2) / 8);
  }
}

/* ---- corruption -------------------------------------------------------- */

/* Every single-byte corruption (all 255 non-zero XOR patterns at every
 * position) and so every single-bit flip: CRC32C catches every error burst
 * of 32 bits or less, and the framing checks catch the rest before it. */
static void every_byte_corruption_detected(void **state) {
  (void)state;
  for (size_t i = 0; i < N_EXAMPLES; i++) {
    const example_t *ex = &examples[i];
    uint8_t buf[64];
    memcpy(buf, ex->bytes, ex->len);
    for (size_t pos = 0; pos < ex->len; pos++) {
      for (unsigned x = 1; x < 256; x++) {
        buf[pos] ^= (uint8_t)x;
        tou_segment_t d;
        int rc = tou_wire_decode(buf, ex->len, &d);
        assert_true(rc < 0);
        if (pos >= 2) assert_int_equal(rc, TOU_ERR_BAD_CHECKSUM);
        buf[pos] ^= (uint8_t)x;
      }
    }
  }
}

static void every_bit_flip_in_full_segment_detected(void **state) {
  (void)state;
  static uint8_t payload[1400];
  for (size_t i = 0; i < sizeof payload; i++) payload[i] = (uint8_t)(i * 131 + 7);
  tou_segment_t s = expected_example("data");
  s.payload = payload;
  s.payload_len = sizeof payload;
  static uint8_t buf[1500];
  int n = tou_wire_encode(&s, buf, sizeof buf);
  assert_true(n > 0);
  for (size_t bit = 0; bit < (size_t)n * 8; bit++) {
    buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    tou_segment_t d;
    assert_true(tou_wire_decode(buf, (size_t)n, &d) < 0);
    buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
  }
  /* and every burst of up to 32 bits starting at each byte, pattern all ones */
  for (size_t pos = 2; pos + 4 <= (size_t)n; pos += 37) {
    for (uint32_t w = 1; w <= 32; w++) {
      uint32_t pat = w == 32 ? 0xffffffffu : (1u << w) - 1;
      for (int b = 0; b < 4; b++) buf[pos + b] ^= (uint8_t)(pat >> (8 * b));
      tou_segment_t d;
      assert_int_equal(tou_wire_decode(buf, (size_t)n, &d), TOU_ERR_BAD_CHECKSUM);
      for (int b = 0; b < 4; b++) buf[pos + b] ^= (uint8_t)(pat >> (8 * b));
    }
  }
  tou_segment_t d;
  assert_int_equal(tou_wire_decode(buf, (size_t)n, &d), TOU_OK);
}

/* ---- encoder errors ---------------------------------------------------- */

static void encode_nobufs(void **state) {
  (void)state;
  for (size_t i = 0; i < N_EXAMPLES; i++) {
    tou_segment_t e = expected_example(examples[i].name);
    uint8_t buf[64];
    for (size_t cap = 0; cap < examples[i].len; cap++) {
      memset(buf, 0xee, sizeof buf);
      assert_int_equal(tou_wire_encode(&e, buf, cap), TOU_ERR_NOBUFS);
      for (size_t k = 0; k < sizeof buf; k++) assert_int_equal(buf[k], 0xee); /* untouched */
    }
    assert_int_equal(tou_wire_encode(&e, buf, examples[i].len), (int)examples[i].len);
  }
  tou_options_t o = option_set(31, 4, 1);
  uint8_t area[100];
  int n = tou_wire_encode_options(&o, area, sizeof area);
  assert_int_equal(n, (int)tou_wire_options_size(&o));
  assert_int_equal(n, 72); /* 4+3+2+10+34+19 = 72: the largest set fits in 100 */
  assert_int_equal(tou_wire_encode_options(&o, area, (size_t)n - 1), TOU_ERR_NOBUFS);
}

static void encode_inval(void **state) {
  (void)state;
  uint8_t buf[256];
  tou_segment_t s = expected_example("syn");
  s.flags = 0x40; /* a reserved bit */
  assert_int_equal(tou_wire_encode(&s, buf, sizeof buf), TOU_ERR_INVAL);
  s = expected_example("syn");
  s.opts.wscale = 15;
  assert_int_equal(tou_wire_encode(&s, buf, sizeof buf), TOU_ERR_INVAL);
  s.opts.present &= ~(uint32_t)TOU_OPT_WSCALE; /* absent: its value is ignored */
  assert_true(tou_wire_encode(&s, buf, sizeof buf) > 0);
  s = expected_example("ack");
  s.opts.present |= TOU_OPT_SACK;
  s.opts.sack_count = 0;
  assert_int_equal(tou_wire_encode(&s, buf, sizeof buf), TOU_ERR_INVAL);
  s.opts.sack_count = TOU_WIRE_MAX_SACK + 1;
  assert_int_equal(tou_wire_encode(&s, buf, sizeof buf), TOU_ERR_INVAL);
  assert_int_equal(tou_wire_encode_options(&s.opts, buf, sizeof buf), TOU_ERR_INVAL);
  s = expected_example("ack");
  s.opts.present |= TOU_OPT_PROBE;
  s.opts.probe_phase = 0;
  assert_int_equal(tou_wire_encode(&s, buf, sizeof buf), TOU_ERR_INVAL);
  s.opts.probe_phase = 4;
  assert_int_equal(tou_wire_encode(&s, buf, sizeof buf), TOU_ERR_INVAL);
  s = expected_example("data");
  s.payload = NULL;
  assert_int_equal(tou_wire_encode(&s, buf, sizeof buf), TOU_ERR_INVAL);
  assert_int_equal(tou_wire_encode(NULL, buf, sizeof buf), TOU_ERR_INVAL);
  s = expected_example("ack");
  assert_int_equal(tou_wire_encode(&s, NULL, 64), TOU_ERR_INVAL);
  assert_int_equal(tou_wire_encode(&s, NULL, 0), TOU_ERR_NOBUFS);
}

/* RFC 5482 3: the G bit selects minutes; seconds while they fit, rounded
 * up so that the peer never hears less than the timeout kept. */
static void uto_field_units(void **state) {
  (void)state;
  assert_int_equal(tou_wire_uto_us(0), 0);
  assert_int_equal(tou_wire_uto_us(100), 100000000ull);
  assert_int_equal(tou_wire_uto_us(TOU_UTO_MINUTES | 100), 6000000000ull);
  assert_int_equal(tou_wire_uto_us(0x7fff), 32767000000ull);
  assert_int_equal(tou_wire_uto_us(0xffff), 32767ull * 60 * 1000000);
  assert_int_equal(tou_wire_uto_field(1), 1);              /* 1 us: one second */
  assert_int_equal(tou_wire_uto_field(3000000), 3);
  assert_int_equal(tou_wire_uto_field(3000001), 4);
  assert_int_equal(tou_wire_uto_field(32767000000ull), 0x7fff); /* last value in seconds */
  assert_int_equal(tou_wire_uto_field(32768000000ull), TOU_UTO_MINUTES | 547); /* 546.13 min */
  assert_int_equal(tou_wire_uto_field(UINT64_MAX / 2), 0xffff); /* capped */
  for (uint64_t us = 1; us < 40000ull * 1000000; us = us * 3 + 7) {
    uint16_t f = tou_wire_uto_field(us);
    assert_true(tou_wire_uto_us(f) >= us);
    if (!(f & TOU_UTO_MINUTES)) assert_true(tou_wire_uto_us(f) - us < 1000000);
    else assert_true(tou_wire_uto_us(f) - us < 60000000);
  }
}

/* ---- version negotiation ---------------------------------------------- */

static void version_reject_round_trip(void **state) {
  (void)state;
  uint8_t in[64], out[64];
  memcpy(in, ex_syn, sizeof ex_syn);
  in[0] = 2; /* a client speaking a version we do not */
  int n = tou_wire_encode_version_reject(in, sizeof ex_syn, out, sizeof out);
  assert_int_equal(n, TOU_WIRE_VREJECT_HEADER_LEN + 1);
  assert_int_equal(out[0], 0);
  assert_int_equal(out[1], 1);
  tou_version_reject_t vr;
  assert_int_equal(tou_wire_decode_version_reject(out, (size_t)n, &vr), TOU_OK);
  assert_int_equal(vr.dst_cid, C_CID); /* addressed to the rejected sender's cid */
  assert_int_equal(vr.src_cid, 0);     /* the SYN's dst_cid */
  assert_int_equal(vr.version_count, 1);
  assert_int_equal(vr.versions[0], TOU_WIRE_VERSION);
  /* a segment decoder sees it as another version */
  tou_segment_t d;
  assert_int_equal(tou_wire_decode(out, (size_t)n, &d), TOU_ERR_BAD_VERSION);
}

static void version_reject_never_amplifies(void **state) {
  (void)state;
  uint8_t in[64], out[64];
  memset(in, 0xa5, sizeof in);
  in[0] = 9;
  for (size_t len = 0; len <= sizeof in; len++) {
    int n = tou_wire_encode_version_reject(in, len, out, sizeof out);
    assert_true(n >= 0);
    assert_true((size_t)n <= len);
    assert_int_equal(n, len < TOU_WIRE_VREJECT_HEADER_LEN + 1 ? 0 : 17);
  }
  /* never answer a reject (no ping-pong), refuse to reject our own version */
  in[0] = 0;
  assert_int_equal(tou_wire_encode_version_reject(in, sizeof in, out, sizeof out), 0);
  assert_int_equal(tou_wire_encode_version_reject(ex_syn, sizeof ex_syn, out, sizeof out),
                   TOU_ERR_INVAL);
  in[0] = 2;
  assert_int_equal(tou_wire_encode_version_reject(in, sizeof in, out, 16), TOU_ERR_NOBUFS);
}

static void version_reject_malformed(void **state) {
  (void)state;
  uint8_t in[48], out[48];
  memcpy(in, ex_syn, sizeof ex_syn);
  in[0] = 2;
  int n = tou_wire_encode_version_reject(in, sizeof in, out, sizeof out);
  assert_int_equal(n, 17);
  tou_version_reject_t vr;
  for (int k = 0; k < n; k++)
    assert_int_equal(tou_wire_decode_version_reject(out, (size_t)k, &vr),
                     TOU_ERR_TRUNCATED);
  out[0] = 1;
  assert_int_equal(tou_wire_decode_version_reject(out, (size_t)n, &vr), TOU_ERR_BAD_VERSION);
  out[0] = 0;
  out[1] = 0;
  assert_int_equal(tou_wire_decode_version_reject(out, (size_t)n, &vr), TOU_ERR_BAD_HEADER_LEN);
  out[1] = 2; /* claims two versions, carries one */
  assert_int_equal(tou_wire_decode_version_reject(out, (size_t)n, &vr), TOU_ERR_TRUNCATED);
  out[1] = 1;
  for (int pos = 2; pos < n; pos++) {
    out[pos] ^= 0x10;
    assert_int_equal(tou_wire_decode_version_reject(out, (size_t)n, &vr), TOU_ERR_BAD_CHECKSUM);
    out[pos] ^= 0x10;
  }
  assert_int_equal(tou_wire_decode_version_reject(out, (size_t)n, &vr), TOU_OK);
}

/* The demultiplexing hint agrees with the decoder on every example, and
 * says 0 for what is not one of our headers. */
static void peek_dst_cid(void **state) {
  (void)state;
  for (size_t i = 0; i < N_EXAMPLES; i++) {
    tou_segment_t seg;
    assert_int_equal(tou_wire_decode(examples[i].bytes, examples[i].len, &seg), TOU_OK);
    assert_int_equal(tou_wire_peek_dst_cid(examples[i].bytes, examples[i].len), seg.dst_cid);
    assert_int_equal(tou_wire_peek_dst_cid(examples[i].bytes, TOU_WIRE_HEADER_LEN - 1), 0);
  }
  uint8_t other[sizeof ex_data];
  memcpy(other, ex_data, sizeof other);
  other[0] = 2;
  assert_int_equal(tou_wire_peek_dst_cid(other, sizeof other), 0);
  assert_int_equal(tou_wire_peek_dst_cid(NULL, 0), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(peek_dst_cid),
      cmocka_unit_test(protocol_examples_decode),
      cmocka_unit_test(protocol_examples_encode),
      cmocka_unit_test(protocol_example_layout),
      cmocka_unit_test(protocol_doc_holds_the_same_bytes),
      cmocka_unit_test(round_trip_all_flags_and_options),
      cmocka_unit_test(encode_payload_in_place),
      cmocka_unit_test(encode_head_matches_encode),
      cmocka_unit_test(encode_head_split_matches_encode),
      cmocka_unit_test(reserved_bits_ignored),
      cmocka_unit_test(truncated_at_every_length),
      cmocka_unit_test(bad_version),
      cmocka_unit_test(bad_header_length),
      cmocka_unit_test(bad_checksum),
      cmocka_unit_test(options_accepted_forms),
      cmocka_unit_test(options_malformed),
      cmocka_unit_test(options_sack_lengths),
      cmocka_unit_test(every_byte_corruption_detected),
      cmocka_unit_test(every_bit_flip_in_full_segment_detected),
      cmocka_unit_test(encode_nobufs),
      cmocka_unit_test(encode_inval),
      cmocka_unit_test(uto_field_units),
      cmocka_unit_test(version_reject_round_trip),
      cmocka_unit_test(version_reject_never_amplifies),
      cmocka_unit_test(version_reject_malformed),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

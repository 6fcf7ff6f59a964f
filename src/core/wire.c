/* Segment codec (docs/PROTOCOL.md). Everything is big-endian on the wire and
 * read byte by byte, so neither host byte order nor alignment matter. */
#include "wire.h"

#include <string.h>

#include "error.h"

#define OFF_VERSION 0
#define OFF_HLEN 1
#define OFF_FLAGS 2 /* 16 bits: 10 reserved, then URG ACK PSH RST SYN FIN */
#define OFF_DST_CID 4
#define OFF_SRC_CID 8
#define OFF_SEQ 12
#define OFF_ACK 16
#define OFF_WINDOW 20
#define OFF_URGENT 22
#define OFF_CRC 24

#define FLAGS_MASK 0x3fu
#define HLEN_MIN_WORDS (TOU_WIRE_HEADER_LEN / 4)
#define HLEN_MAX_WORDS (TOU_WIRE_MAX_HEADER_LEN / 4)
#define MAX_OPTIONS_LEN (TOU_WIRE_MAX_HEADER_LEN - TOU_WIRE_HEADER_LEN)

/* Total lengths (kind and length bytes included) of the fixed-size options. */
#define OPTLEN_MSS 4
#define OPTLEN_WSCALE 3
#define OPTLEN_SACK_PERM 2
#define OPTLEN_TIMESTAMP 10
#define OPTLEN_PROBE 19
#define OPTLEN_UTO 4
#define OPTLEN_SACK(n) (2 + 8 * (n))
#define MAX_WSCALE 14 /* RFC 7323 section 2.3: 2^14 * 65535 < 2^30 */

#define VREJECT_OFF_COUNT 1
#define VREJECT_OFF_CRC 12

static const uint8_t supported_versions[] = {TOU_WIRE_VERSION};

static void put16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}
static void put32(uint8_t *p, uint32_t v) {
  put16(p, (uint16_t)(v >> 16));
  put16(p + 2, (uint16_t)v);
}
static void put64(uint8_t *p, uint64_t v) {
  put32(p, (uint32_t)(v >> 32));
  put32(p + 4, (uint32_t)v);
}
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)get16(p) << 16 | get16(p + 2); }
static uint64_t get64(const uint8_t *p) { return (uint64_t)get32(p) << 32 | get32(p + 4); }

/* CRC32C of a datagram whose 4-byte checksum field at crc_off counts as zero:
 * the bytes before the field, four zero bytes, then everything after it in
 * one call, so that a data segment's payload runs through the interleaved
 * path whole (copying a header-sized prefix to zero the field sent 128
 * bytes through the single-chain path instead). */
static uint32_t datagram_crc(const uint8_t *d, size_t len, size_t crc_off) {
  static const uint8_t zero[4];
  uint32_t c = tou_crc32c(0, d, crc_off);
  c = tou_crc32c(c, zero, sizeof zero);
  return tou_crc32c(c, d + crc_off + 4, len - crc_off - 4);
}

/* ---- options ---------------------------------------------------------- */

static size_t options_raw_size(const tou_options_t *o) {
  size_t n = 0;
  if (o->present & TOU_OPT_MSS) n += OPTLEN_MSS;
  if (o->present & TOU_OPT_WSCALE) n += OPTLEN_WSCALE;
  if (o->present & TOU_OPT_SACK_PERM) n += OPTLEN_SACK_PERM;
  if (o->present & TOU_OPT_TIMESTAMP) n += OPTLEN_TIMESTAMP;
  if (o->present & TOU_OPT_SACK) n += OPTLEN_SACK((size_t)o->sack_count);
  if (o->present & TOU_OPT_PROBE) n += OPTLEN_PROBE;
  if (o->present & TOU_OPT_UTO) n += OPTLEN_UTO;
  return n;
}

size_t tou_wire_options_size(const tou_options_t *opts) {
  return (options_raw_size(opts) + 3u) & ~(size_t)3u;
}

/* The encoder refuses what the decoder would reject, so everything we send
 * decodes on the other side. */
static int check_options(const tou_options_t *o) {
  if (o->present & TOU_OPT_WSCALE && o->wscale > MAX_WSCALE) return TOU_ERR_INVAL;
  if (o->present & TOU_OPT_SACK && (o->sack_count < 1 || o->sack_count > TOU_WIRE_MAX_SACK))
    return TOU_ERR_INVAL;
  if (o->present & TOU_OPT_PROBE &&
      (o->probe_phase < TOU_PROBE_ASK || o->probe_phase > TOU_PROBE_CONFIRM))
    return TOU_ERR_INVAL;
  if (tou_wire_options_size(o) > MAX_OPTIONS_LEN) return TOU_ERR_INVAL;
  return TOU_OK;
}

/* Options are written back to back in a fixed order, then padded with EOL
 * (kind 0) bytes; the decoder accepts any order. */
static size_t write_options(const tou_options_t *o, uint8_t *p) {
  uint8_t *start = p;
  if (o->present & TOU_OPT_MSS) {
    p[0] = TOU_OPTK_MSS, p[1] = OPTLEN_MSS;
    put16(p + 2, o->mss);
    p += OPTLEN_MSS;
  }
  if (o->present & TOU_OPT_WSCALE) {
    p[0] = TOU_OPTK_WSCALE, p[1] = OPTLEN_WSCALE, p[2] = o->wscale;
    p += OPTLEN_WSCALE;
  }
  if (o->present & TOU_OPT_SACK_PERM) {
    p[0] = TOU_OPTK_SACK_PERM, p[1] = OPTLEN_SACK_PERM;
    p += OPTLEN_SACK_PERM;
  }
  if (o->present & TOU_OPT_TIMESTAMP) {
    p[0] = TOU_OPTK_TIMESTAMP, p[1] = OPTLEN_TIMESTAMP;
    put32(p + 2, o->ts_val);
    put32(p + 6, o->ts_ecr);
    p += OPTLEN_TIMESTAMP;
  }
  if (o->present & TOU_OPT_SACK) {
    p[0] = TOU_OPTK_SACK, p[1] = (uint8_t)OPTLEN_SACK(o->sack_count);
    for (unsigned i = 0; i < o->sack_count; i++) {
      put32(p + 2 + 8 * i, o->sack[i].left);
      put32(p + 6 + 8 * i, o->sack[i].right);
    }
    p += OPTLEN_SACK(o->sack_count);
  }
  if (o->present & TOU_OPT_PROBE) {
    p[0] = TOU_OPTK_PROBE, p[1] = OPTLEN_PROBE, p[2] = o->probe_phase;
    put64(p + 3, o->probe_nonce);
    put64(p + 11, o->probe_echo);
    p += OPTLEN_PROBE;
  }
  if (o->present & TOU_OPT_UTO) {
    p[0] = TOU_OPTK_UTO, p[1] = OPTLEN_UTO;
    put16(p + 2, o->uto);
    p += OPTLEN_UTO;
  }
  size_t raw = (size_t)(p - start);
  size_t padded = (raw + 3u) & ~(size_t)3u;
  memset(p, TOU_OPTK_EOL, padded - raw);
  return padded;
}

int tou_wire_encode_options(const tou_options_t *opts, uint8_t *buf, size_t cap) {
  if (opts == NULL || (buf == NULL && cap > 0)) return TOU_ERR_INVAL;
  int rc = check_options(opts);
  if (rc < 0) return rc;
  if (tou_wire_options_size(opts) > cap) return TOU_ERR_NOBUFS;
  return (int)write_options(opts, buf);
}

/* Length a known option kind must have; 0 for unknown kinds. SACK is checked
 * separately (its length depends on the number of blocks). */
static size_t known_option_len(uint8_t kind) {
  switch (kind) {
    case TOU_OPTK_MSS: return OPTLEN_MSS;
    case TOU_OPTK_WSCALE: return OPTLEN_WSCALE;
    case TOU_OPTK_SACK_PERM: return OPTLEN_SACK_PERM;
    case TOU_OPTK_TIMESTAMP: return OPTLEN_TIMESTAMP;
    case TOU_OPTK_PROBE: return OPTLEN_PROBE;
    case TOU_OPTK_UTO: return OPTLEN_UTO;
    default: return 0;
  }
}

static uint32_t option_bit(uint8_t kind) {
  switch (kind) {
    case TOU_OPTK_MSS: return TOU_OPT_MSS;
    case TOU_OPTK_WSCALE: return TOU_OPT_WSCALE;
    case TOU_OPTK_SACK_PERM: return TOU_OPT_SACK_PERM;
    case TOU_OPTK_SACK: return TOU_OPT_SACK;
    case TOU_OPTK_TIMESTAMP: return TOU_OPT_TIMESTAMP;
    case TOU_OPTK_PROBE: return TOU_OPT_PROBE;
    case TOU_OPTK_UTO: return TOU_OPT_UTO;
    default: return 0;
  }
}

/* v points at the option's value, vlen = option length - 2 (already checked
 * against the kind). */
static int parse_known_option(uint8_t kind, const uint8_t *v, size_t vlen, tou_options_t *o) {
  switch (kind) {
    case TOU_OPTK_MSS: o->mss = get16(v); break;
    case TOU_OPTK_WSCALE:
      /* RFC 7323 clamps a larger shift to 14; a sender of ours never
       * produces one, so treat it as malformed rather than guess. */
      if (v[0] > MAX_WSCALE) return TOU_ERR_BAD_OPTION;
      o->wscale = v[0];
      break;
    case TOU_OPTK_SACK_PERM: break;
    case TOU_OPTK_TIMESTAMP:
      o->ts_val = get32(v);
      o->ts_ecr = get32(v + 4);
      break;
    case TOU_OPTK_SACK:
      o->sack_count = (uint8_t)(vlen / 8);
      for (unsigned i = 0; i < o->sack_count; i++) {
        o->sack[i].left = get32(v + 8 * i);
        o->sack[i].right = get32(v + 8 * i + 4);
      }
      break;
    case TOU_OPTK_PROBE:
      if (v[0] < TOU_PROBE_ASK || v[0] > TOU_PROBE_CONFIRM) return TOU_ERR_BAD_OPTION;
      o->probe_phase = v[0];
      o->probe_nonce = get64(v + 1);
      o->probe_echo = get64(v + 9);
      break;
    case TOU_OPTK_UTO: o->uto = get16(v); break;
  }
  o->present |= option_bit(kind);
  return TOU_OK;
}

int tou_wire_parse_options(const uint8_t *data, size_t len, tou_options_t *opts) {
  if (opts == NULL || (data == NULL && len > 0)) return TOU_ERR_INVAL;
  memset(opts, 0, sizeof *opts);
  size_t i = 0;
  while (i < len) {
    uint8_t kind = data[i];
    if (kind == TOU_OPTK_EOL) break; /* the rest is padding (RFC 9293 3.2) */
    if (kind == TOU_OPTK_NOP) {
      i++;
      continue;
    }
    if (len - i < 2) return TOU_ERR_BAD_OPTION; /* no room for the length byte */
    size_t olen = data[i + 1];
    if (olen < 2 || olen > len - i) return TOU_ERR_BAD_OPTION;
    uint32_t bit = option_bit(kind);
    if (bit != 0) {
      if (opts->present & bit) return TOU_ERR_BAD_OPTION; /* duplicate: ambiguous */
      if (kind == TOU_OPTK_SACK) {
        size_t n = (olen - 2) / 8;
        if ((olen - 2) % 8 != 0 || n < 1 || n > TOU_WIRE_MAX_SACK) return TOU_ERR_BAD_OPTION;
      } else if (olen != known_option_len(kind)) {
        return TOU_ERR_BAD_OPTION;
      }
      int rc = parse_known_option(kind, data + i + 2, olen - 2, opts);
      if (rc < 0) return rc;
    }
    /* Unknown kinds are skipped by their length: room for later options. */
    i += olen;
  }
  return TOU_OK;
}

bool tou_wire_options_equal(const tou_options_t *a, const tou_options_t *b) {
  if (a->present != b->present) return false;
  uint32_t p = a->present;
  if (p & TOU_OPT_MSS && a->mss != b->mss) return false;
  if (p & TOU_OPT_WSCALE && a->wscale != b->wscale) return false;
  if (p & TOU_OPT_TIMESTAMP && (a->ts_val != b->ts_val || a->ts_ecr != b->ts_ecr)) return false;
  if (p & TOU_OPT_UTO && a->uto != b->uto) return false;
  if (p & TOU_OPT_SACK) {
    if (a->sack_count != b->sack_count || a->sack_count > TOU_WIRE_MAX_SACK) return false;
    for (unsigned i = 0; i < a->sack_count; i++)
      if (a->sack[i].left != b->sack[i].left || a->sack[i].right != b->sack[i].right)
        return false;
  }
  if (p & TOU_OPT_PROBE &&
      (a->probe_phase != b->probe_phase || a->probe_nonce != b->probe_nonce ||
       a->probe_echo != b->probe_echo))
    return false;
  return true;
}

bool tou_wire_segment_equal(const tou_segment_t *a, const tou_segment_t *b) {
  if (a->flags != b->flags || a->dst_cid != b->dst_cid || a->src_cid != b->src_cid ||
      a->seq != b->seq || a->ack != b->ack || a->window != b->window ||
      a->urgent != b->urgent || a->payload_len != b->payload_len)
    return false;
  if (!tou_wire_options_equal(&a->opts, &b->opts)) return false;
  return a->payload_len == 0 || memcmp(a->payload, b->payload, a->payload_len) == 0;
}

/* ---- segments --------------------------------------------------------- */

size_t tou_wire_encoded_size(const tou_segment_t *seg) {
  return TOU_WIRE_HEADER_LEN + tou_wire_options_size(&seg->opts) + seg->payload_len;
}

/* Checks seg and returns its header length (with options), or an error. */
static int head_len(const tou_segment_t *seg, uint8_t *buf, size_t cap) {
  if (seg == NULL || (buf == NULL && cap > 0)) return TOU_ERR_INVAL;
  if (seg->flags & ~FLAGS_MASK) return TOU_ERR_INVAL;
  if (seg->payload_len > 0 && seg->payload == NULL) return TOU_ERR_INVAL;
  int rc = check_options(&seg->opts);
  if (rc < 0) return rc;
  size_t hlen = TOU_WIRE_HEADER_LEN + tou_wire_options_size(&seg->opts);
  if (seg->payload_len > (size_t)INT32_MAX - hlen) return TOU_ERR_INVAL;
  if (hlen + seg->payload_len > cap) return TOU_ERR_NOBUFS;
  return (int)hlen;
}

/* Header and options, the checksum field zero. */
static void write_head(const tou_segment_t *seg, uint8_t *buf, size_t hlen) {
  buf[OFF_VERSION] = TOU_WIRE_VERSION;
  buf[OFF_HLEN] = (uint8_t)(hlen / 4);
  put16(buf + OFF_FLAGS, seg->flags); /* reserved bits sent as zero */
  put32(buf + OFF_DST_CID, seg->dst_cid);
  put32(buf + OFF_SRC_CID, seg->src_cid);
  put32(buf + OFF_SEQ, seg->seq);
  put32(buf + OFF_ACK, seg->ack);
  put16(buf + OFF_WINDOW, seg->window);
  put16(buf + OFF_URGENT, seg->urgent);
  put32(buf + OFF_CRC, 0);
  write_options(&seg->opts, buf + TOU_WIRE_HEADER_LEN);
}

int tou_wire_encode(const tou_segment_t *seg, uint8_t *buf, size_t cap) {
  int rc = head_len(seg, buf, cap);
  if (rc < 0) return rc;
  size_t hlen = (size_t)rc, total = hlen + seg->payload_len;
  /* The payload first: the caller may have built it in place at buf + hlen
   * (memmove allows the overlap), and writing the header must not clobber it. */
  if (seg->payload_len > 0) memmove(buf + hlen, seg->payload, seg->payload_len);
  write_head(seg, buf, hlen);
  put32(buf + OFF_CRC, datagram_crc(buf, total, OFF_CRC));
  return (int)total;
}

int tou_wire_encode_head_split(const tou_segment_t *seg, size_t first_len, const uint8_t *rest,
                               uint8_t *buf, size_t cap) {
  int rc = head_len(seg, buf, cap);
  if (rc < 0) return rc;
  if (first_len > seg->payload_len || (first_len < seg->payload_len && rest == NULL))
    return TOU_ERR_INVAL;
  size_t hlen = (size_t)rc;
  write_head(seg, buf, hlen);
  /* The same checksum as tou_wire_encode(): over the header (its checksum
   * field zero) and then the payload, wherever its pieces lie. */
  uint32_t crc = tou_crc32c(0, buf, hlen);
  if (first_len > 0) crc = tou_crc32c(crc, seg->payload, first_len);
  if (first_len < seg->payload_len) crc = tou_crc32c(crc, rest, seg->payload_len - first_len);
  put32(buf + OFF_CRC, crc);
  return (int)hlen;
}

int tou_wire_encode_head(const tou_segment_t *seg, uint8_t *buf, size_t cap) {
  return tou_wire_encode_head_split(seg, seg ? seg->payload_len : 0, NULL, buf, cap);
}

/* Order of checks: version, length, header length, checksum, options. The
 * checksum is verified before any option is interpreted, so a corrupted but
 * well-framed datagram is always reported as TOU_ERR_BAD_CHECKSUM, and only
 * authentic (uncorrupted) option bytes can produce TOU_ERR_BAD_OPTION. */
uint32_t tou_wire_peek_dst_cid(const uint8_t *data, size_t len) {
  if (data == NULL || len < TOU_WIRE_HEADER_LEN || data[OFF_VERSION] != TOU_WIRE_VERSION) return 0;
  return get32(data + OFF_DST_CID);
}

int tou_wire_decode(const uint8_t *data, size_t len, tou_segment_t *seg) {
  if (seg == NULL || (data == NULL && len > 0)) return TOU_ERR_INVAL;
  if (len < 1) return TOU_ERR_TRUNCATED;
  if (data[OFF_VERSION] != TOU_WIRE_VERSION) return TOU_ERR_BAD_VERSION;
  if (len < TOU_WIRE_HEADER_LEN) return TOU_ERR_TRUNCATED;
  size_t words = data[OFF_HLEN];
  if (words < HLEN_MIN_WORDS || words > HLEN_MAX_WORDS) return TOU_ERR_BAD_HEADER_LEN;
  size_t hlen = words * 4;
  if (hlen > len) return TOU_ERR_TRUNCATED;
  if (get32(data + OFF_CRC) != datagram_crc(data, len, OFF_CRC)) return TOU_ERR_BAD_CHECKSUM;

  tou_segment_t s;
  memset(&s, 0, sizeof s);
  int rc = tou_wire_parse_options(data + TOU_WIRE_HEADER_LEN, hlen - TOU_WIRE_HEADER_LEN, &s.opts);
  if (rc < 0) return rc;
  s.flags = (uint8_t)(get16(data + OFF_FLAGS) & FLAGS_MASK); /* reserved bits ignored */
  s.dst_cid = get32(data + OFF_DST_CID);
  s.src_cid = get32(data + OFF_SRC_CID);
  s.seq = get32(data + OFF_SEQ);
  s.ack = get32(data + OFF_ACK);
  s.window = get16(data + OFF_WINDOW);
  s.urgent = get16(data + OFF_URGENT);
  s.payload_len = len - hlen;
  s.payload = s.payload_len > 0 ? data + hlen : NULL;
  *seg = s;
  return TOU_OK;
}

/* ---- user timeout (RFC 5482) ------------------------------------------ */

#define UTO_VALUE_MAX 0x7fffu
#define US_PER_S 1000000ull

uint64_t tou_wire_uto_us(uint16_t uto) {
  uint64_t v = uto & UTO_VALUE_MAX;
  return (uto & TOU_UTO_MINUTES ? v * 60 : v) * US_PER_S;
}

/* Seconds while they fit (the finer unit), else minutes; rounded up, so
 * the peer never hears a shorter timeout than the one we keep. */
uint16_t tou_wire_uto_field(uint64_t us) {
  uint64_t s = (us + US_PER_S - 1) / US_PER_S;
  if (s == 0) s = 1;
  if (s <= UTO_VALUE_MAX) return (uint16_t)s;
  uint64_t m = (s + 59) / 60;
  return (uint16_t)(TOU_UTO_MINUTES | (m < UTO_VALUE_MAX ? m : UTO_VALUE_MAX));
}

/* ---- version negotiation ---------------------------------------------- */

/* Bytes 0 (version) and 4..11 (connection identifiers) keep their meaning in
 * every version, so we can answer a version we do not speak. */
int tou_wire_encode_version_reject(const uint8_t *offending, size_t len, uint8_t *buf,
                                   size_t cap) {
  if (offending == NULL && len > 0) return TOU_ERR_INVAL;
  const size_t n = sizeof supported_versions;
  const size_t out = TOU_WIRE_VREJECT_HEADER_LEN + n;
  if (len < 1) return 0;
  if (offending[OFF_VERSION] == TOU_WIRE_VERSION) return TOU_ERR_INVAL;
  /* Never answer a reject (no ping-pong), and never send more bytes than we
   * received (a spoofed source must not turn us into an amplifier). */
  if (offending[OFF_VERSION] == 0 || len < out) return 0;
  if (buf == NULL || cap < out) return TOU_ERR_NOBUFS;
  buf[OFF_VERSION] = 0;
  buf[VREJECT_OFF_COUNT] = (uint8_t)n;
  put16(buf + 2, 0);
  memcpy(buf + OFF_DST_CID, offending + OFF_SRC_CID, 4);
  memcpy(buf + OFF_SRC_CID, offending + OFF_DST_CID, 4);
  put32(buf + VREJECT_OFF_CRC, 0);
  memcpy(buf + TOU_WIRE_VREJECT_HEADER_LEN, supported_versions, n);
  put32(buf + VREJECT_OFF_CRC, datagram_crc(buf, out, VREJECT_OFF_CRC));
  return (int)out;
}

int tou_wire_decode_version_reject(const uint8_t *data, size_t len, tou_version_reject_t *vr) {
  if (vr == NULL || (data == NULL && len > 0)) return TOU_ERR_INVAL;
  if (len < 1) return TOU_ERR_TRUNCATED;
  if (data[OFF_VERSION] != 0) return TOU_ERR_BAD_VERSION;
  if (len < TOU_WIRE_VREJECT_HEADER_LEN) return TOU_ERR_TRUNCATED;
  size_t n = data[VREJECT_OFF_COUNT];
  if (n == 0) return TOU_ERR_BAD_HEADER_LEN;
  if (len < TOU_WIRE_VREJECT_HEADER_LEN + n) return TOU_ERR_TRUNCATED;
  if (get32(data + VREJECT_OFF_CRC) != datagram_crc(data, len, VREJECT_OFF_CRC))
    return TOU_ERR_BAD_CHECKSUM;
  vr->dst_cid = get32(data + OFF_DST_CID);
  vr->src_cid = get32(data + OFF_SRC_CID);
  vr->version_count = (uint8_t)n;
  vr->versions = data + TOU_WIRE_VREJECT_HEADER_LEN;
  return TOU_OK;
}

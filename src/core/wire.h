/* Segment codec: the byte layout of docs/PROTOCOL.md. Pure functions: no
 * allocation, no state. Decoding treats its input as hostile. */
#ifndef TOU_CORE_WIRE_H
#define TOU_CORE_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "seq.h"

#define TOU_WIRE_VERSION 1
#define TOU_WIRE_HEADER_LEN 28u    /* fixed header, options follow */
#define TOU_WIRE_MAX_HEADER_LEN 128u /* 32 words: fixed header + 100 bytes of options */
#define TOU_WIRE_MAX_SACK 4

/* Default maximum payload per segment: a 1500-byte IPv4 path
 * (1500 - 20 IP - 8 UDP - 28 tou) and the 1280-byte IPv6 minimum MTU
 * (1280 - 40 - 8 - 28). */
#define TOU_MSS_DEFAULT_V4 1444u
#define TOU_MSS_DEFAULT_V6 1204u

/* Flags: same bit positions as TCP. */
enum {
  TOU_FIN = 0x01,
  TOU_SYN = 0x02,
  TOU_RST = 0x04,
  TOU_PSH = 0x08,
  TOU_ACK = 0x10,
  TOU_URG = 0x20,
};

/* Bits of tou_options_t.present. */
enum {
  TOU_OPT_MSS = 1u << 0,
  TOU_OPT_WSCALE = 1u << 1,
  TOU_OPT_SACK_PERM = 1u << 2,
  TOU_OPT_SACK = 1u << 3,
  TOU_OPT_TIMESTAMP = 1u << 4,
  TOU_OPT_PROBE = 1u << 5,
  TOU_OPT_UTO = 1u << 6,
};

/* Option kinds on the wire. */
enum {
  TOU_OPTK_EOL = 0,
  TOU_OPTK_NOP = 1,
  TOU_OPTK_MSS = 2,
  TOU_OPTK_WSCALE = 3,
  TOU_OPTK_SACK_PERM = 4,
  TOU_OPTK_SACK = 5,
  TOU_OPTK_TIMESTAMP = 8,
  TOU_OPTK_UTO = 28, /* RFC 5482's kind */
  TOU_OPTK_PROBE = 30,
};

typedef struct tou_sack_block {
  tou_seq_t left;  /* first sequence number of the block */
  tou_seq_t right; /* sequence number just past the block */
} tou_sack_block_t;

/* Link probe phases ("can you hear me?"): ASK carries a nonce, ANSWER echoes
 * it and adds its own, CONFIRM echoes the answer's nonce. */
enum { TOU_PROBE_ASK = 1, TOU_PROBE_ANSWER = 2, TOU_PROBE_CONFIRM = 3 };

typedef struct tou_options {
  uint32_t present; /* TOU_OPT_* bits */
  uint16_t mss;
  uint8_t wscale; /* 0..14 */
  uint8_t sack_count;
  tou_sack_block_t sack[TOU_WIRE_MAX_SACK];
  uint32_t ts_val;
  uint32_t ts_ecr;
  uint8_t probe_phase;
  uint64_t probe_nonce;
  uint64_t probe_echo;
  uint16_t uto; /* RFC 5482 user timeout: TOU_UTO_MINUTES (G bit) | 15-bit value */
} tou_options_t;

/* The UTO option's granularity bit (RFC 5482 3): set, the value counts
 * minutes; clear, seconds. */
#define TOU_UTO_MINUTES 0x8000u
/* Microseconds a UTO field announces. */
uint64_t tou_wire_uto_us(uint16_t uto);
/* The UTO field announcing at least us (rounded up to a second; in minutes
 * when that does not fit 15 bits, at most 32767 minutes); us > 0. */
uint16_t tou_wire_uto_field(uint64_t us);

typedef struct tou_segment {
  uint8_t flags;    /* TOU_FIN | TOU_SYN | ... */
  uint32_t dst_cid; /* receiver's connection identifier (0 in a first SYN) */
  uint32_t src_cid; /* sender's connection identifier */
  tou_seq_t seq;
  tou_seq_t ack;
  uint16_t window; /* unscaled, as on the wire */
  uint16_t urgent;
  tou_options_t opts;
  const uint8_t *payload; /* decode: points into the datagram */
  size_t payload_len;
} tou_segment_t;

/* Size of the options area (padded to 4 bytes) that encoding opts takes. */
size_t tou_wire_options_size(const tou_options_t *opts);

/* Bytes tou_wire_encode() will write for seg. */
size_t tou_wire_encoded_size(const tou_segment_t *seg);

/* Encodes seg (header, options, payload, CRC32C) into buf. Returns the
 * datagram length, or TOU_ERR_NOBUFS / TOU_ERR_INVAL (too many SACK blocks,
 * wscale > 14, options beyond the maximum header length). */
int tou_wire_encode(const tou_segment_t *seg, uint8_t *buf, size_t cap);

/* As tou_wire_encode(), without copying the payload: writes the header and
 * options (checksum included, computed over them and seg->payload) into
 * buf and returns their length; the datagram is those bytes followed by the
 * payload (for a gathered send). cap bounds the whole datagram, as for
 * tou_wire_encode(). */
int tou_wire_encode_head(const tou_segment_t *seg, uint8_t *buf, size_t cap);
/* As tou_wire_encode_head(), for a payload in two pieces (a ring buffer's
 * wrap point splits it): of its seg->payload_len bytes, the first first_len
 * lie at seg->payload and the rest at rest. TOU_ERR_INVAL when first_len
 * exceeds payload_len, or rest is NULL with bytes left for it. */
int tou_wire_encode_head_split(const tou_segment_t *seg, size_t first_len, const uint8_t *rest,
                               uint8_t *buf, size_t cap);
/* Decodes one datagram. Returns TOU_OK and fills *seg (payload points into
 * data), or a negative TOU_ERR_* naming the malformation. */
int tou_wire_decode(const uint8_t *data, size_t len, tou_segment_t *seg);

/* The destination cid of what looks like one of our segments, without
 * checking it (no checksum, no options); 0 when too short or another
 * version. A hint for demultiplexing ahead of tou_wire_decode(). */
uint32_t tou_wire_peek_dst_cid(const uint8_t *data, size_t len);

/* Parses an options area (as found between the fixed header and the payload).
 * Unknown kinds are skipped by their length. */
int tou_wire_parse_options(const uint8_t *data, size_t len, tou_options_t *opts);

/* Version negotiation: the reply to a datagram whose version is not ours.
 * Writes it into buf, echoing the connection identifiers of the offending
 * datagram; never longer than that datagram (no amplification). Returns its
 * length, 0 when no reply should be sent (too short to echo), or an error. */
int tou_wire_encode_version_reject(const uint8_t *offending, size_t len, uint8_t *buf,
                                   size_t cap);

/* Writes the options area for opts (options, then EOL padding to a multiple
 * of 4 bytes) into buf. Returns its length (tou_wire_options_size()), or
 * TOU_ERR_INVAL / TOU_ERR_NOBUFS as tou_wire_encode(). */
int tou_wire_encode_options(const tou_options_t *opts, uint8_t *buf, size_t cap);

/* Version-reject datagram (version byte 0), see docs/PROTOCOL.md. */
#define TOU_WIRE_VREJECT_HEADER_LEN 16u /* fixed part; the version list follows */

typedef struct tou_version_reject {
  uint32_t dst_cid; /* = src_cid of the rejected datagram: the rejected sender's cid */
  uint32_t src_cid; /* = dst_cid of the rejected datagram */
  uint8_t version_count;
  const uint8_t *versions; /* version_count bytes, pointing into the datagram */
} tou_version_reject_t;

/* Decodes a version-reject datagram. Returns TOU_OK, TOU_ERR_TRUNCATED,
 * TOU_ERR_BAD_VERSION (byte 0 is not 0), TOU_ERR_BAD_HEADER_LEN (empty
 * version list) or TOU_ERR_BAD_CHECKSUM. */
int tou_wire_decode_version_reject(const uint8_t *data, size_t len, tou_version_reject_t *vr);

/* Field-by-field equality: header fields, the options marked present (fields
 * of absent options are ignored) and payload bytes (not pointers). */
bool tou_wire_options_equal(const tou_options_t *a, const tou_options_t *b);
bool tou_wire_segment_equal(const tou_segment_t *a, const tou_segment_t *b);

/* CRC32C (Castagnoli) of data, continuing from crc (0 to start). */
uint32_t tou_crc32c(uint32_t crc, const uint8_t *data, size_t len);

#endif

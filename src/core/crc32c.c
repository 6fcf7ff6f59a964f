/* CRC32C, the Castagnoli polynomial (RFC 3720 appendix B.4; also used by
 * iSCSI, SCTP, ext4). Reflected form: polynomial 0x82F63B78, initial value
 * and final XOR 0xFFFFFFFF, so the check value of "123456789" is 0xE3069283. */
#include "crc32c.h"

#include "crc32c_table.h"
#include "wire.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define TOU_CRC32C_X86 1
#include <immintrin.h>

#include "crc32c_shift.h"
#endif

static inline uint32_t load_le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Slice-by-8: eight table lookups consume eight bytes per step, independent
 * of each other, instead of one dependent lookup per byte. Byte order of the
 * host does not matter because words are assembled byte by byte. */
uint32_t tou_crc32c_portable(uint32_t crc, const uint8_t *data, size_t len) {
  const uint32_t(*t)[256] = tou_crc32c_tab;
  crc = ~crc;
  while (len >= 8) {
    uint32_t lo = crc ^ load_le32(data);
    crc = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^ t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^
          t[3][data[4]] ^ t[2][data[5]] ^ t[1][data[6]] ^ t[0][data[7]];
    data += 8;
    len -= 8;
  }
  while (len--) crc = (crc >> 8) ^ t[0][(crc ^ *data++) & 0xff];
  return ~crc;
}

#ifdef TOU_CRC32C_X86
bool tou_crc32c_hw_available(void) { return __builtin_cpu_supports("sse4.2"); }

__attribute__((target("sse4.2"))) static uint32_t crc32c_sse42(uint32_t crc, const uint8_t *data,
                                                              size_t len) {
  uint64_t c = ~crc;
  while (len >= 8) {
    uint64_t word;
    __builtin_memcpy(&word, data, 8); /* x86 is little-endian, as the instruction expects */
    c = _mm_crc32_u64(c, word);
    data += 8;
    len -= 8;
  }
  uint32_t c32 = (uint32_t)c;
  if (len >= 4) { /* headers are multiples of 4 bytes: one step, not four */
    uint32_t word;
    __builtin_memcpy(&word, data, 4);
    c32 = _mm_crc32_u32(c32, word);
    data += 4;
    len -= 4;
  }
  while (len--) c32 = _mm_crc32_u8(c32, *data++);
  return ~c32;
}

/* ---- three interleaved streams ------------------------------------------
 * crc32q takes 3 cycles but a new one can start every cycle: one serial
 * chain leaves two thirds of the unit idle. A block of three chunks of B
 * bytes is run as three independent chains (the first from the incoming
 * register, the others from 0), then joined. The raw register is linear:
 * reg(M1 || M2, r) = reg(M2, 0) ^ reg(B zero bytes, reg(M1, r)), and running
 * over B zero bytes multiplies by x^(8B) mod P, which one carry-less
 * multiply by a constant and one crc32q do (derivation and constants:
 * scripts/gen_crc32c_shift.py). */

/* Below this many 64-bit words per chunk the two joins cost more than the
 * interleaving saves. */
#define INTERLEAVE_MIN_WORDS 8u

__attribute__((target("sse4.2,pclmul"))) static uint32_t shift_by_words(uint32_t r, size_t words) {
  __m128i k = _mm_cvtsi32_si128((int)tou_crc32c_shift[words - 1]);
  __m128i prod = _mm_clmulepi64_si128(_mm_cvtsi32_si128((int)r), k, 0x00);
  return (uint32_t)_mm_crc32_u64(0, (uint64_t)_mm_cvtsi128_si64(prod));
}

static inline uint64_t load64(const uint8_t *p) {
  uint64_t w;
  __builtin_memcpy(&w, p, 8); /* x86 is little-endian, as the instruction expects */
  return w;
}

__attribute__((target("sse4.2,pclmul"))) static uint32_t crc32c_sse42_x3(uint32_t crc,
                                                                         const uint8_t *data,
                                                                         size_t len) {
  uint32_t c = ~crc;
  while (len >= 3 * 8 * INTERLEAVE_MIN_WORDS) {
    size_t words = len / 24;
    if (words > TOU_CRC32C_SHIFT_MAX_WORDS) words = TOU_CRC32C_SHIFT_MAX_WORDS;
    size_t chunk = 8 * words;
    const uint8_t *p0 = data, *p1 = data + chunk, *p2 = data + 2 * chunk;
    uint64_t c0 = c, c1 = 0, c2 = 0;
    for (size_t i = 0; i < chunk; i += 8) {
      c0 = _mm_crc32_u64(c0, load64(p0 + i));
      c1 = _mm_crc32_u64(c1, load64(p1 + i));
      c2 = _mm_crc32_u64(c2, load64(p2 + i));
    }
    c = shift_by_words((uint32_t)c0, words) ^ (uint32_t)c1;
    c = shift_by_words(c, words) ^ (uint32_t)c2;
    data += 3 * chunk;
    len -= 3 * chunk;
  }
  return crc32c_sse42(~c, data, len); /* the rest: under 24 bytes, or a short buffer */
}

/* ---- folding with 512-bit carry-less multiplies -------------------------
 * On CPUs with VPCLMULQDQ and AVX-512 a buffer is folded 64 bytes per
 * register instead of 8 bytes per crc32 instruction. A 16-byte lane X
 * (bytes in memory order, loaded little-endian: the low 64 bits H come
 * first, the high ones L after) followed d bytes later by the lane Y
 * leaves the raw register as if Y were replaced by
 *   clmul(H, x^(8d+31) mod P) ^ clmul(L, x^(8d-33) mod P) ^ Y
 * and X dropped (reflected constants; the +31/-33 account for the 64-bit
 * halves and for the product of two reflected values coming out one bit
 * up, as in the crc32c_shift.h derivation). Both constants are entries of
 * that table: x^(8d+31) is tou_crc32c_shift[d/8], x^(8d-33) is
 * tou_crc32c_shift[d/8 - 1]. Four registers fold 256 bytes per round, to
 * hide the multiply's latency; at the end they are folded into one lane,
 * and two crc32 instructions over its 16 bytes, from a zero register,
 * give the raw register (running the 16 bytes as data is what the fold
 * preserves). */

/* Below this the setup and the reductions cost more than the 3-way path. */
#define WIDE_MIN_LEN 256u

static bool clmul_available(void) { return __builtin_cpu_supports("pclmul"); }

bool tou_crc32c_wide_available(void) {
  return tou_crc32c_hw_available() && clmul_available() && __builtin_cpu_supports("avx512f") &&
         __builtin_cpu_supports("vpclmulqdq");
}

#define WIDE_TARGET __attribute__((target("sse4.2,pclmul,avx512f,vpclmulqdq")))

/* The lane constants [x^(8d+31), x^(8d-33)] for a fold over d bytes. */
WIDE_TARGET static __m128i fold_keys(size_t d) {
  return _mm_set_epi64x((long long)tou_crc32c_shift[d / 8 - 1], (long long)tou_crc32c_shift[d / 8]);
}

WIDE_TARGET static __m512i fold512(__m512i x, __m512i k, __m512i next) {
  __m512i lo = _mm512_clmulepi64_epi128(x, k, 0x00), hi = _mm512_clmulepi64_epi128(x, k, 0x11);
  return _mm512_ternarylogic_epi64(lo, hi, next, 0x96); /* lo ^ hi ^ next */
}

WIDE_TARGET static __m128i fold128(__m128i x, __m128i k, __m128i next) {
  __m128i lo = _mm_clmulepi64_si128(x, k, 0x00), hi = _mm_clmulepi64_si128(x, k, 0x11);
  return _mm_xor_si128(_mm_xor_si128(lo, hi), next);
}

WIDE_TARGET static uint32_t crc32c_wide(uint32_t crc, const uint8_t *data, size_t len) {
  if (len < WIDE_MIN_LEN) return crc32c_sse42_x3(crc, data, len);
  /* The incoming register enters as the first 32 bits of the message. */
  __m512i x0 = _mm512_xor_si512(_mm512_loadu_si512((const void *)data),
                                _mm512_castsi128_si512(_mm_cvtsi32_si128((int)~crc)));
  __m512i x1 = _mm512_loadu_si512((const void *)(data + 64));
  __m512i x2 = _mm512_loadu_si512((const void *)(data + 128));
  __m512i x3 = _mm512_loadu_si512((const void *)(data + 192));
  data += 256;
  len -= 256;
  const __m512i k256 = _mm512_broadcast_i32x4(fold_keys(256));
  while (len >= 256) {
    x0 = fold512(x0, k256, _mm512_loadu_si512((const void *)data));
    x1 = fold512(x1, k256, _mm512_loadu_si512((const void *)(data + 64)));
    x2 = fold512(x2, k256, _mm512_loadu_si512((const void *)(data + 128)));
    x3 = fold512(x3, k256, _mm512_loadu_si512((const void *)(data + 192)));
    data += 256;
    len -= 256;
  }
  /* Four registers into one: x0 lies 192 bytes before x3, x1 128, x2 64. */
  __m512i x = fold512(x0, _mm512_broadcast_i32x4(fold_keys(192)), x3);
  x = _mm512_xor_si512(x, fold512(x1, _mm512_broadcast_i32x4(fold_keys(128)),
                                  fold512(x2, _mm512_broadcast_i32x4(fold_keys(64)),
                                          _mm512_setzero_si512())));
  const __m512i k64 = _mm512_broadcast_i32x4(fold_keys(64));
  for (; len >= 64; data += 64, len -= 64)
    x = fold512(x, k64, _mm512_loadu_si512((const void *)data));
  /* Four lanes into one: lane i lies 16 * (3 - i) bytes before lane 3. */
  __m128i v = _mm512_extracti32x4_epi32(x, 3);
  v = fold128(_mm512_extracti32x4_epi32(x, 2), fold_keys(16), v);
  v = fold128(_mm512_extracti32x4_epi32(x, 1), fold_keys(32), v);
  v = fold128(_mm512_castsi512_si128(x), fold_keys(48), v);
  const __m128i k16 = fold_keys(16);
  for (; len >= 16; data += 16, len -= 16)
    v = fold128(v, k16, _mm_loadu_si128((const __m128i *)data));
  uint64_t c = _mm_crc32_u64(0, (uint64_t)_mm_cvtsi128_si64(v));
  c = _mm_crc32_u64(c, (uint64_t)_mm_extract_epi64(v, 1));
  /* Leave the upper register halves clean: legacy SSE code after dirty
   * 512-bit state (memcpy, the 3-way path) pays a merge on every
   * instruction; the compiler adds no vzeroupper before the tail call. */
  _mm256_zeroupper();
  return crc32c_sse42(~(uint32_t)c, data, len); /* under 16 bytes left */
}

uint32_t tou_crc32c_wide(uint32_t crc, const uint8_t *data, size_t len) {
  if (!tou_crc32c_wide_available()) return tou_crc32c_hw(crc, data, len);
  return crc32c_wide(crc, data, len);
}

uint32_t tou_crc32c_sse42(uint32_t crc, const uint8_t *data, size_t len) {
  if (!tou_crc32c_hw_available()) return tou_crc32c_portable(crc, data, len);
  if (!clmul_available()) return crc32c_sse42(crc, data, len);
  return crc32c_sse42_x3(crc, data, len);
}

uint32_t tou_crc32c_hw(uint32_t crc, const uint8_t *data, size_t len) {
  if (len >= WIDE_MIN_LEN && tou_crc32c_wide_available()) return crc32c_wide(crc, data, len);
  return tou_crc32c_sse42(crc, data, len);
}
#else
bool tou_crc32c_hw_available(void) { return false; }
bool tou_crc32c_wide_available(void) { return false; }

uint32_t tou_crc32c_hw(uint32_t crc, const uint8_t *data, size_t len) {
  return tou_crc32c_portable(crc, data, len);
}
uint32_t tou_crc32c_sse42(uint32_t crc, const uint8_t *data, size_t len) {
  return tou_crc32c_portable(crc, data, len);
}
uint32_t tou_crc32c_wide(uint32_t crc, const uint8_t *data, size_t len) {
  return tou_crc32c_portable(crc, data, len);
}
#endif

/* The CPU check is a load and a bit test in libgcc/compiler-rt's CPU model,
 * cheap enough per call; caching it would need a global. */
uint32_t tou_crc32c(uint32_t crc, const uint8_t *data, size_t len) {
  if (len == 0) return crc;
  return tou_crc32c_hw(crc, data, len);
}

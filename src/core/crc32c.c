/* CRC32C, the Castagnoli polynomial (RFC 3720 appendix B.4; also used by
 * iSCSI, SCTP, ext4). Reflected form: polynomial 0x82F63B78, initial value
 * and final XOR 0xFFFFFFFF, so the check value of "123456789" is 0xE3069283. */
#include "crc32c.h"

#include "crc32c_table.h"
#include "wire.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define TOU_CRC32C_X86 1
#include <nmmintrin.h>
#include <wmmintrin.h>

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

static bool clmul_available(void) { return __builtin_cpu_supports("pclmul"); }

uint32_t tou_crc32c_hw(uint32_t crc, const uint8_t *data, size_t len) {
  if (!tou_crc32c_hw_available()) return tou_crc32c_portable(crc, data, len);
  if (!clmul_available()) return crc32c_sse42(crc, data, len);
  return crc32c_sse42_x3(crc, data, len);
}
#else
bool tou_crc32c_hw_available(void) { return false; }

uint32_t tou_crc32c_hw(uint32_t crc, const uint8_t *data, size_t len) {
  return tou_crc32c_portable(crc, data, len);
}
#endif

/* The CPU check is a load and a bit test in libgcc/compiler-rt's CPU model,
 * cheap enough per call; caching it would need a global. */
uint32_t tou_crc32c(uint32_t crc, const uint8_t *data, size_t len) {
  if (len == 0) return crc;
  return tou_crc32c_hw(crc, data, len);
}

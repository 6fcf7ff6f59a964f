/* CRC32C, the Castagnoli polynomial (RFC 3720 appendix B.4; also used by
 * iSCSI, SCTP, ext4). Reflected form: polynomial 0x82F63B78, initial value
 * and final XOR 0xFFFFFFFF, so the check value of "123456789" is 0xE3069283. */
#include "crc32c.h"

#include "crc32c_table.h"
#include "wire.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define TOU_CRC32C_X86 1
#include <nmmintrin.h>
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

uint32_t tou_crc32c_hw(uint32_t crc, const uint8_t *data, size_t len) {
  if (!tou_crc32c_hw_available()) return tou_crc32c_portable(crc, data, len);
  return crc32c_sse42(crc, data, len);
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

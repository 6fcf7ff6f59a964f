/* CRC32C (Castagnoli) implementations. tou_crc32c() (declared in wire.h)
 * picks the fastest one available at run time; the individual versions are
 * exposed so tests and benchmarks can check them against each other. */
#ifndef TOU_CORE_CRC32C_H
#define TOU_CORE_CRC32C_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Portable slice-by-8. Same convention as tou_crc32c(): pass 0 to start, pass
 * the previous result to continue. */
uint32_t tou_crc32c_portable(uint32_t crc, const uint8_t *data, size_t len);

/* True when the CPU has a CRC32C instruction tou_crc32c_hw() can use. */
bool tou_crc32c_hw_available(void);

/* CRC32C on the fastest hardware path the CPU has (checked at run time):
 * tou_crc32c_wide() for buffers of 256 bytes and more where it is
 * available, else tou_crc32c_sse42(). Only call it when
 * tou_crc32c_hw_available(); on other CPUs it falls back to the portable
 * version. */
uint32_t tou_crc32c_hw(uint32_t crc, const uint8_t *data, size_t len);

/* CRC32C with the SSE4.2 crc32 instruction: on CPUs that also have
 * PCLMULQDQ as three interleaved chains joined with carry-less multiplies,
 * else one chain; the portable version without SSE4.2. */
uint32_t tou_crc32c_sse42(uint32_t crc, const uint8_t *data, size_t len);

/* True when the CPU (and the OS, for the register state) has AVX-512 and
 * VPCLMULQDQ, which tou_crc32c_wide() needs. */
bool tou_crc32c_wide_available(void);

/* CRC32C folding 256 bytes per round with 512-bit carry-less multiplies;
 * buffers under 256 bytes go to tou_crc32c_sse42(). Without the CPU
 * features, the same as tou_crc32c_hw(). */
uint32_t tou_crc32c_wide(uint32_t crc, const uint8_t *data, size_t len);

#endif

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

/* CRC32C with the SSE4.2 crc32 instruction: on CPUs that also have
 * PCLMULQDQ (checked at run time) as three interleaved chains joined with
 * carry-less multiplies, else one chain. Only call it when
 * tou_crc32c_hw_available(); on other CPUs it falls back to the portable
 * version. */
uint32_t tou_crc32c_hw(uint32_t crc, const uint8_t *data, size_t len);

#endif

/* Codec speed: ns per encode and decode of a 1400-byte data segment with a
 * timestamp option and of a bare ACK, and CRC32C throughput (selected, portable
 * and hardware paths). Prints figures; not a test. Benchmarks read the clock,
 * the core never does. Usage: bench_codec [iterations-scale] */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crc32c.h"
#include "error.h"
#include "wire.h"

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Keeps the compiler from discarding results. */
static volatile uint64_t sink;

typedef struct {
  const char *name;
  tou_segment_t seg;
} bench_seg_t;

static void bench_segment(const bench_seg_t *b, long iters) {
  static uint8_t buf[2048];
  int n = tou_wire_encode(&b->seg, buf, sizeof buf);
  if (n < 0) {
    fprintf(stderr, "encode: %s\n", tou_error_name(n));
    exit(1);
  }
  double best_enc = 1e30, best_dec = 1e30;
  for (int rep = 0; rep < 5; rep++) { /* best of 5: least disturbed by other load */
    double t0 = now_ns();
    for (long i = 0; i < iters; i++) {
      tou_segment_t s = b->seg;
      s.seq += (uint32_t)i; /* a different datagram each time */
      sink += (uint64_t)tou_wire_encode(&s, buf, sizeof buf);
    }
    double t1 = now_ns();
    for (long i = 0; i < iters; i++) {
      tou_segment_t d;
      sink += (uint64_t)tou_wire_decode(buf, (size_t)n, &d) + d.seq;
    }
    double t2 = now_ns();
    if ((t1 - t0) / iters < best_enc) best_enc = (t1 - t0) / iters;
    if ((t2 - t1) / iters < best_dec) best_dec = (t2 - t1) / iters;
  }
  printf("%-34s %5d bytes  encode %8.1f ns  decode %8.1f ns\n", b->name, n, best_enc, best_dec);
}

static void bench_crc(const char *name, uint32_t (*fn)(uint32_t, const uint8_t *, size_t),
                      size_t len, long iters) {
  uint8_t *buf = malloc(len);
  for (size_t i = 0; i < len; i++) buf[i] = (uint8_t)(i * 7);
  double best = 1e30;
  for (int rep = 0; rep < 5; rep++) {
    double t0 = now_ns();
    uint32_t c = 0;
    for (long i = 0; i < iters; i++) c = fn(c, buf, len);
    double t = now_ns() - t0;
    sink += c;
    if (t < best) best = t;
  }
  printf("crc32c %-10s %6zu-byte buffers  %6.2f GB/s\n", name, len,
         (double)len * (double)iters / best);
  free(buf);
}

int main(int argc, char **argv) {
  long scale = argc > 1 ? atol(argv[1]) : 1;
  if (scale < 1) scale = 1;
  static uint8_t payload[1400];
  for (size_t i = 0; i < sizeof payload; i++) payload[i] = (uint8_t)i;

  bench_seg_t data = {"data segment (1400 B + timestamp)", {0}};
  data.seg.flags = TOU_ACK | TOU_PSH;
  data.seg.dst_cid = 0x9e8f7a6b;
  data.seg.src_cid = 0x1a2b3c4d;
  data.seg.seq = 1;
  data.seg.ack = 2;
  data.seg.window = 512;
  data.seg.opts.present = TOU_OPT_TIMESTAMP;
  data.seg.opts.ts_val = 1000;
  data.seg.opts.ts_ecr = 900;
  data.seg.payload = payload;
  data.seg.payload_len = sizeof payload;

  bench_seg_t ack = {"bare ACK (header only)", data.seg};
  ack.seg.flags = TOU_ACK;
  ack.seg.opts.present = 0;
  ack.seg.payload = NULL;
  ack.seg.payload_len = 0;

  printf("CRC32C hardware path: %s\n",
         tou_crc32c_wide_available() ? "AVX-512 VPCLMULQDQ (256 bytes and more), SSE4.2"
         : tou_crc32c_hw_available() ? "SSE4.2"
                                     : "none");
  bench_segment(&data, 200000 * scale);
  bench_segment(&ack, 2000000 * scale);
  bench_crc("selected", tou_crc32c, 1472, 200000 * scale);
  bench_crc("portable", tou_crc32c_portable, 1472, 100000 * scale);
  bench_crc("hw", tou_crc32c_hw, 1472, 200000 * scale);
  bench_crc("sse42", tou_crc32c_sse42, 1472, 200000 * scale);
  bench_crc("wide", tou_crc32c_wide, 1472, 200000 * scale);
  bench_crc("selected", tou_crc32c, 65536, 4000 * scale);
  return 0;
}

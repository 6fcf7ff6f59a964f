/* Issue 6 matrix over misbehaving paths (both directions): heavy
 * reordering, duplication, corruption (every corrupted datagram must be
 * dropped by the CRC, none delivered: the trace pairs each corrupted
 * delivery with its drop), and a narrow bottleneck with a small queue.
 * Every size up to 1 MiB, each way and both ways at once, byte-exact. */
#include "xfer.h"

#define MS SIM_MS

/* 30 % of datagrams held back 30 ms, and 15 ms of jitter on the rest. */
static void test_heavy_reordering(void **state) {
  (void)state;
  xfer_opts_t o = {.link = {.delay_us = 20 * MS, .jitter_us = 15 * MS, .reorder = 0.3,
                            .reorder_us = 30 * MS}};
  xfer_matrix(0xd300, &o);
}

static void test_duplication(void **state) {
  (void)state;
  xfer_opts_t o = {.link = {.delay_us = 20 * MS, .duplicate = 0.2, .dup_gap_us = 3 * MS}};
  xfer_matrix(0xd320, &o);
}

static void test_corruption(void **state) {
  (void)state;
  xfer_opts_t o = {.link = {.delay_us = 20 * MS, .corrupt = 0.05, .corrupt_bits = 3},
                   .watch = true};
  xfer_matrix(0xd340, &o);
  /* The CRC pairing is asserted per transfer; here: it had work to do. */
  xfer_result_t r;
  xfer_run(0xd35f, &o, XFER_MIB, XFER_MIB, &r);
  print_message("1 MiB both ways: %llu corrupted datagrams delivered, %llu dropped by CRC\n",
                (unsigned long long)r.crc.corrupted_delivered,
                (unsigned long long)r.crc.corrupted_dropped);
  assert_true(r.crc.corrupted_delivered > 50);
}

/* 2 Mbit/s with a 6 KB queue (four segments): drop-tail losses every time
 * the sender's window outgrows the queue. */
static void test_narrow_bottleneck(void **state) {
  (void)state;
  xfer_opts_t o = {.link = {.delay_us = 20 * MS, .rate_bps = 2000000, .queue_bytes = 6000}};
  xfer_matrix(0xd360, &o);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_heavy_reordering),
      cmocka_unit_test(test_duplication),
      cmocka_unit_test(test_corruption),
      cmocka_unit_test(test_narrow_bottleneck),
  };
  SIM_RUN_TESTS(tests);
}

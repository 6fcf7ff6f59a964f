/* Issue 6 matrix under loss, both directions of the path impaired: 1 %,
 * 5 % and 20 % independent random loss, and burst loss (Gilbert-Elliott:
 * bad periods of ~3 datagrams losing 90 %). Every size up to 1 MiB, each
 * way and both ways at once, byte-exact, both sides closing cleanly. The
 * path is a 1500-byte IPv4 one (datagrams over 1472 bytes drop): with
 * timestamps and SACK blocks on data every datagram must still fit
 * (RFC 6691, docs/PROTOCOL.md 5.1.1). */
#include "xfer.h"

#define MS SIM_MS

static void test_loss_1pct(void **state) {
  (void)state;
  xfer_opts_t o = {.link = {.mtu = 1472, .delay_us = 20 * MS, .loss = 0.01}};
  xfer_matrix(0xd200, &o);
}

static void test_loss_5pct(void **state) {
  (void)state;
  xfer_opts_t o = {.link = {.mtu = 1472, .delay_us = 20 * MS, .loss = 0.05}};
  xfer_matrix(0xd220, &o);
}

static void test_loss_20pct(void **state) {
  (void)state;
  xfer_opts_t o = {.link = {.mtu = 1472, .delay_us = 20 * MS, .loss = 0.20}};
  xfer_matrix(0xd240, &o);
}

static void test_burst_loss(void **state) {
  (void)state;
  xfer_opts_t o = {
      .link = {.mtu = 1472, .delay_us = 20 * MS, .ge_p = 0.02, .ge_r = 0.3, .ge_loss_bad = 0.9}};
  xfer_matrix(0xd260, &o);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_loss_1pct),
      cmocka_unit_test(test_loss_5pct),
      cmocka_unit_test(test_loss_20pct),
      cmocka_unit_test(test_burst_loss),
  };
  SIM_RUN_TESTS(tests);
}

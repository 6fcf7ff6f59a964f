/* libFuzzer target: the options parser. Where parsing succeeds, encoding the
 * options again and parsing that must give the same options. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "error.h"
#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tou_options_t opts;
  int rc = tou_wire_parse_options(data, size, &opts);
  if (rc != TOU_OK) {
    if (rc != TOU_ERR_BAD_OPTION) abort();
    return 0;
  }
  uint8_t out[TOU_WIRE_MAX_HEADER_LEN];
  int n = tou_wire_encode_options(&opts, out, sizeof out);
  /* Everything parseable fits: each known option at most once. */
  if (n < 0 || (size_t)n != tou_wire_options_size(&opts) || n % 4 != 0) abort();
  tou_options_t again;
  if (tou_wire_parse_options(out, (size_t)n, &again) != TOU_OK) abort();
  if (!tou_wire_options_equal(&opts, &again)) abort();
  return 0;
}

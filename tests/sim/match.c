#include "match.h"

#include "error.h"

#define CTRL (TOU_SYN | TOU_ACK | TOU_FIN | TOU_RST)

const sim_flag_match_t SIM_MATCH_SYN = {.mask = TOU_SYN | TOU_ACK | TOU_RST, .value = TOU_SYN};
const sim_flag_match_t SIM_MATCH_SYNACK = {.mask = TOU_SYN | TOU_ACK | TOU_RST,
                                           .value = TOU_SYN | TOU_ACK};
const sim_flag_match_t SIM_MATCH_PURE_ACK = {.mask = CTRL, .value = TOU_ACK, .pure_only = true};
const sim_flag_match_t SIM_MATCH_FIN = {.mask = TOU_FIN, .value = TOU_FIN};
const sim_flag_match_t SIM_MATCH_RST = {.mask = TOU_RST, .value = TOU_RST};
const sim_flag_match_t SIM_MATCH_DATA = {.mask = 0, .value = 0, .data_only = true};

bool sim_match(const sim_flag_match_t *m, const uint8_t *data, size_t len) {
  tou_segment_t seg;
  if (tou_wire_decode(data, len, &seg) != TOU_OK) return false;
  if ((seg.flags & m->mask) != m->value) return false;
  if (m->data_only && seg.payload_len == 0) return false;
  if (m->pure_only && seg.payload_len > 0) return false;
  return true;
}

bool sim_filter_flags(void *ctx, uint64_t index, const uint8_t *data, size_t len) {
  (void)index;
  return sim_match(ctx, data, len);
}

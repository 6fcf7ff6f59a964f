/* Packet predicates for link filters (link.h): "drop the first SYN-ACK",
 * "drop every pure ACK", ... A datagram that does not decode never matches. */
#ifndef TOU_SIM_MATCH_H
#define TOU_SIM_MATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

/* Matches when (flags & mask) == value (and the payload condition holds). */
typedef struct sim_flag_match {
  uint8_t mask, value;
  bool pure_only; /* and carries no payload */
  bool data_only; /* and carries payload */
} sim_flag_match_t;

extern const sim_flag_match_t SIM_MATCH_SYN;      /* SYN without ACK */
extern const sim_flag_match_t SIM_MATCH_SYNACK;   /* SYN+ACK */
extern const sim_flag_match_t SIM_MATCH_PURE_ACK; /* only ACK, no payload */
extern const sim_flag_match_t SIM_MATCH_FIN;      /* any segment with FIN */
extern const sim_flag_match_t SIM_MATCH_RST;      /* any segment with RST */
extern const sim_flag_match_t SIM_MATCH_DATA;     /* any segment with payload */

/* sim_filter_fn for a const sim_flag_match_t * context. */
bool sim_filter_flags(void *ctx, uint64_t index, const uint8_t *data, size_t len);
/* Decodes data and applies m. */
bool sim_match(const sim_flag_match_t *m, const uint8_t *data, size_t len);

#endif

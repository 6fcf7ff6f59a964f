/* Human-readable segments for traces and failure messages, in packetdrill's
 * notation: "S. seq=123 ack=456 win=65535 len=0 cid=1->2 <mss 1444,ws 7>". */
#ifndef TOU_SIM_SEGFMT_H
#define TOU_SIM_SEGFMT_H

#include <stddef.h>
#include <stdint.h>

#include "wire.h"

/* Flags as packetdrill writes them: S F R P U then "." for ACK. */
const char *sim_flags_str(uint8_t flags, char *buf, size_t cap);
/* Formats seg into buf; returns buf. */
const char *sim_seg_str(const tou_segment_t *seg, char *buf, size_t cap);
/* Decodes and formats a datagram ("<undecodable: TOU_ERR_...>" when bad). */
const char *sim_datagram_str(const uint8_t *data, size_t len, char *buf, size_t cap);

#endif

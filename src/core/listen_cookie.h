/* The listener's stateless path (SYN cookies, syncookie.h): answering a SYN
 * without allocating, and rebuilding the connection from the ACK that
 * returns the cookie. Called by listen.c and endpoint.c. */
#ifndef TOU_CORE_LISTEN_COOKIE_H
#define TOU_CORE_LISTEN_COOKIE_H

#include <stdbool.h>
#include <stdint.h>

#include "core.h"

/* A SYN for the listener (already checked: SYN without ACK/RST, dst_cid 0).
 * Feeds the flood detector; returns true when the SYN was answered (or
 * dropped) statelessly, false when the listener should keep state for it.
 * queue_full: no room in the half-open queue or the connection table. */
bool listen_cookie_syn(tou_ep_t *ep, uint64_t now, const tou_addr_t *from,
                       const tou_segment_t *seg, bool queue_full);

/* A segment that names a connection id nobody holds. Returns true when it
 * carried a valid cookie (the connection is rebuilt and the segment handed
 * to it, or it is dropped because the accept queue is full); false when the
 * caller should treat it as a segment for no connection (RST). */
bool listen_cookie_ack(tou_ep_t *ep, uint64_t now, const tou_addr_t *from,
                       const tou_segment_t *seg);

/* Releases what the cookie path allocated (with the endpoint). */
void listen_cookie_free(tou_ep_t *ep);

#endif

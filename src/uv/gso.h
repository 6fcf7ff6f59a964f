/* Which datagrams leave together as one UDP GSO buffer (Linux UDP_SEGMENT).
 * Pure: no sockets, so tests can check the grouping rules directly. */
#ifndef TOU_UV_GSO_H
#define TOU_UV_GSO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* The kernel splits one buffer into at most 64 segments (UDP_MAX_SEGMENTS
 * before Linux 6.9) ... */
#define TOU_GSO_MAX_SEGMENTS 64u
/* ... and one buffer is one IP datagram before splitting: 65535 bytes less
 * the IPv4 and UDP headers (IPv6 allows a little more; one limit for both). */
#define TOU_GSO_MAX_BYTES 65507u

typedef struct tou_gso_group {
  unsigned first;  /* index of the group's first datagram */
  unsigned count;  /* datagrams in the group; 1: sent as a plain datagram */
  size_t seg_size; /* size of every datagram but the last (the UDP_SEGMENT value) */
  size_t bytes;    /* the group's total size */
} tou_gso_group_t;

/* Splits datagrams [0, n) (sizes lens[i], destinations addrs[i]) into
 * groups, in order, written to groups[] (room for n). A group is a run of
 * consecutive datagrams to the same destination, all of the first one's size
 * except the last, which may be shorter (the kernel cuts the buffer every
 * seg_size bytes, so only the tail can be short), at most max_segs datagrams
 * and max_bytes bytes. Returns the number of groups. */
unsigned tou__gso_plan(const size_t *lens, const struct sockaddr_storage *addrs, unsigned n,
                       size_t max_bytes, unsigned max_segs, tou_gso_group_t *groups);

/* Whether a and b are the same destination (family, address, port, and for
 * IPv6 the scope), ignoring bytes past the address. */
bool tou__gso_same_dest(const struct sockaddr_storage *a, const struct sockaddr_storage *b);

#endif

/* Grouping datagrams for UDP generic segmentation offload: one sendmsg with
 * a UDP_SEGMENT control message carries up to 64 datagrams, which the kernel
 * cuts apart as late as possible (on loopback, at the receiving socket, or
 * not at all when that socket asked for UDP_GRO). The wire sees the same
 * datagrams in the same order as without it. */
#include "gso.h"

#include <netinet/in.h>
#include <string.h>

bool tou__gso_same_dest(const struct sockaddr_storage *a, const struct sockaddr_storage *b) {
  if (a->ss_family != b->ss_family) return false;
  if (a->ss_family == AF_INET) {
    const struct sockaddr_in *x = (const struct sockaddr_in *)a, *y = (const struct sockaddr_in *)b;
    return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
  }
  if (a->ss_family == AF_INET6) {
    const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)a,
                              *y = (const struct sockaddr_in6 *)b;
    return x->sin6_port == y->sin6_port && x->sin6_scope_id == y->sin6_scope_id &&
           memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
  }
  return false;
}

unsigned tou__gso_plan(const size_t *lens, const struct sockaddr_storage *addrs, unsigned n,
                       size_t max_bytes, unsigned max_segs, tou_gso_group_t *groups) {
  unsigned ngroups = 0;
  unsigned i = 0;
  while (i < n) {
    tou_gso_group_t g = {i, 1, lens[i], lens[i]};
    /* A short datagram can only end a group; an empty one cannot be a
     * segment size at all. */
    bool open = lens[i] > 0;
    unsigned j = i + 1;
    while (open && j < n && g.count < max_segs && lens[j] > 0 && lens[j] <= g.seg_size &&
           g.bytes + lens[j] <= max_bytes && tou__gso_same_dest(&addrs[i], &addrs[j])) {
      g.count++;
      g.bytes += lens[j];
      if (lens[j] < g.seg_size) open = false;
      j++;
    }
    groups[ngroups++] = g;
    i = j;
  }
  return ngroups;
}

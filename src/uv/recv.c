/* Receiving with UDP GRO (Linux 5.0+): the kernel may hand over several
 * datagrams of one flow as one buffer, with their size in a UDP_GRO control
 * message — on loopback a GSO buffer from a sender crosses whole, never cut
 * into datagrams. libuv 1.44 hands out no control messages, so the binding
 * reads the socket itself: a uv_poll_t watches a duplicate of the udp
 * handle's descriptor for input (libuv allows one watcher per descriptor;
 * the udp handle keeps the original for its queued sends), and each
 * readable event runs recvmmsg with control buffers, up to
 * TOU_UV_RECV_CALLS times. Without GRO (another system, an old kernel,
 * offloads disabled) libuv's own recvmmsg path is used (endpoint.c). */
#define _GNU_SOURCE /* recvmmsg, struct mmsghdr */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __linux__
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#endif

#include "internal.h"

#ifdef __linux__
#ifndef SOL_UDP
#define SOL_UDP 17
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

/* Room for the UDP_GRO message and a spare one: a truncated control area
 * (MSG_CTRUNC) might have lost the segment size, and the buffer is dropped. */
#define RECV_CMSG_SPACE (2 * CMSG_SPACE(sizeof(int)) + 16)

struct recv_ring {
  struct mmsghdr msgs[TOU_UV_RECV_SLOTS];
  struct iovec iov[TOU_UV_RECV_SLOTS];
  struct sockaddr_storage names[TOU_UV_RECV_SLOTS];
  uint8_t ctrl[TOU_UV_RECV_SLOTS][RECV_CMSG_SPACE];
};

/* The segment size the kernel coalesced by, 0 when the buffer is one
 * datagram. */
static size_t gro_segment_size(struct msghdr *h) {
  for (struct cmsghdr *cm = CMSG_FIRSTHDR(h); cm; cm = CMSG_NXTHDR(h, cm)) {
    if (cm->cmsg_level == SOL_UDP && cm->cmsg_type == UDP_GRO &&
        cm->cmsg_len >= CMSG_LEN(sizeof(int))) {
      int v;
      memcpy(&v, CMSG_DATA(cm), sizeof v);
      return v > 0 ? (size_t)v : 0;
    }
  }
  return 0;
}

static void deliver(struct tou_endpoint_impl *impl, uint64_t now, struct mmsghdr *m) {
  struct msghdr *h = &m->msg_hdr;
  size_t len = m->msg_len;
  if (h->msg_flags & (MSG_TRUNC | MSG_CTRUNC) || h->msg_namelen == 0 || len == 0) {
    impl->stats.recv_errors++;
    return;
  }
  const uint8_t *p = h->msg_iov[0].iov_base;
  tou_addr_t from; /* once per buffer: every segment has the same source */
  tou__sockaddr_to_addr(h->msg_name, &from);
  size_t seg = gro_segment_size(h);
  if (seg == 0 || seg >= len) {
    tou__input(impl, now, &from, p, len);
    return;
  }
  /* Every segment is seg bytes but the last, which may be shorter. */
  impl->stats.gro_buffers++;
  for (size_t off = 0; off < len; off += seg)
    tou__input(impl, now, &from, p + off, len - off < seg ? len - off : seg);
}

static void on_readable(uv_poll_t *poll, int status, int events) {
  (void)events;
  struct tou_endpoint_impl *impl = poll->data;
  if (status < 0) {
    impl->stats.recv_errors++;
    return;
  }
  struct recv_ring *ring = impl->recv_ring;
  for (int calls = 0; calls < TOU_UV_RECV_CALLS; calls++) {
    for (unsigned i = 0; i < TOU_UV_RECV_SLOTS; i++) {
      struct msghdr *h = &ring->msgs[i].msg_hdr;
      h->msg_name = &ring->names[i];
      h->msg_namelen = sizeof ring->names[i];
      h->msg_iov = &ring->iov[i];
      h->msg_iovlen = 1;
      h->msg_control = ring->ctrl[i];
      h->msg_controllen = RECV_CMSG_SPACE;
      h->msg_flags = 0;
      ring->iov[i].iov_base = impl->recv_buf + (size_t)i * TOU_UV_DGRAM_MAX;
      ring->iov[i].iov_len = TOU_UV_DGRAM_MAX;
    }
    int r = recvmmsg(impl->recv_fd, ring->msgs, TOU_UV_RECV_SLOTS, 0, NULL);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK) impl->stats.recv_errors++;
      return;
    }
    if (r == 0) return;
    impl->stats.batches_received++;
    uint64_t now = tou__now();
    for (int i = 0; i < r; i++) deliver(impl, now, &ring->msgs[i]);
    /* A short batch emptied the socket: the next call would only say so. */
    if (r < TOU_UV_RECV_SLOTS) return;
  }
}

int tou__recv_gro_start(struct tou_endpoint_impl *impl) {
  uv_os_fd_t fd;
  if (impl->opts.disable_udp_offload) return UV_ENOTSUP;
  if (uv_fileno((uv_handle_t *)&impl->udp, &fd) != 0) return UV_EBADF;
  int on = 1;
  if (setsockopt(fd, SOL_UDP, UDP_GRO, &on, sizeof on) != 0) return UV_ENOTSUP;
  impl->recv_ring = calloc(1, sizeof(struct recv_ring));
  impl->recv_fd = impl->recv_ring ? fcntl(fd, F_DUPFD_CLOEXEC, 0) : -1;
  int r = impl->recv_fd < 0 ? UV_ENOMEM : uv_poll_init(impl->udp.loop, &impl->poll, impl->recv_fd);
  if (r == 0) {
    impl->poll.data = impl;
    impl->poll_open = true;
    impl->uv_handles_open++;
    r = uv_poll_start(&impl->poll, UV_READABLE, on_readable);
  }
  if (r != 0) {
    /* The poll handle, if any, is closed with the others; the socket goes
     * back to plain datagrams for libuv's receive path. */
    int off = 0;
    setsockopt(fd, SOL_UDP, UDP_GRO, &off, sizeof off);
    return r;
  }
  impl->gro = true;
  impl->stats.gro = 1;
  impl->stats.recvmmsg = 1;
  return 0;
}

void tou__recv_free(struct tou_endpoint_impl *impl) {
  if (impl->recv_fd >= 0) close(impl->recv_fd);
  impl->recv_fd = -1;
  free(impl->recv_ring);
  impl->recv_ring = NULL;
}

#else

int tou__recv_gro_start(struct tou_endpoint_impl *impl) {
  (void)impl;
  return UV_ENOTSUP;
}

void tou__recv_free(struct tou_endpoint_impl *impl) { (void)impl; }

#endif

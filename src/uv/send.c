/* Sending what the core produces, in batches.
 *
 * libuv 1.44 has no public sendmmsg. On Linux the datagrams due now are
 * gathered (up to the batch's capacity) and handed to the kernel with one
 * sendmmsg() on the socket's descriptor — the same direct write
 * uv_udp_try_send() does, one system call per batch instead of per
 * datagram. Where the kernel has UDP GSO (Linux 4.18+), runs of equal-sized
 * datagrams to one destination go out as one buffer with a UDP_SEGMENT
 * control message (gso.c decides the runs), so the kernel's per-datagram
 * work (routing, socket accounting, the loopback hand-off) happens once per
 * run; the first refusal (EINVAL, EIO, ENOPROTOOPT, EMSGSIZE) turns GSO off
 * for the endpoint and the datagrams go out one by one. Elsewhere each
 * datagram is one uv_udp_try_send(). Each datagram is up to three pieces:
 * its header, written by the core into a slot of the batch, and its payload,
 * left in the stream's send buffer (tou_ep_output_gather) — two pieces when
 * it crosses the ring's wrap point: the kernel reads the payload from
 * there, so sending copies it nowhere in user space.
 *
 * When the socket's buffer is full (EAGAIN, ENOBUFS) the rest of the batch
 * is dropped and output pauses until the socket is writable (send_wait.c);
 * see there why dropping, not queueing a copy, is right. */
#define _GNU_SOURCE /* sendmmsg, struct mmsghdr */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#ifdef __linux__
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#endif

#include "internal.h"

#ifdef __linux__
#ifndef SOL_UDP
#define SOL_UDP 17
#endif
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
/* One control message per group: the segment size, a uint16_t. */
#define GSO_CMSG_SPACE CMSG_SPACE(sizeof(uint16_t))
#endif

/* The batch's datagram i was handed to the kernel. */
static void count_datagram(struct tou_endpoint_impl *impl, unsigned i) {
  impl->stats.datagrams_sent++;
  impl->stats.bytes_sent += impl->batch.lens[i];
  if (impl->batch.iov_count[i] > 1) impl->stats.datagrams_gathered++;
}

#ifdef __linux__
/* Fills one mmsghdr per group of datagrams [from, n): GSO runs when the
 * endpoint uses GSO, one datagram per message otherwise. Returns the number
 * of messages (groups[] and msgs[] describe them). */
static unsigned build_messages(struct tou_endpoint_impl *impl, unsigned from, unsigned n) {
  struct tou_send_batch *b = &impl->batch;
  tou_gso_group_t *groups = b->groups;
  unsigned ng;
  if (impl->gso) {
    ng = tou__gso_plan(b->lens + from, b->addrs + from, n - from, TOU_GSO_MAX_BYTES,
                       TOU_GSO_MAX_SEGMENTS, groups);
    for (unsigned k = 0; k < ng; k++) groups[k].first += from;
  } else {
    ng = n - from;
    for (unsigned k = 0; k < ng; k++) {
      tou_gso_group_t g = {from + k, 1, b->lens[from + k], b->lens[from + k]};
      groups[k] = g;
    }
  }
  struct mmsghdr *msgs = b->msgs;
  for (unsigned k = 0; k < ng; k++) {
    const tou_gso_group_t *g = &groups[k];
    struct msghdr *h = &msgs[k].msg_hdr;
    struct sockaddr_storage *sa = &b->addrs[g->first];
    memset(&msgs[k], 0, sizeof msgs[k]);
    h->msg_name = sa;
    h->msg_namelen =
        sa->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    /* A GSO run is one byte stream the kernel cuts every seg_size bytes:
     * its datagrams' pieces, in order, whatever their boundaries. */
    unsigned last = g->first + g->count - 1;
    h->msg_iov = &b->iov[b->iov_first[g->first]];
    h->msg_iovlen = b->iov_first[last] + b->iov_count[last] - b->iov_first[g->first];
    if (g->count > 1) {
      uint8_t *ctrl = b->ctrl + (size_t)k * GSO_CMSG_SPACE;
      memset(ctrl, 0, GSO_CMSG_SPACE);
      h->msg_control = ctrl;
      h->msg_controllen = GSO_CMSG_SPACE;
      struct cmsghdr *cm = CMSG_FIRSTHDR(h);
      cm->cmsg_level = SOL_UDP;
      cm->cmsg_type = UDP_SEGMENT;
      cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
      uint16_t seg = (uint16_t)g->seg_size;
      memcpy(CMSG_DATA(cm), &seg, sizeof seg);
    }
  }
  return ng;
}

/* Sends datagrams [0, n) with sendmmsg; returns how many were handed to the
 * kernel or dropped for an error: the rest found the socket's buffer full. */
static unsigned send_direct(struct tou_endpoint_impl *impl, unsigned n) {
  struct tou_send_batch *b = &impl->batch;
  uv_os_fd_t fd;
  if (uv_fileno((uv_handle_t *)&impl->udp, &fd) != 0) {
    impl->stats.send_errors += n; /* no socket (closing): not a full buffer */
    return n;
  }
  unsigned done = 0;
  while (done < n) {
    unsigned ng = build_messages(impl, done, n), k = 0;
    bool rebuild = false;
    while (k < ng && !rebuild) {
      int r = sendmmsg(fd, (struct mmsghdr *)b->msgs + k, ng - k, 0);
      if (r > 0) {
        for (unsigned i = 0; i < (unsigned)r; i++, k++) {
          const tou_gso_group_t *g = &b->groups[k];
          if (g->count > 1) impl->stats.gso_buffers++;
          for (unsigned d = 0; d < g->count; d++) count_datagram(impl, g->first + d);
          done += g->count;
        }
        continue;
      }
      if (r < 0 && errno == EINTR) continue;
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) return done;
      const tou_gso_group_t *g = &b->groups[k];
      if (g->count > 1 && r < 0 &&
          (errno == EINVAL || errno == EIO || errno == ENOPROTOOPT || errno == EMSGSIZE)) {
        /* This kernel, route or device cannot segment (an old kernel, no
         * checksum offload, segments above the path MTU): plain datagrams
         * from now on, starting with this group's. */
        impl->gso = false;
        impl->stats.gso = 0;
        rebuild = true;
        continue;
      }
      /* Another error (unreachable destination, ...) concerns the first
       * message only — one destination: drop it, carry on with the rest. */
      impl->stats.send_errors += g->count;
      done += g->count;
      k++;
    }
    if (!rebuild) break;
  }
  return done;
}
#endif

/* Sends datagrams [0, n) of the batch. What the socket's full buffer
 * refuses is dropped, a local loss the core's recovery repairs, and output
 * waits for room. */
static void send_batch(struct tou_endpoint_impl *impl, unsigned n) {
  unsigned done = 0;
#ifdef __linux__
  done = send_direct(impl, n);
#else
  struct tou_send_batch *b = &impl->batch;
  while (done < n) {
    uv_buf_t bufs[TOU_UV_IOV_PER_DGRAM];
    unsigned nb = b->iov_count[done];
    for (unsigned k = 0; k < nb; k++) {
      const struct iovec *v = &b->iov[b->iov_first[done] + k];
      bufs[k] = uv_buf_init(v->iov_base, (unsigned)v->iov_len);
    }
    int r = uv_udp_try_send(&impl->udp, bufs, nb, (const struct sockaddr *)&b->addrs[done]);
    if (r == UV_EAGAIN || r == UV_ENOBUFS) break;
    if (r < 0) impl->stats.send_errors++;
    else count_datagram(impl, done);
    done++;
  }
#endif
  if (done < n) {
    impl->stats.datagrams_dropped_local += n - done;
    tou__send_wait_start(impl);
  }
}

void tou__flush_output(struct tou_endpoint_impl *impl) {
  if (!(impl->handle->flags & TOU_F_BOUND)) return;
  struct tou_send_batch *b = &impl->batch;
  uint64_t now = tou__now();
  for (;;) {
    /* The socket's buffer is full: what is due stays in the core. */
    if (impl->send_blocked) return;
    unsigned n = 0, nv = 0;
    while (n < b->cap) {
      tou_addr_t to;
      uint8_t *slot = b->data + (size_t)n * b->slot_size;
      tou_payload_ref_t payload;
      int len = tou_ep_output_gather(impl->core, now, &to, slot, b->slot_size, &payload);
      if (len <= 0) break;
      /* Only the address's own bytes: nothing reads past them (gso.c, the
       * kernel with msg_namelen), and zeroing whole sockaddr_storage slots
       * per datagram shows in profiles. */
      memset(&b->addrs[n], 0, sizeof(struct sockaddr_in6));
      memcpy(&b->addrs[n], to.bytes, to.len <= sizeof to.bytes ? to.len : sizeof to.bytes);
      /* The header in the slot; the payload where the core keeps it, in
       * one or two pieces. */
      b->iov_first[n] = nv;
      b->iov[nv].iov_base = slot;
      b->iov[nv++].iov_len = (size_t)len - tou_payload_len(&payload);
      for (unsigned k = 0; k < 2 && payload.len[k] > 0; k++) {
        b->iov[nv].iov_base = (void *)payload.data[k];
        b->iov[nv++].iov_len = payload.len[k];
      }
      b->iov_count[n] = nv - b->iov_first[n];
      b->lens[n] = (size_t)len;
      n++;
    }
    if (n == 0) return;
    impl->stats.send_batches++;
    send_batch(impl, n);
    if (n < b->cap) return;
  }
}

int tou__send_batch_init(struct tou_endpoint_impl *impl, size_t max_datagram) {
  struct tou_send_batch *b = &impl->batch;
  size_t cap = TOU_UV_SEND_BATCH_BYTES / max_datagram;
  if (cap < TOU_UV_SEND_BATCH_MIN) cap = TOU_UV_SEND_BATCH_MIN;
  if (cap > TOU_UV_SEND_BATCH_MAX) cap = TOU_UV_SEND_BATCH_MAX;
  b->cap = (unsigned)cap;
  b->slot_size = max_datagram;
  b->data = malloc(max_datagram * cap);
  b->iov = calloc((size_t)TOU_UV_IOV_PER_DGRAM * cap, sizeof *b->iov);
  b->iov_first = calloc(cap, sizeof *b->iov_first);
  b->iov_count = calloc(cap, sizeof *b->iov_count);
  b->addrs = calloc(cap, sizeof *b->addrs);
  b->lens = calloc(cap, sizeof *b->lens);
  b->groups = calloc(cap, sizeof *b->groups);
  if (!b->data || !b->iov || !b->iov_first || !b->iov_count || !b->addrs || !b->lens ||
      !b->groups)
    return UV_ENOMEM;
#ifdef __linux__
  b->msgs = calloc(cap, sizeof(struct mmsghdr));
  b->ctrl = calloc(cap, GSO_CMSG_SPACE);
  if (!b->msgs || !b->ctrl) return UV_ENOMEM;
#endif
  return 0;
}

void tou__send_batch_free(struct tou_endpoint_impl *impl) {
  struct tou_send_batch *b = &impl->batch;
  free(b->data);
  free(b->iov);
  free(b->iov_first);
  free(b->iov_count);
  free(b->addrs);
  free(b->lens);
  free(b->groups);
  free(b->msgs);
  free(b->ctrl);
  memset(b, 0, sizeof *b);
}

void tou__send_offload_init(struct tou_endpoint_impl *impl) {
  impl->gso = false;
#ifdef __linux__
  uv_os_fd_t fd;
  if (impl->opts.disable_udp_offload || uv_fileno((uv_handle_t *)&impl->udp, &fd) != 0) return;
  /* Kernels without UDP GSO refuse the option (ENOPROTOOPT); a send may
   * still refuse it later (see send_direct). */
  int v = 0;
  socklen_t len = sizeof v;
  impl->gso = getsockopt(fd, SOL_UDP, UDP_SEGMENT, &v, &len) == 0;
#endif
  impl->stats.gso = impl->gso;
}

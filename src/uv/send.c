/* Sending what the core produces, in batches.
 *
 * libuv 1.44 has no public sendmmsg. On Linux the datagrams due now are
 * gathered (up to TOU_UV_SEND_BATCH) and handed to the kernel with one
 * sendmmsg() on the socket's descriptor — the same direct write
 * uv_udp_try_send() does, one system call per batch instead of per
 * datagram. Elsewhere each datagram is one uv_udp_try_send(). When the socket
 * buffer is full the rest is queued with uv_udp_send (copied), bounded by
 * TOU_UV_MAX_ASYNC_SENDS; beyond that the core keeps what it has not yet
 * handed out. */
#define _GNU_SOURCE /* sendmmsg, struct mmsghdr */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#ifdef __linux__
#include <sys/socket.h>
#endif

#include "internal.h"

typedef struct async_send {
  uv_udp_send_t req;
  struct tou_endpoint_impl *impl;
  uint8_t data[];
} async_send_t;

static void on_async_sent(uv_udp_send_t *req, int status) {
  async_send_t *a = (async_send_t *)req;
  struct tou_endpoint_impl *impl = a->impl;
  impl->async_sends--;
  if (status < 0) impl->stats.send_errors++;
  free(a);
  /* The socket drained: the core may have more to send. */
  if (impl->async_sends == 0 && !(impl->handle->flags & TOU_F_CLOSING)) tou__pump(impl);
}

/* Queues a copy behind the full socket buffer, in order. */
static void send_async(struct tou_endpoint_impl *impl, const struct sockaddr *to,
                       const uint8_t *data, size_t len) {
  if (impl->async_sends >= TOU_UV_MAX_ASYNC_SENDS) {
    impl->stats.send_errors++;
    return;
  }
  async_send_t *a = malloc(sizeof *a + len);
  if (!a) {
    impl->stats.send_errors++;
    return;
  }
  a->impl = impl;
  memcpy(a->data, data, len);
  uv_buf_t buf = uv_buf_init((char *)a->data, (unsigned)len);
  if (uv_udp_send(&a->req, &impl->udp, &buf, 1, to, on_async_sent) < 0) {
    impl->stats.send_errors++;
    free(a);
    return;
  }
  impl->async_sends++;
  impl->stats.datagrams_sent++;
  impl->stats.bytes_sent += len;
}

static void count_sent(struct tou_endpoint_impl *impl, size_t len) {
  impl->stats.datagrams_sent++;
  impl->stats.bytes_sent += len;
}

/* Sends datagrams [0, n) of the batch; what the socket refuses for lack of
 * room is queued. */
static void send_batch(struct tou_endpoint_impl *impl, unsigned n) {
  struct tou_send_batch *b = &impl->batch;
  unsigned done = 0;
#ifdef __linux__
  struct mmsghdr *msgs = b->msgs;
  uv_os_fd_t fd;
  if (impl->async_sends == 0 && uv_fileno((uv_handle_t *)&impl->udp, &fd) == 0) {
    while (done < n) {
      int r = sendmmsg(fd, msgs + done, n - done, 0);
      if (r > 0) {
        for (int i = 0; i < r; i++) count_sent(impl, b->iov[done + (unsigned)i].iov_len);
        done += (unsigned)r;
        continue;
      }
      if (r < 0 && errno == EINTR) continue;
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) break;
      /* Another error (unreachable destination, ...) concerns the first
       * datagram only: drop it, carry on with the rest. */
      impl->stats.send_errors++;
      done++;
    }
  }
#else
  while (done < n && impl->async_sends == 0) {
    uv_buf_t buf = uv_buf_init(b->iov[done].iov_base, (unsigned)b->iov[done].iov_len);
    int r = uv_udp_try_send(&impl->udp, &buf, 1, (const struct sockaddr *)&b->addrs[done]);
    if (r == UV_EAGAIN) break;
    if (r < 0) impl->stats.send_errors++;
    else count_sent(impl, b->iov[done].iov_len);
    done++;
  }
#endif
  for (; done < n; done++)
    send_async(impl, (const struct sockaddr *)&b->addrs[done], b->iov[done].iov_base,
               b->iov[done].iov_len);
}

void tou__flush_output(struct tou_endpoint_impl *impl) {
  if (!(impl->handle->flags & TOU_F_BOUND)) return;
  struct tou_send_batch *b = &impl->batch;
  uint64_t now = tou__now();
  for (;;) {
    /* Leave the rest in the core while the socket is backed up. */
    if (impl->async_sends >= TOU_UV_MAX_ASYNC_SENDS) return;
    unsigned n = 0;
    while (n < TOU_UV_SEND_BATCH) {
      tou_addr_t to;
      uint8_t *slot = b->data + (size_t)n * b->slot_size;
      int len = tou_ep_output(impl->core, now, &to, slot, b->slot_size);
      if (len <= 0) break;
      struct sockaddr_storage *sa = &b->addrs[n];
      tou__addr_to_sockaddr(&to, sa);
      b->iov[n].iov_base = slot;
      b->iov[n].iov_len = (size_t)len;
#ifdef __linux__
      struct mmsghdr *m = (struct mmsghdr *)b->msgs + n;
      memset(m, 0, sizeof *m);
      m->msg_hdr.msg_name = sa;
      m->msg_hdr.msg_namelen = sa->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                         : sizeof(struct sockaddr_in);
      m->msg_hdr.msg_iov = &b->iov[n];
      m->msg_hdr.msg_iovlen = 1;
#endif
      n++;
    }
    if (n == 0) return;
    impl->stats.send_batches++;
    send_batch(impl, n);
    if (n < TOU_UV_SEND_BATCH) return;
  }
}

int tou__send_batch_init(struct tou_endpoint_impl *impl, size_t max_datagram) {
  impl->batch.slot_size = max_datagram;
  impl->batch.data = malloc(max_datagram * TOU_UV_SEND_BATCH);
#ifdef __linux__
  impl->batch.msgs = calloc(TOU_UV_SEND_BATCH, sizeof(struct mmsghdr));
  if (!impl->batch.msgs) return UV_ENOMEM;
#endif
  return impl->batch.data ? 0 : UV_ENOMEM;
}

void tou__send_batch_free(struct tou_endpoint_impl *impl) {
  free(impl->batch.data);
  free(impl->batch.msgs);
}

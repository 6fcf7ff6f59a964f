/* Waiting for room in the socket's send buffer.
 *
 * When sendmmsg() finds the buffer full (EAGAIN; ENOBUFS from a full
 * device queue), the datagrams of the batch not yet handed over are
 * dropped, counted in datagrams_dropped_local, and output pauses until the
 * socket is writable again. Dropping is what a full NIC queue or a router
 * does, and the core's loss recovery (RACK, TLP, RTO) resends what was
 * lost, with the congestion response such a loss deserves. Keeping the
 * datagrams instead would mean copying them: their payload lies in the
 * streams' send buffers and is valid only until the next call into the
 * core (input, timer, application send), which a wait for room always
 * outlasts — the copy this binding no longer makes. The core is not told
 * which datagrams were dropped: a loss at the sender looks to recovery like
 * any other. RACK marks them lost once data sent after them is acknowledged
 * (about a round trip after the wait), and a tail loss probe covers a drop
 * with nothing sent after it; telling the core would save at most that
 * round trip, for a second way into loss recovery.
 *
 * Pausing matters: the core would otherwise hand over the next batch at
 * once, to be dropped in turn. Readiness comes from a uv_poll_t on a
 * duplicate of the socket's descriptor — libuv allows one watcher per
 * descriptor, the udp handle keeps the original (recv.c has another
 * duplicate for its own receive path). The poll runs only while output is
 * paused; a UDP socket becomes writable once half its buffer is free. */
#include <fcntl.h>
#include <unistd.h>

#include "internal.h"

static void on_writable(uv_poll_t *poll, int status, int events) {
  (void)status; /* an error on the socket shows in the next send */
  (void)events;
  struct tou_endpoint_impl *impl = poll->data;
  uv_poll_stop(poll);
  impl->send_blocked = false;
  tou__pump(impl);
}

/* The poll handle on its own duplicate, made on the first wait. */
static int send_poll_open(struct tou_endpoint_impl *impl) {
  if (impl->send_poll_open) return 0;
  uv_os_fd_t fd;
  if (uv_fileno((uv_handle_t *)&impl->udp, &fd) != 0) return UV_EBADF;
  if (impl->send_fd < 0) impl->send_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (impl->send_fd < 0) return UV_EMFILE;
  int r = uv_poll_init(impl->udp.loop, &impl->send_poll, impl->send_fd);
  if (r != 0) return r;
  impl->send_poll.data = impl;
  impl->send_poll_open = true;
  impl->uv_handles_open++;
  return 0;
}

void tou__send_wait_start(struct tou_endpoint_impl *impl) {
  if (impl->send_blocked || (impl->handle->flags & TOU_F_CLOSING)) return;
  /* Without a poll (no descriptor left) output is not paused: the next
   * input or timer tries again. */
  if (send_poll_open(impl) != 0) return;
  if (uv_poll_start(&impl->send_poll, UV_WRITABLE, on_writable) != 0) return;
  impl->send_blocked = true;
}

void tou__send_wait_free(struct tou_endpoint_impl *impl) {
  if (impl->send_fd >= 0) close(impl->send_fd);
  impl->send_fd = -1;
}

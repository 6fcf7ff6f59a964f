/* Internals shared by the libuv binding's files. Not installed. */
#ifndef TOU_UV_INTERNAL_H
#define TOU_UV_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "core.h"
#include "gso.h"
#include "tou.h"

/* Largest datagram the core may ask us to send or we may receive. */
#define TOU_UV_DGRAM_MAX 65536
/* recvmmsg: libuv splits the receive buffer in 64 KiB slots, at most 20. */
#define TOU_UV_RECV_SLOTS 20
/* iovecs per datagram sent: its header, and its payload in one piece or two
 * (across the send buffer ring's wrap point). */
#define TOU_UV_IOV_PER_DGRAM 3u
/* tou_endpoint_options_t.link_probe_idle_ms default: nothing heard for 3 s
 * while data is unacknowledged (several RTOs on any sane path) is worth a
 * "can you hear me?". */
#define TOU_UV_LINK_PROBE_IDLE_MS 3000u
/* Datagrams gathered for one sendmmsg() (send.c): as many as fit in
 * TOU_UV_SEND_BATCH_BYTES of slots, within [MIN, MAX] — with the default
 * MSS, 128: about three full GSO runs (44 datagrams of ~1.5 KB each),
 * without megabytes of slots for a large MSS. */
#define TOU_UV_SEND_BATCH_BYTES (256u << 10)
#define TOU_UV_SEND_BATCH_MIN 32u
#define TOU_UV_SEND_BATCH_MAX 128u
/* recvmmsg calls per readable event on the binding's own receive path
 * (recv.c), as libuv does, so one busy socket cannot starve the loop. */
#define TOU_UV_RECV_CALLS 32
/* Callbacks of one stream delivered per dispatch round before others get a
 * turn (reads are looped at most this many times). */
#define TOU_UV_READS_PER_ROUND 64

/* tou_handle_t.flags */
enum {
  TOU_F_CLOSING = 1u << 0,   /* tou_close() was called */
  TOU_F_CLOSED = 1u << 1,    /* close_cb delivered (or due without one) */
  TOU_F_READING = 1u << 2,
  TOU_F_READ_DONE = 1u << 3, /* EOF or an error was delivered to read_cb */
  TOU_F_CONN_OVER = 1u << 4, /* the core reported the connection closed */
  TOU_F_SHUT = 1u << 5,      /* tou_shutdown() was called */
  TOU_F_BOUND = 1u << 6,
  TOU_F_LISTENING = 1u << 7,
};

/* tou_stream_t.pending: callbacks due in the next dispatch. */
enum {
  TOU_P_CONNECT = 1u << 0,
  TOU_P_READ = 1u << 1,
  TOU_P_WRITE = 1u << 2,   /* push queued writes; deliver finished ones */
  TOU_P_SHUTDOWN = 1u << 3,
  TOU_P_OVER = 1u << 4,    /* connection ended: fail what is left */
  TOU_P_CLOSE = 1u << 5,   /* deliver cancellations, then close_cb */
  TOU_P_LINK = 1u << 6,    /* link state changed: link_cb */
};

struct tou_send_batch {
  uint8_t *data;    /* cap slots of slot_size bytes */
  size_t slot_size; /* the largest datagram the core may produce */
  unsigned cap;     /* datagrams per batch */
  struct iovec *iov;               /* [TOU_UV_IOV_PER_DGRAM * cap]: a datagram's header
                                    * (or all of it), and its payload's pieces in the
                                    * core's send buffer */
  unsigned *iov_first;             /* [cap]: a datagram's first iov */
  unsigned *iov_count;             /* [cap]: 1 to TOU_UV_IOV_PER_DGRAM */
  struct sockaddr_storage *addrs;  /* [cap] */
  size_t *lens;                    /* [cap] */
  tou_gso_group_t *groups;         /* [cap]: one per message */
  void *msgs;    /* struct mmsghdr[cap] on Linux (send.c) */
  uint8_t *ctrl; /* [cap] UDP_SEGMENT control messages on Linux */
};

struct tou_endpoint_impl {
  tou_endpoint_t *handle;
  tou_ep_t *core;
  tou_endpoint_options_t opts;
  uv_udp_t udp;
  uv_timer_t timer;
  uv_check_t check; /* after each poll phase: process the received batch */
  uv_idle_t idle;   /* runs deferred callbacks without blocking in poll */
  uv_poll_t poll;   /* own receive path with UDP GRO (recv.c), on recv_fd */
  bool poll_open;
  int recv_fd;      /* dup of the udp handle's socket for poll; -1: none */
  void *recv_ring;  /* recv.c's recvmmsg headers */
  bool gso;         /* sending with UDP_SEGMENT (send.c) */
  bool gro;         /* receiving coalesced buffers (recv.c) */
  int uv_handles_open;
  bool udp_open;
  uint64_t armed_deadline;
  bool input_dirty;
  bool dispatching;
  bool finishing; /* closing the libuv handles: no more callbacks */

  tou_connection_cb connection_cb;
  unsigned backlog;
  tou_conn_t **accept_ring; /* connections taken from the core, not accepted */
  unsigned accept_head, accept_len, accept_announced;

  tou_stream_t *streams; /* every open stream */
  tou_stream_t *held_stream; /* holds a read buffer from the receive path */
  unsigned nstreams;
  tou_stream_t *pending_head, *pending_tail;

  /* Waiting for room in the socket's send buffer (send_wait.c). */
  bool send_blocked; /* output paused until the socket is writable */
  uv_poll_t send_poll; /* UV_WRITABLE on send_fd */
  bool send_poll_open;
  int send_fd;       /* dup of the udp handle's socket for send_poll; -1: none */
  tou_endpoint_stats_t stats;
  uint8_t *recv_buf;
  size_t recv_buf_len;
  struct tou_send_batch batch;
};

/* errors.c */
int tou__uv_err(int tou_err);

/* timer.c */
uint64_t tou__now(void);
int tou__timer_init(struct tou_endpoint_impl *impl);
void tou__timer_arm(struct tou_endpoint_impl *impl);

/* send.c */
void tou__flush_output(struct tou_endpoint_impl *impl);
int tou__send_batch_init(struct tou_endpoint_impl *impl, size_t max_datagram);
void tou__send_batch_free(struct tou_endpoint_impl *impl);
/* After bind: uses UDP GSO if this kernel has it (Linux, unless the
 * endpoint's options disable offloads). */
void tou__send_offload_init(struct tou_endpoint_impl *impl);

/* send_wait.c */
/* The socket's buffer is full: pauses output (tou__flush_output sends
 * nothing) until the socket is writable, then pumps. */
void tou__send_wait_start(struct tou_endpoint_impl *impl);
/* Releases the descriptor, once every handle is closed. */
void tou__send_wait_free(struct tou_endpoint_impl *impl);

/* recv.c */
/* After bind: asks for UDP GRO and receives from the socket itself (libuv
 * hands out no control messages, and the segment size is one). Returns 0,
 * or a UV_E* code: then the caller receives with uv_udp_recv_start. */
int tou__recv_gro_start(struct tou_endpoint_impl *impl);
/* Releases what tou__recv_gro_start took, once every handle is closed. */
void tou__recv_free(struct tou_endpoint_impl *impl);

/* endpoint.c */
void tou__sockaddr_to_addr(const struct sockaddr *sa, tou_addr_t *out);
void tou__addr_to_sockaddr(const tou_addr_t *a, struct sockaddr_storage *out);
void tou__pull_accepts(struct tou_endpoint_impl *impl);
void tou__endpoint_finish_close(struct tou_endpoint_impl *impl);
void tou__endpoint_close(tou_endpoint_t *ep, tou_close_cb cb);
/* One received datagram for the core (both receive paths). */
void tou__input(struct tou_endpoint_impl *impl, uint64_t now, const tou_addr_t *from,
                const uint8_t *data, size_t len);

/* events.c */
/* After every core call: send what is due, collect events, re-arm the timer,
 * schedule the callbacks. Never calls the application. */
void tou__pump(struct tou_endpoint_impl *impl);
/* Collects the core's events into pending bits (no sending). */
void tou__collect(struct tou_endpoint_impl *impl);
void tou__mark(tou_stream_t *s, unsigned bits);
void tou__unmark(tou_stream_t *s);
void tou__schedule(struct tou_endpoint_impl *impl);
/* Runs due callbacks; only from libuv callbacks (never inside a tou_* call). */
void tou__dispatch(struct tou_endpoint_impl *impl);

/* stream.c */
void tou__stream_attach(tou_stream_t *s, tou_endpoint_t *ep, tou_conn_t *conn);
void tou__stream_push_writes(tou_stream_t *s);
void tou__stream_deliver(tou_stream_t *s, unsigned bits);
void tou__stream_close(tou_stream_t *s, tou_close_cb cb);
/* The core's delivery sink (tou_deliver_fn): copies in-order payload into
 * buffers from the stream's alloc_cb while it is reading; read_cb follows
 * from the next dispatch. */
size_t tou__stream_direct_read(void *impl, tou_conn_t *c, const uint8_t *data, size_t len);
/* Runs the read_cb of the buffer a stream holds (only_full: if it is full).
 * Only from the loop's receive callbacks and dispatch. */
void tou__stream_flush_held(struct tou_endpoint_impl *impl, bool only_full);
void tou__stream_fill_info(const tou_stream_t *s, const tou_conn_t *c, tou_stream_info_t *info);

/* trace.c */
void tou__trace_adapter(void *ctx, const tou_trace_event_t *ev);

#endif

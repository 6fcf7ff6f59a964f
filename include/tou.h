/* tou — TCP-style reliable byte streams over UDP, on libuv.
 *
 * This is the only header applications include. The API follows libuv's TCP
 * handles: the application allocates handles (tou_endpoint_t, tou_stream_t)
 * and one-shot requests (tou_connect_t, tou_write_t, tou_shutdown_t), every
 * operation completes through a callback with a status that is 0 or a
 * negative UV_E* code, and tou_close() is asynchronous and cancels pending
 * requests with UV_ECANCELED.
 *
 * Threads: none. Every callback runs on the loop's thread, from the loop
 * itself — never from inside the tou_* call that caused it (a callback may
 * therefore call any tou_* function, including tou_close()).
 *
 * An endpoint is one UDP socket (IPv4 or IPv6); any number of streams share
 * it, in both directions (connections are told apart by identifiers carried
 * in every segment, not by the UDP address alone).
 *
 * Layout choice: handles and requests are public structs the application
 * allocates (as in libuv), with a `data` field for the application, a few
 * read-only public fields, and private fields after a marked comment. The
 * private fields are plain pointers and integers only: the libuv handles an
 * endpoint needs (a uv_udp_t, a uv_timer_t, ...) and the protocol state live
 * behind the `impl`/`conn` pointers. This keeps the struct sizes — and so the
 * ABI of libtou.so.0 — independent of libuv's struct sizes and of tou's
 * internals, at the cost of one allocation per endpoint (none per stream:
 * the protocol core allocates its connection anyway). */
#ifndef TOU_H
#define TOU_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(TOU_BUILDING) && defined(__GNUC__)
#define TOU_EXTERN __attribute__((visibility("default")))
#else
#define TOU_EXTERN
#endif

typedef struct tou_handle_s tou_handle_t;
typedef struct tou_endpoint_s tou_endpoint_t;
typedef struct tou_stream_s tou_stream_t;
typedef struct tou_connect_s tou_connect_t;
typedef struct tou_write_s tou_write_t;
typedef struct tou_shutdown_s tou_shutdown_t;

/* ------------------------------------------------------------------------ */
/* Callbacks                                                                */

/* A connection is waiting in the accept queue: call tou_accept(). status is
 * 0, or a negative UV_E* code if the endpoint failed. */
typedef void (*tou_connection_cb)(tou_endpoint_t *endpoint, int status);
/* Connect finished: 0, UV_ECONNREFUSED (the peer has a tou endpoint but is
 * not listening), UV_EPROTONOSUPPORT (the peer's endpoint answered with a
 * version reject: it does not speak this protocol version), UV_ETIMEDOUT
 * (no answer after the SYN retries), UV_ECANCELED (the stream was closed
 * first), or another UV_E* code. */
typedef void (*tou_connect_cb)(tou_connect_t *req, int status);
/* Same contract as uv_alloc_cb: fill *buf with memory for the next read.
 * It may run while datagrams are being received (the payload is then copied
 * straight into buf; read_cb follows from the loop, never inside alloc_cb):
 * it must not call tou_* functions other than tou_read_stop(). */
typedef void (*tou_alloc_cb)(tou_stream_t *stream, size_t suggested_size, uv_buf_t *buf);
/* Same contract as uv_read_cb: nread > 0 bytes arrived in buf; 0 means
 * nothing this time (buf is handed back); UV_EOF after the peer's FIN;
 * another negative UV_E* code when the connection failed (UV_ECONNRESET,
 * UV_ETIMEDOUT, ...). The application owns buf->base in every case. */
typedef void (*tou_read_cb)(tou_stream_t *stream, ssize_t nread, const uv_buf_t *buf);
/* The core accepted every byte of the request into its bounded send buffer
 * (status 0), or the request failed: UV_ECANCELED when the stream closed
 * first, UV_EPIPE after shutdown, the connection's error otherwise. */
typedef void (*tou_write_cb)(tou_write_t *req, int status);
/* Our FIN was acknowledged (0), or the stream closed first (UV_ECANCELED or
 * the connection's error). */
typedef void (*tou_shutdown_cb)(tou_shutdown_t *req, int status);
/* The handle is fully closed; its memory may be freed now. */
typedef void (*tou_close_cb)(tou_handle_t *handle);

/* ------------------------------------------------------------------------ */
/* Handles                                                                  */

typedef enum tou_handle_type {
  TOU_HANDLE_UNKNOWN = 0,
  TOU_HANDLE_ENDPOINT,
  TOU_HANDLE_STREAM,
} tou_handle_type_t;

/* Fields every handle starts with; tou_handle_t is the common view. */
#define TOU_HANDLE_FIELDS                                            \
  void *data;             /* the application's; never touched by tou */ \
  uv_loop_t *loop;        /* read-only */                            \
  tou_handle_type_t type; /* read-only */                            \
  /* private */                                                      \
  tou_close_cb close_cb;                                             \
  unsigned flags;

struct tou_handle_s {
  TOU_HANDLE_FIELDS
};

struct tou_endpoint_s {
  TOU_HANDLE_FIELDS
  /* private */
  struct tou_endpoint_impl *impl;
};

/* private: read buffers a stream may hold between receiving and read_cb.
 * One: libuv pairs each alloc_cb with its read_cb before the next alloc_cb,
 * and applications rely on it (one static buffer reused for every read). */
#define TOU_STREAM_HELD_READS 1

struct tou_stream_s {
  TOU_HANDLE_FIELDS
  /* Bytes in write requests not yet accepted by the core's send buffer (like
   * uv_stream_t.write_queue_size): apply backpressure when it grows. */
  size_t write_queue_size;
  tou_endpoint_t *endpoint; /* read-only */
  /* private */
  struct tou_conn *conn;
  tou_alloc_cb alloc_cb;
  tou_read_cb read_cb;
  void (*link_cb)(tou_stream_t *, int);
  tou_connect_t *connect_req;
  tou_shutdown_t *shutdown_req;
  tou_write_t *write_head, *write_tail; /* not yet accepted by the core */
  tou_write_t *done_head, *done_tail;   /* finished, callback due */
  tou_stream_t *next, *prev;           /* endpoint's list of streams */
  tou_stream_t *pending_next, *pending_prev; /* streams with callbacks due */
  unsigned pending;
  int error;
  uint64_t bytes_sent, bytes_received;
  /* Buffers from alloc_cb filled on the receive path, read_cb due. */
  uv_buf_t held[TOU_STREAM_HELD_READS];
  size_t held_len[TOU_STREAM_HELD_READS];
  unsigned nheld;
};

/* ------------------------------------------------------------------------ */
/* Requests                                                                 */

#define TOU_REQ_FIELDS \
  void *data; /* the application's; never touched by tou */ \
  tou_stream_t *handle; /* read-only: the stream the request is on */

struct tou_connect_s {
  TOU_REQ_FIELDS
  /* private */
  tou_connect_cb cb;
  int status;
};

struct tou_write_s {
  TOU_REQ_FIELDS
  /* private: the uv_buf_t array is copied (small arrays inline), the bytes
   * are not: they must stay valid until the callback, as with uv_write. */
  tou_write_cb cb;
  uv_buf_t *bufs;
  uv_buf_t bufsml[4];
  unsigned nbufs;
  unsigned buf_index;    /* first buffer not yet fully accepted */
  size_t buf_offset;     /* bytes of bufs[buf_index] already accepted */
  size_t remaining;      /* bytes not yet accepted by the core */
  int status;            /* set when completed, before the callback */
  tou_write_t *next;
};

struct tou_shutdown_s {
  TOU_REQ_FIELDS
  /* private */
  tou_shutdown_cb cb;
  int status;
  int fin_queued;
};

/* ------------------------------------------------------------------------ */
/* Endpoint options                                                         */

/* A trace record (state change or segment) for tools and debugging; see
 * tou_endpoint_options_t.trace. Costs nothing when no trace is set. */
typedef enum tou_trace_type {
  TOU_TRACE_TYPE_STATE = 0,  /* old_state -> new_state */
  TOU_TRACE_TYPE_SENT,       /* a segment was sent */
  TOU_TRACE_TYPE_RECEIVED,   /* a segment arrived */
  TOU_TRACE_TYPE_DROPPED,    /* a datagram was dropped; error says why */
} tou_trace_type_t;

/* Segment flag bits in tou_trace_t.seg_flags (TCP's bit positions). */
#define TOU_SEGFLAG_FIN 0x01
#define TOU_SEGFLAG_SYN 0x02
#define TOU_SEGFLAG_RST 0x04
#define TOU_SEGFLAG_PSH 0x08
#define TOU_SEGFLAG_ACK 0x10
#define TOU_SEGFLAG_URG 0x20

typedef struct tou_trace_s {
  tou_trace_type_t type;
  uint64_t time_us;         /* uv_hrtime() / 1000 when it happened */
  tou_endpoint_t *endpoint;
  tou_stream_t *stream;     /* NULL when no stream is attached (not accepted yet,
                               already closed, or not matched) */
  uint32_t conn_id;         /* our connection identifier, 0 if none */
  int old_state, new_state; /* TOU_STATE_*; for segments both are the current state */
  const struct sockaddr *peer; /* may be NULL */
  /* Segments only: */
  unsigned seg_flags;       /* TOU_SEGFLAG_* */
  uint32_t seq, ack;
  uint32_t window;          /* as on the wire (unscaled) */
  size_t payload_len;
  int error;                /* DROPPED: why (a UV_E* code, UV_EPROTO for malformed) */
} tou_trace_t;

typedef void (*tou_trace_cb)(void *arg, const tou_trace_t *trace);

/* Endpoint-wide settings, fixed at tou_endpoint_init(). Fill with
 * tou_endpoint_options_init() and change what you need. (Named
 * tou_endpoint_options_t, not tou_options_t: the core's segment options
 * already use that name.) */
typedef struct tou_endpoint_options_s {
  unsigned mss;              /* largest segment payload; default 1444 (1500-byte IPv4 path) */
  unsigned send_buffer;      /* bytes the core buffers per stream for sending; default 2 MiB */
  unsigned recv_buffer;      /* largest receive window per stream: a stream starts at 128 KiB
                              * and grows (autotuning) while the application reads at rate;
                              * default 4 MiB */
  int nodelay;               /* 1 disables Nagle's algorithm on every stream; default 0 */
  unsigned syn_retries;      /* SYN retransmissions before UV_ETIMEDOUT; default 6 */
  unsigned synack_retries;   /* default 5 */
  unsigned data_retries;     /* retransmissions of one segment before UV_ETIMEDOUT; default 15 */
  unsigned initial_rto_ms;   /* RFC 6298 initial RTO; default 1000 */
  unsigned min_rto_ms;       /* default 200 */
  unsigned max_rto_ms;       /* default 60000 */
  unsigned msl_ms;           /* TIME_WAIT lasts 2*MSL; default 30000 */
  unsigned max_connections;  /* connection table limit; default 4096 */
  unsigned syn_backlog;      /* half-open (SYN_RCVD) connections a listener keeps;
                                default 256 (SYNs beyond are dropped; the peer retries) */
  const char *congestion_control; /* "cubic" (default when NULL) or "newreno";
                                an unknown name makes tou_endpoint_init fail (UV_EINVAL) */
  int socket_buffer;         /* SO_SNDBUF/SO_RCVBUF wanted, bytes (the system may
                                allow less); default 4 MiB; 0 leaves the system's */
  tou_trace_cb trace;        /* optional; see tou_trace_t */
  void *trace_arg;
  const uint8_t *seed;       /* 32 bytes for repeatable randomness (tests only);
                                NULL: libsodium's generator */
  int disable_udp_offload;   /* 1: one datagram per system buffer, never UDP GSO
                                (sending runs of equal-sized datagrams as one buffer
                                the kernel splits) nor UDP GRO (receiving them
                                coalesced). Default 0: used where the kernel has
                                them (Linux 4.18+ / 5.0+), and GSO is dropped for
                                the endpoint at the first send the kernel refuses.
                                The datagrams on the wire are the same either way.
                                The environment variable TOU_DISABLE_UDP_OFFLOAD=1
                                sets it for every endpoint of a process. */
  int disable_direct_read;   /* 1: received data always passes through the stream's
                                receive buffer (two copies). Default 0: data that
                                arrives in order while the stream is reading and
                                nothing is buffered is copied once, from the datagram
                                straight into the buffer alloc_cb gives (alloc_cb may
                                then run while datagrams are received; read_cb runs
                                later, as always). The environment variable
                                TOU_DISABLE_DIRECT_READ=1 sets it for a process. */
  /* Link probing, the "can you hear me?" guarantee (docs/PROTOCOL.md 5.6),
   * on by default for every stream: when nothing has been heard from the
   * peer for link_probe_idle_ms while data is unacknowledged, the stream
   * asks the peer; no answer within link_probe_silent_ms reports the link
   * TOU_LINK_SILENT (tou_stream_set_link_cb), with which direction fails;
   * while silent it asks again with an exponential backoff (first
   * link_probe_silent_ms after the link went silent, then each wait twice
   * the previous, capped at link_probe_retry_ms: 5, 10, 20, 40, 60, 60 ... s
   * with the defaults), and at once when the path shows signs of healing
   * (the peer heard again); the first complete exchange (or an ACK of data
   * sent after the silence began) reports TOU_LINK_BACK. A silent link
   * never ends the stream by itself. Probes carry no data and are
   * rate-limited (one per second at most). tou_stream_link_probe() changes
   * the first two per stream. */
  unsigned link_probe_idle_ms;   /* default 3000; 0: probe only on tou_stream_probe_now() */
  unsigned link_probe_silent_ms; /* default 5000 (0 also means 5000) */
  unsigned link_probe_retry_ms;  /* cap of the retry backoff while silent; default 60000
                                 * (0 also means 60000) */
  /* RFC 5482 user timeout (docs/PROTOCOL.md 5.7): a stream fails with
   * UV_ETIMEDOUT when sent data stays unacknowledged this long (instead of
   * after data_retries). user_timeout_ms is every stream's default (0, the
   * default: none; tou_stream_user_timeout() sets one per stream), announced
   * to the peer in the SYN or SYN-ACK (User Timeout Option). With
   * user_timeout_accept set to 1 a stream adopts the timeout its peer
   * announces, bounded: min(user_timeout_max_ms, max(its own, the peer's,
   * user_timeout_min_ms)); never after tou_stream_user_timeout() was called
   * on it. Default 0: how long to keep state for a silent peer is a local
   * decision, which RFC 5482 leaves to the receiver. */
  unsigned user_timeout_ms;
  int user_timeout_accept;
  unsigned user_timeout_min_ms; /* default 100000, RFC 1122's 100 s (0 also means 100000) */
  unsigned user_timeout_max_ms; /* default 3600000 (0 also means 3600000) */
} tou_endpoint_options_t;

/* Fills opts with the defaults listed above. */
TOU_EXTERN void tou_endpoint_options_init(tou_endpoint_options_t *opts);

/* ------------------------------------------------------------------------ */
/* Endpoint                                                                 */

/* Initializes an endpoint on loop. opts may be NULL (defaults). Returns 0,
 * UV_EINVAL for invalid options, UV_ENOMEM. The endpoint must be bound before
 * use and released with tou_close(). */
TOU_EXTERN int tou_endpoint_init(uv_loop_t *loop, tou_endpoint_t *endpoint,
                                 const tou_endpoint_options_t *opts);

/* Binds the UDP socket to addr (sockaddr_in or sockaddr_in6; port 0 picks an
 * ephemeral port) and starts receiving. flags are uv_udp_bind's
 * (UV_UDP_IPV6ONLY, UV_UDP_REUSEADDR). Returns 0 or a UV_E* code. */
TOU_EXTERN int tou_endpoint_bind(tou_endpoint_t *endpoint, const struct sockaddr *addr,
                                 unsigned flags);

/* The bound address, as uv_udp_getsockname. */
TOU_EXTERN int tou_endpoint_getsockname(const tou_endpoint_t *endpoint, struct sockaddr *name,
                                        int *namelen);

/* Accepts connections: cb runs once per connection waiting in the accept
 * queue (at most backlog; the half-open queue is bounded separately). Returns
 * 0, UV_EBUSY if already listening, UV_EINVAL. */
TOU_EXTERN int tou_listen(tou_endpoint_t *endpoint, int backlog, tou_connection_cb cb);

/* Takes the oldest waiting connection into stream (any memory not in use by
 * another stream; its data field is kept). Returns 0 or UV_EAGAIN when none
 * is waiting. */
TOU_EXTERN int tou_accept(tou_endpoint_t *endpoint, tou_stream_t *stream);

/* Opens a stream to addr from this endpoint: stream is initialized here (its
 * data field is kept) and usable at once — writes queue until the handshake
 * completes. cb reports the outcome. Returns 0, or a UV_E* code (then cb
 * never runs). */
TOU_EXTERN int tou_connect(tou_connect_t *req, tou_endpoint_t *endpoint, tou_stream_t *stream,
                           const struct sockaddr *addr, tou_connect_cb cb);

/* Endpoint counters. */
typedef struct tou_endpoint_stats_s {
  uint64_t datagrams_received, bytes_received;
  uint64_t datagrams_sent, bytes_sent;
  uint64_t send_errors;      /* datagrams the socket refused for an error (unreachable, ...) */
  uint64_t recv_errors;
  uint64_t batches_received; /* recvmmsg calls (or single receives) that returned data */
  uint64_t send_batches;     /* sendmmsg batches (datagrams_sent / send_batches per call) */
  unsigned streams;          /* open tou_stream_t handles on this endpoint */
  unsigned accept_queue;     /* connections waiting for tou_accept() */
  int socket_sndbuf, socket_rcvbuf; /* as granted by the system */
  int recvmmsg;              /* 1 when receiving with recvmmsg (libuv's, or the binding's with GRO) */
  /* From the protocol core: */
  unsigned connections;      /* connection objects held (all states but TIME_WAIT records) */
  unsigned half_open;        /* listener's SYN_RCVD connections */
  unsigned time_wait;        /* TIME_WAIT records */
  uint64_t dropped;          /* malformed or unmatched datagrams */
  uint64_t resets_sent;
  uint64_t syns_dropped;     /* SYNs refused: half-open queue or table full */
  uint64_t challenge_acks;   /* RFC 5961 challenge ACKs sent */
  /* Segmentation offloads (tou_endpoint_options_t.disable_udp_offload): */
  int gso, gro;              /* 1 while the endpoint sends with UDP GSO / receives with GRO */
  uint64_t gso_buffers;      /* buffers sent with GSO, each 2..64 datagrams */
  uint64_t gro_buffers;      /* received buffers holding several coalesced datagrams */
  /* Copies: a datagram's payload is handed to the kernel straight from the
   * stream's send buffer (header and payload as separate pieces). */
  uint64_t datagrams_gathered; /* datagrams sent so (the others carry no payload) */
  /* Datagrams dropped because the socket's send buffer was full (the rest of
   * a batch; sending then waits until the socket is writable). Like a loss
   * in the network, the streams' loss recovery resends their data. */
  uint64_t datagrams_dropped_local;
} tou_endpoint_stats_t;

/* Fills *stats. Returns 0 or UV_EINVAL. */
TOU_EXTERN int tou_endpoint_stats(const tou_endpoint_t *endpoint, tou_endpoint_stats_t *stats);

/* ------------------------------------------------------------------------ */
/* Streams                                                                  */

/* Connection states, with RFC 9293's names (tou_state_name()). */
typedef enum tou_stream_state {
  TOU_STATE_CLOSED = 0,
  TOU_STATE_LISTEN,
  TOU_STATE_SYN_SENT,
  TOU_STATE_SYN_RCVD,
  TOU_STATE_ESTABLISHED,
  TOU_STATE_FIN_WAIT_1,
  TOU_STATE_FIN_WAIT_2,
  TOU_STATE_CLOSE_WAIT,
  TOU_STATE_CLOSING,
  TOU_STATE_LAST_ACK,
  TOU_STATE_TIME_WAIT,
} tou_stream_state_t;

/* "ESTABLISHED", "SYN_SENT", ...; "UNKNOWN" for other values. */
TOU_EXTERN const char *tou_stream_state_name(int state);

/* Starts delivering data: alloc_cb then read_cb, as uv_read_start. Returns 0,
 * UV_EALREADY when reading, UV_EINVAL, UV_ENOTCONN on a closed stream. */
TOU_EXTERN int tou_read_start(tou_stream_t *stream, tou_alloc_cb alloc_cb, tou_read_cb read_cb);
/* Stops delivering; data keeps arriving into the receive window (the peer is
 * throttled by flow control once it fills). Idempotent; returns 0. Buffers
 * already filled from alloc_cb stay with the stream until reading starts
 * again (their read_cb comes first then); if the stream is closed instead,
 * each is handed back with read_cb(nread 0) before close_cb. */
TOU_EXTERN int tou_read_stop(tou_stream_t *stream);

/* Queues the bytes of bufs for sending, in order after earlier writes. The
 * bytes must stay valid until cb. Returns 0 (cb will run exactly once) or a
 * UV_E* code (cb never runs): UV_EPIPE after tou_shutdown(), UV_EINVAL,
 * UV_ENOTCONN / the connection's error when it is over. */
TOU_EXTERN int tou_write(tou_write_t *req, tou_stream_t *stream, const uv_buf_t bufs[],
                         unsigned nbufs, tou_write_cb cb);

/* Sends what fits into the core's send buffer now, without a request.
 * Returns the bytes accepted (> 0), UV_EAGAIN when nothing fits or writes
 * are still queued, or another UV_E* code. */
TOU_EXTERN int tou_try_write(tou_stream_t *stream, const uv_buf_t bufs[], unsigned nbufs);

/* Half-close: our FIN follows every queued write; the peer's reads end with
 * UV_EOF; we can still read. cb runs when the FIN is acknowledged. Returns 0,
 * UV_EALREADY, UV_ENOTCONN. */
TOU_EXTERN int tou_shutdown(tou_shutdown_t *req, tou_stream_t *stream, tou_shutdown_cb cb);

/* Closes a stream or an endpoint; close_cb (may be NULL) runs later from the
 * loop, after which the memory may be freed.
 * - Stream: pending connect/write/shutdown requests whose bytes the core has
 *   not accepted complete with UV_ECANCELED; what the core accepted is still
 *   delivered (graceful four-way close, finished by the endpoint in the
 *   background) — unless unread data remains, in which case the connection is
 *   reset (RFC 9293 3.10.4).
 * - Endpoint: closes its streams first (as above), resets connections waiting
 *   in the accept queue, then closes the socket. Connections still closing
 *   gracefully are dropped with it: keep the endpoint open until they finish
 *   if their last bytes matter. */
TOU_EXTERN void tou_close(tou_handle_t *handle, tou_close_cb close_cb);

/* Resets the stream (RST): queued data is discarded, pending requests
 * complete with UV_ECANCELED, the peer sees UV_ECONNRESET. The handle still
 * needs tou_close(). Returns 0 or UV_ENOTCONN. */
TOU_EXTERN int tou_abort(tou_stream_t *stream);

/* Bytes in write requests not yet accepted by the core (write_queue_size). */
TOU_EXTERN size_t tou_stream_get_write_queue_size(const tou_stream_t *stream);

/* The peer's address, as uv_tcp_getpeername. */
TOU_EXTERN int tou_stream_getpeername(const tou_stream_t *stream, struct sockaddr *name,
                                      int *namelen);

/* Per-stream options. Keepalive, user timeout and link probing are taken per
 * stream; the other settings the core takes per endpoint
 * (tou_endpoint_options_t) or not at all, and their setters report
 * UV_ENOTSUP rather than ignoring them. */

/* Disables Nagle on this stream. UV_ENOTSUP: use tou_endpoint_options_t.nodelay. */
TOU_EXTERN int tou_stream_nodelay(tou_stream_t *stream, int enable);
/* Keepalive probes after delay_s idle seconds (then every 75 s, 9 probes:
 * the endpoint's defaults); the stream fails with UV_ETIMEDOUT when they go
 * unanswered. UV_ENOTCONN before the stream is connected. */
TOU_EXTERN int tou_stream_keepalive(tou_stream_t *stream, int enable, unsigned delay_s);
/* RFC 5482 user timeout: fail the connection (UV_ETIMEDOUT) when sent data
 * stays unacknowledged for timeout_ms, however many retransmissions that
 * takes (it replaces the data_retries limit); 0 disables. The value is
 * announced to the peer (RFC 5482 User Timeout Option), which may adopt it,
 * and from then on announcements of the peer no longer change this
 * stream's timeout. UV_ENOTCONN before the stream is connected. */
TOU_EXTERN int tou_stream_user_timeout(tou_stream_t *stream, unsigned timeout_ms);
/* Link probing ("can you hear me?"), on by default with the endpoint's
 * link_probe_* options: for this stream, probe after idle_ms of silence while
 * data is unacknowledged (0: never by itself), declare the link silent after
 * silent_ms without an answer (0 keeps the current value); while silent,
 * probe again silent_ms later, then backing off (each wait doubled) up to
 * the endpoint's link_probe_retry_ms, and as soon as the path shows signs
 * of healing.
 * A silent link does not end the stream. UV_ENOTCONN before connected. */
TOU_EXTERN int tou_stream_link_probe(tou_stream_t *stream, unsigned idle_ms, unsigned silent_ms);
/* Per-stream send/receive buffer sizes. UV_ENOTSUP: use
 * tou_endpoint_options_t.send_buffer / recv_buffer. */
TOU_EXTERN int tou_stream_buffer_sizes(tou_stream_t *stream, unsigned send_bytes,
                                       unsigned recv_bytes);
/* Congestion control by name ("newreno", "cubic") for one stream.
 * UV_ENOTSUP: the core selects it per endpoint
 * (tou_endpoint_options_t.congestion_control). */
TOU_EXTERN int tou_stream_congestion_control(tou_stream_t *stream, const char *name);

/* Link states reported to the link-state callback. */
typedef enum tou_link_state {
  TOU_LINK_HEARD = 0, /* the peer answers */
  TOU_LINK_SILENT,    /* no answer to probes within the silent time */
  TOU_LINK_BACK,      /* heard again after being silent */
} tou_link_state_t;

typedef void (*tou_link_cb)(tou_stream_t *stream, int link_state);

/* Sets the callback for link-state changes (TOU_LINK_*), called on the
 * loop's thread whenever the state changes; NULL removes it. */
TOU_EXTERN int tou_stream_set_link_cb(tou_stream_t *stream, tou_link_cb cb);

/* Asks the peer "can you hear me?" now; the answer shows in the link-state
 * callback and tou_stream_info_t. Returns 0, UV_EAGAIN when a probe is
 * already out or the last one went less than a second ago, UV_ENOTCONN
 * before the handshake completed. */
TOU_EXTERN int tou_stream_probe_now(tou_stream_t *stream);

/* One direction of the path, as the link probe sees it. */
typedef enum tou_link_path {
  TOU_LINK_PATH_WORKS = 0, /* seen to carry segments recently */
  TOU_LINK_PATH_FAILS,     /* known not to */
  TOU_LINK_PATH_UNKNOWN,   /* cannot tell (nothing comes back at all) */
} tou_link_path_t;

/* Statistics of one stream (in the spirit of Linux TCP_INFO). */
typedef struct tou_stream_info_s {
  int state;                   /* TOU_STATE_* */
  uint32_t conn_id;            /* our connection identifier */
  uint32_t peer_conn_id;       /* the peer's; 0 before its SYN */
  struct sockaddr_storage peer;
  uint64_t bytes_sent;         /* accepted from the application */
  uint64_t bytes_received;     /* delivered to the application */
  uint64_t bytes_received_direct; /* of the connection's in-order bytes, copied once:
                                   * from the datagram into the application's buffer */
  uint64_t bytes_received_buffered; /* copied twice: through the receive buffer */
  size_t write_queue_size;     /* in requests, not yet accepted by the core */
  size_t send_queued;          /* in the core, not yet acknowledged */
  size_t send_space;           /* free space in the core's send buffer */
  uint32_t mss;                /* payload bytes per segment we send */
  uint32_t rtt_us, rttvar_us, rto_us; /* rtt/rttvar 0 before the first sample */
  uint32_t cwnd, ssthresh;     /* bytes */
  uint32_t snd_wnd, rcv_wnd;   /* the peer's window, ours (bytes) */
  uint32_t bytes_in_flight;
  uint64_t segs_sent, segs_received;
  uint64_t segs_retransmitted; /* SYN, data and FIN segments sent again */
  uint64_t timeouts;           /* retransmission timer expiries */
  const char *congestion_control; /* "cubic", "newreno" (static string) */
  uint32_t min_rtt_us;         /* windowed minimum RTT */
  uint64_t segs_lost;          /* loss marks (RACK, duplicate ACKs, RTO) */
  uint64_t segs_sacked;        /* segments the peer SACKed */
  uint64_t tlp_probes;         /* tail loss probes sent */
  uint32_t congestion_events;  /* cwnd reductions by loss (not RTO) */
  uint64_t delivery_rate;      /* bytes/s, latest sample */
  /* Link probing and keepalive: */
  int link_state;              /* TOU_LINK_* */
  int link_inbound;            /* TOU_LINK_PATH_*: do we hear the peer? */
  int link_outbound;           /* TOU_LINK_PATH_*: does the peer hear us? */
  uint64_t last_heard_us;      /* uv_hrtime()/1000 of the last segment from the peer */
  uint64_t silent_since_us;    /* when the link last became silent (0: never) */
  uint64_t probes_sent;        /* our "can you hear me?" asks */
  uint64_t probes_answered;    /* of ours, answered (complete round trips) */
  uint64_t keepalives_sent;
  /* RFC 5482 user timeout: */
  unsigned user_timeout_ms;      /* the one in force (0: none, data_retries apply) */
  unsigned peer_user_timeout_ms; /* the peer's latest announcement (0: none heard) */
} tou_stream_info_t;

/* Fills *info. Returns 0, UV_EINVAL, UV_ENOTCONN when the stream has no
 * connection (never connected). */
TOU_EXTERN int tou_get_info(const tou_stream_t *stream, tou_stream_info_t *info);

/* Calls cb once for every connection of the endpoint, for an ss/netstat-like
 * listing: the streams' connections (stream is the stream), and with stream
 * NULL every connection no stream holds: half-open handshakes (SYN_RCVD,
 * many of them during a SYN flood), connections not accepted yet, streams
 * already closed whose connection still finishes in the background
 * (FIN_WAIT_1/2, CLOSING, LAST_ACK), and TIME_WAIT records. For a TIME_WAIT
 * record only state, conn_id, peer_conn_id and peer are set (the rest is 0).
 * cb must not close handles or call into the endpoint. Returns 0 or
 * UV_EINVAL. */
typedef void (*tou_walk_cb)(const tou_stream_info_t *info, tou_stream_t *stream, void *arg);
TOU_EXTERN int tou_endpoint_walk(tou_endpoint_t *endpoint, tou_walk_cb cb, void *arg);

/* Version of the library, "0.1.0". */
TOU_EXTERN const char *tou_version_string(void);

#ifdef __cplusplus
}
#endif
#endif

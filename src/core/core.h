/* The sans-I/O core as the libuv binding and the simulator see it.
 *
 * An endpoint owns every connection that shares one UDP socket. It never
 * reads a clock or touches a socket: the caller passes `now` (microseconds,
 * any monotonic origin) into every call, feeds it received datagrams with
 * tou_ep_input(), drains datagrams to send with tou_ep_output(), arms one
 * timer for tou_ep_next_deadline() and calls tou_ep_on_timer() when it fires.
 * What the application must hear about (connected, readable, closed, ...) is
 * collected per connection and drained with tou_ep_next_event(); nothing in
 * the core calls back into the application except the trace hook and the
 * optional delivery sink (tou_config_t.deliver), which exists so that
 * received payload is copied once, from the datagram straight into the
 * application's buffer, instead of twice (datagram -> receive buffer ->
 * application). */
#ifndef TOU_CORE_CORE_H
#define TOU_CORE_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "seq.h"
#include "wire.h"

#define TOU_NEVER UINT64_MAX

/* A peer address as the binding sees it (a copied sockaddr_in/in6, or
 * whatever the simulator uses). The core only compares and hashes it. */
typedef struct tou_addr {
  uint8_t len;
  uint8_t bytes[28];
} tou_addr_t;

bool tou_addr_equal(const tou_addr_t *a, const tou_addr_t *b);

typedef enum tou_state {
  TOU_CLOSED = 0,
  TOU_LISTEN,
  TOU_SYN_SENT,
  TOU_SYN_RCVD,
  TOU_ESTABLISHED,
  TOU_FIN_WAIT_1,
  TOU_FIN_WAIT_2,
  TOU_CLOSE_WAIT,
  TOU_CLOSING,
  TOU_LAST_ACK,
  TOU_TIME_WAIT,
} tou_state_t;

/* "ESTABLISHED", "SYN_SENT", ... */
const char *tou_state_name(tou_state_t state);

typedef struct tou_allocator {
  void *(*alloc)(void *ctx, size_t size); /* may return NULL */
  void (*free)(void *ctx, void *ptr);
  void *ctx;
} tou_allocator_t;

typedef struct tou_ep tou_ep_t;
typedef struct tou_conn tou_conn_t;

/* Trace hook: observes state changes and segments; costs nothing when unset. */
typedef enum tou_trace_kind {
  TOU_TRACE_STATE,    /* conn moved from old_state to new_state */
  TOU_TRACE_SEG_SENT, /* seg was sent (by conn, or by the endpoint when conn is NULL) */
  TOU_TRACE_SEG_RECV, /* seg arrived for conn (NULL: no connection matched) */
  TOU_TRACE_SEG_DROP, /* a datagram was dropped; error says why */
} tou_trace_kind_t;

typedef struct tou_trace_event {
  tou_trace_kind_t kind;
  uint64_t now;
  const tou_conn_t *conn;
  tou_state_t old_state, new_state;
  const tou_segment_t *seg;
  const tou_addr_t *peer;
  int error;
} tou_trace_event_t;

typedef void (*tou_trace_fn)(void *ctx, const tou_trace_event_t *ev);

/* Direct delivery sink (the receive fast path). Called only from within
 * tou_ep_input(), for payload that is in order (starts at RCV.NXT) while the
 * connection's receive buffer holds nothing (no unread bytes, no
 * out-of-order ranges), so nothing buffered can come before it. It copies
 * what it can take of data[0..len) into the application's memory and
 * returns how many bytes it took (0..len; more counts as len); the core
 * keeps the rest in the receive buffer as usual, where tou_conn_recv()
 * finds it after the bytes taken. Bytes taken are, for the window, the
 * ACKs and receive autotuning, exactly bytes that were buffered and read
 * at once by tou_conn_recv(); they raise no TOU_EV_READABLE (the sink's
 * owner knows), and the peer's FIN becomes visible (TOU_ERR_EOF) only
 * after them. The sink must not call back into the core. Why a callback
 * and not an event: the datagram exists only during tou_ep_input(), so
 * avoiding the second copy means handing the payload over while it is
 * still there. */
typedef size_t (*tou_deliver_fn)(void *ctx, tou_conn_t *c, const uint8_t *data, size_t len);

typedef struct tou_config {
  uint32_t mss;             /* largest payload we accept and send; default TOU_MSS_DEFAULT_V4 */
  uint32_t send_buffer;     /* bytes the application may queue; default 2 MiB */
  uint32_t recv_buffer;     /* receive window ceiling in bytes (autotuning stops here, window
                             * scaling is sized for it); default 4 MiB */
  uint64_t initial_rto_us;  /* RFC 6298: 1 s */
  uint64_t min_rto_us;      /* 200 ms */
  uint64_t max_rto_us;      /* 60 s */
  unsigned syn_retries;     /* SYN retransmissions before connect times out; default 6 */
  unsigned synack_retries;  /* SYN-ACK retransmissions; default 5 */
  unsigned data_retries;    /* retransmissions of one segment before the connection times out; 15 */
  uint64_t msl_us;          /* TIME_WAIT lasts 2*MSL; default MSL 30 s */
  unsigned max_connections; /* connection table limit; default 4096 */
  unsigned max_time_wait;   /* TIME_WAIT records kept; default 4096 */
  unsigned challenge_acks_per_sec; /* RFC 5961 rate limit; default 1000 */
  bool nodelay;             /* disable Nagle */
  /* Receiver (conn_ack.c, rcv_window.c). */
  uint32_t recv_buffer_initial; /* receive window a connection starts with; it grows (receive
                                 * autotuning) while the application reads at rate, up to
                                 * recv_buffer. Default 128 KiB; >= recv_buffer: no autotuning */
  uint64_t delack_us;       /* delayed-ACK bound (RFC 9293 3.8.6.3: < 500 ms); default 40 ms;
                             * 0: acknowledge every segment at once */
  const char *cc_algorithm; /* congestion control: "cubic" (default when NULL) or "newreno" */
  bool no_undo;             /* keep congestion responses found spurious (RFC 3522 timestamps,
                             * RFC 3708 DSACK: still counted in tou_conn_info_t) instead of
                             * undoing them, and no F-RTO (RFC 5682); default false: undo
                             * (RFC 4015, as Linux) */
  bool no_timestamps;       /* neither offer nor accept RFC 7323 timestamps (tests, and
                             * the behaviour of peers without them); default false */
  tou_trace_fn trace;       /* optional */
  void *trace_ctx;
  tou_deliver_fn deliver;   /* optional receive fast path (see tou_deliver_fn) */
  void *deliver_ctx;
  tou_allocator_t allocator; /* NULL alloc: malloc/free */
  const uint8_t *seed;      /* 32 bytes for deterministic randomness (tests); NULL: libsodium */
  unsigned syn_backlog;     /* half-open (SYN_RCVD) connections a listener keeps; default 256 */

  /* SYN flood defence (syncookie.h, flood.h). */
  unsigned syncookies;      /* TOU_SYNCOOKIES_*; default TOU_SYNCOOKIES_AUTO */
  unsigned syn_flood_rate;  /* SYNs per second that count as a flood; default 1000 */
  uint64_t syn_flood_quiet_us; /* calm this long (and the half-open queue not full) ends
                                * cookie mode; default 10 s */
  uint64_t syncookie_lifetime_us; /* a cookie is valid between half of this and this; 64 s */
  unsigned syncookie_replay_max; /* completed cookie handshakes remembered to refuse replays
                                  * (exact; oldest forgotten first; 32 B + 8 B each);
                                  * default 16384; 0: replays accepted, as Linux does */

  /* Liveness, per connection (tou_conn_set_* override them). */
  bool keepalive;              /* TCP-style keepalive; default off */
  uint64_t keepalive_idle_us;  /* silence before the first probe (TCP_KEEPIDLE); 7200 s */
  uint64_t keepalive_intvl_us; /* between unanswered probes (TCP_KEEPINTVL); 75 s */
  unsigned keepalive_cnt;      /* unanswered probes that end the connection (TCP_KEEPCNT); 9 */
  uint64_t user_timeout_us;    /* RFC 5482: data unacknowledged this long ends the
                                * connection with TOU_ERR_TIMEDOUT (and replaces
                                * data_retries); announced to the peer in the SYN or
                                * SYN-ACK (UTO option); 0 (default): off */
  bool user_timeout_accept;    /* RFC 5482 3.1 "ENABLED": adopt the peer's announced
                                * timeout, min(max, max(ours, peer's, min)); default off */
  uint64_t user_timeout_min_us; /* L_LIMIT for an adopted timeout; default 100 s */
  uint64_t user_timeout_max_us; /* U_LIMIT for an adopted timeout; default 3600 s */
  uint64_t link_probe_idle_us; /* nothing heard this long while expecting an answer starts
                                * a link probe; 0 (default): only tou_conn_probe_now() */
  uint64_t link_probe_timeout_us; /* no answer this long: link silent; default 5 s */
  uint64_t link_probe_retry_us;   /* while silent, probes are retried with exponential backoff:
                                   * first max(link_probe_timeout_us, link_probe_min_gap_us)
                                   * after the link went silent, each wait then doubled, up to
                                   * this cap; default 60 s (docs/PROTOCOL.md 5.6) */
  uint64_t link_probe_min_gap_us; /* at most one ASK and one ANSWER per this; default 1 s */
} tou_config_t;

/* tou_config_t.syncookies */
enum {
  TOU_SYNCOOKIES_AUTO = 0, /* answer with cookies while a SYN flood is suspected */
  TOU_SYNCOOKIES_NEVER,    /* never: SYNs beyond the half-open queue are dropped */
  TOU_SYNCOOKIES_ALWAYS,   /* every SYN (keeps no half-open state at all) */
};

/* Fills cfg with the defaults above. */
void tou_config_default(tou_config_t *cfg);

/* Creates an endpoint. Returns NULL on allocation failure or invalid config. */
tou_ep_t *tou_ep_new(const tou_config_t *cfg, uint64_t now);
/* Frees the endpoint and every connection it still holds, without sending. */
void tou_ep_free(tou_ep_t *ep);

/* A datagram arrived from `from`. Malformed datagrams are dropped (traced). */
void tou_ep_input(tou_ep_t *ep, uint64_t now, const tou_addr_t *from, const uint8_t *data,
                  size_t len);

/* The connection tou_ep_input() would hand this datagram from `from` to,
 * found without processing it (nothing checked but the header's version,
 * length and connection ids); NULL when none. The binding uses it to
 * finish what it owes one connection's application before another's
 * datagram is processed (tou_deliver_fn). */
tou_conn_t *tou_ep_conn_for(const tou_ep_t *ep, const tou_addr_t *from, const uint8_t *data,
                            size_t len);

/* Writes the next datagram to send into buf and its destination into *to.
 * Returns its length, 0 when nothing is due now, or a negative error. Call
 * until it returns 0 after every input, timer and application call. */
int tou_ep_output(tou_ep_t *ep, uint64_t now, tou_addr_t *to, uint8_t *buf, size_t cap);

/* A datagram's payload left where it lies (tou_ep_output_gather()): one
 * piece, or two when it crosses the send buffer ring's wrap point. */
typedef struct tou_payload_ref {
  const uint8_t *data[2]; /* len[0] bytes at data[0], then len[1] at data[1] */
  size_t len[2];          /* len[1] is 0 unless the payload wraps; both 0: none */
} tou_payload_ref_t;

/* Payload bytes in all. */
static inline size_t tou_payload_len(const tou_payload_ref_t *p) { return p->len[0] + p->len[1]; }

/* As tou_ep_output(), without copying the payload (the send side's second
 * copy): the datagram is buf[0 .. n - tou_payload_len(payload)) (header and
 * options, checksum included) followed by payload->len[0] bytes at
 * payload->data[0] and payload->len[1] at payload->data[1], in the sending
 * connection's send buffer. Returns n, the whole datagram's length (at most
 * cap), 0 or a negative error as tou_ep_output(). Segments without payload
 * (ACKs, SYNs, replies) come whole in buf (both lengths 0); no payload is
 * ever copied, retransmissions and segments across the ring's wrap point
 * included. The payload stays valid across further tou_ep_output*() calls,
 * until the next other call into the endpoint or its connections (input,
 * timer, send, close). */
int tou_ep_output_gather(tou_ep_t *ep, uint64_t now, tou_addr_t *to, uint8_t *buf, size_t cap,
                         tou_payload_ref_t *payload);

/* When tou_ep_on_timer() must next be called; TOU_NEVER when nothing waits. */
uint64_t tou_ep_next_deadline(const tou_ep_t *ep);
void tou_ep_on_timer(tou_ep_t *ep, uint64_t now);

/* Passive open. backlog bounds the accept queue; the half-open queue is
 * bounded separately. */
int tou_ep_listen(tou_ep_t *ep, unsigned backlog);
void tou_ep_unlisten(tou_ep_t *ep);
/* Takes the next established connection from the accept queue, or NULL. */
tou_conn_t *tou_ep_accept(tou_ep_t *ep);

/* Active open: sends a SYN to peer. Returns the connection (SYN_SENT) or NULL
 * with *err set. */
tou_conn_t *tou_ep_connect(tou_ep_t *ep, uint64_t now, const tou_addr_t *peer, int *err);

/* Events. */
enum tou_event {
  TOU_EV_CONNECTED = 1 << 0, /* handshake completed (active open) */
  TOU_EV_READABLE = 1 << 1,  /* tou_conn_recv() has data or EOF to give */
  TOU_EV_WRITABLE = 1 << 2,  /* send buffer space was freed */
  TOU_EV_SHUTDOWN = 1 << 3,  /* our FIN was acknowledged */
  TOU_EV_CLOSED = 1 << 4,    /* connection is over; tou_conn_error() says why */
  TOU_EV_LINK = 1 << 5,      /* link state changed */
  TOU_EV_ACCEPT = 1 << 6,    /* endpoint-level (conn NULL): accept queue non-empty */
  TOU_EV_URGENT = 1 << 7,    /* the peer marked urgent data: see tou_conn_urgent_mark() */
};

/* Pops the next pending event set. Returns true and fills *conn (NULL for
 * endpoint-level events) and *events (TOU_EV_* bits), false when none. */
bool tou_ep_next_event(tou_ep_t *ep, tou_conn_t **conn, unsigned *events);

/* Connection calls. A connection belongs to the application from connect or
 * accept until tou_conn_close() or tou_conn_abort(); after either the
 * application must not touch it again (the core finishes and frees it). */

/* Queues data for sending. Returns the number of bytes accepted (possibly
 * fewer than len when the send buffer is full, 0 when it is), or
 * TOU_ERR_PIPE after shutdown, TOU_ERR_NOTCONN / the closing error when the
 * connection is over. Allowed in SYN_SENT/SYN_RCVD (sent once established). */
int tou_conn_send(tou_conn_t *c, uint64_t now, const uint8_t *data, size_t len);
/* As tou_conn_send(), and the bytes accepted are urgent (RFC 9293 3.8.5): the
 * urgent pointer (URG) of the segments sent from now on points just past
 * them, so the peer learns where the urgent data ends. The data stays in
 * the byte stream (no out-of-band delivery). */
int tou_conn_send_urgent(tou_conn_t *c, uint64_t now, const uint8_t *data, size_t len);
/* Bytes that tou_conn_send() would accept now. */
size_t tou_conn_send_space(const tou_conn_t *c);
/* Bytes queued and not yet acknowledged. */
size_t tou_conn_send_queued(const tou_conn_t *c);

/* Reads in-order data. Returns bytes read, TOU_ERR_AGAIN when nothing is
 * ready, TOU_ERR_EOF once the peer's FIN has been reached, or the closing
 * error. Reading opens the receive window (may queue a window update). */
int tou_conn_recv(tou_conn_t *c, uint64_t now, uint8_t *buf, size_t len);

/* Urgent data (RFC 9293 3.8.5): true while the peer has marked urgent data
 * that the application has not read past yet; *until (may be NULL) is then
 * the number of bytes tou_conn_recv() must still return to reach the end of
 * the urgent data (the "urgent mark"; bytes not arrived yet are counted).
 * TOU_EV_URGENT is raised when a new mark is learned. */
bool tou_conn_urgent_mark(const tou_conn_t *c, size_t *until);

/* Half-close: FIN after all queued data. Idempotent. */
int tou_conn_shutdown(tou_conn_t *c, uint64_t now);
/* Releases the connection: graceful (FIN after queued data, the core keeps it
 * until the close completes) unless unread data remains, in which case it is
 * reset (RFC 9293 3.10.4 / RFC 2525). */
void tou_conn_close(tou_conn_t *c, uint64_t now);
/* Releases the connection with a RST; queued data is discarded. */
void tou_conn_abort(tou_conn_t *c, uint64_t now);

tou_state_t tou_conn_state(const tou_conn_t *c);
/* Why the connection ended: 0 for an orderly close, else TOU_ERR_*. */
int tou_conn_error(const tou_conn_t *c);
const tou_addr_t *tou_conn_peer(const tou_conn_t *c);
void tou_conn_set_user(tou_conn_t *c, void *user);
void *tou_conn_user(const tou_conn_t *c);
uint32_t tou_conn_local_cid(const tou_conn_t *c);
/* The peer's connection identifier; 0 until its SYN has been seen. */
uint32_t tou_conn_remote_cid(const tou_conn_t *c);

/* A snapshot of one connection, in the spirit of Linux TCP_INFO. */
typedef struct tou_conn_info {
  tou_state_t state;
  int error;
  uint32_t local_cid, remote_cid;
  uint32_t snd_mss;            /* payload bytes per segment we send */
  uint8_t snd_wscale, rcv_wscale; /* 0 when window scaling was not negotiated */
  bool wscale_ok, sack_ok, ts_ok; /* options both sides agreed on */
  uint64_t srtt_us, rttvar_us, rto_us; /* srtt/rttvar 0 before the first sample */
  uint32_t cwnd, ssthresh;     /* bytes */
  uint32_t snd_wnd, rcv_wnd;   /* peer's window, our window (bytes) */
  uint32_t bytes_in_flight;
  uint32_t retries;            /* consecutive timer expiries without progress */
  uint64_t bytes_sent;         /* payload bytes handed to the network (retransmissions too) */
  uint64_t bytes_acked;        /* payload bytes the peer acknowledged */
  uint64_t bytes_received;     /* in-order payload bytes received */
  uint64_t bytes_delivered_direct; /* of those, taken by the delivery sink (one copy) */
  uint64_t bytes_read_buffered;    /* of those, copied out by tou_conn_recv() */
  uint64_t segs_sent, segs_received;
  uint64_t segs_retransmitted; /* SYN, data and FIN segments sent again */
  uint64_t timeouts;           /* retransmission timer expiries */
  uint64_t rto_resumes;        /* backed-off retransmission timers cut short because a
                                * link-probe exchange proved the path works (RFC 6069) */
  uint64_t dup_segs_received;  /* segments carrying only data we already had */
  /* Loss recovery and congestion control (conn_recovery.c). */
  const char *cc_algorithm;    /* "cubic", "newreno" */
  uint64_t min_rtt_us;         /* windowed minimum RTT */
  uint64_t segs_lost;          /* loss marks (RACK, duplicate ACKs, RTO) */
  uint64_t segs_sacked;        /* segments the peer SACKed */
  uint64_t reordering_seen;    /* ACKs revealing reordering (RFC 8985 RACK) */
  uint64_t dsacks_received;    /* ACKs carrying a DSACK (RFC 2883) */
  uint64_t tlp_probes;         /* tail loss probes sent (RFC 8985 7) */
  uint32_t congestion_events;  /* cwnd reductions by loss (not RTO) */
  uint64_t delivery_rate;      /* bytes/s, latest delivery-rate sample */
  uint64_t spurious_rtos;      /* RTOs found spurious (RFC 3522 Eifel, RFC 3708 DSACK) */
  uint64_t spurious_recoveries; /* fast recoveries found spurious (same detection) */
  uint64_t undos;              /* congestion responses undone (cwnd, ssthresh restored) */
  /* Receiver (conn_ack.c, rcv_window.c, conn_ts.c). */
  uint32_t rcv_buffer;         /* receive buffer limit now (grows by autotuning) */
  uint64_t rcv_rtt_us;         /* receiver's RTT estimate (autotuning), 0 before a sample */
  uint64_t acks_delayed;       /* ACKs held back by the delayed-ACK rule */
  uint64_t acks_delack_timer;  /* ACKs sent because the delayed-ACK timer expired */
  uint64_t window_updates;     /* ACKs sent only because the window opened */
  uint64_t paws_dropped;       /* segments dropped by PAWS (RFC 7323 5) */
  uint64_t zero_window_probes; /* persist probes sent into a zero window */
} tou_conn_info_t;

/* Fills *info with the connection's current figures. */
void tou_conn_get_info(const tou_conn_t *c, tou_conn_info_t *info);

/* Endpoint-wide figures. */
typedef struct tou_ep_stats {
  unsigned connections;  /* connection objects held (every state but TIME_WAIT records) */
  unsigned half_open;    /* listener's SYN_RCVD connections */
  unsigned accept_queue; /* established, waiting for tou_ep_accept() */
  unsigned time_wait;    /* compact TIME_WAIT records */
  uint64_t datagrams_in, datagrams_out;
  uint64_t datagrams_gathered; /* of datagrams_out, by tou_ep_output_gather() with the
                                * payload left in the send buffer */
  uint64_t dropped;            /* malformed or unmatched datagrams dropped */
  uint64_t resets_sent;        /* RSTs sent by the endpoint or by connections */
  uint64_t challenge_acks;     /* RFC 5961 challenge ACKs sent */
  uint64_t challenge_acks_limited; /* suppressed by challenge_acks_per_sec */
  uint64_t syns_dropped;       /* SYNs refused: half-open queue or table full, no memory */
  uint64_t replies_dropped;    /* endpoint reply queue full */
  /* SYN flood defence: the picture many SYN_RECV lines in netstat give. */
  uint64_t syns_received;      /* opening SYNs that reached the listener */
  uint64_t cookies_sent;       /* SYN-ACKs carrying a cookie (no state kept) */
  uint64_t cookies_validated;  /* ACKs whose cookie rebuilt a connection */
  uint64_t cookie_failures;    /* ACKs with a forged, expired or replayed cookie */
  uint64_t syn_floods;         /* times cookie mode was entered */
  bool syn_flood;              /* a SYN flood is suspected now (cookie mode) */
  uint64_t syn_flood_sources;  /* distinct source addresses of SYNs since the current (or
                                * last) flood began; an estimate (about 1.6 % error) */
} tou_ep_stats_t;

void tou_ep_get_stats(const tou_ep_t *ep, tou_ep_stats_t *st);

/* ---- connection listing (an ss/netstat for one endpoint) ---- */

/* One row of tou_ep_walk(): a connection object, or a compact TIME_WAIT
 * record (conn and info NULL, the figures 0). */
typedef struct tou_ep_row {
  const tou_conn_t *conn;      /* NULL for a TIME_WAIT record */
  tou_state_t state;
  const tou_addr_t *peer;
  uint32_t local_cid, remote_cid;
  bool app_owned;              /* returned by connect/accept and not yet closed; false for
                                * half-open, accept queue, released (closing) and TIME_WAIT */
  size_t send_queued;          /* bytes queued and not yet acknowledged */
  size_t recv_queued;          /* in-order bytes received and not read yet */
  uint64_t srtt_us;            /* 0 before the first RTT sample */
  uint32_t cwnd;               /* bytes */
  uint64_t expires;            /* TIME_WAIT record: when it goes (the caller's clock); else 0 */
  const tou_conn_info_t *info; /* every figure of the connection; NULL for TIME_WAIT */
} tou_ep_row_t;

typedef void (*tou_ep_walk_fn)(void *ctx, const tou_ep_row_t *row);

/* Calls cb once per connection the endpoint holds, in every state (half-open
 * SYN_RCVD ones, the accept queue, connections released by the application
 * and still closing), then once per TIME_WAIT record. The rows are valid
 * during the call only; cb must not call into the endpoint. */
void tou_ep_walk(const tou_ep_t *ep, tou_ep_walk_fn cb, void *ctx);

/* ---- liveness: keepalive, user timeout, link probing (docs/PROTOCOL.md 5.6) ---- */

/* What the link probe knows about the path to the peer. */
typedef enum tou_link_status {
  TOU_LS_HEARD = 0, /* both directions work (as far as anything says otherwise) */
  TOU_LS_SILENT,    /* a probe went unanswered: see inbound/outbound */
  TOU_LS_BACK,      /* a probe exchange completed after the link was silent */
} tou_link_status_t;

/* One direction of the path. */
typedef enum tou_path {
  TOU_PATH_WORKS = 0, /* seen to carry segments recently */
  TOU_PATH_FAILS,     /* known not to: nothing heard / our answer never confirmed */
  TOU_PATH_UNKNOWN,   /* cannot tell (nothing comes back at all) */
} tou_path_t;

typedef struct tou_link_info {
  tou_link_status_t state;
  tou_path_t inbound;  /* do we hear the peer? */
  tou_path_t outbound; /* does the peer hear us? */
  uint64_t last_heard; /* time of the last segment from the peer */
  uint64_t silent_since; /* when the link last became silent (0: never) */
  uint64_t asks_sent, answers_sent, confirms_sent; /* probe segments by phase */
  uint64_t exchanges;  /* probes of ours answered (each a complete round trip) */
  uint64_t keepalives_sent;
  uint64_t user_timeout_us;      /* the user timeout in force (0: none) */
  uint64_t peer_user_timeout_us; /* the peer's last RFC 5482 announcement (0: none) */
} tou_link_info_t;

/* Fills *info; TOU_EV_LINK is raised whenever info.state changes. */
void tou_conn_link_info(const tou_conn_t *c, tou_link_info_t *info);
tou_link_status_t tou_conn_link_state(const tou_conn_t *c);
/* Asks "can you hear me?" now. TOU_ERR_NOTCONN when not synchronized,
 * TOU_ERR_AGAIN when a probe is already out or one was sent less than
 * link_probe_min_gap_us ago. */
int tou_conn_probe_now(tou_conn_t *c, uint64_t now);

/* Per-connection overrides of the tou_config_t liveness settings (0 for
 * idle/intvl/cnt keeps the current value). Return TOU_OK or TOU_ERR_INVAL. */
int tou_conn_set_keepalive(tou_conn_t *c, uint64_t now, bool enable, uint64_t idle_us,
                           uint64_t intvl_us, unsigned cnt);
/* RFC 5482: 0 disables. */
int tou_conn_set_user_timeout(tou_conn_t *c, uint64_t now, uint64_t timeout_us);
/* idle_us 0 disables automatic probing; timeout_us/retry_us 0 keep the
 * current value; retry_us is the cap of the retry backoff while silent
 * (tou_config_t.link_probe_retry_us). */
int tou_conn_set_link_probe(tou_conn_t *c, uint64_t now, uint64_t idle_us, uint64_t timeout_us,
                            uint64_t retry_us);

#endif

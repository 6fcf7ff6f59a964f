/* The connection object (internal): one TCP-style connection inside an
 * endpoint, its RFC 9293 variables, buffers, timers and links. The state
 * machine is split by job: conn.c (lifecycle, state changes, events, the
 * application calls), conn_open.c (handshake), conn_close.c (FIN, RST,
 * TIME_WAIT hand-off), conn_input.c (segment arrival), conn_output.c (what
 * to send), conn_timers.c (RTO, RTT, deadlines). */
#ifndef TOU_CORE_CONN_H
#define TOU_CORE_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include "conn_recovery.h"
#include "core.h"
#include "list.h"
#include "liveness.h"
#include "recvbuf.h"
#include "rtt.h"
#include "sendbuf.h"

enum { LISTEN_Q_NONE, LISTEN_Q_HALF_OPEN, LISTEN_Q_ACCEPT };

/* Who may touch the connection. */
typedef enum conn_owner {
  CONN_OWNER_CORE,     /* passive and not yet accepted (half-open or accept queue) */
  CONN_OWNER_APP,      /* returned by connect/accept, not yet closed */
  CONN_OWNER_RELEASED, /* the application closed it; the core finishes and frees it */
} conn_owner_t;

struct tou_conn {
  tou_ep_t *ep;
  tou_state_t state;
  int error; /* why it ended: 0 orderly, else TOU_ERR_* */
  conn_owner_t owner;
  bool passive; /* created by the listener (SYN_RCVD returns to LISTEN on RST) */
  bool dead;    /* waiting in the endpoint's reap list to be freed */
  tou_addr_t peer;
  uint32_t local_cid, remote_cid; /* remote 0 until the peer's SYN is seen */
  void *user;

  /* Endpoint links. */
  tou_conn_t *cid_next;  /* hash chain by local cid */
  tou_conn_t *peer_next; /* hash chain by (peer, remote cid) */
  tou_list_t all_link;   /* every connection of the endpoint */
  tou_list_t event_link; /* pending application events */
  tou_list_t output_link; /* may have something to send */
  tou_list_t queue_link; /* listener's half-open list or accept queue */
  uint8_t listen_queue;  /* LISTEN_Q_* : which of the two queue_link is in */
  bool in_cid_table, in_peer_table;
  uint32_t heap_idx;      /* position in the endpoint's timer heap, TOU_HEAP_NONE */
  uint64_t heap_key;      /* conn_deadline() when last placed */
  tou_conn_t *timer_next; /* list of connections whose timers fired */
  unsigned events;       /* TOU_EV_* bits not yet delivered */

  /* Send sequence space (RFC 9293 3.3.1). */
  tou_seq_t iss, snd_una, snd_nxt;
  tou_seq_t snd_max;  /* highest sequence number sent + 1; snd_nxt rewinds on RTO */
  tou_seq_t snd_data; /* sequence number of send buffer offset 0 */
  uint32_t snd_wnd, max_snd_wnd;
  tou_seq_t snd_wl1, snd_wl2;
  bool fin_queued;    /* shutdown requested: FIN follows the queued data */
  tou_seq_t fin_seq;  /* valid when fin_queued and established */
  bool syn_pending;   /* our SYN (SYN_SENT) or SYN-ACK (SYN_RCVD) must be (re)sent */
  bool ack_pending;   /* an ACK must be sent */
  bool probe_pending; /* zero window: the persist timer wants one byte sent */
  unsigned syn_sends; /* SYN or SYN-ACK transmissions (the first is not a retransmission) */

  /* Receive sequence space. */
  tou_seq_t irs, rcv_nxt;
  bool fin_received;   /* the peer's FIN is in the buffer at fin_rcv_seq */
  tou_seq_t fin_rcv_seq;
  bool eof;            /* RCV.NXT passed the peer's FIN */
  uint32_t rcv_wnd_adv; /* window last advertised (bytes) */
  uint64_t oow_ack_at;  /* last ACK sent for an unacceptable bare ACK */

  /* Negotiated in the handshake (RFC 7323, RFC 2018). */
  uint32_t snd_mss;          /* payload per segment we send */
  uint8_t snd_wscale, rcv_wscale; /* shift applied to their / our window field */
  bool wscale_ok, sack_ok, ts_ok;
  uint32_t ts_recent;  /* peer's TSval to echo */
  uint32_t ts_offset;  /* random per-connection offset of our TSval clock */

  tou_sendbuf_t sb;
  tou_recvbuf_t rb;

  /* Timers: absolute times in microseconds, TOU_NEVER when unarmed. */
  uint64_t rtx_at;     /* RFC 6298 retransmission (SYN, data, FIN) or persist */
  uint64_t linger_at;  /* FIN_WAIT_2 orphan limit once the application closed */
  unsigned retries;    /* consecutive expiries without progress */
  bool rtx_resumed;    /* conn_rtx_on_path_proven() acted since SND.UNA last moved */
  tou_rtt_t rtt;       /* RFC 6298 estimator and backoff */
  bool rtt_timing;     /* timing one segment (Karn: never a retransmitted one) */
  tou_seq_t rtt_seq;
  uint64_t rtt_sent_at;

  /* Congestion control hook: the output path never has more than
   * min(cwnd, snd_wnd) in flight. */
  uint32_t cwnd, ssthresh; /* mirrors of rec.cc for tracing */
  conn_rec_t rec;          /* loss recovery, cwnd, pacing (conn_recovery.c) */

  /* Receiver: ACK policy (conn_ack.c), advertised window and autotuning
   * (rcv_window.c), timestamps and PAWS (conn_ts.c), urgent data
   * (conn_urgent.c). */
  uint64_t delack_at;      /* delayed-ACK deadline; TOU_NEVER when no ACK is held back */
  uint32_t rcv_unacked;    /* payload bytes received since our last ACK */
  uint32_t rcv_mss;        /* largest payload seen from the peer (full-sized segment) */
  unsigned quickacks;      /* data segments still acknowledged at once (slow start) */
  bool data_seen;          /* a data segment has arrived */
  uint64_t last_data_at;   /* arrival of the latest data segment */
  tou_seq_t last_ack_sent; /* RFC 7323 Last.ACK.sent */
  tou_seq_t rcv_adv;       /* right edge last advertised: RCV.NXT + RCV.WND when sent */
  uint64_t ts_recent_at;   /* when ts_recent was last updated (PAWS 24-day rule) */
  uint64_t tune_at;        /* autotuning: start of the current measurement */
  uint64_t tune_copied;    /* bytes the application has read, in total */
  uint64_t tune_copied_at; /* ... when the measurement started */
  uint64_t tune_space;     /* largest amount read in one measurement (one RTT) */
  uint64_t rcv_rtt_us;     /* receiver RTT estimate from timestamp echoes, 0 = none */
  bool rcv_urg, snd_urg;   /* rcv_up / snd_up valid */
  tou_seq_t rcv_up;        /* RCV.UP: sequence number just past the peer's urgent data */
  tou_seq_t snd_up;        /* SND.UP: sequence number just past our urgent data */

  tou_conn_info_t stats; /* counters exposed through tou_conn_get_info */
  tou_live_t live;       /* keepalive, user timeout, link probe (liveness.h) */
};

/* conn.c */
tou_conn_t *conn_new(tou_ep_t *ep, uint64_t now, const tou_addr_t *peer, bool passive);
void conn_destroy(tou_conn_t *c); /* unlinks everything and frees */
void conn_set_state(tou_conn_t *c, uint64_t now, tou_state_t st);
void conn_raise(tou_conn_t *c, unsigned events);
void conn_want_output(tou_conn_t *c);
/* Ends the connection: CLOSED, error recorded, CLOSED event, freed once
 * the application has released it. */
void conn_finish(tou_conn_t *c, uint64_t now, int error);
static inline bool conn_synchronized(const tou_conn_t *c) {
  return c->state >= TOU_ESTABLISHED && c->state <= TOU_TIME_WAIT;
}
uint32_t conn_window_to_advertise(const tou_conn_t *c);
/* The window field of a non-SYN segment: scaled, clamped to 16 bits. */
uint16_t conn_window_field(const tou_conn_t *c);

/* conn_open.c */
void conn_start_active(tou_conn_t *c, uint64_t now);
void conn_start_passive(tou_conn_t *c, uint64_t now, const tou_segment_t *syn);
void conn_syn_sent_input(tou_conn_t *c, uint64_t now, const tou_segment_t *seg);
void conn_syn_rcvd_retransmitted_syn(tou_conn_t *c, const tou_segment_t *seg);
/* A version reject already matched to this SYN-SENT connection by the
 * endpoint (cids and address, PROTOCOL.md 6). Returns true when it ended
 * the connect, false when the reject is ignored. */
bool conn_syn_sent_version_reject(tou_conn_t *c, uint64_t now, const tou_version_reject_t *vr);
bool conn_established(tou_conn_t *c, uint64_t now);
void conn_set_options(tou_conn_t *c, tou_options_t *o, uint64_t now, bool syn);
/* Payload bytes a segment carrying options o may hold: SND.MSS minus the
 * option bytes encoded in it (RFC 9293 3.7.1, RFC 6691), so the datagram
 * never exceeds TOU_WIRE_HEADER_LEN + SND.MSS. */
size_t conn_payload_budget(const tou_conn_t *c, const tou_options_t *o);
/* The budget of the next data segment before its options are written: its
 * options are bounded by timestamps plus the SACK blocks that could go
 * (never less than the real budget). A "full-sized segment" for Nagle,
 * SWS avoidance and TLP is one of this size. */
size_t conn_data_payload_budget(const tou_conn_t *c);
/* SMSS for congestion control, pacing and loss recovery (RFC 5681: the
 * largest segment the sender can transmit, headers and options
 * excluded): SND.MSS less the options every data segment carries
 * (timestamps, RFC 6691). SACK blocks come and go and are not deducted:
 * a segment shrunk by them still counts as one. */
uint32_t conn_smss(const tou_conn_t *c);

/* conn_close.c */
void conn_shutdown_send(tou_conn_t *c, uint64_t now);
void conn_on_fin_acked(tou_conn_t *c, uint64_t now);
void conn_on_fin_received(tou_conn_t *c, uint64_t now);
void conn_send_rst(tou_conn_t *c);
void conn_on_rst(tou_conn_t *c, uint64_t now);
void conn_enter_time_wait(tou_conn_t *c, uint64_t now, bool ack_their_fin);
void conn_return_to_listen(tou_conn_t *c, uint64_t now);
void conn_abort_unaccepted(tou_conn_t *c);
bool conn_fin_acked(const tou_conn_t *c);

/* conn_input.c */
void conn_input(tou_conn_t *c, uint64_t now, const tou_segment_t *seg);
void conn_challenge_ack(tou_conn_t *c, uint64_t now);
void conn_syn_text_input(tou_conn_t *c, uint64_t now, const tou_segment_t *synack);

/* conn_output.c */
/* The next segment c wants to send now, with at most payload_cap payload
 * bytes. The payload stays in the send buffer: *pieces says where (two
 * pieces across the ring's wrap point; seg->payload is the first piece,
 * seg->payload_len the whole length). False when nothing is due. */
bool conn_next_segment(tou_conn_t *c, uint64_t now, tou_segment_t *seg, size_t payload_cap,
                       tou_payload_ref_t *pieces);

/* conn_ack.c: when an ACK goes (RFC 9293 3.8.6.3, RFC 5681 4.2) */
void conn_ack_init(tou_conn_t *c);
/* In-window data of len bytes was taken; out_of_order: it left a hole
 * before it (or could not be stored); filled_hole: it (partly) filled one. */
void conn_ack_on_data(tou_conn_t *c, uint64_t now, size_t len, bool out_of_order,
                      bool filled_hole);
/* Something other than data wants an ACK at once (duplicate, FIN, window). */
void conn_ack_now(tou_conn_t *c);
/* A segment carrying ACK = RCV.NXT and the window is being sent. */
void conn_ack_on_sent(tou_conn_t *c, uint64_t now, uint32_t wnd_advertised);
uint64_t conn_ack_deadline(const tou_conn_t *c);
void conn_ack_on_timer(tou_conn_t *c, uint64_t now);

/* rcv_window.c: the advertised window (RFC 9293 3.8.6.2.2, RFC 7323 2)
 * and receive-buffer autotuning. */
void conn_rcv_init(tou_conn_t *c);
/* The receive buffer a connection starts with (recv_buffer_initial, within
 * [mss, recv_buffer]); a cookie SYN-ACK offers it too. */
uint32_t rcv_initial_buffer(const tou_config_t *cfg);
/* The application read n bytes: autotuning, window update if it opened. */
void conn_rcv_on_read(tou_conn_t *c, uint64_t now, size_t n);
/* A data segment arrived (receiver RTT sample from its timestamp echo). */
void conn_rcv_on_data(tou_conn_t *c, uint64_t now, const tou_segment_t *seg);

/* conn_ts.c: timestamps (RFC 7323 4.3, 5) */
/* RFC 7323 5.3 R1: true when seg must be dropped as an old duplicate (PAWS). */
bool conn_paws_reject(tou_conn_t *c, uint64_t now, const tou_segment_t *seg);
/* RFC 7323 4.3: remember seg's TSval to echo, if it is the one to echo. */
void conn_ts_update_recent(tou_conn_t *c, uint64_t now, const tou_segment_t *seg);

/* conn_urgent.c: urgent pointer (RFC 9293 3.8.5) */
void conn_urgent_input(tou_conn_t *c, const tou_segment_t *seg);
void conn_urgent_output(tou_conn_t *c, tou_segment_t *seg);

/* conn_timers.c */
uint64_t conn_deadline(const tou_conn_t *c);
void conn_on_timer(tou_conn_t *c, uint64_t now);
void conn_arm_rtx(tou_conn_t *c, uint64_t now);
void conn_stop_rtx(tou_conn_t *c);
void conn_rtt_sample(tou_conn_t *c, uint64_t now, uint64_t rtt_us);
void conn_on_new_ack(tou_conn_t *c, uint64_t now, uint32_t acked);
/* A link-probe exchange just proved that both directions work
 * (liveness.c): a backed-off retransmission timer stops waiting. */
void conn_rtx_on_path_proven(tou_conn_t *c, uint64_t now);
void conn_arm_linger(tou_conn_t *c, uint64_t now);

#endif

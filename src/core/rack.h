/* Loss detection and recovery episodes: RACK-TLP (RFC 8985) when the peer
 * negotiated SACK, NewReno's three duplicate ACKs (RFC 5681 3.2, RFC 6582)
 * when it did not, and RFC 8985 6.3's marking on RTO.
 *
 * It reads facts from the scoreboard (tou_sb_on_ack's result), marks
 * segments lost in it, and tells the caller what congestion control must
 * hear (tou_rack_ack_t). It owns the recovery point ("recover", RFC 6582):
 * one congestion response per episode, the episode ending when snd_una
 * reaches the recovery point. Timers are returned as absolute deadlines; the
 * connection arms them and calls back when they pass:
 *   - reorder timer (RFC 8985 6.2 step 5): tou_rack_on_reorder_timer()
 *   - probe timeout (RFC 8985 7.2):       tou_rack_on_pto()
 * RACK only runs with SACK: without SACK a cumulative ACK says nothing about
 * segments above the hole, and RACK would mark them all lost at once. */
#ifndef TOU_CORE_RACK_H
#define TOU_CORE_RACK_H

#include <stdbool.h>
#include <stdint.h>

#include "scoreboard.h"

#define TOU_RACK_DUPTHRESH 3u
/* RFC 8985 7.2: worst-case delayed-ACK time added to a lone segment's PTO. */
#define TOU_RACK_WCDELACK_US 200000u
/* RFC 8985 6.2 step 4: rounds a DSACK-widened reordering window persists. */
#define TOU_RACK_REO_WND_PERSIST 16u

typedef enum tou_recovery_state {
  TOU_RECOVERY_OPEN = 0, /* no loss being repaired */
  TOU_RECOVERY_FAST,     /* RACK or duplicate-ACK loss: one cwnd reduction */
  TOU_RECOVERY_RTO,      /* after a retransmission timeout: slow start */
} tou_recovery_state_t;

typedef struct tou_rack {
  bool sack;            /* peer negotiated SACK */
  /* RACK state (RFC 8985 6.1). */
  bool valid;
  uint64_t xmit_us;     /* RACK.xmit_ts */
  tou_seq_t end_seq;    /* RACK.end_seq */
  uint64_t rtt_us;      /* RACK.rtt */
  bool reordering_seen;
  uint32_t reo_wnd_mult;
  uint32_t reo_wnd_persist;
  bool dsack_round_valid;
  tou_seq_t dsack_round;
  uint64_t reo_deadline; /* reorder timer; UINT64_MAX when not armed */
  /* Recovery episode. */
  tou_recovery_state_t state;
  tou_seq_t recover;    /* RFC 6582 "recover" */
  bool recover_valid;
  uint32_t dupacks;
  uint64_t episode_us;  /* when the current fast recovery began */
  uint32_t lost_retrans; /* retransmissions found lost by the last detection */
  /* Tail loss probe (RFC 8985 7). */
  bool tlp_pending;     /* TLP.end_seq is set */
  tou_seq_t tlp_end_seq;
  bool tlp_is_retrans;
  uint64_t tlp_probes;  /* statistics */
} tou_rack_t;

/* What an ACK means for congestion control. */
typedef struct tou_rack_ack {
  bool congestion_event;   /* entered fast recovery: reduce once, then recovery */
  bool recovery_exit;      /* the episode ended: recovery point reached, or restarted
                            * because a retransmission was lost (handled before a new event) */
  bool tlp_loss_repaired;  /* a TLP retransmission repaired a loss: reduce, no recovery */
  uint32_t newly_lost;   /* segments marked lost by this ACK */
} tou_rack_ack_t;

void tou_rack_init(tou_rack_t *r, bool sack);

/* Processes the scoreboard's result for one ACK (already applied with
 * tou_sb_on_ack). is_dupack: RFC 5681 duplicate ACK (ack == snd_una, no
 * data, no SYN/FIN, same window, data outstanding) — only used without SACK.
 * srtt/min_rtt come from rtt.c after this ACK's sample. */
void tou_rack_on_ack(tou_rack_t *r, tou_scoreboard_t *sb, const tou_sb_ack_t *a,
                     bool is_dupack, uint64_t srtt_us, uint64_t min_rtt_us, uint64_t now,
                     tou_rack_ack_t *out);

/* True when tou_rack_on_ack() would change nothing and report nothing for
 * an ACK that acknowledges, SACKs and DSACKs nothing, is no duplicate ACK,
 * and finds the scoreboard empty: no episode, no pending probe or DSACK
 * round, no reordering timer. Lets the receiving side of a one-way
 * transfer skip the ACK machinery for every data segment. */
bool tou_rack_idle(const tou_rack_t *r);

/* RFC 8985 6.2 step 4: the current reordering window. */
uint64_t tou_rack_reo_wnd(const tou_rack_t *r, const tou_scoreboard_t *sb, uint64_t srtt_us,
                          uint64_t min_rtt_us);

/* RFC 8985 6.2 step 5: marks segments lost whose time is up; arms or
 * disarms the reorder timer. Returns the number newly marked. */
uint32_t tou_rack_detect_loss(tou_rack_t *r, tou_scoreboard_t *sb, uint64_t srtt_us,
                              uint64_t min_rtt_us, uint64_t now);

/* The reorder timer fired. Like an ACK without new information: may mark
 * losses and start a recovery episode (out->congestion_event). */
void tou_rack_on_reorder_timer(tou_rack_t *r, tou_scoreboard_t *sb, uint64_t srtt_us,
                               uint64_t min_rtt_us, uint64_t now, tou_rack_ack_t *out);

/* RFC 8985 7.2: when the probe timeout should fire, or UINT64_MAX when no
 * TLP is allowed now (no SACK, recovery, a probe outstanding, nothing in
 * flight). rto_deadline: the RTO timer's absolute expiry; a PTO that would
 * come later is moved to it (the probe then replaces that RTO). Call after
 * sending new data and after ACKs of new data. */
uint64_t tou_rack_pto_deadline(const tou_rack_t *r, const tou_scoreboard_t *sb,
                               uint64_t srtt_us, uint64_t rto_deadline, uint64_t now);

typedef enum tou_tlp_action {
  TOU_TLP_NONE = 0,
  TOU_TLP_SEND_NEW,        /* send one new segment (up to 1 MSS) */
  TOU_TLP_RETRANSMIT_LAST, /* retransmit the highest-sequence outstanding segment */
} tou_tlp_action_t;

/* The PTO fired (RFC 8985 7.3). new_data_ok: the connection has unsent
 * data and the peer's window allows a segment. Returns what to send; the
 * caller sends it, then calls tou_rack_tlp_sent() and re-arms the RTO. */
tou_tlp_action_t tou_rack_on_pto(tou_rack_t *r, const tou_scoreboard_t *sb, bool new_data_ok);
void tou_rack_tlp_sent(tou_rack_t *r, const tou_scoreboard_t *sb, bool is_retrans);

/* RFC 8985 6.3 on RTO: the first unacknowledged segment and every segment
 * whose RACK time is up are marked lost; the episode becomes an RTO
 * recovery ending at snd_nxt. The caller retransmits ONE segment
 * (tou_sb_next_lost) and lets cwnd (1 SMSS after tou_cc_on_rto) pace the
 * rest. Returns the number newly marked. */
uint32_t tou_rack_on_rto(tou_rack_t *r, tou_scoreboard_t *sb, uint64_t srtt_us,
                         uint64_t min_rtt_us, uint64_t now);

/* The RTO or fast recovery under way was spurious (undo.h): back to the
 * open state, the recovery point kept (RFC 6582: no new episode for
 * what was sent before it). */
void tou_rack_undo(tou_rack_t *r);

#endif

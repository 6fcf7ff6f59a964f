/* Liveness of one connection: is the peer still there, and does the path
 * work both ways? Three mechanisms, one file each:
 *   keepalive.c     TCP-style keepalive (RFC 1122 4.2.3.6): after keepalive_idle
 *                   of silence with nothing outstanding, up to keepalive_cnt
 *                   probes keepalive_intvl apart; unanswered, the connection
 *                   ends with TOU_ERR_TIMEDOUT.
 *   user_timeout.c  RFC 5482: data unacknowledged for user_timeout ends the
 *                   connection with TOU_ERR_TIMEDOUT.
 *   link_probe.c    the "can you hear me?" exchange (link_probe.h), started
 *                   when nothing has been heard for link_probe_idle while an
 *                   answer is expected, or by tou_conn_probe_now().
 * liveness.c ties them to the connection: what was heard when, the timer,
 * the probe and keepalive segments, TOU_EV_LINK. A silent link never ends
 * the connection by itself; only the user timeout or keepalive do. */
#ifndef TOU_CORE_LIVENESS_H
#define TOU_CORE_LIVENESS_H

#include <stdbool.h>
#include <stdint.h>

#include "core.h"
#include "link_probe.h"

typedef struct tou_live {
  /* Settings (from tou_config_t, overridden by tou_conn_set_*). */
  bool ka_on;
  uint64_t ka_idle, ka_intvl;
  unsigned ka_cnt;
  uint64_t user_timeout;
  uint64_t probe_idle;
  link_probe_cfg_t probe_cfg;

  uint64_t last_heard; /* last segment of the connection from the peer */

  /* Outstanding data: since when SND.UNA has not moved (TOU_NEVER when
   * nothing is outstanding). Drives the user timeout and the probe trigger. */
  tou_seq_t una_seen;
  uint64_t una_since;

  /* Link probe evidence from ACKs: SND.UNA before this segment, and
   * SND.MAX when the link last went silent (data beyond it was sent after). */
  tou_seq_t una_before, silent_snd_max;

  /* Keepalive. */
  unsigned ka_unanswered; /* probes sent since the peer was last heard */
  uint64_t ka_last_sent;
  bool ka_due;
  uint64_t ka_sent;

  link_probe_t probe;

  /* RFC 5482 User Timeout Option (user_timeout.c). */
  uint64_t uto_adv;     /* ADV_UTO: the timeout we announce (0: none) */
  uint64_t uto_peer;    /* REMOTE_UTO: the peer's latest announcement (0: none) */
  bool uto_changeable;  /* CHANGEABLE: no explicit per-connection setting yet */
  bool uto_pending;     /* the option rides on our segments until delivered */
  bool uto_in_flight;   /* a segment carrying it took sequence space up to uto_end */
  tou_seq_t uto_end;
  uint8_t uto_bare;     /* segments without sequence space that carried it */
  bool uto_on_syn;      /* the SYN (or SYN-ACK) carried it: once more after it */
} tou_live_t;

/* Hooks for the connection (conn.c, conn_input.c, conn_output.c,
 * conn_timers.c). */
void conn_live_init(tou_conn_t *c, uint64_t now);
/* Every segment delivered to c. Returns false when it was a probe segment,
 * which is handled here only (never as an ACK: a probe is not a duplicate
 * ACK for loss detection). */
bool conn_live_on_input(tou_conn_t *c, uint64_t now, const tou_segment_t *seg);
void conn_live_after_input(tou_conn_t *c, uint64_t now);
uint64_t conn_live_deadline(const tou_conn_t *c);
void conn_live_on_timer(tou_conn_t *c, uint64_t now);
/* A probe or keepalive segment due now: fills seg, returns true. */
bool conn_live_next_segment(tou_conn_t *c, uint64_t now, tou_segment_t *seg);

/* Internal to the liveness files. */
bool live_active(const tou_conn_t *c);
void live_track_outstanding(tou_conn_t *c, uint64_t now);
uint64_t keepalive_deadline(const tou_conn_t *c);
/* Returns false when the connection ended. */
bool keepalive_on_timer(tou_conn_t *c, uint64_t now);
void keepalive_heard(tou_conn_t *c);
void keepalive_build(tou_conn_t *c, uint64_t now, tou_segment_t *seg);
uint64_t user_timeout_deadline(const tou_conn_t *c);
/* Returns false when the connection ended. */
bool user_timeout_on_timer(tou_conn_t *c, uint64_t now);
void uto_init(tou_conn_t *c);

/* RFC 5482 User Timeout Option, for the rest of the connection. Adds the
 * option to o while it is being announced (SYN, SYN-ACK, and after an
 * explicit change, until delivered). */
void conn_uto_option(tou_conn_t *c, tou_options_t *o);
/* seg, built with conn_uto_option(), is being sent. */
void conn_uto_on_sent(tou_conn_t *c, const tou_segment_t *seg);
/* An acceptable segment (or the peer's SYN) carrying the option. */
void conn_uto_input(tou_conn_t *c, const tou_segment_t *seg);

#endif

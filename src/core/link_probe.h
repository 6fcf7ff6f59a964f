/* The "can you hear me?" link probe of one connection (docs/PROTOCOL.md
 * 5.5 and 5.6): a three-message exchange by which each side learns whether
 * it hears the peer and whether the peer hears it.
 *
 *   prober                         peer
 *   ASK    nonce Na          -->   hears the prober
 *          <--   ANSWER echo Na, nonce Nb
 *   hears and is heard
 *   CONFIRM echo Nb          -->   is heard
 *
 * No ANSWER within `timeout` of the first ASK (sent up to three times,
 * timeout/3 apart, against random loss) makes the prober's link SILENT; no
 * CONFIRM within `timeout` of an ANSWER makes the peer's link SILENT with
 * the outbound direction failing. While SILENT a fresh ASK goes out on an
 * exponential backoff, like TCP's retransmissions: first max(timeout,
 * min_gap) after the link went silent, each wait then twice the previous,
 * capped at `retry`; reset when the link comes back. Evidence that the path
 * works again (the peer heard again after hearing nothing, our data
 * acknowledged, an ANSWER whose CONFIRM never came) starts a fresh ASK at
 * once (rate-limited by min_gap, one exchange in flight at a time). The
 * first complete exchange makes the link BACK, and so does an ACK of data
 * sent after the silence began (link_probe_acked): both prove we hear and
 * are heard. Nonces come from
 * the endpoint's random source, so an ANSWER or CONFIRM cannot be forged
 * without seeing the ASK or ANSWER. Pure state: the caller sends what
 * link_probe_take() hands out and reports what arrives. */
#ifndef TOU_CORE_LINK_PROBE_H
#define TOU_CORE_LINK_PROBE_H

#include <stdbool.h>
#include <stdint.h>

#include "core.h"
#include "rng.h"

#define TOU_PROBE_ASK_SENDS 3

typedef struct link_probe_cfg {
  uint64_t timeout, min_gap;
  uint64_t retry; /* the cap of the retry backoff while SILENT */
} link_probe_cfg_t;

typedef struct link_probe {
  tou_link_status_t state;
  tou_path_t inbound, outbound;
  uint64_t silent_since;

  /* Our ASK (prober side). */
  bool ask_out;          /* waiting for its ANSWER */
  bool ask_due;          /* an ASK (new or repeated) must be sent */
  unsigned ask_sends;    /* transmissions of the current ASK */
  uint64_t ask_nonce;    /* 0: none yet */
  uint64_t ask_first_at, ask_resend_at, ask_deadline;
  uint64_t last_ask_at;  /* TOU_NEVER before the first */
  bool heard_since_ask;

  /* Our ANSWER (peer side). */
  bool answer_out;       /* waiting for its CONFIRM */
  bool answer_due;
  uint64_t answer_nonce, answered_ask; /* ours, and the ASK nonce it echoes */
  uint64_t answer_deadline;
  uint64_t last_answer_at;

  bool confirm_due;
  uint64_t confirm_echo;

  uint64_t retry_at;     /* while SILENT: the next ASK */
  uint64_t retry_gap;    /* while SILENT: the wait that led to retry_at; doubles per retry up to cfg.retry */
  bool recheck;          /* while SILENT: evidence of healing not yet tested by an ASK */
  uint64_t recheck_at;   /* when the rate limit lets that ASK go */
  uint64_t asks_sent, answers_sent, confirms_sent, exchanges, ignored;
  uint64_t proofs;       /* times both directions were proven (any state; see both_ways) */
} link_probe_t;

void link_probe_init(link_probe_t *p);

/* Starts an exchange (a new ASK). False when one is already out or the
 * last ASK is less than min_gap old. */
bool link_probe_start(link_probe_t *p, tou_rng_t *rng, uint64_t now, const link_probe_cfg_t *cfg);

/* Something arrived from the peer (any segment of the connection). */
void link_probe_heard(link_probe_t *p, tou_rng_t *rng, uint64_t now, const link_probe_cfg_t *cfg);

/* An ACK advanced SND.UNA: the peer heard us. `after_silence`: it covers
 * data first sent after the link went silent, which proves both directions
 * work now; an ASK that hearing the peer again just started (not yet sent)
 * still goes, for the peer's sake. Returns true when the link state
 * changed. */
bool link_probe_acked(link_probe_t *p, tou_rng_t *rng, uint64_t now, const link_probe_cfg_t *cfg,
                      bool after_silence);

/* A PROBE option arrived. Returns true when the link state changed. */
bool link_probe_input(link_probe_t *p, tou_rng_t *rng, uint64_t now, const link_probe_cfg_t *cfg,
                      const tou_options_t *o);

uint64_t link_probe_deadline(const link_probe_t *p);
/* Returns true when the link state changed. */
bool link_probe_on_timer(link_probe_t *p, tou_rng_t *rng, uint64_t now, const link_probe_cfg_t *cfg);

/* A probe message is waiting to be sent. */
bool link_probe_due(const link_probe_t *p);
/* Fills the PROBE option of the next message due (CONFIRM, ANSWER, then
 * ASK) and counts it as sent at now. False when nothing is due. */
bool link_probe_take(link_probe_t *p, uint64_t now, const link_probe_cfg_t *cfg, tou_options_t *o);

#endif

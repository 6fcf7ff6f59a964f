#include "link_probe.h"

void link_probe_init(link_probe_t *p) {
  *p = (link_probe_t){.state = TOU_LS_HEARD, .inbound = TOU_PATH_WORKS,
                      .outbound = TOU_PATH_WORKS, .last_ask_at = TOU_NEVER,
                      .last_answer_at = TOU_NEVER, .retry_at = TOU_NEVER};
}

/* Never 0: 0 in the echo field means "no echo". */
static uint64_t fresh_nonce(tou_rng_t *rng) {
  uint64_t n;
  do n = rng_u64(rng);
  while (n == 0);
  return n;
}

static bool gap_ok(uint64_t last, uint64_t now, uint64_t gap) {
  return last == TOU_NEVER || now >= last + gap;
}

bool link_probe_start(link_probe_t *p, tou_rng_t *rng, uint64_t now, const link_probe_cfg_t *cfg) {
  if (p->ask_out || p->ask_due || !gap_ok(p->last_ask_at, now, cfg->min_gap)) return false;
  p->ask_nonce = fresh_nonce(rng);
  p->ask_due = true;
  p->ask_sends = 0;
  p->heard_since_ask = false;
  return true;
}

static bool set_state(link_probe_t *p, tou_link_status_t st, uint64_t now) {
  if (p->state == st) return false;
  p->state = st;
  if (st == TOU_LS_SILENT) p->silent_since = now;
  return true;
}

static uint64_t min2(uint64_t a, uint64_t b) { return a < b ? a : b; }

/* now + d, saturating: a huge configured cap must not wrap into the past. */
static uint64_t later_by(uint64_t now, uint64_t d) {
  return d >= TOU_NEVER - now ? TOU_NEVER : now + d;
}

/* The first retry of a silence: one probe timeout after the link went
 * silent (docs/PROTOCOL.md 5.6 argues the choice). An exchange lasts that
 * long, so exchanges never overlap; never sooner than the ASK rate limit;
 * never beyond the cap (a cap below the timeout keeps a fixed interval). */
static uint64_t first_retry_gap(const link_probe_cfg_t *cfg) {
  uint64_t gap = cfg->timeout > cfg->min_gap ? cfg->timeout : cfg->min_gap;
  return min2(gap, cfg->retry);
}

/* Like TCP's retransmission timer (RFC 6298 5.5): each retry that finds the
 * link still silent doubles the wait for the next, up to `retry`. */
static void retry_backoff(link_probe_t *p, uint64_t now, const link_probe_cfg_t *cfg) {
  p->retry_gap = p->retry_gap > cfg->retry / 2 ? cfg->retry : 2 * p->retry_gap;
  p->retry_at = later_by(now, p->retry_gap);
}

/* Entering SILENT starts the retry schedule afresh; a further failed
 * exchange while SILENT leaves it running. */
static bool go_silent(link_probe_t *p, uint64_t now, const link_probe_cfg_t *cfg) {
  if (p->retry_at == TOU_NEVER || p->state != TOU_LS_SILENT) {
    p->retry_gap = first_retry_gap(cfg);
    p->retry_at = later_by(now, p->retry_gap);
  }
  return set_state(p, TOU_LS_SILENT, now);
}

/* Proof that both directions work (an ANSWER to our ASK, a CONFIRM of our
 * ANSWER, an ACK of data sent after the silence began): the first one after
 * silence brings the link back. It also settles every exchange still open,
 * ours or the peer's: a missing ANSWER or CONFIRM there is older news than
 * this proof and must not time out into SILENT (a late one is still
 * accepted: the nonces stay). */
static bool both_ways(link_probe_t *p, uint64_t now) {
  p->proofs++;
  p->ask_out = p->ask_due = p->answer_out = false;
  p->inbound = p->outbound = TOU_PATH_WORKS;
  p->retry_at = TOU_NEVER; /* the next silence starts the backoff afresh */
  p->recheck = false;
  return p->state == TOU_LS_SILENT ? set_state(p, TOU_LS_BACK, now) : false;
}

/* No exchange of ours or theirs in flight: a fresh ASK may go out without
 * two exchanges overlapping. */
static bool idle_exchange(const link_probe_t *p) {
  return !p->ask_out && !p->ask_due && !p->answer_out && !p->answer_due;
}

/* While SILENT, test pending evidence of healing with a fresh ASK as soon
 * as no exchange is in flight and the rate limit allows; otherwise the
 * deadline (link_probe_deadline) or the end of the exchange in flight
 * comes back here. */
static void recheck(link_probe_t *p, tou_rng_t *rng, uint64_t now, const link_probe_cfg_t *cfg) {
  if (!p->recheck || p->state != TOU_LS_SILENT || !idle_exchange(p)) return;
  if (link_probe_start(p, rng, now, cfg))
    p->recheck = false;
  else
    p->recheck_at = p->last_ask_at + cfg->min_gap; /* only the rate limit stops it */
}

static void evidence(link_probe_t *p, tou_rng_t *rng, uint64_t now, const link_probe_cfg_t *cfg) {
  if (p->state != TOU_LS_SILENT) return;
  p->recheck = true;
  recheck(p, rng, now, cfg);
}

void link_probe_heard(link_probe_t *p, tou_rng_t *rng, uint64_t now, const link_probe_cfg_t *cfg) {
  p->heard_since_ask = true;
  /* Hearing the peer again after hearing nothing is news: ask at once
   * rather than at the next retry, so the link comes back within a round
   * trip of the path healing. */
  if (p->state == TOU_LS_SILENT && p->inbound != TOU_PATH_WORKS) {
    p->inbound = TOU_PATH_WORKS;
    evidence(p, rng, now, cfg);
  }
}

bool link_probe_acked(link_probe_t *p, tou_rng_t *rng, uint64_t now, const link_probe_cfg_t *cfg,
                      bool after_silence) {
  if (p->state != TOU_LS_SILENT) return false;
  /* Data sent after the silence began reached the peer and its ACK reached
   * us: both directions work now. An ASK that hearing the peer again has
   * just started (link_probe_heard, same segment) and that has not gone
   * out yet is kept, though: it is not an open exchange the proof settles
   * but news for the peer. A peer whose outbound direction failed cannot
   * learn from our ACKs that it is heard again (it always heard us), only
   * from an exchange; without this ASK it stays SILENT until its own
   * retry, up to link_probe_retry later, instead of a round trip. */
  if (after_silence) {
    bool fresh_ask = p->ask_due && !p->ask_out;
    bool changed = both_ways(p, now);
    p->ask_due = fresh_ask;
    return changed;
  }
  /* Older data acknowledged: the peer heard us at some point; ask. */
  if (p->outbound != TOU_PATH_WORKS) evidence(p, rng, now, cfg);
  return false;
}

static void on_ask(link_probe_t *p, tou_rng_t *rng, uint64_t now, const link_probe_cfg_t *cfg,
                   uint64_t their_nonce) {
  /* Hearing an ASK after hearing nothing is evidence of healing like any
   * segment; our own ASK waits for the end of this exchange (recheck): a
   * CONFIRM makes the link BACK, a lost one leads to our ASK. */
  if (p->state == TOU_LS_SILENT && p->inbound != TOU_PATH_WORKS) p->recheck = true;
  p->inbound = TOU_PATH_WORKS;
  if (their_nonce == 0 || !gap_ok(p->last_answer_at, now, cfg->min_gap)) {
    p->ignored++; /* rate limit: a flood of ASKs gets one ANSWER per min_gap */
    recheck(p, rng, now, cfg);
    return;
  }
  /* A repeated ASK of the same exchange gets the same ANSWER nonce, so a
   * CONFIRM of any of our answers to it counts. */
  if (their_nonce != p->answered_ask || p->answer_nonce == 0) {
    p->answered_ask = their_nonce;
    p->answer_nonce = fresh_nonce(rng);
  }
  p->answer_due = true;
}

static bool on_answer(link_probe_t *p, uint64_t now, uint64_t echo, uint64_t their_nonce) {
  if (p->ask_nonce == 0 || echo != p->ask_nonce || their_nonce == 0) {
    p->ignored++;
    return false;
  }
  /* A late ANSWER (after the timeout) still proves the round trip. */
  p->ask_out = p->ask_due = false;
  p->ask_nonce = 0; /* one CONFIRM per exchange */
  p->exchanges++;
  p->confirm_due = true;
  p->confirm_echo = their_nonce;
  return both_ways(p, now);
}

static bool on_confirm(link_probe_t *p, uint64_t now, uint64_t echo) {
  if (p->answer_nonce == 0 || echo != p->answer_nonce) {
    p->ignored++;
    return false;
  }
  p->answer_out = p->answer_due = false;
  p->answer_nonce = 0;
  return both_ways(p, now);
}

bool link_probe_input(link_probe_t *p, tou_rng_t *rng, uint64_t now, const link_probe_cfg_t *cfg,
                      const tou_options_t *o) {
  switch (o->probe_phase) {
    case TOU_PROBE_ASK:
      on_ask(p, rng, now, cfg, o->probe_nonce);
      return false;
    case TOU_PROBE_ANSWER:
      return on_answer(p, now, o->probe_echo, o->probe_nonce);
    case TOU_PROBE_CONFIRM:
      return on_confirm(p, now, o->probe_echo);
    default:
      p->ignored++;
      return false;
  }
}

uint64_t link_probe_deadline(const link_probe_t *p) {
  uint64_t d = TOU_NEVER;
  if (p->ask_out) {
    d = p->ask_deadline;
    /* While a repeat is due the output path, not the timer, acts. */
    if (p->ask_sends < TOU_PROBE_ASK_SENDS && !p->ask_due) d = min2(d, p->ask_resend_at);
  }
  if (p->answer_out) d = min2(d, p->answer_deadline);
  if (p->state == TOU_LS_SILENT) d = min2(d, p->retry_at);
  if (p->recheck && p->state == TOU_LS_SILENT && idle_exchange(p))
    d = min2(d, p->recheck_at);
  return d;
}

bool link_probe_on_timer(link_probe_t *p, tou_rng_t *rng, uint64_t now, const link_probe_cfg_t *cfg) {
  bool changed = false;
  if (p->ask_out && now >= p->ask_deadline) {
    /* No ANSWER. If other segments arrived meanwhile we hear the peer and
     * it is our side that is not heard; if nothing did, we know only that
     * nothing comes back. */
    p->ask_out = p->ask_due = false;
    p->inbound = p->heard_since_ask ? TOU_PATH_WORKS : TOU_PATH_FAILS;
    p->outbound = p->heard_since_ask ? TOU_PATH_FAILS : TOU_PATH_UNKNOWN;
    changed |= go_silent(p, now, cfg);
  } else if (p->ask_out && p->ask_sends < TOU_PROBE_ASK_SENDS && now >= p->ask_resend_at) {
    p->ask_due = true; /* the same ASK again, against random loss */
  }
  if (p->answer_out && now >= p->answer_deadline) {
    /* We heard the ASK, the prober never confirmed our ANSWER. */
    p->answer_out = false;
    p->inbound = TOU_PATH_WORKS;
    p->outbound = TOU_PATH_FAILS;
    changed |= go_silent(p, now, cfg);
  }
  /* A CONFIRM lost after we answered while SILENT, or evidence that came
   * while our ASK was out: test it now. */
  recheck(p, rng, now, cfg);
  if (p->state == TOU_LS_SILENT && now >= p->retry_at) {
    /* An ASK of ours already out, or sent less than min_gap ago, tests
     * the path as this retry would: then the retry is skipped, and the
     * backoff goes on all the same. */
    retry_backoff(p, now, cfg);
    link_probe_start(p, rng, now, cfg);
  }
  return changed;
}

bool link_probe_due(const link_probe_t *p) { return p->confirm_due || p->answer_due || p->ask_due; }

bool link_probe_take(link_probe_t *p, uint64_t now, const link_probe_cfg_t *cfg, tou_options_t *o) {
  o->present |= TOU_OPT_PROBE;
  if (p->confirm_due) {
    p->confirm_due = false;
    o->probe_phase = TOU_PROBE_CONFIRM;
    o->probe_nonce = 0;
    o->probe_echo = p->confirm_echo;
    p->confirms_sent++;
    return true;
  }
  if (p->answer_due) {
    p->answer_due = false;
    o->probe_phase = TOU_PROBE_ANSWER;
    o->probe_nonce = p->answer_nonce;
    o->probe_echo = p->answered_ask;
    p->answer_out = true;
    p->answer_deadline = now + cfg->timeout;
    p->last_answer_at = now;
    p->answers_sent++;
    return true;
  }
  if (p->ask_due) {
    p->ask_due = false;
    o->probe_phase = TOU_PROBE_ASK;
    o->probe_nonce = p->ask_nonce;
    o->probe_echo = 0;
    if (!p->ask_out) {
      p->ask_out = true;
      p->ask_first_at = now;
      p->ask_deadline = now + cfg->timeout;
    }
    p->ask_sends++;
    p->ask_resend_at = p->ask_first_at + p->ask_sends * (cfg->timeout / TOU_PROBE_ASK_SENDS);
    p->last_ask_at = now;
    p->asks_sent++;
    return true;
  }
  o->present &= ~(uint32_t)TOU_OPT_PROBE;
  return false;
}

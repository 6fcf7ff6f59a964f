/* The link-probe exchange (link_probe.h) on its own: two state machines
 * wired back to back by hand, with explicit times. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "link_probe.h"

#define SEC 1000000ull
#define MS 1000ull

static const link_probe_cfg_t cfg = {.timeout = 5 * SEC, .retry = 60 * SEC, .min_gap = 1 * SEC};

typedef struct duo {
  tou_rng_t rng;
  link_probe_t a, b;
} duo_t;

static void duo_init(duo_t *d) {
  static const uint8_t seed[TOU_RNG_SEED_LEN] = {9};
  assert_int_equal(rng_init(&d->rng, seed), 0);
  link_probe_init(&d->a);
  link_probe_init(&d->b);
}

/* Takes the next message from `from` (must exist) and returns its option. */
static tou_options_t take(link_probe_t *from, uint64_t now) {
  tou_options_t o;
  memset(&o, 0, sizeof o);
  assert_true(link_probe_take(from, now, &cfg, &o));
  assert_true(o.present & TOU_OPT_PROBE);
  return o;
}

static void full_exchange(void **state) {
  (void)state;
  duo_t d;
  duo_init(&d);
  assert_true(link_probe_start(&d.a, &d.rng, 0, &cfg));
  assert_false(link_probe_start(&d.a, &d.rng, 0, &cfg)); /* one at a time */
  tou_options_t ask = take(&d.a, 0);
  assert_int_equal(ask.probe_phase, TOU_PROBE_ASK);
  assert_int_not_equal(ask.probe_nonce, 0);
  assert_int_equal(ask.probe_echo, 0);
  assert_false(link_probe_input(&d.b, &d.rng, 10 * MS, &cfg, &ask));
  tou_options_t ans = take(&d.b, 10 * MS);
  assert_int_equal(ans.probe_phase, TOU_PROBE_ANSWER);
  assert_int_equal(ans.probe_echo, ask.probe_nonce);
  assert_int_not_equal(ans.probe_nonce, ask.probe_nonce);
  assert_false(link_probe_input(&d.a, &d.rng, 20 * MS, &cfg, &ans));
  tou_options_t conf = take(&d.a, 20 * MS);
  assert_int_equal(conf.probe_phase, TOU_PROBE_CONFIRM);
  assert_int_equal(conf.probe_echo, ans.probe_nonce);
  assert_false(link_probe_due(&d.a));
  assert_false(link_probe_input(&d.b, &d.rng, 30 * MS, &cfg, &conf));
  assert_int_equal(link_probe_deadline(&d.a), TOU_NEVER);
  assert_int_equal(link_probe_deadline(&d.b), TOU_NEVER);
  assert_int_equal(d.a.exchanges, 1);
  assert_int_equal(d.a.state, TOU_LS_HEARD);
  assert_int_equal(d.b.state, TOU_LS_HEARD);
  /* The same ANSWER again: no second CONFIRM. */
  assert_false(link_probe_input(&d.a, &d.rng, 40 * MS, &cfg, &ans));
  assert_false(link_probe_due(&d.a));
}

static void unanswered_ask_repeats_then_silent(void **state) {
  (void)state;
  duo_t d;
  duo_init(&d);
  link_probe_start(&d.a, &d.rng, 100 * SEC, &cfg);
  tou_options_t ask = take(&d.a, 100 * SEC);
  uint64_t t1 = 100 * SEC + cfg.timeout / 3, t2 = 100 * SEC + 2 * (cfg.timeout / 3);
  assert_int_equal(link_probe_deadline(&d.a), t1);
  assert_false(link_probe_on_timer(&d.a, &d.rng, t1, &cfg));
  tou_options_t again = take(&d.a, t1);
  assert_int_equal(again.probe_nonce, ask.probe_nonce);
  assert_int_equal(link_probe_deadline(&d.a), t2);
  link_probe_on_timer(&d.a, &d.rng, t2, &cfg);
  take(&d.a, t2);
  assert_int_equal(link_probe_deadline(&d.a), 105 * SEC);
  assert_true(link_probe_on_timer(&d.a, &d.rng, 105 * SEC, &cfg));
  assert_int_equal(d.a.state, TOU_LS_SILENT);
  assert_int_equal(d.a.inbound, TOU_PATH_FAILS);
  assert_int_equal(d.a.outbound, TOU_PATH_UNKNOWN);
  /* The first retry one probe timeout later: a new ASK, new nonce. */
  assert_int_equal(link_probe_deadline(&d.a), 110 * SEC);
  assert_false(link_probe_on_timer(&d.a, &d.rng, 110 * SEC, &cfg));
  tou_options_t retry = take(&d.a, 110 * SEC);
  assert_int_equal(retry.probe_phase, TOU_PROBE_ASK);
  assert_int_not_equal(retry.probe_nonce, ask.probe_nonce);
  /* An ANSWER to the retry brings the link back. */
  link_probe_input(&d.b, &d.rng, 110 * SEC, &cfg, &retry);
  tou_options_t ans = take(&d.b, 110 * SEC);
  assert_true(link_probe_input(&d.a, &d.rng, 111 * SEC, &cfg, &ans));
  assert_int_equal(d.a.state, TOU_LS_BACK);
  assert_int_equal(d.a.inbound, TOU_PATH_WORKS);
  assert_int_equal(d.a.outbound, TOU_PATH_WORKS);
}

static void heard_meanwhile_means_not_heard(void **state) {
  (void)state;
  duo_t d;
  duo_init(&d);
  link_probe_start(&d.a, &d.rng, 0, &cfg);
  take(&d.a, 0);
  link_probe_heard(&d.a, &d.rng, 2 * SEC, &cfg);
  link_probe_on_timer(&d.a, &d.rng, cfg.timeout / 3, &cfg);
  take(&d.a, cfg.timeout / 3);
  link_probe_on_timer(&d.a, &d.rng, 2 * (cfg.timeout / 3), &cfg);
  take(&d.a, 2 * (cfg.timeout / 3));
  assert_true(link_probe_on_timer(&d.a, &d.rng, 5 * SEC, &cfg));
  assert_int_equal(d.a.inbound, TOU_PATH_WORKS);
  assert_int_equal(d.a.outbound, TOU_PATH_FAILS);
}

static void unconfirmed_answer_and_forgeries(void **state) {
  (void)state;
  duo_t d;
  duo_init(&d);
  tou_options_t ask = {.present = TOU_OPT_PROBE, .probe_phase = TOU_PROBE_ASK, .probe_nonce = 77};
  link_probe_input(&d.b, &d.rng, 0, &cfg, &ask);
  tou_options_t ans = take(&d.b, 0);
  /* Rate limit: the same ASK 0.5 s later gets no answer; 1 s later the
   * same answer nonce. */
  link_probe_input(&d.b, &d.rng, 500 * MS, &cfg, &ask);
  assert_false(link_probe_due(&d.b));
  link_probe_input(&d.b, &d.rng, 1 * SEC, &cfg, &ask);
  tou_options_t ans2 = take(&d.b, 1 * SEC);
  assert_int_equal(ans2.probe_nonce, ans.probe_nonce);
  /* Forged CONFIRM, forged ANSWER, nonce-less ASK: ignored. */
  tou_options_t bad = {.present = TOU_OPT_PROBE, .probe_phase = TOU_PROBE_CONFIRM,
                       .probe_echo = ans.probe_nonce + 1};
  assert_false(link_probe_input(&d.b, &d.rng, 2 * SEC, &cfg, &bad));
  bad.probe_phase = TOU_PROBE_ANSWER;
  bad.probe_nonce = 5;
  assert_false(link_probe_input(&d.b, &d.rng, 2 * SEC, &cfg, &bad));
  tou_options_t empty = {.present = TOU_OPT_PROBE, .probe_phase = TOU_PROBE_ASK};
  link_probe_input(&d.b, &d.rng, 3 * SEC, &cfg, &empty);
  assert_false(link_probe_due(&d.b));
  assert_int_equal(d.b.ignored, 4);
  /* 5 s after the last ANSWER: not heard. */
  assert_int_equal(link_probe_deadline(&d.b), 6 * SEC);
  assert_true(link_probe_on_timer(&d.b, &d.rng, 6 * SEC, &cfg));
  assert_int_equal(d.b.state, TOU_LS_SILENT);
  assert_int_equal(d.b.inbound, TOU_PATH_WORKS);
  assert_int_equal(d.b.outbound, TOU_PATH_FAILS);
  /* A late CONFIRM of that answer still brings it back. */
  tou_options_t conf = {.present = TOU_OPT_PROBE, .probe_phase = TOU_PROBE_CONFIRM,
                        .probe_echo = ans.probe_nonce};
  assert_true(link_probe_input(&d.b, &d.rng, 7 * SEC, &cfg, &conf));
  assert_int_equal(d.b.state, TOU_LS_BACK);
}

static void hearing_again_asks_at_once(void **state) {
  (void)state;
  duo_t d;
  duo_init(&d);
  link_probe_start(&d.a, &d.rng, 0, &cfg);
  take(&d.a, 0);
  link_probe_on_timer(&d.a, &d.rng, cfg.timeout / 3, &cfg);
  take(&d.a, cfg.timeout / 3);
  link_probe_on_timer(&d.a, &d.rng, 2 * (cfg.timeout / 3), &cfg);
  take(&d.a, 2 * (cfg.timeout / 3));
  link_probe_on_timer(&d.a, &d.rng, 5 * SEC, &cfg);
  assert_int_equal(d.a.inbound, TOU_PATH_FAILS);
  link_probe_heard(&d.a, &d.rng, 9 * SEC, &cfg);
  assert_true(link_probe_due(&d.a));
  assert_int_equal(take(&d.a, 9 * SEC).probe_phase, TOU_PROBE_ASK);
  /* Hearing more while that ASK is out starts nothing new. */
  link_probe_heard(&d.a, &d.rng, 9 * SEC + 1, &cfg);
  assert_false(link_probe_due(&d.a));
}

/* Makes p SILENT at `at` hearing nothing (inbound fails, outbound unknown). */
static void silence(duo_t *d, link_probe_t *p, uint64_t at) {
  assert_true(link_probe_start(p, &d->rng, at, &cfg));
  take(p, at);
  for (int i = 1; i < TOU_PROBE_ASK_SENDS; i++) {
    uint64_t t = at + (uint64_t)i * (cfg.timeout / 3);
    link_probe_on_timer(p, &d->rng, t, &cfg);
    take(p, t);
  }
  assert_true(link_probe_on_timer(p, &d->rng, at + cfg.timeout, &cfg));
  assert_int_equal(p->state, TOU_LS_SILENT);
  assert_int_equal(p->inbound, TOU_PATH_FAILS);
}

/* Runs p's retries while the path stays dark: each retry's ASK (and its
 * two repeats) unanswered. Returns the time of the retry it ran. */
static uint64_t dark_retry(duo_t *d, link_probe_t *p, const link_probe_cfg_t *c) {
  uint64_t at = link_probe_deadline(p);
  assert_false(link_probe_on_timer(p, &d->rng, at, c));
  assert_true(link_probe_take(p, at, c, &(tou_options_t){0}));
  while (link_probe_deadline(p) < p->retry_at) {
    uint64_t t = link_probe_deadline(p);
    assert_false(link_probe_on_timer(p, &d->rng, t, c));
    if (link_probe_due(p)) assert_true(link_probe_take(p, t, c, &(tou_options_t){0}));
  }
  assert_int_equal(p->state, TOU_LS_SILENT);
  return at;
}

/* Both SILENT; A's ASK is the first thing B hears; A's CONFIRM is lost.
 * B must not wait for its next retry: its ANSWER timing out (the lost
 * CONFIRM) starts its own ASK at once, and that exchange brings it BACK. */
static void lost_confirm_asks_again(void **state) {
  (void)state;
  duo_t d;
  duo_init(&d);
  silence(&d, &d.a, 10 * SEC);
  silence(&d, &d.b, 10 * SEC);
  /* B's retries at 20, 30, 50 s go unanswered; the next is due at 90 s,
   * well after the exchange below. */
  for (int i = 0; i < 3; i++) dark_retry(&d, &d.b, &cfg);
  assert_int_equal(d.b.retry_at, 90 * SEC);
  uint64_t t = 60 * SEC;
  assert_true(link_probe_start(&d.a, &d.rng, t, &cfg));
  tou_options_t ask = take(&d.a, t);
  assert_false(link_probe_input(&d.b, &d.rng, t + 10 * MS, &cfg, &ask));
  link_probe_heard(&d.b, &d.rng, t + 10 * MS, &cfg);
  /* One exchange at a time: B answers, does not ask yet. */
  tou_options_t ans = take(&d.b, t + 10 * MS);
  assert_int_equal(ans.probe_phase, TOU_PROBE_ANSWER);
  assert_false(link_probe_due(&d.b));
  assert_true(link_probe_input(&d.a, &d.rng, t + 20 * MS, &cfg, &ans));
  assert_int_equal(d.a.state, TOU_LS_BACK);
  take(&d.a, t + 20 * MS); /* the CONFIRM, lost */
  /* B's ANSWER times out: still SILENT, a fresh ASK due at once. */
  assert_int_equal(link_probe_deadline(&d.b), t + 10 * MS + cfg.timeout);
  link_probe_on_timer(&d.b, &d.rng, t + 10 * MS + cfg.timeout, &cfg);
  assert_int_equal(d.b.state, TOU_LS_SILENT);
  assert_true(link_probe_due(&d.b));
  uint64_t t2 = t + 10 * MS + cfg.timeout;
  tou_options_t ask2 = take(&d.b, t2);
  assert_int_equal(ask2.probe_phase, TOU_PROBE_ASK);
  assert_false(link_probe_input(&d.a, &d.rng, t2 + 10 * MS, &cfg, &ask2));
  tou_options_t ans2 = take(&d.a, t2 + 10 * MS);
  assert_true(link_probe_input(&d.b, &d.rng, t2 + 20 * MS, &cfg, &ans2));
  assert_int_equal(d.b.state, TOU_LS_BACK);
  assert_int_equal(d.b.outbound, TOU_PATH_WORKS);
}

/* A SILENT side that always heard its peer (outbound fails): an ACK of old
 * data is evidence — ask, no sooner than min_gap after the last ASK; an ACK
 * of data sent after the silence began is proof — BACK at once. */
static void acks_are_evidence(void **state) {
  (void)state;
  const link_probe_cfg_t g = {.timeout = 5 * SEC, .retry = 60 * SEC, .min_gap = 10 * SEC};
  duo_t d;
  duo_init(&d);
  assert_true(link_probe_start(&d.a, &d.rng, 10 * SEC, &g));
  take(&d.a, 10 * SEC);
  link_probe_heard(&d.a, &d.rng, 11 * SEC, &g);
  link_probe_on_timer(&d.a, &d.rng, 10 * SEC + g.timeout / 3, &g);
  take(&d.a, 10 * SEC + g.timeout / 3);
  uint64_t last = d.a.last_ask_at;
  assert_true(link_probe_on_timer(&d.a, &d.rng, 15 * SEC, &g));
  assert_int_equal(d.a.state, TOU_LS_SILENT);
  assert_int_equal(d.a.inbound, TOU_PATH_WORKS);
  assert_int_equal(d.a.outbound, TOU_PATH_FAILS);
  /* Hearing the peer is no news for this side. */
  link_probe_heard(&d.a, &d.rng, 15 * SEC + 100 * MS, &g);
  assert_false(link_probe_due(&d.a));
  /* Old data acknowledged within min_gap of the last ASK: the ASK waits
   * for the rate limit, on the deadline. */
  assert_false(link_probe_acked(&d.a, &d.rng, 16 * SEC, &g, false));
  assert_false(link_probe_due(&d.a));
  assert_int_equal(link_probe_deadline(&d.a), last + g.min_gap);
  link_probe_on_timer(&d.a, &d.rng, last + g.min_gap, &g);
  assert_true(link_probe_due(&d.a));
  uint64_t t = last + g.min_gap;
  take(&d.a, t);
  /* More evidence while that ASK is out: nothing new goes out. */
  assert_false(link_probe_acked(&d.a, &d.rng, t + 5 * MS, &g, false));
  assert_false(link_probe_due(&d.a));
  /* Data sent after the silence began acknowledged: BACK, and the open ASK
   * can no longer time out into SILENT. */
  assert_true(link_probe_acked(&d.a, &d.rng, t + 10 * MS, &g, true));
  assert_int_equal(d.a.state, TOU_LS_BACK);
  assert_int_equal(d.a.outbound, TOU_PATH_WORKS);
  assert_int_equal(link_probe_deadline(&d.a), TOU_NEVER);
  assert_false(link_probe_on_timer(&d.a, &d.rng, t + g.timeout, &g));
  assert_int_equal(d.a.state, TOU_LS_BACK);
  /* Not SILENT: ACKs mean nothing to the probe. */
  assert_false(link_probe_acked(&d.a, &d.rng, 40 * SEC, &g, true));
  assert_false(link_probe_due(&d.a));
}

/* A, SILENT hearing nothing, hears B again through an ACK of data sent
 * after the silence began: hearing B starts an ASK, and the ACK proves both
 * directions to A (BACK). B, which always heard A and went SILENT for want
 * of a CONFIRM, learns nothing from A's ACKs: the proof must keep that ASK
 * (it used to cancel it, leaving B SILENT until its own retry), so B comes
 * back one exchange later. An ASK already out is still settled by the
 * proof (acks_are_evidence). */
static void ack_proof_keeps_fresh_ask(void **state) {
  (void)state;
  duo_t d;
  duo_init(&d);
  silence(&d, &d.a, 0);
  tou_options_t dark_ask = {.present = TOU_OPT_PROBE, .probe_phase = TOU_PROBE_ASK,
                            .probe_nonce = 12345};
  assert_false(link_probe_input(&d.b, &d.rng, 10 * MS, &cfg, &dark_ask));
  assert_int_equal(take(&d.b, 10 * MS).probe_phase, TOU_PROBE_ANSWER);
  assert_true(link_probe_on_timer(&d.b, &d.rng, 10 * MS + cfg.timeout, &cfg));
  assert_int_equal(d.b.state, TOU_LS_SILENT);
  assert_int_equal(d.b.outbound, TOU_PATH_FAILS);
  /* A hears B again (the ACK), then takes the ACK's proof. */
  uint64_t t = 9 * SEC;
  link_probe_heard(&d.a, &d.rng, t, &cfg);
  assert_true(link_probe_acked(&d.a, &d.rng, t, &cfg, true));
  assert_int_equal(d.a.state, TOU_LS_BACK);
  assert_true(link_probe_due(&d.a));
  tou_options_t ask = take(&d.a, t);
  assert_int_equal(ask.probe_phase, TOU_PROBE_ASK);
  assert_false(link_probe_input(&d.b, &d.rng, t + 10 * MS, &cfg, &ask));
  tou_options_t ans = take(&d.b, t + 10 * MS);
  assert_int_equal(ans.probe_phase, TOU_PROBE_ANSWER);
  assert_false(link_probe_input(&d.a, &d.rng, t + 20 * MS, &cfg, &ans)); /* already BACK */
  tou_options_t conf = take(&d.a, t + 20 * MS);
  assert_int_equal(conf.probe_phase, TOU_PROBE_CONFIRM);
  assert_true(link_probe_input(&d.b, &d.rng, t + 30 * MS, &cfg, &conf));
  assert_int_equal(d.b.state, TOU_LS_BACK);
  assert_int_equal(d.b.outbound, TOU_PATH_WORKS);
  assert_int_equal(link_probe_deadline(&d.a), TOU_NEVER);
  assert_int_equal(link_probe_deadline(&d.b), TOU_NEVER);
  /* Both proofs counted, one on each side, besides A's ACK proof. */
  assert_int_equal(d.a.proofs, 2);
  assert_int_equal(d.b.proofs, 1);
}

/* Both sides ask at once. B answers A's ASK and A's CONFIRM is lost; then
 * A answers B's ASK: B is proven to hear and be heard after its ANSWER
 * went out, so that ANSWER's missing CONFIRM must not make B SILENT when
 * its deadline passes (it did: a link just proven good reported "not
 * heard"). Likewise a CONFIRM of B's ANSWER settles B's own open ASK. */
static void proof_settles_open_exchanges(void **state) {
  (void)state;
  duo_t d;
  duo_init(&d);
  assert_true(link_probe_start(&d.a, &d.rng, 0, &cfg));
  tou_options_t ask_a = take(&d.a, 0);
  link_probe_input(&d.b, &d.rng, 10 * MS, &cfg, &ask_a);
  tou_options_t ans_b = take(&d.b, 10 * MS);
  assert_false(link_probe_input(&d.a, &d.rng, 20 * MS, &cfg, &ans_b));
  take(&d.a, 20 * MS); /* A's CONFIRM, lost */
  assert_true(link_probe_start(&d.b, &d.rng, 1 * SEC, &cfg));
  tou_options_t ask_b = take(&d.b, 1 * SEC);
  link_probe_input(&d.a, &d.rng, 1 * SEC + 10 * MS, &cfg, &ask_b);
  tou_options_t ans_a = take(&d.a, 1 * SEC + 10 * MS);
  assert_false(link_probe_input(&d.b, &d.rng, 1 * SEC + 20 * MS, &cfg, &ans_a));
  assert_int_equal(take(&d.b, 1 * SEC + 20 * MS).probe_phase, TOU_PROBE_CONFIRM);
  assert_int_equal(link_probe_deadline(&d.b), TOU_NEVER);
  assert_false(link_probe_on_timer(&d.b, &d.rng, 10 * MS + cfg.timeout, &cfg));
  assert_int_equal(d.b.state, TOU_LS_HEARD);
  assert_int_equal(d.b.outbound, TOU_PATH_WORKS);

  /* The other order: B's ASK is out when the CONFIRM of its ANSWER comes. */
  duo_init(&d);
  assert_true(link_probe_start(&d.a, &d.rng, 0, &cfg));
  ask_a = take(&d.a, 0);
  link_probe_input(&d.b, &d.rng, 10 * MS, &cfg, &ask_a);
  ans_b = take(&d.b, 10 * MS);
  assert_true(link_probe_start(&d.b, &d.rng, 10 * MS, &cfg));
  take(&d.b, 10 * MS); /* B's ASK, lost */
  link_probe_input(&d.a, &d.rng, 20 * MS, &cfg, &ans_b);
  tou_options_t conf_a = take(&d.a, 20 * MS);
  link_probe_input(&d.b, &d.rng, 30 * MS, &cfg, &conf_a);
  assert_int_equal(link_probe_deadline(&d.b), TOU_NEVER);
  assert_false(link_probe_due(&d.b)); /* no repeat of the settled ASK */
  assert_false(link_probe_on_timer(&d.b, &d.rng, 10 * MS + cfg.timeout, &cfg));
  assert_int_equal(d.b.state, TOU_LS_HEARD);
}

/* While SILENT the retries back off like TCP's retransmissions: the first
 * one probe timeout (5 s) after the link went silent, then 10, 20, 40 s
 * apart, then the 60 s cap; the path stays dark, each exchange is three
 * ASKs. BACK resets it: the next silence starts again at 5 s. */
static void silent_retries_back_off_to_the_cap(void **state) {
  (void)state;
  duo_t d;
  duo_init(&d);
  silence(&d, &d.a, 100 * SEC); /* SILENT at 105 s */
  const uint64_t want[] = {110, 120, 140, 180, 240, 300, 360};
  uint64_t asks = d.a.asks_sent;
  for (unsigned i = 0; i < sizeof want / sizeof want[0]; i++)
    assert_int_equal(dark_retry(&d, &d.a, &cfg), want[i] * SEC);
  assert_int_equal(d.a.asks_sent - asks, 7 * TOU_PROBE_ASK_SENDS);
  assert_int_equal(link_probe_deadline(&d.a), 420 * SEC);
  /* The 420 s retry is answered: BACK, no retry left. */
  assert_false(link_probe_on_timer(&d.a, &d.rng, 420 * SEC, &cfg));
  tou_options_t ask = take(&d.a, 420 * SEC);
  link_probe_input(&d.b, &d.rng, 420 * SEC, &cfg, &ask);
  tou_options_t ans = take(&d.b, 420 * SEC);
  assert_true(link_probe_input(&d.a, &d.rng, 420 * SEC + 10 * MS, &cfg, &ans));
  assert_int_equal(d.a.state, TOU_LS_BACK);
  assert_int_equal(link_probe_deadline(&d.a), TOU_NEVER);
  take(&d.a, 420 * SEC + 10 * MS); /* the CONFIRM */
  /* Silent again at 505 s: the schedule starts afresh, 5 s. */
  silence(&d, &d.a, 500 * SEC);
  assert_int_equal(link_probe_deadline(&d.a), 510 * SEC);
  assert_int_equal(dark_retry(&d, &d.a, &cfg), 510 * SEC);
  assert_int_equal(link_probe_deadline(&d.a), 520 * SEC);
}

/* The first wait is max(timeout, min_gap), never beyond the cap: a rate
 * limit above the timeout delays it; a cap below the timeout is a fixed
 * interval (what link_probe_retry meant before the backoff). */
static void retry_backoff_respects_min_gap_and_cap(void **state) {
  (void)state;
  duo_t d;
  duo_init(&d);
  const link_probe_cfg_t slow_gap = {.timeout = 5 * SEC, .retry = 60 * SEC, .min_gap = 8 * SEC};
  link_probe_start(&d.a, &d.rng, 0, &slow_gap);
  take(&d.a, 0);
  assert_true(link_probe_on_timer(&d.a, &d.rng, 5 * SEC, &slow_gap)); /* no repeats due: SILENT */
  assert_int_equal(d.a.state, TOU_LS_SILENT);
  assert_int_equal(link_probe_deadline(&d.a), 13 * SEC);
  assert_int_equal(dark_retry(&d, &d.a, &slow_gap), 13 * SEC);
  assert_int_equal(link_probe_deadline(&d.a), 29 * SEC);

  const link_probe_cfg_t low_cap = {.timeout = 5 * SEC, .retry = 3 * SEC, .min_gap = 1 * SEC};
  duo_init(&d);
  link_probe_start(&d.a, &d.rng, 0, &low_cap);
  take(&d.a, 0);
  assert_true(link_probe_on_timer(&d.a, &d.rng, 5 * SEC, &low_cap));
  assert_int_equal(link_probe_deadline(&d.a), 8 * SEC);
  assert_false(link_probe_on_timer(&d.a, &d.rng, 8 * SEC, &low_cap));
  take(&d.a, 8 * SEC);
  assert_int_equal(d.a.retry_at, 11 * SEC); /* 3 s apart, no doubling */

  /* A cap of "never" does not wrap around. */
  const link_probe_cfg_t huge = {.timeout = 5 * SEC, .retry = TOU_NEVER, .min_gap = 1 * SEC};
  duo_init(&d);
  link_probe_start(&d.a, &d.rng, 0, &huge);
  take(&d.a, 0);
  assert_true(link_probe_on_timer(&d.a, &d.rng, 5 * SEC, &huge));
  for (int i = 0; i < 70; i++) {
    uint64_t at = d.a.retry_at;
    if (at == TOU_NEVER) break;
    link_probe_on_timer(&d.a, &d.rng, at, &huge);
    d.a.ask_out = d.a.ask_due = false; /* the exchange failed, quietly */
    assert_true(d.a.retry_at > at);
  }
  assert_int_equal(d.a.retry_at, TOU_NEVER);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(full_exchange),
      cmocka_unit_test(unanswered_ask_repeats_then_silent),
      cmocka_unit_test(heard_meanwhile_means_not_heard),
      cmocka_unit_test(unconfirmed_answer_and_forgeries),
      cmocka_unit_test(hearing_again_asks_at_once),
      cmocka_unit_test(lost_confirm_asks_again),
      cmocka_unit_test(acks_are_evidence),
      cmocka_unit_test(proof_settles_open_exchanges),
      cmocka_unit_test(ack_proof_keeps_fresh_ask),
      cmocka_unit_test(silent_retries_back_off_to_the_cap),
      cmocka_unit_test(retry_backoff_respects_min_gap_and_cap),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

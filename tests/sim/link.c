#include "link.h"

#include <math.h>
#include <string.h>

const char *sim_fate_name(sim_fate_t fate) {
  switch (fate) {
    case SIM_FATE_DELIVER: return "deliver";
    case SIM_DROP_BLACKOUT: return "drop-blackout";
    case SIM_DROP_PATTERN: return "drop-pattern";
    case SIM_DROP_FILTER: return "drop-filter";
    case SIM_DROP_LOSS: return "drop-loss";
    case SIM_DROP_BURST: return "drop-burst";
    case SIM_DROP_QUEUE: return "drop-queue";
    case SIM_DROP_TOO_BIG: return "drop-too-big";
  }
  return "?";
}

void sim_link_init(sim_link_t *l, const sim_link_params_t *p, uint64_t seed) {
  memset(l, 0, sizeof *l);
  l->p = *p;
  sim_rng_seed(&l->rng, seed);
}

void sim_link_set_params(sim_link_t *l, const sim_link_params_t *p) { l->p = *p; }

bool sim_link_add_blackout(sim_link_t *l, uint64_t from, uint64_t to) {
  if (l->n_blackouts == SIM_LINK_MAX_BLACKOUTS) return false;
  l->blackout[l->n_blackouts].from = from;
  l->blackout[l->n_blackouts].to = to;
  l->n_blackouts++;
  return true;
}

bool sim_link_add_stall(sim_link_t *l, uint64_t from, uint64_t to) {
  if (l->n_stalls == SIM_LINK_MAX_STALLS) return false;
  l->stall[l->n_stalls].from = from;
  l->stall[l->n_stalls].to = to;
  l->n_stalls++;
  return true;
}

/* When serialization may start at t: the end of a stall covering t. */
static uint64_t after_stalls(const sim_link_t *l, uint64_t t) {
  for (unsigned i = 0; i < l->n_stalls; i++)
    if (t >= l->stall[i].from && t < l->stall[i].to) return after_stalls(l, l->stall[i].to);
  return t;
}

bool sim_link_drop_nth(sim_link_t *l, uint64_t n) {
  if (l->n_drop_nth == SIM_LINK_MAX_DROP_NTH) return false;
  l->drop_nth[l->n_drop_nth++] = n;
  return true;
}

bool sim_link_add_filter(sim_link_t *l, sim_filter_fn fn, void *ctx, long max_drops) {
  if (l->n_filters == SIM_LINK_MAX_FILTERS) return false;
  l->filter[l->n_filters].fn = fn;
  l->filter[l->n_filters].ctx = ctx;
  l->filter[l->n_filters].remaining = max_drops;
  l->filter[l->n_filters].dropped = 0;
  l->n_filters++;
  return true;
}

void sim_link_clear_filters(sim_link_t *l) { l->n_filters = 0; }

uint64_t sim_link_serialization_us(const sim_link_t *l, size_t len) {
  if (l->p.rate_bps == 0) return 0;
  uint64_t bits_us = (uint64_t)len * 8u * 1000000u;
  return (bits_us + l->p.rate_bps - 1) / l->p.rate_bps;
}

static bool in_blackout(const sim_link_t *l, uint64_t t) {
  for (unsigned i = 0; i < l->n_blackouts; i++)
    if (t >= l->blackout[i].from && t < l->blackout[i].to) return true;
  return false;
}

static bool pattern_drop(const sim_link_t *l) {
  for (unsigned i = 0; i < l->n_drop_nth; i++)
    if (l->drop_nth[i] == l->index) return true;
  return false;
}

static bool filter_drop(sim_link_t *l, const uint8_t *data, size_t len) {
  for (unsigned i = 0; i < l->n_filters; i++) {
    if (l->filter[i].remaining == 0) continue;
    if (!l->filter[i].fn(l->filter[i].ctx, l->index, data, len)) continue;
    if (l->filter[i].remaining > 0) l->filter[i].remaining--;
    l->filter[i].dropped++;
    return true;
  }
  return false;
}

/* Idle time as Markov steps: with ge_step_us set, every whole step of
 * silence beyond the one the datagram itself takes moves the chain too, in
 * closed form. Without it, a sender in timeout backoff (one datagram per
 * timeout) would find a burst lasting as many timeouts as it lasts
 * datagrams, which no real path does. */
static void burst_idle_steps(sim_link_t *l, uint64_t now) {
  uint64_t last = l->ge_last_at;
  l->ge_last_at = now;
  if (l->p.ge_step_us == 0 || !l->ge_stepped || now <= last) return;
  uint64_t steps = (now - last) / l->p.ge_step_us;
  if (steps <= 1) return;
  double p = l->p.ge_p, r = l->p.ge_r;
  if (p + r <= 0.0) return;
  /* Two-state chain: P(bad after n) = pi + (P(bad now) - pi) * (1-p-r)^n. */
  double pi = p / (p + r), decay = pow(1.0 - p - r, (double)(steps - 1));
  double bad = pi + ((l->ge_bad ? 1.0 : 0.0) - pi) * decay;
  l->ge_bad = sim_rng_chance(&l->rng, bad);
}

/* One Gilbert–Elliott step: transition first, then lose with the new
 * state's probability. */
static bool burst_drop(sim_link_t *l, uint64_t now) {
  if (l->p.ge_p <= 0.0 && !l->ge_bad) return false;
  burst_idle_steps(l, now);
  l->ge_stepped = true;
  if (l->ge_bad) {
    if (sim_rng_chance(&l->rng, l->p.ge_r)) l->ge_bad = false;
  } else if (sim_rng_chance(&l->rng, l->p.ge_p)) {
    l->ge_bad = true;
  }
  return sim_rng_chance(&l->rng, l->ge_bad ? l->p.ge_loss_bad : l->p.ge_loss_good);
}

static bool queue_full(const sim_link_t *l, uint64_t now, size_t len) {
  if (l->p.rate_bps == 0 || l->p.queue_bytes == 0) return false;
  uint64_t backlog_us = l->busy_until > now ? l->busy_until - now : 0;
  /* A stall's wait is not queue. */
  for (unsigned i = 0; i < l->n_stalls && backlog_us; i++) {
    uint64_t a = l->stall[i].from > now ? l->stall[i].from : now;
    uint64_t b = l->stall[i].to < l->busy_until ? l->stall[i].to : l->busy_until;
    if (b > a) backlog_us -= b - a < backlog_us ? b - a : backlog_us;
  }
  /* Bytes still to serialize (rounded down, so a datagram that just fits
   * is accepted). */
  uint64_t backlog = backlog_us * l->p.rate_bps / 8u / 1000000u;
  return backlog + len > l->p.queue_bytes;
}

static sim_fate_t decide_drop(sim_link_t *l, uint64_t now, const uint8_t *data, size_t len) {
  if (l->p.mtu && len > l->p.mtu) return SIM_DROP_TOO_BIG;
  if (in_blackout(l, now)) return SIM_DROP_BLACKOUT;
  if (pattern_drop(l)) return SIM_DROP_PATTERN;
  if (filter_drop(l, data, len)) return SIM_DROP_FILTER;
  if (sim_rng_chance(&l->rng, l->p.loss)) return SIM_DROP_LOSS;
  if (burst_drop(l, now)) return SIM_DROP_BURST;
  if (queue_full(l, now, len)) return SIM_DROP_QUEUE;
  return SIM_FATE_DELIVER;
}

void sim_link_admit(sim_link_t *l, uint64_t now, const uint8_t *data, size_t len,
                    sim_link_verdict_t *v) {
  memset(v, 0, sizeof *v);
  l->index++;
  l->stats.offered++;
  l->stats.bytes_offered += len;
  v->fate = decide_drop(l, now, data, len);
  if (v->fate != SIM_FATE_DELIVER) {
    l->stats.dropped[v->fate]++;
    return;
  }
  uint64_t start = after_stalls(l, l->busy_until > now ? l->busy_until : now);
  uint64_t done = start + sim_link_serialization_us(l, len);
  l->busy_until = done;
  uint64_t arrive = done + l->p.delay_us;
  if (l->p.jitter_us) arrive += sim_rng_below(&l->rng, l->p.jitter_us + 1);
  if (sim_rng_chance(&l->rng, l->p.reorder)) {
    arrive += l->p.reorder_us;
    l->stats.reordered++;
  }
  if (in_blackout(l, arrive)) {
    v->fate = SIM_DROP_BLACKOUT;
    l->stats.dropped[SIM_DROP_BLACKOUT]++;
    return;
  }
  v->copies = 1;
  v->arrive[0] = arrive;
  if (sim_rng_chance(&l->rng, l->p.duplicate)) {
    v->copies = 2;
    v->arrive[1] = arrive + l->p.dup_gap_us;
    l->stats.duplicated++;
  }
  for (unsigned i = 0; i < v->copies; i++) {
    v->corrupt[i] = sim_rng_chance(&l->rng, l->p.corrupt);
    if (v->corrupt[i]) l->stats.corrupted++;
  }
  l->stats.delivered += v->copies;
  l->stats.bytes_delivered += (uint64_t)len * v->copies;
}

void sim_link_corrupt(sim_link_t *l, uint8_t *data, size_t len) {
  if (len == 0) return;
  unsigned max_bits = l->p.corrupt_bits ? l->p.corrupt_bits : 1;
  if (max_bits > 8) max_bits = 8;
  if ((uint64_t)max_bits > (uint64_t)len * 8u) max_bits = (unsigned)(len * 8u);
  unsigned bits = 1 + (unsigned)sim_rng_below(&l->rng, max_bits);
  uint64_t chosen[8];
  /* Distinct bits: flipping one bit twice would deliver the datagram intact
   * while the statistics count it as corrupted. */
  for (unsigned i = 0; i < bits; i++) {
    uint64_t bit;
    bool again;
    do {
      bit = sim_rng_below(&l->rng, (uint64_t)len * 8u);
      again = false;
      for (unsigned j = 0; j < i; j++) again |= chosen[j] == bit;
    } while (again);
    chosen[i] = bit;
    data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
  }
}

/* Deterministic network simulator: a virtual clock in microseconds, an event
 * queue, nodes with addresses (tou_addr_t) and one link per direction
 * between any two addresses (link.h). Nothing reads the wall clock; every
 * random choice comes from PRNGs derived from one run seed, so a run is
 * exactly repeatable.
 *
 * Seed: the scenario passes a default; the environment variable
 * TOU_SIM_SEED (decimal or 0x-hex) overrides it, and sim_new() prints the
 * seed in use so a failing run can be replayed. TOU_SIM_TRACE=1 prints every
 * datagram's fate to stderr (host.c adds the core's own trace). */
#ifndef TOU_SIM_SIM_H
#define TOU_SIM_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core.h"
#include "link.h"

#define SIM_MS 1000ull
#define SIM_SEC 1000000ull
#define SIM_MAX_DATAGRAM 65536

typedef struct sim sim_t;
typedef struct sim_node sim_node_t;

/* What a node does when a datagram reaches its address or its timer fires. */
typedef struct sim_node_ops {
  void (*datagram)(sim_node_t *node, const tou_addr_t *from, const uint8_t *data, size_t len);
  void (*timer)(sim_node_t *node);
} sim_node_ops_t;

struct sim_node {
  sim_t *sim;
  const sim_node_ops_t *ops;
  tou_addr_t addr;
  uint64_t timer_at; /* TOU_NEVER when disarmed */
  uint64_t timer_gen;
  sim_node_t *next;
};

/* Where a datagram went: observed by taps and hashed for determinism. */
typedef enum sim_tap_kind {
  SIM_TAP_SEND,    /* offered to a link */
  SIM_TAP_DROP,    /* dropped by the link (fate says why) */
  SIM_TAP_DELIVER, /* handed to the destination node */
  SIM_TAP_NOROUTE, /* arrived where no node listens */
  SIM_TAP_INJECT,  /* scheduled by sim_inject (bypasses links) */
} sim_tap_kind_t;

typedef struct sim_tap_event {
  sim_tap_kind_t kind;
  uint64_t now;
  const tou_addr_t *from, *to;
  const uint8_t *data;
  size_t len;
  sim_fate_t fate;
  bool corrupted;
} sim_tap_event_t;

typedef void (*sim_tap_fn)(void *ctx, const sim_tap_event_t *ev);

/* Creates a simulator. The seed is default_seed unless TOU_SIM_SEED is set. */
sim_t *sim_new(uint64_t default_seed);
void sim_free(sim_t *sim);
uint64_t sim_seed(const sim_t *sim);
uint64_t sim_now(const sim_t *sim);
/* A fresh 64-bit value derived from the run seed (for host seeds etc.). */
uint64_t sim_derive_seed(sim_t *sim);
/* PRNG for scenario code (attack traffic, random choices). */
sim_rng_t *sim_rng(sim_t *sim);

/* "10.0.0.<host>:<port>" as a 6-byte tou_addr_t. */
tou_addr_t sim_addr(uint8_t host, uint16_t port);
bool sim_addr_eq(const tou_addr_t *a, const tou_addr_t *b);
/* Formats into buf (at least 32 bytes); returns buf. */
const char *sim_addr_str(const tou_addr_t *a, char *buf);

/* Parameters for links created from now on (default: 10 ms delay, nothing else). */
void sim_set_default_link(sim_t *sim, const sim_link_params_t *p);
/* The link carrying datagrams from -> to, created with the default
 * parameters on first use. */
sim_link_t *sim_link(sim_t *sim, const tou_addr_t *from, const tou_addr_t *to);
/* Sets both directions between a and b to p. */
void sim_link_both(sim_t *sim, const tou_addr_t *a, const tou_addr_t *b,
                   const sim_link_params_t *p);

void sim_node_attach(sim_t *sim, sim_node_t *node, const sim_node_ops_t *ops,
                     const tou_addr_t *addr);
void sim_node_detach(sim_node_t *node);
/* One timer per node (like the binding's one timer per endpoint): arming
 * replaces the previous deadline; TOU_NEVER disarms. A deadline in the past
 * fires at the current time. */
void sim_node_arm(sim_node_t *node, uint64_t at);

/* Sends a datagram through the from->to link at the current time. */
void sim_send(sim_t *sim, const tou_addr_t *from, const tou_addr_t *to, const uint8_t *data,
              size_t len);
/* Delivers a datagram to `to` at time `at`, bypassing links (an attacker or
 * a stale duplicate appearing on the path). */
void sim_inject(sim_t *sim, uint64_t at, const tou_addr_t *from, const tou_addr_t *to,
                const uint8_t *data, size_t len);

typedef void (*sim_call_fn)(sim_t *sim, void *arg);
/* Runs fn(sim, arg) at virtual time at (scenario actions). */
void sim_call_at(sim_t *sim, uint64_t at, sim_call_fn fn, void *arg);

/* Runs the next event. Returns false when the queue is empty. */
bool sim_step(sim_t *sim);
/* Runs every event due at or before t, then sets the clock to t. */
void sim_run_until(sim_t *sim, uint64_t t);
/* Runs events until cond(ctx) holds (checked before each event) or the next
 * event lies beyond `limit`; the clock ends at the last event run, or at
 * limit when cond never held. Returns cond(ctx). */
bool sim_run_until_cond(sim_t *sim, bool (*cond)(void *ctx), void *ctx, uint64_t limit);
/* Runs until the queue is empty or the clock would pass limit. */
void sim_run_idle(sim_t *sim, uint64_t limit);

/* Adds an observer of every datagram fate (up to 8). */
void sim_add_tap(sim_t *sim, sim_tap_fn fn, void *ctx);
/* Same, and sim_free() frees ctx (malloc'd) with the simulator. */
void sim_add_tap_owned(sim_t *sim, sim_tap_fn fn, void *ctx);
/* FNV-1a hash over every tap event so far (time, kind, addresses, bytes,
 * fate): two runs with the same seed must give the same value. */
uint64_t sim_trace_hash(const sim_t *sim);
/* Number of events run so far. */
uint64_t sim_events_run(const sim_t *sim);

#endif

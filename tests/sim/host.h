/* A simulated host: one real tou endpoint (tou_ep_t) at a simulator address.
 * After every datagram, timer and application action the host drains
 * tou_ep_output() into the links, hands tou_ep_next_event() results to the
 * scenario hook and to the per-connection applications (app.h), and arms its
 * one timer at tou_ep_next_deadline() — exactly what the libuv binding does,
 * on virtual time. The endpoint is created with a 32-byte seed derived from
 * the run seed, so the core's randomness (ISNs, cids) repeats too. */
#ifndef TOU_SIM_HOST_H
#define TOU_SIM_HOST_H

#include <stdbool.h>
#include <stdint.h>

#include "app.h"
#include "core.h"
#include "sim.h"

typedef struct sim_host sim_host_t;

/* Scenario hook for every event set the endpoint reports (conn NULL for
 * endpoint-level events such as TOU_EV_ACCEPT). Runs before the app layer. */
typedef void (*sim_host_event_fn)(sim_host_t *h, tou_conn_t *c, unsigned events, void *ctx);

typedef struct sim_host_stats {
  uint64_t datagrams_in, datagrams_out, output_errors;
  uint64_t split_payloads; /* datagrams whose payload came in two pieces (ring wrap) */
  uint64_t seg_sent, seg_recv, seg_drop;   /* from the core's trace hook */
  uint64_t rst_sent, rst_recv, syn_sent, synack_sent, pure_ack_sent;
  uint64_t events;                           /* event sets drained */
  int last_output_error;
} sim_host_stats_t;

struct sim_host {
  sim_node_t node;
  sim_t *sim;
  char name[16];
  tou_ep_t *ep;
  tou_config_t cfg;
  uint8_t seed[32];
  unsigned incarnation; /* bumped by sim_host_restart */
  /* Scenario hooks (optional). */
  sim_host_event_fn on_event;
  void *event_ctx;
  tou_trace_fn on_trace;
  void *trace_ctx;
  /* Accepted connections get an app with this configuration unless
   * auto_accept is false (then the scenario calls tou_ep_accept itself). */
  bool auto_accept;
  sim_app_cfg_t accept_cfg;
  sim_app_t *apps;       /* every app ever created here (freed with the host) */
  sim_app_t *last_accepted;
  sim_host_stats_t stats;
  bool busy, again;
  bool print_trace; /* TOU_SIM_TRACE */
  uint64_t last_timer_at;
  unsigned timer_spins;
  uint8_t *outbuf; /* SIM_MAX_DATAGRAM bytes for tou_ep_output_gather */
};

/* Creates a host at addr with cfg (NULL: tou_config_default). The trace and
 * seed fields of cfg are replaced by the host's own. */
sim_host_t *sim_host_new(sim_t *sim, const char *name, const tou_addr_t *addr,
                         const tou_config_t *cfg);
void sim_host_free(sim_host_t *h);
/* A crash and reboot: the endpoint is freed without sending anything and a
 * new one (fresh seed, same address and config) takes its place. Apps of
 * the old incarnation are detached (their conn becomes NULL). */
void sim_host_restart(sim_host_t *h);
/* Call after acting on the endpoint or a connection from scenario code:
 * drains output and events and re-arms the timer. Re-entrant calls (from an
 * event handler) are folded into the running one. */
void sim_host_kick(sim_host_t *h);
int sim_host_listen(sim_host_t *h, unsigned backlog);

#endif

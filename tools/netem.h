/* tou-netem's proxy logic, kept apart from its command line so that the
 * integration tests can run the same impairments inside their own loop.
 *
 * A client sends datagrams to the listen address; for each client address the
 * proxy opens one socket towards the upstream (like a NAT binding) and relays
 * both ways, impairing each direction as configured. */
#ifndef TOU_TOOLS_NETEM_H
#define TOU_TOOLS_NETEM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <uv.h>

#define NETEM_MAX_BLACKOUTS 16

enum { NETEM_UP = 0 /* client -> upstream */, NETEM_DOWN = 1 /* upstream -> client */ };

typedef struct netem_blackout {
  uint64_t start_us; /* from the first datagram the proxy saw */
  uint64_t duration_us;
} netem_blackout_t;

/* One direction's impairments. Probabilities are in [0, 1]. */
typedef struct netem_dir_config {
  double loss, dup, reorder, corrupt;
  uint64_t reorder_delay_us; /* extra delay of a reordered datagram */
  uint64_t delay_us, jitter_us;
  uint64_t rate_bps;      /* 0: unlimited */
  uint64_t queue_bytes;   /* bound of the rate limiter's queue (tail drop) */
  netem_blackout_t blackout[NETEM_MAX_BLACKOUTS];
  unsigned nblackouts;
} netem_dir_config_t;

typedef struct netem_config {
  struct sockaddr_storage listen;
  struct sockaddr_storage upstream;
  netem_dir_config_t dir[2];
  uint64_t seed;
  unsigned max_sessions;  /* distinct client addresses; beyond: dropped */
  unsigned max_inflight;  /* datagrams held for delay, both directions */
} netem_config_t;

typedef struct netem_counters {
  uint64_t received, forwarded, bytes_forwarded;
  uint64_t lost, blackout, queue_drop, duplicated, corrupted, reordered;
  uint64_t send_errors, no_session;
} netem_counters_t;

typedef struct netem netem_t;

/* Fills cfg with "no impairment", queue bound 256 KiB, 1024 sessions. */
void netem_config_default(netem_config_t *cfg);

/* Binds the listen socket and starts relaying. Returns 0 or a UV_E* code. */
int netem_start(uv_loop_t *loop, const netem_config_t *cfg, netem_t **out);

/* The bound listen address (to learn an ephemeral port). */
int netem_getsockname(const netem_t *n, struct sockaddr_storage *addr);

void netem_get_counters(const netem_t *n, int dir, netem_counters_t *out);

/* Prints both directions' counters. */
void netem_print_counters(const netem_t *n, FILE *f);

/* Closes every handle; memory is released from the loop's close callbacks. */
void netem_close(netem_t *n);

#endif

/* Scripted applications: one per connection, so a scenario says "send N
 * bytes, shut down, read everything, close" in one struct and then checks
 * what happened. Data is a deterministic pattern (sim_pattern_byte) keyed by
 * a pattern id, and the reader verifies every byte against the pattern it
 * expects, so reordering, duplication or corruption reaching the application
 * is caught at the first wrong offset. */
#ifndef TOU_SIM_APP_H
#define TOU_SIM_APP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core.h"

typedef struct sim_host sim_host_t;

typedef struct sim_app_cfg {
  size_t send_bytes;       /* pattern bytes to send once connected */
  uint32_t tx_pattern;     /* pattern id of the bytes we send */
  uint32_t rx_pattern;     /* pattern id the peer sends us */
  bool shutdown_when_sent; /* half-close (FIN) once every byte is queued */
  bool close_when_done;    /* tou_conn_close once everything is sent and EOF read */
  bool close_when_sent;    /* tou_conn_close once every byte is queued */
  bool no_read;            /* never read (the receive window fills) */
} sim_app_cfg_t;

typedef struct sim_app {
  sim_app_cfg_t cfg;
  sim_host_t *host;
  tou_conn_t *conn;  /* NULL once released (close/abort) or the host restarted */
  size_t queued;     /* bytes tou_conn_send accepted */
  size_t received;   /* bytes read and verified */
  size_t received_at_shutdown; /* bytes read when we sent our FIN */
  bool connected, eof, closed, released, shutdown_sent, fin_acked;
  bool data_mismatch;
  size_t mismatch_offset;
  int error;          /* from TOU_EV_CLOSED: tou_conn_error() */
  int last_api_error; /* last negative return of a tou_conn_* call */
  uint32_t states_seen; /* bit (1 << tou_state_t) for every state traced */
  tou_state_t state;    /* last state traced */
  uint64_t t_connected, t_eof, t_closed, t_fin_acked, t_last_data;
  struct sim_app *next;
} sim_app_t;

/* Byte `offset` of pattern `id`. */
uint8_t sim_pattern_byte(uint32_t id, uint64_t offset);
/* Bytes offset .. offset+n-1 of pattern id into buf. */
void sim_pattern_fill(uint32_t id, uint64_t offset, uint8_t *buf, size_t n);

/* Active open from host h to peer with an app configured by cfg. Returns
 * NULL (and *err) when tou_ep_connect fails. */
sim_app_t *sim_app_connect(sim_host_t *h, const tou_addr_t *peer, const sim_app_cfg_t *cfg,
                           int *err);
/* Wraps an accepted connection. */
sim_app_t *sim_app_attach(sim_host_t *h, tou_conn_t *c, const sim_app_cfg_t *cfg);

/* Actions from scenario code (each kicks the host). */
void sim_app_send_more(sim_app_t *a, size_t bytes);
void sim_app_shutdown(sim_app_t *a);
void sim_app_close(sim_app_t *a);
void sim_app_abort(sim_app_t *a);
void sim_app_set_reading(sim_app_t *a, bool reading);

/* Called by the host. */
void sim_app_on_events(sim_app_t *a, unsigned events);
void sim_app_on_state(sim_app_t *a, tou_state_t state);
/* The host forgot its endpoint: the app can no longer touch its conn. */
void sim_app_detach(sim_app_t *a);

#endif

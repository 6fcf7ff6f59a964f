#include "app.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"

#define CHUNK 16384

/* Eight pattern bytes come from one 64-bit mix of (id, offset / 8). */
static uint64_t pattern_word(uint32_t id, uint64_t word) {
  uint64_t x = word * 0x9E3779B97F4A7C15ull ^ ((uint64_t)id + 1) * 0xD1B54A32D192ED03ull;
  x ^= x >> 31;
  x *= 0xBF58476D1CE4E5B9ull;
  x ^= x >> 29;
  return x;
}

uint8_t sim_pattern_byte(uint32_t id, uint64_t offset) {
  return (uint8_t)(pattern_word(id, offset >> 3) >> (8 * (offset & 7)));
}

/* Whole words where the pattern is word-aligned: bulk transfers (64 MiB)
 * spend most of their simulated time here otherwise. */
void sim_pattern_fill(uint32_t id, uint64_t offset, uint8_t *buf, size_t n) {
  size_t i = 0;
  while (i < n && ((offset + i) & 7)) {
    buf[i] = sim_pattern_byte(id, offset + i);
    i++;
  }
  for (; i + 8 <= n; i += 8) {
    uint64_t x = pattern_word(id, (offset + i) >> 3);
    uint8_t w[8] = {(uint8_t)x,         (uint8_t)(x >> 8),  (uint8_t)(x >> 16), (uint8_t)(x >> 24),
                    (uint8_t)(x >> 32), (uint8_t)(x >> 40), (uint8_t)(x >> 48), (uint8_t)(x >> 56)};
    memcpy(buf + i, w, 8);
  }
  for (; i < n; i++) buf[i] = sim_pattern_byte(id, offset + i);
}

static sim_app_t *app_new(sim_host_t *h, tou_conn_t *c, const sim_app_cfg_t *cfg) {
  sim_app_t *a = calloc(1, sizeof *a);
  if (!a) abort();
  a->cfg = *cfg;
  a->host = h;
  a->conn = c;
  a->next = h->apps;
  h->apps = a;
  tou_conn_set_user(c, a);
  a->state = tou_conn_state(c);
  a->states_seen = 1u << a->state;
  return a;
}

static void release(sim_app_t *a, bool abort_conn) {
  if (!a->conn) return;
  uint64_t now = sim_now(a->host->sim);
  tou_conn_t *c = a->conn;
  /* The core may still trace this connection after release; it must no
   * longer point at us... but app memory lives as long as the host, so a
   * late trace is harmless and even useful (states_seen keeps updating). */
  a->conn = NULL;
  a->released = true;
  if (abort_conn)
    tou_conn_abort(c, now);
  else
    tou_conn_close(c, now);
}

/* Scratch space shared by every app: the simulator is single-threaded and
 * nothing holds on to it across calls; static rather than 16 KiB of stack
 * per call, which ASan makes expensive. */
static uint8_t scratch[CHUNK];

static void send_pattern(sim_app_t *a) {
  uint8_t *buf = scratch;
  uint64_t now = sim_now(a->host->sim);
  while (a->conn && a->queued < a->cfg.send_bytes) {
    size_t n = a->cfg.send_bytes - a->queued;
    if (n > CHUNK) n = CHUNK;
    /* Only generate what the send buffer can take now. */
    size_t space = tou_conn_send_space(a->conn);
    if (space == 0) break;
    if (n > space) n = space;
    sim_pattern_fill(a->cfg.tx_pattern, a->queued, buf, n);
    int rc = tou_conn_send(a->conn, now, buf, n);
    if (rc < 0) a->last_api_error = rc;
    if (rc <= 0) break;
    a->queued += (size_t)rc;
  }
}

static void verify(sim_app_t *a, const uint8_t *buf, size_t n) {
  static uint8_t want[CHUNK];
  if (n <= CHUNK && !a->data_mismatch) {
    sim_pattern_fill(a->cfg.rx_pattern, a->received, want, n);
    if (memcmp(buf, want, n) == 0) {
      a->received += n;
      return;
    }
  }
  for (size_t i = 0; i < n && !a->data_mismatch; i++) {
    if (buf[i] != sim_pattern_byte(a->cfg.rx_pattern, a->received + i)) {
      a->data_mismatch = true;
      a->mismatch_offset = a->received + i;
      fprintf(stderr, "sim: %s: data mismatch at offset %zu\n", a->host->name,
              a->mismatch_offset);
    }
  }
  a->received += n;
}

static void read_all(sim_app_t *a) {
  uint8_t *buf = scratch;
  uint64_t now = sim_now(a->host->sim);
  while (a->conn && !a->cfg.no_read && !a->eof) {
    int rc = tou_conn_recv(a->conn, now, buf, CHUNK);
    if (rc > 0) {
      verify(a, buf, (size_t)rc);
      a->t_last_data = now;
      continue;
    }
    if (rc == TOU_ERR_EOF) {
      a->eof = true;
      a->t_eof = now;
    } else if (rc != TOU_ERR_AGAIN && rc != 0) {
      a->last_api_error = rc;
    }
    break;
  }
}

static void pump(sim_app_t *a) {
  if (!a->conn) return;
  uint64_t now = sim_now(a->host->sim);
  read_all(a);
  if (!a->connected) return;
  send_pattern(a);
  bool all_queued = a->queued >= a->cfg.send_bytes;
  if (a->conn && all_queued && a->cfg.shutdown_when_sent && !a->shutdown_sent) {
    int rc = tou_conn_shutdown(a->conn, now);
    if (rc < 0) a->last_api_error = rc;
    a->shutdown_sent = true;
    a->received_at_shutdown = a->received;
  }
  if (all_queued && a->cfg.close_when_sent) release(a, false);
  if (all_queued && a->eof && a->cfg.close_when_done) release(a, false);
}

void sim_app_on_events(sim_app_t *a, unsigned events) {
  if (!a->conn) return;
  uint64_t now = sim_now(a->host->sim);
  if ((events & TOU_EV_CONNECTED) && !a->connected) {
    a->connected = true;
    a->t_connected = now;
  }
  if (events & TOU_EV_SHUTDOWN) {
    a->fin_acked = true;
    a->t_fin_acked = now;
  }
  pump(a);
  if ((events & TOU_EV_CLOSED) && a->conn) {
    a->closed = true;
    a->t_closed = now;
    a->error = tou_conn_error(a->conn);
    release(a, false); /* the connection is over; hand it back to the core */
  }
}

void sim_app_on_state(sim_app_t *a, tou_state_t state) {
  a->state = state;
  a->states_seen |= 1u << state;
}

void sim_app_detach(sim_app_t *a) { a->conn = NULL; }

sim_app_t *sim_app_connect(sim_host_t *h, const tou_addr_t *peer, const sim_app_cfg_t *cfg,
                           int *err) {
  int e = 0;
  tou_conn_t *c = tou_ep_connect(h->ep, sim_now(h->sim), peer, &e);
  if (err) *err = e;
  if (!c) return NULL;
  sim_app_t *a = app_new(h, c, cfg);
  sim_host_kick(h);
  return a;
}

sim_app_t *sim_app_attach(sim_host_t *h, tou_conn_t *c, const sim_app_cfg_t *cfg) {
  sim_app_t *a = app_new(h, c, cfg);
  a->connected = true;
  a->t_connected = sim_now(h->sim);
  pump(a);
  sim_host_kick(h);
  return a;
}

void sim_app_send_more(sim_app_t *a, size_t bytes) {
  a->cfg.send_bytes += bytes;
  pump(a);
  sim_host_kick(a->host);
}

void sim_app_shutdown(sim_app_t *a) {
  a->cfg.shutdown_when_sent = true;
  pump(a);
  sim_host_kick(a->host);
}

void sim_app_close(sim_app_t *a) {
  release(a, false);
  sim_host_kick(a->host);
}

void sim_app_abort(sim_app_t *a) {
  release(a, true);
  sim_host_kick(a->host);
}

void sim_app_set_reading(sim_app_t *a, bool reading) {
  a->cfg.no_read = !reading;
  pump(a);
  sim_host_kick(a->host);
}

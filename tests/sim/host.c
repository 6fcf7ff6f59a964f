#include "host.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "segfmt.h"

static const sim_node_ops_t host_ops;

static bool trace_enabled(void) {
  const char *t = getenv("TOU_SIM_TRACE");
  return t && *t && strcmp(t, "0") != 0;
}

static void print_trace(const sim_host_t *h, const tou_trace_event_t *ev) {
  char seg[256];
  double t = (double)ev->now / 1e6;
  switch (ev->kind) {
    case TOU_TRACE_STATE:
      fprintf(stderr, "%10.6f %-6s state %s -> %s\n", t, h->name, tou_state_name(ev->old_state),
              tou_state_name(ev->new_state));
      break;
    case TOU_TRACE_SEG_SENT:
    case TOU_TRACE_SEG_RECV:
      fprintf(stderr, "%10.6f %-6s %s %s%s\n", t, h->name,
              ev->kind == TOU_TRACE_SEG_SENT ? "sent" : "recv",
              ev->seg ? sim_seg_str(ev->seg, seg, sizeof seg) : "?",
              ev->conn ? "" : " (no connection)");
      break;
    case TOU_TRACE_SEG_DROP:
      fprintf(stderr, "%10.6f %-6s drop %s\n", t, h->name, tou_error_name(ev->error));
      break;
  }
}

static void count_segment(sim_host_stats_t *st, const tou_trace_event_t *ev) {
  if (ev->kind == TOU_TRACE_SEG_RECV) {
    st->seg_recv++;
    if (ev->seg && (ev->seg->flags & TOU_RST)) st->rst_recv++;
    return;
  }
  if (ev->kind == TOU_TRACE_SEG_DROP) {
    st->seg_drop++;
    return;
  }
  if (ev->kind != TOU_TRACE_SEG_SENT || !ev->seg) return;
  uint8_t f = ev->seg->flags;
  st->seg_sent++;
  if (f & TOU_RST) st->rst_sent++;
  if ((f & (TOU_SYN | TOU_ACK)) == TOU_SYN) st->syn_sent++;
  if ((f & (TOU_SYN | TOU_ACK)) == (TOU_SYN | TOU_ACK)) st->synack_sent++;
  if ((f & (TOU_SYN | TOU_FIN | TOU_RST | TOU_ACK)) == TOU_ACK && ev->seg->payload_len == 0)
    st->pure_ack_sent++;
}

static void host_trace(void *ctx, const tou_trace_event_t *ev) {
  sim_host_t *h = ctx;
  if (h->print_trace) print_trace(h, ev);
  count_segment(&h->stats, ev);
  if (ev->kind == TOU_TRACE_STATE && ev->conn) {
    sim_app_t *a = tou_conn_user(ev->conn);
    if (a) sim_app_on_state(a, ev->new_state);
  }
  if (h->on_trace) h->on_trace(h->trace_ctx, ev);
}

static void make_endpoint(sim_host_t *h) {
  uint64_t s = sim_derive_seed(h->sim);
  for (int i = 0; i < 4; i++) {
    uint64_t v = sim_splitmix64(&s);
    memcpy(h->seed + 8 * i, &v, 8);
  }
  h->cfg.seed = h->seed;
  h->cfg.trace = host_trace;
  h->cfg.trace_ctx = h;
  h->ep = tou_ep_new(&h->cfg, sim_now(h->sim));
  if (!h->ep) {
    fprintf(stderr, "sim: %s: tou_ep_new failed\n", h->name);
    abort();
  }
}

sim_host_t *sim_host_new(sim_t *sim, const char *name, const tou_addr_t *addr,
                         const tou_config_t *cfg) {
  sim_host_t *h = calloc(1, sizeof *h);
  if (!h) abort();
  h->sim = sim;
  snprintf(h->name, sizeof h->name, "%s", name);
  if (cfg)
    h->cfg = *cfg;
  else
    tou_config_default(&h->cfg);
  h->outbuf = malloc(SIM_MAX_DATAGRAM);
  if (!h->outbuf) abort();
  h->auto_accept = true;
  h->print_trace = trace_enabled();
  h->last_timer_at = TOU_NEVER;
  make_endpoint(h);
  sim_node_attach(sim, &h->node, &host_ops, addr);
  return h;
}

void sim_host_free(sim_host_t *h) {
  if (!h) return;
  sim_node_detach(&h->node);
  tou_ep_free(h->ep);
  while (h->apps) {
    sim_app_t *a = h->apps;
    h->apps = a->next;
    free(a);
  }
  free(h->outbuf);
  free(h);
}

void sim_host_restart(sim_host_t *h) {
  for (sim_app_t *a = h->apps; a; a = a->next) sim_app_detach(a);
  tou_ep_free(h->ep);
  h->ep = NULL;
  h->incarnation++;
  make_endpoint(h);
  sim_node_arm(&h->node, TOU_NEVER);
}

static void drain_output(sim_host_t *h) {
  /* One buffer per host rather than 64 KiB of stack per call (ASan makes
   * large stack frames expensive). */
  uint8_t *buf = h->outbuf;
  for (;;) {
    tou_addr_t to;
    memset(&to, 0, sizeof to);
    /* The gathered form, as the libuv binding sends: every scenario then
     * carries payloads described in place, in two pieces where they cross
     * the send ring's wrap point. */
    tou_payload_ref_t payload;
    int n = tou_ep_output_gather(h->ep, sim_now(h->sim), &to, buf, SIM_MAX_DATAGRAM, &payload);
    if (n == 0) return;
    if (n < 0) {
      /* A negative return is a core bug or a resource limit; count it and
       * stop so a persistent error cannot spin forever. */
      h->stats.output_errors++;
      h->stats.last_output_error = n;
      return;
    }
    size_t head = (size_t)n - tou_payload_len(&payload);
    for (int i = 0; i < 2 && payload.len[i] > 0; i++) {
      memcpy(buf + head, payload.data[i], payload.len[i]);
      head += payload.len[i];
    }
    if (payload.len[1] > 0) h->stats.split_payloads++;
    h->stats.datagrams_out++;
    sim_send(h->sim, &h->node.addr, &to, buf, (size_t)n);
  }
}

static void accept_all(sim_host_t *h) {
  tou_conn_t *c;
  while ((c = tou_ep_accept(h->ep)) != NULL) h->last_accepted = sim_app_attach(h, c, &h->accept_cfg);
}

/* Returns true when at least one event set was handled. */
static bool drain_events(sim_host_t *h) {
  tou_conn_t *c;
  unsigned events;
  bool any = false;
  while (tou_ep_next_event(h->ep, &c, &events)) {
    any = true;
    h->stats.events++;
    if (h->on_event) h->on_event(h, c, events, h->event_ctx);
    if (!c) {
      if ((events & TOU_EV_ACCEPT) && h->auto_accept) accept_all(h);
      continue;
    }
    sim_app_t *a = tou_conn_user(c);
    if (a) sim_app_on_events(a, events);
  }
  return any;
}

void sim_host_kick(sim_host_t *h) {
  if (h->busy) {
    h->again = true;
    return;
  }
  h->busy = true;
  do {
    h->again = false;
    drain_output(h);
    if (drain_events(h)) h->again = true;
  } while (h->again);
  h->busy = false;
  sim_node_arm(&h->node, tou_ep_next_deadline(h->ep));
}

int sim_host_listen(sim_host_t *h, unsigned backlog) {
  int rc = tou_ep_listen(h->ep, backlog);
  sim_host_kick(h);
  return rc;
}

static void host_datagram(sim_node_t *node, const tou_addr_t *from, const uint8_t *data,
                          size_t len) {
  sim_host_t *h = (sim_host_t *)node;
  h->stats.datagrams_in++;
  tou_ep_input(h->ep, sim_now(h->sim), from, data, len);
  sim_host_kick(h);
}

static void host_timer(sim_node_t *node) {
  sim_host_t *h = (sim_host_t *)node;
  uint64_t now = sim_now(h->sim);
  /* A deadline that does not move past now after on_timer would spin the
   * simulation at one instant forever: report it as the core bug it is. */
  if (now == h->last_timer_at) {
    if (++h->timer_spins > 100000) {
      fprintf(stderr, "sim: %s: timer fired 100000 times at t=%llu us without progress\n",
              h->name, (unsigned long long)now);
      abort();
    }
  } else {
    h->last_timer_at = now;
    h->timer_spins = 0;
  }
  tou_ep_on_timer(h->ep, now);
  sim_host_kick(h);
}

static const sim_node_ops_t host_ops = {.datagram = host_datagram, .timer = host_timer};

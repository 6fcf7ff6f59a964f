/* libFuzzer target: two whole endpoints driven by the input. Each input byte
 * picks an operation: application calls (connect, listen, accept, send,
 * recv, shutdown, user timeout, close, abort), the network between the two (deliver,
 * drop, duplicate, reorder), crafted segments aimed near a connection's
 * sequence numbers, time advancing and timers firing, and allocation
 * failures. Checks: no crash or sanitizer report, the endpoints' bounds and
 * timer heap hold, and (when no crafted segment was injected) every byte
 * read is the byte the peer wrote at that stream offset. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "core.h"
#include "timer_heap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_HELD 8
#define MAX_Q 64
#define MAX_OPS 4000

typedef struct held {
  tou_conn_t *c;
  uint64_t written, read; /* stream offsets */
} held_t;

typedef struct dgram {
  int to;
  size_t len;
  uint8_t b[1600];
} dgram_t;

typedef struct fuzz {
  const uint8_t *p;
  size_t n;
  uint64_t now;
  tou_ep_t *ep[2];
  tou_addr_t addr[2];
  held_t held[2][MAX_HELD];
  dgram_t q[MAX_Q];
  size_t qlen;
  bool fail_alloc;
  bool injected;
  unsigned ops;
} fuzz_t;

static uint8_t next(fuzz_t *f) {
  if (f->n == 0) return 0;
  f->n--;
  return *f->p++;
}
static uint32_t next32(fuzz_t *f) {
  uint32_t v = 0;
  for (int i = 0; i < 4; i++) v = v << 8 | next(f);
  return v;
}

static void *fz_alloc(void *ctx, size_t size) { return ((fuzz_t *)ctx)->fail_alloc ? NULL : malloc(size); }
static void fz_free(void *ctx, void *p) {
  (void)ctx;
  free(p);
}

static uint8_t pattern(uint64_t off) { return (uint8_t)(off * 31 + (off >> 9) + 7); }

/* Timer invariants after every operation; the bounds (tou_ep_get_stats()
 * is not free: it estimates flood sources) every 16. */
static void check(fuzz_t *f) {
  bool bounds = f->ops++ % 16 == 0;
  for (int i = 0; i < 2; i++) {
    if (!ep_timers_check(f->ep[i]) || !ep_progress_check(f->ep[i])) abort();
    if (!bounds) continue;
    tou_ep_stats_t s;
    tou_ep_get_stats(f->ep[i], &s);
    if (s.connections > 16 || s.time_wait > 4 || s.half_open > 4) abort();
  }
}

static void pump(fuzz_t *f) {
  for (int i = 0; i < 2; i++) {
    uint8_t buf[1600];
    tou_addr_t to;
    int n;
    while ((n = tou_ep_output(f->ep[i], f->now, &to, buf, sizeof buf)) > 0) {
      if (f->qlen == MAX_Q) continue;
      dgram_t *d = &f->q[f->qlen++];
      d->to = 1 - i;
      d->len = (size_t)n;
      memcpy(d->b, buf, (size_t)n);
    }
    tou_conn_t *c;
    unsigned ev;
    while (tou_ep_next_event(f->ep[i], &c, &ev)) {
      if (c != NULL || !(ev & TOU_EV_ACCEPT)) continue;
      for (int k = 0; k < MAX_HELD; k++) {
        if (f->held[i][k].c != NULL) continue;
        tou_conn_t *a = tou_ep_accept(f->ep[i]);
        if (a == NULL) break;
        f->held[i][k] = (held_t){a, 0, 0};
      }
    }
  }
  check(f);
}

static held_t *pick_held(fuzz_t *f, int side) {
  held_t *h = &f->held[side][next(f) % MAX_HELD];
  return h->c != NULL ? h : NULL;
}

static void app_send(fuzz_t *f, int side) {
  held_t *h = pick_held(f, side);
  if (h == NULL) return;
  uint8_t buf[4096];
  size_t len = (size_t)next(f) * 16;
  for (size_t i = 0; i < len; i++) buf[i] = pattern(h->written + i);
  int n = tou_conn_send(h->c, f->now, buf, len);
  if (n > 0) h->written += (uint64_t)n;
}

static void app_recv(fuzz_t *f, int side) {
  held_t *h = pick_held(f, side);
  if (h == NULL) return;
  uint8_t buf[4096];
  int n = tou_conn_recv(h->c, f->now, buf, (size_t)next(f) * 16 + 1);
  if (n <= 0 || f->injected) return;
  for (int i = 0; i < n; i++)
    if (buf[i] != pattern(h->read + (uint64_t)i)) abort();
  h->read += (uint64_t)n;
}

static void app_release(fuzz_t *f, int side, bool abort_it) {
  held_t *h = pick_held(f, side);
  if (h == NULL) return;
  if (abort_it)
    tou_conn_abort(h->c, f->now);
  else
    tou_conn_close(h->c, f->now);
  h->c = NULL;
}

static void app_connect(fuzz_t *f, int side) {
  for (int k = 0; k < MAX_HELD; k++) {
    if (f->held[side][k].c != NULL) continue;
    int err;
    tou_conn_t *c = tou_ep_connect(f->ep[side], f->now, &f->addr[1 - side], &err);
    if (c != NULL) f->held[side][k] = (held_t){c, 0, 0};
    return;
  }
}

static void net_op(fuzz_t *f) {
  if (f->qlen == 0) return;
  uint8_t b = next(f);
  size_t i = (size_t)(b >> 2) % f->qlen;
  dgram_t d = f->q[i];
  switch (b & 3) {
    case 0: /* deliver the oldest */
    case 1: /* deliver one out of order */
      if ((b & 3) == 0) i = 0, d = f->q[0];
      memmove(&f->q[i], &f->q[i + 1], (f->qlen - i - 1) * sizeof f->q[0]);
      f->qlen--;
      tou_ep_input(f->ep[d.to], f->now, &f->addr[1 - d.to], d.b, d.len);
      break;
    case 2: /* drop */
      memmove(&f->q[i], &f->q[i + 1], (f->qlen - i - 1) * sizeof f->q[0]);
      f->qlen--;
      break;
    case 3: /* duplicate */
      tou_ep_input(f->ep[d.to], f->now, &f->addr[1 - d.to], d.b, d.len);
      break;
  }
}

/* A segment aimed at one of `side`'s connections, with sequence and
 * acknowledgment numbers near its own so that it reaches the deep checks. */
static void inject(fuzz_t *f, int side) {
  f->injected = true;
  held_t *h = pick_held(f, side);
  tou_segment_t s;
  memset(&s, 0, sizeof s);
  s.flags = next(f) & 0x3f;
  uint8_t how = next(f);
  tou_seq_t rcv = h ? h->c->rcv_nxt : next32(f), una = h ? h->c->snd_una : next32(f);
  s.dst_cid = (how & 1) ? 0 : h ? h->c->local_cid : next32(f);
  s.src_cid = (how & 2) && h ? h->c->remote_cid : next32(f);
  s.seq = (how & 4) ? next32(f) : rcv + (tou_seq_t)(int8_t)next(f);
  s.ack = (how & 8) ? next32(f) : una + (tou_seq_t)(int8_t)next(f);
  s.window = (uint16_t)(next(f) << 8 | next(f));
  if (how & 16) {
    s.opts.present = next(f) & (TOU_OPT_MSS | TOU_OPT_WSCALE | TOU_OPT_SACK_PERM |
                                TOU_OPT_TIMESTAMP | TOU_OPT_SACK | TOU_OPT_UTO);
    s.opts.uto = (uint16_t)(next(f) << 8 | next(f));
    s.opts.mss = (uint16_t)(next(f) << 4);
    s.opts.wscale = next(f) % 15;
    s.opts.ts_val = next32(f);
    s.opts.sack_count = 1;
    s.opts.sack[0].left = una + (tou_seq_t)(int8_t)next(f) * 100;
    s.opts.sack[0].right = s.opts.sack[0].left + next(f) * 10u;
  }
  uint8_t payload[255];
  s.payload_len = (how & 32) ? next(f) : 0;
  for (size_t i = 0; i < s.payload_len; i++) payload[i] = next(f);
  s.payload = payload;
  uint8_t buf[1600];
  int n = tou_wire_encode(&s, buf, sizeof buf);
  if (n > 0) tou_ep_input(f->ep[side], f->now, &f->addr[1 - side], buf, (size_t)n);
}

static void advance(fuzz_t *f) {
  uint8_t b = next(f);
  uint64_t step = (b & 0x80) ? (uint64_t)(b & 0x7f) * 1000000 : (uint64_t)b * 1000;
  f->now += step;
  for (int i = 0; i < 2; i++)
    if (tou_ep_next_deadline(f->ep[i]) <= f->now) tou_ep_on_timer(f->ep[i], f->now);
}

static void run(fuzz_t *f) {
  for (int ops = 0; ops < MAX_OPS && f->n > 0; ops++) {
    uint8_t op = next(f);
    int side = op & 1;
    switch ((op >> 1) % 16) {
      case 0: app_connect(f, side); break;
      case 1: tou_ep_listen(f->ep[side], 1 + next(f) % 3); break;
      case 2: tou_ep_unlisten(f->ep[side]); break;
      case 3: case 4: app_send(f, side); break;
      case 5: app_recv(f, side); break;
      case 6: {
        held_t *h = pick_held(f, side);
        uint8_t b = next(f);
        if (h && (b & 1)) /* an RFC 5482 user timeout, announced to the peer */
          tou_conn_set_user_timeout(h->c, f->now, (uint64_t)(b >> 1) * 100000);
        else if (h)
          tou_conn_shutdown(h->c, f->now);
        break;
      }
      case 7: app_release(f, side, false); break;
      case 8: app_release(f, side, true); break;
      case 9: case 10: case 11: net_op(f); break;
      case 12: inject(f, side); break;
      case 13: case 14: advance(f); break;
      case 15: f->fail_alloc = !f->fail_alloc; break;
    }
    pump(f);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static fuzz_t f;
  memset(&f, 0, sizeof f);
  f.p = data;
  f.n = size;
  f.now = 1000000;
  for (int i = 0; i < 2; i++) {
    tou_config_t cfg;
    tou_config_default(&cfg);
    uint8_t seed[32] = {(uint8_t)i};
    cfg.seed = seed;
    cfg.max_connections = 16;
    cfg.max_time_wait = 4;
    cfg.syn_backlog = 4;
    cfg.send_buffer = 16384;
    cfg.recv_buffer = 8192;
    cfg.msl_us = 2000000;
    cfg.syn_retries = 3;
    cfg.data_retries = 4;
    /* RFC 5482: A announces a user timeout, B adopts announcements
     * (bounded: the timers must still fire within the input's time). */
    cfg.user_timeout_us = i == 0 ? 3000000 : 0;
    cfg.user_timeout_accept = i == 1;
    cfg.user_timeout_min_us = 1000000;
    cfg.user_timeout_max_us = 60000000;
    cfg.allocator = (tou_allocator_t){fz_alloc, fz_free, &f};
    f.ep[i] = tou_ep_new(&cfg, f.now);
    if (f.ep[i] == NULL) abort();
    f.addr[i] = (tou_addr_t){.len = 1, .bytes = {(uint8_t)('A' + i)}};
  }
  run(&f);
  for (int i = 0; i < 2; i++) tou_ep_free(f.ep[i]);
  return 0;
}

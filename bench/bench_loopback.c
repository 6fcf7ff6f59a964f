/* tou vs kernel TCP vs raw UDP over loopback, all driven by one libuv loop
 * in one thread (both ends in this process), printed as ratios:
 *   - bulk goodput (same payload per datagram as tou's MSS for UDP), with the
 *     CPU time used (getrusage), over 5 runs: median, min, max; tou with
 *     UDP GSO/GRO (where the kernel has them) and with them disabled,
 *     alternating in the same runs;
 *   - ping-pong round trips per second (64-byte messages);
 *   - memory per idle tou connection (RSS and address-space growth);
 *   - connections accepted per second (tou vs TCP).
 * Usage: bench_loopback [MiB per bulk run, default 64] [tou-only|tou-on|tou-off|pingpong|many]
 *   tou-only: only tou's bulk runs (offloads on, then off); tou-on, tou-off:
 *   only one of them (for perf); pingpong: only the ping-pong runs, tou with
 *   the receive fast path on and off, tcp and udp, interleaved; many: only
 *   the 1000 tou connections (accept rate, memory per idle connection). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <tou.h>

#define RUNS 5
#define CHUNK 65536
#define INFLIGHT 4
#define PING_SIZE 64
#define PING_ROUNDS 20000
#define IDLE_CONNS 1000
#define ACCEPT_CONNS 1000
#define UDP_PAYLOAD 1444

static uv_loop_t *loop;
static uint64_t bulk_bytes;
static char chunk[CHUNK];
static char rbuf[CHUNK];

typedef struct result {
  double seconds, cpu_seconds, mbit;
  uint64_t bytes;
  uint64_t retransmitted, timeouts, send_errors; /* tou only */
  uint64_t dropped_local; /* tou: datagrams dropped for a full socket buffer (both ends) */
  double per_batch, per_recv_batch; /* sender's datagrams per sendmmsg / per receive batch */
  uint64_t gso_buffers, gro_buffers; /* sender's GSO buffers, receiver's GRO buffers */
  uint64_t data_dgrams, ack_dgrams;  /* datagrams sent by the sender, by the receiver */
} result_t;

static double now_s(void) { return (double)uv_hrtime() / 1e9; }

static double cpu_s(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
         ru.ru_stime.tv_usec / 1e6;
}

static void loopback(struct sockaddr_in *a) { uv_ip4_addr("127.0.0.1", 0, a); }

static void die(const char *what, int r) {
  fprintf(stderr, "bench_loopback: %s: %s\n", what, uv_strerror(r));
  exit(1);
}

/* Runs the loop until *flag. */
static void run_until(const bool *flag) {
  while (!*flag) uv_run(loop, UV_RUN_ONCE);
}

static void drain_loop(void) {
  uv_run(loop, UV_RUN_DEFAULT);
}

/* ======================= tou ======================= */

typedef struct tou_pair {
  tou_endpoint_t a, b;
  struct sockaddr_storage b_addr;
  tou_stream_t client, server;
  tou_connect_t creq;
  tou_write_t writes[INFLIGHT];
  tou_shutdown_t shut;
  uint64_t queued, received, pings;
  int inflight;
  bool connected, accepted, done;
  double t_start, t_end;
} tou_pair_t;

static tou_pair_t *TP;

static unsigned tou_mss; /* 0: the default (1444, a 1500-byte path) */
static int tou_no_offload; /* tou_endpoint_options_t.disable_udp_offload */
static int tou_no_direct;  /* tou_endpoint_options_t.disable_direct_read */

static void tou_ep_open(tou_endpoint_t *ep, struct sockaddr_storage *bound, int nodelay,
                        unsigned buf) {
  tou_endpoint_options_t o;
  tou_endpoint_options_init(&o);
  if (tou_mss) o.mss = tou_mss;
  o.disable_udp_offload = tou_no_offload;
  o.disable_direct_read = tou_no_direct;
  o.syn_backlog = 2048; /* like the kernel's SYN queue for a listen(n) of 1000 */
  o.nodelay = nodelay;
  if (buf) o.send_buffer = o.recv_buffer = buf;
  int r = tou_endpoint_init(loop, ep, &o);
  struct sockaddr_in any;
  loopback(&any);
  if (r == 0) r = tou_endpoint_bind(ep, (struct sockaddr *)&any, 0);
  int len = sizeof *bound;
  if (r == 0) r = tou_endpoint_getsockname(ep, (struct sockaddr *)bound, &len);
  if (r) die("tou endpoint", r);
}

static void tou_alloc(tou_stream_t *s, size_t sz, uv_buf_t *b) {
  (void)s, (void)sz;
  *b = uv_buf_init(rbuf, sizeof rbuf);
}

static void tou_on_conn(tou_endpoint_t *ep, int status) {
  if (status) die("tou listen", status);
  if (tou_accept(ep, &TP->server)) die("tou accept", UV_EAGAIN);
  TP->accepted = true;
}

static void tou_on_connect(tou_connect_t *req, int status) {
  (void)req;
  if (status) die("tou connect", status);
  TP->connected = true;
}

static void tou_pair_open(tou_pair_t *p, int nodelay, unsigned buf) {
  memset(p, 0, sizeof *p);
  TP = p;
  struct sockaddr_storage a_addr;
  tou_ep_open(&p->a, &a_addr, nodelay, buf);
  tou_ep_open(&p->b, &p->b_addr, nodelay, buf);
  tou_listen(&p->b, 16, tou_on_conn);
  int r = tou_connect(&p->creq, &p->a, &p->client, (struct sockaddr *)&p->b_addr, tou_on_connect);
  if (r) die("tou connect", r);
  run_until(&p->connected);
  run_until(&p->accepted);
}

static void tou_pair_close(tou_pair_t *p) {
  tou_close((tou_handle_t *)&p->client, NULL);
  tou_close((tou_handle_t *)&p->server, NULL);
  tou_close((tou_handle_t *)&p->a, NULL);
  tou_close((tou_handle_t *)&p->b, NULL);
  drain_loop();
}

static void tou_bulk_fill(void);

static void tou_bulk_written(tou_write_t *w, int status) {
  if (status) die("tou write", status);
  w->data = NULL; /* the slot is free again */
  TP->inflight--;
  tou_bulk_fill();
}

static void tou_bulk_fill(void) {
  for (int i = 0; i < INFLIGHT && TP->queued < bulk_bytes; i++) {
    if (TP->writes[i].data != NULL) continue;
    TP->writes[i].data = (void *)1;
    uv_buf_t b = uv_buf_init(chunk, CHUNK);
    int r = tou_write(&TP->writes[i], &TP->client, &b, 1, tou_bulk_written);
    if (r) die("tou write", r);
    TP->inflight++;
    TP->queued += CHUNK;
  }
  if (TP->queued >= bulk_bytes && TP->inflight == 0 && !TP->shut.handle)
    tou_shutdown(&TP->shut, &TP->client, NULL);
}

static void tou_bulk_read(tou_stream_t *s, ssize_t n, const uv_buf_t *b) {
  (void)s, (void)b;
  if (n > 0) TP->received += (uint64_t)n;
  else if (n < 0) {
    TP->t_end = now_s();
    TP->done = true;
  }
}

static result_t tou_bulk(void) {
  tou_pair_t p;
  tou_pair_open(&p, 0, 4 << 20);
  tou_read_start(&p.server, tou_alloc, tou_bulk_read);
  double c0 = cpu_s();
  p.t_start = now_s();
  tou_bulk_fill();
  run_until(&p.done);
  result_t r = {.seconds = p.t_end - p.t_start, .cpu_seconds = cpu_s() - c0, .bytes = p.received};
  r.mbit = (double)p.received * 8 / r.seconds / 1e6;
  tou_stream_info_t info;
  tou_endpoint_stats_t es;
  tou_get_info(&p.client, &info);
  tou_endpoint_stats(&p.b, &es);
  r.retransmitted = info.segs_retransmitted;
  r.timeouts = info.timeouts;
  r.send_errors = es.send_errors;
  r.dropped_local = es.datagrams_dropped_local;
  r.gro_buffers = es.gro_buffers;
  r.ack_dgrams = es.datagrams_sent;
  tou_endpoint_stats(&p.a, &es);
  r.gso_buffers = es.gso_buffers;
  r.data_dgrams = es.datagrams_sent;
  r.send_errors += es.send_errors;
  r.dropped_local += es.datagrams_dropped_local;
  r.per_batch = es.send_batches ? (double)es.datagrams_sent / (double)es.send_batches : 0;
  r.per_recv_batch =
      es.batches_received ? (double)es.datagrams_received / (double)es.batches_received : 0;
  tou_pair_close(&p);
  return r;
}

static void tou_ping_read(tou_stream_t *s, ssize_t n, const uv_buf_t *b);
static tou_write_t ping_w[2];

static void tou_ping_send(tou_stream_t *s, int slot) {
  uv_buf_t b = uv_buf_init(chunk, PING_SIZE);
  int r = tou_try_write(s, &b, 1);
  if (r == PING_SIZE) return;
  if (r > 0) b = uv_buf_init(chunk + r, (unsigned)(PING_SIZE - r));
  if (tou_write(&ping_w[slot], s, &b, 1, NULL)) die("tou ping write", 0);
}

static uint64_t srv_got, cli_got;
static void tou_ping_read(tou_stream_t *s, ssize_t n, const uv_buf_t *b) {
  (void)b;
  if (n <= 0) return;
  if (s == &TP->server) {
    srv_got += (uint64_t)n;
    while (srv_got >= PING_SIZE) {
      srv_got -= PING_SIZE;
      tou_ping_send(s, 1);
    }
  } else {
    cli_got += (uint64_t)n;
    while (cli_got >= PING_SIZE) {
      cli_got -= PING_SIZE;
      if (++TP->pings == PING_ROUNDS) {
        TP->t_end = now_s();
        TP->done = true;
        return;
      }
      tou_ping_send(s, 0);
    }
  }
}

static double tou_pingpong(void) {
  tou_pair_t p;
  tou_pair_open(&p, 1, 0);
  srv_got = cli_got = 0;
  tou_read_start(&p.server, tou_alloc, tou_ping_read);
  tou_read_start(&p.client, tou_alloc, tou_ping_read);
  p.t_start = now_s();
  tou_ping_send(&p.client, 0);
  run_until(&p.done);
  double rate = PING_ROUNDS / (p.t_end - p.t_start);
  tou_pair_close(&p);
  return rate;
}

/* Many connections: accepted per second, and memory per idle connection. */
static tou_stream_t *many_srv;
static int many_accepted, many_connected, many_target;
static bool many_done;

static void many_on_conn(tou_endpoint_t *ep, int status) {
  if (status) die("tou listen", status);
  if (tou_accept(ep, &many_srv[many_accepted])) return;
  if (++many_accepted == many_target && many_connected == many_target) many_done = true;
}

static void many_on_connect(tou_connect_t *req, int status) {
  (void)req;
  if (status) die("tou connect (many)", status);
  if (++many_connected == many_target && many_accepted == many_target) many_done = true;
}

static long statm_kib(bool virtual_size) {
  FILE *f = fopen("/proc/self/statm", "r");
  long pages = 0, resident = 0;
  if (f) {
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2) pages = resident = 0;
    fclose(f);
  }
  return (virtual_size ? pages : resident) * (sysconf(_SC_PAGESIZE) / 1024);
}
static long rss_kib(void) { return statm_kib(false); }
/* Address space: memory allocated but never touched (a large malloc is
 * mmapped and only its touched pages are resident) shows here only. */
static double many_vsz_kib;

static double tou_many(int n, double *kib_per_conn) {
  enum { EPS = 4 };
  tou_endpoint_t server, clients[EPS];
  struct sockaddr_storage saddr, caddr;
  tou_ep_open(&server, &saddr, 0, 0);
  for (int i = 0; i < EPS; i++) tou_ep_open(&clients[i], &caddr, 0, 0);
  tou_stream_t *cli = calloc((size_t)n, sizeof *cli);
  tou_connect_t *reqs = calloc((size_t)n, sizeof *reqs);
  many_srv = calloc((size_t)n, sizeof *many_srv);
  many_accepted = many_connected = 0;
  many_target = n;
  many_done = false;
  tou_listen(&server, n, many_on_conn);
  uv_run(loop, UV_RUN_NOWAIT);
  long rss0 = rss_kib(), vsz0 = statm_kib(true);
  double t0 = now_s();
  for (int i = 0; i < n; i++)
    if (tou_connect(&reqs[i], &clients[i % EPS], &cli[i], (struct sockaddr *)&saddr,
                    many_on_connect))
      die("tou connect", 0);
  run_until(&many_done);
  double secs = now_s() - t0;
  /* Idle: both ends of every connection stay open. */
  *kib_per_conn = (double)(rss_kib() - rss0) / (2.0 * n);
  many_vsz_kib = (double)(statm_kib(true) - vsz0) / (2.0 * n);
  for (int i = 0; i < n; i++) {
    tou_close((tou_handle_t *)&cli[i], NULL);
    tou_close((tou_handle_t *)&many_srv[i], NULL);
  }
  for (int i = 0; i < EPS; i++) tou_close((tou_handle_t *)&clients[i], NULL);
  tou_close((tou_handle_t *)&server, NULL);
  drain_loop();
  free(cli);
  free(reqs);
  free(many_srv);
  return n / secs;
}

/* ======================= kernel TCP ======================= */

typedef struct tcp_pair {
  uv_tcp_t listener, client, server;
  uv_connect_t creq;
  uv_write_t writes[INFLIGHT];
  uv_shutdown_t shut;
  uint64_t queued, received, pings;
  int inflight;
  bool connected, accepted, done;
  double t_start, t_end;
} tcp_pair_t;

static tcp_pair_t *KP;

static void tcp_alloc(uv_handle_t *h, size_t sz, uv_buf_t *b) {
  (void)h, (void)sz;
  *b = uv_buf_init(rbuf, sizeof rbuf);
}

static void tcp_on_conn(uv_stream_t *l, int status) {
  if (status) die("tcp listen", status);
  uv_tcp_init(loop, &KP->server);
  if (uv_accept(l, (uv_stream_t *)&KP->server)) die("tcp accept", 0);
  uv_tcp_nodelay(&KP->server, 1);
  KP->accepted = true;
}

static void tcp_on_connect(uv_connect_t *req, int status) {
  (void)req;
  if (status) die("tcp connect", status);
  KP->connected = true;
}

static void tcp_pair_open(tcp_pair_t *p) {
  memset(p, 0, sizeof *p);
  KP = p;
  struct sockaddr_in any;
  struct sockaddr_storage addr;
  int len = sizeof addr;
  loopback(&any);
  uv_tcp_init(loop, &p->listener);
  uv_tcp_bind(&p->listener, (struct sockaddr *)&any, 0);
  uv_listen((uv_stream_t *)&p->listener, 16, tcp_on_conn);
  uv_tcp_getsockname(&p->listener, (struct sockaddr *)&addr, &len);
  uv_tcp_init(loop, &p->client);
  uv_tcp_nodelay(&p->client, 1);
  uv_tcp_connect(&p->creq, &p->client, (struct sockaddr *)&addr, tcp_on_connect);
  run_until(&p->connected);
  run_until(&p->accepted);
}

static void tcp_pair_close(tcp_pair_t *p) {
  uv_close((uv_handle_t *)&p->client, NULL);
  uv_close((uv_handle_t *)&p->server, NULL);
  uv_close((uv_handle_t *)&p->listener, NULL);
  drain_loop();
}

static void tcp_fill(void);
static void tcp_written(uv_write_t *w, int status) {
  (void)w;
  if (status) die("tcp write", status);
  KP->inflight--;
  tcp_fill();
}

static void tcp_fill(void) {
  while (KP->inflight < INFLIGHT && KP->queued < bulk_bytes) {
    uv_buf_t b = uv_buf_init(chunk, CHUNK);
    /* slot = any request not in flight: completion order is FIFO */
    static unsigned next;
    uv_write(&KP->writes[next++ % INFLIGHT], (uv_stream_t *)&KP->client, &b, 1, tcp_written);
    KP->inflight++;
    KP->queued += CHUNK;
  }
  if (KP->queued >= bulk_bytes && KP->inflight == 0 && !KP->shut.handle)
    uv_shutdown(&KP->shut, (uv_stream_t *)&KP->client, NULL);
}

static void tcp_bulk_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b) {
  (void)s, (void)b;
  if (n > 0) KP->received += (uint64_t)n;
  else if (n < 0) {
    KP->t_end = now_s();
    KP->done = true;
    uv_read_stop(s);
  }
}

static result_t tcp_bulk(void) {
  tcp_pair_t p;
  tcp_pair_open(&p);
  uv_read_start((uv_stream_t *)&p.server, tcp_alloc, tcp_bulk_read);
  double c0 = cpu_s();
  p.t_start = now_s();
  tcp_fill();
  run_until(&p.done);
  result_t r = {.seconds = p.t_end - p.t_start, .cpu_seconds = cpu_s() - c0, .bytes = p.received};
  r.mbit = (double)p.received * 8 / r.seconds / 1e6;
  tcp_pair_close(&p);
  return r;
}

static void tcp_ping_send(uv_stream_t *s) {
  uv_buf_t b = uv_buf_init(chunk, PING_SIZE);
  int r = uv_try_write(s, &b, 1);
  if (r != PING_SIZE) die("tcp try_write", r < 0 ? r : 0);
}

static void tcp_ping_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b) {
  (void)b;
  if (n <= 0) return;
  if (s == (uv_stream_t *)&KP->server) {
    srv_got += (uint64_t)n;
    while (srv_got >= PING_SIZE) {
      srv_got -= PING_SIZE;
      tcp_ping_send(s);
    }
  } else {
    cli_got += (uint64_t)n;
    while (cli_got >= PING_SIZE) {
      cli_got -= PING_SIZE;
      if (++KP->pings == PING_ROUNDS) {
        KP->t_end = now_s();
        KP->done = true;
        return;
      }
      tcp_ping_send(s);
    }
  }
}

static double tcp_pingpong(void) {
  tcp_pair_t p;
  tcp_pair_open(&p);
  srv_got = cli_got = 0;
  uv_read_start((uv_stream_t *)&p.server, tcp_alloc, tcp_ping_read);
  uv_read_start((uv_stream_t *)&p.client, tcp_alloc, tcp_ping_read);
  p.t_start = now_s();
  tcp_ping_send((uv_stream_t *)&p.client);
  run_until(&p.done);
  double rate = PING_ROUNDS / (p.t_end - p.t_start);
  tcp_pair_close(&p);
  return rate;
}

static uv_tcp_t *tcp_many_srv;
static void tcp_many_on_conn(uv_stream_t *l, int status) {
  if (status) die("tcp listen (many)", status);
  uv_tcp_init(loop, &tcp_many_srv[many_accepted]);
  if (uv_accept(l, (uv_stream_t *)&tcp_many_srv[many_accepted])) die("tcp accept", 0);
  if (++many_accepted == many_target && many_connected == many_target) many_done = true;
}

static void tcp_many_on_connect(uv_connect_t *req, int status) {
  (void)req;
  if (status) die("tcp connect (many)", status);
  if (++many_connected == many_target && many_accepted == many_target) many_done = true;
}

static double tcp_many(int n) {
  uv_tcp_t listener;
  struct sockaddr_in any;
  struct sockaddr_storage addr;
  int len = sizeof addr;
  loopback(&any);
  uv_tcp_init(loop, &listener);
  uv_tcp_bind(&listener, (struct sockaddr *)&any, 0);
  uv_listen((uv_stream_t *)&listener, n, tcp_many_on_conn);
  uv_tcp_getsockname(&listener, (struct sockaddr *)&addr, &len);
  uv_tcp_t *cli = calloc((size_t)n, sizeof *cli);
  uv_connect_t *reqs = calloc((size_t)n, sizeof *reqs);
  tcp_many_srv = calloc((size_t)n, sizeof *tcp_many_srv);
  many_accepted = many_connected = 0;
  many_target = n;
  many_done = false;
  double t0 = now_s();
  for (int i = 0; i < n; i++) {
    uv_tcp_init(loop, &cli[i]);
    uv_tcp_connect(&reqs[i], &cli[i], (struct sockaddr *)&addr, tcp_many_on_connect);
  }
  run_until(&many_done);
  double secs = now_s() - t0;
  for (int i = 0; i < n; i++) {
    uv_close((uv_handle_t *)&cli[i], NULL);
    uv_close((uv_handle_t *)&tcp_many_srv[i], NULL);
  }
  uv_close((uv_handle_t *)&listener, NULL);
  drain_loop();
  free(cli);
  free(reqs);
  free(tcp_many_srv);
  return n / secs;
}

/* ======================= raw UDP ======================= */

typedef struct udp_pair {
  uv_udp_t tx, rx;
  struct sockaddr_storage rx_addr;
  uv_idle_t pump;
  uv_timer_t quiet;
  uint64_t sent, received, pings;
  bool done;
  double t_start, t_last;
} udp_pair_t;

static udp_pair_t *UP;

static void udp_alloc(uv_handle_t *h, size_t sz, uv_buf_t *b) {
  (void)h, (void)sz;
  *b = uv_buf_init(rbuf, sizeof rbuf);
}

static void udp_pair_open(udp_pair_t *p) {
  memset(p, 0, sizeof *p);
  UP = p;
  struct sockaddr_in any;
  loopback(&any);
  int len = sizeof p->rx_addr;
  uv_udp_init(loop, &p->tx);
  uv_udp_init(loop, &p->rx);
  uv_udp_bind(&p->tx, (struct sockaddr *)&any, 0);
  uv_udp_bind(&p->rx, (struct sockaddr *)&any, 0);
  uv_udp_getsockname(&p->rx, (struct sockaddr *)&p->rx_addr, &len);
  int sz = 4 << 20;
  uv_recv_buffer_size((uv_handle_t *)&p->rx, &sz);
  sz = 4 << 20;
  uv_send_buffer_size((uv_handle_t *)&p->tx, &sz);
}

static void udp_pair_close(udp_pair_t *p) {
  uv_close((uv_handle_t *)&p->tx, NULL);
  uv_close((uv_handle_t *)&p->rx, NULL);
  drain_loop();
}

static void udp_blast_read(uv_udp_t *h, ssize_t n, const uv_buf_t *b, const struct sockaddr *a,
                           unsigned f) {
  (void)h, (void)b, (void)a, (void)f;
  if (n > 0) {
    UP->received += (uint64_t)n;
    UP->t_last = now_s();
  }
}

static void udp_quiet(uv_timer_t *t) {
  UP->done = true;
  uv_close((uv_handle_t *)t, NULL);
}

static void udp_blast_pump(uv_idle_t *idle) {
  uv_buf_t b = uv_buf_init(chunk, UDP_PAYLOAD);
  for (int i = 0; i < 64 && UP->sent < bulk_bytes; i++) {
    int r = uv_udp_try_send(&UP->tx, &b, 1, (struct sockaddr *)&UP->rx_addr);
    if (r < 0) break; /* socket buffer full: let the receiver run */
    UP->sent += UDP_PAYLOAD;
  }
  if (UP->sent >= bulk_bytes) {
    uv_idle_stop(idle);
    uv_close((uv_handle_t *)idle, NULL);
    uv_timer_init(loop, &UP->quiet);
    uv_timer_start(&UP->quiet, udp_quiet, 200, 0);
  }
}

static result_t udp_bulk(double *delivered) {
  udp_pair_t p;
  udp_pair_open(&p);
  uv_udp_recv_start(&p.rx, udp_alloc, udp_blast_read);
  double c0 = cpu_s();
  p.t_start = now_s();
  uv_idle_init(loop, &p.pump);
  uv_idle_start(&p.pump, udp_blast_pump);
  run_until(&p.done);
  /* The 200 ms quiet wait is not counted in the time, but its CPU is ~0. */
  result_t r = {.seconds = p.t_last - p.t_start, .cpu_seconds = cpu_s() - c0, .bytes = p.received};
  r.mbit = (double)p.received * 8 / r.seconds / 1e6;
  *delivered = (double)p.received / (double)p.sent;
  udp_pair_close(&p);
  return r;
}

static void udp_ping_read(uv_udp_t *h, ssize_t n, const uv_buf_t *b, const struct sockaddr *a,
                          unsigned f) {
  (void)b, (void)f;
  if (n <= 0 || !a) return;
  uv_buf_t out = uv_buf_init(chunk, PING_SIZE);
  if (h == &UP->rx) {
    uv_udp_try_send(h, &out, 1, a);
    return;
  }
  if (++UP->pings == PING_ROUNDS) {
    UP->t_last = now_s();
    UP->done = true;
    return;
  }
  uv_udp_try_send(h, &out, 1, (struct sockaddr *)&UP->rx_addr);
}

static double udp_pingpong(void) {
  udp_pair_t p;
  udp_pair_open(&p);
  uv_udp_recv_start(&p.rx, udp_alloc, udp_ping_read);
  uv_udp_recv_start(&p.tx, udp_alloc, udp_ping_read);
  p.t_start = now_s();
  uv_buf_t out = uv_buf_init(chunk, PING_SIZE);
  uv_udp_try_send(&p.tx, &out, 1, (struct sockaddr *)&p.rx_addr);
  run_until(&p.done);
  double rate = PING_ROUNDS / (p.t_last - p.t_start);
  udp_pair_close(&p);
  return rate;
}

/* ======================= report ======================= */

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

typedef struct summary {
  double med, min, max, cpu_per_gib; /* cpu seconds per GiB delivered */
} summary_t;

static summary_t summarize(const result_t *r) {
  double m[RUNS], cpu = 0, bytes = 0;
  for (int i = 0; i < RUNS; i++) {
    m[i] = r[i].mbit;
    cpu += r[i].cpu_seconds;
    bytes += (double)r[i].bytes;
  }
  qsort(m, RUNS, sizeof m[0], cmp_double);
  summary_t s = {m[RUNS / 2], m[0], m[RUNS - 1], cpu / (bytes / (1 << 30))};
  return s;
}

/* Ping-pong alone, each variant once per round so that load changes hit
 * them alike; medians and ratios of the same rounds. */
static void pingpong_only(void) {
  enum { ROUNDS = 7 };
  double r[4][ROUNDS];
  for (int i = 0; i < ROUNDS; i++) {
    tou_no_direct = 0;
    r[0][i] = tou_pingpong();
    tou_no_direct = 1;
    r[1][i] = tou_pingpong();
    tou_no_direct = 0;
    r[2][i] = tcp_pingpong();
    r[3][i] = udp_pingpong();
  }
  double ratio[ROUNDS];
  for (int i = 0; i < ROUNDS; i++) ratio[i] = r[0][i] / r[1][i];
  qsort(ratio, ROUNDS, sizeof ratio[0], cmp_double);
  for (int v = 0; v < 4; v++) qsort(r[v], ROUNDS, sizeof r[v][0], cmp_double);
  printf("ping-pong (%d-byte messages, round trips/s, median [min .. max] of %d rounds)\n",
         PING_SIZE, ROUNDS);
  static const char *names[4] = {"tou", "tou (receive fast path off)", "tcp", "udp"};
  for (int v = 0; v < 4; v++)
    printf("  %-28s %8.0f [%.0f .. %.0f]\n", names[v], r[v][ROUNDS / 2], r[v][0], r[v][ROUNDS - 1]);
  printf("  ratios of medians: tou/tcp %.2f  tou/udp %.2f\n", r[0][ROUNDS / 2] / r[2][ROUNDS / 2],
         r[0][ROUNDS / 2] / r[3][ROUNDS / 2]);
  printf("  fast path on/off, per round: median %.3f [%.3f .. %.3f]\n", ratio[ROUNDS / 2],
         ratio[0], ratio[ROUNDS - 1]);
}

int main(int argc, char **argv) {
  uint64_t mib = argc > 1 ? strtoull(argv[1], NULL, 10) : 64;
  if (mib == 0) mib = 64;
  bulk_bytes = mib << 20;
  loop = uv_default_loop();
  memset(chunk, 'x', sizeof chunk);
  if (argc > 2 && strcmp(argv[2], "many") == 0) { /* connections only */
    double kib, at = tou_many(ACCEPT_CONNS, &kib);
    printf("tou: %d connections, %.0f accepted per second; per idle connection (one end): "
           "RSS %.1f KiB, address space %.1f KiB\n",
           ACCEPT_CONNS, at, kib, many_vsz_kib);
    return 0;
  }
  if (argc > 2 && strcmp(argv[2], "pingpong") == 0) {
    pingpong_only();
    return 0;
  }
  if (argc > 2 && strncmp(argv[2], "tou-", 4) == 0) {
    result_t on[RUNS], off[RUNS];
    bool run_on = strcmp(argv[2], "tou-off") != 0, run_off = strcmp(argv[2], "tou-on") != 0;
    memset(on, 0, sizeof on);
    memset(off, 0, sizeof off);
    for (int i = 0; i < RUNS && run_on; i++) on[i] = tou_bulk();
    tou_no_offload = 1;
    for (int i = 0; i < RUNS && run_off; i++) off[i] = tou_bulk();
    summary_t a = summarize(on), b = summarize(off);
    printf("tou bulk, %llu MiB: offloads on %.1f [%.1f .. %.1f] Mbit/s %.2f CPU s/GiB; "
           "off %.1f [%.1f .. %.1f] Mbit/s %.2f CPU s/GiB\n",
           (unsigned long long)mib, a.med, a.min, a.max, a.cpu_per_gib, b.med, b.min, b.max,
           b.cpu_per_gib);
    if (run_on && run_off) {
      double pp[2][RUNS];
      for (int i = 0; i < RUNS; i++) {
        tou_no_offload = 0;
        pp[0][i] = tou_pingpong();
        tou_no_offload = 1;
        pp[1][i] = tou_pingpong();
      }
      qsort(pp[0], RUNS, sizeof pp[0][0], cmp_double);
      qsort(pp[1], RUNS, sizeof pp[1][0], cmp_double);
      printf("tou ping-pong, round trips/s: offloads on %.0f [%.0f .. %.0f]; off %.0f [%.0f .. "
             "%.0f]\n",
             pp[0][RUNS / 2], pp[0][0], pp[0][RUNS - 1], pp[1][RUNS / 2], pp[1][0],
             pp[1][RUNS - 1]);
    }
    return 0;
  }
  printf("bench_loopback: %llu MiB per bulk run, %d runs; one thread, both ends in one loop\n",
         (unsigned long long)mib, RUNS);

  result_t tou_r[RUNS], off_r[RUNS], tcp_r[RUNS], udp_r[RUNS];
  double delivered[RUNS];
  for (int i = 0; i < RUNS; i++) {
    tou_r[i] = tou_bulk();
    tou_no_offload = 1;
    off_r[i] = tou_bulk();
    tou_no_offload = 0;
    tcp_r[i] = tcp_bulk();
    udp_r[i] = udp_bulk(&delivered[i]);
    printf("  run %d: tou %8.1f Mbit/s (%llu segments retransmitted, %llu timeouts, %llu send "
           "errors, %llu dropped for a full socket buffer, %.1f datagrams per sendmmsg, %.1f "
           "ACKs per receive batch)  tcp %8.1f Mbit/s  udp %8.1f Mbit/s (%.1f %% delivered)\n",
           i + 1, tou_r[i].mbit, (unsigned long long)tou_r[i].retransmitted,
           (unsigned long long)tou_r[i].timeouts, (unsigned long long)tou_r[i].send_errors,
           (unsigned long long)tou_r[i].dropped_local,
           tou_r[i].per_batch, tou_r[i].per_recv_batch,
           tcp_r[i].mbit, udp_r[i].mbit, delivered[i] * 100);
    printf("         tou offloads: %llu datagrams in %llu GSO buffers, %llu GRO buffers received, "
           "%llu ACK datagrams; tou with offloads disabled %8.1f Mbit/s (%.1f datagrams per "
           "sendmmsg)\n",
           (unsigned long long)tou_r[i].data_dgrams, (unsigned long long)tou_r[i].gso_buffers,
           (unsigned long long)tou_r[i].gro_buffers, (unsigned long long)tou_r[i].ack_dgrams,
           off_r[i].mbit, off_r[i].per_batch);
  }
  summary_t st = summarize(tou_r), so = summarize(off_r), sk = summarize(tcp_r),
            su = summarize(udp_r);
  printf("\nbulk goodput (median [min..max] Mbit/s, CPU s per GiB)\n");
  printf("  tou  %8.1f [%8.1f .. %8.1f]  %6.2f\n", st.med, st.min, st.max, st.cpu_per_gib);
  printf("  tou  %8.1f [%8.1f .. %8.1f]  %6.2f   (UDP GSO/GRO disabled)\n", so.med, so.min,
         so.max, so.cpu_per_gib);
  printf("  tcp  %8.1f [%8.1f .. %8.1f]  %6.2f\n", sk.med, sk.min, sk.max, sk.cpu_per_gib);
  printf("  udp  %8.1f [%8.1f .. %8.1f]  %6.2f   (raw blast, one %d-byte datagram per send call, no reliability)\n",
         su.med, su.min, su.max, su.cpu_per_gib, UDP_PAYLOAD);
  printf("  ratios: tou/tcp %.2f  tou/udp %.2f  CPU per GiB tou/tcp %.2f  spread tou max/min %.2f\n",
         st.med / sk.med, st.med / su.med, st.cpu_per_gib / sk.cpu_per_gib, st.max / st.min);
  printf("  offloads: goodput on/off %.2f  CPU per GiB on/off %.2f\n", st.med / so.med,
         st.cpu_per_gib / so.cpu_per_gib);

  /* Loopback's MTU is 64 KiB and kernel TCP uses it: tou with a large MSS
   * shows how much of the gap is per-datagram cost. */
  tou_mss = 16384;
  result_t big[RUNS];
  for (int i = 0; i < RUNS; i++) big[i] = tou_bulk();
  tou_mss = 0;
  summary_t sb = summarize(big);
  printf("  tou with a 16 KiB MSS (loopback MTU allows it): %.1f [%.1f .. %.1f] Mbit/s, "
         "%.2f CPU s per GiB; ratio to tcp %.2f\n",
         sb.med, sb.min, sb.max, sb.cpu_per_gib, sb.med / sk.med);

  double pt = tou_pingpong(), pk = tcp_pingpong(), pu = udp_pingpong();
  printf("\nping-pong (%d-byte messages, round trips per second)\n", PING_SIZE);
  printf("  tou %.0f  tcp %.0f  udp %.0f   ratios: tou/tcp %.2f  tou/udp %.2f\n", pt, pk, pu,
         pt / pk, pt / pu);

  double kib;
  double at = tou_many(ACCEPT_CONNS, &kib);
  double ak = tcp_many(ACCEPT_CONNS);
  printf("\nconnections (%d opened at once, both ends in this process)\n", ACCEPT_CONNS);
  printf("  accepted per second: tou %.0f  tcp %.0f   ratio tou/tcp %.2f\n", at, ak, at / ak);
  printf("  memory per idle tou connection (one end): RSS growth %.1f KiB, address space %.1f KiB\n",
         kib, many_vsz_kib);
  uv_loop_close(loop);
  return 0;
}

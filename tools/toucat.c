/* toucat: netcat over tou.
 *
 *   toucat [options] HOST PORT          connect; stdin -> peer, peer -> stdout
 *   toucat -l [options] [ADDR] PORT     listen for one connection (-k: many)
 *
 * EOF on stdin half-closes (our FIN); toucat exits once the peer has
 * finished too. See usage() for the options. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tou.h>

#define CHUNK 65536

typedef struct conn {
  tou_stream_t stream;
  tou_write_t write;
  tou_shutdown_t shut;
  bool peer_eof, shut_done, closing;
  uint64_t received;
  int id;
} conn_t;

static struct {
  bool listen, keep, verbose, stats;
  int verbose_level;
  double status_every;
  unsigned link_probe_ms, link_silent_ms;
  const char *host, *port;
} opt;

static uv_loop_t *loop;
static tou_endpoint_t ep;
static tou_connect_t connect_req;
static conn_t *active; /* the connection stdin feeds (not in -k mode) */
static uv_fs_t stdin_req;
static char stdin_buf[CHUNK];
static bool stdin_eof, stdin_reading;
static uint64_t sent_total, recv_total, start_us;
static uv_timer_t progress_timer, status_timer;
static bool progress_shown, exiting;
static int exit_code;
static int next_id = 1;

static void usage(FILE *f) {
  fputs("usage: toucat [options] HOST PORT        connect\n"
        "       toucat -l [options] [ADDR] PORT   listen (ADDR default 0.0.0.0; :: for IPv6)\n"
        "  -l                  listen for a connection\n"
        "  -k                  with -l: keep listening, accept many connections; their data\n"
        "                      goes to stdout, stdin is not read\n"
        "  -v                  print state changes (SYN_SENT -> ESTABLISHED ...); -vv: segments too\n"
        "  --stats             print each connection's statistics on stderr when it ends\n"
        "  --status-every S    print the endpoint's connections (like ss) every S seconds\n"
        "  --link-probe MS[:SILENT_MS]  ask \"can you hear me?\" after MS ms without an\n"
        "                      answer; report the link going silent (no reply in SILENT_MS,\n"
        "                      default 5000) and coming back\n"
        "  -h, --help          this text\n",
        f);
}

static uint64_t now_us(void) { return uv_hrtime() / 1000; }

static const char *addr_str(const struct sockaddr *sa, char *buf, size_t cap) {
  char host[64] = "?";
  int port = 0;
  if (sa && sa->sa_family == AF_INET6) {
    uv_ip6_name((const struct sockaddr_in6 *)sa, host, sizeof host);
    port = ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
    snprintf(buf, cap, "[%s]:%d", host, port);
  } else if (sa && sa->sa_family == AF_INET) {
    uv_ip4_name((const struct sockaddr_in *)sa, host, sizeof host);
    port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
    snprintf(buf, cap, "%s:%d", host, port);
  } else {
    snprintf(buf, cap, "-");
  }
  return buf;
}

static void clear_progress(void) {
  if (progress_shown) fputs("\r\033[K", stderr);
  progress_shown = false;
}

/* ---- tracing (-v) ---- */

static void on_trace(void *arg, const tou_trace_t *t) {
  (void)arg;
  double ms = (double)(t->time_us - start_us) / 1000.0;
  if (t->type == TOU_TRACE_TYPE_STATE) {
    clear_progress();
    fprintf(stderr, "toucat: %9.3f ms  conn %08x  %s -> %s\n", ms, t->conn_id,
            tou_stream_state_name(t->old_state), tou_stream_state_name(t->new_state));
  } else if (opt.verbose_level > 1) {
    static const char *names[] = {"FIN", "SYN", "RST", "PSH", "ACK", "URG"};
    char flags[40] = "";
    for (int i = 0; i < 6; i++)
      if (t->seg_flags & (1u << i)) {
        if (flags[0]) strcat(flags, "-");
        strcat(flags, names[i]);
      }
    clear_progress();
    if (t->type == TOU_TRACE_TYPE_DROPPED)
      fprintf(stderr, "toucat: %9.3f ms  dropped a datagram: %s\n", ms, uv_strerror(t->error));
    else
      fprintf(stderr, "toucat: %9.3f ms  conn %08x  %s %-8s seq=%u ack=%u win=%u len=%zu\n", ms,
              t->conn_id, t->type == TOU_TRACE_TYPE_SENT ? "sent" : "recv", flags, t->seq, t->ack,
              t->window, t->payload_len);
  }
}

/* ---- statistics ---- */

static const char *link_name(int state) {
  switch (state) {
    case TOU_LINK_HEARD: return "heard";
    case TOU_LINK_SILENT: return "silent";
    case TOU_LINK_BACK: return "back";
  }
  return "?";
}

static void print_info(const char *label, const tou_stream_info_t *i) {
  char peer[80];
  clear_progress();
  fprintf(stderr,
          "toucat: %s: peer %s state %s conn %08x/%08x\n"
          "  bytes sent %llu received %llu; segments sent %llu received %llu retransmitted %llu; "
          "timeouts %llu\n"
          "  rtt %.3f ms (min %.3f) rttvar %.3f ms rto %.1f ms; %s cwnd %u ssthresh %u; windows: "
          "peer %u ours %u; mss %u\n"
          "  lost %llu sacked %llu tail-loss probes %llu congestion events %u\n"
          "  link %s; probes sent %llu answered %llu; keepalives sent %llu\n",
          label, addr_str((const struct sockaddr *)&i->peer, peer, sizeof peer),
          tou_stream_state_name(i->state), i->conn_id, i->peer_conn_id,
          (unsigned long long)i->bytes_sent, (unsigned long long)i->bytes_received,
          (unsigned long long)i->segs_sent, (unsigned long long)i->segs_received,
          (unsigned long long)i->segs_retransmitted, (unsigned long long)i->timeouts,
          i->rtt_us / 1000.0, i->min_rtt_us / 1000.0, i->rttvar_us / 1000.0, i->rto_us / 1000.0,
          i->congestion_control ? i->congestion_control : "?", i->cwnd, i->ssthresh, i->snd_wnd,
          i->rcv_wnd, i->mss, (unsigned long long)i->segs_lost,
          (unsigned long long)i->segs_sacked, (unsigned long long)i->tlp_probes,
          i->congestion_events, link_name(i->link_state), (unsigned long long)i->probes_sent,
          (unsigned long long)i->probes_answered, (unsigned long long)i->keepalives_sent);
}

static void print_status_line(const tou_stream_info_t *i, tou_stream_t *s, void *arg) {
  (void)s;
  (void)arg;
  char peer[80];
  fprintf(stderr, "%-12s %8zu %8zu  %-24s %08x %8.3f %8u %8u %10llu %10llu\n",
          tou_stream_state_name(i->state), i->send_queued, i->write_queue_size,
          addr_str((const struct sockaddr *)&i->peer, peer, sizeof peer), i->conn_id,
          i->rtt_us / 1000.0, i->cwnd, i->snd_wnd, (unsigned long long)i->bytes_sent,
          (unsigned long long)i->bytes_received);
}

static void on_status_timer(uv_timer_t *t) {
  (void)t;
  tou_endpoint_stats_t st;
  tou_endpoint_stats(&ep, &st);
  clear_progress();
  fprintf(stderr,
          "-- %s: %u streams, %u connections, %u half-open, %u in accept queue, %u TIME_WAIT, "
          "%llu SYNs dropped, %llu datagrams dropped\n",
          opt.listen ? "listening" : "endpoint", st.streams, st.connections, st.half_open,
          st.accept_queue, st.time_wait, (unsigned long long)st.syns_dropped,
          (unsigned long long)st.dropped);
  fprintf(stderr, "%-12s %8s %8s  %-24s %8s %8s %8s %8s %10s %10s\n", "State", "Send-Q", "Write-Q",
          "Peer", "Conn", "RTT(ms)", "cwnd", "peer-wnd", "sent", "received");
  tou_endpoint_walk(&ep, print_status_line, NULL);
}

static void on_progress_timer(uv_timer_t *t) {
  (void)t;
  double secs = (double)(now_us() - start_us) / 1e6;
  fprintf(stderr, "\r\033[Ktoucat: %.1f s  sent %.2f MiB  received %.2f MiB  (%.1f / %.1f Mbit/s)",
          secs, sent_total / 1048576.0, recv_total / 1048576.0,
          secs > 0 ? sent_total * 8 / secs / 1e6 : 0, secs > 0 ? recv_total * 8 / secs / 1e6 : 0);
  progress_shown = true;
}

/* ---- ending ---- */

static void on_ep_closed(tou_handle_t *h) {
  (void)h;
  clear_progress();
  fflush(stdout);
  /* A read of stdin may still be blocked in the thread pool: leave now. */
  exit(exit_code);
}

/* Closed streams finish in the background (our FIN retransmitted, the
 * peer's answered from TIME_WAIT), and only while the endpoint lives: linger
 * until the core holds no connection, at least TIME_WAIT_LINGER_MS when one
 * is in TIME_WAIT (the peer's last FIN may come again if our ACK was lost),
 * at most LINGER_MAX_MS. */
#define TIME_WAIT_LINGER_MS 1000
#define LINGER_MAX_MS 3000
static uv_timer_t linger_timer;
static uint64_t linger_start;

static void on_linger(uv_timer_t *t) {
  tou_endpoint_stats_t st;
  tou_endpoint_stats(&ep, &st);
  uint64_t waited = (now_us() - linger_start) / 1000;
  bool settled = st.connections == 0 && (st.time_wait == 0 || waited >= TIME_WAIT_LINGER_MS);
  if (!settled && waited < LINGER_MAX_MS) return;
  if (!settled && opt.verbose) {
    clear_progress();
    fprintf(stderr, "toucat: leaving with %u connection(s) still closing\n", st.connections);
  }
  uv_timer_stop(t);
  tou_close((tou_handle_t *)&ep, on_ep_closed);
}

static void finish(int code) {
  if (exiting) return;
  exiting = true;
  if (code > exit_code) exit_code = code;
  if (opt.status_every > 0) uv_timer_stop(&status_timer);
  uv_timer_stop(&progress_timer);
  linger_start = now_us();
  uv_timer_init(loop, &linger_timer);
  uv_timer_start(&linger_timer, on_linger, 0, 50);
}

static void on_conn_closed(tou_handle_t *h) {
  free(h->data);
  if (!opt.keep) finish(exit_code);
}

static void conn_close(conn_t *c) {
  if (c->closing) return;
  c->closing = true;
  if (opt.stats) {
    tou_stream_info_t info;
    if (tou_get_info(&c->stream, &info) == 0) {
      char label[32];
      snprintf(label, sizeof label, "connection %d", c->id);
      print_info(label, &info);
    }
  }
  if (c == active) active = NULL;
  tou_close((tou_handle_t *)&c->stream, on_conn_closed);
}

static void maybe_done(conn_t *c) {
  /* Both directions finished: the peer's EOF read, our FIN queued after all
   * our data. Its acknowledgment is awaited in the background (see
   * finish()). */
  if (c->peer_eof && c->shut.handle != NULL) conn_close(c);
}

/* ---- stdin -> peer ---- */

static void read_stdin(void);

static void on_shutdown(tou_shutdown_t *req, int status) {
  conn_t *c = req->data;
  if (status < 0 && status != UV_ECANCELED) {
    clear_progress();
    fprintf(stderr, "toucat: shutdown: %s\n", uv_strerror(status));
    exit_code = 1;
  }
  c->shut_done = true;
  maybe_done(c);
}

static void shutdown_conn(conn_t *c) {
  c->shut.data = c;
  int r = tou_shutdown(&c->shut, &c->stream, on_shutdown);
  if (r < 0 && r != UV_EALREADY) {
    fprintf(stderr, "toucat: shutdown: %s\n", uv_strerror(r));
    conn_close(c);
  }
}

static void on_written(tou_write_t *req, int status) {
  conn_t *c = req->data;
  if (status < 0) {
    if (status != UV_ECANCELED) {
      clear_progress();
      fprintf(stderr, "toucat: write: %s\n", uv_strerror(status));
      exit_code = 1;
    }
    conn_close(c);
    return;
  }
  read_stdin();
}

static void on_stdin(uv_fs_t *req) {
  ssize_t n = req->result;
  uv_fs_req_cleanup(req);
  stdin_reading = false;
  if (exiting) return;
  conn_t *c = active;
  if (n < 0) {
    fprintf(stderr, "toucat: stdin: %s\n", uv_strerror((int)n));
    n = 0;
  }
  if (!c) return;
  if (n == 0) {
    stdin_eof = true;
    shutdown_conn(c);
    return;
  }
  sent_total += (uint64_t)n;
  uv_buf_t b = uv_buf_init(stdin_buf, (unsigned)n);
  c->write.data = c;
  int r = tou_write(&c->write, &c->stream, &b, 1, on_written);
  if (r < 0) {
    fprintf(stderr, "toucat: write: %s\n", uv_strerror(r));
    exit_code = 1;
    conn_close(c);
  }
}

static void read_stdin(void) {
  if (stdin_reading || stdin_eof || exiting) return;
  stdin_reading = true;
  uv_buf_t b = uv_buf_init(stdin_buf, sizeof stdin_buf);
  uv_fs_read(loop, &stdin_req, 0, &b, 1, -1, on_stdin);
}

/* ---- peer -> stdout ---- */

static void on_alloc(tou_stream_t *s, size_t suggested, uv_buf_t *buf) {
  (void)s, (void)suggested;
  static char storage[CHUNK];
  *buf = uv_buf_init(storage, sizeof storage);
}

static void write_stdout(const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(1, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        usleep(1000); /* stdout is non-blocking and full: wait for the reader */
        continue;
      }
      fprintf(stderr, "toucat: stdout: %s\n", strerror(errno));
      finish(1);
      return;
    }
    p += w;
    n -= (size_t)w;
  }
}

static void on_read(tou_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  conn_t *c = s->data;
  if (nread > 0) {
    recv_total += (uint64_t)nread;
    c->received += (uint64_t)nread;
    write_stdout(buf->base, (size_t)nread);
    return;
  }
  if (nread == 0) return;
  if (nread == UV_EOF) {
    c->peer_eof = true;
    tou_read_stop(s);
    if (opt.keep) shutdown_conn(c);
    maybe_done(c);
    return;
  }
  clear_progress();
  fprintf(stderr, "toucat: connection %d: %s\n", c->id, uv_strerror((int)nread));
  exit_code = 1;
  conn_close(c);
}

/* ---- connection set-up ---- */

static conn_t *conn_new(void) {
  conn_t *c = calloc(1, sizeof *c);
  if (!c) {
    fprintf(stderr, "toucat: out of memory\n");
    exit(1);
  }
  c->id = next_id++;
  c->stream.data = c;
  return c;
}

static void on_link(tou_stream_t *s, int state) {
  conn_t *c = s->data;
  clear_progress();
  fprintf(stderr, "toucat: connection %d: link %s\n", c->id, link_name(state));
}

static void conn_started(conn_t *c) {
  tou_read_start(&c->stream, on_alloc, on_read);
  if (opt.link_probe_ms > 0) {
    int r = tou_stream_link_probe(&c->stream, opt.link_probe_ms, opt.link_silent_ms);
    if (r == 0) r = tou_stream_set_link_cb(&c->stream, on_link);
    if (r < 0) fprintf(stderr, "toucat: link probing: %s\n", uv_strerror(r));
  }
  if (!opt.keep) {
    active = c;
    read_stdin();
  }
}

static void on_connection(tou_endpoint_t *e, int status) {
  if (status < 0) {
    fprintf(stderr, "toucat: listen: %s\n", uv_strerror(status));
    finish(1);
    return;
  }
  conn_t *c = conn_new();
  if (tou_accept(e, &c->stream) != 0) {
    free(c);
    return;
  }
  if (!opt.keep && active) { /* one connection only: refuse the others */
    tou_abort(&c->stream);
    tou_close((tou_handle_t *)&c->stream, on_conn_closed);
    return;
  }
  if (opt.verbose) {
    char peer[80];
    struct sockaddr_storage ss;
    int len = sizeof ss;
    tou_stream_getpeername(&c->stream, (struct sockaddr *)&ss, &len);
    clear_progress();
    fprintf(stderr, "toucat: connection %d from %s\n", c->id,
            addr_str((struct sockaddr *)&ss, peer, sizeof peer));
  }
  conn_started(c);
}

static void on_connect(tou_connect_t *req, int status) {
  conn_t *c = req->data;
  if (status < 0) {
    clear_progress();
    fprintf(stderr, "toucat: connect to %s port %s: %s\n", opt.host, opt.port,
            uv_strerror(status));
    exit_code = 1;
    conn_close(c);
    return;
  }
  conn_started(c);
}

static int resolve(const char *host, const char *port, struct sockaddr_storage *out) {
  struct addrinfo hints;
  memset(&hints, 0, sizeof hints);
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = host ? 0 : AI_PASSIVE;
  uv_getaddrinfo_t req;
  int r = uv_getaddrinfo(loop, &req, NULL, host, port, &hints);
  if (r < 0) return r;
  memcpy(out, req.addrinfo->ai_addr, req.addrinfo->ai_addrlen);
  uv_freeaddrinfo(req.addrinfo);
  return 0;
}

static void parse_args(int argc, char **argv) {
  const char *pos[2];
  int npos = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "-l")) opt.listen = true;
    else if (!strcmp(a, "-k")) opt.keep = true;
    else if (!strcmp(a, "-v")) opt.verbose_level++;
    else if (!strcmp(a, "-vv")) opt.verbose_level += 2;
    else if (!strcmp(a, "--stats")) opt.stats = true;
    else if (!strcmp(a, "--status-every") && i + 1 < argc) {
      char *end;
      opt.status_every = strtod(argv[++i], &end);
      if (*end == 's') end++;
      if (*end || opt.status_every <= 0) {
        fprintf(stderr, "toucat: bad --status-every %s\n", argv[i]);
        exit(2);
      }
    } else if (!strcmp(a, "--link-probe") && i + 1 < argc) {
      char *end;
      unsigned long ms = strtoul(argv[++i], &end, 10), silent = 0;
      if (*end == ':') silent = strtoul(end + 1, &end, 10);
      if (*end || ms == 0) {
        fprintf(stderr, "toucat: bad --link-probe %s\n", argv[i]);
        exit(2);
      }
      opt.link_probe_ms = (unsigned)ms;
      opt.link_silent_ms = (unsigned)silent;
    } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage(stdout);
      exit(0);
    } else if (a[0] == '-' && a[1]) {
      usage(stderr);
      exit(2);
    } else if (npos < 2) {
      pos[npos++] = a;
    } else {
      usage(stderr);
      exit(2);
    }
  }
  opt.verbose = opt.verbose_level > 0;
  if (opt.keep && !opt.listen) {
    fprintf(stderr, "toucat: -k needs -l\n");
    exit(2);
  }
  if (opt.listen && npos == 1) {
    opt.port = pos[0];
  } else if (npos == 2) {
    opt.host = pos[0];
    opt.port = pos[1];
  } else {
    usage(stderr);
    exit(2);
  }
}

int main(int argc, char **argv) {
  parse_args(argc, argv);
  loop = uv_default_loop();
  start_us = now_us();

  struct sockaddr_storage target, local;
  memset(&local, 0, sizeof local);
  int r;
  if (opt.listen) {
    r = resolve(opt.host ? opt.host : "0.0.0.0", opt.port, &local);
  } else {
    r = resolve(opt.host, opt.port, &target);
    if (r == 0) {
      const char *any = target.ss_family == AF_INET6 ? "::" : "0.0.0.0";
      r = resolve(any, "0", &local);
    }
  }
  if (r < 0) {
    fprintf(stderr, "toucat: %s: %s\n", opt.host ? opt.host : "address", uv_strerror(r));
    return 2;
  }

  tou_endpoint_options_t eo;
  tou_endpoint_options_init(&eo);
  if (opt.verbose) eo.trace = on_trace;
  r = tou_endpoint_init(loop, &ep, &eo);
  if (r == 0) r = tou_endpoint_bind(&ep, (const struct sockaddr *)&local, 0);
  if (r < 0) {
    fprintf(stderr, "toucat: bind: %s\n", uv_strerror(r));
    return 1;
  }
  if (opt.listen) {
    r = tou_listen(&ep, 128, on_connection);
    if (r < 0) {
      fprintf(stderr, "toucat: listen: %s\n", uv_strerror(r));
      return 1;
    }
    if (opt.verbose) {
      char name[80];
      struct sockaddr_storage ss;
      int len = sizeof ss;
      tou_endpoint_getsockname(&ep, (struct sockaddr *)&ss, &len);
      fprintf(stderr, "toucat: listening on %s\n", addr_str((struct sockaddr *)&ss, name, sizeof name));
    }
  } else {
    conn_t *c = conn_new();
    connect_req.data = c;
    r = tou_connect(&connect_req, &ep, &c->stream, (const struct sockaddr *)&target, on_connect);
    if (r < 0) {
      fprintf(stderr, "toucat: connect: %s\n", uv_strerror(r));
      return 1;
    }
  }
  uv_timer_init(loop, &progress_timer);
  if (isatty(2) && !opt.verbose) {
    uv_timer_start(&progress_timer, on_progress_timer, 1000, 1000);
    uv_unref((uv_handle_t *)&progress_timer);
  }
  uv_timer_init(loop, &status_timer);
  if (opt.status_every > 0) {
    uint64_t ms = (uint64_t)(opt.status_every * 1000);
    uv_timer_start(&status_timer, on_status_timer, ms, ms);
    uv_unref((uv_handle_t *)&status_timer);
  }
  uv_run(loop, UV_RUN_DEFAULT);
  return exit_code;
}

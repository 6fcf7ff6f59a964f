/* tou-netem: a UDP impairment proxy for watching tou on a bad path (this
 * kernel has no netem). See usage() for the options. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "netem.h"

static netem_t *proxy;
static uv_signal_t sigint, sigterm;

static void usage(FILE *f) {
  fputs(
      "usage: tou-netem [options] LISTEN_ADDR LISTEN_PORT UPSTREAM_ADDR UPSTREAM_PORT\n"
      "\n"
      "Relays UDP datagrams between clients (which send to LISTEN) and UPSTREAM,\n"
      "impairing each direction. Impairment options apply to the directions selected\n"
      "by the last --up / --down / --both (default: both).\n"
      "  --up | --down | --both   select client->upstream, upstream->client, or both\n"
      "  --loss P                 drop with probability P (0.05 or 5%)\n"
      "  --dup P                  duplicate with probability P\n"
      "  --reorder P[:MS]         hold back with probability P by MS ms (default 10)\n"
      "  --corrupt P              flip one random bit with probability P\n"
      "  --delay MS               fixed one-way delay (ms, may be fractional)\n"
      "  --jitter MS              uniform +-MS added to the delay (reorders too)\n"
      "  --rate RATE              serialise at RATE (e.g. 800kbit, 10mbit, 1gbit)\n"
      "  --queue BYTES            bound of the rate limiter's queue (default 262144)\n"
      "  --blackout START:DUR     drop everything from START s for DUR s after the\n"
      "                           first datagram (repeatable)\n"
      "  --seed N                 random seed (default: from the clock, printed)\n"
      "  --max-sessions N         distinct client addresses relayed (default 1024)\n"
      "  -q, --quiet              do not print the start line\n"
      "Counters are printed on SIGINT/SIGTERM.\n",
      f);
}

static void die(const char *what, const char *arg) {
  fprintf(stderr, "tou-netem: %s: %s\n", what, arg);
  exit(2);
}

static double parse_prob(const char *s) {
  char *end;
  double p = strtod(s, &end);
  if (end == s) die("bad probability", s);
  if (*end == '%') {
    p /= 100;
    end++;
  }
  if (*end || p < 0 || p > 1) die("bad probability", s);
  return p;
}

static uint64_t parse_ms(const char *s, char **rest) {
  char *end;
  double ms = strtod(s, &end);
  if (end == s || ms < 0) die("bad duration", s);
  if (rest) *rest = end;
  else if (*end) die("bad duration", s);
  return (uint64_t)(ms * 1000.0);
}

static uint64_t parse_rate(const char *s) {
  char *end;
  double v = strtod(s, &end);
  if (end == s || v <= 0) die("bad rate", s);
  if (!strcasecmp(end, "kbit")) v *= 1e3;
  else if (!strcasecmp(end, "mbit")) v *= 1e6;
  else if (!strcasecmp(end, "gbit")) v *= 1e9;
  else if (*end && strcasecmp(end, "bit")) die("bad rate (use bit, kbit, mbit, gbit)", s);
  return (uint64_t)v;
}

static void parse_addr(const char *host, const char *port, struct sockaddr_storage *out) {
  char *end;
  long p = strtol(port, &end, 10);
  if (*end || p < 0 || p > 65535) die("bad port", port);
  memset(out, 0, sizeof *out);
  if (uv_ip4_addr(host, (int)p, (struct sockaddr_in *)out) == 0) return;
  if (uv_ip6_addr(host, (int)p, (struct sockaddr_in6 *)out) == 0) return;
  die("bad address (numeric IPv4 or IPv6)", host);
}

static void on_signal(uv_signal_t *s, int signum) {
  (void)signum;
  (void)s;
  netem_print_counters(proxy, stderr);
  netem_close(proxy);
  uv_close((uv_handle_t *)&sigint, NULL);
  uv_close((uv_handle_t *)&sigterm, NULL);
}

int main(int argc, char **argv) {
  netem_config_t cfg;
  netem_config_default(&cfg);
  cfg.seed = uv_hrtime() ^ ((uint64_t)getpid() << 32);
  bool sel[2] = {true, true}, quiet = false;
  const char *pos[4];
  int npos = 0;

  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEED_VALUE() \
  do {               \
    if (!v) die("missing value", a); \
    i++;             \
  } while (0)
#define FOR_SELECTED(...) \
  for (int d = 0; d < 2; d++) \
    if (sel[d]) { netem_dir_config_t *c = &cfg.dir[d]; __VA_ARGS__; }
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage(stdout);
      return 0;
    } else if (!strcmp(a, "--up")) {
      sel[0] = true, sel[1] = false;
    } else if (!strcmp(a, "--down")) {
      sel[0] = false, sel[1] = true;
    } else if (!strcmp(a, "--both")) {
      sel[0] = sel[1] = true;
    } else if (!strcmp(a, "--loss")) {
      NEED_VALUE();
      double p = parse_prob(v);
      FOR_SELECTED(c->loss = p);
    } else if (!strcmp(a, "--dup")) {
      NEED_VALUE();
      double p = parse_prob(v);
      FOR_SELECTED(c->dup = p);
    } else if (!strcmp(a, "--corrupt")) {
      NEED_VALUE();
      double p = parse_prob(v);
      FOR_SELECTED(c->corrupt = p);
    } else if (!strcmp(a, "--reorder")) {
      NEED_VALUE();
      char buf[64];
      snprintf(buf, sizeof buf, "%s", v);
      char *colon = strchr(buf, ':');
      uint64_t hold = 0;
      if (colon) {
        *colon = 0;
        hold = parse_ms(colon + 1, NULL);
      }
      double p = parse_prob(buf);
      FOR_SELECTED(c->reorder = p; if (colon) c->reorder_delay_us = hold);
    } else if (!strcmp(a, "--delay")) {
      NEED_VALUE();
      uint64_t us = parse_ms(v, NULL);
      FOR_SELECTED(c->delay_us = us);
    } else if (!strcmp(a, "--jitter")) {
      NEED_VALUE();
      uint64_t us = parse_ms(v, NULL);
      FOR_SELECTED(c->jitter_us = us);
    } else if (!strcmp(a, "--rate")) {
      NEED_VALUE();
      uint64_t bps = parse_rate(v);
      FOR_SELECTED(c->rate_bps = bps);
    } else if (!strcmp(a, "--queue")) {
      NEED_VALUE();
      char *end;
      unsigned long long q = strtoull(v, &end, 10);
      if (*end || q == 0) die("bad queue size", v);
      FOR_SELECTED(c->queue_bytes = q);
    } else if (!strcmp(a, "--blackout")) {
      NEED_VALUE();
      char *rest;
      uint64_t start = parse_ms(v, &rest) * 1000; /* seconds given */
      if (*rest != ':') die("bad blackout (START:DURATION in seconds)", v);
      uint64_t dur = parse_ms(rest + 1, NULL) * 1000;
      FOR_SELECTED(if (c->nblackouts == NETEM_MAX_BLACKOUTS) die("too many blackouts", v);
                   c->blackout[c->nblackouts++] = (netem_blackout_t){start, dur});
    } else if (!strcmp(a, "--seed")) {
      NEED_VALUE();
      char *end;
      cfg.seed = strtoull(v, &end, 0);
      if (*end) die("bad seed", v);
    } else if (!strcmp(a, "--max-sessions")) {
      NEED_VALUE();
      cfg.max_sessions = (unsigned)strtoul(v, NULL, 10);
    } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
      quiet = true;
    } else if (a[0] == '-' && a[1] == '-') {
      usage(stderr);
      die("unknown option", a);
    } else {
      if (npos == 4) die("too many arguments", a);
      pos[npos++] = a;
    }
#undef NEED_VALUE
#undef FOR_SELECTED
  }
  if (npos != 4) {
    usage(stderr);
    return 2;
  }
  parse_addr(pos[0], pos[1], &cfg.listen);
  parse_addr(pos[2], pos[3], &cfg.upstream);

  uv_loop_t *loop = uv_default_loop();
  int r = netem_start(loop, &cfg, &proxy);
  if (r < 0) {
    fprintf(stderr, "tou-netem: cannot listen on %s port %s: %s\n", pos[0], pos[1],
            uv_strerror(r));
    return 1;
  }
  if (!quiet) {
    struct sockaddr_storage ss;
    char host[64] = "?";
    int port = 0;
    netem_getsockname(proxy, &ss);
    if (ss.ss_family == AF_INET6) {
      uv_ip6_name((struct sockaddr_in6 *)&ss, host, sizeof host);
      port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    } else {
      uv_ip4_name((struct sockaddr_in *)&ss, host, sizeof host);
      port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    }
    printf("tou-netem: listening on %s port %d, upstream %s port %s, seed %llu\n", host, port,
           pos[2], pos[3], (unsigned long long)cfg.seed);
    fflush(stdout);
  }
  uv_signal_init(loop, &sigint);
  uv_signal_init(loop, &sigterm);
  uv_signal_start(&sigint, on_signal, SIGINT);
  uv_signal_start(&sigterm, on_signal, SIGTERM);
  uv_run(loop, UV_RUN_DEFAULT);
  uv_loop_close(loop);
  return 0;
}

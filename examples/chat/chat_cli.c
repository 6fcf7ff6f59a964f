#include "chat_cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void chat_cli_usage(FILE *f) {
  fputs("usage: chat [options] --listen PORT            wait for one peer\n"
        "       chat [options] HOST PORT                 call a listening peer\n"
        "       chat [options] --peer HOST PORT --port PORT\n"
        "                 both sides call each other at once (simultaneous open,\n"
        "                 the peer-to-peer case after NAT hole punching)\n"
        "\n"
        "Type a line to send it. Commands: /state (TCP state and counters),\n"
        "/quit (four-way close); end of input (Ctrl-D) does the same. Ctrl-C closes like\n"
        "/quit; a second Ctrl-C aborts (RST).\n"
        "\n"
        "options:\n"
        "  --bind ADDR        local address (default: any)\n"
        "  --name NAME        shown before your lines (default: you)\n"
        "  --script FILE      send timed lines from FILE instead of stdin (implies --events):\n"
        "                     '+MS text' waits MS ms after the previous line; commands\n"
        "                     /state /quit /abort, '/wait N' (N messages received) and\n"
        "                     '/wait back' (the link, silent before, is back)\n"
        "  --events           machine-readable log on stdout: EVENT ..., SENT ..., RECV ...\n"
        "  --trace            also print every segment sent and received\n"
        "  --timestamps       prefix every output line with the time of day\n"
        "  --max-rto MS       cap the retransmission timeout (default: tou's, 60 s), so\n"
        "                     that a conversation resumes soon after an outage\n"
        "  --probe-idle MS    probe the link after MS ms of silence (default 1000)\n"
        "  --silent MS        declare the link silent after MS ms unanswered (default 5000)\n"
        "  --linger MS        stay in TIME_WAIT MS ms before exiting (default 2000)\n"
        "  --timeout S        abort and exit 1 after S seconds (default: never)\n"
        "  --seed N           repeatable randomness (tests only)\n",
        f);
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out) {
  if (!s || !*s || *s == '-' || *s == '+') return -1;
  char *end;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (errno || *end || v > max) return -1;
  *out = v;
  return 0;
}

#define FAIL(...)                        \
  do {                                   \
    snprintf(err, errcap, __VA_ARGS__);  \
    return -1;                           \
  } while (0)

int chat_cli_parse(int argc, char **argv, chat_opts_t *o, char *err, size_t errcap, FILE *out) {
  memset(o, 0, sizeof *o);
  o->name = "you";
  o->probe_idle_ms = 1000;
  o->silent_ms = 5000;
  o->linger_ms = 2000;
  const char *pos[2];
  int npos = 0, listen = 0, peer = 0, have_port = 0;
  unsigned long v;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *val = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      chat_cli_usage(out);
      return 1;
    } else if (!strcmp(a, "--events")) {
      o->events = 1;
    } else if (!strcmp(a, "--trace")) {
      o->trace = 1;
    } else if (!strcmp(a, "--timestamps")) {
      o->timestamps = 1;
    } else if (a[0] == '-' && a[1] == '-' && a[2]) {
      if (!val) FAIL("%s needs a value", a);
      i++;
      if (!strcmp(a, "--listen") || !strcmp(a, "--port")) {
        if (parse_uint(val, 65535, &v) < 0) FAIL("bad port: %s", val);
        o->local_port = (int)v;
        if (a[2] == 'l') listen = 1;
        else have_port = 1;
      } else if (!strcmp(a, "--peer")) {
        if (i + 1 >= argc) FAIL("--peer needs HOST PORT");
        o->host = val;
        if (parse_uint(argv[++i], 65535, &v) < 0 || v == 0) FAIL("bad port: %s", argv[i]);
        o->port = (int)v;
        peer = 1;
      } else if (!strcmp(a, "--bind")) {
        o->bind_host = val;
      } else if (!strcmp(a, "--name")) {
        o->name = val;
      } else if (!strcmp(a, "--script")) {
        o->script = val;
        o->events = 1;
      } else if (!strcmp(a, "--probe-idle") || !strcmp(a, "--silent") ||
                 !strcmp(a, "--linger")) {
        if (parse_uint(val, 3600000, &v) < 0) FAIL("bad duration for %s: %s", a, val);
        if (a[2] == 'p') o->probe_idle_ms = (unsigned)v;
        else if (a[2] == 's') o->silent_ms = (unsigned)v;
        else o->linger_ms = (unsigned)v;
      } else if (!strcmp(a, "--max-rto")) {
        if (parse_uint(val, 600000, &v) < 0 || v < 200)
          FAIL("bad --max-rto (200..600000): %s", val);
        o->max_rto_ms = (unsigned)v;
      } else if (!strcmp(a, "--timeout")) {
        if (parse_uint(val, 86400, &v) < 0) FAIL("bad timeout: %s", val);
        o->timeout_s = (unsigned)v;
      } else if (!strcmp(a, "--seed")) {
        if (parse_uint(val, 0xffffffffUL, &v) < 0) FAIL("bad seed: %s", val);
        o->seed = (unsigned)v;
      } else {
        FAIL("unknown option %s", a);
      }
    } else {
      if (npos == 2) FAIL("too many arguments: %s", a);
      pos[npos++] = a;
    }
  }
  if (listen + peer + (npos > 0) != 1)
    FAIL("choose one of --listen PORT, HOST PORT, --peer HOST PORT --port PORT");
  if (listen) {
    o->mode = CHAT_MODE_LISTEN;
    if (have_port) FAIL("--port is for --peer");
  } else if (peer) {
    o->mode = CHAT_MODE_PEER;
    if (!have_port || o->local_port == 0) FAIL("--peer needs --port PORT (our own port)");
  } else {
    o->mode = CHAT_MODE_CONNECT;
    if (npos != 2) FAIL("HOST PORT expected");
    if (have_port) FAIL("--port is for --peer");
    o->host = pos[0];
    if (parse_uint(pos[1], 65535, &v) < 0 || v == 0) FAIL("bad port: %s", pos[1]);
    o->port = (int)v;
  }
  if (o->probe_idle_ms == 0 || o->silent_ms == 0) FAIL("probe durations must be > 0");
  return 0;
}

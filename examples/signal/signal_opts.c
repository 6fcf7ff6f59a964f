#include "signal_opts.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"

void server_opts_usage(FILE *f) {
  fputs("usage: signal-server [options] PORT\n"
        "  --host ADDR          address to listen on (default 0.0.0.0)\n"
        "  --max-clients N      default 1024\n"
        "  --max-rooms N        default 512\n"
        "  --max-members N      per room, default 8\n"
        "  --max-message BYTES  default 65536\n"
        "  --probe-idle MS      link probe after MS ms of silence (default 1000)\n"
        "  --silent MS          link silent after MS ms unanswered (default 5000)\n"
        "  --max-rto MS         cap the retransmission timeout (default: tou's, 60 s),\n"
        "                       so that a member that comes back is heard soon\n"
        "  -q, --quiet          no event log (the listening line is always printed)\n",
        f);
}

void client_opts_usage(FILE *f) {
  fputs("usage: signal-client [options] HOST PORT\n"
        "  --room NAME        room to join (with --pairs: the rooms' prefix; default room)\n"
        "  --name NAME        our name (default: from the role)\n"
        "  --role caller|callee  play one side of a call and check what arrives\n"
        "  --pairs N          run N calls at once (2N clients)\n"
        "  --candidates K     ICE candidates each side sends (default 3)\n"
        "  --hold MS          caller: stay in the call MS ms before bye, trickling a\n"
        "                     candidate every 500 ms (default 0)\n"
        "  --timeout S        fail what has not finished after S s (default 30)\n"
        "  --linger MS        keep the socket MS ms after closing (default 1000)\n"
        "  --probe-idle MS, --silent MS   link probing (default 1000, 5000)\n"
        "  -v, --verbose      print every message\n"
        "  --watch            interactive without stdin: print what arrives until\n"
        "                     SIGINT/SIGTERM, then leave\n"
        "Without --role or --pairs: interactive. Each stdin line is sent: \"offer TEXT\",\n"
        "\"answer TEXT\", \"candidate TEXT\", \"bye\", or a raw JSON object; what arrives is\n"
        "printed as RECV lines.\n",
        f);
}

/* A whole decimal number in [min, max]. */
static int number(const char *s, unsigned long min, unsigned long max, unsigned long *out) {
  if (!s || *s < '0' || *s > '9') return -1;
  char *end;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (errno || *end || v < min || v > max) return -1;
  *out = v;
  return 0;
}

#define FAIL(...)                       \
  do {                                  \
    snprintf(err, errcap, __VA_ARGS__); \
    return -1;                          \
  } while (0)

typedef struct num_opt {
  const char *name;
  unsigned long min, max;
  size_t offset;
  int is_size;
} num_opt_t;

static int set_number(void *base, const num_opt_t *table, size_t n, const char *name,
                      const char *val, char *err, size_t errcap) {
  for (size_t i = 0; i < n; i++) {
    if (strcmp(table[i].name, name)) continue;
    unsigned long v;
    if (number(val, table[i].min, table[i].max, &v) < 0)
      FAIL("%s wants a number in %lu..%lu, not %s", name, table[i].min, table[i].max, val);
    char *slot = (char *)base + table[i].offset;
    if (table[i].is_size) *(size_t *)slot = v;
    else *(unsigned *)slot = (unsigned)v;
    return 0;
  }
  FAIL("unknown option %s", name);
}

#define S(f) offsetof(server_opts_t, f)
static const num_opt_t server_numbers[] = {
    {"--max-clients", 1, 100000, S(max_clients), 0},
    {"--max-rooms", 1, 100000, S(max_rooms), 0},
    {"--max-members", 1, 1000, S(max_members), 0},
    {"--max-message", 64, 16u << 20, S(max_message), 1},
    {"--probe-idle", 1, 3600000, S(probe_idle_ms), 0},
    {"--silent", 1, 3600000, S(silent_ms), 0},
    {"--max-rto", 200, 600000, S(max_rto_ms), 0},
};

int server_opts_parse(int argc, char **argv, server_opts_t *o, char *err, size_t errcap,
                      FILE *out) {
  *o = (server_opts_t){"0.0.0.0", -1, 1024, 512, 8, FRAME_DEFAULT_MAX, 1000, 5000, 0, 0};
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    unsigned long n;
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      server_opts_usage(out);
      return 1;
    } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
      o->quiet = 1;
    } else if (a[0] != '-') {
      if (o->port >= 0) FAIL("one PORT only (%s)", a);
      if (number(a, 0, 65535, &n) < 0) FAIL("bad port %s", a);
      o->port = (int)n;
    } else if (!v) {
      FAIL("%s needs a value", a);
    } else if (!strcmp(a, "--host")) {
      o->host = v;
      i++;
    } else {
      if (set_number(o, server_numbers, sizeof server_numbers / sizeof server_numbers[0], a, v,
                     err, errcap) < 0)
        return -1;
      i++;
    }
  }
  if (o->port < 0) FAIL("PORT is required (0: any)");
  return 0;
}

#define C(f) offsetof(client_opts_t, f)
static const num_opt_t client_numbers[] = {
    {"--pairs", 1, 1000, C(pairs), 0},
    {"--candidates", 0, 100, C(candidates), 0},
    {"--timeout", 1, 86400, C(timeout_s), 0},
    {"--linger", 0, 60000, C(linger_ms), 0},
    {"--hold", 0, 3600000, C(hold_ms), 0},
    {"--probe-idle", 1, 3600000, C(probe_idle_ms), 0},
    {"--silent", 1, 3600000, C(silent_ms), 0},
};

int client_opts_parse(int argc, char **argv, client_opts_t *o, char *err, size_t errcap,
                      FILE *out) {
  memset(o, 0, sizeof *o);
  o->room = "room";
  o->candidates = 3;
  o->timeout_s = 30;
  o->linger_ms = 1000;
  o->probe_idle_ms = 1000;
  o->silent_ms = 5000;
  const char *pos[2];
  int npos = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      client_opts_usage(out);
      return 1;
    } else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
      o->verbose = 1;
    } else if (!strcmp(a, "--watch")) {
      o->watch = 1;
    } else if (a[0] != '-' || !a[1]) {
      if (npos == 2) FAIL("too many arguments (%s)", a);
      pos[npos++] = a;
    } else if (!v) {
      FAIL("%s needs a value", a);
    } else if (!strcmp(a, "--room")) {
      o->room = v;
      i++;
    } else if (!strcmp(a, "--name")) {
      o->name = v;
      i++;
    } else if (!strcmp(a, "--role")) {
      if (!strcmp(v, "caller")) o->role = ROLE_CALLER;
      else if (!strcmp(v, "callee")) o->role = ROLE_CALLEE;
      else FAIL("--role caller or --role callee, not %s", v);
      i++;
    } else {
      if (set_number(o, client_numbers, sizeof client_numbers / sizeof client_numbers[0], a, v,
                     err, errcap) < 0)
        return -1;
      i++;
    }
  }
  if (npos != 2) FAIL("HOST PORT expected");
  unsigned long port;
  if (number(pos[1], 1, 65535, &port) < 0) FAIL("bad port %s", pos[1]);
  o->host = pos[0];
  o->port_text = pos[1];
  o->port = (int)port;
  if (o->pairs && o->role != ROLE_NONE) FAIL("--pairs plays both roles; drop --role");
  if (o->pairs && o->name) FAIL("--pairs names its clients; drop --name");
  if (o->watch && (o->pairs || o->role != ROLE_NONE)) FAIL("--watch is for one interactive client");
  return 0;
}

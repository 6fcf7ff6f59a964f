/* The command lines of signal-server and signal-client, parsed into option
 * structs without side effects (unit-tested in tests/examples). */
#ifndef SIGNAL_OPTS_H
#define SIGNAL_OPTS_H

#include <stddef.h>
#include <stdio.h>

typedef struct server_opts {
  const char *host;
  int port;
  unsigned max_clients, max_rooms, max_members;
  size_t max_message;
  unsigned probe_idle_ms, silent_ms;
  unsigned max_rto_ms; /* 0: tou's default */
  int quiet;
} server_opts_t;

typedef enum client_role { ROLE_NONE = 0, ROLE_CALLER, ROLE_CALLEE } client_role_t;

typedef struct client_opts {
  const char *host, *port_text;
  int port;
  const char *room, *name; /* name NULL: from the role */
  client_role_t role;
  unsigned pairs;          /* 0: one client */
  unsigned candidates, timeout_s, linger_ms, hold_ms, probe_idle_ms, silent_ms;
  int verbose, watch;
} client_opts_t;

/* Each returns 0, 1 when help was printed to out, or -1 with a message in
 * err (errcap bytes). */
int server_opts_parse(int argc, char **argv, server_opts_t *o, char *err, size_t errcap,
                      FILE *out);
int client_opts_parse(int argc, char **argv, client_opts_t *o, char *err, size_t errcap,
                      FILE *out);
void server_opts_usage(FILE *f);
void client_opts_usage(FILE *f);

#endif

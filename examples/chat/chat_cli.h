/* chat's command line, parsed into options without side effects (so that
 * it can be unit-tested). See chat_cli_usage(). */
#ifndef CHAT_CLI_H
#define CHAT_CLI_H

#include <stdio.h>

typedef enum chat_mode {
  CHAT_MODE_LISTEN = 0, /* chat --listen PORT */
  CHAT_MODE_CONNECT,    /* chat HOST PORT */
  CHAT_MODE_PEER,       /* chat --peer HOST PORT --port PORT: simultaneous open */
} chat_mode_t;

typedef struct chat_opts {
  chat_mode_t mode;
  const char *host;       /* CONNECT / PEER: the other side */
  int port;               /* CONNECT / PEER: the other side's port */
  int local_port;         /* LISTEN / PEER: our port; CONNECT: 0 (ephemeral) */
  const char *bind_host;  /* local address; NULL: the wildcard of host's family */
  const char *script;     /* --script FILE, or NULL */
  const char *name;       /* shown before our lines in the human view */
  int events;             /* machine-readable event log on stdout */
  int trace;              /* print every segment, not only state changes */
  int timestamps;         /* prefix each output line with the wall-clock time */
  unsigned max_rto_ms;    /* 0: tou's default; an interactive app may want less */
  unsigned probe_idle_ms; /* link probe after this much silence */
  unsigned silent_ms;     /* no answer this long: the link is silent */
  unsigned linger_ms;     /* stay in TIME_WAIT this long before exiting */
  unsigned timeout_s;     /* give up (abort, exit 1) after this; 0: never */
  unsigned seed;          /* nonzero: repeatable tou randomness (tests) */
} chat_opts_t;

/* Returns 0, 1 when help was asked for (usage already printed to out), or -1
 * with a message in err. */
int chat_cli_parse(int argc, char **argv, chat_opts_t *opts, char *err, size_t errcap,
                   FILE *out);

void chat_cli_usage(FILE *f);

#endif

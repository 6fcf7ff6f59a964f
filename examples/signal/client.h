/* signal-client's agents: each is one client with its own socket and
 * connection. One file per job:
 *   client.c  the program: options, starting agents, interactive mode, exit
 *   agent.c   an agent's connection: connect, messages in, close, linger
 *   call.c    one side of a scripted call: what to send next, and the checks
 *             on every message received (type, order, sender) */
#ifndef SIGNAL_CLIENT_H
#define SIGNAL_CLIENT_H

#include <stdbool.h>
#include <tou.h>

#include "sconn.h"
#include "signal_opts.h"
#include "sigmsg.h"

enum phase {
  PH_CONNECTING,
  PH_JOINING,      /* join sent, waiting for joined */
  PH_WAIT_PEER,    /* caller: alone in the room */
  PH_WAIT_OFFER,   /* callee */
  PH_WAIT_ANSWER,  /* caller: offer sent */
  PH_CANDIDATES,   /* exchanging candidates */
  PH_WAIT_BYE,     /* callee: all candidates done */
  PH_IN_CALL,      /* caller: --hold, the call is up */
  PH_INTERACTIVE,
  PH_CLOSING,
  PH_DONE,
  PH_FAILED,
};

typedef struct agent {
  sconn_t conn; /* first */
  struct app *app;
  client_role_t role;
  enum phase phase;
  char room[SIG_MAX_ROOM + 1], name[SIG_MAX_NAME + 1], peer[SIG_MAX_NAME + 1];
  unsigned cand_sent, cand_recv;
  unsigned cand_target; /* candidates to send: --candidates, more when trickling */
  tou_endpoint_t ep;
  tou_connect_t connect_req;
  uv_timer_t linger;
  uv_timer_t trickle; /* caller with --hold: one more candidate every 500 ms */
  char why[200];
  bool finished, connected;
  bool input_done; /* interactive: stdin ended */
} agent_t;

typedef struct app {
  uv_loop_t *loop;
  struct sockaddr_storage server;
  unsigned candidates, linger_ms, timeout_s, probe_idle_ms, silent_ms;
  unsigned hold_ms; /* caller: stay in the call this long before bye */
  int verbose;
  agent_t *agents;
  unsigned count, finished, failed;
  uv_timer_t deadline;
  uv_signal_t sigint, sigterm; /* leave the room and close, then exit */
  int watch; /* interactive without stdin: print what arrives until a signal */
  uv_pipe_t input;
  bool input_open;
  char input_line[SIG_MAX_SDP + 256];
  size_t input_len;
} app_t;

/* agent.c */
int agent_start(app_t *app, agent_t *a);
void agent_say(agent_t *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Marks the agent failed (printing why) and closes its connection. */
void agent_fail(agent_t *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Sends text (built by sigmsg) and releases it; a failure fails the agent. */
void agent_send(agent_t *a, char *text);

/* call.c */
/* A validated message from the server, for a caller or callee agent. */
void call_on_message(agent_t *a, const sig_msg_t *m);

#endif

/* Parser for the state-machine scripts (grammar: README.md and the top of
 * driver.c). Turns a script file into a list of lines; knows nothing about
 * the endpoint. */
#ifndef TOU_SCRIPT_H
#define TOU_SCRIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCRIPT_MAX_LINES 512
#define SCRIPT_MAX_OPTIONS 16

/* A numeric field of a segment line: absent, "*" (any), or a value. */
typedef struct script_field {
  bool set;
  bool any;
  int64_t v;
} script_field_t;

typedef struct script_pkt {
  uint8_t flags;
  script_field_t seq, ack, win, len, dcid, scid, urg;
  bool opts_given; /* "<...>" present: the option set is checked / sent */
  uint32_t opts;   /* TOU_OPT_* bits listed */
  script_field_t mss, wscale, ts_val, ts_ecr;
  unsigned sack_count;
  script_field_t sack_left[4], sack_right[4];
  script_field_t probe_phase, probe_nonce, probe_echo;
  bool probe_echo_last; /* "echo last": the last nonce the endpoint sent */
  script_field_t uto;   /* "uto N [min]": the RFC 5482 field (G bit for min) */
  /* "< version-reject [dcid=V] [scid=V] [versions=A,B,...]": a version-0
   * datagram (PROTOCOL.md 6) instead of a segment. */
  bool vreject;
  unsigned vr_count;
  uint8_t vr_versions[8];
} script_pkt_t;

typedef enum script_kind {
  SL_OPTION, /* option name=value ... */
  SL_CALL,   /* application call */
  SL_OUT,    /* "> ...": the endpoint must send this */
  SL_IN,     /* "< ...": the script peer sends this */
  SL_EXPECT, /* expect ... */
} script_kind_t;

typedef enum script_call {
  SC_LISTEN, SC_UNLISTEN, SC_CONNECT, SC_ACCEPT, SC_SEND, SC_RECV, SC_RECV_EOF,
  SC_SHUTDOWN, SC_CLOSE, SC_ABORT, SC_WAIT,
  SC_SEND_URGENT, /* send-urgent N: tou_conn_send_urgent */
  SC_USER_TIMEOUT, /* user-timeout SECONDS: tou_conn_set_user_timeout */
} script_call_t;

typedef enum script_expect {
  SE_STATE,    /* expect state NAME */
  SE_ERROR,    /* expect error TOU_ERR_x | TOU_OK */
  SE_EVENT,    /* expect event NAME... (bits seen since the last check) */
  SE_NO_EVENT, /* expect no-event NAME... */
  SE_DEADLINE, /* expect deadline <time> | never */
  SE_URGENT,   /* expect urgent N | none (tou_conn_urgent_mark) */
} script_expect_t;

typedef struct script_line {
  int lineno;
  char text[200];
  script_kind_t kind;
  uint64_t time_us; /* absolute, resolved by the parser */
  bool timed;       /* a time was written (untimed lines run at the previous time) */
  script_call_t call;
  int64_t arg;
  script_expect_t expect;
  int value;        /* state, error */
  unsigned events;  /* TOU_EV_* bits */
  uint64_t deadline_us;
  bool deadline_never;
  int64_t urgent;   /* expect urgent: bytes to the mark, -1 for none */
  script_pkt_t pkt;
  /* option lines */
  unsigned n_options;
  char opt_name[SCRIPT_MAX_OPTIONS][32];
  double opt_value[SCRIPT_MAX_OPTIONS];
} script_line_t;

typedef struct script {
  const char *path;
  size_t n;
  script_line_t lines[SCRIPT_MAX_LINES];
} script_t;

/* Parses path into s. On error returns false and writes "file:line: why"
 * into err. */
bool script_parse(const char *path, script_t *s, char *err, size_t errcap);

#endif

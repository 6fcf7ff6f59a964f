/* The signalling messages: JSON objects with a "type", validated and built
 * with cJSON (never by hand, so that quoting and escaping are cJSON's job).
 *
 * Client -> server:
 *   {"type":"join","room":R,"name":N}
 *   {"type":"offer"|"answer","sdp":S[,"to":N]}
 *   {"type":"candidate","candidate":C[,"sdpMid":M][,"sdpMLineIndex":I][,"to":N]}
 *   {"type":"bye"[,"reason":T]}
 * Server -> client:
 *   {"type":"joined","room":R,"name":N,"members":[N...]}   your join worked
 *   the messages above relayed, with "from":N added (a "bye" with reason
 *     "disconnected" when a member vanished without one)
 *   {"type":"peer-link","name":N,"state":"silent"|"back"}   a member's link
 *   {"type":"error","code":C,"message":T}                    see sig_err_t
 * Room names and member names are 1..64 / 1..32 characters of [A-Za-z0-9._-]. */
#ifndef SIGNAL_SIGMSG_H
#define SIGNAL_SIGMSG_H

#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#define SIG_MAX_ROOM 64
#define SIG_MAX_NAME 32
#define SIG_MAX_SDP 60000
#define SIG_MAX_CANDIDATE 1024
#define SIG_MAX_TEXT 256

typedef enum sig_type {
  SIG_JOIN = 0,
  SIG_OFFER,
  SIG_ANSWER,
  SIG_CANDIDATE,
  SIG_BYE,
  SIG_JOINED,
  SIG_PEER_LINK,
  SIG_ERROR,
  SIG_TYPE_COUNT
} sig_type_t;

/* Why a message was refused; sig_err_code() gives the "code" of the error
 * reply. */
typedef enum sig_err {
  SIG_OK = 0,
  SIG_E_BAD_JSON,       /* "bad-json": not JSON */
  SIG_E_NOT_OBJECT,     /* "not-object": JSON, but not an object */
  SIG_E_BAD_TYPE,       /* "bad-type": "type" missing or not a string */
  SIG_E_UNKNOWN_TYPE,   /* "unknown-type" */
  SIG_E_WRONG_SIDE,     /* "unexpected-type": e.g. a client sending "joined" */
  SIG_E_MISSING_FIELD,  /* "missing-field" */
  SIG_E_BAD_FIELD,      /* "bad-field": wrong JSON type, too long, bad characters */
  SIG_E_TOO_LARGE,      /* "too-large": over the framing limit (then closed) */
  SIG_E_FRAMING,        /* "bad-framing": e.g. length 0 (then closed) */
  SIG_E_NOT_JOINED,     /* "not-joined": join a room first */
  SIG_E_ALREADY_JOINED, /* "already-joined" */
  SIG_E_ROOM_FULL,      /* "room-full" */
  SIG_E_TOO_MANY_ROOMS, /* "too-many-rooms" */
  SIG_E_NAME_TAKEN,     /* "name-taken": in that room */
  SIG_E_NO_SUCH_PEER,   /* "no-such-peer": "to" names nobody in the room */
  SIG_E_SERVER_FULL,    /* "server-full": too many clients */
  SIG_E_COUNT
} sig_err_t;

typedef struct sig_msg {
  sig_type_t type;
  cJSON *root; /* owned; the pointers below point into it */
  const char *room, *name, *from, *to;
  const char *sdp, *candidate, *sdp_mid, *reason;
  int mline_index; /* -1 when absent */
  const char *code, *message, *state;
  const cJSON *members; /* joined: array of strings */
} sig_msg_t;

const char *sig_type_name(sig_type_t t);
const char *sig_err_code(sig_err_t e);

/* Parses and validates len bytes (need not be NUL-terminated) as a message
 * sent by a client (from_server 0) or by the server (1). Returns SIG_OK with
 * *out filled (release with sig_msg_free), or an error with a short reason
 * in detail (detailcap bytes) and nothing to release. */
sig_err_t sig_parse(const uint8_t *data, size_t len, int from_server, sig_msg_t *out,
                    char *detail, size_t detailcap);
void sig_msg_free(sig_msg_t *m);

/* True for 1..max characters of [A-Za-z0-9._-]. */
int sig_valid_ident(const char *s, size_t max);

/* Builders: each returns a NUL-terminated JSON text to release with
 * sig_text_free, or NULL when out of memory. */
char *sig_build_join(const char *room, const char *name);
char *sig_build_sdp(sig_type_t type /* SIG_OFFER or SIG_ANSWER */, const char *sdp,
                    const char *to /* may be NULL */);
char *sig_build_candidate(const char *candidate, const char *sdp_mid, int mline_index,
                          const char *to);
char *sig_build_bye(const char *reason /* may be NULL */);
/* A bye on behalf of a member that vanished without one (server side). */
char *sig_build_bye_from(const char *from, const char *reason);
/* The client's message m as the server forwards it: every field kept, "from"
 * set to the sender's name. */
char *sig_build_relay(const sig_msg_t *m, const char *from);
char *sig_build_joined(const char *room, const char *name, const char *const *members,
                       size_t count);
char *sig_build_peer_link(const char *name, const char *state);
char *sig_build_error(sig_err_t code, const char *message);
void sig_text_free(char *text);

#endif

/* What the chat prints: the conversation, the link status and events, either
 * for a person (a status line, "peer: text") or as a machine-readable log for
 * tests (one record per line: EVENT ..., SENT text, RECV text, STATE ...). */
#ifndef CHAT_VIEW_H
#define CHAT_VIEW_H

#include <stddef.h>
#include <stdio.h>

typedef enum chat_link {
  CHAT_LINK_CONNECTING = 0,
  CHAT_LINK_CONNECTED, /* the peer answers */
  CHAT_LINK_PROBING,   /* nothing heard for a while: "can you hear me? ..." */
  CHAT_LINK_SILENT,    /* no answer within the silent time */
  CHAT_LINK_BACK,      /* heard again after being silent */
  CHAT_LINK_CLOSED,
} chat_link_t;

/* One word per state, for the event log: "connecting", "connected",
 * "probing", "silent", "back", "closed". */
const char *chat_link_word(chat_link_t link);
/* What a person sees in the status line. */
const char *chat_link_text(chat_link_t link);

/* Copies at most cap - 1 bytes of in to out, NUL-terminated, replacing
 * control characters (terminal escapes a peer could send) with '?'. Returns
 * the length written. */
size_t chat_sanitize(const char *in, size_t len, char *out, size_t cap);

typedef struct chat_view {
  FILE *out;
  int events;       /* machine-readable log */
  const char *name; /* our name in the human view */
  int timestamps;   /* prefix every line with the wall-clock time */
  int status_line;  /* a person at a terminal: keep "[link] " as the prompt */
  chat_link_t link; /* for the status line */
} chat_view_t;

void chat_view_init(chat_view_t *v, FILE *out, int events, const char *name, int timestamps);
/* Keeps a status line ("[connected] ") below the conversation, as the
 * prompt; for a terminal, not for logs. */
void chat_view_use_status_line(chat_view_t *v, int on);
/* An event: "EVENT <text>" in the log, "* <text>" for a person. */
void chat_view_event(chat_view_t *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A message sent (incoming 0) or received (incoming 1). */
void chat_view_message(chat_view_t *v, int incoming, const char *text, size_t len);
/* The link status changed. */
void chat_view_link(chat_view_t *v, chat_link_t link);
/* A line as is (the /state report, traces). */
void chat_view_line(chat_view_t *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif

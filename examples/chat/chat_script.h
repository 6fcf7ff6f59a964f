/* The chat's scripted mode (--script FILE): timed lines for tests and the
 * demo, parsed into steps before anything runs so that a typo fails fast.
 *
 * One step per line:
 *   +MS TEXT   wait MS milliseconds after the previous step, then act
 *   TEXT       the same with MS = 0
 *   # ...      comment; blank lines are ignored
 * TEXT is a chat message or a command (/state, /quit, /abort, /wait N:
 * wait until N messages have been received in total). */
#ifndef CHAT_SCRIPT_H
#define CHAT_SCRIPT_H

#include <stddef.h>

#define SCRIPT_MAX_STEPS 10000
#define SCRIPT_MAX_TEXT 1024
#define SCRIPT_MAX_DELAY_MS 600000u

typedef struct script_step {
  unsigned delay_ms;
  char *text; /* NUL-terminated, owned by the script */
} script_step_t;

typedef struct chat_script {
  script_step_t *steps;
  size_t count;
} chat_script_t;

/* Parses len bytes of script text. Returns 0, or -1 with a message naming
 * the line in err (errcap bytes). On failure *out is left empty. */
int chat_script_parse(const char *text, size_t len, chat_script_t *out, char *err, size_t errcap);

void chat_script_free(chat_script_t *s);

#endif

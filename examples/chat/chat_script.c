#include "chat_script.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void chat_script_free(chat_script_t *s) {
  for (size_t i = 0; i < s->count; i++) free(s->steps[i].text);
  free(s->steps);
  s->steps = NULL;
  s->count = 0;
}

/* Parses "+MS " at the start of line; returns the offset of the text. */
static int parse_delay(const char *line, size_t len, unsigned *delay, size_t *text_at) {
  *delay = 0;
  *text_at = 0;
  if (len == 0 || line[0] != '+') return 0;
  size_t i = 1;
  unsigned long ms = 0;
  if (i >= len || !isdigit((unsigned char)line[i])) return -1;
  while (i < len && isdigit((unsigned char)line[i])) {
    ms = ms * 10 + (unsigned long)(line[i] - '0');
    if (ms > SCRIPT_MAX_DELAY_MS) return -1;
    i++;
  }
  if (i < len && line[i] != ' ' && line[i] != '\t') return -1;
  while (i < len && (line[i] == ' ' || line[i] == '\t')) i++;
  *delay = (unsigned)ms;
  *text_at = i;
  return 0;
}

static int add_step(chat_script_t *s, unsigned delay, const char *text, size_t len) {
  script_step_t *grown = realloc(s->steps, (s->count + 1) * sizeof *grown);
  if (!grown) return -1;
  s->steps = grown;
  char *copy = malloc(len + 1);
  if (!copy) return -1;
  memcpy(copy, text, len);
  copy[len] = '\0';
  s->steps[s->count].delay_ms = delay;
  s->steps[s->count].text = copy;
  s->count++;
  return 0;
}

static int fail(chat_script_t *s, char *err, size_t errcap, unsigned lineno, const char *why) {
  snprintf(err, errcap, "line %u: %s", lineno, why);
  chat_script_free(s);
  return -1;
}

int chat_script_parse(const char *text, size_t len, chat_script_t *out, char *err, size_t errcap) {
  out->steps = NULL;
  out->count = 0;
  size_t pos = 0;
  unsigned lineno = 0;
  while (pos < len) {
    const char *line = text + pos;
    const char *nl = memchr(line, '\n', len - pos);
    size_t n = nl ? (size_t)(nl - line) : len - pos;
    pos += n + (nl ? 1 : 0);
    lineno++;
    if (n > 0 && line[n - 1] == '\r') n--;
    if (memchr(line, '\0', n)) return fail(out, err, errcap, lineno, "NUL byte");
    size_t lead = 0;
    while (lead < n && (line[lead] == ' ' || line[lead] == '\t')) lead++;
    if (lead == n || line[lead] == '#') continue;
    unsigned delay;
    size_t at;
    if (parse_delay(line + lead, n - lead, &delay, &at) < 0)
      return fail(out, err, errcap, lineno, "bad delay (want +MILLISECONDS, at most 600000)");
    size_t tlen = n - lead - at;
    if (tlen == 0) return fail(out, err, errcap, lineno, "empty text");
    if (tlen > SCRIPT_MAX_TEXT) return fail(out, err, errcap, lineno, "text too long");
    if (out->count == SCRIPT_MAX_STEPS) return fail(out, err, errcap, lineno, "too many steps");
    if (add_step(out, delay, line + lead + at, tlen) < 0)
      return fail(out, err, errcap, lineno, "out of memory");
  }
  return 0;
}

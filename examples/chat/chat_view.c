#include "chat_view.h"

#include <stdarg.h>
#include <time.h>
#include <uv.h>

const char *chat_link_word(chat_link_t link) {
  switch (link) {
    case CHAT_LINK_CONNECTING: return "connecting";
    case CHAT_LINK_CONNECTED: return "connected";
    case CHAT_LINK_PROBING: return "probing";
    case CHAT_LINK_SILENT: return "silent";
    case CHAT_LINK_BACK: return "back";
    case CHAT_LINK_CLOSED: return "closed";
  }
  return "unknown";
}

const char *chat_link_text(chat_link_t link) {
  switch (link) {
    case CHAT_LINK_CONNECTING: return "connecting ...";
    case CHAT_LINK_CONNECTED: return "connected";
    case CHAT_LINK_PROBING: return "can you hear me? ...";
    case CHAT_LINK_SILENT:
      return "silent (no answer; your messages are kept and sent when it is back)";
    case CHAT_LINK_BACK: return "back";
    case CHAT_LINK_CLOSED: return "closed";
  }
  return "unknown";
}

size_t chat_sanitize(const char *in, size_t len, char *out, size_t cap) {
  if (cap == 0) return 0;
  size_t n = len < cap - 1 ? len : cap - 1;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)in[i];
    out[i] = (c < 0x20 && c != '\t') || c == 0x7f ? '?' : (char)c;
  }
  out[n] = '\0';
  return n;
}

void chat_view_init(chat_view_t *v, FILE *out, int events, const char *name, int timestamps) {
  v->out = out;
  v->events = events;
  v->name = name;
  v->timestamps = timestamps;
  v->status_line = 0;
  v->link = CHAT_LINK_CONNECTING;
}

void chat_view_use_status_line(chat_view_t *v, int on) { v->status_line = on && !v->events; }

/* Erase the status line before printing above it, redraw it after. */
static void begin(chat_view_t *v) {
  if (v->status_line) fputs("\r\033[K", v->out);
}

static void end(chat_view_t *v) {
  if (v->status_line) fprintf(v->out, "[%s] ", chat_link_text(v->link));
  fflush(v->out);
}

/* Wall-clock time, so that two peers' logs can be merged by time. */
static void stamp(chat_view_t *v) {
  if (!v->timestamps) return;
  uv_timeval64_t tv;
  if (uv_gettimeofday(&tv) != 0) return;
  time_t secs = (time_t)tv.tv_sec;
  struct tm tm;
  localtime_r(&secs, &tm);
  fprintf(v->out, "%02d:%02d:%02d.%03d ", tm.tm_hour, tm.tm_min, tm.tm_sec,
          (int)(tv.tv_usec / 1000));
}

void chat_view_event(chat_view_t *v, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  begin(v);
  stamp(v);
  fputs(v->events ? "EVENT " : "* ", v->out);
  vfprintf(v->out, fmt, ap);
  fputc('\n', v->out);
  va_end(ap);
  end(v);
}

void chat_view_message(chat_view_t *v, int incoming, const char *text, size_t len) {
  char clean[4096];
  chat_sanitize(text, len, clean, sizeof clean);
  begin(v);
  stamp(v);
  if (v->events)
    fprintf(v->out, "%s %s\n", incoming ? "RECV" : "SENT", clean);
  else
    fprintf(v->out, "%s: %s\n", incoming ? "peer" : v->name, clean);
  end(v);
}

void chat_view_link(chat_view_t *v, chat_link_t link) {
  v->link = link;
  begin(v);
  stamp(v);
  if (v->events)
    fprintf(v->out, "EVENT link %s\n", chat_link_word(link));
  else
    fprintf(v->out, "* link: %s\n", chat_link_text(link));
  end(v);
}

void chat_view_line(chat_view_t *v, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  begin(v);
  stamp(v);
  vfprintf(v->out, fmt, ap);
  fputc('\n', v->out);
  va_end(ap);
  end(v);
}

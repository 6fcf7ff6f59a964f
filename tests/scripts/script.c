#include "script.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

typedef struct parser {
  const char *path;
  int lineno;
  char *err;
  size_t errcap;
} parser_t;

static bool fail(parser_t *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool fail(parser_t *p, const char *fmt, ...) {
  int n = snprintf(p->err, p->errcap, "%s:%d: ", p->path, p->lineno);
  if (n < 0 || (size_t)n >= p->errcap) return false;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(p->err + n, p->errcap - (size_t)n, fmt, ap);
  va_end(ap);
  return false;
}

static char *skip_ws(char *s) {
  while (*s && isspace((unsigned char)*s)) s++;
  return s;
}

/* Next whitespace-separated word; NUL-terminates it and advances *s. */
static char *word(char **s) {
  char *w = skip_ws(*s);
  if (!*w) return NULL;
  char *e = w;
  while (*e && !isspace((unsigned char)*e)) e++;
  if (*e) *e++ = '\0';
  *s = e;
  return w;
}

static bool parse_int(const char *s, int64_t *out) {
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 0);
  if (errno || end == s || *end) return false;
  *out = v;
  return true;
}

static bool parse_seconds(const char *s, uint64_t *us) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || *end || v < 0 || v > 1e9) return false;
  *us = (uint64_t)llround(v * 1e6);
  return true;
}

static bool parse_field(parser_t *p, const char *name, const char *val, script_field_t *f) {
  f->set = true;
  if (strcmp(val, "*") == 0) {
    f->any = true;
    return true;
  }
  if (!parse_int(val, &f->v)) return fail(p, "bad value '%s' for %s", val, name);
  return true;
}

static bool parse_flags(parser_t *p, const char *w, uint8_t *flags) {
  *flags = 0;
  for (const char *c = w; *c; c++) {
    switch (*c) {
      case 'S': *flags |= TOU_SYN; break;
      case 'F': *flags |= TOU_FIN; break;
      case 'R': *flags |= TOU_RST; break;
      case 'P': *flags |= TOU_PSH; break;
      case 'U': *flags |= TOU_URG; break;
      case '.': *flags |= TOU_ACK; break;
      default: return fail(p, "unknown flag '%c' in '%s' (use S F R P U and . for ACK)", *c, w);
    }
  }
  return true;
}

/* One option inside <...>: "mss 1444", "sackOK", "ts val 1 ecr 0", "ws 7",
 * "sack 1:100 200:300", "nop" (ignored). */
static bool parse_option(parser_t *p, char *opt, script_pkt_t *pkt) {
  char *s = opt;
  char *name = word(&s);
  if (!name) return true;
  char *v1 = word(&s);
  if (strcmp(name, "nop") == 0 || strcmp(name, "eol") == 0) return true;
  if (strcmp(name, "mss") == 0) {
    pkt->opts |= TOU_OPT_MSS;
    return v1 ? parse_field(p, "mss", v1, &pkt->mss) : true;
  }
  if (strcmp(name, "ws") == 0 || strcmp(name, "wscale") == 0) {
    pkt->opts |= TOU_OPT_WSCALE;
    return v1 ? parse_field(p, "ws", v1, &pkt->wscale) : true;
  }
  if (strcmp(name, "sackOK") == 0) {
    pkt->opts |= TOU_OPT_SACK_PERM;
    return true;
  }
  if (strcasecmp(name, "ts") == 0) {
    pkt->opts |= TOU_OPT_TIMESTAMP;
    while (v1) {
      char *v2 = word(&s);
      if (!v2) return fail(p, "ts: '%s' needs a value", v1);
      if (strcmp(v1, "val") == 0) {
        if (!parse_field(p, "ts val", v2, &pkt->ts_val)) return false;
      } else if (strcmp(v1, "ecr") == 0) {
        if (!parse_field(p, "ts ecr", v2, &pkt->ts_ecr)) return false;
      } else {
        return fail(p, "ts: expected val/ecr, got '%s'", v1);
      }
      v1 = word(&s);
    }
    return true;
  }
  if (strcmp(name, "sack") == 0) {
    pkt->opts |= TOU_OPT_SACK;
    while (v1) {
      if (pkt->sack_count == 4) return fail(p, "at most 4 SACK blocks");
      char *colon = strchr(v1, ':');
      if (!colon) return fail(p, "SACK block '%s' must be left:right", v1);
      *colon = '\0';
      unsigned i = pkt->sack_count++;
      if (!parse_field(p, "sack", v1, &pkt->sack_left[i])) return false;
      if (!parse_field(p, "sack", colon + 1, &pkt->sack_right[i])) return false;
      v1 = word(&s);
    }
    return true;
  }
  if (strcmp(name, "uto") == 0) {
    /* uto N | uto N min | uto * (RFC 5482: seconds, or minutes with G) */
    pkt->opts |= TOU_OPT_UTO;
    if (!v1) return true;
    if (!parse_field(p, "uto", v1, &pkt->uto)) return false;
    char *unit = word(&s);
    if (unit && strcmp(unit, "min") != 0) return fail(p, "uto: unit must be 'min', got '%s'", unit);
    if (!pkt->uto.any && (pkt->uto.v < 0 || pkt->uto.v > 0x7fff))
      return fail(p, "uto: value %lld does not fit 15 bits", (long long)pkt->uto.v);
    if (unit && !pkt->uto.any) pkt->uto.v |= TOU_UTO_MINUTES;
    return true;
  }
  if (strcmp(name, "probe") == 0) {
    /* probe ask|answer|confirm|N [nonce V] [echo V|last] */
    pkt->opts |= TOU_OPT_PROBE;
    if (!v1) return fail(p, "probe needs a phase (ask answer confirm)");
    pkt->probe_phase.set = true;
    if (strcmp(v1, "ask") == 0) pkt->probe_phase.v = TOU_PROBE_ASK;
    else if (strcmp(v1, "answer") == 0) pkt->probe_phase.v = TOU_PROBE_ANSWER;
    else if (strcmp(v1, "confirm") == 0) pkt->probe_phase.v = TOU_PROBE_CONFIRM;
    else if (!parse_field(p, "probe phase", v1, &pkt->probe_phase)) return false;
    char *k;
    while ((k = word(&s)) != NULL) {
      char *v = word(&s);
      if (!v) return fail(p, "probe: '%s' needs a value", k);
      if (strcmp(k, "nonce") == 0) {
        if (!parse_field(p, "probe nonce", v, &pkt->probe_nonce)) return false;
      } else if (strcmp(k, "echo") == 0) {
        if (strcmp(v, "last") == 0) pkt->probe_echo_last = true;
        else if (!parse_field(p, "probe echo", v, &pkt->probe_echo)) return false;
      } else {
        return fail(p, "probe: expected nonce/echo, got '%s'", k);
      }
    }
    return true;
  }
  return fail(p, "unknown option '%s'", name);
}

/* "version-reject [dcid=V] [scid=V] [versions=A,B,...]" (default: the
 * endpoint's cid, 0, and version 2). */
static bool parse_vreject(parser_t *p, char *s, script_pkt_t *pkt) {
  pkt->vreject = true;
  pkt->vr_count = 1;
  pkt->vr_versions[0] = 2;
  char *w;
  while ((w = word(&s)) != NULL) {
    char *eq = strchr(w, '=');
    if (!eq) return fail(p, "expected name=value, got '%s'", w);
    *eq = '\0';
    char *v = eq + 1;
    if (strcmp(w, "dcid") == 0) {
      if (!parse_field(p, w, v, &pkt->dcid)) return false;
    } else if (strcmp(w, "scid") == 0) {
      if (!parse_field(p, w, v, &pkt->scid)) return false;
    } else if (strcmp(w, "versions") == 0) {
      pkt->vr_count = 0;
      char *save = NULL;
      for (char *t = strtok_r(v, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        int64_t x;
        if (!parse_int(t, &x) || x > 255 || pkt->vr_count == 8)
          return fail(p, "bad version list '%s'", v);
        pkt->vr_versions[pkt->vr_count++] = (uint8_t)x;
      }
      if (pkt->vr_count == 0) return fail(p, "empty version list");
    } else {
      return fail(p, "unknown field '%s' (dcid scid versions)", w);
    }
  }
  return true;
}

static bool parse_pkt(parser_t *p, char *s, script_pkt_t *pkt) {
  memset(pkt, 0, sizeof *pkt);
  char *opts = strchr(s, '<');
  if (opts) {
    char *close = strchr(opts, '>');
    if (!close) return fail(p, "'<' without '>'");
    *opts++ = '\0';
    *close = '\0';
    pkt->opts_given = true;
    char *save = NULL;
    for (char *o = strtok_r(opts, ",", &save); o; o = strtok_r(NULL, ",", &save))
      if (!parse_option(p, o, pkt)) return false;
  }
  char *w = word(&s);
  if (!w) return fail(p, "segment line needs flags");
  if (strcmp(w, "version-reject") == 0) return parse_vreject(p, s, pkt);
  if (!parse_flags(p, w, &pkt->flags)) return false;
  while ((w = word(&s)) != NULL) {
    char *eq = strchr(w, '=');
    if (!eq) return fail(p, "expected name=value, got '%s'", w);
    *eq = '\0';
    const char *v = eq + 1;
    script_field_t *f = NULL;
    if (strcmp(w, "seq") == 0) f = &pkt->seq;
    else if (strcmp(w, "ack") == 0) f = &pkt->ack;
    else if (strcmp(w, "win") == 0) f = &pkt->win;
    else if (strcmp(w, "len") == 0) f = &pkt->len;
    else if (strcmp(w, "dcid") == 0) f = &pkt->dcid;
    else if (strcmp(w, "scid") == 0) f = &pkt->scid;
    else if (strcmp(w, "urg") == 0) f = &pkt->urg;
    else return fail(p, "unknown field '%s' (seq ack win len dcid scid urg)", w);
    if (!parse_field(p, w, v, f)) return false;
  }
  return true;
}

static bool parse_state(parser_t *p, const char *name, int *out) {
  for (int s = TOU_CLOSED; s <= TOU_TIME_WAIT; s++) {
    if (strcmp(name, tou_state_name((tou_state_t)s)) == 0) {
      *out = s;
      return true;
    }
  }
  return fail(p, "unknown state '%s'", name);
}

static bool parse_error_name(parser_t *p, const char *name, int *out) {
  for (int e = 0; e >= -64; e--) {
    if (strcmp(name, tou_error_name(e)) == 0) {
      *out = e;
      return true;
    }
  }
  return fail(p, "unknown error '%s'", name);
}

static bool add_event(parser_t *p, const char *w, unsigned *bits) {
  static const struct {
    const char *name;
    unsigned bit;
  } map[] = {{"connected", TOU_EV_CONNECTED}, {"readable", TOU_EV_READABLE},
             {"writable", TOU_EV_WRITABLE},   {"shutdown", TOU_EV_SHUTDOWN},
             {"closed", TOU_EV_CLOSED},       {"link", TOU_EV_LINK},
             {"accept", TOU_EV_ACCEPT},       {"urgent", TOU_EV_URGENT}};
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
    if (strcmp(w, map[i].name) == 0) {
      *bits |= map[i].bit;
      return true;
    }
  }
  return fail(p,
              "unknown event '%s' (connected readable writable shutdown closed link accept urgent)",
              w);
}

static bool parse_expect(parser_t *p, char *s, script_line_t *l) {
  char *what = word(&s);
  char *arg = what ? word(&s) : NULL;
  if (!what || !arg) return fail(p, "expect needs a subject and a value");
  l->kind = SL_EXPECT;
  if (strcmp(what, "state") == 0) {
    l->expect = SE_STATE;
    return parse_state(p, arg, &l->value);
  }
  if (strcmp(what, "error") == 0) {
    l->expect = SE_ERROR;
    return parse_error_name(p, arg, &l->value);
  }
  if (strcmp(what, "event") == 0 || strcmp(what, "no-event") == 0) {
    l->expect = what[0] == 'n' ? SE_NO_EVENT : SE_EVENT;
    l->events = 0;
    for (char *w = arg; w; w = word(&s))
      if (!add_event(p, w, &l->events)) return false;
    return true;
  }
  if (strcmp(what, "deadline") == 0) {
    l->expect = SE_DEADLINE;
    if (strcmp(arg, "never") == 0) {
      l->deadline_never = true;
      return true;
    }
    if (!parse_seconds(arg, &l->deadline_us)) return fail(p, "bad deadline '%s'", arg);
    return true;
  }
  if (strcmp(what, "urgent") == 0) {
    l->expect = SE_URGENT;
    l->urgent = -1;
    if (strcmp(arg, "none") == 0) return true;
    if (!parse_int(arg, &l->urgent) || l->urgent < 0) return fail(p, "bad urgent mark '%s'", arg);
    return true;
  }
  return fail(p, "unknown expectation '%s' (state error event no-event deadline urgent)", what);
}

static bool parse_call(parser_t *p, char *verb, char *s, script_line_t *l) {
  static const struct {
    const char *name;
    script_call_t call;
  } calls[] = {{"listen", SC_LISTEN},     {"unlisten", SC_UNLISTEN}, {"connect", SC_CONNECT},
               {"accept", SC_ACCEPT},     {"send", SC_SEND},         {"recv", SC_RECV},
               {"shutdown", SC_SHUTDOWN}, {"close", SC_CLOSE},       {"abort", SC_ABORT},
               {"wait", SC_WAIT},         {"send-urgent", SC_SEND_URGENT},
               {"user-timeout", SC_USER_TIMEOUT}};
  size_t i;
  for (i = 0; i < sizeof calls / sizeof calls[0]; i++)
    if (strcmp(verb, calls[i].name) == 0) break;
  if (i == sizeof calls / sizeof calls[0]) return fail(p, "unknown command '%s'", verb);
  l->kind = SL_CALL;
  l->call = calls[i].call;
  char *arg = word(&s);
  if (l->call == SC_SEND || l->call == SC_RECV || l->call == SC_SEND_URGENT) {
    if (!arg) return fail(p, "%s needs a byte count", verb);
    if (l->call == SC_RECV && strcmp(arg, "eof") == 0) {
      l->call = SC_RECV_EOF;
      return true;
    }
    if (!parse_int(arg, &l->arg) || l->arg < 0 || l->arg > 1 << 20)
      return fail(p, "bad byte count '%s'", arg);
  } else if (l->call == SC_USER_TIMEOUT) {
    uint64_t us;
    if (!arg || !parse_seconds(arg, &us)) return fail(p, "user-timeout needs seconds");
    l->arg = (int64_t)us;
  } else if (l->call == SC_LISTEN) {
    l->arg = 16;
    if (arg && !parse_int(arg, &l->arg)) return fail(p, "bad backlog '%s'", arg);
  } else if (arg) {
    return fail(p, "%s takes no argument", verb);
  }
  return true;
}

static bool parse_option_line(parser_t *p, char *s, script_line_t *l) {
  l->kind = SL_OPTION;
  char *w;
  while ((w = word(&s)) != NULL) {
    char *eq = strchr(w, '=');
    if (!eq) return fail(p, "option: expected name=value, got '%s'", w);
    *eq = '\0';
    if (l->n_options == SCRIPT_MAX_OPTIONS) return fail(p, "too many options on one line");
    char *end;
    double v = strtod(eq + 1, &end);
    if (end == eq + 1 || *end) return fail(p, "option %s: bad value '%s'", w, eq + 1);
    snprintf(l->opt_name[l->n_options], sizeof l->opt_name[0], "%s", w);
    l->opt_value[l->n_options++] = v;
  }
  return true;
}

/* "[time] body": time is seconds ("0.100") or "+seconds" after the
 * previous timed line. */
static bool parse_line(parser_t *p, char *s, uint64_t *prev_time, script_line_t *l) {
  char *first = skip_ws(s);
  char *rest = first;
  char *w = word(&rest);
  if (strcmp(w, "option") == 0) return parse_option_line(p, rest, l);
  if (strcmp(w, "expect-failure") == 0) {
    l->kind = SL_OPTION; /* read by the driver before parsing; a no-op here */
    return true;
  }
  l->time_us = *prev_time;
  if (isdigit((unsigned char)w[0]) || w[0] == '+') {
    uint64_t t;
    if (!parse_seconds(w + (w[0] == '+'), &t)) return fail(p, "bad time '%s'", w);
    l->time_us = w[0] == '+' ? *prev_time + t : t;
    if (l->time_us < *prev_time) return fail(p, "time goes backwards");
    l->timed = true;
    *prev_time = l->time_us;
    w = word(&rest);
    if (!w) return fail(p, "time without a command");
  }
  if (strcmp(w, ">") == 0) {
    l->kind = SL_OUT;
    return parse_pkt(p, rest, &l->pkt);
  }
  if (strcmp(w, "<") == 0) {
    l->kind = SL_IN;
    return parse_pkt(p, rest, &l->pkt);
  }
  if (strcmp(w, "expect") == 0) return parse_expect(p, rest, l);
  return parse_call(p, w, rest, l);
}

bool script_parse(const char *path, script_t *s, char *err, size_t errcap) {
  parser_t p = {.path = path, .err = err, .errcap = errcap};
  FILE *f = fopen(path, "r");
  s->path = path;
  s->n = 0;
  if (!f) {
    snprintf(err, errcap, "%s: cannot open: %s", path, strerror(errno));
    return false;
  }
  char buf[512];
  uint64_t prev = 0;
  bool ok = true;
  while (ok && fgets(buf, sizeof buf, f)) {
    p.lineno++;
    char *hash = strchr(buf, '#');
    if (hash) *hash = '\0';
    char *text = skip_ws(buf);
    size_t len = strlen(text);
    while (len && isspace((unsigned char)text[len - 1])) text[--len] = '\0';
    if (!len) continue;
    if (s->n == SCRIPT_MAX_LINES) {
      ok = fail(&p, "script longer than %d lines", SCRIPT_MAX_LINES);
      break;
    }
    script_line_t *l = &s->lines[s->n];
    memset(l, 0, sizeof *l);
    l->lineno = p.lineno;
    snprintf(l->text, sizeof l->text, "%s", text);
    ok = parse_line(&p, text, &prev, l);
    if (ok) s->n++;
  }
  fclose(f);
  return ok;
}

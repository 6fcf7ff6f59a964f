#include "segfmt.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

const char *sim_flags_str(uint8_t flags, char *buf, size_t cap) {
  size_t n = 0;
  static const struct {
    uint8_t bit;
    char c;
  } map[] = {{TOU_SYN, 'S'}, {TOU_FIN, 'F'}, {TOU_RST, 'R'}, {TOU_PSH, 'P'}, {TOU_URG, 'U'},
             {TOU_ACK, '.'}};
  for (size_t i = 0; i < sizeof map / sizeof map[0] && n + 1 < cap; i++)
    if (flags & map[i].bit) buf[n++] = map[i].c;
  if (n == 0 && cap > 1) buf[n++] = '-';
  if (cap) buf[n < cap ? n : cap - 1] = '\0';
  return buf;
}

static size_t append(char *buf, size_t cap, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#include <stdarg.h>
static size_t append(char *buf, size_t cap, size_t n, const char *fmt, ...) {
  if (n >= cap) return n;
  va_list ap;
  va_start(ap, fmt);
  int w = vsnprintf(buf + n, cap - n, fmt, ap);
  va_end(ap);
  if (w < 0) return n;
  return n + (size_t)w < cap ? n + (size_t)w : cap;
}

static size_t format_options(const tou_options_t *o, char *buf, size_t cap, size_t n) {
  if (!o->present) return n;
  const char *sep = "";
  n = append(buf, cap, n, " <");
  if (o->present & TOU_OPT_MSS) {
    n = append(buf, cap, n, "%smss %u", sep, o->mss);
    sep = ",";
  }
  if (o->present & TOU_OPT_SACK_PERM) {
    n = append(buf, cap, n, "%ssackOK", sep);
    sep = ",";
  }
  if (o->present & TOU_OPT_TIMESTAMP) {
    n = append(buf, cap, n, "%sts val %" PRIu32 " ecr %" PRIu32, sep, o->ts_val, o->ts_ecr);
    sep = ",";
  }
  if (o->present & TOU_OPT_WSCALE) {
    n = append(buf, cap, n, "%sws %u", sep, o->wscale);
    sep = ",";
  }
  if (o->present & TOU_OPT_SACK) {
    n = append(buf, cap, n, "%ssack", sep);
    for (unsigned i = 0; i < o->sack_count && i < TOU_WIRE_MAX_SACK; i++)
      n = append(buf, cap, n, " %" PRIu32 ":%" PRIu32, o->sack[i].left, o->sack[i].right);
    sep = ",";
  }
  if (o->present & TOU_OPT_PROBE) {
    n = append(buf, cap, n, "%sprobe %u", sep, o->probe_phase);
    sep = ",";
  }
  if (o->present & TOU_OPT_UTO) {
    n = append(buf, cap, n, "%suto %u%s", sep, o->uto & ~TOU_UTO_MINUTES,
               o->uto & TOU_UTO_MINUTES ? " min" : "");
    sep = ",";
  }
  return append(buf, cap, n, ">");
}

const char *sim_seg_str(const tou_segment_t *seg, char *buf, size_t cap) {
  char flags[8];
  size_t n = append(buf, cap, 0, "%s seq=%" PRIu32 " ack=%" PRIu32 " win=%u len=%zu cid=%" PRIu32
                    "->%" PRIu32,
                    sim_flags_str(seg->flags, flags, sizeof flags), seg->seq, seg->ack,
                    seg->window, seg->payload_len, seg->src_cid, seg->dst_cid);
  format_options(&seg->opts, buf, cap, n);
  return buf;
}

const char *sim_datagram_str(const uint8_t *data, size_t len, char *buf, size_t cap) {
  tou_segment_t seg;
  int rc = tou_wire_decode(data, len, &seg);
  if (rc != TOU_OK) {
    snprintf(buf, cap, "<undecodable: %s, %zu bytes>", tou_error_name(rc), len);
    return buf;
  }
  return sim_seg_str(&seg, buf, cap);
}

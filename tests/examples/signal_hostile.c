/* Test driver: a hostile signalling client. It sends, one at a time, messages
 * that the server must refuse with a named error while keeping the
 * connection (bad JSON, wrong types, missing fields, messages before join,
 * unknown peers, ...), then breaks the framing (a length of zero, a length
 * over the limit) and checks that the server replies with an error and then
 * closes. Prints one line per step; exits 0 when every step went as
 * expected.
 *
 * usage: signal_hostile HOST PORT */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tou.h>

#include "sconn.h"
#include "sigmsg.h"

typedef struct step {
  const char *send;   /* JSON text framed normally, or NULL */
  const uint8_t *raw; /* or raw bytes */
  size_t raw_len;
  int trickle;        /* send send's frame one byte per write */
  const char *expect; /* error code, or "joined" */
  int then_eof;       /* the server must close after the reply */
} step_t;

static const uint8_t zero_len[4] = {0, 0, 0, 0};
static const uint8_t huge_len[4] = {0x7f, 0xff, 0xff, 0xff};
static const uint8_t just_over[4] = {0, 1, 0, 1}; /* 65537 */

static const step_t conn1[] = {
    {"this is not json", NULL, 0, 0, "bad-json", 0},
    {"{\"type\":\"join\",", NULL, 0, 0, "bad-json", 0},
    {"[\"join\"]", NULL, 0, 0, "not-object", 0},
    {"{\"type\":42}", NULL, 0, 0, "bad-type", 0},
    {"{\"room\":\"r\"}", NULL, 0, 0, "bad-type", 0},
    {"{\"type\":\"dance\"}", NULL, 0, 0, "unknown-type", 0},
    {"{\"type\":\"joined\",\"room\":\"r\",\"name\":\"n\",\"members\":[]}", NULL, 0, 0,
     "unexpected-type", 0},
    {"{\"type\":\"offer\",\"sdp\":\"v=0\"}", NULL, 0, 0, "not-joined", 0},
    {"{\"type\":\"join\",\"room\":\"hostile\"}", NULL, 0, 0, "missing-field", 0},
    {"{\"type\":\"join\",\"room\":\"../etc\",\"name\":\"x\"}", NULL, 0, 0, "bad-field", 0},
    {"{\"type\":\"join\",\"room\":\"hostile\",\"name\":\"<script>\"}", NULL, 0, 0, "bad-field", 0},
    {"{\"type\":\"join\",\"room\":\"hostile\",\"name\":\"mallory\"}", NULL, 0, 0, "joined", 0},
    {"{\"type\":\"join\",\"room\":\"hostile2\",\"name\":\"mallory\"}", NULL, 0, 0,
     "already-joined", 0},
    {"{\"type\":\"offer\",\"sdp\":\"v=0\",\"to\":\"nobody\"}", NULL, 0, 0, "no-such-peer", 0},
    {"{\"type\":\"candidate\",\"candidate\":\"c\",\"sdpMLineIndex\":\"zero\"}", NULL, 0, 0,
     "bad-field", 0},
    {NULL, huge_len, sizeof huge_len, 0, "too-large", 1},
};

static const step_t conn2[] = {
    {NULL, zero_len, sizeof zero_len, 0, "bad-framing", 1},
};

static const step_t conn3[] = {
    /* A valid message one byte per write: the decoder must reassemble it. */
    {"{\"type\":\"join\",\"room\":\"trickle\",\"name\":\"slow\"}", NULL, 0, 1, "joined", 0},
    {NULL, just_over, sizeof just_over, 0, "too-large", 1},
};

static const struct {
  const step_t *steps;
  size_t count;
} plan[] = {{conn1, sizeof conn1 / sizeof conn1[0]},
            {conn2, sizeof conn2 / sizeof conn2[0]},
            {conn3, sizeof conn3 / sizeof conn3[0]}};
#define NCONNS (sizeof plan / sizeof plan[0])

typedef struct hostile {
  sconn_t conn;
  tou_endpoint_t ep;
  tou_connect_t req;
  size_t index; /* which connection of plan */
  size_t step;
  int want_eof;
  int failures;
  struct sockaddr_storage server;
  uv_timer_t deadline;
} hostile_t;

static void next_connection(hostile_t *h);

static void check(hostile_t *h, int ok, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void check(hostile_t *h, int ok, const char *fmt, ...) {
  printf("%s conn %zu step %zu: ", ok ? "ok  " : "FAIL", h->index + 1, h->step + 1);
  va_list ap;
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  putchar('\n');
  fflush(stdout);
  if (!ok) h->failures++;
}

static void send_step(hostile_t *h) {
  const step_t *s = &plan[h->index].steps[h->step];
  if (s->raw) {
    sconn_send_raw(&h->conn, s->raw, s->raw_len);
  } else if (s->trickle) {
    uint8_t frame[256];
    size_t n = strlen(s->send);
    frame_put_header(frame, (uint32_t)n);
    memcpy(frame + 4, s->send, n);
    for (size_t i = 0; i < n + 4; i++) sconn_send_raw(&h->conn, frame + i, 1);
  } else {
    sconn_send(&h->conn, s->send);
  }
}

static void on_message(sconn_t *c, const uint8_t *data, size_t len) {
  hostile_t *h = (hostile_t *)c;
  const step_t *s = &plan[h->index].steps[h->step];
  sig_msg_t m;
  char detail[160];
  if (h->want_eof) {
    check(h, 0, "a message after the final error");
    return;
  }
  if (sig_parse(data, len, 1, &m, detail, sizeof detail) != SIG_OK) {
    check(h, 0, "server sent an invalid message: %s", detail);
    sconn_close(c);
    return;
  }
  const char *got = m.type == SIG_ERROR ? m.code : sig_type_name(m.type);
  char what[400];
  snprintf(what, sizeof what, "expected %s, got %s%s%s", s->expect, got,
           m.message ? ": " : "", m.message ? m.message : "");
  check(h, !strcmp(got, s->expect), "%s", what);
  sig_msg_free(&m);
  if (s->then_eof) {
    h->want_eof = 1;
    return;
  }
  if (++h->step < plan[h->index].count) {
    send_step(h);
  } else {
    sconn_shutdown(c);
  }
}

static void on_frame_error(sconn_t *c, int err) {
  hostile_t *h = (hostile_t *)c;
  check(h, 0, "server broke the framing: %s", frame_strerror(err));
  sconn_close(c);
}

static void on_end(sconn_t *c, int status) {
  hostile_t *h = (hostile_t *)c;
  if (h->want_eof)
    check(h, status == UV_EOF, "server closed after the error (%s)", uv_err_name(status));
  else if (!c->shutting_down)
    check(h, 0, "server ended the connection early: %s", uv_err_name(status));
  if (status == UV_EOF) sconn_shutdown(c);
  else sconn_close(c);
}

static void on_closed(sconn_t *c) {
  hostile_t *h = (hostile_t *)c;
  h->index++;
  next_connection(h);
}

static const sconn_callbacks_t callbacks = {on_message, on_frame_error, on_end, NULL, on_closed};

static void on_connect(tou_connect_t *req, int status) {
  hostile_t *h = req->data;
  if (status < 0) {
    check(h, 0, "connect: %s", uv_err_name(status));
    sconn_close(&h->conn);
    return;
  }
  int link_err;
  sconn_start(&h->conn, 0, 0, &link_err);
  send_step(h);
}

static void next_connection(hostile_t *h) {
  if (h->index == NCONNS) {
    tou_close((tou_handle_t *)&h->ep, NULL);
    uv_close((uv_handle_t *)&h->deadline, NULL);
    return;
  }
  sconn_init(&h->conn, &callbacks, h, FRAME_DEFAULT_MAX, 1u << 20);
  h->conn.wait_peer_fin = true;
  h->step = 0;
  h->want_eof = 0;
  h->req.data = h;
  int r = tou_connect(&h->req, &h->ep, &h->conn.stream, (const struct sockaddr *)&h->server,
                      on_connect);
  if (r < 0) {
    check(h, 0, "connect: %s", uv_err_name(r));
    h->index = NCONNS;
    next_connection(h);
  }
}

static void on_deadline(uv_timer_t *t) {
  hostile_t *h = t->data;
  printf("FAIL timed out at conn %zu step %zu\n", h->index + 1, h->step + 1);
  exit(1);
}

int main(int argc, char **argv) {
  static hostile_t h;
  if (argc != 3 || uv_ip4_addr(argv[1], atoi(argv[2]), (struct sockaddr_in *)&h.server) != 0) {
    fprintf(stderr, "usage: signal_hostile IPV4 PORT\n");
    return 2;
  }
  uv_loop_t *loop = uv_default_loop();
  tou_endpoint_options_t eo;
  tou_endpoint_options_init(&eo);
  eo.nodelay = 1;
  struct sockaddr_in any;
  uv_ip4_addr("127.0.0.1", 0, &any);
  if (tou_endpoint_init(loop, &h.ep, &eo) != 0 ||
      tou_endpoint_bind(&h.ep, (const struct sockaddr *)&any, 0) != 0) {
    fprintf(stderr, "signal_hostile: cannot bind\n");
    return 1;
  }
  uv_timer_init(loop, &h.deadline);
  h.deadline.data = &h;
  uv_timer_start(&h.deadline, on_deadline, 20000, 0);
  next_connection(&h);
  uv_run(loop, UV_RUN_DEFAULT);
  size_t total = 0;
  for (size_t i = 0; i < NCONNS; i++) total += plan[i].count;
  printf("RESULT %s steps=%zu failures=%d\n", h.failures ? "fail" : "ok", total, h.failures);
  return h.failures ? 1 : 0;
}

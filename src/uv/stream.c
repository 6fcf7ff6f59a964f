/* Streams: reading, writing, half-close, close and abort over one core
 * connection. Requests wait here until the core's bounded send buffer takes
 * their bytes; their callbacks run later, from tou__dispatch(). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define READ_SUGGESTED_SIZE 65536

static struct tou_endpoint_impl *impl_of(tou_stream_t *s) { return s->endpoint->impl; }

static bool usable(const tou_stream_t *s) {
  return s && s->type == TOU_HANDLE_STREAM && !(s->flags & TOU_F_CLOSING);
}

void tou__stream_attach(tou_stream_t *s, tou_endpoint_t *ep, tou_conn_t *conn) {
  void *data = s->data;
  memset(s, 0, sizeof *s);
  s->data = data;
  s->loop = ep->loop;
  s->type = TOU_HANDLE_STREAM;
  s->endpoint = ep;
  s->conn = conn;
  tou_conn_set_user(conn, s);
  struct tou_endpoint_impl *impl = ep->impl;
  s->next = impl->streams;
  if (impl->streams) impl->streams->prev = s;
  impl->streams = s;
  impl->nstreams++;
}

static void stream_unlink(tou_stream_t *s) {
  struct tou_endpoint_impl *impl = impl_of(s);
  if (s->prev) s->prev->next = s->next;
  else impl->streams = s->next;
  if (s->next) s->next->prev = s->prev;
  s->next = s->prev = NULL;
  impl->nstreams--;
}

/* ---- write requests ---- */

static void write_done(tou_stream_t *s, tou_write_t *w, int status) {
  w->status = status;
  w->next = NULL;
  if (s->done_tail) s->done_tail->next = w;
  else s->done_head = w;
  s->done_tail = w;
}

static void fail_writes(tou_stream_t *s, int status) {
  while (s->write_head) {
    tou_write_t *w = s->write_head;
    s->write_head = w->next;
    write_done(s, w, status);
  }
  s->write_tail = NULL;
  s->write_queue_size = 0;
  if (s->done_head) tou__mark(s, TOU_P_WRITE);
}

static void queue_fin_if_due(tou_stream_t *s, uint64_t now) {
  tou_shutdown_t *req = s->shutdown_req;
  if (!req || req->fin_queued || s->write_head || !s->conn) return;
  req->fin_queued = 1;
  int r = tou_conn_shutdown(s->conn, now);
  if (r < 0) {
    req->status = tou__uv_err(r);
    tou__mark(s, TOU_P_SHUTDOWN);
  }
}

/* Hands queued bytes to the core until its send buffer is full. No
 * callbacks: finished requests move to the done list. */
void tou__stream_push_writes(tou_stream_t *s) {
  if (!s->conn) return;
  uint64_t now = tou__now();
  while (s->write_head) {
    tou_write_t *w = s->write_head;
    while (w->remaining > 0) {
      uv_buf_t *b = &w->bufs[w->buf_index];
      size_t left = b->len - w->buf_offset;
      if (left == 0) {
        w->buf_index++;
        w->buf_offset = 0;
        continue;
      }
      if (left > INT_MAX) left = INT_MAX;
      int n = tou_conn_send(s->conn, now, (const uint8_t *)b->base + w->buf_offset, left);
      if (n < 0) {
        fail_writes(s, tou__uv_err(n));
        return;
      }
      if (n == 0) return; /* buffer full: TOU_EV_WRITABLE resumes */
      w->buf_offset += (size_t)n;
      w->remaining -= (size_t)n;
      s->write_queue_size -= (size_t)n;
      s->bytes_sent += (uint64_t)n;
    }
    s->write_head = w->next;
    if (!s->write_head) s->write_tail = NULL;
    write_done(s, w, 0);
    tou__mark(s, TOU_P_WRITE);
  }
  queue_fin_if_due(s, now);
}

static void deliver_writes(tou_stream_t *s) {
  while (s->done_head) {
    tou_write_t *w = s->done_head;
    s->done_head = w->next;
    if (!s->done_head) s->done_tail = NULL;
    if (w->bufs != w->bufsml) free(w->bufs);
    w->bufs = NULL;
    if (w->cb) w->cb(w, w->status);
  }
}

TOU_EXTERN int tou_write(tou_write_t *req, tou_stream_t *s, const uv_buf_t bufs[],
                         unsigned nbufs, tou_write_cb cb) {
  if (!req || !usable(s) || (nbufs > 0 && !bufs)) return UV_EINVAL;
  if (s->flags & TOU_F_SHUT) return UV_EPIPE;
  if (!s->conn) return UV_ENOTCONN;
  if (s->flags & TOU_F_CONN_OVER) return s->error ? s->error : UV_EPIPE;
  void *data = req->data;
  memset(req, 0, sizeof *req);
  req->data = data;
  req->handle = s;
  req->cb = cb;
  if (nbufs <= sizeof req->bufsml / sizeof req->bufsml[0]) {
    req->bufs = req->bufsml;
  } else {
    req->bufs = malloc(nbufs * sizeof *bufs);
    if (!req->bufs) return UV_ENOMEM;
  }
  if (nbufs) memcpy(req->bufs, bufs, nbufs * sizeof *bufs);
  req->nbufs = nbufs;
  size_t total = 0;
  for (unsigned i = 0; i < nbufs; i++) total += bufs[i].len;
  req->remaining = total;
  req->next = NULL;
  s->write_queue_size += total;
  if (s->write_tail) s->write_tail->next = req;
  else s->write_head = req;
  s->write_tail = req;
  if (s->write_head == req) tou__stream_push_writes(s);
  tou__pump(impl_of(s));
  return 0;
}

TOU_EXTERN int tou_try_write(tou_stream_t *s, const uv_buf_t bufs[], unsigned nbufs) {
  if (!usable(s) || (nbufs > 0 && !bufs)) return UV_EINVAL;
  if (s->flags & TOU_F_SHUT) return UV_EPIPE;
  if (!s->conn) return UV_ENOTCONN;
  if (s->write_head) return UV_EAGAIN; /* keep the byte order of queued writes */
  uint64_t now = tou__now();
  size_t total = 0;
  int err = 0;
  for (unsigned i = 0; i < nbufs && err == 0; i++) {
    size_t len = bufs[i].len > INT_MAX ? INT_MAX : bufs[i].len;
    if (len == 0) continue;
    int n = tou_conn_send(s->conn, now, (const uint8_t *)bufs[i].base, len);
    if (n < 0) err = tou__uv_err(n);
    else total += (size_t)n;
    if (n >= 0 && (size_t)n < len) break;
  }
  s->bytes_sent += total;
  tou__pump(impl_of(s));
  if (total > 0) return total > INT_MAX ? INT_MAX : (int)total;
  return err ? err : UV_EAGAIN;
}

TOU_EXTERN size_t tou_stream_get_write_queue_size(const tou_stream_t *s) {
  return s ? s->write_queue_size : 0;
}

/* ---- shutdown ---- */

TOU_EXTERN int tou_shutdown(tou_shutdown_t *req, tou_stream_t *s, tou_shutdown_cb cb) {
  if (!req || !usable(s)) return UV_EINVAL;
  if (!s->conn || (s->flags & TOU_F_CONN_OVER)) return UV_ENOTCONN;
  if (s->flags & TOU_F_SHUT) return UV_EALREADY;
  s->flags |= TOU_F_SHUT;
  req->handle = s;
  req->cb = cb;
  req->status = 0;
  req->fin_queued = 0;
  s->shutdown_req = req;
  queue_fin_if_due(s, tou__now());
  tou__pump(impl_of(s));
  return 0;
}

static void deliver_shutdown(tou_stream_t *s) {
  tou_shutdown_t *req = s->shutdown_req;
  if (!req) return;
  s->shutdown_req = NULL;
  if (req->cb) req->cb(req, req->status);
}

static void deliver_connect(tou_stream_t *s) {
  tou_connect_t *req = s->connect_req;
  if (!req) return;
  s->connect_req = NULL;
  if (req->cb) req->cb(req, req->status);
}

/* ---- reading ---- */

static void read_end(tou_stream_t *s, int status) {
  uv_buf_t none = uv_buf_init(NULL, 0);
  s->flags |= TOU_F_READ_DONE;
  s->read_cb(s, status, &none);
}

static bool reading_now(const tou_stream_t *s) {
  return (s->flags & TOU_F_READING) && !(s->flags & (TOU_F_CLOSING | TOU_F_READ_DONE)) && s->conn;
}

/* The receive fast path (core.h, tou_deliver_fn), called by the core from
 * tou_ep_input() on the loop's receive path, never inside a tou_* call of
 * the application: so alloc_cb may run here, as libuv runs it from its I/O
 * path. The payload is copied once, into the application's buffers; they
 * are held (at most TOU_STREAM_HELD_READS) until the next dispatch runs
 * read_cb. Whatever is not taken stays in the core's receive buffer and is
 * read after these (the core calls the sink only when nothing is buffered). */
size_t tou__stream_direct_read(void *ctx, tou_conn_t *c, const uint8_t *data, size_t len) {
  struct tou_endpoint_impl *impl = ctx;
  tou_stream_t *s = tou_conn_user(c);
  if (!s || (impl->held_stream && impl->held_stream != s)) return 0;
  size_t took = 0;
  while (took < len && reading_now(s)) {
    unsigned last = s->nheld - 1;
    if (s->nheld == 0 || s->held_len[last] == s->held[last].len) {
      if (s->nheld > 0 && s->held[last].len == 0) break;     /* UV_ENOBUFS is due */
      if (s->nheld == TOU_STREAM_HELD_READS) break;
      uv_buf_t buf = uv_buf_init(NULL, 0);
      s->alloc_cb(s, READ_SUGGESTED_SIZE, &buf);
      if (!buf.base) buf.len = 0;
      s->held[s->nheld] = buf;
      s->held_len[s->nheld] = 0;
      s->nheld++;
      impl->held_stream = s;
      continue;
    }
    size_t room = s->held[last].len - s->held_len[last];
    size_t n = len - took < room ? len - took : room;
    memcpy(s->held[last].base + s->held_len[last], data + took, n);
    s->held_len[last] += n;
    took += n;
  }
  return took;
}

/* Read callbacks for the held buffers, in order; stops (keeping the rest)
 * when a callback stops reading or closes the stream. */
static void deliver_held(tou_stream_t *s) {
  while (s->nheld > 0 && (s->flags & TOU_F_READING) && !(s->flags & TOU_F_CLOSING)) {
    uv_buf_t buf = s->held[0];
    size_t n = s->held_len[0];
    s->nheld--;
    memmove(s->held, s->held + 1, s->nheld * sizeof s->held[0]);
    memmove(s->held_len, s->held_len + 1, s->nheld * sizeof s->held_len[0]);
    s->bytes_received += n;
    s->read_cb(s, buf.len == 0 ? UV_ENOBUFS : (ssize_t)n, &buf);
  }
}

/* The held buffer's read_cb, before control goes back to the loop: libuv
 * runs each alloc_cb's read_cb before any other alloc_cb, and applications
 * rely on it (one static buffer shared by every stream, even by several
 * endpoints, as examples/signal does). So at most one stream of an endpoint
 * holds a buffer, and the receive paths call this when it is full, before a
 * datagram for another stream, and when they return to the loop. Not inside tou_ep_input(): the read callback
 * may call into the core. */
void tou__stream_flush_held(struct tou_endpoint_impl *impl, bool only_full) {
  tou_stream_t *s = impl->held_stream;
  if (!s) return;
  if (only_full && s->nheld < TOU_STREAM_HELD_READS) return;
  /* "Full" once the next segment might not fit: a segment cut in two would
   * leave its tail in the core's buffer, and the fast path would stop until
   * the application read it. */
  if (only_full && s->held[s->nheld - 1].len > 0 &&
      s->held[s->nheld - 1].len - s->held_len[s->nheld - 1] >= impl->opts.mss)
    return;
  deliver_held(s);
  if (s->nheld == 0) impl->held_stream = NULL;
  else tou__mark(s, TOU_P_READ); /* stopped or closing: kept until read_start or close */
}

/* At close: buffers still held go back to the application (nread 0, as
 * libuv hands back a buffer it did not fill), so it can free them. */
static void hand_back_held(tou_stream_t *s) {
  struct tou_endpoint_impl *impl = impl_of(s);
  if (impl->held_stream == s) impl->held_stream = NULL;
  while (s->nheld > 0) {
    uv_buf_t buf = s->held[0];
    s->nheld--;
    memmove(s->held, s->held + 1, s->nheld * sizeof s->held[0]);
    memmove(s->held_len, s->held_len + 1, s->nheld * sizeof s->held_len[0]);
    if (s->read_cb) s->read_cb(s, 0, &buf);
  }
}

static void do_read(tou_stream_t *s) {
  if (s->nheld > 0) {
    deliver_held(s);
    if (s->nheld == 0 && impl_of(s)->held_stream == s) impl_of(s)->held_stream = NULL;
    if (s->nheld > 0 || !reading_now(s)) return;
    /* Nothing else to read: no empty alloc_cb/read_cb round. */
    if (!(s->flags & TOU_F_CONN_OVER) && tou_conn_recv(s->conn, tou__now(), NULL, 0) == TOU_ERR_AGAIN)
      return;
  }
  for (int i = 0; i < TOU_UV_READS_PER_ROUND; i++) {
    if (!(s->flags & TOU_F_READING) || (s->flags & (TOU_F_CLOSING | TOU_F_READ_DONE))) return;
    if (!s->conn) return;
    uv_buf_t buf = uv_buf_init(NULL, 0);
    s->alloc_cb(s, READ_SUGGESTED_SIZE, &buf);
    if (!buf.base || buf.len == 0) {
      s->read_cb(s, UV_ENOBUFS, &buf);
      return;
    }
    size_t cap = buf.len > INT_MAX ? INT_MAX : buf.len;
    int n = tou_conn_recv(s->conn, tou__now(), (uint8_t *)buf.base, cap);
    if (n > 0) {
      s->bytes_received += (uint64_t)n;
      s->read_cb(s, n, &buf);
      continue;
    }
    if (n == 0 || n == TOU_ERR_AGAIN) {
      s->read_cb(s, 0, &buf); /* hands the buffer back, as libuv does */
      /* A core that ended the connection without an error to read still
       * owes the application an end. */
      if ((s->flags & TOU_F_CONN_OVER) && !(s->flags & (TOU_F_READ_DONE | TOU_F_CLOSING)) &&
          (s->flags & TOU_F_READING))
        read_end(s, s->error ? s->error : UV_EOF);
      return;
    }
    s->flags |= TOU_F_READ_DONE;
    s->read_cb(s, n == TOU_ERR_EOF ? UV_EOF : tou__uv_err(n), &buf);
    return;
  }
  tou__mark(s, TOU_P_READ); /* more may be waiting: next round */
}

TOU_EXTERN int tou_read_start(tou_stream_t *s, tou_alloc_cb alloc_cb, tou_read_cb read_cb) {
  if (!usable(s) || !alloc_cb || !read_cb) return UV_EINVAL;
  if (s->flags & TOU_F_READING) return UV_EALREADY;
  if (!s->conn) return UV_ENOTCONN;
  s->alloc_cb = alloc_cb;
  s->read_cb = read_cb;
  s->flags |= TOU_F_READING;
  if (!(s->flags & TOU_F_READ_DONE)) tou__mark(s, TOU_P_READ);
  return 0;
}

TOU_EXTERN int tou_read_stop(tou_stream_t *s) {
  if (s) s->flags &= ~TOU_F_READING;
  return 0;
}

/* ---- the connection ended (core event) ---- */

static void connection_over(tou_stream_t *s) {
  if (s->flags & TOU_F_CONN_OVER) return;
  s->flags |= TOU_F_CONN_OVER;
  int err = s->conn ? tou_conn_error(s->conn) : TOU_ERR_ABORTED;
  s->error = tou__uv_err(err);
  if (s->connect_req) s->connect_req->status = err ? s->error : UV_ECONNABORTED;
  fail_writes(s, err ? s->error : UV_ECANCELED);
  if (s->shutdown_req) s->shutdown_req->status = s->error;
}

/* ---- dispatch (called from tou__dispatch only) ---- */

static bool closing(const tou_stream_t *s) { return (s->flags & TOU_F_CLOSING) != 0; }

void tou__stream_deliver(tou_stream_t *s, unsigned bits) {
  if (!closing(s)) {
    if (bits & TOU_P_OVER) {
      connection_over(s);
      bits |= TOU_P_CONNECT | TOU_P_WRITE | TOU_P_READ | TOU_P_SHUTDOWN;
    }
    if (bits & TOU_P_CONNECT) deliver_connect(s);
    if (!closing(s) && (bits & TOU_P_WRITE)) {
      tou__stream_push_writes(s);
      deliver_writes(s);
    }
    if (!closing(s) && (bits & TOU_P_READ)) do_read(s);
    if (!closing(s) && (bits & TOU_P_SHUTDOWN)) deliver_shutdown(s);
    if (!closing(s) && (bits & TOU_P_LINK) && s->link_cb && s->conn)
      s->link_cb(s, (int)tou_conn_link_state(s->conn)); /* TOU_LS_* = TOU_LINK_* */
    if (!closing(s)) return;
  }
  if (!(bits & TOU_P_CLOSE)) {
    tou__mark(s, TOU_P_CLOSE); /* closed by a callback above: finish next round */
    return;
  }
  deliver_connect(s);
  deliver_writes(s);
  deliver_shutdown(s);
  hand_back_held(s);
  tou__unmark(s);
  s->flags |= TOU_F_CLOSED;
  if (s->close_cb) s->close_cb((tou_handle_t *)s);
}

/* ---- close and abort ---- */

static void cancel_requests(tou_stream_t *s) {
  if (s->connect_req) s->connect_req->status = UV_ECANCELED;
  fail_writes(s, UV_ECANCELED);
  if (s->shutdown_req) s->shutdown_req->status = UV_ECANCELED;
}

void tou__stream_close(tou_stream_t *s, tou_close_cb cb) {
  struct tou_endpoint_impl *impl = impl_of(s);
  s->flags |= TOU_F_CLOSING;
  s->flags &= ~TOU_F_READING;
  s->close_cb = cb;
  if (s->conn) {
    tou_conn_set_user(s->conn, NULL);
    tou_conn_close(s->conn, tou__now());
    s->conn = NULL;
  }
  cancel_requests(s);
  stream_unlink(s);
  tou__mark(s, TOU_P_CLOSE);
  tou__pump(impl);
}

TOU_EXTERN void tou_close(tou_handle_t *h, tou_close_cb cb) {
  if (!h) return;
  if (h->type == TOU_HANDLE_ENDPOINT) {
    if (!(h->flags & TOU_F_CLOSING)) tou__endpoint_close((tou_endpoint_t *)h, cb);
    return;
  }
  if (h->type != TOU_HANDLE_STREAM) return;
  tou_stream_t *s = (tou_stream_t *)h;
  if (h->flags & TOU_F_CLOSING) {
    /* Already closing because its endpoint closed: take the callback if it
     * has not run yet. */
    if (!(h->flags & TOU_F_CLOSED) && !s->close_cb) s->close_cb = cb;
    return;
  }
  tou__stream_close(s, cb);
}

TOU_EXTERN int tou_abort(tou_stream_t *s) {
  if (!usable(s)) return UV_EINVAL;
  if (!s->conn) return UV_ENOTCONN;
  tou_conn_set_user(s->conn, NULL);
  tou_conn_abort(s->conn, tou__now());
  s->conn = NULL;
  s->flags |= TOU_F_CONN_OVER | TOU_F_READ_DONE;
  s->error = UV_ECONNABORTED;
  cancel_requests(s);
  tou__mark(s, TOU_P_CONNECT | TOU_P_WRITE | TOU_P_SHUTDOWN);
  tou__pump(impl_of(s));
  return 0;
}

/* ---- information ---- */

void tou__stream_fill_info(const tou_stream_t *s, const tou_conn_t *c, tou_stream_info_t *info) {
  memset(info, 0, sizeof *info);
  info->state = (int)tou_conn_state(c);
  info->conn_id = tou_conn_local_cid(c);
  tou__addr_to_sockaddr(tou_conn_peer(c), &info->peer);
  info->send_queued = tou_conn_send_queued(c);
  info->send_space = tou_conn_send_space(c);
  tou_conn_info_t ci;
  tou_conn_get_info(c, &ci);
  info->peer_conn_id = ci.remote_cid;
  info->mss = ci.snd_mss;
  info->rtt_us = (uint32_t)ci.srtt_us;
  info->rttvar_us = (uint32_t)ci.rttvar_us;
  info->rto_us = (uint32_t)ci.rto_us;
  info->cwnd = ci.cwnd;
  info->ssthresh = ci.ssthresh;
  info->snd_wnd = ci.snd_wnd;
  info->rcv_wnd = ci.rcv_wnd;
  info->bytes_in_flight = ci.bytes_in_flight;
  info->segs_sent = ci.segs_sent;
  info->segs_received = ci.segs_received;
  info->segs_retransmitted = ci.segs_retransmitted;
  info->timeouts = ci.timeouts;
  info->congestion_control = ci.cc_algorithm;
  info->min_rtt_us = (uint32_t)ci.min_rtt_us;
  info->segs_lost = ci.segs_lost;
  info->segs_sacked = ci.segs_sacked;
  info->tlp_probes = ci.tlp_probes;
  info->congestion_events = ci.congestion_events;
  info->delivery_rate = ci.delivery_rate;
  info->bytes_received_direct = ci.bytes_delivered_direct;
  info->bytes_received_buffered = ci.bytes_read_buffered;
  tou_link_info_t li;
  tou_conn_link_info(c, &li);
  info->link_state = (int)li.state;
  info->link_inbound = (int)li.inbound;
  info->link_outbound = (int)li.outbound;
  info->last_heard_us = li.last_heard;
  info->silent_since_us = li.silent_since;
  info->probes_sent = li.asks_sent;
  info->probes_answered = li.exchanges;
  info->keepalives_sent = li.keepalives_sent;
  info->user_timeout_ms = (unsigned)(li.user_timeout_us / 1000);
  info->peer_user_timeout_ms = (unsigned)(li.peer_user_timeout_us / 1000);
  if (s) {
    info->bytes_sent = s->bytes_sent;
    info->bytes_received = s->bytes_received;
    info->write_queue_size = s->write_queue_size;
  }
}

TOU_EXTERN int tou_get_info(const tou_stream_t *s, tou_stream_info_t *info) {
  if (!s || !info || s->type != TOU_HANDLE_STREAM) return UV_EINVAL;
  if (!s->conn) return UV_ENOTCONN;
  tou__stream_fill_info(s, s->conn, info);
  return 0;
}

TOU_EXTERN int tou_stream_getpeername(const tou_stream_t *s, struct sockaddr *name,
                                      int *namelen) {
  if (!s || !name || !namelen || *namelen <= 0) return UV_EINVAL;
  if (!s->conn) return UV_ENOTCONN;
  struct sockaddr_storage ss;
  tou__addr_to_sockaddr(tou_conn_peer(s->conn), &ss);
  int len = ss.ss_family == AF_INET6 ? (int)sizeof(struct sockaddr_in6)
                                     : (int)sizeof(struct sockaddr_in);
  if (*namelen < len) return UV_ENOBUFS;
  memcpy(name, &ss, (size_t)len);
  *namelen = len;
  return 0;
}

/* ---- per-stream options ---- */

/* Common end of the setters: the core may want to send or re-arm. */
static int setter_result(tou_stream_t *s, int r) {
  tou__pump(impl_of(s));
  return tou__uv_err(r);
}

TOU_EXTERN int tou_stream_nodelay(tou_stream_t *s, int enable) {
  (void)enable;
  return s ? UV_ENOTSUP : UV_EINVAL;
}

TOU_EXTERN int tou_stream_keepalive(tou_stream_t *s, int enable, unsigned delay_s) {
  if (!usable(s)) return UV_EINVAL;
  if (!s->conn) return UV_ENOTCONN;
  return setter_result(s, tou_conn_set_keepalive(s->conn, tou__now(), enable != 0,
                                                 (uint64_t)delay_s * 1000000, 0, 0));
}

TOU_EXTERN int tou_stream_user_timeout(tou_stream_t *s, unsigned timeout_ms) {
  if (!usable(s)) return UV_EINVAL;
  if (!s->conn) return UV_ENOTCONN;
  return setter_result(s, tou_conn_set_user_timeout(s->conn, tou__now(),
                                                    (uint64_t)timeout_ms * 1000));
}

TOU_EXTERN int tou_stream_link_probe(tou_stream_t *s, unsigned idle_ms, unsigned silent_ms) {
  if (!usable(s)) return UV_EINVAL;
  if (!s->conn) return UV_ENOTCONN;
  return setter_result(s, tou_conn_set_link_probe(s->conn, tou__now(), (uint64_t)idle_ms * 1000,
                                                  (uint64_t)silent_ms * 1000, 0));
}

TOU_EXTERN int tou_stream_probe_now(tou_stream_t *s) {
  if (!usable(s)) return UV_EINVAL;
  if (!s->conn) return UV_ENOTCONN;
  return setter_result(s, tou_conn_probe_now(s->conn, tou__now()));
}

TOU_EXTERN int tou_stream_buffer_sizes(tou_stream_t *s, unsigned send_bytes,
                                       unsigned recv_bytes) {
  (void)send_bytes, (void)recv_bytes;
  return s ? UV_ENOTSUP : UV_EINVAL;
}

TOU_EXTERN int tou_stream_congestion_control(tou_stream_t *s, const char *name) {
  (void)name;
  return s ? UV_ENOTSUP : UV_EINVAL;
}

_Static_assert((int)TOU_LS_HEARD == (int)TOU_LINK_HEARD && (int)TOU_LS_SILENT == (int)TOU_LINK_SILENT &&
                   (int)TOU_LS_BACK == (int)TOU_LINK_BACK,
               "core and public link states share their values");
_Static_assert((int)TOU_PATH_WORKS == (int)TOU_LINK_PATH_WORKS &&
                   (int)TOU_PATH_FAILS == (int)TOU_LINK_PATH_FAILS &&
                   (int)TOU_PATH_UNKNOWN == (int)TOU_LINK_PATH_UNKNOWN,
               "core and public path states share their values");

TOU_EXTERN int tou_stream_set_link_cb(tou_stream_t *s, tou_link_cb cb) {
  if (!s) return UV_EINVAL;
  s->link_cb = cb;
  return 0;
}

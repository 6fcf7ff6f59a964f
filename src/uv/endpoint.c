/* The endpoint: one uv_udp_t bound to an address, feeding received datagrams
 * to the core and sending what the core produces.
 *
 * Receiving uses recvmmsg (libuv's UV_UDP_RECVMMSG: one 1.25 MiB buffer split
 * in 20 slots, so one system call brings up to 20 datagrams), or on Linux
 * the binding's own recvmmsg with UDP GRO (recv.c). The batch is processed
 * once, after the poll phase (uv_check), not per datagram. Sending is in
 * send.c. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ---- addresses ---- */

/* Canonical bytes so that the core's byte comparison matches equal
 * addresses (no stray sin_zero / flowinfo bytes). */
void tou__sockaddr_to_addr(const struct sockaddr *sa, tou_addr_t *out) {
  memset(out, 0, sizeof *out);
  if (sa->sa_family == AF_INET6) {
    struct sockaddr_in6 v6;
    memcpy(&v6, sa, sizeof v6);
    v6.sin6_flowinfo = 0;
    out->len = sizeof v6;
    struct sockaddr_in6 canon;
    memset(&canon, 0, sizeof canon);
    canon.sin6_family = AF_INET6;
    canon.sin6_port = v6.sin6_port;
    canon.sin6_addr = v6.sin6_addr;
    canon.sin6_scope_id = v6.sin6_scope_id;
    memcpy(out->bytes, &canon, sizeof canon);
  } else {
    struct sockaddr_in v4, canon;
    memcpy(&v4, sa, sizeof v4);
    memset(&canon, 0, sizeof canon);
    canon.sin_family = AF_INET;
    canon.sin_port = v4.sin_port;
    canon.sin_addr = v4.sin_addr;
    out->len = sizeof canon;
    memcpy(out->bytes, &canon, sizeof canon);
  }
}

void tou__addr_to_sockaddr(const tou_addr_t *a, struct sockaddr_storage *out) {
  memset(out, 0, sizeof *out);
  size_t n = a->len <= sizeof a->bytes ? a->len : sizeof a->bytes;
  memcpy(out, a->bytes, n);
}

/* ---- receiving ---- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  (void)suggested;
  struct tou_endpoint_impl *impl = h->data;
  *buf = uv_buf_init((char *)impl->recv_buf, (unsigned)impl->recv_buf_len);
}

static void on_recv(uv_udp_t *udp, ssize_t nread, const uv_buf_t *buf,
                    const struct sockaddr *addr, unsigned flags) {
  struct tou_endpoint_impl *impl = udp->data;
  /* The end of libuv's batch (MMSG_FREE, nothing more to read, an error):
   * a held read buffer gets its read_cb before the loop goes on. */
  if (flags & UV_UDP_MMSG_FREE) { /* the buffer is ours and reused */
    tou__stream_flush_held(impl, false);
    return;
  }
  if (nread < 0) {
    impl->stats.recv_errors++;
    tou__stream_flush_held(impl, false);
    return;
  }
  if (nread == 0 || addr == NULL) {
    tou__stream_flush_held(impl, false);
    return;
  }
  if (flags & UV_UDP_PARTIAL) {
    impl->stats.recv_errors++;
    return;
  }
  if (!(flags & UV_UDP_MMSG_CHUNK) || !impl->input_dirty) impl->stats.batches_received++;
  tou_addr_t from;
  tou__sockaddr_to_addr(addr, &from);
  tou__input(impl, tou__now(), &from, (const uint8_t *)buf->base, (size_t)nread);
  /* One datagram per callback (no recvmmsg): libuv may call the next
   * callback only after other handles' callbacks. */
  if (!(flags & UV_UDP_MMSG_CHUNK)) tou__stream_flush_held(impl, false);
}

void tou__input(struct tou_endpoint_impl *impl, uint64_t now, const tou_addr_t *from,
                const uint8_t *data, size_t len) {
  impl->stats.datagrams_received++;
  impl->stats.bytes_received += (uint64_t)len;
  if (impl->held_stream) {
    /* Another stream's datagram: the held buffer gets its read_cb first,
     * so that stream's payload too can go straight into its application
     * buffer (one stream holds a buffer at a time, see stream.c). */
    tou_conn_t *c = tou_ep_conn_for(impl->core, from, data, len);
    if (c && tou_conn_user(c) && tou_conn_user(c) != impl->held_stream)
      tou__stream_flush_held(impl, false);
  }
  tou_ep_input(impl->core, now, from, data, len);
  impl->input_dirty = true;
  tou__stream_flush_held(impl, true);
}

/* After the poll phase: every datagram of this round has been fed to the
 * core; now answer them together. */
static void on_check(uv_check_t *check) {
  struct tou_endpoint_impl *impl = check->data;
  if (!impl->input_dirty) return;
  impl->input_dirty = false;
  /* Callbacks first, sending after: an answer written by a read callback
   * then carries the acknowledgment instead of following a bare ACK. */
  tou__collect(impl);
  tou__dispatch(impl);
}

/* ---- public: life cycle ---- */

TOU_EXTERN void tou_endpoint_options_init(tou_endpoint_options_t *o) {
  tou_config_t c;
  tou_config_default(&c);
  memset(o, 0, sizeof *o);
  o->mss = c.mss;
  o->send_buffer = c.send_buffer;
  o->recv_buffer = c.recv_buffer;
  o->nodelay = c.nodelay;
  o->syn_retries = c.syn_retries;
  o->synack_retries = c.synack_retries;
  o->data_retries = c.data_retries;
  o->initial_rto_ms = (unsigned)(c.initial_rto_us / 1000);
  o->min_rto_ms = (unsigned)(c.min_rto_us / 1000);
  o->max_rto_ms = (unsigned)(c.max_rto_us / 1000);
  o->msl_ms = (unsigned)(c.msl_us / 1000);
  o->max_connections = c.max_connections;
  o->syn_backlog = c.syn_backlog;
  o->socket_buffer = 4 << 20;
  /* The core keeps link probing off by default (its packet scripts stay
   * exact); users of the public API get the "can you hear me?" guarantee. */
  o->link_probe_idle_ms = TOU_UV_LINK_PROBE_IDLE_MS;
  o->link_probe_silent_ms = (unsigned)(c.link_probe_timeout_us / 1000);
  o->link_probe_retry_ms = (unsigned)(c.link_probe_retry_us / 1000);
  o->user_timeout_ms = (unsigned)(c.user_timeout_us / 1000);
  o->user_timeout_accept = c.user_timeout_accept;
  o->user_timeout_min_ms = (unsigned)(c.user_timeout_min_us / 1000);
  o->user_timeout_max_ms = (unsigned)(c.user_timeout_max_us / 1000);
}

static void config_from_options(const tou_endpoint_options_t *o, tou_config_t *c,
                                struct tou_endpoint_impl *impl) {
  tou_config_default(c);
  c->mss = o->mss;
  c->send_buffer = o->send_buffer;
  c->recv_buffer = o->recv_buffer;
  c->nodelay = o->nodelay != 0;
  c->syn_retries = o->syn_retries;
  c->synack_retries = o->synack_retries;
  c->data_retries = o->data_retries;
  c->initial_rto_us = (uint64_t)o->initial_rto_ms * 1000;
  c->min_rto_us = (uint64_t)o->min_rto_ms * 1000;
  c->max_rto_us = (uint64_t)o->max_rto_ms * 1000;
  c->msl_us = (uint64_t)o->msl_ms * 1000;
  c->max_connections = o->max_connections;
  c->syn_backlog = o->syn_backlog;
  c->cc_algorithm = o->congestion_control;
  c->link_probe_idle_us = (uint64_t)o->link_probe_idle_ms * 1000;
  if (o->link_probe_silent_ms) c->link_probe_timeout_us = (uint64_t)o->link_probe_silent_ms * 1000;
  if (o->link_probe_retry_ms) c->link_probe_retry_us = (uint64_t)o->link_probe_retry_ms * 1000;
  c->user_timeout_us = (uint64_t)o->user_timeout_ms * 1000;
  c->user_timeout_accept = o->user_timeout_accept != 0;
  if (o->user_timeout_min_ms) c->user_timeout_min_us = (uint64_t)o->user_timeout_min_ms * 1000;
  if (o->user_timeout_max_ms) c->user_timeout_max_us = (uint64_t)o->user_timeout_max_ms * 1000;
  c->seed = o->seed;
  if (!o->disable_direct_read) {
    c->deliver = tou__stream_direct_read;
    c->deliver_ctx = impl;
  }
  if (o->trace) {
    c->trace = tou__trace_adapter;
    c->trace_ctx = impl;
  }
}

TOU_EXTERN int tou_endpoint_init(uv_loop_t *loop, tou_endpoint_t *ep,
                                 const tou_endpoint_options_t *opts) {
  if (!loop || !ep) return UV_EINVAL;
  struct tou_endpoint_impl *impl = calloc(1, sizeof *impl);
  if (!impl) return UV_ENOMEM;
  impl->recv_buf_len = (size_t)TOU_UV_RECV_SLOTS * TOU_UV_DGRAM_MAX;
  impl->recv_buf = malloc(impl->recv_buf_len);
  if (!impl->recv_buf) {
    free(impl);
    return UV_ENOMEM;
  }
  if (opts) impl->opts = *opts;
  else tou_endpoint_options_init(&impl->opts);
  /* Lets any program run without offloads, to tell a problem apart. */
  const char *no_offload = getenv("TOU_DISABLE_UDP_OFFLOAD");
  if (no_offload && no_offload[0] && strcmp(no_offload, "0") != 0)
    impl->opts.disable_udp_offload = 1;
  const char *no_direct = getenv("TOU_DISABLE_DIRECT_READ");
  if (no_direct && no_direct[0] && strcmp(no_direct, "0") != 0) impl->opts.disable_direct_read = 1;
  ep->loop = loop;
  ep->type = TOU_HANDLE_ENDPOINT;
  ep->close_cb = NULL;
  ep->flags = 0;
  ep->impl = impl;
  impl->handle = ep;
  impl->recv_fd = -1;
  impl->send_fd = -1;

  tou_config_t cfg;
  config_from_options(&impl->opts, &cfg, impl);
  impl->core = tou_ep_new(&cfg, tou__now());
  /* A datagram is at most a full header, options and one MSS of payload;
   * endpoint replies (RST, version reject) are smaller. */
  size_t max_datagram = (size_t)cfg.mss + TOU_WIRE_MAX_HEADER_LEN;
  if (!impl->core || tou__send_batch_init(impl, max_datagram) != 0) {
    int r = impl->core ? UV_ENOMEM : UV_EINVAL;
    if (impl->core) tou_ep_free(impl->core);
    tou__send_batch_free(impl);
    free(impl->recv_buf);
    free(impl);
    ep->impl = NULL;
    return r;
  }
  /* The handles are created at bind time (the socket's family is known
   * then); only the timer and the deferral handles exist before. */
  tou__timer_init(impl);
  uv_check_init(loop, &impl->check);
  impl->check.data = impl;
  uv_idle_init(loop, &impl->idle);
  impl->idle.data = impl;
  impl->uv_handles_open = 3;
  uv_check_start(&impl->check, on_check);
  /* The check handle only processes input: it must not keep the loop alive. */
  uv_unref((uv_handle_t *)&impl->check);
  return 0;
}

static void size_socket_buffers(struct tou_endpoint_impl *impl) {
  int want = impl->opts.socket_buffer;
  if (want > 0) {
    int v = want;
    uv_send_buffer_size((uv_handle_t *)&impl->udp, &v);
    v = want;
    uv_recv_buffer_size((uv_handle_t *)&impl->udp, &v);
  }
  int got = 0;
  uv_send_buffer_size((uv_handle_t *)&impl->udp, &got);
  impl->stats.socket_sndbuf = got;
  got = 0;
  uv_recv_buffer_size((uv_handle_t *)&impl->udp, &got);
  impl->stats.socket_rcvbuf = got;
}

TOU_EXTERN int tou_endpoint_bind(tou_endpoint_t *ep, const struct sockaddr *addr,
                                 unsigned flags) {
  if (!ep || !ep->impl || !addr || (ep->flags & TOU_F_CLOSING) || ep->impl->udp_open)
    return UV_EINVAL;
  if (addr->sa_family != AF_INET && addr->sa_family != AF_INET6) return UV_EAFNOSUPPORT;
  struct tou_endpoint_impl *impl = ep->impl;
  int r = uv_udp_init_ex(ep->loop, &impl->udp, addr->sa_family | UV_UDP_RECVMMSG);
  if (r < 0) return r;
  impl->udp.data = impl;
  impl->uv_handles_open++;
  impl->udp_open = true;
  ep->flags |= TOU_F_BOUND;
  r = uv_udp_bind(&impl->udp, addr, flags);
  if (r == 0) {
    tou__send_offload_init(impl);
    if (tou__recv_gro_start(impl) != 0) r = uv_udp_recv_start(&impl->udp, on_alloc, on_recv);
  }
  if (r < 0) {
    /* The udp handle stays initialized; tou_close() closes it. Binding
     * again is not supported: close and start over. */
    ep->flags &= ~TOU_F_BOUND;
    return r;
  }
  if (!impl->gro) impl->stats.recvmmsg = uv_udp_using_recvmmsg(&impl->udp);
  size_socket_buffers(impl);
  return 0;
}

TOU_EXTERN int tou_endpoint_getsockname(const tou_endpoint_t *ep, struct sockaddr *name,
                                        int *namelen) {
  if (!ep || !ep->impl || !(ep->flags & TOU_F_BOUND)) return UV_EINVAL;
  return uv_udp_getsockname(&ep->impl->udp, name, namelen);
}

/* ---- listening ---- */

void tou__pull_accepts(struct tou_endpoint_impl *impl) {
  if (!impl->accept_ring) return;
  while (impl->accept_len < impl->backlog) {
    tou_conn_t *c = tou_ep_accept(impl->core);
    if (!c) break;
    impl->accept_ring[(impl->accept_head + impl->accept_len) % impl->backlog] = c;
    impl->accept_len++;
  }
  impl->stats.accept_queue = impl->accept_len;
  if (impl->accept_announced < impl->accept_len) tou__schedule(impl);
}

TOU_EXTERN int tou_listen(tou_endpoint_t *ep, int backlog, tou_connection_cb cb) {
  if (!ep || !ep->impl || !cb || (ep->flags & TOU_F_CLOSING)) return UV_EINVAL;
  if (ep->flags & TOU_F_LISTENING) return UV_EBUSY;
  struct tou_endpoint_impl *impl = ep->impl;
  if (backlog <= 0) backlog = 128;
  impl->accept_ring = calloc((size_t)backlog, sizeof *impl->accept_ring);
  if (!impl->accept_ring) return UV_ENOMEM;
  int r = tou_ep_listen(impl->core, (unsigned)backlog);
  if (r < 0) {
    free(impl->accept_ring);
    impl->accept_ring = NULL;
    return tou__uv_err(r);
  }
  impl->backlog = (unsigned)backlog;
  impl->connection_cb = cb;
  ep->flags |= TOU_F_LISTENING;
  return 0;
}

TOU_EXTERN int tou_accept(tou_endpoint_t *ep, tou_stream_t *stream) {
  if (!ep || !ep->impl || !stream || (ep->flags & TOU_F_CLOSING)) return UV_EINVAL;
  struct tou_endpoint_impl *impl = ep->impl;
  if (impl->accept_len == 0) return UV_EAGAIN;
  tou_conn_t *c = impl->accept_ring[impl->accept_head];
  impl->accept_head = (impl->accept_head + 1) % impl->backlog;
  impl->accept_len--;
  if (impl->accept_announced > 0) impl->accept_announced--;
  tou__stream_attach(stream, ep, c);
  /* Data or a close may have arrived before the application took it. */
  unsigned bits = TOU_P_READ | TOU_P_WRITE;
  if (tou_conn_state(c) == TOU_CLOSED) bits |= TOU_P_OVER;
  tou__mark(stream, bits);
  tou__pull_accepts(impl);
  tou__pump(impl);
  return 0;
}

TOU_EXTERN int tou_connect(tou_connect_t *req, tou_endpoint_t *ep, tou_stream_t *stream,
                           const struct sockaddr *addr, tou_connect_cb cb) {
  if (!req || !ep || !ep->impl || !stream || !addr || (ep->flags & TOU_F_CLOSING))
    return UV_EINVAL;
  if (!(ep->flags & TOU_F_BOUND)) return UV_EINVAL;
  if (addr->sa_family != AF_INET && addr->sa_family != AF_INET6) return UV_EAFNOSUPPORT;
  struct tou_endpoint_impl *impl = ep->impl;
  tou_addr_t peer;
  tou__sockaddr_to_addr(addr, &peer);
  int err = 0;
  tou_conn_t *c = tou_ep_connect(impl->core, tou__now(), &peer, &err);
  if (!c) return tou__uv_err(err ? err : TOU_ERR_NOMEM);
  tou__stream_attach(stream, ep, c);
  req->handle = stream;
  req->cb = cb;
  req->status = 0;
  stream->connect_req = req;
  tou__pump(impl);
  return 0;
}

/* ---- statistics and listing ---- */

TOU_EXTERN int tou_endpoint_stats(const tou_endpoint_t *ep, tou_endpoint_stats_t *stats) {
  if (!ep || !ep->impl || !stats) return UV_EINVAL;
  *stats = ep->impl->stats;
  stats->streams = ep->impl->nstreams;
  stats->accept_queue = ep->impl->accept_len;
  tou_ep_stats_t core;
  tou_ep_get_stats(ep->impl->core, &core);
  stats->connections = core.connections;
  stats->half_open = core.half_open;
  stats->time_wait = core.time_wait;
  stats->dropped = core.dropped;
  stats->resets_sent = core.resets_sent;
  stats->syns_dropped = core.syns_dropped;
  stats->challenge_acks = core.challenge_acks;
  return 0;
}

struct walk_ctx {
  tou_walk_cb cb;
  void *arg;
};

/* A connection with a stream is reported with it; the others (half-open,
 * not accepted yet, closed by the application and still closing, and
 * TIME_WAIT records, which have only a state, ids and a peer) with NULL. */
static void walk_row(void *ctx, const tou_ep_row_t *row) {
  struct walk_ctx *w = ctx;
  tou_stream_info_t info;
  tou_stream_t *s = NULL;
  if (row->conn) {
    if (row->app_owned) s = tou_conn_user(row->conn);
    tou__stream_fill_info(s, row->conn, &info);
  } else {
    memset(&info, 0, sizeof info);
    info.state = (int)row->state;
    info.conn_id = row->local_cid;
    info.peer_conn_id = row->remote_cid;
    tou__addr_to_sockaddr(row->peer, &info.peer);
  }
  w->cb(&info, s, w->arg);
}

TOU_EXTERN int tou_endpoint_walk(tou_endpoint_t *ep, tou_walk_cb cb, void *arg) {
  if (!ep || !ep->impl || !cb) return UV_EINVAL;
  struct walk_ctx w = {cb, arg};
  tou_ep_walk(ep->impl->core, walk_row, &w);
  return 0;
}

/* ---- closing ---- */

static void on_uv_handle_closed(uv_handle_t *h) {
  struct tou_endpoint_impl *impl = h->data;
  if (--impl->uv_handles_open > 0) return;
  tou_endpoint_t *ep = impl->handle;
  tou_ep_free(impl->core);
  free(impl->accept_ring);
  tou__send_batch_free(impl);
  tou__recv_free(impl);
  tou__send_wait_free(impl);
  free(impl->recv_buf);
  free(impl);
  ep->impl = NULL;
  ep->flags |= TOU_F_CLOSED;
  if (ep->close_cb) ep->close_cb((tou_handle_t *)ep);
}

/* Called once no stream callback is due any more: release the socket and the
 * timers; the core goes with the last of them. */
void tou__endpoint_finish_close(struct tou_endpoint_impl *impl) {
  /* The FINs and RSTs of the streams just closed, even behind a full
   * socket buffer: one last try. */
  impl->send_blocked = false;
  tou__flush_output(impl);
  uv_close((uv_handle_t *)&impl->timer, on_uv_handle_closed);
  uv_close((uv_handle_t *)&impl->check, on_uv_handle_closed);
  uv_close((uv_handle_t *)&impl->idle, on_uv_handle_closed);
  if (impl->poll_open) uv_close((uv_handle_t *)&impl->poll, on_uv_handle_closed);
  if (impl->send_poll_open) uv_close((uv_handle_t *)&impl->send_poll, on_uv_handle_closed);
  if (impl->udp_open) uv_close((uv_handle_t *)&impl->udp, on_uv_handle_closed);
}

void tou__endpoint_close(tou_endpoint_t *ep, tou_close_cb cb) {
  struct tou_endpoint_impl *impl = ep->impl;
  ep->flags |= TOU_F_CLOSING;
  ep->close_cb = cb;
  if (!impl) return;
  uint64_t now = tou__now();
  while (impl->streams) tou__stream_close(impl->streams, NULL);
  for (; impl->accept_len > 0; impl->accept_len--) {
    tou_conn_abort(impl->accept_ring[impl->accept_head], now);
    impl->accept_head = (impl->accept_head + 1) % impl->backlog;
  }
  if (ep->flags & TOU_F_LISTENING) tou_ep_unlisten(impl->core);
  uv_timer_stop(&impl->timer);
  tou__schedule(impl);
}

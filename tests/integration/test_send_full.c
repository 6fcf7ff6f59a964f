/* A full socket send buffer: sendmmsg() failing with EAGAIN or ENOBUFS in
 * the middle of bulk transfers (3 MiB each way, SHA-256 verified). The
 * binding must drop the rest of the batch as a local loss
 * (datagrams_dropped_local), pause its output until the socket is writable
 * (uv_poll_start with UV_WRITABLE; the next send on that socket comes from
 * that callback), then resume; the streams' loss recovery resends what was
 * dropped. No datagram may be copied to wait (uv_udp_send is never called).
 *
 * The failures are injected at link time: this executable is linked with
 * --wrap=sendmmsg, --wrap=uv_udp_send and --wrap=uv_poll_start, so the
 * statically linked binding's calls reach the __wrap_ functions below, which
 * fail chosen calls and watch the others — no test hook in the library
 * itself. On loopback the kernel hardly ever refuses a datagram for room
 * (the loopback device frees the socket's buffer as it sends), so a run with
 * a tiny socket buffer shows the real path where it happens, without
 * asserting on it. The same wrapper checks that a payload in two pieces
 * (the send ring's wrap point) travels inside GSO runs. */
#define _GNU_SOURCE /* sendmmsg */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "transfer.h"

/* Bytes each way: 3 MiB, 1 MiB under valgrind (TOU_TEST_SMALL=1). */
static uint64_t xfer_bytes = 3u << 20;

/* ---- the injected failures ---- */

typedef enum { FAIL_NONE, FAIL_WHOLE, FAIL_PARTIAL, FAIL_BURSTS } fail_mode_t;

#define MAX_SOCKETS 8
/* A call handing over this much carries a burst of bulk data. Slowed down
 * by valgrind (TOU_TEST_TIMEOUT_SCALE > 1), the sender sends after fewer
 * ACKs at a time and its calls hardly ever reach 16 KiB (most are under
 * 8 KiB): there it is 2 KiB, two datagrams or more (over a hundred
 * refusals per case in 1 MiB). */
static size_t bulk_call_bytes = 16u << 10;
#ifndef SOL_UDP
#define SOL_UDP 17
#endif
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

static struct injector {
  fail_mode_t mode;
  unsigned period;      /* one failure episode every `period` calls */
  unsigned calls;       /* sendmmsg calls seen while injecting */
  unsigned bulk_calls;  /* of those, counted towards `period` */
  unsigned gso_msgs;       /* GSO messages handed to sendmmsg */
  unsigned gso_msgs_split; /* of those, with a two-piece payload in the run */
  unsigned burst_left;  /* FAIL_BURSTS: failing calls still due in this burst */
  bool fail_next;       /* FAIL_PARTIAL: the call after a partial one fails */
  unsigned failures;    /* calls failed on purpose */
  unsigned partials;    /* calls cut short on purpose */
  /* The pause: after a failure on a socket, no sendmmsg on it until a
   * UV_WRITABLE poll callback for it (on a duplicate descriptor: the
   * socket is known by its inode) has run. */
  struct {
    ino_t ino;
    bool paused;
  } sockets[MAX_SOCKETS];
  unsigned writable_waits; /* uv_poll_start(UV_WRITABLE) calls */
  unsigned early_resends;  /* sendmmsg on a paused socket */
  unsigned uv_udp_sends;
} inj;

/* The binding's UV_WRITABLE callbacks, by poll handle. */
#define MAX_POLLS 8
static struct {
  uv_poll_t *handle;
  uv_poll_cb cb;
} writable_cb[MAX_POLLS];

int __real_sendmmsg(int fd, struct mmsghdr *msgs, unsigned int vlen, int flags);
int __real_uv_udp_send(uv_udp_send_t *req, uv_udp_t *handle, const uv_buf_t bufs[],
                       unsigned int nbufs, const struct sockaddr *addr, uv_udp_send_cb send_cb);
int __real_uv_poll_start(uv_poll_t *handle, int events, uv_poll_cb cb);

/* The pause state of the socket behind fd. */
static bool *paused(int fd) {
  struct stat st;
  assert_int_equal(fstat(fd, &st), 0);
  for (int i = 0; i < MAX_SOCKETS; i++) {
    if (inj.sockets[i].ino == st.st_ino) return &inj.sockets[i].paused;
    if (inj.sockets[i].ino == 0) {
      inj.sockets[i].ino = st.st_ino;
      return &inj.sockets[i].paused;
    }
  }
  fail_msg("too many sockets");
  return NULL;
}

static int fail_with(int fd, int err) {
  inj.failures++;
  *paused(fd) = true;
  errno = err;
  return -1;
}

/* Bytes a call would hand over. */
static size_t call_bytes(const struct mmsghdr *msgs, unsigned int vlen) {
  size_t n = 0;
  for (unsigned i = 0; i < vlen; i++)
    for (size_t k = 0; k < msgs[i].msg_hdr.msg_iovlen; k++) n += msgs[i].msg_hdr.msg_iov[k].iov_len;
  return n;
}

/* The UDP_SEGMENT size of a GSO message, 0 for a plain one. */
static size_t gso_size(const struct msghdr *h) {
  for (struct cmsghdr *cm = CMSG_FIRSTHDR(h); cm; cm = CMSG_NXTHDR((struct msghdr *)h, cm)) {
    if (cm->cmsg_level == SOL_UDP && cm->cmsg_type == UDP_SEGMENT) {
      uint16_t v;
      memcpy(&v, CMSG_DATA(cm), sizeof v);
      return v;
    }
  }
  return 0;
}

/* GSO messages holding a datagram whose payload is in two pieces (the
 * send ring's wrap point): more iovecs than two per datagram. */
static void count_split_in_gso(const struct mmsghdr *msgs, unsigned int vlen) {
  for (unsigned i = 0; i < vlen; i++) {
    const struct msghdr *h = &msgs[i].msg_hdr;
    size_t seg = gso_size(h);
    if (seg == 0) continue;
    size_t bytes = 0;
    for (size_t k = 0; k < h->msg_iovlen; k++) bytes += h->msg_iov[k].iov_len;
    size_t dgrams = (bytes + seg - 1) / seg;
    inj.gso_msgs++;
    if (h->msg_iovlen > 2 * dgrams) inj.gso_msgs_split++;
  }
}

int __wrap_sendmmsg(int fd, struct mmsghdr *msgs, unsigned int vlen, int flags) {
  count_split_in_gso(msgs, vlen);
  if (inj.mode == FAIL_NONE) return __real_sendmmsg(fd, msgs, vlen, flags);
  if (*paused(fd)) inj.early_resends++;
  inj.calls++;
  /* A buffer fills under bulk sending: only calls carrying a burst of data
   * start a failure (refusing lone ACKs and timer retransmissions would
   * only make the test slow, by retransmission timeouts). */
  bool bulk = call_bytes(msgs, vlen) >= bulk_call_bytes;
  switch (inj.mode) {
  case FAIL_WHOLE:
    if (bulk && ++inj.bulk_calls % inj.period == 0) return fail_with(fd, EAGAIN);
    break;
  case FAIL_PARTIAL:
    /* The kernel's way: the first messages go, the next call finds the
     * buffer full. */
    if (inj.fail_next) {
      inj.fail_next = false;
      return fail_with(fd, EAGAIN);
    }
    if (bulk && vlen > 1 && ++inj.bulk_calls % inj.period == 0) {
      inj.partials++;
      inj.fail_next = true;
      return __real_sendmmsg(fd, msgs, vlen / 2, flags);
    }
    break;
  case FAIL_BURSTS:
    /* Three bulk calls in a row refused, each after a wait; ENOBUFS (a
     * full device queue) as well as EAGAIN. */
    if (!bulk) break;
    if (++inj.bulk_calls % inj.period == 0) inj.burst_left = 3;
    if (inj.burst_left > 0) {
      inj.burst_left--;
      return fail_with(fd, inj.burst_left % 2 ? EAGAIN : ENOBUFS);
    }
    break;
  case FAIL_NONE:
    break;
  }
  return __real_sendmmsg(fd, msgs, vlen, flags);
}

/* The copy the binding no longer makes: counted, never expected. */
int __wrap_uv_udp_send(uv_udp_send_t *req, uv_udp_t *handle, const uv_buf_t bufs[],
                       unsigned int nbufs, const struct sockaddr *addr, uv_udp_send_cb send_cb) {
  inj.uv_udp_sends++;
  return __real_uv_udp_send(req, handle, bufs, nbufs, addr, send_cb);
}

static void writable_trampoline(uv_poll_t *handle, int status, int events) {
  for (int i = 0; i < MAX_POLLS; i++) {
    if (writable_cb[i].handle != handle) continue;
    uv_os_fd_t fd;
    assert_int_equal(uv_fileno((uv_handle_t *)handle, &fd), 0);
    *paused(fd) = false;
    writable_cb[i].cb(handle, status, events);
    return;
  }
  fail_msg("a poll callback nobody started");
}

/* The binding's wait for room: its callback is run through the trampoline,
 * which ends the socket's pause. */
int __wrap_uv_poll_start(uv_poll_t *handle, int events, uv_poll_cb cb) {
  if (!(events & UV_WRITABLE)) return __real_uv_poll_start(handle, events, cb);
  inj.writable_waits++;
  int free_slot = -1;
  for (int i = 0; i < MAX_POLLS; i++) {
    if (writable_cb[i].handle == handle) free_slot = i;
    else if (free_slot < 0 && writable_cb[i].handle == NULL) free_slot = i;
  }
  assert_true(free_slot >= 0);
  writable_cb[free_slot].handle = handle;
  writable_cb[free_slot].cb = cb;
  return __real_uv_poll_start(handle, events, writable_trampoline);
}

/* ---- the transfer ---- */

typedef struct full_test {
  uv_loop_t loop;
  tou_endpoint_t server_ep, client_ep;
  tou_stream_t server, client;
  tou_connect_t connect;
  xfer_t x;
} full_test_t;

static full_test_t *T;

static void on_hang(void) {
  xfer_print(&T->x);
  tou_endpoint_t *eps[2] = {&T->client_ep, &T->server_ep};
  for (int i = 0; i < 2; i++) {
    tou_endpoint_stats_t st;
    tou_endpoint_stats(eps[i], &st);
    print_message("endpoint %d: %llu sent, %llu dropped locally, %llu send errors\n", i,
                  (unsigned long long)st.datagrams_sent,
                  (unsigned long long)st.datagrams_dropped_local,
                  (unsigned long long)st.send_errors);
  }
  print_message("%u calls, %u failed, %u cut short, %u waits\n", inj.calls, inj.failures,
                inj.partials, inj.writable_waits);
}

typedef struct scenario {
  fail_mode_t mode;
  unsigned period;
  bool offload_off; /* without GSO: one message per datagram */
  int socket_buffer; /* 0: the default */
  uint32_t stream_buffer; /* the streams' send buffers (rings); 0: 1 MiB */
} scenario_t;

/* Runs one transfer; returns the datagrams both endpoints dropped. */
static uint64_t run(const scenario_t *sc) {
  full_test_t *t = calloc(1, sizeof *t);
  T = t;
  h_on_hang = on_hang;
  memset(&inj, 0, sizeof inj);
  memset(writable_cb, 0, sizeof writable_cb);
  uv_loop_init(&t->loop);
  struct sockaddr_storage server_addr, client_addr;
  tou_endpoint_options_t opts;
  h_options(&opts);
  opts.send_buffer = opts.recv_buffer = 1 << 20;
  if (sc->stream_buffer) opts.send_buffer = sc->stream_buffer;
  opts.disable_udp_offload = sc->offload_off;
  if (sc->socket_buffer) opts.socket_buffer = sc->socket_buffer;
  assert_int_equal(h_endpoint(&t->loop, &t->server_ep, &opts, false, &server_addr), 0);
  assert_int_equal(h_endpoint(&t->loop, &t->client_ep, &opts, false, &client_addr), 0);
  xfer_init(&t->x, xfer_bytes, xfer_bytes);
  xfer_listen(&t->x, &t->server_ep, &t->server);
  inj.mode = sc->mode;
  inj.period = sc->period;
  xfer_connect(&t->x, &t->connect, &t->client_ep, &t->client, (const struct sockaddr *)&server_addr);
  h_run_until(&t->loop, &t->x.done, 30000);
  /* Closing sends its last segments even behind a full buffer (one try,
   * no pause): the checks end here. */
  inj.mode = FAIL_NONE;
  xfer_check(&t->x);

  uint64_t dropped = 0, sent = 0, gathered = 0;
  tou_endpoint_t *eps[2] = {&t->client_ep, &t->server_ep};
  for (int i = 0; i < 2; i++) {
    tou_endpoint_stats_t st;
    assert_int_equal(TOU(tou_endpoint_stats(eps[i], &st)), 0);
    dropped += st.datagrams_dropped_local;
    sent += st.datagrams_sent;
    gathered += st.datagrams_gathered;
  }
  tou_stream_info_t ci, si;
  assert_int_equal(TOU(tou_get_info(&t->client, &ci)), 0);
  assert_int_equal(TOU(tou_get_info(&t->server, &si)), 0);
  print_message("%u calls failed, %u cut short, %u waits for room; %llu datagrams dropped "
                "locally, %llu sent (%llu gathered); %llu + %llu segments resent; %u early "
                "resends\n",
                inj.failures, inj.partials, inj.writable_waits, (unsigned long long)dropped,
                (unsigned long long)sent, (unsigned long long)gathered,
                (unsigned long long)ci.segs_retransmitted,
                (unsigned long long)si.segs_retransmitted, inj.early_resends);
  assert_int_equal(inj.uv_udp_sends, 0);
  assert_int_equal(inj.early_resends, 0);
  /* Each refusal paused the output: a wait for room (none is started while
   * one runs, and refusals come one per wait). */
  assert_int_equal(inj.writable_waits, inj.failures);
  /* Every failed call dropped at least one datagram. */
  assert_true(dropped >= inj.failures);
  /* What was dropped was data (mostly): the streams resent it. */
  if (dropped > 0) assert_true(ci.segs_retransmitted + si.segs_retransmitted > 0);
  /* Every data datagram went out without a copy. */
  assert_true(gathered >= 2 * xfer_bytes / opts.mss);

  tou_handle_t *hs[] = {(tou_handle_t *)&t->client, (tou_handle_t *)&t->server,
                        (tou_handle_t *)&t->client_ep, (tou_handle_t *)&t->server_ep};
  h_close_and_drain(&t->loop, hs, 4);
  xfer_free(&t->x);
  free(t);
  return dropped;
}

/* One bulk sendmmsg in 4 refused whole (with GSO): its batch is lost. */
static void whole_batches_refused(void **state) {
  (void)state;
  scenario_t sc = {.mode = FAIL_WHOLE, .period = 4};
  assert_true(run(&sc) > 0);
  assert_true(inj.failures >= 5);
}

/* The kernel takes part of a batch, then refuses: the rest is dropped.
 * Without GSO, where every datagram is its own message (with GSO a batch is
 * mostly one message, and whether it has several depends on timing). */
static void batches_cut_short(void **state) {
  (void)state;
  scenario_t sc = {.mode = FAIL_PARTIAL, .period = 4, .offload_off = true};
  assert_true(run(&sc) > 0);
  assert_true(inj.partials >= 3);
}

/* Refusals in a row (EAGAIN and ENOBUFS): every 8th bulk call starts a
 * burst of three refused bulk calls, each after waiting for the socket. */
static void repeated_refusals(void **state) {
  (void)state;
  scenario_t sc = {.mode = FAIL_BURSTS, .period = 8};
  assert_true(run(&sc) > 0);
  assert_true(inj.failures >= 6);
}

/* Whole batches refused without GSO: one message per datagram. */
static void whole_batches_refused_without_gso(void **state) {
  (void)state;
  scenario_t sc = {.mode = FAIL_WHOLE, .period = 4, .offload_off = true};
  assert_true(run(&sc) > 0);
  assert_true(inj.failures >= 3);
}

/* The real thing, where the kernel provides it: a tiny socket buffer (the
 * kernel's minimum). Whether it ever fills on loopback depends on the
 * kernel; the transfer must complete either way. */
static void tiny_socket_buffer(void **state) {
  (void)state;
  scenario_t sc = {.mode = FAIL_NONE, .socket_buffer = 4096};
  uint64_t dropped = run(&sc);
  print_message("tiny socket buffer: %llu datagrams dropped for room by the kernel\n",
                (unsigned long long)dropped);
}

/* Nothing refused; 64 KiB stream send buffers, whose rings wrap every
 * 64 KiB: segments across the wrap point go out inside GSO runs as three
 * iovecs (header and two payload pieces), and the bytes arrive exact. */
static void wrapped_segments_in_gso_runs(void **state) {
  (void)state;
  scenario_t sc = {.mode = FAIL_NONE, .stream_buffer = 64u << 10};
  run(&sc);
  print_message("%u GSO messages, %u with a payload in two pieces\n", inj.gso_msgs,
                inj.gso_msgs_split);
  if (inj.gso_msgs == 0) {
    print_message("no UDP GSO in this kernel: not exercised\n");
    return;
  }
  assert_true(inj.gso_msgs_split > 0);
}

int main(void) {
  if (h_small()) xfer_bytes = 1u << 20;
  if (h_timeout_scale() > 1) bulk_call_bytes = 2u << 10;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(whole_batches_refused), cmocka_unit_test(batches_cut_short),
      cmocka_unit_test(repeated_refusals),
      cmocka_unit_test(whole_batches_refused_without_gso),
      cmocka_unit_test(tiny_socket_buffer),
      cmocka_unit_test(wrapped_segments_in_gso_runs),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

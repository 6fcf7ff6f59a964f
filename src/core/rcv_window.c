/* The receive window we advertise and the buffer behind it.
 *
 * - Receiver silly-window-syndrome avoidance (RFC 9293 3.8.6.2.2): the
 *   right edge of the window moves only by at least
 *   min(RCV.BUFF / 2, Eff.snd.MSS); smaller openings are kept back, and the
 *   edge never moves left (RFC 9293 3.8.6.2.2 "shrinking"), except by the
 *   rounding of the scaled field (RFC 7323 2.4, conn_window_field()).
 * - Window updates: an ACK only for a larger window goes when the sender
 *   may be held back, i.e. the window it sees is less than half of what we
 *   could offer (a zero window that reopens, a reader catching up).
 * - Receive-buffer autotuning (dynamic right-sizing, as Linux's
 *   tcp_rcv_space_adjust): once per receiver RTT, the bytes the application
 *   read in that RTT say what the sender delivers per window; the buffer
 *   grows to twice that (four times while it is still growing fast, as in
 *   slow start) up to cfg.recv_buffer. A reader that does not keep up never
 *   makes it grow, so memory follows what the application actually drains.
 *   The receiver RTT comes from timestamp echoes (RFC 7323 4: the sender
 *   echoes the TSval of our latest ACK) or, without timestamps, from the
 *   connection's RTT estimator. */
#include "endpoint.h"

/* What the peer may still send: the right edge last advertised, minus
 * RCV.NXT (0 before anything was advertised). */
static uint32_t visible_window(const tou_conn_t *c) {
  uint32_t ahead = c->rcv_adv - c->rcv_nxt;
  return ahead > c->ep->cfg.recv_buffer + (1u << 14) ? 0 : ahead;
}

static uint8_t scale(const tou_conn_t *c) { return c->wscale_ok ? c->rcv_wscale : 0; }

uint32_t conn_window_to_advertise(const tou_conn_t *c) {
  size_t free_space = recvbuf_window(&c->rb);
  uint32_t w = free_space > UINT32_MAX ? UINT32_MAX : (uint32_t)free_space;
  uint32_t max = 65535u << scale(c); /* what the window field can say */
  if (w > max) w = max;
  if (!conn_synchronized(c)) return w;
  uint32_t cur = visible_window(c);
  uint32_t step = (uint32_t)(c->rb.limit / 2) < c->snd_mss ? (uint32_t)(c->rb.limit / 2) : c->snd_mss;
  if (w >= cur + step) return w;
  return cur; /* RFC 9293 3.8.6.2.2: keep the right edge where it is */
}

/* Rounded down to the scale's granularity: the window may then seem to
 * recede by less than 2^S bytes (RFC 7323 2.4), but it never promises more
 * than the buffer holds. Rounding up instead would let the kept right edge
 * creep forward by up to 2^S - 1 bytes with every ACK until it lies beyond
 * the buffer: a full buffer would then advertise a small non-zero window
 * forever, the sender would never see a zero window, and the data it sent
 * there would be cut off again and again. */
uint16_t conn_window_field(const tou_conn_t *c) {
  uint32_t field = conn_window_to_advertise(c) >> scale(c);
  return (uint16_t)(field > 65535 ? 65535 : field);
}

uint32_t rcv_initial_buffer(const tou_config_t *cfg) {
  uint32_t initial = cfg->recv_buffer_initial;
  if (initial == 0 || initial > cfg->recv_buffer) initial = cfg->recv_buffer;
  return initial < cfg->mss ? cfg->mss : initial;
}

void conn_rcv_init(tou_conn_t *c) {
  c->rb.limit = rcv_initial_buffer(&c->ep->cfg); /* recvbuf_init() set the ceiling */
  c->tune_at = TOU_NEVER;
}

static uint64_t receiver_rtt(const tou_conn_t *c) {
  if (c->rcv_rtt_us != 0) return c->rcv_rtt_us;
  return tou_rtt_srtt(&c->rtt);
}

/* RFC 7323 4 (the sender echoes the TSval of the ACK that let this data
 * go): a sample of the round trip as the receiver sees it. Biased to the
 * minimum, as Linux's tcp_rcv_rtt_update: a stale echo after the sender
 * was idle only moves the estimate slowly. */
void conn_rcv_on_data(tou_conn_t *c, uint64_t now, const tou_segment_t *seg) {
  if (!c->ts_ok || !(seg->opts.present & TOU_OPT_TIMESTAMP) || seg->opts.ts_ecr == 0) return;
  uint32_t now_ms = (uint32_t)(now / 1000) + c->ts_offset;
  uint32_t ms = now_ms - seg->opts.ts_ecr;
  if (ms > 60u * 1000) return; /* from the future, or stale beyond use */
  uint64_t sample = ms ? (uint64_t)ms * 1000 : 500;
  if (c->rcv_rtt_us == 0 || sample < c->rcv_rtt_us)
    c->rcv_rtt_us = sample;
  else
    c->rcv_rtt_us = (7 * c->rcv_rtt_us + sample) / 8;
}

/* Dynamic right-sizing, once per receiver RTT. */
static void autotune(tou_conn_t *c, uint64_t now, size_t n) {
  uint32_t max = c->ep->cfg.recv_buffer;
  if (c->rb.limit >= max) return;
  if (c->tune_at == TOU_NEVER) {
    c->tune_at = now;
    c->tune_copied_at = c->tune_copied - n;
    return;
  }
  uint64_t rtt = receiver_rtt(c);
  if (rtt == 0 || now - c->tune_at < rtt) return;
  uint64_t copied = c->tune_copied - c->tune_copied_at;
  if (copied > c->tune_space) {
    /* Twice a window per RTT lets the sender's window double once more
     * before the next measurement; 16 segments absorb loss recovery. */
    uint64_t want = 2 * copied + 16ull * c->snd_mss;
    if (c->tune_space > 0 && copied >= c->tune_space + c->tune_space / 4) want *= 2;
    if (want > max) want = max;
    if (want > c->rb.limit) recvbuf_set_limit(&c->rb, (size_t)want);
    c->tune_space = copied;
  }
  c->tune_at = now;
  c->tune_copied_at = c->tune_copied;
}

void conn_rcv_on_read(tou_conn_t *c, uint64_t now, size_t n) {
  c->tune_copied += n;
  autotune(c, now, n);
  if (!conn_synchronized(c) || c->eof || c->state == TOU_TIME_WAIT) return;
  uint32_t cur = visible_window(c);
  uint32_t next = conn_window_to_advertise(c);
  if (next > cur && cur < next / 2) {
    c->stats.window_updates++;
    conn_ack_now(c);
  }
}

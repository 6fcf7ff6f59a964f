/* Proportional Rate Reduction in a connection (conn_recovery.c + prr.c,
 * RFC 9937): what a sender transmits during fast recovery, observed at
 * every ACK it takes. Two endpoints over the pair.h link, 20 ms each way,
 * no bandwidth limit; losses are chosen data segments of A.
 *
 * At each ACK in recovery the test computes, from the scoreboard's counts
 * and the segments it saw leave, what RFC 9937 allows in total
 * (prr_out + sndcnt = sent so far + cwnd - pipe) and compares. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "conn.h"
#include "pair.h"

#define MS 1000ull
#define SEC 1000000ull

typedef struct watch {
  tou_conn_t *a;
  unsigned data_seen;
  unsigned drop_from, drop_to; /* 1-based data segments of A to drop */
  /* A's scoreboard before the ACK being processed. */
  uint64_t pre_outstanding, pre_sacked, pre_delivered;
  /* The recovery episode under watch. */
  bool in_recovery, done;
  uint64_t recover_fs, delivered0, ssthresh, sent;
  uint64_t entered_at, first_rtx_at;
  unsigned acks, proportional_acks, ssrb_acks;
  uint64_t exit_cwnd, exit_pipe;
  bool violated;
  char why[200];
} watch_t;

static void snapshot(watch_t *w) {
  const tou_scoreboard_t *sb = &w->a->rec.sb;
  w->pre_outstanding = sb->outstanding;
  w->pre_sacked = sb->sacked_bytes;
  w->pre_delivered = sb->delivered;
}

static void violation(watch_t *w, const char *what, uint64_t got, uint64_t lo, uint64_t hi) {
  if (w->violated) return;
  w->violated = true;
  snprintf(w->why, sizeof w->why, "ACK %u of recovery: %s %llu not in [%llu, %llu]", w->acks,
           what, (unsigned long long)got, (unsigned long long)lo, (unsigned long long)hi);
}

static bool filter(pair_t *p, int from, const tou_segment_t *s) {
  watch_t *w = p->ctx;
  if (from != 0 || w->a == NULL) return false;
  bool drop = false;
  if (s->payload_len > 0 || (s->flags & TOU_FIN)) {
    unsigned n = ++w->data_seen;
    drop = n >= w->drop_from && n <= w->drop_to;
    if (w->in_recovery) {
      w->sent += s->payload_len + ((s->flags & TOU_FIN) ? 1 : 0);
      if (w->first_rtx_at == 0 && seq_lt(s->seq, w->a->snd_max)) w->first_rtx_at = p->now;
    }
  }
  snapshot(w);
  return drop;
}

/* Right after A took an ACK, before it sends anything in response. */
static void after_input(pair_t *p, int to) {
  watch_t *w = p->ctx;
  if (to != 0 || w->a == NULL || w->done || !w->a->rec.active) return;
  tou_conn_t *a = w->a;
  const tou_scoreboard_t *sb = &a->rec.sb;
  bool fast = a->rec.rack.state == TOU_RECOVERY_FAST;
  uint64_t mss = a->snd_mss, cwnd = a->rec.cc.cwnd, pipe = tou_sb_in_flight(sb);
  if (fast && !w->in_recovery) {
    /* RFC 9937 6.1: RecoverFS = SND.NXT - SND.UNA less what was SACKed
     * before recovery. */
    w->in_recovery = true;
    w->recover_fs = w->pre_outstanding - w->pre_sacked;
    w->delivered0 = w->pre_delivered;
    w->ssthresh = a->rec.cc.ssthresh;
    w->entered_at = p->now;
  }
  if (w->in_recovery && !fast) {
    w->in_recovery = false;
    w->done = true; /* watch one episode */
    w->exit_cwnd = cwnd;
    w->exit_pipe = pipe;
    return;
  }
  if (w->in_recovery) {
    w->acks++;
    uint64_t delivered = sb->delivered - w->delivered0;
    uint64_t this_ack = sb->delivered - w->pre_delivered;
    uint64_t allowed = w->sent + (cwnd > pipe ? cwnd - pipe : 0);
    if (pipe > w->ssthresh) {
      /* Proportional: prr_out + sndcnt = CEIL(prr_delivered * ssthresh /
       * RecoverFS), in whole segments (less than one ahead). */
      uint64_t target = (delivered * w->ssthresh + w->recover_fs - 1) / w->recover_fs;
      w->proportional_acks++;
      if (this_ack > 0 && (allowed < target || allowed >= target + mss))
        violation(w, "allowed (proportional)", allowed, target, target + mss - 1);
    } else {
      /* Slow-start reduction bound: sndcnt <= max(prr_delivered - prr_out,
       * DeliveredData) + SMSS, and never beyond ssthresh. */
      w->ssrb_acks++;
      uint64_t owed = delivered > w->sent ? delivered - w->sent : 0;
      uint64_t bound = (owed > this_ack ? owed : this_ack) + mss;
      uint64_t sndcnt = cwnd > pipe ? cwnd - pipe : 0;
      if (this_ack > 0 && sndcnt > bound) violation(w, "sndcnt (slow-start bound)", sndcnt, 0, bound);
      if (this_ack > 0 && pipe + sndcnt > w->ssthresh && sndcnt > 0)
        violation(w, "pipe + sndcnt", pipe + sndcnt, 0, w->ssthresh);
    }
  }
  snapshot(w);
}

static uint8_t *pattern(size_t n) {
  uint8_t *x = malloc(n);
  for (size_t i = 0; i < n; i++) x[i] = (uint8_t)(i * 7 + (i >> 11));
  return x;
}

/* Sends n bytes from A to B with segments [drop_from, drop_to] lost once;
 * checks the bytes and fills *w. */
static void run(const char *algo, size_t n, unsigned drop_from, unsigned drop_to, watch_t *w,
                tou_conn_info_t *info) {
  pair_t p;
  pair_init(&p, 20 * MS);
  memset(w, 0, sizeof *w);
  w->drop_from = drop_from;
  w->drop_to = drop_to;
  p.ctx = w;
  p.filter = filter;
  p.after_input = after_input;
  for (int i = 0; i < 2; i++) {
    p.cfg[i].cc_algorithm = algo;
    p.cfg[i].send_buffer = p.cfg[i].recv_buffer = 4u << 20;
  }
  pair_start(&p);
  tou_conn_t *a, *b;
  pair_connect(&p, &a, &b);
  assert_non_null(b);
  w->a = a;
  uint8_t *x = pattern(n), *y = malloc(n);
  assert_int_equal(tou_conn_send(a, p.now, x, n), (int)n);
  size_t got = 0;
  uint64_t end = p.now + 30 * SEC;
  while (got < n && p.now < end) {
    pair_run(&p, 5 * MS);
    got += pair_read_all(&p, b, y + got, n - got, NULL);
  }
  assert_int_equal(got, n);
  assert_memory_equal(x, y, n);
  tou_conn_get_info(a, info);
  free(x);
  free(y);
  pair_free(&p);
}

/* One loss in a window of about 80 segments: from the ACK that starts
 * recovery on, the sender may send ssthresh / RecoverFS of what is
 * delivered (RFC 9937 6.2), the fast retransmit at once; recovery ends
 * with cwnd = ssthresh and the flight at ssthresh, so nothing bursts. */
static void single_loss(const char *algo) {
  watch_t w;
  tou_conn_info_t i;
  run(algo, 2u << 20, 100, 100, &w, &i);
  print_message("%s: RecoverFS %llu, ssthresh %llu, %u ACKs (%u proportional), sent %llu, "
                "exit cwnd %llu pipe %llu\n",
                algo, (unsigned long long)w.recover_fs, (unsigned long long)w.ssthresh, w.acks,
                w.proportional_acks, (unsigned long long)w.sent,
                (unsigned long long)w.exit_cwnd, (unsigned long long)w.exit_pipe);
  assert_true(w.done);
  if (w.violated) fail_msg("%s", w.why);
  assert_true(w.recover_fs > 40 * i.snd_mss);
  assert_true(w.proportional_acks > 20);
  /* The fast retransmit leaves with the ACK that starts recovery. */
  assert_int_equal(w.first_rtx_at, w.entered_at);
  /* RFC 9937: cwnd = ssthresh at the end (plus at most one segment of
   * congestion-avoidance growth for the ACK that ends recovery), the
   * flight already there. */
  assert_in_range(w.exit_cwnd, w.ssthresh, w.ssthresh + i.snd_mss);
  assert_true(w.exit_pipe + 2 * i.snd_mss >= w.ssthresh);
  /* What went out in recovery: ssthresh / RecoverFS of RecoverFS. */
  assert_in_range(w.sent, w.ssthresh - 2 * i.snd_mss, w.ssthresh + i.snd_mss);
  assert_int_equal(i.timeouts, 0);
  assert_int_equal(i.congestion_events, 1);
}

static void single_loss_cubic(void **state) {
  (void)state;
  single_loss("cubic");
}
static void single_loss_newreno(void **state) {
  (void)state;
  single_loss("newreno");
}

/* Forty segments in a row lost from a window of about 80: the flight falls
 * below ssthresh, and grows back no faster than slow start (PRR-SSRB:
 * per ACK what was delivered plus one segment), never past ssthresh. */
static void heavy_loss(void **state) {
  (void)state;
  watch_t w;
  tou_conn_info_t i;
  run("cubic", 2u << 20, 100, 139, &w, &i);
  print_message("RecoverFS %llu, ssthresh %llu, %u ACKs (%u slow-start bound), sent %llu, "
                "exit cwnd %llu pipe %llu\n",
                (unsigned long long)w.recover_fs, (unsigned long long)w.ssthresh, w.acks,
                w.ssrb_acks, (unsigned long long)w.sent, (unsigned long long)w.exit_cwnd,
                (unsigned long long)w.exit_pipe);
  assert_true(w.done);
  if (w.violated) fail_msg("%s", w.why);
  assert_true(w.ssrb_acks > 10);
  assert_int_equal(w.first_rtx_at, w.entered_at);
  assert_in_range(w.exit_cwnd, w.ssthresh, w.ssthresh + i.snd_mss);
  assert_true(w.exit_pipe + 3 * i.snd_mss >= w.ssthresh);
  assert_int_equal(i.timeouts, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(single_loss_cubic),
      cmocka_unit_test(single_loss_newreno),
      cmocka_unit_test(heavy_loss),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

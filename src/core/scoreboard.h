/* The sender's record of segments in flight: one entry per transmitted
 * segment between snd_una and snd_nxt, in sequence order, in a ring bounded
 * by configuration (the connection sizes the bound from the send buffer and
 * the MSS). The caller gives the first ring; with tou_sb_set_growth() the
 * scoreboard doubles it through the endpoint's allocator as the flight
 * grows, so memory follows the flight, not the bound (a connection that
 * only ever has a few segments out holds a few entries).
 *
 * It turns ACKs into facts: bytes newly cumulatively ACKed (RFC 9293) and
 * newly SACKed (RFC 2018), DSACKs (RFC 2883), an RTT sample obeying Karn's
 * rule, the newest delivered transmission for RACK (RFC 8985), reordering
 * (a never-retransmitted segment delivered below the highest SACKed
 * sequence), and a delivery-rate sample (draft-cheng-iccrg-delivery-rate-
 * estimation). It keeps the bytes-in-flight estimate ("pipe", RFC 6675):
 * outstanding bytes minus SACKed ones minus those marked lost and not yet
 * retransmitted. Deciding what is lost is rack.c's job; the scoreboard only
 * records the marks. It never touches payload bytes (the send buffer does). */
#ifndef TOU_CORE_SCOREBOARD_H
#define TOU_CORE_SCOREBOARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "seq.h"
#include "wire.h"

enum {
  TOU_SB_SACKED = 1u << 0,      /* covered by a SACK block (may still be reneged: kept until cum-ACKed) */
  TOU_SB_LOST = 1u << 1,        /* marked lost by RACK / dupacks / RTO */
  TOU_SB_RETRANS_OUT = 1u << 2, /* a retransmission sent after the last loss mark is in flight */
  TOU_SB_EVER_RETRANS = 1u << 3,/* retransmitted at least once: ACK is ambiguous (Karn) */
  TOU_SB_APP_LIMITED = 1u << 4, /* sent while the application was the bottleneck */
};

typedef struct tou_sb_seg {
  tou_seq_t seq;
  uint32_t len;         /* sequence space: payload, +1 for a FIN if the caller counts it */
  uint8_t flags;
  uint8_t xmits;        /* transmissions so far (saturates at 255) */
  uint64_t xmit_us;     /* latest transmission */
  /* Delivery-rate snapshot at the latest transmission. */
  uint64_t delivered;
  uint64_t delivered_us;
  uint64_t first_tx_us;
} tou_sb_seg_t;

typedef struct tou_sb_stats {
  uint64_t segs_sent;          /* new transmissions */
  uint64_t segs_retransmitted; /* retransmissions of any kind */
  uint64_t segs_lost;          /* loss marks */
  uint64_t segs_sacked;        /* segments newly SACKed */
  uint64_t bytes_acked;        /* cumulatively acknowledged */
  uint64_t reordering_seen;    /* ACKs that revealed reordering */
  uint64_t dsacks;             /* ACKs carrying a DSACK block */
  uint64_t delivery_rate;      /* bytes/s of the latest valid sample */
} tou_sb_stats_t;

typedef struct tou_scoreboard {
  tou_sb_seg_t *segs; /* ring of `cap` entries, caller-owned */
  uint32_t cap, head, count;
  tou_seq_t snd_una, snd_nxt;
  uint32_t mss;
  uint64_t outstanding; /* bytes between snd_una and snd_nxt */
  uint64_t in_flight;   /* RFC 6675 pipe, bytes */
  uint64_t sacked_bytes;
  uint64_t lost_bytes;  /* marked lost and awaiting retransmission */
  uint32_t sacked_segs; /* RACK.segs_sacked */
  uint32_t retrans_segs; /* entries retransmitted at least once */
  uint32_t reno_sacked; /* bytes assumed delivered from duplicate ACKs (no SACK) */
  bool fack_valid;
  tou_seq_t fack;       /* RACK.fack: highest end of a delivered segment */
  /* Delivery-rate estimation state. */
  uint64_t delivered;
  uint64_t delivered_us;
  uint64_t first_tx_us;
  uint64_t app_limited_until; /* delivered count at which app-limited ends; 0 = not */
  tou_sb_stats_t stats;
  /* Growth on demand (tou_sb_set_growth); alloc NULL: the ring is fixed. */
  const struct tou_allocator *alloc;
  uint32_t max_cap;
} tou_scoreboard_t;

/* What one ACK taught. */
typedef struct tou_sb_ack {
  uint32_t newly_acked;  /* bytes cumulatively ACKed by this ACK */
  uint32_t newly_sacked; /* bytes newly SACKed */
  uint32_t prior_in_flight;
  bool dsack;            /* a DSACK block (RFC 2883) was present */
  tou_seq_t dsack_left, dsack_right;
  bool reordering;       /* a never-retransmitted segment arrived below fack */
  bool has_rtt;
  uint64_t rtt_us;       /* Karn-valid sample: newest delivered, never-retransmitted segment */
  /* Newest delivered transmission that passes RACK's spurious-retransmission
   * check (RFC 8985 6.2 step 2): for RACK.xmit_ts / RACK.end_seq / RACK.rtt. */
  bool has_rack;
  uint64_t rack_xmit_us;
  tou_seq_t rack_end_seq;
  /* Delivery-rate sample (valid when rate_interval_us > 0). */
  uint64_t rate_delivered;
  uint64_t rate_interval_us;
  bool rate_app_limited;
} tou_sb_ack_t;

/* segs/cap: caller-owned storage. isn: snd_una at start (the first data
 * sequence number). */
void tou_sb_init(tou_scoreboard_t *sb, tou_sb_seg_t *segs, uint32_t cap, uint32_t mss,
                 tou_seq_t isn);

/* Lets the ring grow: when an entry fills it, it is replaced by one twice
 * as large (at most max_cap entries) from alloc, which must also have
 * provided the ring given to tou_sb_init() (the caller frees sb->segs at
 * the end, whichever it is then). When the allocation fails the ring stays
 * full, as a fixed one would (sending waits for ACKs), and growing is
 * tried again the next time it fills. */
void tou_sb_set_growth(tou_scoreboard_t *sb, const struct tou_allocator *alloc, uint32_t max_cap);

/* Room for another entry. */
static inline bool tou_sb_full(const tou_scoreboard_t *sb) { return sb->count == sb->cap; }
static inline bool tou_sb_empty(const tou_scoreboard_t *sb) { return sb->count == 0; }

/* A new segment [seq, seq+len) was sent at now; seq must equal snd_nxt.
 * Returns TOU_ERR_NOMEM when full, TOU_ERR_INVAL on a gap or len 0. */
int tou_sb_on_send(tou_scoreboard_t *sb, tou_seq_t seq, uint32_t len, uint64_t now);

/* The entry starting at seq was retransmitted at now. TOU_ERR_INVAL if no
 * entry starts there. */
int tou_sb_on_retransmit(tou_scoreboard_t *sb, tou_seq_t seq, uint64_t now);

/* Processes an ACK: cumulative `ack` and SACK blocks (untrusted: blocks that
 * are inverted, outside [snd_una - 2^30, snd_nxt] or partially covering
 * segments are ignored). `min_rtt_us` is used for RACK's spurious check.
 * Returns TOU_OK, or TOU_ERR_INVAL when ack acknowledges unsent data
 * (nothing is changed then). */
int tou_sb_on_ack(tou_scoreboard_t *sb, tou_seq_t ack, const tou_sack_block_t *blocks,
                  size_t nblocks, uint64_t min_rtt_us, uint64_t now, tou_sb_ack_t *out);
/* True when tou_sb_on_ack_ts(sb, ack, NULL, 0, ...) would change nothing
 * and report nothing but prior_in_flight (0): the scoreboard is empty, ack
 * is SND.UNA, and no app-limited mark is waiting to be cleared. */
bool tou_sb_ack_idle(const tou_scoreboard_t *sb, tou_seq_t ack);
/* No timestamp echo for tou_sb_on_ack_ts(). */
#define TOU_SB_NO_ECHO UINT64_MAX
/* The same, knowing from the ACK's timestamp echo (RFC 7323) in which
 * millisecond (now's clock / 1000) the segment that triggered it was sent:
 * a retransmitted segment sent in a later millisecond was delivered by an
 * earlier transmission, so RACK must not take the retransmission's time
 * (RFC 8985 6.2 step 2, timestamp variant). TOU_SB_NO_ECHO: unknown. */
int tou_sb_on_ack_ts(tou_scoreboard_t *sb, tou_seq_t ack, const tou_sack_block_t *blocks,
                     size_t nblocks, uint64_t min_rtt_us, uint64_t echo_ms, uint64_t now,
                     tou_sb_ack_t *out);

/* Marks the entry lost (idempotent; a lost retransmission becomes
 * retransmittable again). Returns true if the mark is new. */
bool tou_sb_mark_lost(tou_scoreboard_t *sb, tou_sb_seg_t *seg);

/* Takes back every loss mark (the losses were spurious, undo.h): nothing
 * is owed a retransmission any more; segments retransmitted stay in
 * flight once. Returns the number of entries unmarked. */
uint32_t tou_sb_unmark_lost(tou_scoreboard_t *sb);

/* First entry that is lost and not yet retransmitted (and not SACKed), or NULL. */
tou_sb_seg_t *tou_sb_next_lost(tou_scoreboard_t *sb);

/* Entry i (0 = lowest sequence), for iteration. */
static inline tou_sb_seg_t *tou_sb_at(tou_scoreboard_t *sb, uint32_t i) {
  return &sb->segs[(sb->head + i) % sb->cap];
}
tou_sb_seg_t *tou_sb_find(tou_scoreboard_t *sb, tou_seq_t seq);
/* Splits the entry starting at seq into [seq, seq+first_len) and the rest;
 * both halves keep its flags and transmission record. TOU_ERR_INVAL when no
 * entry starts at seq or first_len is not inside it, TOU_ERR_NOMEM when
 * full. */
int tou_sb_split(tou_scoreboard_t *sb, tou_seq_t seq, uint32_t first_len);

/* Bytes in flight for cwnd comparisons: pipe minus duplicate-ACK credit. */
uint64_t tou_sb_in_flight(const tou_scoreboard_t *sb);

/* Without SACK: a duplicate ACK means one more segment left the network
 * (RFC 6675 / Linux "reno sack"); credited up to outstanding - 1 MSS. */
void tou_sb_on_dupack(tou_scoreboard_t *sb);

/* The application has nothing more to send while the window is open:
 * delivery-rate samples until this data is delivered are app-limited. */
void tou_sb_on_app_limited(tou_scoreboard_t *sb);

#endif

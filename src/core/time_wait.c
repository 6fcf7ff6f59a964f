#include "time_wait.h"

#include <string.h>

#include "alloc.h"
#include "endpoint.h"

static size_t bucket_of(const tou_tw_table_t *t, uint32_t cid) {
  return (size_t)((cid * 0x9E3779B1u) >> 8) & t->mask;
}

int tw_table_init(tou_tw_table_t *t, unsigned max, const tou_allocator_t *alloc) {
  memset(t, 0, sizeof *t);
  t->max = max;
  t->alloc = alloc;
  list_init(&t->fifo);
  size_t n = 16;
  while (n < max && n < (1u << 20)) n *= 2;
  t->buckets = tou_mem_alloc(alloc, n * sizeof *t->buckets);
  if (t->buckets == NULL) return TOU_ERR_NOMEM;
  memset(t->buckets, 0, n * sizeof *t->buckets);
  t->mask = n - 1;
  return TOU_OK;
}

void tw_table_free(tou_tw_table_t *t) {
  while (!list_empty(&t->fifo)) tw_remove(t, tou_container_of(t->fifo.next, tou_tw_t, link));
  tou_mem_free(t->alloc, t->buckets);
  t->buckets = NULL;
}

tou_tw_t *tw_lookup(const tou_tw_table_t *t, uint32_t local_cid) {
  for (tou_tw_t *tw = t->buckets[bucket_of(t, local_cid)]; tw; tw = tw->hnext)
    if (tw->local_cid == local_cid) return tw;
  return NULL;
}

tou_tw_t *tw_insert(tou_tw_table_t *t, uint32_t local_cid, uint64_t expires) {
  if (t->max == 0) return NULL;
  if (t->count >= t->max) tw_remove(t, tou_container_of(t->fifo.next, tou_tw_t, link));
  tou_tw_t *tw = tou_mem_alloc(t->alloc, sizeof *tw);
  if (tw == NULL) return NULL;
  memset(tw, 0, sizeof *tw);
  tw->local_cid = local_cid;
  tw->expires = expires;
  size_t b = bucket_of(t, local_cid);
  tw->hnext = t->buckets[b];
  t->buckets[b] = tw;
  list_push_back(&t->fifo, &tw->link);
  t->count++;
  return tw;
}

void tw_remove(tou_tw_table_t *t, tou_tw_t *tw) {
  for (tou_tw_t **pp = &t->buckets[bucket_of(t, tw->local_cid)]; *pp; pp = &(*pp)->hnext) {
    if (*pp == tw) {
      *pp = tw->hnext;
      break;
    }
  }
  list_remove(&tw->link);
  t->count--;
  tou_mem_free(t->alloc, tw);
}

void tw_restart(tou_tw_table_t *t, tou_tw_t *tw, uint64_t expires) {
  tw->expires = expires;
  list_remove(&tw->link);
  list_push_back(&t->fifo, &tw->link);
}

uint64_t tw_deadline(const tou_tw_table_t *t) {
  const tou_list_t *f = list_front(&t->fifo);
  return f ? tou_container_of(f, tou_tw_t, link)->expires : TOU_NEVER;
}

tou_tw_t *tw_first_expired(const tou_tw_table_t *t, uint64_t now) {
  tou_list_t *f = list_front(&t->fifo);
  if (f == NULL) return NULL;
  tou_tw_t *tw = tou_container_of(f, tou_tw_t, link);
  return tw->expires <= now ? tw : NULL;
}

static void tw_send_ack(tou_ep_t *ep, const tou_tw_t *tw, uint64_t now) {
  tou_segment_t s;
  memset(&s, 0, sizeof s);
  s.flags = TOU_ACK;
  s.dst_cid = tw->remote_cid;
  s.src_cid = tw->local_cid;
  s.seq = tw->snd_nxt;
  s.ack = tw->rcv_nxt;
  if (tw->ts_ok) {
    s.opts.present = TOU_OPT_TIMESTAMP;
    s.opts.ts_val = (uint32_t)(now / 1000) + tw->ts_offset;
    s.opts.ts_ecr = tw->ts_recent;
  }
  ep_queue_reply(ep, &tw->peer, &s);
}

/* RFC 9293 3.10.7.4 in TIME-WAIT, with RFC 1337 and RFC 5961. */
void tw_input(tou_ep_t *ep, tou_tw_t *tw, uint64_t now, const tou_segment_t *seg) {
  if (seg->flags & TOU_RST) return; /* RFC 1337: a RST must not cut TIME-WAIT short */
  if (seg->flags & TOU_SYN) {
    /* RFC 5961 4.2: a SYN in a synchronized state gets a challenge ACK. */
    if (ep_challenge_ack_allowed(ep, now)) tw_send_ack(ep, tw, now);
    return;
  }
  if (tw->ts_ok && (seg->opts.present & TOU_OPT_TIMESTAMP)) tw->ts_recent = seg->opts.ts_val;
  if (seg->flags & TOU_FIN) {
    /* The only thing that can arrive legitimately: the peer's FIN again,
     * because our ACK of it was lost. Re-ACK it and restart 2*MSL. */
    tw_send_ack(ep, tw, now);
    tw_restart(&ep->tw, tw, now + 2 * ep->cfg.msl_us);
    return;
  }
  /* Data in TIME-WAIT is old or forged: an ACK resynchronises a confused
   * peer; a bare ACK gets nothing (no ACK loops). */
  if (seg->payload_len > 0) tw_send_ack(ep, tw, now);
}

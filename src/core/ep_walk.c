/* tou_ep_walk(): every connection object and TIME_WAIT record of an
 * endpoint, one row each, for an ss/netstat-like listing (issue 7: many
 * SYN_RCVD lines must be visible during a SYN flood). */
#include <string.h>

#include "endpoint.h"

static void conn_row(const tou_conn_t *c, tou_conn_info_t *info, tou_ep_row_t *row) {
  tou_conn_get_info(c, info);
  memset(row, 0, sizeof *row);
  row->conn = c;
  row->state = c->state;
  row->peer = &c->peer;
  row->local_cid = c->local_cid;
  row->remote_cid = c->remote_cid;
  row->app_owned = c->owner == CONN_OWNER_APP;
  row->send_queued = tou_conn_send_queued(c);
  row->recv_queued = recvbuf_ready(&c->rb);
  row->srtt_us = info->srtt_us;
  row->cwnd = info->cwnd;
  row->info = info;
}

static void tw_row(const tou_tw_t *tw, tou_ep_row_t *row) {
  memset(row, 0, sizeof *row);
  row->state = TOU_TIME_WAIT;
  row->peer = &tw->peer;
  row->local_cid = tw->local_cid;
  row->remote_cid = tw->remote_cid;
  row->expires = tw->expires;
}

void tou_ep_walk(const tou_ep_t *ep, tou_ep_walk_fn cb, void *ctx) {
  tou_conn_info_t info;
  tou_ep_row_t row;
  for (const tou_list_t *l = ep->all.next; l != &ep->all; l = l->next) {
    const tou_conn_t *c = tou_container_of(l, tou_conn_t, all_link);
    /* A connection the application still holds after entering TIME_WAIT
     * is also a record: list it once, as the record. */
    if (c->state == TOU_TIME_WAIT && tw_lookup(&ep->tw, c->local_cid) != NULL) continue;
    conn_row(c, &info, &row);
    cb(ctx, &row);
  }
  for (const tou_list_t *l = ep->tw.fifo.next; l != &ep->tw.fifo; l = l->next) {
    tw_row(tou_container_of(l, tou_tw_t, link), &row);
    cb(ctx, &row);
  }
}

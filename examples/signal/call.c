/* One side of a scripted WebRTC call set-up, checking what arrives:
 *   caller: join -> (peer joins) -> offer -> answer <- -> K candidates both
 *           ways -> bye (with --hold: trickle candidates, then bye)
 *   callee: join -> offer <- -> answer -> K candidates both ways -> bye <-
 *           -> bye */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

void agent_send(agent_t *a, char *text) {
  if (!text) {
    agent_fail(a, "out of memory");
    return;
  }
  int r = sconn_send(&a->conn, text);
  if (a->app->verbose) agent_say(a, "SEND %s", text);
  sig_text_free(text);
  if (r < 0) agent_fail(a, "send: %s", uv_err_name(r));
}

/* The SDP and candidates name their sender, so that the receiver can check
 * that it got its peer's and not anyone else's. */
static char *build_offer_or_answer(agent_t *a, sig_type_t t) {
  char sdp[256];
  snprintf(sdp, sizeof sdp,
           "v=0\r\no=%s 1 1 IN IP4 127.0.0.1\r\ns=tou call in %s\r\n"
           "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n",
           a->name, a->room);
  return sig_build_sdp(t, sdp, NULL);
}

static void send_candidates(agent_t *a) {
  for (; a->cand_sent < a->cand_target; a->cand_sent++) {
    char cand[160];
    snprintf(cand, sizeof cand, "candidate:%u 1 udp %u 127.0.0.1 %u typ host %s", a->cand_sent,
             2130706431u - a->cand_sent, 50000 + a->cand_sent, a->name);
    agent_send(a, sig_build_candidate(cand, "0", 0, NULL));
  }
}

static void finish_call(agent_t *a) {
  a->phase = PH_CLOSING;
  sconn_shutdown(&a->conn);
}

static void hang_up(agent_t *a) {
  agent_send(a, sig_build_bye("hang up"));
  agent_say(a, "call complete");
  finish_call(a);
}

static void on_hang_up(uv_timer_t *t) {
  agent_t *a = t->data;
  uv_timer_stop(&a->trickle);
  if (a->phase == PH_IN_CALL) hang_up(a);
}

/* Trickle ICE: candidates keep coming during the call. It also keeps data
 * flowing through the server to the peer, which is what lets the server's
 * link probe notice when that peer stops answering. */
static void on_trickle(uv_timer_t *t) {
  agent_t *a = t->data;
  if (a->phase != PH_IN_CALL) return;
  a->cand_target++; /* the peer checks the numbering, not the total */
  send_candidates(a);
}

static void check_candidate(agent_t *a, const sig_msg_t *m) {
  char want[160];
  snprintf(want, sizeof want, "candidate:%u ", a->cand_recv);
  if (strncmp(m->candidate, want, strlen(want)) || !strstr(m->candidate, a->peer)) {
    agent_fail(a, "candidate %u out of order or from the wrong peer: %s", a->cand_recv, m->candidate);
    return;
  }
  a->cand_recv++;
}

static bool from_peer(agent_t *a, const sig_msg_t *m) {
  if (!a->peer[0]) snprintf(a->peer, sizeof a->peer, "%s", m->from);
  if (strcmp(a->peer, m->from)) {
    agent_fail(a, "%s from %s, expected only %s", sig_type_name(m->type), m->from, a->peer);
    return false;
  }
  return true;
}

void call_on_message(agent_t *a, const sig_msg_t *m) {
  if (m->type == SIG_PEER_LINK) {
    printf("PEER-LINK %s room=%s %s %s\n", a->name, a->room, m->name, m->state);
    fflush(stdout);
    return;
  }
  if (m->type == SIG_ERROR) {
    agent_fail(a, "server error %s: %s", m->code, m->message);
    return;
  }
  switch (a->phase) {
    case PH_JOINING:
      if (m->type != SIG_JOINED) break;
      if (a->role == ROLE_CALLEE) {
        a->phase = PH_WAIT_OFFER;
      } else if (cJSON_GetArraySize(m->members) > 0) {
        snprintf(a->peer, sizeof a->peer, "%s", cJSON_GetArrayItem(m->members, 0)->valuestring);
        a->phase = PH_WAIT_ANSWER;
        agent_send(a, build_offer_or_answer(a, SIG_OFFER));
      } else {
        a->phase = PH_WAIT_PEER;
      }
      return;
    case PH_WAIT_PEER:
      if (m->type != SIG_JOIN || !from_peer(a, m)) break;
      a->phase = PH_WAIT_ANSWER;
      agent_send(a, build_offer_or_answer(a, SIG_OFFER));
      return;
    case PH_WAIT_OFFER:
      if (m->type == SIG_JOIN) return; /* the caller arriving; its offer follows */
      if (m->type != SIG_OFFER || !from_peer(a, m)) break;
      if (!strstr(m->sdp, a->peer)) {
        agent_fail(a, "offer does not come from %s", a->peer);
        return;
      }
      agent_send(a, build_offer_or_answer(a, SIG_ANSWER));
      send_candidates(a);
      a->phase = PH_CANDIDATES;
      return;
    case PH_WAIT_ANSWER:
      if (m->type != SIG_ANSWER || !from_peer(a, m)) break;
      if (!strstr(m->sdp, a->peer)) {
        agent_fail(a, "answer does not come from %s", a->peer);
        return;
      }
      send_candidates(a);
      a->phase = PH_CANDIDATES;
      if (a->cand_recv == a->app->candidates) goto all_candidates;
      return;
    case PH_CANDIDATES:
      if (m->type != SIG_CANDIDATE || !from_peer(a, m)) break;
      check_candidate(a, m);
      if (a->phase != PH_CANDIDATES || a->cand_recv < a->app->candidates) return;
    all_candidates:
      if (a->role == ROLE_CALLER && a->app->hold_ms) {
        a->phase = PH_IN_CALL;
        uv_timer_start(&a->linger, on_hang_up, a->app->hold_ms, 0);
        uv_timer_start(&a->trickle, on_trickle, 500, 500);
      } else if (a->role == ROLE_CALLER) {
        hang_up(a);
      } else {
        a->phase = PH_WAIT_BYE;
      }
      return;
    case PH_WAIT_BYE:
      if (m->type == SIG_CANDIDATE && from_peer(a, m)) {
        check_candidate(a, m); /* trickled during the call */
        return;
      }
      if (m->type != SIG_BYE || !from_peer(a, m)) break;
      agent_send(a, sig_build_bye("hang up"));
      agent_say(a, "call complete");
      finish_call(a);
      return;
    default: break;
  }
  agent_fail(a, "unexpected %s in phase %d", sig_type_name(m->type), (int)a->phase);
}


#include "cookie_replay.h"

#include <string.h>

void cookie_replay_init(cookie_replay_t *r) { memset(r, 0, sizeof *r); }

bool cookie_replay_check_and_add(cookie_replay_t *r, uint64_t counter, uint64_t hash) {
  unsigned g = (unsigned)(counter & 1u);
  if (!r->used[g] || r->counter[g] != counter) {
    /* This slot held a period two or more back: its cookies have expired. */
    memset(r->bits[g], 0, sizeof r->bits[g]);
    r->used[g] = true;
    r->counter[g] = counter;
  }
  bool seen = true;
  for (unsigned k = 0; k < 3; k++) {
    unsigned bit = (unsigned)(hash >> (16 * k)) & ((1u << TOU_COOKIE_REPLAY_BITS) - 1);
    uint8_t m = (uint8_t)(1u << (bit & 7));
    if (!(r->bits[g][bit >> 3] & m)) seen = false;
    r->bits[g][bit >> 3] |= m;
  }
  return seen;
}

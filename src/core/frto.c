#include "frto.h"

void tou_frto_on_rto(tou_frto_t *f, bool ts_ok, bool in_fast_recovery, tou_seq_t snd_max,
                     uint64_t now) {
  if (f->step == TOU_FRTO_AFTER_RTO) return; /* a repeated timeout: same test */
  if (ts_ok || in_fast_recovery || f->step == TOU_FRTO_AFTER_NEW) {
    /* RFC 5682: a timeout while new data probes (step 2) means loss. */
    f->step = TOU_FRTO_OFF;
    return;
  }
  f->step = TOU_FRTO_AFTER_RTO;
  f->recover = snd_max;
  f->rto_us = now;
}

tou_frto_action_t tou_frto_on_ack(tou_frto_t *f, tou_seq_t snd_una, uint32_t newly_acked) {
  switch (f->step) {
    case TOU_FRTO_OFF: return TOU_FRTO_NONE;
    case TOU_FRTO_AFTER_RTO:
      /* RFC 5682 2.a: a duplicate ACK, or one acknowledging everything up
       * to recover, leaves nothing to test. */
      if (newly_acked == 0 || seq_geq(snd_una, f->recover)) {
        f->step = TOU_FRTO_OFF;
        return TOU_FRTO_CONVENTIONAL;
      }
      f->step = TOU_FRTO_AFTER_NEW; /* 2.b */
      return TOU_FRTO_SEND_NEW;
    case TOU_FRTO_AFTER_NEW:
      f->step = TOU_FRTO_OFF;
      /* 3.b: new data acknowledged that was never retransmitted. */
      return newly_acked > 0 ? TOU_FRTO_SPURIOUS : TOU_FRTO_CONVENTIONAL;
  }
  return TOU_FRTO_NONE;
}

#!/usr/bin/env bash
# Two chat peers through tou-netem with 10 % loss each way and a 10 s
# blackout (2 s to 12 s after the first datagram). Both keep typing through
# it. Every message must arrive exactly once and in order, and both sides
# must report the link silent and then back. (Both cap the retransmission
# timeout at 2 s, as an interactive application would, so that the
# conversation resumes within 2 s of the path's return rather than after
# tou's default exponential backoff of up to 60 s.)
# a lingers 6 s in TIME_WAIT (as in chat_loss.sh): a lost ACK of b's FIN must
# still be answered when b retransmits it, up to 2 s later, twice. Each side
# waits for its link to be back ('/wait back') before its last /state, and a
# before it quits: b's lines may all arrive the moment the path heals, while
# the probe exchange that brings the link back is still in flight.
BUILD=$1
. "$(dirname "$0")/lib.sh"
N=30
{ for i in $(seq 1 $N); do echo "+300 a-$i"; done; echo "/wait $N"; echo "/wait back"; echo "/state"; echo "/quit"; } >"$WORK/a.script"
{ for i in $(seq 1 $N); do echo "+300 b-$i"; done; echo "/wait back"; echo "/state"; } >"$WORK/b.script"

start b "$CHAT" --listen 0 --bind 127.0.0.1 --name b --script "$WORK/b.script" --timeout 45 --max-rto 2000
B=$LAST_PID
wait_line "$WORK/b.log" '^EVENT listening' 5 || die "b did not start"
netem_start netem "$(port_of "$WORK/b.log" '^EVENT listening')" --loss 10% --blackout 2:10 --seed 7
start a "$CHAT" 127.0.0.1 "$NETEM_PORT" --name a --script "$WORK/a.script" --timeout 45 --max-rto 2000 \
  --linger 6000
A=$LAST_PID

wait_pid $A 50 || die "a did not finish"
[ "$WAIT_STATUS" = 0 ] || die "a exited with $WAIT_STATUS"
wait_pid $B 10 || die "b did not finish"
[ "$WAIT_STATUS" = 0 ] || die "b exited with $WAIT_STATUS"

# Exactly once, in order: the received list equals the sent list.
check_lines_each_way a b $N
echo "ok: $N messages each way, once, in order, through loss and a 10 s blackout"

# The link verdicts: silent, later back, on both sides.
for side in a b; do
  grep -E '^EVENT link (silent|back)' "$WORK/$side.log" | tr '\n' ' ' >"$WORK/$side.links"
  grep -qE 'EVENT link silent .*EVENT link back' "$WORK/$side.links" ||
    die "$side did not report silent then back (saw: $(cat "$WORK/$side.links"); $(grep -m1 'link-probe' "$WORK/$side.log"))"
done
echo "ok: both sides reported the link silent, then back"
grep '^STATE' "$WORK/a.log" "$WORK/b.log"

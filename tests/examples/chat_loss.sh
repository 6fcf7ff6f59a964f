#!/usr/bin/env bash
# Two chat peers through tou-netem with 10 % loss each way and a 3 s
# blackout: every message arrives exactly once and in order, and the close
# is the four-way close with the active closer in TIME_WAIT.
# The active closer lingers 6 s in TIME_WAIT: with 10 % loss the peer's FIN
# or our ACK of it may be lost twice, and the peer, in LAST_ACK, needs an
# answer to its retransmitted FIN to finish. (The 10 s
# blackout with the silent/back verdicts is chat_blackout.sh.)
BUILD=$1
. "$(dirname "$0")/lib.sh"
N=20
{ for i in $(seq 1 $N); do echo "+100 from a, line $i"; done; echo "/wait $N"; echo "/quit"; } >"$WORK/a.script"
{ for i in $(seq 1 $N); do echo "+100 from b, line $i"; done; } >"$WORK/b.script"

start b "$CHAT" --listen 0 --bind 127.0.0.1 --script "$WORK/b.script" --timeout 40
B=$LAST_PID
wait_line "$WORK/b.log" '^EVENT listening' 5 || die "b did not start"
netem_start netem "$(port_of "$WORK/b.log" '^EVENT listening')" --loss 10% --blackout 1:3 --seed 11
start a "$CHAT" 127.0.0.1 "$NETEM_PORT" --script "$WORK/a.script" --timeout 40 --linger 6000
A=$LAST_PID

wait_pid $A 45 || die "a did not finish"
[ "$WAIT_STATUS" = 0 ] || die "a exited with $WAIT_STATUS"
wait_pid $B 10 || die "b did not finish"
[ "$WAIT_STATUS" = 0 ] || die "b exited with $WAIT_STATUS"
check_lines_each_way a b $N
# Under loss the active closer may reach TIME_WAIT from FIN_WAIT_2, from
# FIN_WAIT_1 (the peer's FIN carries the ACK of ours) or from CLOSING (the
# FINs crossed): all are four-way closes (RFC 9293 Figures 12 and 13).
grep -Eq 'EVENT state (FIN_WAIT_1|FIN_WAIT_2|CLOSING) -> TIME_WAIT' "$WORK/a.log" ||
  die "a (active closer) did not reach TIME_WAIT"
grep -q 'EVENT state ESTABLISHED -> FIN_WAIT_1' "$WORK/a.log" || die "a did not close actively"
grep -q 'EVENT state LAST_ACK -> CLOSED' "$WORK/b.log" || die "b (passive closer) did not go LAST_ACK -> CLOSED"
echo "ok: $N messages each way through 10 % loss and a 3 s blackout; four-way close"

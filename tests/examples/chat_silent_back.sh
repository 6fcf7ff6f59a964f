#!/usr/bin/env bash
# The chat's "can you hear me?" story without random loss: a and b keep
# typing through an 8 s blackout of tou-netem (1 s to 9 s after the first
# datagram). Both sides must report the link silent, then back; lines typed
# while it was silent must be delivered after it, exactly once and in order.
# (chat_blackout.sh adds 10 % loss and a 10 s blackout.)
BUILD=$1
. "$(dirname "$0")/lib.sh"
N=25
{ for i in $(seq 1 $N); do echo "+400 a-$i"; done; echo "/wait $N"; echo "/quit"; } >"$WORK/a.script"
{ for i in $(seq 1 $N); do echo "+400 b-$i"; done; } >"$WORK/b.script"
OPTS=(--timeout 40 --max-rto 2000 --linger 1000)

start b "$CHAT" --listen 0 --bind 127.0.0.1 --script "$WORK/b.script" "${OPTS[@]}"
B=$LAST_PID
wait_line "$WORK/b.log" '^EVENT listening' 5 || die "b did not start"
netem_start netem "$(port_of "$WORK/b.log" '^EVENT listening')" --blackout 1:8 --seed 1
start a "$CHAT" 127.0.0.1 "$NETEM_PORT" --script "$WORK/a.script" "${OPTS[@]}"
A=$LAST_PID

wait_pid $A 45 || die "a did not finish"
[ "$WAIT_STATUS" = 0 ] || die "a exited with $WAIT_STATUS"
wait_pid $B 10 || die "b did not finish"
[ "$WAIT_STATUS" = 0 ] || die "b exited with $WAIT_STATUS"
check_lines_each_way a b $N
for from in a b; do
  # silent, then at least one line typed, then back
  grep -E '^(EVENT link (silent|back)|SENT )' "$WORK/$from.log" |
    awk '/link silent/ {s=1} s && /^SENT/ {t=1} t && /link back/ {ok=1} END {exit !ok}' ||
    die "$from: no 'silent', line typed, 'back' sequence: $(grep -E '^EVENT link' "$WORK/$from.log" | tr '\n' ' ')"
done
echo "ok: both sides went silent and came back; lines typed while silent arrived once, in order"

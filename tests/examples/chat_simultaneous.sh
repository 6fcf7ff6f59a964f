#!/usr/bin/env bash
# Simultaneous open: two chat peers in --peer mode, each bound to its own
# port and connecting to the other at once (the peer-to-peer case after NAT
# hole punching). Each side's SYN_SENT connection takes the other's SYN, so
# at least one side goes SYN_SENT -> SYN_RCVD -> ESTABLISHED (RFC 9293
# figure 7); then messages flow both ways.
BUILD=$1
. "$(dirname "$0")/lib.sh"
printf '+50 hello from a\n+50 a again\n/wait 2\n/quit\n' >"$WORK/a.script"
printf '+50 hello from b\n+50 b again\n' >"$WORK/b.script"

for attempt in 1 2 3 4 5; do
  PA=$(random_port) PB=$(random_port)
  [ "$PA" != "$PB" ] || continue
  start a "$CHAT" --peer 127.0.0.1 "$PB" --port "$PA" --bind 127.0.0.1 --script "$WORK/a.script" --timeout 20 --linger 500
  A=$LAST_PID
  start b "$CHAT" --peer 127.0.0.1 "$PA" --port "$PB" --bind 127.0.0.1 --script "$WORK/b.script" --timeout 20
  B=$LAST_PID
  wait_pid $A 25 || die "a did not finish"
  SA=$WAIT_STATUS
  wait_pid $B 10 || die "b did not finish"
  SB=$WAIT_STATUS
  # A port in use by someone else: pick others.
  if grep -q 'cannot use' "$WORK/a.log" "$WORK/b.log"; then continue; fi
  break
done
[ "$SA" = 0 ] || die "a exited with $SA"
[ "$SB" = 0 ] || die "b exited with $SB"
grep -q '^EVENT connected' "$WORK/a.log" || die "a never connected"
grep -q '^EVENT connected' "$WORK/b.log" || die "b never connected"
grep -q 'EVENT state SYN_SENT -> SYN_RCVD' "$WORK/a.log" "$WORK/b.log" ||
  die "neither side went SYN_SENT -> SYN_RCVD: not a simultaneous open"
diff <(printf 'hello from a\na again\n') <(sed -n 's/^RECV //p' "$WORK/b.log") >/dev/null || die "b did not get a's lines"
diff <(printf 'hello from b\nb again\n') <(sed -n 's/^RECV //p' "$WORK/a.log") >/dev/null || die "a did not get b's lines"
echo "ok: simultaneous open ($(grep -l 'SYN_SENT -> SYN_RCVD' "$WORK"/a.log "$WORK"/b.log | xargs -n1 basename | tr '\n' ' ')went through SYN_RCVD), messages both ways"

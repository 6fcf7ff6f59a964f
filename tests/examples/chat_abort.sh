#!/usr/bin/env bash
# Ctrl-C twice aborts. a calls b through tou-netem, which from 1 s on drops
# everything b sends, so a's graceful close (the first Ctrl-C) cannot finish;
# the second Ctrl-C resets the connection: a says so and exits 1, and b
# receives the RST and ends too.
BUILD=$1
. "$(dirname "$0")/lib.sh"
echo '/wait 1000' >"$WORK/idle.script"
start b "$CHAT" --listen 0 --bind 127.0.0.1 --trace --script "$WORK/idle.script" --timeout 30
B=$LAST_PID
wait_line "$WORK/b.log" '^EVENT listening' 5 || die "b did not start"
netem_start netem "$(port_of "$WORK/b.log" '^EVENT listening')" --down --blackout 1:30 --seed 1
start a "$CHAT" 127.0.0.1 "$NETEM_PORT" --script "$WORK/idle.script" --timeout 30
A=$LAST_PID
wait_line "$WORK/a.log" '^EVENT connected' 5 || die "a did not connect"
sleep 1.5 # inside the blackout of b -> a
kill -INT $A
wait_line "$WORK/a.log" 'Ctrl-C again' 5 || die "a did not start closing on the first Ctrl-C"
kill -INT $A
wait_pid $A 10 || die "a did not exit after the second Ctrl-C"
[ "$WAIT_STATUS" = 1 ] || die "a exited with $WAIT_STATUS, expected 1 (aborted)"
grep -q 'aborted by Ctrl-C (RST sent)' "$WORK/a.log" || die "a did not report the abort"
wait_line "$WORK/b.log" 'segment received RST' 5 || die "b did not receive the RST"
wait_pid $B 10 || die "b did not end after the RST"
echo "ok: first Ctrl-C closes gracefully, second aborts with RST; the peer sees the reset"

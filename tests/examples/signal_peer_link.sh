#!/usr/bin/env bash
# The server watches each member's link and tells the room. A call is set
# up; the callee reaches the server through tou-netem, which blacks out
# 1 s to 6 s after the callee's first datagram; the server probes after
# 0.5 s without an answer and calls the link silent 3 s later (shorter than
# the 5 s default, to keep the test short). The caller, connected
# directly, holds the call for 9 s and trickles candidates meanwhile (so the
# server has data to the callee outstanding, which is when tou probes); it
# must be told
# {"type":"peer-link","name":"callee","state":"silent"} and later "back",
# and the call must still end normally. The caller joins first (it waits
# for its peer): it must be in the room before the callee's link goes
# silent, however long a process takes to start (valgrind: seconds).
BUILD=$1
. "$(dirname "$0")/lib.sh"
start server "$SERVER" 0 --host 127.0.0.1 --probe-idle 500 --silent 3000 --max-rto 1000
wait_line "$WORK/server.log" '^EVENT listening' 5 || die "server did not start"
PORT=$(port_of "$WORK/server.log" '^EVENT listening')
netem_start netem "$PORT" --blackout 1:5 --seed 5
start caller "$CLIENT" 127.0.0.1 "$PORT" --role caller --room watch --hold 9000 --timeout 40
CALLER=$LAST_PID
wait_line "$WORK/server.log" 'join .*name=caller' 5 || die "caller did not join"
start callee "$CLIENT" 127.0.0.1 "$NETEM_PORT" --role callee --room watch --timeout 40
CALLEE=$LAST_PID
wait_pid $CALLER 45 || die "caller did not finish"
[ "$WAIT_STATUS" = 0 ] || die "caller failed"
wait_pid $CALLEE 20 || die "callee did not finish"
[ "$WAIT_STATUS" = 0 ] || die "callee failed"
grep -E '^PEER-LINK caller' "$WORK/caller.log" | tr '\n' ' ' >"$WORK/seen"
grep -qE 'callee silent.*callee back' "$WORK/seen" ||
  die "caller was not told silent then back (saw: $(cat "$WORK/seen"); server: $(grep -m1 link-probe "$WORK/server.log"))"
echo "ok: the room was told the callee's link went silent and came back"

#!/usr/bin/env bash
# A signalling call through tou-netem with 10 % loss each way: caller and
# callee join one room and exchange offer, answer, 5 ICE candidates each and
# bye; each checks every message it receives (type, order, sender).
BUILD=$1
. "$(dirname "$0")/lib.sh"
start server "$SERVER" 0 --host 127.0.0.1
wait_line "$WORK/server.log" '^EVENT listening' 5 || die "server did not start"
netem_start netem "$(port_of "$WORK/server.log" '^EVENT listening')" --loss 10% --seed 3
start caller "$CLIENT" 127.0.0.1 "$NETEM_PORT" --role caller --room call --candidates 5 --timeout 40 -v
C1=$LAST_PID
start callee "$CLIENT" 127.0.0.1 "$NETEM_PORT" --role callee --room call --candidates 5 --timeout 40 -v
C2=$LAST_PID
wait_pid $C1 45 || die "caller did not finish"
[ "$WAIT_STATUS" = 0 ] || die "caller failed"
wait_pid $C2 45 || die "callee did not finish"
[ "$WAIT_STATUS" = 0 ] || die "callee failed"
for who in caller callee; do
  grep -q "^RESULT ok" "$WORK/$who.log" || die "$who: no RESULT ok"
  [ "$(grep -c '"type":"candidate"' "$WORK/$who.log")" -ge 10 ] || die "$who: candidates missing"
done
grep -q '"type":"bye".*"from":"caller"' "$WORK/callee.log" || die "callee did not get the bye"
echo "ok: offer/answer/candidates/bye through 10 % loss"

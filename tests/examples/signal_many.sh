#!/usr/bin/env bash
# 100 clients in 50 rooms at once: 50 calls (caller + callee per room), each
# client with its own socket, against one server.
BUILD=$1
. "$(dirname "$0")/lib.sh"
start server "$SERVER" 0 --host 127.0.0.1
S=$LAST_PID
wait_line "$WORK/server.log" '^EVENT listening' 5 || die "server did not start"
PORT=$(port_of "$WORK/server.log" '^EVENT listening')
start clients "$CLIENT" 127.0.0.1 "$PORT" --pairs 50 --room many --timeout 40
C=$LAST_PID
wait_pid $C 45 || die "clients did not finish"
[ "$WAIT_STATUS" = 0 ] || die "some calls failed: $(grep FAIL "$WORK/clients.log" | head -3)"
grep -q '^RESULT ok clients=100 failed=0' "$WORK/clients.log" || die "no RESULT ok"
[ "$(grep -c '^EVENT join ' "$WORK/server.log")" = 100 ] || die "server did not see 100 joins"
[ "$(grep -oE 'room=many-[0-9]+' "$WORK/server.log" | sort -u | wc -l)" = 50 ] || die "not 50 rooms"
grep -q '^EVENT error' "$WORK/server.log" && die "server reported errors"
echo "ok: 100 clients, 50 rooms, 50 calls"

#!/usr/bin/env bash
# Malformed and oversized messages are refused with a named error, and do
# not disturb anyone else: a hostile client (signal_hostile) runs its steps
# while two calls go on in other rooms; afterwards the server still serves a
# new call.
BUILD=$1
. "$(dirname "$0")/lib.sh"
start server "$SERVER" 0 --host 127.0.0.1
S=$LAST_PID
wait_line "$WORK/server.log" '^EVENT listening' 5 || die "server did not start"
PORT=$(port_of "$WORK/server.log" '^EVENT listening')
start calls "$CLIENT" 127.0.0.1 "$PORT" --pairs 2 --room during --candidates 20 --timeout 30
CALLS=$LAST_PID
# A member of the hostile client's own room, printing what reaches it.
start watcher "$CLIENT" 127.0.0.1 "$PORT" --room hostile --name watcher --watch
W=$LAST_PID
wait_line "$WORK/server.log" 'join .*name=watcher' 5 || die "watcher did not join"
start hostile "$HOSTILE" 127.0.0.1 "$PORT"
H=$LAST_PID
wait_pid $H 30 || die "hostile client did not finish"
[ "$WAIT_STATUS" = 0 ] || die "hostile steps failed: $(grep FAIL "$WORK/hostile.log" | head -3)"
wait_pid $CALLS 30 || die "calls did not finish"
[ "$WAIT_STATUS" = 0 ] || die "the calls beside the hostile client failed"
kill -0 $S 2>/dev/null || die "server died"
kill -TERM $W # the watcher leaves
wait_pid $W 10 || die "watcher did not finish"
# The watcher saw its own join, mallory arrive and mallory vanish — nothing
# of the refused messages.
sed -n 's/^RECV //p' "$WORK/watcher.log" | sed 's/"members":\[[^]]*\],//' >"$WORK/watched"
diff "$WORK/watched" - >/dev/null <<'EOF2' || die "the watcher saw more than join and bye: $(cat "$WORK/watched")"
{"type":"joined","room":"hostile","name":"watcher"}
{"type":"join","room":"hostile","name":"mallory","from":"mallory"}
{"type":"bye","reason":"disconnected","from":"mallory"}
EOF2
start after "$CLIENT" 127.0.0.1 "$PORT" --pairs 1 --room after --timeout 20
wait_pid $LAST_PID 25 || die "call after did not finish"
[ "$WAIT_STATUS" = 0 ] || die "the call after the hostile client failed"
grep -c '^ok' "$WORK/hostile.log" | xargs echo "hostile steps passed:"
echo "ok: every bad message refused with its error; other calls unaffected; server still serving"

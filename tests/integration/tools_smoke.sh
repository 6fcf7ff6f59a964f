#!/usr/bin/env bash
# The command-line tools end to end: a toucat listener, tou-netem in front of
# it (1 % loss and reordering each way, seeded), a toucat client; 1 MiB each
# way must arrive byte-exact, and tou-netem must print its counters on SIGINT.
# Usage: tools_smoke.sh TOUCAT TOU_NETEM
# TOU_TEST_WRAP, when set (the valgrind build sets tests/valgrind.sh), goes
# before each program started; TOU_TEST_TIMEOUT_SCALE multiplies the waits.
set -euo pipefail
wrap=${TOU_TEST_WRAP:-}
scale=${TOU_TEST_TIMEOUT_SCALE:-1}
toucat=$1
netem=$2
dir=$(mktemp -d)
pids=()
cleanup() {
  status=$?
  for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done
  if [ $status -ne 0 ]; then
    sleep 0.2
    for f in server.err client.err netem.out netem.err; do
      echo "--- $f"; tail -n 40 "$dir/$f" 2>/dev/null || true
    done
    ls -l "$dir"
  fi
  rm -rf "$dir"
}
trap cleanup EXIT

head -c 1048576 /dev/urandom > "$dir/up.bin"
head -c 1048576 /dev/urandom > "$dir/down.bin"

# Wait for a line matching $2 in file $1 and print it.
wait_line() {
  for _ in $(seq $((100 * scale))); do
    if grep -q "$2" "$1" 2>/dev/null; then grep -m1 "$2" "$1"; return 0; fi
    sleep 0.05
  done
  echo "FAIL: no '$2' in $1" >&2
  cat "$1" >&2
  return 1
}

timeout $((30 * scale)) $wrap "$toucat" -l -v 127.0.0.1 0 < "$dir/down.bin" > "$dir/server.out" 2> "$dir/server.err" &
pids+=($!)
server_port=$(wait_line "$dir/server.err" "listening on" | sed 's/.*:\([0-9]*\)$/\1/')

timeout $((30 * scale)) $wrap "$netem" --loss 1% --reorder 1%:3 --seed 3 127.0.0.1 0 127.0.0.1 "$server_port" \
  > "$dir/netem.out" 2> "$dir/netem.err" &
netem_pid=$!
pids+=($netem_pid)
netem_port=$(wait_line "$dir/netem.out" "listening on" | sed 's/.*listening on [^ ]* port \([0-9]*\),.*/\1/')
[ "$netem_port" != "$server_port" ] || { echo "FAIL: could not read the proxy's port"; exit 1; }

timeout $((30 * scale)) $wrap "$toucat" -v --stats 127.0.0.1 "$netem_port" < "$dir/up.bin" > "$dir/client.out" \
  2> "$dir/client.err"
wait "${pids[0]}"

cmp "$dir/up.bin" "$dir/server.out"
cmp "$dir/down.bin" "$dir/client.out"
grep -q "ESTABLISHED" "$dir/server.err"
grep -q "bytes sent 1048576 received 1048576" "$dir/client.err"

kill -INT "$netem_pid"
wait "$netem_pid" || true
# Its exit status is not checked: valgrind's findings are looked for in its log.
! grep -E '^==[0-9]+==' "$dir/netem.err" || { echo "FAIL: valgrind findings in tou-netem"; exit 1; }
# The traffic went through the proxy, and the proxy impaired it.
grep -q "up (client->upstream) *received [1-9][0-9]* forwarded" "$dir/netem.err"
grep -q "down (upstream->client) *received [1-9][0-9]* forwarded" "$dir/netem.err"
! grep -q "lost 0 .*reordered 0 " "$dir/netem.err" || { echo "FAIL: nothing impaired"; exit 1; }
grep "lost" "$dir/netem.err"
echo "tools smoke test passed"

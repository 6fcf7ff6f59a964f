# Helpers for the scripted example tests: background processes that are
# always cleaned up, waiting for a line in a log with a timeout, and ports.
# Sourced with BUILD (the build directory) set. TOU_TEST_WRAP, when set (the
# valgrind build sets tests/valgrind.sh), goes before every program started;
# TOU_TEST_TIMEOUT_SCALE (the valgrind build sets 5) multiplies every wait.
set -u
SCALE=${TOU_TEST_TIMEOUT_SCALE:-1}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tou-examples.XXXXXX")
PIDS=()
CHAT=$BUILD/examples/chat/chat
SERVER=$BUILD/examples/signal/signal-server
CLIENT=$BUILD/examples/signal/signal-client
HOSTILE=$BUILD/tests/examples/signal_hostile
NETEM=$BUILD/tools/tou-netem

cleanup() {
  local status=$? pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
  # A process killed here reports no valgrind finding in its exit status:
  # tests/valgrind.sh prints only findings, so any "==pid==" line is one.
  if [ -n "${TOU_TEST_WRAP:-}" ] && grep -lE '^==[0-9]+==' "$WORK"/*.log 2>/dev/null; then
    echo "FAIL: valgrind findings in the logs above"
    grep -hE '^==[0-9]+==' "$WORK"/*.log | head -n 200
    status=1
  fi
  if [ "${KEEP_LOGS:-0}" = 1 ]; then echo "logs kept in $WORK"; else rm -rf "$WORK"; fi
  exit "$status"
}
trap cleanup EXIT

die() {
  echo "FAIL: $*"
  for f in "$WORK"/*.log; do
    [ -e "$f" ] || continue
    echo "---- $(basename "$f") (last 40 lines)"
    tail -n 40 "$f"
  done
  exit 1
}

# start NAME CMD...: runs CMD in the background, output in $WORK/NAME.log;
# its pid is in $LAST_PID.
start() {
  local name=$1
  shift
  ${TOU_TEST_WRAP:+"$TOU_TEST_WRAP"} "$@" >"$WORK/$name.log" 2>&1 &
  LAST_PID=$!
  PIDS+=("$LAST_PID")
}

# wait_line FILE REGEX SECONDS: waits until FILE has a line matching REGEX.
wait_line() {
  local deadline=$((SECONDS + $3 * SCALE))
  until grep -qE "$2" "$1" 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.05
  done
}

# wait_pid PID SECONDS: waits for PID to exit; its status in $WAIT_STATUS.
wait_pid() {
  local deadline=$((SECONDS + $2 * SCALE))
  while kill -0 "$1" 2>/dev/null; do
    if [ $SECONDS -ge $deadline ]; then
      WAIT_STATUS=124
      return 1
    fi
    sleep 0.05
  done
  wait "$1"
  WAIT_STATUS=$?
  return 0
}

# The port a process printed on its "listening" line.
port_of() { # FILE REGEX-PREFIX
  grep -E "$2" "$1" | head -n1 | grep -oE '[0-9]+' | tail -n1
}

# netem_start NAME UPSTREAM_PORT ARGS...: a tou-netem in front of
# 127.0.0.1:UPSTREAM_PORT on an ephemeral port, in $NETEM_PORT.
netem_start() {
  local name=$1 up=$2
  shift 2
  start "$name" "$NETEM" "$@" 127.0.0.1 0 127.0.0.1 "$up"
  wait_line "$WORK/$name.log" 'listening on' 5 || die "$name did not start"
  NETEM_PORT=$(sed -n 's/.*listening on [^ ]* port \([0-9]*\).*/\1/p' "$WORK/$name.log")
}

# A random port for the cases that must name one (chat --peer); callers retry.
# Every line each chat peer sent (SENT in its log) arrived at the other (RECV)
# exactly once and in order, and each sent n lines.
check_lines_each_way() { # PEER PEER N
  local from to
  for from in "$1" "$2"; do
    if [ "$from" = "$1" ]; then to=$2; else to=$1; fi
    diff <(sed -n 's/^SENT //p' "$WORK/$from.log") <(sed -n 's/^RECV //p' "$WORK/$to.log") \
      >"$WORK/diff" || die "messages $from -> $to differ: $(head -5 "$WORK/diff")"
    [ "$(grep -c '^SENT ' "$WORK/$from.log")" = "$3" ] || die "$from did not send $3 messages"
  done
}

random_port() { echo $((20000 + RANDOM % 40000)); }

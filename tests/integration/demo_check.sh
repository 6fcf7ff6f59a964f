#!/usr/bin/env bash
# examples/demo exits 0 and shows the whole life of a connection: the three
# segments of the handshake, the echo, and both halves of the four-way close
# down to TIME_WAIT (active closer) and CLOSED (passive closer).
# Usage: demo_check.sh DEMO
# TOU_TEST_WRAP, when set (the valgrind build sets tests/valgrind.sh), goes
# before the demo; TOU_TEST_TIMEOUT_SCALE multiplies its time limit.
set -euo pipefail
out=$(timeout $((20 * ${TOU_TEST_TIMEOUT_SCALE:-1})) ${TOU_TEST_WRAP:-} "$1")
expect() {
  grep -q -- "$1" <<< "$out" || { echo "FAIL: no '$1' in the demo's output"; echo "$out"; exit 1; }
}
expect "client  sends    SYN "
expect "server  sends    SYN-ACK"
expect "client  state SYN_SENT -> ESTABLISHED"
expect "server  state SYN_RCVD -> ESTABLISHED"
expect 'client  read the echo: "goodbye"'
expect "client  state ESTABLISHED -> FIN_WAIT_1"
expect "client  state FIN_WAIT_1 -> FIN_WAIT_2"
expect "client  state FIN_WAIT_2 -> TIME_WAIT"
expect "server  state ESTABLISHED -> CLOSE_WAIT"
expect "server  state CLOSE_WAIT -> LAST_ACK"
expect "server  state LAST_ACK -> CLOSED"
echo "demo passed"

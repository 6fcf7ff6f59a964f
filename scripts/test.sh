#!/usr/bin/env bash
# Builds and runs every test three times: a gcc build, a clang build with
# AddressSanitizer + UndefinedBehaviorSanitizer (which also builds the libFuzzer
# targets), and a gcc build run under valgrind memcheck (scripts/valgrind.sh).
# Installs missing packages first.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

jobs=$(nproc)
run_suite() {
  local dir=$1; shift
  cmake -S . -B "$dir" -G Ninja "$@" >/dev/null
  cmake --build "$dir" -j "$jobs"
  (cd "$dir" && ctest --output-on-failure -j "$jobs" --timeout 600)
}

echo "== gcc build =="
CC=gcc run_suite build -DCMAKE_BUILD_TYPE=RelWithDebInfo
echo "== clang ASan+UBSan build =="
CC=clang run_suite build-asan -DCMAKE_BUILD_TYPE=Debug -DTOU_SANITIZE=ON -DTOU_FUZZ=ON
echo "== valgrind memcheck (gcc -O1 -g) =="
scripts/valgrind.sh

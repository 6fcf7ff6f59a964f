#!/usr/bin/env bash
# Runs every ctest entry under valgrind memcheck (tests/valgrind.sh): a gcc
# -O1 -g build in build-vg with TOU_VALGRIND=ON. The third stage of
# `make test`, and `make valgrind`. Tests that move a lot of data move less
# there (TOU_TEST_SMALL=1), and entries labelled valgrind_full are left
# out; `scripts/valgrind.sh full` (`make valgrind-full`) runs everything at
# the ordinary sizes (an hour or more).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
select=(-LE valgrind_full) limit=600
if [ "${1:-}" = full ]; then
  export TOU_TEST_SMALL=0
  select=() limit=3600
fi

jobs=$(nproc)
CC=gcc cmake -S . -B build-vg -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS_DEBUG="-O1 -g" \
  -DTOU_VALGRIND=ON -DTOU_BUILD_BENCH=OFF >/dev/null
cmake --build build-vg -j "$jobs"
cd build-vg

# No entry may escape valgrind: ctest starts it through tests/valgrind.sh, or
# it is a shell script given TOU_TEST_WRAP. Only abi_* run nothing of ours
# (they read the shared library with nm and readelf).
escaped=$(ctest --show-only=json-v1 | jq -r '.tests[]
  | select((.name | startswith("abi_")) or (.command[0] | endswith("/tests/valgrind.sh")) | not)
  | select([.properties[]? | select(.name == "ENVIRONMENT") | .value[]
            | select(startswith("TOU_TEST_WRAP="))] | length == 0)
  | .name')
if [ -n "$escaped" ]; then
  echo "FAIL: ctest entries not run under valgrind:" $escaped
  exit 1
fi
echo "valgrind memcheck: $(ctest -N "${select[@]}" | grep -c 'Test *#') ctest entries," \
  "all but abi_* under valgrind; left for make valgrind-full:" \
  "$(ctest -N -L valgrind_full | sed -n 's/.*Test *#[0-9]*: //p' | tr '\n' ' ')"

# The example scripts are real-time scenarios between processes, whose
# timing valgrind (seconds to start each) and a busy machine stretch: a
# failure is run once more, unless valgrind reported anything (any "==pid=="
# line is a finding), which fails at once.
ctest --output-on-failure -j "$jobs" --timeout "$limit" "${select[@]}" && exit 0
if grep -qE '^==[0-9]+==' Testing/Temporary/LastTest.log; then exit 1; fi
echo "valgrind: no memcheck finding in these failures; once more:" \
  "$(tr '\n' ' ' < Testing/Temporary/LastTestsFailed.log)"
ctest --output-on-failure --rerun-failed --timeout "$limit"

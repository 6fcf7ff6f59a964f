#!/usr/bin/env bash
# Builds tou and runs the loopback demo.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake -S . -B build-demo -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTOU_BUILD_TESTS=OFF >/dev/null
cmake --build build-demo -j "$(nproc)"
exec scripts/demo_chat.sh build-demo

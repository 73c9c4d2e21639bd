#!/usr/bin/env bash
# Configures and builds Herald into $HERALD_BUILD_DIR (default: build/). Extra
# arguments go to CMake's configure step. Shared by demo.sh and test.sh.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${HERALD_BUILD_DIR:-$root/build}
"$root/scripts/deps.sh"
cmake -S "$root" -B "$build" -G Ninja -DHERALD_WERROR=ON "$@" >/dev/null
cmake --build "$build" -j"$(nproc)"

#!/usr/bin/env bash
# The README's test command: installs what is missing, builds, and runs every test
# (unit, end to end, fuzz corpus replay, the demo), then the sanitizer builds
# (ASan+UBSan, TSan) of the suites listed below.
# HERALD_SANITIZERS=0 skips the sanitizer builds (quicker local runs).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${HERALD_BUILD_DIR:-$root/build}
start=$SECONDS

# Each phase says how long it took: CI must stay under 45 minutes on 2 cores.
phase_start=$SECONDS
phase_done() { echo "== $1 took $((SECONDS - phase_start)) s"; phase_start=$SECONDS; }

echo "== build ($build)"
HERALD_BUILD_DIR=$build "$root/scripts/build.sh"
phase_done build
echo "== tests"
ctest --test-dir "$build" --output-on-failure -j2 --timeout 600
phase_done tests

# The suites each sanitizer build runs. Both skip the frontends (real nginx and haproxy
# in front of the server: integration of third-party daemons, whose SDK and server paths
# the e2e, chaos and proxy suites already run) and cmake_consumer (an installed package
# carries no sanitizer flags). TSan also skips the single-threaded suites: unit (the
# pure lifecycle and codecs) and fuzz (corpus replay), which ASan covers.
asan_dirs="support;unit;e2e;tls;server;chaos;proxy;interop;fuzz;qt"
tsan_dirs="support;e2e;tls;server;chaos;proxy;interop;qt"

if [[ "${HERALD_SANITIZERS:-1}" == 1 ]]; then
  for san in "address,undefined" "thread"; do
    dir="$build-${san%%,*}"
    dirs=$asan_dirs
    [[ $san == thread ]] && dirs=$tsan_dirs
    echo "== sanitizer build: $san ($dir)"
    # -O0 -g1: line tables for readable reports. -O0, not the usual -O1: it halves the
    # compile time of the Beast-heavy files (the sanitizer builds were over half of
    # CI's time), and the suites, which mostly wait on sockets and timers, stay well
    # inside their bounds. Not -Werror: GCC's instrumentation raises false positives
    # (maybe-uninitialized inside libstdc++); the plain build keeps warnings fatal.
    HERALD_BUILD_DIR=$dir "$root/scripts/build.sh" -DHERALD_SANITIZE="$san" -DHERALD_BUILD_EXAMPLES=OFF \
      -DHERALD_TEST_DIRS="$dirs" -DHERALD_WERROR=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O0 -g1"
    phase_done "sanitizer build ($san)"
    echo "== tests under $san"
    # The demo runs in the plain build only.
    TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
    UBSAN_OPTIONS="halt_on_error=1 print_stacktrace=1" \
    ASAN_OPTIONS="detect_leaks=1" \
      ctest --test-dir "$dir" --output-on-failure -j2 --timeout 900 -E "^demo$"
    phase_done "tests under $san"
  done
fi
echo "== all tests passed in $((SECONDS - start)) s"

#!/usr/bin/env bash
# test.sh - the whole test suite from a fresh clone: installs the Debian
# packages, builds from scratch with each CMake preset given (default:
# release, then asan = AddressSanitizer + UndefinedBehaviorSanitizer) and runs
# ctest.  This is the README's test command and what CI runs (.ci/run).
#
#   deploy/test.sh [PRESET ...]        presets: release debug asan
set -euo pipefail
cd "$(dirname "$0")/.."

deploy/install-deps.sh

presets=("$@")
[ ${#presets[@]} -gt 0 ] || presets=(release asan)
jobs=$(nproc 2>/dev/null || echo 2)
for preset in "${presets[@]}"; do
  echo "== $preset: configure, build, test =="
  rm -rf "build/$preset"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$jobs"
  ctest --preset "$preset" -j "$jobs" --timeout 900
done
echo "== all tests passed (${presets[*]}) =="

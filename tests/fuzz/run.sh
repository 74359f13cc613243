#!/bin/sh
# run.sh - builds the fuzz targets with libFuzzer over instrumented libraries
# (Clang, -DOZ_FUZZ=ON: ASan + UBSan + coverage, in build/fuzz) and runs each
# for a bounded time on a scratch copy of its seed corpus, printing
# executions and coverage edges:
#   tests/fuzz/run.sh [SECONDS [TARGET...]]     (default 30 s, every target)
# A crash stops the script (exit 1) with the reproducer left in
# build/fuzz/crashes/; so does a target that ran no input at all.  Without
# Clang and its libFuzzer runtime it exits 77 (skipped: ctest's fuzz/timed).
# New inputs stay in build/fuzz/corpus/<target>/; copy the useful ones into
# tests/fuzz/corpus/<target>/ so ctest replays them.
# OZ_FUZZ_BUILD names another build directory (ctest's keeps its own);
# JOBS the build's parallelism (2).
set -eu
cd "$(dirname "$0")/../.."
secs=${1:-30}
[ $# -gt 0 ] && shift
targets=${*:-"ozwu resultfile sigmf_meta sah sahresult project_config http_path worker_conf"}
jobs=${JOBS:-2}
build=${OZ_FUZZ_BUILD:-build/fuzz}
cc=${CC:-clang}

# Clang that links a libFuzzer binary, or a skip
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n);\n%s\n' \
    'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { return d && n; }' \
    >"$probe/p.c"
if ! command -v "$cc" >/dev/null 2>&1 ||
    ! "$cc" -fsanitize=fuzzer "$probe/p.c" -o "$probe/p" >/dev/null 2>&1; then
    echo "SKIP: $cc cannot build a libFuzzer target (install clang and libclang-rt-dev)"
    exit 77
fi

CC=$cc cmake -B "$build" -DOZ_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo -G Ninja >/dev/null
bins=
for t in $targets; do bins="$bins fuzz_$t"; done
# shellcheck disable=SC2086
cmake --build "$build" -j"$jobs" --target $bins >/dev/null

mkdir -p "$build/crashes"
printf '%-16s %12s %10s %8s\n' target execs exec/s cov
for t in $targets; do
    work=$build/corpus/$t
    mkdir -p "$work"
    log=$build/$t.log
    if ! "$build/tests/fuzz/fuzz_$t" -max_total_time="$secs" -print_final_stats=1 \
        -artifact_prefix="$build/crashes/$t-" "$work" "tests/fuzz/corpus/$t" >"$log" 2>&1; then
        tail -30 "$log"
        echo "fuzz_$t failed: see $log and $build/crashes/" >&2
        exit 1
    fi
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    printf '%-16s %12s %10s %8s\n' "$t" "$execs" "$rate" "$cov"
    if [ "${execs:-0}" -eq 0 ]; then
        echo "fuzz_$t ran no input: see $log" >&2
        exit 1
    fi
done

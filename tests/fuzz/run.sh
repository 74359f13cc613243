#!/bin/sh
# run.sh - builds the fuzz targets with libFuzzer over instrumented libraries
# (Clang, -DOZ_FUZZ=ON, in build/fuzz) and runs each for a bounded time on a
# scratch copy of its seed corpus, printing executions and coverage edges:
#   tests/fuzz/run.sh [SECONDS [TARGET...]]     (default 30 s, every target)
# A crash stops the script with the reproducer left in build/fuzz/crashes/.
# New inputs stay in build/fuzz/corpus/<target>/; copy the useful ones into
# tests/fuzz/corpus/<target>/ so ctest replays them.
set -eu
cd "$(dirname "$0")/../.."
secs=${1:-30}
[ $# -gt 0 ] && shift
targets=${*:-"ozwu resultfile sigmf_meta sah sahresult project_config http_path worker_conf"}
jobs=${JOBS:-2}

CC=${CC:-clang} cmake -B build/fuzz -DOZ_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo -G Ninja >/dev/null
bins=
for t in $targets; do bins="$bins fuzz_$t"; done
# shellcheck disable=SC2086
cmake --build build/fuzz -j"$jobs" --target $bins >/dev/null

mkdir -p build/fuzz/crashes
printf '%-16s %12s %10s %8s\n' target execs exec/s cov
for t in $targets; do
    work=build/fuzz/corpus/$t
    mkdir -p "$work"
    log=build/fuzz/$t.log
    if ! "build/fuzz/tests/fuzz/fuzz_$t" -max_total_time="$secs" -print_final_stats=1 \
        -artifact_prefix=build/fuzz/crashes/"$t"- "$work" "tests/fuzz/corpus/$t" >"$log" 2>&1; then
        tail -30 "$log"
        echo "fuzz_$t failed: see $log and build/fuzz/crashes/" >&2
        exit 1
    fi
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    printf '%-16s %12s %10s %8s\n' "$t" "$execs" "$rate" "$cov"
done

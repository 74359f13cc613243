#!/usr/bin/env bash
# test_bench_sched_pg.sh - the load benchmark's PostgreSQL mode works end to
# end, in seconds: tests/bench/bench_sched_pg.sh starts a throwaway cluster
# and runs bench_sched_load --database on it with two schedulers and a
# small load.  The check is that the run is real and says what it should:
# work requests answered by both schedulers (the second with --no-jobs),
# the validator's progress, the database's CPU from the cluster's
# processes, PostgreSQL's commits and the schedulers' conflict counter -
# and that nothing is left running or on disk.  The figures
# themselves are not judged here (tests/bench is for that).  Skipped (77)
# when PostgreSQL is not installed.
#
# Usage: test_bench_sched_pg.sh BIN_DIR   (ctest passes build/PRESET/bin)
set -u
BIN=${1:?usage: $0 BIN_DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
BENCH=$(cd "$BIN/../tests" 2>/dev/null && pwd)/bench_sched_load
[[ -x $BENCH ]] || { echo "FAIL: $BENCH is not built" >&2; exit 1; }
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

SCRATCH=$(mktemp -d)
trap 'rm -rf "$SCRATCH"' EXIT
chmod o+x "$SCRATCH" # the cluster's owner (postgres, when run as root) passes through it
out=$(TMPDIR=$SCRATCH BENCH=$BENCH timeout -k 5 300 bash "$HERE/../bench/bench_sched_pg.sh" --units 3000 \
          --seconds 2 --connections 16 --schedulers 2 2>&1)
rc=$?
((rc == 77)) && { echo "$out"; exit 77; }
((rc == 0)) || fail "bench_sched_pg.sh exit $rc"

line=$(grep -E '^ +3000 units  work' <<<"$out")
[[ -n $line ]] || fail "no figures for 3000 units"
[[ $line =~ work\ +([0-9]+)\ req/s ]] && ((BASH_REMATCH[1] > 0)) ||
    fail "no work requests answered: $line"
# Not judged: the run's errors.  Two schedulers on one database still meet
# in the same rows (serialization failures, deadlocks), and a write that
# loses more often than the store retries is a 503 with Retry-After, which
# the benchmark counts as an error and reports - the product's figure.
[[ $line =~ errors\ [0-9]+, ]] || fail "no error count: $line"
grep -q 'scheduler 1 CPU: ' <<<"$out" || fail "no CPU figure for the first scheduler"
grep -q 'scheduler 2 (--no-jobs) CPU: ' <<<"$out" || fail "no CPU figure for the second scheduler"
grep -qE 'database \([0-9]+ processes\) CPU: [0-9.]+ cores' <<<"$out" ||
    fail "no CPU figure for the database (its postmaster not found?)"
[[ $(grep -oE '[0-9.]+ commits' <<<"$out") =~ ^0\.00\  ]] && fail "no commits counted"
grep -qE 'commits, .*write transactions run again after a conflict \([0-9]+\)' <<<"$out" ||
    fail "no commits or conflict counts from the database and the schedulers"
if [[ $line =~ returned\ +[1-9][0-9]*/s ]]; then
    grep -qE 'validator: [0-9]+ units/s validated' <<<"$out" || fail "no validation figure"
fi

left=$(ls -A "$SCRATCH")
[[ -z $left ]] || fail "the cluster's directory was left: $left"
if pgrep -f "oz-bench-load-.*/p3000" >/dev/null; then
    fail "a scheduler of the benchmark is still running"
fi

if ((failures)); then
    echo "$out"
    echo "$failures failure(s)"
    exit 1
fi
echo "ok: bench_sched_load --database with two schedulers"

#!/usr/bin/env bash
# test_sched_fuzz.sh - HTTP- and JSON-level fuzzing of a live `ozma-server
# serve` on loopback (issue 21, "Tests that stay"): sched_fuzz.py sends
# randomized requests for OZ_FUZZ_SECONDS (20 by default) - mutated request
# lines, targets, queries and headers on every API route, and mutated JSON
# bodies for every POST/PUT endpoint - and checks that no answer is a 5xx
# but a 503 with Retry-After (or the 501 API.md documents), that the server
# stays up and ends with 0 on SIGTERM, that the rows the database holds
# are exactly those 200 answers named, and that integrity_check is ok.  The
# seed is printed; OZ_FUZZ_SEED=N repeats a run.  Without python3 the test
# is skipped (exit 77).  About 30 s.  KEEP=1 keeps the scratch directory
# (the server's log, the database and a failing request are there).
#
# Usage: test_sched_fuzz.sh BIN_DIR   (ctest passes build/PRESET/bin)
set -u
BIN=${1:?usage: $0 BIN_DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
py_client test_sched_fuzz "live fuzzing (the failing request is kept too)" 300 "$HERE/sched_fuzz.py"

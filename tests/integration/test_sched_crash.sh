#!/usr/bin/env bash
# test_sched_crash.sh - kill -9 of the scheduler under concurrent uploads
# (issue 21, "Tests that stay"): sched_crash.py runs 8 hosts that take work
# and upload results against a real `ozma-server serve`, kills it with
# SIGKILL at random moments (after 15 to 55 new acknowledgments) OZ_CRASH_CYCLES times (8 by default; more for a
# longer run, OZ_CRASH_SEED picks the moments), restarts it each time, and
# checks that every result acknowledged with 200 is stored byte for byte,
# counted once and credited as credit.c says.  Without python3 the test is
# skipped (exit 77).  About 10 s.  KEEP=1 keeps the scratch directory (the
# server's log and database are there).
#
# Usage: test_sched_crash.sh BIN_DIR   (ctest passes build/PRESET/bin)
set -u
BIN=${1:?usage: $0 BIN_DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
py_client test_sched_crash "kill -9 under load" 300 "$HERE/sched_crash.py" "${OZ_CRASH_CYCLES:-8}"

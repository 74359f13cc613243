#!/usr/bin/env bash
# test_sched_stats.sh - the statistics exports for stats sites (BOINC's
# db_dump files at /stats/): sched_stats.py drives a real `ozma-server
# serve` on loopback and checks the files against the API.  A few seconds.
# KEEP=1 keeps the scratch directory.
#
# Usage: test_sched_stats.sh BIN_DIR   (ctest passes build/PRESET/bin)
set -u
BIN=${1:?usage: $0 BIN_DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
WORK=$(mktemp -d)
cleanup() { if [[ -n ${KEEP:-} ]]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi; }
trap cleanup EXIT
py_test test_sched_stats "$HERE/sched_stats.py" 120

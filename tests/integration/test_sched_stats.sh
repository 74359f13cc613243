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
command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }
WORK=$(mktemp -d)
cleanup() { if [[ -n ${KEEP:-} ]]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi; }
trap cleanup EXIT

timeout -k 5 120 python3 "$HERE/sched_stats.py" "$BIN" "$WORK" || fail "sched_stats.py failed"
no_sanitizer_report "$WORK/server.log"
finish test_sched_stats

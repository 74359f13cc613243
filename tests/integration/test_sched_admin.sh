#!/usr/bin/env bash
# test_sched_admin.sh - the operator commands (ozma-server dataset list | cancel |
# delete, host ban): sched_admin.py runs them while a real `ozma-server
# serve` on loopback and checks what hosts and the API then see.  A few seconds.
# KEEP=1 keeps the scratch directory.
#
# Usage: test_sched_admin.sh BIN_DIR   (ctest passes build/PRESET/bin)
set -u
BIN=${1:?usage: $0 BIN_DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }
WORK=$(mktemp -d)
cleanup() { if [[ -n ${KEEP:-} ]]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi; }
trap cleanup EXIT

timeout -k 5 120 python3 "$HERE/sched_admin.py" "$BIN" "$WORK" || fail "sched_admin.py failed"
no_sanitizer_report "$WORK/server.log"
finish test_sched_admin

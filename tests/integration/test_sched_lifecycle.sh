#!/usr/bin/env bash
# test_sched_lifecycle.sh - the data lifecycle (issue 20) under a long run:
# sched_lifecycle.py loads OZ_LIFECYCLE_DATASETS (8 by default) small
# datasets one after another into a real `ozma-server serve`, works each to
# the end with real results, and checks that the file deleter removes the
# finished datasets' unit files (GET /units/NAME.ozwu: 410), that the purge
# moves every result text into DIR/archive/results-DAY.jsonl.gz byte for
# byte, and that the units folder and the database stop growing; then,
# with keep_units and no purge, that both grow, and that `ozma-server
# purge --older-than 0` archives the texts while the server runs.  Without
# python3 the test is skipped (exit 77).  About 30 s.
# KEEP=1 keeps the scratch directory (the server's log is there).
#
# Usage: test_sched_lifecycle.sh BIN_DIR   (ctest passes build/PRESET/bin)
set -u
BIN=${1:?usage: $0 BIN_DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }
WORK=$(mktemp -d)
cleanup() {
    [[ -s $WORK/server.pid ]] && kill -KILL "$(cat "$WORK/server.pid")" 2>/dev/null && sleep 0.2
    if [[ -n ${KEEP:-} ]]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# ---- the purge command's usage ----
"$BIN/ozma-server" purge --help | grep -q "older-than DAYS" || fail "purge --help"
expect_exit2 "$BIN/ozma-server" "purge without DIR" "give DIR" purge &&
    expect_exit2 "$BIN/ozma-server" "purge --older-than -1" "is not 0..36500 days" purge \
        "$WORK" --older-than -1 &&
    expect_exit2 "$BIN/ozma-server" "purge --older-than x" "is not 0..36500 days" purge \
        "$WORK" --older-than x &&
    pass "purge: bad usage is exit 2 with one line"

timeout -k 5 300 python3 "$HERE/sched_lifecycle.py" "$BIN" "$WORK" \
    "${OZ_LIFECYCLE_DATASETS:-8}" >"$WORK/client.out" 2>"$WORK/client.err"
rc=$?
cat "$WORK/client.out"
if [[ $rc -ne 0 ]]; then
    cat "$WORK/client.err" >&2
    fail "lifecycle (sched_lifecycle.py exit $rc; KEEP=1 keeps the server's log)"
fi
# zcat reads the archives as one stream (each purge run added a gzip member)
lines=$(zcat "$WORK"/proj/archive/results-*.jsonl.gz 2>/dev/null | wc -l)
if [[ $lines -eq $(grep -c . < <(zcat "$WORK"/proj/archive/results-*.jsonl.gz | sort -u)) &&
      $lines -gt 0 ]]; then
    pass "zcat reads the archives: $lines results, none twice"
else
    fail "zcat of the archives: $lines lines"
fi
finish test_sched_lifecycle

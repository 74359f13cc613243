#!/usr/bin/env bash
# test_e2e_demo.sh - the one-command demo's flow, headless: deploy/demo.sh
# --headless makes a project, loads a synthetic recording with injected
# signals (3 units), serves it and runs two workers under different accounts
# until every unit is validated; then e2e_check.py asserts, over HTTP and
# in the database, that
#   - every unit validated, none in error, nothing left in the jobs' queues;
#   - every injected signal is in GET /api/v1/signals;
#   - alice's and bob's credit are each sum(unit flops)/1e9/86400*200, the
#     team's the sum of both, and the credit history adds up to it;
#   - the leaderboards, host and result views show the run;
#   - every page path answers HTML with the Content-Security-Policy, the
#     assets and Chart.js are served, unknown pages are 404;
#   - GET /metrics parses as Prometheus text and its counters move;
#   - the server's stderr is structured single-line logs, and a hostile
#     path cannot forge a line;
#   - an account named <script>alert(1)</script> is stored and served as
#     that exact text (the browser test checks that it renders as text).
#
# Usage: test_e2e_demo.sh BINDIR
set -euo pipefail
BINDIR=$(cd "${1:?usage: $0 BINDIR}" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

expect_exit2 "$BINDIR/ozma-server" "serve --log-level loud" "--log-level" serve "$WORK" \
    --log-level loud && pass "serve refuses an unknown --log-level"

if "$HERE/../../deploy/demo.sh" --headless --bin "$BINDIR" --port 0 --samples 163840 \
    --chirp-max 5 --timeout 120 --dir "$WORK/demo" \
    --then "python3 '$HERE/e2e_check.py'" >"$WORK/demo.out" 2>&1; then
    grep -E '^(ok|FAIL):' "$WORK/demo.out"
    pass "the demo's flow, headless, and every check of e2e_check.py"
else
    cat "$WORK/demo.out" >&2
    for f in server.log alice.log bob.log; do
        [[ -f $WORK/demo/$f ]] && { echo "--- $f" >&2; tail -20 "$WORK/demo/$f" >&2; }
    done
    fail "the demo's flow (output above)"
fi
finish "end-to-end demo"

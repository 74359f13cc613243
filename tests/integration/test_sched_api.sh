#!/usr/bin/env bash
# test_sched_api.sh - ozma-server end to end: init, load (and failed loads
# that must leave nothing), serve on a free port with real HTTP clients on
# loopback (sched_client.py: every endpoint, hostile input, results
# carried in work requests, Range downloads, the per-host cap, rate limits,
# pagination), the status and
# signals subcommands, and a prompt SIGTERM.  KEEP=1 keeps the scratch
# directory for a post-mortem.
#
# Usage: test_sched_api.sh BIN_DIR   (ctest passes build/PRESET/bin)
set -u
BIN=${1:?usage: $0 BIN_DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
SERVER=$BIN/ozma-server
for tool in sqlite3 python3; do
    command -v $tool >/dev/null || { echo "SKIP: $tool not installed"; exit 77; }
done
WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
    [[ -n $SERVER_PID ]] && kill -KILL "$SERVER_PID" 2>/dev/null
    if [[ -n ${KEEP:-} ]]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
P=$WORK/proj

# ---- init ----
oz_init "$SERVER" "$P" >/dev/null 2>"$WORK/err.txt" || fail "init: $(cat "$WORK/err.txt")"
if oz_pg; then
    [[ -f $P/project.json && ! -e $P/ozma.db && -d $P/units && -f $P/secret.key ]] &&
        grep -q '"database": "postgresql://' "$P/project.json" \
        && pass "init --database made project.json (with the URI), units/, secret.key, no ozma.db" \
        || fail "init --database: files missing"
    expect_exit2 "$SERVER" "init --database on a database holding a project" "already" init \
        "$WORK/again" --database "$(python3 "$LIB_DIR/testdb.py" uri "$P")" \
        && [[ ! -e $WORK/again ]] && pass "init --database refuses a database that holds a project"
    expect_exit2 "$SERVER" "init --database with a password" "PGPASSWORD" init "$WORK/pw" \
        --database "postgresql://ozma:secret@db.example.org/ozma" \
        && pass "init --database refuses a URI with a password"
else
    [[ -f $P/project.json && -f $P/ozma.db && -d $P/units && -f $P/secret.key ]] \
        && pass "init made project.json, ozma.db, units/, secret.key" || fail "init: files missing"
fi
[[ $(stat -c %a "$P/secret.key") == 600 && $(stat -c %s "$P/secret.key") == 32 ]] \
    && pass "secret.key is 32 bytes, mode 0600" || fail "secret.key mode or size"
expect_exit2 "$SERVER" "init on an existing project" "not empty" init "$P" \
    && pass "init refuses an existing project"
mkdir "$WORK/full" && touch "$WORK/full/x"
expect_exit2 "$SERVER" "init on a non-empty directory" "not empty" init "$WORK/full" \
    && pass "init refuses a non-empty directory"
expect_exit2 "$SERVER" "bad subcommand" "unknown command" frobnicate && pass "unknown command"
"$SERVER" --help | grep -q SYNOPSIS && "$SERVER" load --help | grep -q -- --quorum \
    && "$SERVER" serve --help | grep -q -- --port && pass "--help" || fail "--help"
V=$("$SERVER" --version)
[[ $V =~ ^ozma-server\ [0-9]+\.[0-9]+\.[0-9]+\ \(ozma-kernel/[0-9]+,\ database\ schema\ [0-9]+\)$ ]] &&
    [[ $("$SERVER" -V) == "$V" ]] && pass "--version: $V" || fail "--version: $V"

# ---- load ----
"$BIN/ozma-synth" --out "$WORK/rec" --samples 163840 --datatype ci8 \
    --datetime 2024-05-01T12:00:00Z --spike f=500,drift=0,snr=2 >/dev/null \
    || fail "ozma-synth failed"
snapshot() { oz_dump "$P"; ls -A "$P/units"; }
snapshot >"$WORK/before.txt"
unchanged() {
    snapshot >"$WORK/after.txt"
    cmp -s "$WORK/before.txt" "$WORK/after.txt" && pass "$1: database and units/ unchanged" \
        || fail "$1: database or units/ changed"
}
expect_exit2 "$SERVER" "load of a missing recording" "nope" load "$P" "$WORK/nope" \
    && unchanged "missing recording"
head -c 1000 /dev/urandom >"$WORK/junk.sigmf-data"
echo '{"global": {' >"$WORK/junk.sigmf-meta"
expect_exit2 "$SERVER" "load of a broken recording" "junk" load "$P" "$WORK/junk" \
    && unchanged "broken recording"
expect_exit2 "$SERVER" "bad --quorum" "--quorum" load "$P" "$WORK/rec" --quorum 0 \
    && unchanged "bad --quorum"
expect_exit2 "$SERVER" "bad --deadline" "--deadline" load "$P" "$WORK/rec" --deadline 7x \
    && unchanged "bad --deadline"
expect_exit2 "$SERVER" "replicas below quorum" "--replicas" load "$P" "$WORK/rec" \
    --quorum 3 --replicas 2 && unchanged "replicas below quorum"
expect_exit2 "$SERVER" "units longer than the recording" "" load "$P" "$WORK/rec" \
    --unit-samples 2^20 && unchanged "unit longer than the recording"
expect_exit2 "$SERVER" "bad analysis flag" "" load "$P" "$WORK/rec" --fft-max 1000 \
    && unchanged "bad analysis flag"
expect_exit2 "$SERVER" "bad dataset name" "dataset name" load "$P" "$WORK/rec" --name ../x \
    && unchanged "bad dataset name"
"$SERVER" load "$P" "$WORK/rec" --unit-samples 2^15 --fft-max 1024 --chirp-max 2 \
    --deadline 1h --quiet 2>"$WORK/err.txt" || fail "load: $(cat "$WORK/err.txt")"
units=$(oz_sql "$P" "SELECT count(*) FROM units")
replicas=$(oz_sql "$P" "SELECT count(*) FROM replicas")
files=$(ls "$P/units" | grep -c '^rec-[0-9]*\.ozwu$')
[[ $units == 6 && $replicas == 12 && $files == 6 ]] \
    && pass "load: 6 units, 12 replicas, 6 files" \
    || fail "load: $units units, $replicas replicas, $files files (expected 6, 12, 6)"
snapshot >"$WORK/before.txt"
expect_exit2 "$SERVER" "loading a dataset twice" "already loaded" load "$P" "$WORK/rec" \
    --unit-samples 2^15 --fft-max 1024 && unchanged "second load of one name"

# ---- an interrupted load leaves nothing; a killed one is cleaned up next time ----
Q=$WORK/q
oz_init "$SERVER" "$Q" >/dev/null || fail "init q"
"$BIN/ozma-synth" --out "$WORK/long" --samples 2^20 --datatype ci8 >/dev/null || fail "synth long"
oz_dump "$Q" >"$WORK/q_before.txt"
start_load() { # a slow load (4096 tiny units, each fsynced); returns once units appear
    "$SERVER" load "$Q" "$WORK/long" --unit-samples 256 --overlap 0 --fft-max 64 \
        --chirp-max 1 --quiet 2>"$WORK/load.err" &
    LOAD_PID=$!
    for _ in $(seq 400); do
        [[ -n $(ls "$Q/units") ]] && break
        sleep 0.01
    done
}
start_load
# a second load while the first runs is refused and touches nothing (the
# checks below find the database and units/ as before the first)
"$SERVER" load "$Q" "$WORK/rec" --name other --unit-samples 2^15 --fft-max 1024 --quiet \
    2>"$WORK/load2.err"
rc=$?
[[ $rc -eq 1 ]] && grep -q "another \`ozma-server load\` is running" "$WORK/load2.err" \
    && kill -0 $LOAD_PID 2>/dev/null \
    && pass "a second load during a load is refused (exit 1) and the first goes on" \
    || fail "second load during a load: exit $rc, $(cat "$WORK/load2.err")"
kill -INT $LOAD_PID
wait $LOAD_PID
rc=$?
oz_dump "$Q" >"$WORK/q_after.txt"
[[ $rc -eq 1 ]] && grep -q "interrupted" "$WORK/load.err" && pass "SIGINT stops a load (exit 1)" \
    || fail "SIGINT during load: exit $rc, $(cat "$WORK/load.err")"
cmp -s "$WORK/q_before.txt" "$WORK/q_after.txt" && [[ -z $(ls -A "$Q/units") ]] \
    && pass "an interrupted load leaves the database and units/ as they were" \
    || fail "an interrupted load left $(ls "$Q/units" | wc -l) files or rows behind"
start_load
{ kill -KILL $LOAD_PID && wait $LOAD_PID; } 2>/dev/null
"$SERVER" load "$Q" "$WORK/long" --unit-samples 2^16 --fft-max 64 --chirp-max 1 --quiet \
    2>"$WORK/load.err" || fail "load after a killed load: $(cat "$WORK/load.err")"
n=$(oz_sql "$Q" "SELECT count(*) FROM units")
files=$(ls "$Q/units" | wc -l)
grep -q "half-loaded" "$WORK/load.err" && [[ $n == 19 && $files == 19 ]] \
    && pass "a killed load's leftovers are removed by the next load (19 units, 19 files)" \
    || fail "after a killed load: $n units, $files files, $(cat "$WORK/load.err")"

# ---- serve ----
serve_start "$P" test_sched_api
pass "serve --port 0 listens on port $PORT"

python3 "$HERE/sched_client.py" "http://127.0.0.1:$PORT" "$P" "$P/units" "$BIN/ozma-search" \
    >"$WORK/client.out" 2>"$WORK/client.err"
rc=$?
grep -c '^ok:' "$WORK/client.out" | xargs -I{} echo "ok: {} HTTP checks passed"
if [[ $rc -ne 0 ]]; then
    cat "$WORK/client.err" >&2
    fail "HTTP checks (sched_client.py exit $rc)"
fi
grep -q 'level=info msg="request failed" method=POST path=/api/v1/work status=401 code=unauthorized' \
    "$WORK/serve.err" \
    && pass "errors are logged, one line each" || fail "no error log line"

"$SERVER" status "$P" --json >"$WORK/status.json" \
    && python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert s["units"]["total"] == 6' \
        "$WORK/status.json" && pass "status --json" || fail "status --json"
"$SERVER" status "$P" | grep -q '^units' && pass "status" || fail "status"
"$SERVER" signals "$P" --format csv | head -1 | grep -q '^id,type,freq_hz' \
    && pass "signals --format csv" || fail "signals --format csv"
"$SERVER" signals "$P" | python3 -c 'import json,sys; assert "signals" in json.load(sys.stdin)' \
    && pass "signals (json)" || fail "signals (json)"
expect_exit2 "$SERVER" "signals --limit 0" "--limit" signals "$P" --limit 0 && pass "signals --limit 0"

# ---- SIGTERM ----
t0=$(date +%s%N)
kill -TERM $SERVER_PID
wait $SERVER_PID
rc=$?
SERVER_PID=
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[[ $rc -eq 0 ]] && pass "SIGTERM: exit 0" || fail "SIGTERM: exit $rc"
[[ $ms -lt 3000 ]] && pass "SIGTERM: stopped in $ms ms" || fail "SIGTERM: took $ms ms"

finish test_sched_api

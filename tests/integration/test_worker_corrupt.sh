#!/usr/bin/env bash
# test_worker_corrupt.sh - a unit download that does not match its SHA-256.
#
# Usage: test_worker_corrupt.sh BINDIR
#
# Two units (quorum 1); one unit file is damaged on the scheduler's disk
# after loading, so its download never matches the hash in the assignment.
# The worker must fetch it again, then report the replica as an error - and
# never search it - while the other unit is computed and validated.  Its
# report makes the scheduler hash its own copy (issue 21, hole 8): the unit
# is marked file_bad and withheld, shown by `ozma-server status`, instead of
# being sent to host after host until it ended in error.
#
# Then a broken download: a task whose unit.ozwu.part holds the first half of
# the file is resumed with a Range request, keeping those bytes.  (To prove
# they were kept, they are zeros: the resumed file must then fail its hash,
# and the refetch from scratch succeed.)
set -euo pipefail
BINDIR=${1:?usage: $0 BINDIR}
source "$(dirname "$0")/worker_lib.sh"
wl_setup

make_recording "$WORK/rec" $((57344 + 65536))
make_project proj
"$SERVER" load "$PROJ" "$WORK/rec" --name two --unit-samples 2^16 "${ANALYSIS[@]}" \
    --chirp-max 5 --quorum 1 --replicas 1 -q
unit=$(find "$PROJ" -name 'two-000000.ozwu' | head -1)
[[ -n $unit ]] || { fail "no unit file two-000000.ozwu under $PROJ"; finish "worker corrupt"; }
python3 - "$unit" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[-1000] ^= 0x55                     # one payload byte; the size is unchanged
open(p, "wb").write(b)
PY
start_server
attach_worker "$WORK/w" erin || fail "attach: $(cat "$WORK/w.attach.out")"
start_worker "$WORK/w"

reported() { grep -q "error reported" "$WORK/w.log"; }
if wait_until 30 units_validated 1 && wait_until 30 reported; then
    pass "the good unit validated, the bad one reported"
else
    fail "$("$SERVER" status "$PROJ"); $(cat "$WORK/w.log")"
fi
grep -q "two-000000 does not verify.*fetching it again" "$WORK/w.log" &&
    pass "a mismatching download is fetched again" || fail "no refetch: $(cat "$WORK/w.log")"
grep -q "two-000000: download 2 does not verify" "$WORK/w.log" &&
    pass "the second mismatch becomes the replica's error" || fail "no error after two"
grep -q "starting two-000000\|resuming two-000000" "$WORK/w.log" &&
    fail "the damaged unit was searched" || pass "the damaged unit was never searched"
grep -q "starting two-000001" "$WORK/w.log" || fail "the good unit was not searched"
[[ $(ls "$WORK/w/uploaded") == *.json && $(ls "$WORK/w/uploaded" | wc -l) -eq 1 ]] ||
    fail "uploaded: $(ls "$WORK/w/uploaded")"
wait_until 10 bash -c "[[ -z \$(ls '$WORK/w/tasks') ]]" && pass "no task left behind" ||
    fail "tasks left: $(ls "$WORK/w/tasks")"
[[ $(server_status replicas.in_progress) -eq 0 ]] && pass "the scheduler holds no replica in progress" ||
    fail "replicas in progress: $("$SERVER" status "$PROJ")"
[[ $(server_status units.file_bad) -eq 1 && $(server_status replicas.unsent) -eq 0 ]] &&
    "$SERVER" status "$PROJ" | grep -q "^file bad .*two-000000 (two): units/two-000000.ozwu: SHA-256" &&
    pass "the scheduler found its own file bad: the unit is withheld, and status says so" ||
    fail "after the report: $("$SERVER" status "$PROJ")"
stop_worker "$WPID"

# --- a partial download resumes where it stopped ---
"$SERVER" load "$PROJ" "$WORK/rec" --name part --unit-samples 2^16 "${ANALYSIS[@]}" \
    --chirp-max 5 --quorum 1 --replicas 1 -q
python3 - "$URL" "$WORK/w" <<'PY'
import json, os, sys, urllib.request
url, d = sys.argv[1], sys.argv[2]
acct = json.load(open(d + "/account.json"))
req = urllib.request.Request(url + "/api/v1/work", data=json.dumps({"want_seconds": 1}).encode(),
                             headers={"Authorization": "Bearer " + acct["host_key"],
                                      "Content-Type": "application/json"}, method="POST")
a = json.load(urllib.request.urlopen(req))["assignments"][0]
t = dict(a, version=1, received=0, state="downloading", bad_downloads=0, error="")
td = "%s/tasks/%d" % (d, a["replica_id"])
os.makedirs(td)
json.dump(t, open(td + "/task.json", "w"))
open(td + "/unit.ozwu.part", "wb").write(bytes(a["bytes"] // 2))
PY
start_worker "$WORK/w"
if wait_until 30 grep -q "part-000000 downloaded, SHA-256 verified" "$WORK/w.log"; then
    grep -q "part-000000 does not verify.*fetching it again" "$WORK/w.log" &&
        pass "a partial download resumed with Range, keeping its bytes" ||
        fail "the partial download was not resumed (restarted from scratch)"
else
    fail "the partial download never completed: $(tail -5 "$WORK/w.log")"
fi
stop_worker "$WPID"
stop_server
finish "worker corrupt download"

#!/usr/bin/env bash
# test_worker_outage.sh - the scheduler goes away for a while.
#
# Usage: test_worker_outage.sh BINDIR
#
# Six units (quorum 1) of about 1.5 s each.  Once the worker holds them all
# the scheduler is stopped: the worker must keep computing (every task
# reaches its result while the scheduler is down), back off with growing
# delays (read from its log), and, once the scheduler is back on the same
# port, upload everything: all six units validated, nothing left on disk.
set -euo pipefail
BINDIR=${1:?usage: $0 BINDIR}
source "$(dirname "$0")/worker_lib.sh"
wl_setup

slow_units
CHIRP=$(calibrate_chirp 1.5)
make_recording "$WORK/rec" $((57344 * 5 + 65536))
make_project proj
"$SERVER" load "$PROJ" "$WORK/rec" --name six --unit-samples 2^16 "${ANALYSIS[@]}" \
    --chirp-max "$CHIRP" --quorum 1 --replicas 1 -q
start_server
attach_worker "$WORK/w" dave "backoff_min_s = 0.25" "backoff_max_s = 2" ||
    fail "attach: $(cat "$WORK/w.attach.out")"
start_worker "$WORK/w"

downloaded() { [[ $(grep -c "SHA-256 verified" "$WORK/w.log") -ge $1 ]]; }
if wait_until 30 downloaded 6; then pass "six units downloaded"
else fail "downloads: $(cat "$WORK/w.log")"; fi
stop_server
OUTAGE_START=$(grep -c "" "$WORK/w.log")

results_on_disk() { [[ $(ls "$WORK"/w/tasks/*/result.json 2>/dev/null | wc -l) -ge $1 ]]; }
if wait_until 60 results_on_disk 6; then
    pass "all six tasks computed while the scheduler was down"
else
    fail "computing stopped during the outage: $(ls -R "$WORK/w/tasks")"
fi
retries() { [[ $(tail -n +"$OUTAGE_START" "$WORK/w.log" | grep -c "retrying in") -ge $1 ]]; }
wait_until 30 retries 4 || fail "fewer than 4 retries: $(tail -n +"$OUTAGE_START" "$WORK/w.log")"
tail -n +"$OUTAGE_START" "$WORK/w.log" | sed -n 's/.*retrying in \([0-9.]*\) s.*/\1/p' >"$WORK/delays"
if python3 - "$WORK/delays" <<'PY'
import sys
d = [float(x) for x in open(sys.argv[1])]
print("retry delays:", d)
assert len(d) >= 4
assert all(0.25 <= x <= 2 for x in d), "outside [backoff_min_s, backoff_max_s]"
assert d[0] < d[1] < d[2] < d[3], "not growing"
PY
then pass "backoff delays grow from backoff_min_s to backoff_max_s"; else fail "backoff above"; fi
# status.json is rewritten every status interval, between retries and during
# them: look until a snapshot taken in a wait shows up (the outage goes on).
backing_off() {
    st=$("$WORKER" status --dir "$WORK/w")
    [[ $st == *"backing off until"* && $st == *"upload pending"* ]]
}
wait_until 10 backing_off && pass "status: backing off, uploads pending" ||
    fail "status during the outage: $st"

start_server "$PORT"
if wait_until 30 units_validated 6; then pass "all six results uploaded once the scheduler was back"
else fail "after the outage: $("$SERVER" status "$PROJ"); $(tail -5 "$WORK/w.log")"; fi
wait_until 10 bash -c "[[ -z \$(ls '$WORK/w/tasks') ]]" && pass "nothing left on disk" ||
    fail "tasks left: $(ls "$WORK/w/tasks")"
[[ $(ls "$WORK/w/uploaded" | wc -l) -eq 6 ]] || fail "uploaded: $(ls "$WORK/w/uploaded")"
grep -q "answers again" "$WORK/w.log" && pass "the worker noticed the scheduler back" ||
    fail "no recovery line in the log"
stop_worker "$WPID"
[[ $WORKER_RC -eq 0 ]] || fail "worker exit status $WORKER_RC"
stop_server
finish "worker outage"

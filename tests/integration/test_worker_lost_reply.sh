#!/usr/bin/env bash
# test_worker_lost_reply.sh - a work reply lost after the scheduler
# committed it (issue 21, hole 3).
#
# Usage: test_worker_lost_reply.sh BINDIR
#
# Three units (quorum 1).  The worker reaches the scheduler through
# lossy_proxy.py, which loses the first work reply that carries assignments
# (the connection closes unanswered, as after a timeout, a dropped connection
# or a scheduler crash between commit and reply): the scheduler has those
# replicas in progress on this host, the worker holds none.  The worker's
# next work request lists the replicas it holds ("held"), so the scheduler
# sends the lost ones again at once, instead of leaving them to their
# deadline a week away: the units are validated from exactly the replicas
# first sent, no other replica goes out, and nothing is left in progress.
#
# Then a scheduler from before "held" (the proxy's --old answers a work
# request listing it with the 400 such a scheduler gives): the worker leaves
# the list out from then on and its work goes on.  And results the scheduler
# refuses (the proxy's --spoil): each task becomes an error reported to the
# scheduler, which closes its replica - not dropped while still in progress
# there, to be sent again as lost and computed again, over and over.
set -euo pipefail
BINDIR=${1:?usage: $0 BINDIR}
source "$(dirname "$0")/worker_lib.sh"
wl_setup

make_recording "$WORK/rec" $((57344 * 2 + 65536))
make_project proj
"$SERVER" load "$PROJ" "$WORK/rec" --name three --unit-samples 2^16 "${ANALYSIS[@]}" \
    --chirp-max 5 --quorum 1 --replicas 1 -q
start_server
SCHED_URL=$URL
# proxy NAME ARGS...: a lossy_proxy.py in front of the scheduler, logging to
# WORK/NAME.log; sets URL to it.
proxy() {
    local name=$1
    shift
    python3 "$(dirname "$0")/lossy_proxy.py" "$SCHED_URL" "$WORK/$name.log" "$@" \
        >"$WORK/$name.out" &
    PIDS+=("$!")
    wait_until 10 grep -q "listening on" "$WORK/$name.out" ||
        { fail "the proxy did not start"; finish "worker lost reply"; }
    URL="http://127.0.0.1:$(sed -n 's/listening on //p' "$WORK/$name.out")"
}
proxy lost
attach_worker "$WORK/w" lou || fail "attach: $(cat "$WORK/w.attach.out")"
start_worker "$WORK/w"

if wait_until 60 units_validated 3; then
    pass "all three units validated after their work reply was lost"
else
    fail "not validated within 60 s: $("$SERVER" status "$PROJ"); lost: $(cat "$WORK/lost.log" \
        2>/dev/null); $(tail -5 "$WORK/w.log")"
fi
python3 - "$PROJ/ozma.db" "$WORK/lost.log" <<'PY' && pass "the lost replicas were sent again and \
validated; no other replica went out; none left in progress" || fail "replicas above"
import json, sqlite3, sys
c = sqlite3.connect(sys.argv[1], timeout=30)
lost = [json.loads(l) for l in open(sys.argv[2])]
print("lost replies:", lost)
assert len(lost) == 1 and len(lost[0]) == 3, lost
sent = sorted(r[0] for r in c.execute("SELECT id FROM replicas WHERE host_id IS NOT NULL"))
good = sorted(r[0] for r in c.execute("SELECT id FROM replicas WHERE outcome = 1"))
print("sent:", sent, "succeeded:", good)
assert sent == good == sorted(lost[0]), (sent, good)
assert c.execute("SELECT sum(in_progress) FROM hosts").fetchone()[0] == 0
PY
stop_worker "$WPID"
[[ $WORKER_RC -eq 0 ]] || fail "worker exit status $WORKER_RC"

# ---- a scheduler that does not know "held" ----
"$SERVER" load "$PROJ" "$WORK/rec" --name again --unit-samples 2^16 "${ANALYSIS[@]}" \
    --chirp-max 5 --quorum 1 --replicas 1 -q
proxy old --old
attach_worker "$WORK/v" olga || fail "attach: $(cat "$WORK/v.attach.out")"
start_worker "$WORK/v"
if wait_until 60 units_validated 6; then
    pass "a worker whose \"held\" a scheduler refuses still gets and returns its work"
else
    fail "not validated within 60 s: $("$SERVER" status "$PROJ"); $(tail -5 "$WORK/v.log")"
fi
[[ $(grep -c "refused held" "$WORK/old.log") -eq 1 ]] &&
    grep -q 'refused "held".*leaving it out' "$WORK/v.log" &&
    pass "it was refused once and left the list out after" ||
    fail "refusals: $(cat "$WORK/old.log"); $(grep held "$WORK/v.log")"
stop_worker "$WPID"
[[ $WORKER_RC -eq 0 ]] || fail "worker exit status $WORKER_RC"

# ---- results the scheduler refuses ----
"$SERVER" load "$PROJ" "$WORK/rec" --name spoilt --unit-samples 2^16 "${ANALYSIS[@]}" \
    --chirp-max 5 --quorum 1 --replicas 1 -q
proxy spoil --spoil
attach_worker "$WORK/s" sam || fail "attach: $(cat "$WORK/s.attach.out")"
start_worker "$WORK/s"
closed() {
    python3 - "$PROJ/ozma.db" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1], timeout=30)
n = c.execute("SELECT count(*) FROM replicas r JOIN units u ON u.id = r.unit_id"
              " WHERE u.name LIKE 'spoilt-%' AND r.outcome = 2"
              " AND r.error LIKE 'the scheduler refused the result (HTTP 400)%'").fetchone()[0]
sys.exit(0 if n == 3 else 1)
PY
}
if wait_until 60 closed; then
    pass "each refused result was reported as its replica's error"
else
    fail "refused results: $(tail -5 "$WORK/s.log")"
fi
sleep 3 # time for a replica wrongly sent again to be computed again
starts=$(grep -c "starting spoilt-" "$WORK/s.log" || true)
[[ $starts -eq 3 ]] && pass "and each unit was computed once ($starts)" ||
    fail "units computed $starts times: $(grep spoilt "$WORK/s.log" | tail -8)"
stop_worker "$WPID"
[[ $WORKER_RC -eq 0 ]] || fail "worker exit status $WORKER_RC"
stop_server
finish "worker lost reply"

#!/usr/bin/env bash
# test_worker_resume.sh - checkpoints: a worker killed with SIGKILL in the
# middle of a task, and one stopped with SIGTERM, resume where they were.
#
# Usage: test_worker_resume.sh BINDIR
#
# One unit of 2^18 samples sized to take about 4 s here (calibrated with ozma-search), quorum
# 1.  The worker checkpoints every 0.5 s.  Killed (-9) part way, the restarted
# worker must resume at a step no earlier than the progress it had shown
# less one checkpoint interval of work; stopped with SIGTERM (exit 0 within a
# second) it must resume exactly where status.json said it stopped.  The
# uploaded result must equal, signal for signal and bit for bit, what
# ozma-search finds in the same unit in one uninterrupted run.
set -euo pipefail
BINDIR=${1:?usage: $0 BINDIR}
source "$(dirname "$0")/worker_lib.sh"
wl_setup

# 2^18 samples: on a fast machine even the widest chirp range (1000 Hz/s)
# searches a 2^16 unit in under 2 s, too short to stop it part way reliably.
slow_units
CHIRP=$(calibrate_chirp 4 18)
make_recording "$WORK/rec" 262144
make_project proj
"$SERVER" load "$PROJ" "$WORK/rec" --name one --unit-samples 2^18 "${ANALYSIS[@]}" \
    --chirp-max "$CHIRP" --quorum 1 --replicas 1 -q
start_server
attach_worker "$WORK/w" carol "checkpoint_interval_s = 0.5" "status_interval_s = 0.1" ||
    fail "attach: $(cat "$WORK/w.attach.out")"

# progress FIELD: the first task's FIELD in status.json (progress, done, ...)
progress() {
    python3 -c "
import json, sys
t = json.load(open('$WORK/w/status.json'))['tasks']
print(t[0]['$1'] if t else 0)" 2>/dev/null || echo 0
}
past() { python3 -c "import sys; sys.exit(0 if $(progress progress) >= $1 else 1)"; }

# within_interval D E K: a resume at step K after D steps done in E s of
# computing lost at most one checkpoint interval (0.5 s) plus status.json's
# lag (0.1 s) of work
within_interval() {
    python3 -c "
D, E, K = $1, $2, ${3:-0}
import sys; sys.exit(0 if K > 0 and K >= D - D / E * 0.6 - 1 else 1)"
}

start_worker "$WORK/w"
if ! wait_until 60 past 0.3; then
    fail "the task never got to 30 % ($(cat "$WORK/w.log"))"
    finish "worker resume"
fi
D=$(progress done)
E=$(progress elapsed_s)
N=$(progress steps)
kill -9 "$WPID"
wait "$WPID" 2>/dev/null || true
echo "killed at step $D of $N after $E s of computing (chirp-max $CHIRP)"
[[ -e $(ls -d "$WORK"/w/tasks/*)/checkpoint.json ]] && pass "a checkpoint is on disk" ||
    fail "no checkpoint after kill -9"

start_worker "$WORK/w"
wait_until 20 grep -q "resuming" "$WORK/w.log" || fail "no resume: $(cat "$WORK/w.log")"
K=$(sed -n 's/.*resuming one-000000 at step \([0-9]*\) of.*/\1/p' "$WORK/w.log" | head -1)
if within_interval "$D" "$E" "${K:-0}"; then
    pass "kill -9 at step $D: resumed at step $K (no more than one interval redone)"
else
    fail "kill -9 at step $D (of $N, after $E s): resumed at step ${K:-none}"
fi

# SIGTERM part way: a final checkpoint, exit 0 within a second, resume exactly there
if wait_until 60 past 0.6; then
    stop_worker "$WPID"
    if [[ $WORKER_RC -eq 0 ]] && python3 -c "import sys; sys.exit(0 if $STOP_S < 1.0 else 1)"; then
        pass "SIGTERM mid-task: exit 0 in $STOP_S s"
    else
        fail "SIGTERM mid-task: exit $WORKER_RC after $STOP_S s"
    fi
    S=$(progress done)
    start_worker "$WORK/w"
    wait_until 20 bash -c "[[ \$(grep -c resuming '$WORK/w.log') -ge 2 ]]" || fail "no second resume"
    K2=$(sed -n 's/.*resuming one-000000 at step \([0-9]*\) of.*/\1/p' "$WORK/w.log" | sed -n 2p)
    if grep -q "resume from its last periodic checkpoint" "$WORK/w.log"; then
        # starved (SCHED_IDLE on a loaded machine), the thread could not end
        # its step within the worker's grace: the documented fallback, at most
        # one checkpoint interval redone, as after kill -9
        if [[ ${K2:-0} -le $S ]] && within_interval "$S" "$(progress elapsed_s)" "${K2:-0}"; then
            pass "SIGTERM at step $S on a starved thread: resumed at step $K2 (its last periodic checkpoint)"
        else
            fail "SIGTERM at step $S (starved): resumed at step ${K2:-none}"
        fi
    elif [[ ${K2:-0} -eq $S ]]; then
        pass "SIGTERM at step $S: resumed at step $K2"
    else
        fail "SIGTERM at step $S: resumed at step ${K2:-none}"
    fi
else
    fail "the task did not get to 60 %"
fi

if wait_until 60 units_validated 1; then pass "the resumed result was accepted and validated"
else fail "not validated: $("$SERVER" status "$PROJ")"; fi
stop_worker "$WPID"

# the uninterrupted run: ozma-search on the very unit file the scheduler serves
python3 -c "
import urllib.request
open('$WORK/unit.ozwu', 'wb').write(urllib.request.urlopen('$URL/units/one-000000.ozwu').read())"
"$SEARCH" -q "$WORK/unit.ozwu" >"$WORK/direct.json"
if python3 - "$WORK"/w/uploaded/*.json "$WORK/direct.json" <<'PY'
import json, sys
worker = json.load(open(sys.argv[1]))["result"]
direct = json.load(open(sys.argv[2]))
def clean(sig):
    return {k: v for k, v in sig.items() if k != "time_utc"}
a = [clean(s) for s in worker["signals"]]
b = [clean(s) for s in direct["signals"]]
assert a and a == b, "signals differ:\n%s\n%s" % (a, b)
assert {k: clean(v) for k, v in worker["best"].items()} == \
       {k: clean(v) for k, v in direct["best"].items()}, "best differ"
assert worker["flops"] == direct["flops"]
print("%d signals, identical" % len(a))
PY
then pass "the resumed result equals an uninterrupted ozma-search run"
else fail "resumed and uninterrupted results differ"; fi
stop_server
finish "worker resume"

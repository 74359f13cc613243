#!/usr/bin/env bash
# test_worker_control.sh - the volunteer's verbs on a running worker
# (boinccmd's): suspend, resume, nomorework, allowmorework, update, status,
# and the refusals around them.
#
# Usage: test_worker_control.sh BINDIR
#
# One unit sized to take about 6 s here, quorum 1, on a project whose
# scheduler asks workers back only after an hour (next_rpc_delay 3600), so
# that only `update` can make the worker ask again.  Checked as a user sees
# it: after `suspend` returns, the task's progress and the worker's CPU time
# stand still and a checkpoint is on disk; `resume` goes on; with
# `nomorework` the task held finishes and is reported and nothing new comes
# though work waits; `allowmorework` plus `update` fetches it at once.  Then
# who may: another user is refused control, and `status` as another user
# points at the service's directory or says to use sudo.  Then the one-line
# refusals: `run --config` with a missing file, `attach` to a web server
# that is not Ozma, `detach` with the scheduler down (unless --force).
set -euo pipefail
BINDIR=${1:?usage: $0 BINDIR}
source "$(dirname "$0")/worker_lib.sh"
wl_setup

slow_units
CHIRP=$(calibrate_chirp 6 18)
make_recording "$WORK/rec" 262144
make_project proj
python3 - "$PROJ/project.json" <<'PY'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c["next_rpc_delay"] = 3600
json.dump(c, open(p, "w"), indent=2)
PY
"$SERVER" load "$PROJ" "$WORK/rec" --name one --unit-samples 2^18 "${ANALYSIS[@]}" \
    --chirp-max "$CHIRP" --quorum 1 --replicas 1 -q
start_server
W="$WORK/w"
attach_worker "$W" dora "status_interval_s = 0.2" || fail "attach: $(cat "$W.attach.out")"

"$WORKER" status --dir "$W" >"$WORK/st0.txt" 2>&1 || true
grep -q "Worker     not running" "$WORK/st0.txt" && grep -q "Work fetch allowed" "$WORK/st0.txt" &&
    pass "status before run: not running, work fetch allowed" ||
    fail "status before run: $(cat "$WORK/st0.txt")"

# field KEY: the first task's KEY in status.json (0 without one)
field() {
    python3 -c "
import json
t = json.load(open('$W/status.json'))['tasks']
print(t[0]['$1'] if t else 0)" 2>/dev/null || echo 0
}
ntasks() { python3 -c "import json; print(len(json.load(open('$W/status.json'))['tasks']))"; }
past() { python3 -c "import sys; sys.exit(0 if $(field progress) >= $1 else 1)"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$WPID/stat"; }

start_worker "$W"
wait_until 60 past 0.1 || fail "the task never got to 10 % ($(cat "$W.log"))"

# ---- suspend: computing stops within a second, the checkpoint stays ----------------------
T0=$(now)
"$WORKER" suspend --dir "$W" >"$WORK/out.txt" 2>&1 || fail "suspend: $(cat "$WORK/out.txt")"
T1=$(now)
grep -q "computing suspended" "$WORK/out.txt" && pass "suspend acknowledged in $(python3 -c "print(round($T1 - $T0, 2))") s" ||
    fail "suspend said: $(cat "$WORK/out.txt")"
sleep 1
D1=$(field done)
C1=$(cpu_ticks)
sleep 1.5
D2=$(field done)
C2=$(cpu_ticks)
[[ $D1 -gt 0 && $D1 -eq $D2 ]] && pass "suspended: progress stands at step $D1" ||
    fail "suspended: progress moved from $D1 to $D2"
# clock ticks are 1/100 s: at most 0.1 s of CPU in 1.5 s (the loop's turns only)
(( C2 - C1 <= 10 )) && pass "suspended: $((C2 - C1)) CPU ticks in 1.5 s" ||
    fail "suspended: the worker used $((C2 - C1)) CPU ticks in 1.5 s"
[[ $(field state) == suspended ]] && pass "status.json: task suspended" ||
    fail "status.json: task state $(field state)"
ls "$W"/tasks/*/checkpoint.json >/dev/null 2>&1 && pass "a checkpoint is on disk" ||
    fail "no checkpoint while suspended"
"$WORKER" status --dir "$W" >"$WORK/st1.txt" 2>&1 || true
grep -q "suspended: by ozma-worker suspend" "$WORK/st1.txt" && pass "status says suspended" ||
    fail "status while suspended: $(cat "$WORK/st1.txt")"

# ---- resume -----------------------------------------------------------------------------------
"$WORKER" resume --dir "$W" >"$WORK/out.txt" 2>&1 || fail "resume: $(cat "$WORK/out.txt")"
wait_until 60 bash -c "(( \$(python3 -c \"import json; print(json.load(open('$W/status.json'))['tasks'][0]['done'])\") > $D2 ))" &&
    pass "resume: computing again from step $D2" || fail "resume: progress stuck at $D2"

# ---- nomorework: the task held finishes and is reported, nothing new comes ----------------
"$WORKER" nomorework --dir "$W" >"$WORK/out.txt" 2>&1 || fail "nomorework: $(cat "$WORK/out.txt")"
"$SERVER" load "$PROJ" "$WORK/rec" --name two --unit-samples 2^18 "${ANALYSIS[@]}" \
    --chirp-max "$CHIRP" --quorum 1 --replicas 1 -q
wait_until 120 units_validated 1 || fail "nomorework: the task held was not finished and reported"
sleep 1.5
[[ $(ntasks) -eq 0 ]] && pass "nomorework: the task held finished and was reported; no new work" ||
    fail "nomorework: the worker holds $(ntasks) tasks"
"$WORKER" status --dir "$W" >"$WORK/st2.txt" 2>&1 || true
grep -q "Work fetch no more work" "$WORK/st2.txt" && pass "status says no more work" ||
    fail "status after nomorework: $(cat "$WORK/st2.txt")"

# ---- allowmorework waits for next_rpc_delay (an hour); update asks now ------------------------
"$WORKER" allowmorework --dir "$W" >"$WORK/out.txt" 2>&1 || fail "allowmorework failed"
sleep 1.5
[[ $(ntasks) -eq 0 ]] && pass "allowmorework: waits for the scheduler's next_rpc_delay" ||
    fail "allowmorework: work came before next_rpc_delay"
"$WORKER" update --dir "$W" >"$WORK/out.txt" 2>&1 || fail "update: $(cat "$WORK/out.txt")"
wait_until 10 bash -c "[[ \$(python3 -c \"import json; print(len(json.load(open('$W/status.json'))['tasks']))\") -ge 1 ]]" &&
    pass "update: work fetched at once" || fail "update: no work within 10 s ($(tail -3 "$W.log"))"
"$WORKER" suspend --dir "$W" >/dev/null

# ---- who may ----------------------------------------------------------------------------------
if [[ $(id -u) -eq 0 ]] && command -v setpriv >/dev/null; then
    AS_NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/nonexistent)
    chmod 711 "$WORK" # nobody may pass through to W (0700, root's) but not read it
    for verb in resume update allowmorework; do
        rc=0
        "${AS_NOBODY[@]}" "$WORKER" $verb --dir "$W" >/dev/null 2>"$WORK/err.txt" || rc=$?
        [[ $rc -eq 2 && $(wc -l <"$WORK/err.txt") -eq 1 ]] &&
            grep -q "only that user or root may control its worker (try sudo)" "$WORK/err.txt" &&
            pass "another user's $verb is refused: $(cat "$WORK/err.txt")" ||
            fail "another user's $verb: exit $rc: $(cat "$WORK/err.txt")"
    done
    [[ $(field state) == suspended ]] && pass "the worker stayed suspended" ||
        fail "another user resumed the worker"
    rc=0
    "${AS_NOBODY[@]}" OZMA_WORKER_SERVICE_DIR="$W" "$WORKER" status >/dev/null 2>"$WORK/err.txt" ||
        rc=$?
    [[ $rc -eq 2 ]] && grep -q "use sudo ozma-worker" "$WORK/err.txt" &&
        pass "status by another user points at the service and sudo" ||
        fail "status by another user: exit $rc: $(cat "$WORK/err.txt")"
    chmod 700 "$WORK"
else
    echo "skip: the other-user checks need root and setpriv"
fi
rc=0
env HOME=/nonexistent OZMA_WORKER_SERVICE_DIR="$W" "$WORKER" status >"$WORK/st3.txt" 2>&1 || rc=$?
[[ $rc -eq 0 ]] && grep -q "Project    $URL" "$WORK/st3.txt" &&
    pass "status without a worker of one's own shows the service's" ||
    fail "status falling back to the service: exit $rc: $(cat "$WORK/st3.txt")"

# ---- refusals -------------------------------------------------------------------------------------
refuses "run --config with a missing file" "--config $WORK/nope.conf" run --dir "$W" \
    --config "$WORK/nope.conf"
mkdir -p "$WORK/web"
echo "<html><body>hello</body></html>" >"$WORK/web/index.html"
python3 -m http.server 0 --bind 127.0.0.1 --directory "$WORK/web" >"$WORK/web.log" 2>&1 &
PIDS+=($!)
wait_until 10 grep -q "port" "$WORK/web.log" || fail "http.server did not start"
WEB_PORT=$(sed -n 's/.*port \([0-9]*\).*/\1/p' "$WORK/web.log" | head -1)
refuses "attach to a web server that is not Ozma" "is not an Ozma project" attach \
    "http://127.0.0.1:$WEB_PORT" --name eve --dir "$WORK/w2"
grep -q "<html" "$WORK/err.txt" && fail "attach dumped the HTML" || true

stop_worker "$WPID"
stop_server
rc=0
"$WORKER" detach --dir "$W" >"$WORK/out.txt" 2>"$WORK/err.txt" || rc=$?
[[ $rc -eq 1 && $(wc -l <"$WORK/err.txt") -eq 1 ]] && grep -q "1 task would wait" "$WORK/err.txt" &&
    [[ -e $W/account.json ]] && pass "detach with the scheduler down refuses: $(cat "$WORK/err.txt")" ||
    fail "detach with the scheduler down: exit $rc: $(cat "$WORK/err.txt")"
rc=0
"$WORKER" detach --dir "$W" --force >"$WORK/out.txt" 2>"$WORK/err.txt" || rc=$?
[[ $rc -eq 0 && ! -e $W/account.json ]] && grep -q "1 task will wait for its deadline" "$WORK/out.txt" &&
    pass "detach --force: $(tail -1 "$WORK/out.txt")" ||
    fail "detach --force: exit $rc: $(cat "$WORK/out.txt" "$WORK/err.txt")"

finish "worker control"

#!/usr/bin/env bash
# test_worker_cpu.sh - how ozma-worker uses the CPU, read back from /proc.
#
# Usage: test_worker_cpu.sh BINDIR
#
# Three long units (2^18 samples, about 12 s of CPU each here).  Checked from
# /proc/PID/task/TID/{comm,stat} while the worker runs:
#   - compute threads ("ozma-compute") run at nice 19 and SCHED_IDLE (policy
#     5), the loop thread at its normal priority;
#   - max_cpus = 1 runs one compute thread and the process uses at most one
#     core; after max_cpus = 2 and SIGHUP, two threads run;
#   - cpu_throttle = 30 and SIGHUP hold each compute thread to about 30 % of
#     a core (at most 40 % measured over 3 s) while it still progresses.
# The bounds are upper bounds: a loaded machine gives a SCHED_IDLE thread
# less, never more, so they hold however busy the machine is.
set -euo pipefail
BINDIR=${1:?usage: $0 BINDIR}
source "$(dirname "$0")/worker_lib.sh"
wl_setup

slow_units
CHIRP=$(calibrate_chirp 12 18)
make_recording "$WORK/rec" $((229376 * 2 + 262144))
make_project proj
"$SERVER" load "$PROJ" "$WORK/rec" --name long --unit-samples 2^18 "${ANALYSIS[@]}" \
    --chirp-max "$CHIRP" --quorum 1 --replicas 1 -q
start_server
attach_worker "$WORK/w" frank "max_cpus = 1" || fail "attach: $(cat "$WORK/w.attach.out")"
start_worker "$WORK/w"

# probe SECONDS: the worker's threads and their CPU share over SECONDS, as JSON
probe() {
    python3 - "$WPID" "$1" <<'PY'
import json, os, sys, time
pid, secs = int(sys.argv[1]), float(sys.argv[2])
hz = os.sysconf("SC_CLK_TCK")
def snap():
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            comm = open("/proc/%d/task/%s/comm" % (pid, tid)).read().strip()
            f = open("/proc/%d/task/%s/stat" % (pid, tid)).read()
        except OSError:
            continue
        fields = f[f.rindex(")") + 2:].split()      # fields from 3 on
        out[tid] = dict(comm=comm, cpu=(int(fields[11]) + int(fields[12])) / hz,
                        nice=int(fields[16]), policy=int(fields[38]))
    return out
a, t0 = snap(), time.time()
time.sleep(secs)
b, t1 = snap(), time.time()
wall = t1 - t0
threads = [dict(tid=t, comm=v["comm"], nice=v["nice"], policy=v["policy"],
                share=(v["cpu"] - a[t]["cpu"]) / wall if t in a else 0) for t, v in b.items()]
print(json.dumps(dict(threads=threads, total=sum(t["share"] for t in threads))))
PY
}
computing() { [[ $(grep -c "starting long-" "$WORK/w.log") -ge $1 ]]; }
steps_done() {
    python3 -c "
import json
print(sum(t['done'] for t in json.load(open('$WORK/w/status.json'))['tasks']))"
}

wait_until 60 computing 1 || fail "no task started: $(cat "$WORK/w.log")"
sleep 0.5
P=$(probe 3)
echo "max_cpus = 1: $P"
if python3 - "$P" <<'PY'
import json, sys
p = json.loads(sys.argv[1])
comp = [t for t in p["threads"] if t["comm"] == "ozma-compute"]
main = [t for t in p["threads"] if t["comm"] == "ozma-worker"]
assert len(comp) == 1, "compute threads: %d" % len(comp)
assert all(t["nice"] == 19 and t["policy"] == 5 for t in comp), comp
assert main and main[0]["policy"] == 0 and main[0]["nice"] == 0, main
assert p["total"] <= 1.15, "the process used %.2f cores" % p["total"]
PY
then pass "max_cpus = 1: one compute thread at nice 19 / SCHED_IDLE, at most one core"
else fail "max_cpus = 1 (above)"; fi

sed -i 's/^max_cpus = 1$/max_cpus = 2/' "$WORK/w/worker.conf"
kill -HUP "$WPID"
two() { [[ $(grep -l "ozma-compute" /proc/"$WPID"/task/*/comm 2>/dev/null | wc -l) -eq 2 ]]; }
if wait_until 10 two; then pass "SIGHUP, max_cpus = 2: two compute threads"
else fail "after max_cpus = 2: $(cat /proc/"$WPID"/task/*/comm | tr '\n' ' ')"; fi
grep -q "preferences reloaded" "$WORK/w.log" || fail "no reload logged"

echo "cpu_throttle = 30" >>"$WORK/w/worker.conf"
kill -HUP "$WPID"
sleep 1
S0=$(steps_done)
P=$(probe 3)
# Progress shows through checkpoints, which a throttled thread writes less
# often in wall time: wait for the next one rather than a fixed window.
progressed() { [[ $(steps_done) -gt $S0 ]]; }
wait_until 20 progressed && S1=$(steps_done) || S1=$S0
echo "cpu_throttle = 30: $P"
if python3 - "$P" "$S0" "$S1" <<'PY'
import json, sys
p = json.loads(sys.argv[1])
comp = [t for t in p["threads"] if t["comm"] == "ozma-compute"]
assert len(comp) == 2, "compute threads: %d" % len(comp)
assert all(t["nice"] == 19 and t["policy"] == 5 for t in comp), comp
assert all(t["share"] <= 0.40 for t in comp), "shares %s" % [t["share"] for t in comp]
assert int(sys.argv[3]) > int(sys.argv[2]), "no progress while throttled"
PY
then pass "cpu_throttle = 30: each compute thread at most 40 % of a core, still progressing"
else fail "cpu_throttle (above)"; fi

stop_worker "$WPID"
[[ $WORKER_RC -eq 0 ]] && python3 -c "import sys; sys.exit(0 if $STOP_S < 1.0 else 1)" &&
    pass "SIGTERM with two compute threads: exit 0 in $STOP_S s" ||
    fail "SIGTERM: exit $WORKER_RC after $STOP_S s"
stop_server
finish "worker CPU"

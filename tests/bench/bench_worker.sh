#!/usr/bin/env bash
# bench_worker.sh - how much of ozma-worker's CPU time is the search kernel,
# and how much memory a running task costs.
#
# Usage: tests/bench/bench_worker.sh BINDIR [UNITS] [LOG2_UNIT_SAMPLES] [CHIRP_MAX]
#        (defaults: 4 units of 2^18 samples, chirp +-5 Hz/s, about a minute on
#        2 cores; use a Release build)
#
# A real ozma-server on loopback serves UNITS units (quorum 1) of a synthetic
# recording searched with the default analysis (FFT 8..131072, capped at the
# unit size) over a narrow chirp range; one worker, attached with default
# preferences except fast polling, runs them all at max_cpus = 100 %.
# Reported:
#   kernel share   sum of the kernel's own CPU seconds (cpu_s in every
#                  uploaded result) / the worker process's CPU seconds (utime
#                  + stime from /proc/PID/stat just before it is stopped);
#                  everything else - downloads, hashing, unit loading and
#                  conversion, FFTW planning, checkpoints, uploads - is the
#                  overhead.  Target >= 97 %.
#   memory         the worker's VmRSS idle (running, attached, before the
#                  dataset is loaded) and its peak VmRSS while N tasks run
#                  (sampled every 50 ms); (peak - idle) / N per task.
set -euo pipefail
BINDIR=${1:?usage: $0 BINDIR [UNITS] [LOG2] [CHIRP]}
UNITS=${2:-4}
K=${3:-18}
CHIRP=${4:-5}
SERVER="$BINDIR/ozma-server" WORKER="$BINDIR/ozma-worker" SYNTH="$BINDIR/ozma-synth"
WORK=$(mktemp -d)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$WORK"' EXIT

U=$((1 << K))
N=$((U + (UNITS - 1) * (U - U / 8)))
"$SYNTH" --out "$WORK/rec" --samples "$N" --datatype ci16_le --seed 11 \
    --spike f=1500,drift=0.5,snr=0.01 >/dev/null
"$SERVER" init "$WORK/proj" >/dev/null
python3 - "$WORK/proj/project.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); c["next_rpc_delay"] = 1
json.dump(c, open(sys.argv[1], "w"))
PY
"$SERVER" serve "$WORK/proj" --bind 127.0.0.1 --port 0 --quiet 2>"$WORK/server.log" &
SPID=$!
PIDS+=("$SPID")
for _ in $(seq 100); do grep -q serving "$WORK/server.log" && break; sleep 0.1; done
URL=$(grep -o 'http://[0-9.:]*' "$WORK/server.log" | head -1)
mkdir -p "$WORK/w"
printf '[worker]\nwork_buffer_s = 864000\nstatus_interval_s = 0.5\nkeep_results = yes\nsuspend_on_battery = no\n' \
    >"$WORK/w/worker.conf"
"$WORKER" attach "$URL" --name bench --dir "$WORK/w" >/dev/null

# idle RSS: a running worker with nothing to do (the dataset is loaded after)
"$WORKER" run --dir "$WORK/w" 2>"$WORK/w.log" &
WPID=$!
PIDS+=("$WPID")
sleep 1.5
IDLE=$(awk '/^VmRSS:/ {print $2 / 1024}' /proc/"$WPID"/status)
FFTMAX=$((U < 131072 ? U : 131072))
"$SERVER" load "$WORK/proj" "$WORK/rec" --name bench --unit-samples "2^$K" --chirp-max "$CHIRP" \
    --fft-max "$FFTMAX" --quorum 1 --replicas 1 -q
echo "$UNITS units of 2^$K samples, chirp +-$CHIRP Hz/s, FFT 8..$FFTMAX; $(nproc) CPUs"
T0=$EPOCHREALTIME
python3 - "$WPID" "$WORK" "$UNITS" "$IDLE" <<'PY'
import glob, json, os, sys, time
pid, work, units = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
hz = os.sysconf("SC_CLK_TCK")
def rss():
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
def running():
    return sum(1 for c in glob.glob("/proc/%d/task/*/comm" % pid)
               if open(c).read().strip() == "ozma-compute")
def cpu():
    f = open("/proc/%d/stat" % pid).read()
    f = f[f.rindex(")") + 2:].split()
    return (int(f[11]) + int(f[12])) / hz
idle = float(sys.argv[4])
peak = {}
while len(glob.glob(work + "/w/uploaded/*.json")) < units:
    n = running()
    if n:
        peak[n] = max(peak.get(n, 0), rss())
    time.sleep(0.05)
proc_cpu = cpu()
kernel = sum(json.load(open(p))["result"]["cpu_s"] for p in glob.glob(work + "/w/uploaded/*.json"))
print("worker CPU %.2f s, kernel CPU %.2f s: kernel share %.2f %%" % (proc_cpu, kernel,
      100 * kernel / proc_cpu))
print("RSS idle %.1f MiB; peak while running: %s" % (idle, ", ".join(
      "%d task%s %.1f MiB (%.1f MiB per task above idle)" % (n, "" if n == 1 else "s", r,
      (r - idle) / n) for n, r in sorted(peak.items()))))
PY
echo "wall $(python3 -c "print(round($EPOCHREALTIME - $T0, 1))") s"
kill -TERM "$WPID"
wait "$WPID" || true
kill -TERM "$SPID"
wait "$SPID" || true

# worker_lib.sh - what the ozma-worker integration scripts share (sourced,
# not a test itself): a real ozma-server on loopback with a small synthetic
# dataset, attached workers with test-speed preferences, polling with
# deadlines, and cleanup of every process the script started.
#
# Scripts set BINDIR before sourcing and call wl_setup first.  Every wait has
# a deadline, so a script never hangs; every process started here is killed
# (by its pid) on exit.

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SERVER="$BINDIR/ozma-server"
WORKER="$BINDIR/ozma-worker"
SYNTH="$BINDIR/ozma-synth"
SPLIT="$BINDIR/ozma-split"
SEARCH="$BINDIR/ozma-search"
PIDS=()

wl_cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
}

wl_setup() {
    local p
    for p in "$SERVER" "$WORKER" "$SYNTH" "$SPLIT" "$SEARCH"; do
        [[ -x "$p" ]] || { echo "FAIL: $p is not an executable" >&2; exit 1; }
    done
    WORK=$(mktemp -d)
    trap wl_cleanup EXIT
}

# now: seconds since the epoch with fractions.
now() { echo "$EPOCHREALTIME"; }

# wait_until SECONDS COMMAND...: polls COMMAND every 0.1 s; non-zero on timeout.
wait_until() {
    local end=$((${EPOCHREALTIME%.*} + $1))
    shift
    while ! "$@" 2>/dev/null; do
        if ((${EPOCHREALTIME%.*} > end)); then return 1; fi
        sleep 0.1
    done
}

# The analysis of the demo (deploy/demo.sh): FFT 64..4096, chirp +-CHIRP.
ANALYSIS=(--fft-min 64 --fft-max 4096 --gauss-fft-max 1024 --pulse-fft-max 1024
          --triplet-fft-max 1024 --gauss-sigma-s 0.4)

# make_recording STEM SAMPLES: a ci16 SigMF recording with one signal of each
# type (a spike and a pulse train only when shorter than 163840 samples).
make_recording() {
    local more=()
    if (($2 >= 163840)); then
        more=(--gaussian f=-2500,snr=0.0225,t=9.5,sigma=0.4
              --triplet f=3000,snr=0.25,t=14,period=1.1,width=0.1)
    fi
    "$SYNTH" --out "$1" --samples "$2" --datatype ci16_le --datetime 2026-11-25T12:00:00Z \
        --seed 7 --spike f=1500,drift=0.7,snr=0.0225 \
        --pulse f=-1000,snr=0.3,t=1,period=0.8,width=0.1,end=5.9 "${more[@]}" >/dev/null
}

# slow_units: for tests that must watch a unit run for seconds, the search
# also goes to FFT length 16384 (ANALYSIS gets --fft-max 16384): with the
# demo's analysis alone a 2^18-sample unit takes 2.5 s even at the kernel's
# widest chirp range, 1000 Hz/s.
slow_units() {
    ANALYSIS+=(--fft-max 16384)
}

# calibrate_chirp SECONDS [LOG2_UNIT]: the chirp range at which one unit of
# 2^LOG2_UNIT samples (default 16) takes about SECONDS of CPU here (this
# build, this machine), at least 5; fails when that needs more than the
# kernel's 1000 Hz/s (the analysis is too light: see slow_units).
calibrate_chirp() {
    local want=$1 k=${2:-16} d="$WORK/calib"
    mkdir -p "$d"
    "$SYNTH" --out "$d/rec$k" --samples $((1 << k)) --datatype ci16_le --seed 1 >/dev/null
    "$SPLIT" "$d/rec$k" --out "$d/u$k" --unit-samples "2^$k" "${ANALYSIS[@]}" --chirp-max 40 -q
    local t0 t1
    t0=$(now)
    "$SEARCH" -q "$d/u$k/rec$k-000000.ozwu" >/dev/null
    t1=$(now)
    python3 -c "
import sys
t = max($t1 - $t0, 0.02)
c = max(5, 40 * $want / t)
if c > 1000:
    sys.exit('calibrate_chirp: %.1f s at 40 Hz/s: %g s of work needs %.0f Hz/s, beyond 1000'
             % (t, $want, c))
print(round(c, 1))"
}

# make_project NAME: PROJ=WORK/NAME, a fresh project whose scheduler asks
# workers back after 1 s (the default 60 s would make tests wait).
make_project() {
    PROJ="$WORK/$1"
    oz_init "$SERVER" "$PROJ" >/dev/null
    python3 - "$PROJ/project.json" <<'PY'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c["next_rpc_delay"] = 1
json.dump(c, open(p, "w"), indent=2)
PY
}

# start_server [PORT]: serves PROJ on 127.0.0.1 (PORT, or any free one) and
# sets SERVER_PID, PORT and URL once it accepts connections.
start_server() {
    local log="$WORK/server.$RANDOM.log"
    "$SERVER" serve "$PROJ" --bind 127.0.0.1 --port "${1:-0}" --quiet 2>"$log" &
    SERVER_PID=$!
    PIDS+=("$SERVER_PID")
    if ! wait_until 15 grep -q "serving" "$log"; then
        echo "FAIL: ozma-server did not start: $(cat "$log")" >&2
        exit 1
    fi
    PORT=$(sed -n 's#.*http://127\.0\.0\.1:\([0-9]*\)/.*#\1#p' "$log" | head -1)
    URL="http://127.0.0.1:$PORT"
}

stop_server() {
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
}

# attach_worker DIR NAME [CONFIG LINES...]: a worker state directory attached
# as a new account NAME, with fast test preferences plus the lines given.
attach_worker() {
    local dir=$1 name=$2
    shift 2
    mkdir -p "$dir"
    {
        echo "[worker]"
        echo "work_buffer_s = 60"
        echo "checkpoint_interval_s = 1"
        echo "backoff_min_s = 0.5"
        echo "backoff_max_s = 4"
        echo "status_interval_s = 0.2"
        echo "net_timeout_s = 10"
        echo "keep_results = yes"
        echo "suspend_on_battery = no"
        local l
        for l in "$@"; do echo "$l"; done
    } >"$dir/worker.conf"
    "$WORKER" attach "$URL" --name "$name" --dir "$dir" >"$dir.attach.out" 2>&1
}

# start_worker DIR: runs a worker, its log in DIR.log; sets WPID.
start_worker() {
    "$WORKER" run --dir "$1" 2>>"$1.log" &
    WPID=$!
    PIDS+=("$WPID")
}

# stop_worker PID: SIGTERM, then waits; sets STOP_S (seconds until it
# exited) and WORKER_RC (its exit status).
stop_worker() {
    local t0 t1
    t0=$(now)
    kill -TERM "$1"
    while kill -0 "$1" 2>/dev/null; do
        # exited but not yet reaped: a zombie
        if [[ $(ps -o stat= -p "$1" 2>/dev/null) == Z* ]]; then break; fi
        sleep 0.01
    done
    t1=$(now)
    WORKER_RC=0
    wait "$1" 2>/dev/null || WORKER_RC=$?
    STOP_S=$(python3 -c "print(round($t1 - $t0, 3))")
}

# server_status KEY.PATH: one number from `ozma-server status --json`.
server_status() {
    "$SERVER" status "$PROJ" --json | python3 -c "
import json, sys
v = json.load(sys.stdin)
for k in '$1'.split('.'):
    v = v[k]
print(v)"
}

# units_validated N: all N units validated.
units_validated() { [[ $(server_status units.validated) -eq $1 ]]; }

# json_field FILE KEY: a top-level field of a JSON file.
json_field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2"; }

# refuses WHAT PATTERN ARGS...: ozma-worker ARGS exits 2 with one line naming
# PATTERN (lib.sh's expect_exit2), recorded as a pass or a failure.
refuses() { expect_exit2 "$WORKER" "$@" && pass "$1" || true; }

#!/usr/bin/env bash
# demo.sh - Ozma end to end on this machine, in one command: installs the
# Debian packages, builds the release preset, makes a project in a temp
# directory, writes a synthetic recording with injected signals of every
# type, loads it as work units, starts the scheduler and two workers under
# different accounts (alice founds a team, bob joins it), prints the URL of
# the web pages and shows the run's progress until every unit is validated
# and its signals are in the signal table.  Then it stops the workers and
# keeps serving the pages until Ctrl-C, and cleans up everything it started.
#
#   deploy/demo.sh [options]
#
#   --port P         serve on 127.0.0.1:P (default 8080; 0: any free port)
#   --bind ADDR      listen address (default 127.0.0.1)
#   --dir DIR        keep the project and logs in DIR (default: a temp dir,
#                    removed at the end)
#   --bin DIR        use the programs in DIR; skip installing and building
#   --samples N      length of the recording (default 2^21: 37 units)
#   --chirp-max R    the search's chirp range in Hz/s (default 60)
#   --headless       no waiting for Ctrl-C: stop when the dataset is done
#                    (or fail after --timeout seconds), for tests and CI
#   --then CMD       headless: run CMD (bash -c) once the dataset is done,
#                    with OZ_URL, OZ_DIR, OZ_PROJECT, OZ_TRUTH, OZ_BIN,
#                    OZ_WORKERS (the workers' directories, space-separated)
#                    set; the demo's exit status is CMD's
#   --timeout S      headless: seconds to wait for the dataset (default 300)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

port=8080 bind=127.0.0.1 dir="" bin="" samples=2097152 chirp=60 headless=0 then="" timeout=300
while [[ $# -gt 0 ]]; do
  case $1 in
    --port) port=$2; shift 2 ;;
    --bind) bind=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    --bin) bin=$2; shift 2 ;;
    --samples) samples=$2; shift 2 ;;
    --chirp-max) chirp=$2; shift 2 ;;
    --headless) headless=1; shift ;;
    --then) then=$2; shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "demo.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [[ -n $then && $headless -eq 0 ]]; then
  echo "demo.sh: --then needs --headless" >&2; exit 2
fi

say() { echo "== $*"; }
die() { echo "demo.sh: $*" >&2; exit 1; }

# --- install and build ------------------------------------------------------------------------
if [[ -z $bin ]]; then
  deploy/install-deps.sh
  say "building (release preset)"
  jobs=$(nproc 2>/dev/null || echo 2)
  if ! { cmake --preset release && cmake --build --preset release -j "$jobs"; } >/tmp/ozma-demo-build.$$.log 2>&1; then
    cat /tmp/ozma-demo-build.$$.log >&2
    die "the build failed"
  fi
  rm -f /tmp/ozma-demo-build.$$.log
  bin=$root/build/release/bin
fi
bin=$(cd "$bin" && pwd)
for p in ozma-server ozma-worker ozma-synth; do
  [[ -x $bin/$p ]] || die "$bin/$p is not an executable (build first, or give --bin)"
done

# --- the scratch directory and cleanup of everything started ----------------------------------
keep=1
if [[ -z $dir ]]; then
  dir=$(mktemp -d -t ozma-demo.XXXXXX)
  keep=0
fi
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [[ $keep -eq 0 ]]; then rm -rf "$dir"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# api METHOD PATH [JSON [TOKEN]]: one API call, the body on stdout.
api() {
  local auth=()
  [[ -n ${4:-} ]] && auth=(-H "Authorization: Bearer $4")
  curl -fsS -X "$1" -H 'Content-Type: application/json' "${auth[@]}" ${3:+-d "$3"} "$url$2"
}
# field KEY: a top-level field of the JSON on stdin.
field() { python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

# --- the project and the recording ------------------------------------------------------------
proj=$dir/project
"$bin/ozma-server" init "$proj" --name "Ozma demo" >/dev/null
# Workers ask again after 1 s (the default 60 s suits a real project, not a demo).
python3 - "$proj/project.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["next_rpc_delay"] = 1
json.dump(c, open(sys.argv[1], "w"), indent=2)
PY

say "ozma-synth: $samples samples at 9765.625 Hz around 1420 MHz, one signal of each type"
"$bin/ozma-synth" --out "$dir/rec" --samples "$samples" --datatype ci16_le \
  --datetime 2026-11-25T12:00:00Z --seed 7 --site 38.4331,-79.8398,807 --ra 83.63 --dec 22.01 \
  --spike f=1500,drift=0.7,snr=0.0225 \
  --gaussian f=-2500,snr=0.0225,t=9.5,sigma=0.4 \
  --pulse f=-1000,snr=0.3,t=1,period=0.8,width=0.1,end=5.9 \
  --triplet f=3000,snr=0.25,t=14,period=1.1,width=0.1 >/dev/null

say "ozma-server load: work units of 2^16 samples (FFT 64..4096, chirp +-$chirp Hz/s), quorum 2"
"$bin/ozma-server" load "$proj" "$dir/rec" --name demo --unit-samples 2^16 \
  --fft-min 64 --fft-max 4096 --gauss-fft-max 1024 --pulse-fft-max 1024 --triplet-fft-max 1024 \
  --gauss-sigma-s 0.4 --chirp-max "$chirp" --quiet

# --- the scheduler ----------------------------------------------------------------------------
# The log exists before the server starts: the background job opens it
# when it gets to, and a sed of a missing file would end this script
# (set -e, pipefail) with status 2 and no word.
: >"$dir/server.log"
"$bin/ozma-server" serve "$proj" --bind "$bind" --port "$port" 2>>"$dir/server.log" &
pids+=($!)
url=""
for _ in $(seq 150); do
  url=$(sed -n 's#^ozma-server: serving .* on \(http://.*\)/$#\1#p' "$dir/server.log" | head -1)
  [[ -n $url ]] && break
  kill -0 "${pids[0]}" 2>/dev/null || break
  sleep 0.1
done
[[ -n $url ]] || die "ozma-server did not start: $(cat "$dir/server.log")"

# --- two workers under different accounts, one team -----------------------------------------
attach() { # attach NAME [--team ID]
  local w=$dir/$1
  mkdir -p "$w"
  cat >"$w/worker.conf" <<EOF
[worker]
max_cpus = 1
work_buffer_s = 60
checkpoint_interval_s = 2
backoff_min_s = 0.5
backoff_max_s = 4
status_interval_s = 0.5
net_timeout_s = 10
suspend_on_battery = no
EOF
  "$bin/ozma-worker" attach "$url" --name "$1" --dir "$w" "${@:2}" >"$w.attach.log" 2>&1 ||
    die "attaching $1: $(cat "$w.attach.log")"
}
attach alice
alice_key=$(field authenticator <"$dir/alice/account.json")
team=$(api POST /api/v1/teams '{"name": "Demo team", "description": "the demo'"'"'s volunteers"}' \
       "$alice_key" | field team_id)
attach bob --team "$team"
for w in alice bob; do
  "$bin/ozma-worker" run --dir "$dir/$w" 2>"$dir/$w.log" &
  pids+=($!)
done
worker_pids=("${pids[@]:1}")

say "the web pages: $url/"
echo "   home $url/   accounts $url/users   signals $url/signals   status $url/status"
echo "   metrics $url/metrics   API $url/api/v1/status"

# --- progress until every unit is validated and assimilated ----------------------------------
progress() { # prints "DONE|RUNNING line"
  python3 - "$url" <<'PY'
import json, sys, urllib.request
url = sys.argv[1]
get = lambda p: json.load(urllib.request.urlopen(url + p, timeout=5))
d = get("/api/v1/datasets")["datasets"][0]
srv = get("/api/v1/server")
users = {u["name"]: u["total_credit"] for u in get("/api/v1/users")["users"]}
q = srv["queues"]
done = d["validated"] + d["error"] == d["units"] and q["validate"] == 0 and q["assimilate"] == 0
print("DONE" if done else "RUNNING",
      "units %d/%d validated, %d validating, %d in progress, %d unsent, %d error | signals %d | credit %s"
      % (d["validated"], d["units"], d["validating"], d["in_progress"], d["unsent"], d["error"],
         d["signals"], ", ".join("%s %.3f" % kv for kv in sorted(users.items()))))
PY
}
tty=0
[[ -t 1 ]] && tty=1
start=$SECONDS last=""
while :; do
  line=$(progress 2>/dev/null) || line="RUNNING (the server did not answer)"
  state=${line%% *} text=${line#* }
  if [[ $tty -eq 1 ]]; then
    printf '\r\033[K   %s' "$text"
  elif [[ $text != "$last" ]]; then
    echo "   $text"
  fi
  last=$text
  [[ $state == DONE ]] && break
  for p in "${pids[@]}"; do
    kill -0 "$p" 2>/dev/null || die "a process stopped early; logs in $dir (server.log, alice.log, bob.log)"
  done
  if ((SECONDS - start > timeout)) && [[ $headless -eq 1 ]]; then
    keep=1
    die "the dataset was not done within $timeout s; logs in $dir"
  fi
  sleep 1
done
[[ $tty -eq 1 ]] && echo
say "every unit is done in $((SECONDS - start)) s"

# The workers have nothing more to do: stop them (the server keeps their credit).
for p in "${worker_pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
for p in "${worker_pids[@]}"; do wait "$p" 2>/dev/null || true; done
pids=("${pids[0]}")

python3 - "$dir/rec.truth.json" "$url" <<'PY'
import json, sys, urllib.request
truth = json.load(open(sys.argv[1]))["signals"]
found = json.load(urllib.request.urlopen(sys.argv[2] + "/api/v1/signals?limit=500"))["signals"]
print("   injected:")
for t in truth:
    print("     %-8s f=%+8.1f Hz  drift=%+.2f Hz/s  t=%5.2f s" % (t["type"], t["freq_hz"],
          t["chirp_hz_s"], t["time_s"]))
print("   found: %d canonical signals (the signal browser plots them)" % len(found))
cands, after = [], None
while True:
    page = json.load(urllib.request.urlopen(sys.argv[2] + "/api/v1/candidates?limit=500" +
                                            ("&after=" + after if after else "")))
    cands += page["candidates"]
    after = page["next"]
    if after is None:
        break
print("   recovered as candidates:")
for t in truth:
    # the best candidate with a detection on the injected signal's track
    span = abs(t["chirp_hz_s"]) * 30 + 200
    hits = [c for c in cands if abs(c["freq_hz"] - t["freq_hz"] -
                                    t["chirp_hz_s"] * (c["time_s"] - t["time_s"])) < span]
    if hits:
        c = max(hits, key=lambda c: c["score"])
        print("     %-8s -> candidate #%d: %s at %.1f Hz, score %.3g, %d detections%s" % (
            t["type"], c["id"], c["type"], c["freq_hz"], c["score"], c["detections"],
            " (RFI: %s)" % c["rfi"] if c["rfi"] else ""))
    else:
        print("     %-8s -> no candidate" % t["type"])
print("   %d candidates in all, %d flagged as RFI (the candidates page ranks them)" % (
    len(cands), sum(1 for c in cands if c["rfi"])))
PY

if [[ $headless -eq 1 ]]; then
  if [[ -n $then ]]; then
    say "running: $then"
    rc=0
    OZ_URL=$url OZ_DIR=$dir OZ_PROJECT=$proj OZ_TRUTH=$dir/rec.truth.json OZ_BIN=$bin \
      OZ_WORKERS="$dir/alice $dir/bob" bash -c "$then" || rc=$?
    exit $rc
  fi
  exit 0
fi
say "serving $url/ until Ctrl-C (files in $dir)"
wait "${pids[0]}" || true

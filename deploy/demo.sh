#!/usr/bin/env bash
# demo.sh - what Ozma does today, end to end on this machine: installs the
# packages, builds (release), writes a synthetic SigMF recording with one
# signal of every type, cuts it into .ozwu work units, searches the
# recording, and prints what was injected beside what was found.
#
#   deploy/demo.sh [DIR]        DIR keeps the files (default: a temp dir)
#
# The scheduler, workers and web pages join this demo when they exist.
set -euo pipefail
cd "$(dirname "$0")/.."

deploy/install-deps.sh
if [ ! -x build/release/bin/ozma-search ]; then
  cmake --preset release >/dev/null
  cmake --build --preset release -j "$(nproc 2>/dev/null || echo 2)" >/dev/null
fi
bin=build/release/bin

dir=${1:-$(mktemp -d -t ozma-demo.XXXXXX)}
mkdir -p "$dir"
echo "== files in $dir"

# A small analysis so the demo takes seconds: FFT 64..4096, chirp +-5 Hz/s.
cfg=(--fft-min 64 --fft-max 4096 --chirp-max 5 --gauss-fft-max 1024 --pulse-fft-max 1024
     --triplet-fft-max 1024 --gauss-sigma-s 0.4)

echo "== ozma-synth: 2.5 units of 2^16 samples at 9765.625 Hz around 1420 MHz"
"$bin/ozma-synth" --out "$dir/demo" --samples 163840 --datatype ci16_le \
  --datetime 2026-11-25T12:00:00Z --seed 7 \
  --spike f=1500,drift=0.7,snr=0.0225 \
  --gaussian f=-2500,snr=0.0225,t=9.5,sigma=0.4 \
  --pulse f=-1000,snr=0.3,t=1,period=0.8,width=0.1,end=5.9 \
  --triplet f=3000,snr=0.25,t=14,period=1.1,width=0.1

echo "== ozma-split: .ozwu work units"
"$bin/ozma-split" "$dir/demo" --out "$dir/units" --unit-samples 2^16 "${cfg[@]}" --quiet
ls -l "$dir/units"

echo "== ozma-search: the whole recording, unit by unit"
"$bin/ozma-search" "$dir/demo" --unit-samples 2^16 "${cfg[@]}" --quiet --out "$dir/result.json"

python3 - "$dir/demo.truth.json" "$dir/result.json" <<'PY'
import json, sys
truth = json.load(open(sys.argv[1]))
res = json.load(open(sys.argv[2]))
print("\ninjected:")
for s in truth.get("signals", []):
    print("  %-8s f=%.3f Hz  drift=%+.2f Hz/s  t=%.2f s" % (s.get("type"), s.get("freq_hz", 0),
          s.get("drift_hz_s", s.get("chirp_hz_s", 0)), s.get("time_s", 0)))
print("found (%d signals%s):" % (len(res["signals"]), ", overflow" if res["overflow"] else ""))
for s in res["signals"]:
    extra = ""
    if "period_s" in s:
        extra = "  period=%.3f s" % s["period_s"]
    print("  %-8s f=%.3f Hz  chirp=%+.2f Hz/s  t=%.2f s  (%s)  score %.1f%s" % (
        s["type"], s["freq_hz"], s["chirp_hz_s"], s["time_s"], s.get("time_utc", "-"),
        s["score"], extra))
PY
echo "== result: $dir/result.json"

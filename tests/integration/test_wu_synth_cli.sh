#!/usr/bin/env bash
# test_wu_synth_cli.sh - ozma-synth as a real process.
#
# Usage: test_wu_synth_cli.sh BINDIR   (the directory holding ozma-synth)
#
# Writes recordings in every datatype and checks with python3 (stdlib only)
# that the SigMF meta says what was asked, the data file has the right size
# and its noise sits at the documented level, the truth file lists every
# injected signal at its absolute frequency, a seed names the same bytes;
# then that every kind of bad usage exits 2 with one line on stderr that
# starts "ozma-synth: " and names the problem.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

BINDIR=${1:?usage: $0 BINDIR}
SYNTH="$BINDIR/ozma-synth"
[[ -x "$SYNTH" ]] || { echo "FAIL: $SYNTH is not an executable" >&2; exit 1; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

N=100003
SIGNALS=(--spike f=1200,drift=0.5,snr=0.02
         --gaussian f=-800,snr=0.05,t=5,sigma=1
         --pulse f=300,snr=0.5,t=1,period=3,width=0.2
         --triplet f=2000,snr=1,t=2,period=2,width=0.1)

for dt in ci8 ci16_le ci16_be cf32_le cf32_be; do
    if ! "$SYNTH" --out "$WORK/rec-$dt" --samples $N --datatype $dt --seed 7 \
            --datetime 2024-05-01T12:00:00Z --ra 83.633 --dec 22.0145 "${SIGNALS[@]}" \
            2>"$WORK/err.txt"; then
        fail "$dt: ozma-synth failed: $(cat "$WORK/err.txt")"
        continue
    fi
    if python3 - "$WORK/rec-$dt" "$dt" $N <<'EOF'
import json, math, os, struct, sys
stem, dt, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
meta = json.load(open(stem + ".sigmf-meta"))
g, c = meta["global"], meta["captures"][0]
assert g["core:datatype"] == dt, g
assert g["core:sample_rate"] == 9765.625
assert g["core:version"].startswith("1.")
assert abs(g["ozma:ra_deg"] - 83.633) < 1e-12 and abs(g["ozma:dec_deg"] - 22.0145) < 1e-12
assert c["core:frequency"] == 1420e6 and c["core:sample_start"] == 0
assert c["core:datetime"] == "2024-05-01T12:00:00Z"
bps = {"ci8": 2, "ci16_le": 4, "ci16_be": 4, "cf32_le": 8, "cf32_be": 8}[dt]
data = open(stem + ".sigmf-data", "rb").read()
assert len(data) == n * bps, (len(data), n * bps)
# noise level: an eighth of full scale per component for integers, unit
# power for floats (the signals add a little)
fmt = {"ci8": "b", "ci16_le": "<h", "ci16_be": ">h", "cf32_le": "<f", "cf32_be": ">f"}[dt]
vals = [v[0] for v in struct.iter_unpack(fmt, data[: 20000 * bps])]
rms = math.sqrt(sum(v * v for v in vals) / len(vals))
want = {"ci8": 16, "ci16_le": 4096, "ci16_be": 4096}.get(dt, math.sqrt(0.5))
assert abs(rms / want - 1) < 0.1, (rms, want)
truth = json.load(open(stem + ".truth.json"))
assert truth["nsamples"] == n and truth["datatype"] == dt and truth["seed"] == 7
types = [s["type"] for s in truth["signals"]]
assert types == ["spike", "gaussian", "pulse", "triplet"], types
sp = truth["signals"][0]
assert abs(sp["freq_hz"] - (1420e6 + 1200 + 0.5 * sp["time_s"])) < 1e-6
assert truth["signals"][1]["time_s"] == 5 and truth["signals"][1]["sigma_s"] == 1
assert truth["signals"][3]["t_end"] == 2 + 2 * 2 + 0.1
assert truth["clipped_values"] == 0
EOF
    then pass "$dt recording, meta and truth"; else fail "$dt: checks above"; fi
done

# A seed names the bytes; another seed, other bytes.
"$SYNTH" --out "$WORK/again" --samples $N --datatype ci8 --seed 7 \
    --datetime 2024-05-01T12:00:00Z --ra 83.633 --dec 22.0145 "${SIGNALS[@]}"
"$SYNTH" --out "$WORK/other" --samples $N --datatype ci8 --seed 8 "${SIGNALS[@]}"
if cmp -s "$WORK/again.sigmf-data" "$WORK/rec-ci8.sigmf-data"; then
    pass "same seed, same bytes"
else
    fail "same seed gave different bytes"
fi
if cmp -s "$WORK/other.sigmf-data" "$WORK/rec-ci8.sigmf-data"; then
    fail "another seed gave the same bytes"
else
    pass "another seed, other bytes"
fi

# Quantisation is reported when a signal overdrives an integer type.
"$SYNTH" --out "$WORK/loud" --samples 10000 --datatype ci8 --spike f=100,snr=1000 \
    2>"$WORK/err.txt"
if grep -q "clipped" "$WORK/err.txt" &&
    python3 -c "import json,sys; assert json.load(open(sys.argv[1]))['clipped_values'] > 0" \
        "$WORK/loud.truth.json"; then
    pass "clipping is reported"
else
    fail "clipping was not reported"
fi

# expect_bad WHAT PATTERN ARGS...: exit 2, one stderr line "ozma-synth: ..." with PATTERN.
expect_bad() {
    expect_exit2 "$SYNTH" "$@" && pass "$1"
}

B="$WORK/bad"
expect_bad "no --out" "--out STEM is required"
expect_bad "unknown option" "unknown option --colour" --out "$B" --colour red
expect_bad "bad datatype" "cu8" --out "$B" --datatype cu8
expect_bad "bad sample count" "--samples" --out "$B" --samples lots
expect_bad "bad number in a spec" "--spike snr" --out "$B" --spike f=1,snr=high
expect_bad "unknown spec key" "unknown key \"period\"" --out "$B" --spike f=1,snr=1,period=2
expect_bad "missing snr" "f= and snr= are required" --out "$B" --spike f=100
expect_bad "tone outside the band" "outside the band" --out "$B" --spike f=6000,snr=1
expect_bad "triplet that does not fit" "do not fit" --out "$B" --samples 2^16 \
    --triplet f=1,snr=1,t=5,period=1,width=0.1
expect_bad "ra without dec" "--ra and --dec" --out "$B" --ra 10
expect_bad "bad datetime" "--datetime" --out "$B" --datetime yesterday
expect_bad "missing value" "--seed needs a value" --out "$B" --seed
if ls "$WORK"/bad* >/dev/null 2>&1; then fail "a refused run left files"; else pass "refusals leave no files"; fi

# The metadata cannot be put in place (a directory holds its name): the run
# fails and leaves no data file without metadata (review finding).
mkdir "$WORK/blocked.sigmf-meta"
if "$SYNTH" --out "$WORK/blocked" --samples 4096 2>/dev/null; then
    fail "a run whose metadata cannot be written succeeded"
elif [[ -e "$WORK/blocked.sigmf-data" ]]; then
    fail "a failed run left blocked.sigmf-data without its metadata"
else
    pass "a failed metadata write leaves no data behind"
fi

"$SYNTH" --help | grep -q "SYNOPSIS" && pass "--help" || fail "--help"

# The summary line on stdout; no progress bar when stderr is not a terminal;
# a progress bar ending at 100 % when it is (script(1) gives it one).
"$SYNTH" --out "$WORK/sum" --samples 2^18 --datatype ci8 --spike f=100,drift=0,snr=1 \
    >"$WORK/sum.out" 2>"$WORK/sum.err"
grep -qE "^wrote $WORK/sum.sigmf-data: 262144 ci8 samples \(26\.8 s at 9765\.625 Hz\), 1 signal injected, truth in $WORK/sum.truth.json, in [0-9.]+ s$" \
    "$WORK/sum.out" && [[ $(wc -l <"$WORK/sum.out") -eq 1 && ! -s $WORK/sum.err ]] &&
    pass "one summary line: $(cat "$WORK/sum.out")" ||
    fail "summary: $(cat "$WORK/sum.out" "$WORK/sum.err")"
"$SYNTH" -q --out "$WORK/sumq" --samples 4096 >"$WORK/sumq.out" 2>&1
[[ ! -s $WORK/sumq.out ]] && pass "-q: silent" || fail "-q printed: $(cat "$WORK/sumq.out")"
if command -v script >/dev/null; then
    script -qec "$SYNTH --out $WORK/tty --samples 2^20" /dev/null >"$WORK/tty.out" 2>&1 || true
    grep -q "100.0%" "$WORK/tty.out" && grep -q "^wrote" <(tr '\r' '\n' <"$WORK/tty.out") &&
        pass "a terminal gets a progress bar to 100 %" || fail "no progress bar: $(cat "$WORK/tty.out")"
fi

finish "ozma-synth"

#!/usr/bin/env bash
# test_wu_split_cli.sh - ozma-split as a real process.
#
# Usage: test_wu_split_cli.sh BINDIR   (the directory holding ozma-split, ozma-synth)
#
# Splits a synthetic SigMF recording of odd length and checks with python3
# (stdlib only) the unit count, start samples (tail aligned to the end),
# ids, the manifest's hashes against the files, every unit's prefix and
# header (format, analysis flags, start time), and that a raw recording
# splits the same way.  Then corrupt inputs: units with a flipped byte, a
# truncated unit, a header that lies, bad SigMF meta, bad flags - each must
# exit 2 with one line on stderr that starts "ozma-split: " and names it.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

BINDIR=${1:?usage: $0 BINDIR}
SPLIT="$BINDIR/ozma-split"
SYNTH="$BINDIR/ozma-synth"
for p in "$SPLIT" "$SYNTH"; do
    [[ -x "$p" ]] || { echo "FAIL: $p is not an executable" >&2; exit 1; }
done

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

N=$((3 * 65536 + 12345))
"$SYNTH" --out "$WORK/rec" --samples $N --datatype ci8 --seed 3 \
    --datetime 2024-05-01T12:00:00Z --spike f=500,snr=0.02

if out=$("$SPLIT" "$WORK/rec" --out "$WORK/units" --unit-samples 2^16 --overlap 0.125 \
        --dataset survey --fft-max 4096 --chirp-max=5 --planner measure 2>"$WORK/err.txt"); then
    pass "split ran: $out"
else
    fail "ozma-split failed: $(cat "$WORK/err.txt")"
fi

if python3 - "$WORK/units" $N <<'EOF'
import hashlib, json, os, struct, sys
d, n = sys.argv[1], int(sys.argv[2])
m = json.load(open(os.path.join(d, "manifest.json")))
unit, step = 65536, 65536 - 8192
starts = [0, step, 2 * step, n - unit]           # three regular units and a tail
assert m["nsamples"] == n and m["unit_samples"] == unit and m["overlap_samples"] == 8192
assert m["dataset"] == "survey" and m["sample_format"] == "ci8"
assert m["start_utc"] == "2024-05-01T12:00:00.000000000Z"
assert [u["start_sample"] for u in m["units"]] == starts, m["units"]
files = sorted(f for f in os.listdir(d) if f.endswith(".ozwu"))
assert files == ["survey-%06d.ozwu" % i for i in range(4)], files
for i, u in enumerate(m["units"]):
    blob = open(os.path.join(d, u["file"]), "rb").read()
    assert u["unit_id"] == "survey-%06d" % i
    assert u["bytes"] == len(blob)
    assert u["sha256"] == hashlib.sha256(blob).hexdigest()
    magic, ver, hlen, plen = struct.unpack_from("<4sIIQ", blob)
    assert magic == b"OZWU" and ver == 1
    assert blob[20:52] == hashlib.sha256(blob[52:52 + hlen]).digest()
    assert len(blob) == 52 + hlen + plen and plen == unit * 2
    h = json.loads(blob[52:52 + hlen])
    assert h["sample_format"] == "ci8" and h["sample_count"] == unit
    assert h["start_sample"] == starts[i] and h["unit_index"] == i
    assert h["analysis"]["fft_max"] == 4096 and h["analysis"]["chirp_max"] == 5
    assert h["analysis"]["planner"] == "measure"
    assert h["payload_sha256"] == hashlib.sha256(blob[52 + hlen:]).hexdigest()
    assert abs(h["start_s"] - starts[i] / 9765.625) < 1e-12
    assert h["start_utc"].startswith("2024-05-01T12:00:")
# the payloads are the recording's bytes
data = open(d + "/../rec.sigmf-data", "rb").read()
for i, s in enumerate(starts):
    blob = open(os.path.join(d, "survey-%06d.ozwu" % i), "rb").read()
    hlen = struct.unpack_from("<I", blob, 8)[0]
    assert blob[52 + hlen:] == data[2 * s: 2 * (s + unit)]
EOF
then pass "units, manifest, hashes, headers and payloads"; else fail "unit checks above"; fi

# The same samples as raw ci8 split alike (default dataset id: the file name).
cp "$WORK/rec.sigmf-data" "$WORK/raw.ci8"
"$SPLIT" "$WORK/raw.ci8" --out "$WORK/rawunits" --unit-samples 65536 --format ci8 \
    --sample-rate 9765.625 --center-freq 1420e6 --datetime 2024-05-01T12:00:00Z \
    --fft-max 4096 --chirp-max 5 --planner measure --dataset survey -q
if cmp -s "$WORK/rawunits/survey-000003.ozwu" "$WORK/units/survey-000003.ozwu"; then
    pass "raw input splits into the same units"
else
    fail "raw input gave other units"
fi

# expect_bad WHAT PATTERN ARGS...: exit 2, one stderr line "ozma-split: ..." with PATTERN.
expect_bad() {
    expect_exit2 "$SPLIT" "$@" && pass "$1"
}

O="$WORK/out-bad"
U="$WORK/units/survey-000001.ozwu"
# Corrupt units (an .ozwu file is a valid input, so the reader's checks run).
cp "$U" "$WORK/flip.ozwu"
printf '\x55' | dd of="$WORK/flip.ozwu" bs=1 seek=$(( $(stat -c %s "$U") - 100 )) conv=notrunc status=none
expect_bad "flipped payload byte" "payload SHA-256" "$WORK/flip.ozwu" --out "$O"
cp "$U" "$WORK/fliph.ozwu"
printf 'X' | dd of="$WORK/fliph.ozwu" bs=1 seek=70 conv=notrunc status=none
expect_bad "flipped header byte" "header does not match its SHA-256" "$WORK/fliph.ozwu" --out "$O"
head -c 5000 "$U" >"$WORK/trunc.ozwu"
expect_bad "truncated unit" "truncated" "$WORK/trunc.ozwu" --out "$O"
head -c 10 "$U" >"$WORK/tiny.ozwu"
printf 'OZWU' >"$WORK/tiny.ozwu"
expect_bad "unit shorter than its prefix" "too short" "$WORK/tiny.ozwu" --out "$O"
python3 - "$U" "$WORK" <<'EOF'
import hashlib, json, struct, sys
blob = open(sys.argv[1], "rb").read()
w = sys.argv[2]
magic, ver, hlen, plen = struct.unpack_from("<4sIIQ", blob)
h = json.loads(blob[52:52 + hlen])
payload = blob[52 + hlen:]
def write(name, header, payload, ver=1, plen=None):
    t = json.dumps(header).encode()
    pre = struct.pack("<4sIIQ", b"OZWU", ver, len(t), len(payload) if plen is None else plen)
    open(w + "/" + name, "wb").write(pre + hashlib.sha256(t).digest() + t + payload)
lie = dict(h); lie["sample_count"] = 2 * h["sample_count"]
write("count.ozwu", lie, payload)                     # count larger than the payload
write("version.ozwu", h, payload, ver=9)              # wrong version
write("huge.ozwu", h, payload, plen=1 << 40)          # huge length
bad = dict(h); bad["analysis"] = dict(h["analysis"]); bad["analysis"]["fft_max"] = 1000
write("config.ozwu", bad, payload)                    # impossible configuration
open(w + "/json.ozwu", "wb").write(struct.pack("<4sIIQ", b"OZWU", 1, 5, 0)
                                   + hashlib.sha256(b"{oops").digest() + b"{oops")
EOF
expect_bad "header count larger than the payload" "header says 131072 samples but payload holds 65536" \
    "$WORK/count.ozwu" --out "$O"
expect_bad "wrong version" "format version 9 is not supported" "$WORK/version.ozwu" --out "$O"
expect_bad "huge payload length" "exceeds the limit" "$WORK/huge.ozwu" --out "$O"
expect_bad "impossible analysis" "analysis: fft_max" "$WORK/config.ozwu" --out "$O"
expect_bad "bad header JSON" "header is not valid JSON" "$WORK/json.ozwu" --out "$O"

# Bad SigMF meta files.
cp "$WORK/rec.sigmf-data" "$WORK/m.sigmf-data"
echo '{"global": {"core:datatype": "ci8", "core:version": "1.0.0"}, "captures": [{"core:frequency": 1e9}]}' \
    >"$WORK/m.sigmf-meta"
expect_bad "meta without sample rate" "global.core:sample_rate is missing" "$WORK/m" --out "$O"
echo '{"global": {"core:datatype": "ci32_le", "core:version": "1.0.0", "core:sample_rate": 1e3}, "captures": [{"core:frequency": 1e9}]}' \
    >"$WORK/m.sigmf-meta"
expect_bad "meta with unknown datatype" "global.core:datatype \"ci32_le\"" "$WORK/m" --out "$O"
echo '{"global": {' >"$WORK/m.sigmf-meta"
expect_bad "meta that is not JSON" "invalid JSON" "$WORK/m.sigmf-meta" --out "$O"
head -c 1001 "$WORK/rec.sigmf-data" >"$WORK/odd.sigmf-data"
cp "$WORK/rec.sigmf-meta" "$WORK/odd.sigmf-meta"
expect_bad "data not a whole number of samples" "whole number of ci8 samples" "$WORK/odd" --out "$O"

# Bad flags.
expect_bad "no output directory" "--out DIR is required" "$WORK/rec"
expect_bad "no recording" "no recording given" --out "$O"
expect_bad "unit size not a power of two" "power of two" "$WORK/rec" --out "$O" --unit-samples 100000
expect_bad "overlap too large" "--overlap: 0.9 is not a fraction" "$WORK/rec" --out "$O" --overlap 0.9
expect_bad "unknown analysis option" "unknown option '--fft-size'" "$WORK/rec" --out "$O" --fft-size 4096
expect_bad "impossible analysis option" "--fft-max 1000" "$WORK/rec" --out "$O" --fft-max 1000
expect_bad "units shorter than the largest FFT" "fft_max" "$WORK/rec" --out "$O" --unit-samples 2^12
expect_bad "recording shorter than a unit" "fewer than one unit" "$WORK/rec" --out "$O" --unit-samples 2^20
expect_bad "raw flags without --format" "give --format too" "$WORK/raw.ci8" --out "$O" --sample-rate 1000
expect_bad "--format without rate" "--sample-rate and --center-freq" "$WORK/raw.ci8" --out "$O" --format ci8
expect_bad "unknown --format" "is not ci8, ci16 or cf32" "$WORK/raw.ci8" --out "$O" --format cu8 --sample-rate 1 --center-freq 0
expect_bad "raw file without --format" "--format" "$WORK/raw.ci8" --out "$O"
expect_bad "bad dataset id" "dataset id" "$WORK/rec" --out "$O" --dataset "a b" --fft-max 4096 --unit-samples 2^16
expect_bad "missing recording" "cannot open" "$WORK/nothing.sigmf-meta" --out "$O"
if ls "$O"/*.ozwu >/dev/null 2>&1; then fail "a refused split left units"; else pass "refusals leave no units"; fi

# --config FILE (in either spelling) under flags, whatever the order.
echo '{"fft_max": 2048, "chirp_max": 3}' >"$WORK/cfg.json"
"$SPLIT" "$WORK/rec" --chirp-max 4 --out "$WORK/cfgunits" --unit-samples 2^16 -q --config="$WORK/cfg.json"
if python3 - "$WORK/cfgunits/rec-000000.ozwu" <<'EOF'
import json, struct, sys
b = open(sys.argv[1], "rb").read()
h = json.loads(b[52:52 + struct.unpack_from("<I", b, 8)[0]])
assert h["analysis"]["fft_max"] == 2048 and h["analysis"]["chirp_max"] == 4, h["analysis"]
EOF
then pass "--config under flags"; else fail "--config under flags"; fi
echo '{"fft_max": 2048,' >"$WORK/badcfg.json"
expect_bad "bad --config file" "--config: " "$WORK/rec" --out "$O" --config "$WORK/badcfg.json"

# A unit that cannot be put in place (a directory holds its name): the split
# fails and removes the units it wrote, leaving no partial set (review finding).
mkdir -p "$WORK/partial/rec-000003.ozwu"
if "$SPLIT" "$WORK/rec" --out "$WORK/partial" --unit-samples 1024 --fft-max 256 -q 2>/dev/null; then
    fail "a split that cannot write unit 3 succeeded"
elif ls "$WORK/partial"/*.ozwu 2>/dev/null | grep -qv "rec-000003.ozwu"; then
    fail "a failed split left units behind: $(ls "$WORK/partial")"
else
    pass "a failed split leaves no units behind"
fi

"$SPLIT" --help | grep -q "SYNOPSIS" && pass "--help" || fail "--help"

finish "ozma-split"

#!/usr/bin/env bash
# test_wu_sah_cli.sh - SETI@home .sah units through the real programs.
#
# Usage: test_wu_sah_cli.sh BINDIR   (the directory holding ozma-search, ozma-server)
#
# ozma-search refuses damaged copies of SETI@home's reference unit (a flipped
# payload character, a truncated payload, a lying length=) with exit 2 and
# one line; ozma-server init + load of the reference unit makes one dataset
# of one unit whose .ozwu header carries the unit's own rate, centre
# (subband_base), start, 2-bit samples as ci8 and sky track; several .sah
# files (or a directory of them) make one dataset, a damaged one among them
# loads nothing; each unit's signals are placed on its own .sah's sky track
# (sah_sky.py).  The reference unit is not searched here (minutes).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

BINDIR=${1:?usage: $0 BINDIR}
SEARCH="$BINDIR/ozma-search"
SERVER="$BINDIR/ozma-server"
SETI=${OZ_SETI_DIR:-$(cd "$(dirname "$0")/../../.." && pwd)/shared/seti}
REF="$SETI/reference_work_unit.sah"
if [[ ! -r "$REF" ]]; then
    echo "skipped: $REF is not here"
    exit 77
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# damage SRC DST KIND: a damaged copy of the reference unit.
damage() {
    python3 - "$1" "$2" "$3" <<'PY'
import sys
src, dst, kind = sys.argv[1:]
t = open(src, "rb").read()
start = t.index(b'encoding="x-setiathome">') + len(b'encoding="x-setiathome">')
end = t.index(b"</data>")
if kind == "flip":
    i = start + 1000
    t = t[:i] + b"a" + t[i + 1:]
elif kind == "truncate":
    t = t[:start + 5000]
elif kind == "length":
    t = t.replace(b"<data length=354991", b"<data length=354990")
elif kind == "lines":
    t = t[:start] + t[start:end - 70] + t[end - 5:]
open(dst, "wb").write(t)
PY
}

# ozma-search: damaged units are refused, --help documents .sah
for kind in flip truncate length lines; do
    damage "$REF" "$WORK/$kind.sah" "$kind"
done
expect_exit2 "$SEARCH" "flipped character" "outside the x-setiathome alphabet" "$WORK/flip.sah" &&
    pass "flipped character -> $(cat "$WORK/err.txt")"
expect_exit2 "$SEARCH" "truncated payload" "has no </data>" "$WORK/truncate.sah" &&
    pass "truncated payload -> $(cat "$WORK/err.txt")"
expect_exit2 "$SEARCH" "lying length=" "but the payload holds 354991 characters" \
    "$WORK/length.sah" && pass "lying length= -> $(cat "$WORK/err.txt")"
expect_exit2 "$SEARCH" "missing characters" "payload" "$WORK/lines.sah" &&
    pass "missing characters -> $(cat "$WORK/err.txt")"
expect_exit2 "$SEARCH" "--sample-rate on a .sah" "drop --sample-rate" --sample-rate 10 "$REF" &&
    pass "--sample-rate on a .sah refused"
"$SEARCH" --help >"$WORK/help.txt"
if grep -q "UNIT.sah" "$WORK/help.txt"; then pass "--help documents .sah"; else fail "--help says nothing of .sah"; fi

# ozma-server load: the reference unit as one unit of one dataset
PROJ="$WORK/proj"
"$SERVER" init "$PROJ" >/dev/null
cp "$REF" "$WORK/ref.sah"
if "$SERVER" load "$PROJ" "$WORK/ref.sah" --quiet 2>"$WORK/err.txt"; then
    pass "load of the reference unit"
else
    fail "load of the reference unit: $(cat "$WORK/err.txt")"
fi
if python3 - "$PROJ/units" <<'PY'; then pass "the unit's header carries the .sah's own values and track"; else fail "unit header"; fi
import json, os, struct, sys
units = sys.argv[1]
files = sorted(os.listdir(units))
assert files == ["ref-000000.ozwu"], files
b = open(os.path.join(units, files[0]), "rb").read()
hl = struct.unpack("<I", b[8:12])[0]
h = json.loads(b[52:52 + hl])
assert h["sample_rate_hz"] == 9765.62, h["sample_rate_hz"]
assert h["center_freq_hz"] == 1418916015.62, h["center_freq_hz"]
assert h["sample_count"] == 1048576 and h["sample_format"] == "ci8"
assert h["start_utc"].startswith("2000-03-03T08:36:02.30"), h["start_utc"]
t = h["sky_track"]
assert len(t) == 22, len(t)
assert t[0] == [2451606.85836, 14.853 * 15, 28.55], t[0]
assert abs(t[-1][1] - 14.911 * 15) < 1e-9 and t[-1][2] == 28.58
assert h["analysis"]["spike_thresh"] == 22.0 and h["analysis"]["chirp_max"] == 50.0
payload = b[52 + hl:]
assert len(payload) == 2 * 1048576 and set(payload) == {1, 255}
PY
"$SERVER" status "$PROJ" >"$WORK/status.txt"
if grep -q "units *total 1," "$WORK/status.txt"; then pass "one unit in the project"; else fail "status: $(cat "$WORK/status.txt")"; fi

# several files: a directory of them is one dataset; a damaged one loads nothing
mkdir "$WORK/sahdir"
cp "$REF" "$WORK/sahdir/a.sah"
cp "$REF" "$WORK/sahdir/b.sah"
echo "not a unit" >"$WORK/sahdir/README"
if "$SERVER" load "$PROJ" "$WORK/sahdir" --name two --quiet 2>"$WORK/err.txt" &&
    [[ -f "$PROJ/units/two-000001.ozwu" && ! -e "$PROJ/units/two-000002.ozwu" ]]; then
    pass "a directory of two .sah files is one dataset of two units"
else
    fail "directory load: $(cat "$WORK/err.txt")"
fi
expect_exit2 "$SERVER" "a damaged file among several" "outside the x-setiathome alphabet" \
    load "$PROJ" "$WORK/ref.sah" "$WORK/flip.sah" --name three --quiet &&
    pass "a damaged file among several -> $(cat "$WORK/err.txt")"
if compgen -G "$PROJ/units/three-*" >/dev/null; then fail "the failed load left units"; else pass "the failed load left nothing"; fi
expect_exit2 "$SERVER" "analysis options on a .sah" "drop --unit-samples" \
    load "$PROJ" "$WORK/ref.sah" --name four --fft-max 4096 --quiet &&
    pass "analysis options on a .sah refused"

# the sky: each unit's signals on its own .sah's track (sah_sky.py says what it checks)
if python3 "$(dirname "$0")/sah_sky.py" "$BINDIR" "$REF" "$WORK" >"$WORK/sky.txt" 2>&1; then
    pass "signals on each .sah's own sky track: $(grep -c '^ok:' "$WORK/sky.txt") checks"
else
    fail "sky tracks: $(grep -v '^ok:' "$WORK/sky.txt" | tail -5)"
fi

finish sah_cli

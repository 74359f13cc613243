#!/usr/bin/env python3
"""sah_sky.py - a SETI@home dataset's signals placed on each .sah's own sky
track (issue 17), over real HTTP on loopback.  Run by test_wu_sah_cli.sh:
    sah_sky.py BINDIR REFERENCE.sah WORKDIR

Two .sah units make one dataset: SETI@home's reference unit (Arecibo, 2000)
and a copy of it recorded half a day later on another track (every <coords>
point and the start moved).  One host returns a result for each (spikes at
times across the unit, written here: the reference unit's real search takes
minutes) and the assimilator places them.  Checked:
  - each signal's ra_deg/dec_deg equal its own unit's <coords> track
    interpolated at its UTC time, computed here from the .sah text alone;
  - each has a HEALPix pixel and a barycentric frequency (the site: the
    .sah's <receiver_cfg> latitude/longitude/elevation), within the Earth's
    orbital and rotational Doppler of its topocentric one;
  - the two units' signals lie in different places and pixels;
  - a .sah without latitude/longitude in its receiver_cfg but an Arecibo
    receiver ("ao_...") is given Arecibo's site; --site overrides both.
"""
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import sched_flow as F  # noqa: E402  (its Server, Host, call, check, wait_for, db)

REF, WORK = sys.argv[2], sys.argv[3]
JD_UNIX = 2440587.5  # the Julian date of 1970-01-01T00:00:00 UTC
SHIFT_DAYS = 0.5
SHIFT_RA_H, SHIFT_DEC = 2.0, -10.0
SPIKE_THRESH = 22.0  # the reference unit's analysis_cfg
FS = 9765.62
TIMES = (0.5, 20.0, 47.3, 80.0, 106.0)  # s into each unit


def shifted(text):
    """The reference unit recorded SHIFT_DAYS later, SHIFT_RA_H hours east
    and SHIFT_DEC degrees south."""
    def coord(m):
        return ("<time>%.5f</time>%s<ra>%.3f</ra>%s<dec>%.2f</dec>"
                % (float(m.group(1)) + SHIFT_DAYS, m.group(2), float(m.group(3)) + SHIFT_RA_H,
                   m.group(4), float(m.group(5)) + SHIFT_DEC))
    text = re.sub(r"<time>([0-9.]+)</time>(\s*)<ra>([0-9.]+)</ra>(\s*)<dec>([-0-9.]+)</dec>",
                  coord, text)
    return re.sub(r"<time_recorded_jd>([0-9.]+)",
                  lambda m: "<time_recorded_jd>%.5f" % (float(m.group(1)) + SHIFT_DAYS), text)


def track(text):
    """[(unix_s, ra_deg, dec_deg)] of a .sah's <coords>."""
    return [((float(t) - JD_UNIX) * 86400, float(ra) * 15, float(dec)) for t, ra, dec in
            re.findall(r"<time>([0-9.]+)</time>\s*<ra>([0-9.]+)</ra>\s*<dec>([-0-9.]+)</dec>",
                       text)]


def at(tr, t):
    """The track linearly interpolated at unix time t (held at its ends)."""
    if t <= tr[0][0]:
        return tr[0][1:]
    for (t0, r0, d0), (t1, r1, d1) in zip(tr, tr[1:]):
        if t <= t1:
            w = (t - t0) / (t1 - t0) if t1 > t0 else 1.0
            return r0 + w * (r1 - r0), d0 + w * (d1 - d0)
    return tr[-1][1:]


def start_unix(text):
    return (float(re.search(r"<time_recorded_jd>([0-9.]+)", text).group(1)) - JD_UNIX) * 86400


def result(a, center):
    """A result for assignment a: a spike at each of TIMES, the strongest
    its best (the seti mode's only required best)."""
    sigs = [{"type": "spike", "fft_len": 1024, "freq_hz": center + 1000.0 + 10 * i,
             "chirp_hz_s": 0.0, "time_s": t, "power": 30.0 + i,
             "score": (30.0 + i) / SPIKE_THRESH} for i, t in enumerate(TIMES)]
    counts = {k: 0 for k in ("spike", "gaussian", "pulse", "triplet", "line", "autocorr")}
    counts["spike"] = len(sigs)
    return {"version": 1, "unit_id": a["unit_id"], "unit_sha256": a["sha256"],
            "result": {"signals": sigs, "best": {"spike": sigs[-1]}, "counts": counts,
                       "overflow": False, "flops": 1, "cpu_s": 1.0, "fft_s": 0.5,
                       "kernel_version": "sah_sky.py"}}


def load(d, *args):
    return subprocess.run([F.SERVER, "load", d, *args, "--quiet"], capture_output=True, text=True)


def dataset_site(d, name):
    sky = F.db(d, "SELECT sky FROM datasets WHERE name = ?", (name,))[0][0]
    return json.loads(sky).get("site") if sky else None


def main():
    ref = open(REF, encoding="latin-1").read()
    texts = {"a": ref, "b": shifted(ref)}
    for k, t in texts.items():
        with open(os.path.join(WORK, "sky-%s.sah" % k), "w", encoding="latin-1") as f:
            f.write(t)
    F.check(track(texts["b"])[0][0] - track(ref)[0][0] > 43000 and
            len(track(texts["b"])) == len(track(ref)) == 22, "the second unit's track is moved")
    d = os.path.join(WORK, "skyproj")
    F.init(d, 0.1)
    r = load(d, os.path.join(WORK, "sky-a.sah"), os.path.join(WORK, "sky-b.sah"), "--name", "sky",
             "--quorum", "1", "--replicas", "1")
    if not F.check(r.returncode == 0, "load of two .sah units: %s" % r.stderr.strip()):
        return
    F.check(dataset_site(d, "sky") == [18.3538056, -66.7552222, 497.0],
            "the dataset's site is the .sah's receiver_cfg (%s)" % dataset_site(d, "sky"))
    unit_sky = dict(F.db(d, "SELECT name, sky FROM units"))
    F.check(all(s and len(json.loads(s)["pointing"]) == 22 for s in unit_sky.values()),
            "each unit row keeps its .sah's 22-point track")

    centers = {}
    srv = F.Server(d)
    try:
        host = F.Host(srv, "sah-sky")
        got = host.ask()
        F.check(len(got) == 2, "two units sent (%d)" % len(got))
        for a in got:
            path = host.download(a, WORK)
            with open(path, "rb") as f:
                b = f.read()
            hl = int.from_bytes(b[8:12], "little")
            centers[a["unit_id"]] = json.loads(b[52:52 + hl])["center_freq_hz"]
            st, body = host.upload(a, result(a, centers[a["unit_id"]]))
            F.check(st == 200, "result of %s accepted (%s)" % (a["unit_id"], body))
        F.wait_for("both units assimilated", lambda: F.db(
            d, "SELECT count(*) FROM units WHERE state = 1 AND assimilated = 1")[0][0] == 2)
    finally:
        srv.stop()

    rows = F.db(d, "SELECT u.name, s.time_s - u.start_s, s.freq_hz, s.ra_deg, s.dec_deg, s.pixel,"
                   " s.freq_bary_hz FROM signals s JOIN units u ON u.id = s.unit_id"
                   " ORDER BY u.name, s.time_s")
    F.check(len(rows) == 2 * len(TIMES), "every signal assimilated (%d)" % len(rows))
    worst, pixels, bad = 0.0, {}, []
    for name, t, freq, ra, dec, pixel, fbary in rows:
        text = texts["a" if name.endswith("000000") else "b"]
        want = at(track(text), start_unix(text) + t)
        if ra is None or dec is None:
            bad.append("%s at %.1f s: no position" % (name, t))
            continue
        worst = max(worst, abs(ra - want[0]), abs(dec - want[1]))
        pixels.setdefault(name, set()).add(pixel)
        if pixel is None or fbary is None or not abs(fbary - freq) < 2e-4 * freq or fbary == freq:
            bad.append("%s at %.1f s: pixel %s, freq_bary_hz %s of %s" % (name, t, pixel, fbary, freq))
    F.check(not bad and worst < 1e-6,
            "each signal's RA/Dec is its own unit's track at its time (worst %.2g deg), with a "
            "pixel and a barycentric frequency %s" % (worst, bad))
    ras = {name: {round(r[3], 1) for r in rows if r[0] == name} for name in pixels}
    names = sorted(pixels)
    F.check(len(names) == 2 and not (pixels[names[0]] & pixels[names[1]]) and
            min(ras[names[1]]) - max(ras[names[0]]) > 25,
            "the two units' signals lie in different places (RA %s, pixels %s)" % (ras, pixels))

    # the site without latitude/longitude: an Arecibo receiver; --site over it
    bare = re.sub(r"<(latitude|longitude|elevation)>[^<]*</\1>", "", ref)
    p = os.path.join(WORK, "bare.sah")
    with open(p, "w", encoding="latin-1") as f:
        f.write(bare)
    F.check(load(d, p, "--name", "bare").returncode == 0 and
            dataset_site(d, "bare") == [18.3442, -66.7527, 497.0],
            "an \"ao_\" receiver without coordinates is at Arecibo (%s)" % dataset_site(d, "bare"))
    F.check(load(d, p, "--name", "given", "--site", "1,2,3").returncode == 0 and
            dataset_site(d, "given") == [1.0, 2.0, 3.0], "--site overrides the .sah's site")
    r = load(d, p, os.path.join(WORK, "sky-a.sah"), "--name", "mixed")
    F.check(r.returncode != 0 and "another site" in r.stderr,
            "units of two sites in one load refused: %s" % r.stderr.strip())


if __name__ == "__main__":
    main()
    sys.exit(1 if F.FAILURES else 0)

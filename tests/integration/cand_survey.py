#!/usr/bin/env python3
"""cand_survey.py - candidates from a synthetic survey (issue 17), over real
HTTP on loopback.  Run by test_sched_candidates.sh with the folder holding
ozma-server, ozma-synth and ozma-search.

The survey, all recorded at Green Bank (--site) by ozma-synth:
  sky-a, sky-b  the same sky position (the north ecliptic pole) on two days;
                one sky-fixed tone drifting at 0.5 Hz/s, whose topocentric
                frequency differs between the days by the Earth's motion
                (ozma-synth sky=1: Doppler-shifted from one barycentric
                frequency);
  p0 .. p9      ten pointings elsewhere sharing two terrestrial carriers (no
                drift, one topocentric frequency each).
Every dataset is loaded with quorum 1, one host computes every unit for real
with ozma-search and uploads it.  Then:
  - the sky tone is the top candidate, a multiplet of 2 observations, its
    barycentric frequencies on the two days agreeing within the tolerance
    while its topocentric ones differ by far more;
  - both carriers' candidates are all flagged RFI (many_pixels);
  - no injected signal yields more than one unflagged candidate;
  - /api/v1/candidates pages, filters (rfi, dataset, pixel) and the one
    candidate's detections and observations are right, bad parameters 400;
  - /signals rows name their candidate;
  - `ozma-server candidates DIR` (json and csv) lists what the API does;
  - reordering: the same results, loaded and uploaded in the reverse order
    into a second project, give exactly the same candidates (keys, members,
    counts, verdicts, scores).
"""
import csv
import io
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import sched_flow as F  # noqa: E402  (its Server, Host, call, check, wait_for)

SITE = "38.4331,-79.8398,807"
NEP = ("270", "66.56")
F0 = 1420e6
SKY_F = 300.0  # the sky tone's barycentric offset from F0 at each recording's start
CARRIERS = (1500.0, -2500.0)
DAYS = ("2024-05-01T03:00:00Z", "2024-05-02T15:00:00Z")


def synth(tmp, name, datetime, ra, dec, *signals):
    stem = os.path.join(tmp, name)
    args = [F.SYNTH, "--out", stem, "--samples", "2^16", "--datatype", "ci16_le", "--seed",
            str(sum(map(ord, name))), "--datetime", datetime, "--site", SITE,
            "--ra", ra, "--dec", dec]
    for s in signals:
        args += ["--spike", s]
    subprocess.run(args, check=True, capture_output=True)
    with open(stem + ".truth.json") as f:
        return stem, json.load(f)["signals"]


def make_survey(tmp):
    recs = []  # (name, stem, truth signals, kind)
    for i, day in enumerate(DAYS):
        name = "sky-" + "ab"[i]
        stem, truth = synth(tmp, name, day, *NEP, "f=%g,drift=0.5,snr=0.05,sky=1" % SKY_F)
        recs.append((name, stem, truth, "sky"))
    for k in range(10):
        stem, truth = synth(tmp, "p%d" % k, "2024-05-01T%02d:00:00Z" % k, str(20 + 30 * k),
                            str(-30 + 6 * k), *["f=%g,drift=0,snr=0.05" % f for f in CARRIERS])
        recs.append(("p%d" % k, stem, truth, "carrier"))
    return recs


def project(tmp, name, recs):
    d = os.path.join(tmp, name)
    F.init(d, 0.1)
    for rname, stem, _, _ in recs:
        subprocess.run([F.SERVER, "load", d, stem, "--name", rname, "--unit-samples", "2^15",
                        "--fft-max", "1024", "--chirp-max", "2", "--quorum", "1", "--replicas",
                        "1", "--quiet"], check=True, capture_output=True)
    return d


def run(srv, tmp, cache, reverse=False):
    """Computes (or takes from cache, by unit id) and uploads every unit,
    asking again as the host's cap allows (each batch reversed if asked)."""
    host = F.Host(srv, "surveyor")
    done = 0
    while True:
        got = host.ask()
        if not got:
            return done
        for a in reversed(got) if reverse else got:
            if a["unit_id"] not in cache:
                cache[a["unit_id"]] = host.compute(a, tmp)
            st, body = host.upload(a, cache[a["unit_id"]])
            assert st == 200, body
            done += 1


def all_candidates(srv, **args):
    out, after = [], None
    while True:
        q = dict(args, limit=7, **({"after": after} if after else {}))
        st, r = F.call(srv.url + "/api/v1/candidates?" + "&".join("%s=%s" % kv for kv in q.items()))
        assert st == 200, r
        out += r["candidates"]
        after = r["next"]
        if after is None:
            return out


def settled(srv, d, nunits):
    def done():
        n = F.db(d, "SELECT count(*) FROM units WHERE state = 1 AND assimilated = 1")[0][0]
        return n == nunits
    return F.wait_for("every unit assimilated", done, timeout=120)


def fingerprint(d):
    """The candidates as a set independent of row ids: key, members (by
    unit, type, FFT length and frequency), counts, verdict, score."""
    rows = F.db(d, "SELECT c.id, c.key, c.detections, c.observations, c.rfi, c.score,"
                   " c.freq_bary_hz FROM candidates c")
    members = {}
    for cid, unit, typ, fft, freq in F.db(
            d, "SELECT g.candidate_id, u.name, g.type, g.fft_len, g.freq_hz FROM signals g"
               " JOIN units u ON u.id = g.unit_id"):
        members.setdefault(cid, []).append("%s/%s/%d/%.3f" % (unit, typ, fft, freq))
    return sorted((key, n, obs, rfi, "%.9g" % score, tuple(sorted(members.get(cid, []))))
                  for cid, key, n, obs, rfi, score, fb in rows)


def check_survey(srv, d, recs):
    cands = all_candidates(srv)
    F.check(len(cands) == len({c["id"] for c in cands}) and len(cands) > 0,
            "the candidate list pages through %d candidates without repeats" % len(cands))
    top = cands[0]
    sky = [t for _, _, truth, kind in recs if kind == "sky" for t in truth]
    F.check(abs(sky[0]["freq_hz"] - sky[1]["freq_hz"]) > 20,
            "the sky tone's topocentric frequencies differ between the days (%.1f vs %.1f Hz)"
            % (sky[0]["freq_hz"] - F0, sky[1]["freq_hz"] - F0))
    F.check(top["rfi"] is None and top["observations"] == 2 and top["type"] in ("spike", "line")
            and top["freq_bary_hz"] is not None
            and abs(top["freq_bary_hz"] - (F0 + SKY_F)) < 10,
            "the sky-fixed tone is the top candidate, a multiplet of 2 observations (%s)"
            % json.dumps({k: top.get(k) for k in ("type", "observations", "detections", "rfi",
                                                  "score", "freq_bary_hz")}))
    st, one = F.call(srv.url + "/api/v1/candidates/%d" % top["id"])
    F.check(st == 200 and {o["dataset"] for o in one["datasets"]} == {"sky-a", "sky-b"}
            and len(one["signals"]) == top["detections"]
            and all(s["candidate_id"] == top["id"] for s in one["signals"])
            and one["signals"][0]["power"] == max(s["power"] for s in one["signals"]),
            "the top candidate's detections (strongest first) and its two observations")
    # Carriers: every candidate at a carrier's frequency is flagged.
    for f in CARRIERS:
        near = [c for c in cands if abs(c["freq_hz"] - (F0 + f)) < 30]
        F.check(len(near) >= 10 and all(c["rfi"] == "many_pixels" for c in near),
                "the carrier at %+g Hz: %d candidates, all flagged many_pixels (%s)"
                % (f, len(near), sorted({str(c["rfi"]) for c in near})))
    # No injected signal yields more than one unflagged candidate.
    worst = 0
    for name, _, truth, _ in recs:
        for t in truth:
            n = sum(1 for c in cands if c["rfi"] is None and c["dataset"] in (name,)
                    and abs(c["freq_hz"] - t["freq_hz"]) < 30)
            worst = max(worst, n)
    F.check(worst <= 1, "no injected signal yields more than one unflagged candidate (most: %d)"
            % worst)
    flagged = all_candidates(srv, rfi=1)
    clean = all_candidates(srv, rfi=0)
    F.check(len(flagged) + len(clean) == len(cands) and all(c["rfi"] for c in flagged)
            and not any(c["rfi"] for c in clean), "rfi=1 and rfi=0 split the list")
    F.check(all(x["score"] >= y["score"] for x, y in zip(clean, clean[1:])),
            "unflagged candidates come ranked by score")
    ina = all_candidates(srv, dataset="sky-a")
    F.check(top["id"] in [c["id"] for c in ina] and
            not any(abs(c["freq_hz"] - (F0 + CARRIERS[0])) < 30 for c in ina),
            "dataset= lists the candidates with a detection in it")
    inpix = all_candidates(srv, pixel=top["pixel"])
    F.check(top["id"] in [c["id"] for c in inpix] and all(c["pixel"] == top["pixel"] for c in inpix),
            "pixel= lists the candidates in that pixel")
    for q in ("rfi=2", "order=power", "pixel=-1", "dataset=a/b", "after=x", "colour=red"):
        st, r = F.call(srv.url + "/api/v1/candidates?" + q)
        F.check(st == 400 and "error" in r, "/api/v1/candidates?%s is refused with 400" % q)
    st, _ = F.call(srv.url + "/api/v1/candidates/999999")
    F.check(st == 404, "an unknown candidate is 404")
    st, sg = F.call(srv.url + "/api/v1/signals?dataset=sky-b&limit=500")
    F.check(st == 200 and sg["signals"] and all(s["candidate_id"] for s in sg["signals"])
            and all(s["pixel"] == top["pixel"] and s["freq_bary_hz"] for s in sg["signals"]),
            "every signal names its candidate, pixel and barycentric frequency")
    for page in ("/candidates", "/candidates/%d" % top["id"]):
        st, body = F.call(srv.url + page)
        F.check(st == 200 and isinstance(body, bytes) and b"<html" in body, page + " is a page")
    # The CLI.
    out = subprocess.run([F.SERVER, "candidates", d], check=True, capture_output=True).stdout
    listed = json.loads(out)["candidates"]
    F.check([c["id"] for c in listed] == [c["id"] for c in cands],
            "ozma-server candidates lists what the API does, in its order")
    out = subprocess.run([F.SERVER, "candidates", d, "--format", "csv"], check=True,
                         capture_output=True).stdout.decode()
    rows = list(csv.DictReader(io.StringIO(out)))
    F.check(len(rows) == len(cands) and rows[0]["id"] == str(top["id"])
            and rows[0]["observations"] == "2", "ozma-server candidates --format csv")
    return cands


def main():
    tmp = tempfile.mkdtemp(prefix="ozma-cand-")
    recs = make_survey(tmp)
    cache = {}
    d1 = project(tmp, "survey", recs)
    srv = F.Server(d1)
    try:
        n = run(srv, tmp, cache)
        settled(srv, d1, n)
        check_survey(srv, d1, recs)
    finally:
        srv.stop()
    # The same results in the reverse order: loaded reversed (so unit ids,
    # and with them the assimilator's order, are reversed) and uploaded
    # reversed.
    d2 = project(tmp, "reordered", list(reversed(recs)))
    srv2 = F.Server(d2)
    try:
        n2 = run(srv2, tmp, cache, reverse=True)
        settled(srv2, d2, n2)
    finally:
        srv2.stop()
    a, b = fingerprint(d1), fingerprint(d2)
    F.check(n2 == n and a == b and len(a) > 0,
            "the same results assimilated in the reverse order give the same %d candidates"
            % len(a))
    if a != b:
        for x in sorted(set(a) ^ set(b))[:6]:
            print("  differs:", x[:5], file=sys.stderr)
    for log in (os.path.join(d1, "serve.log"), os.path.join(d2, "serve.log")):
        with open(log, errors="replace") as f:
            text = f.read()
        F.check("Sanitizer" not in text and "runtime error" not in text,
                "no sanitizer report in " + os.path.basename(os.path.dirname(log)))
    if F.FAILURES:
        print("%d failure(s); projects kept in %s" % (len(F.FAILURES), tmp), file=sys.stderr)
        sys.exit(1)
    subprocess.run(["rm", "-rf", tmp])
    print("all candidate checks passed")


main()

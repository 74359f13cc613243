# sched_diskfull.py - the client half of test_sched_diskfull.sh (run by it,
# not by ctest on its own): a real `ozma-server serve` whose project lives
# on a small tmpfs at MNT, and a disk that fills up.
#
#   python3 sched_diskfull.py BIN_DIR MNT WORK
#
# BIN_DIR holds ozma-server, ozma-synth and ozma-search; WORK is scratch
# space off the tmpfs (the recording, downloads, the server's log).  A host
# takes work and computes a result; then the tmpfs is filled.  Writes -
# the result's upload, a work request carrying it, an account - must get
# 503 with Retry-After (the client's cue to send again later), not 500,
# while reads still answer; the log must say once that the disk is full,
# not once per request or per job tick, though replicas time out meanwhile
# (the transitioner has work every tick).  Once space is freed the upload
# is taken (200), and the log says once that writes succeed again.  Prints
# "ok: ..." / "FAIL: ..." lines and exits 1 on any failure.
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

BIN, MNT, WORK = sys.argv[1:4]
SERVER = os.path.join(BIN, "ozma-server")
SEARCH = os.path.join(BIN, "ozma-search")
SYNTH = os.path.join(BIN, "ozma-synth")
failures = 0


def check(cond, msg):
    global failures
    if cond:
        print("ok: " + msg)
    else:
        failures += 1
        print("FAIL: " + msg, file=sys.stderr)
    return cond


def call(url, method="GET", body=None, key=None, raw=None):
    """(status, headers, parsed JSON or bytes)."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if key:
        req.add_header("Authorization", "Bearer " + key)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            payload, status, headers = r.read(), r.status, r.headers
    except urllib.error.HTTPError as e:
        payload, status, headers = e.read(), e.code, e.headers
    try:
        return status, headers, json.loads(payload)
    except ValueError:
        return status, headers, payload


def log_lines(path, needle):
    with open(path, errors="replace") as f:
        return [line for line in f if needle in line]


# A recording off the tmpfs; the project on it.
rec = os.path.join(WORK, "rec")
subprocess.run([SYNTH, "--out", rec, "--samples", "32768", "--seed", "3"], check=True,
               capture_output=True)
proj = os.path.join(MNT, "proj")
subprocess.run([SERVER, "init", proj], check=True, capture_output=True)
with open(os.path.join(proj, "project.json")) as f:
    cfg = json.load(f)
cfg["job_tick_s"] = 0.2
with open(os.path.join(proj, "project.json"), "w") as f:
    json.dump(cfg, f)
# Two datasets of one unit: the replicas of "short" time out after 3 s, so
# the transitioner has writes to make while the disk is full; the upload is
# for one of "long", loaded first and so sent first.
for name, extra in (("long", []), ("short", ["--deadline", "3s"])):
    subprocess.run([SERVER, "load", proj, rec, "--name", name, "--unit-samples", "2^15",
                    "--fft-max", "1024", "--chirp-max", "2", "--quiet"] + extra,
                   check=True, capture_output=True)

log = os.path.join(WORK, "serve.log")
errf = open(log, "wb")
proc = subprocess.Popen([SERVER, "serve", proj, "--port", "0"], stderr=subprocess.PIPE,
                        stdout=subprocess.DEVNULL)
with open(os.path.join(WORK, "server.pid"), "w") as f:  # for the script's cleanup
    f.write(str(proc.pid))
line = proc.stderr.readline().decode()
errf.write(line.encode())
errf.flush()
if "http://" not in line:
    sys.exit("server did not start: " + line)
url = line.split("on ", 1)[1].strip().rstrip("/")
pump = subprocess.Popen(["cat"], stdin=proc.stderr, stdout=errf)
filler = os.path.join(MNT, "filler")
try:
    st, _, acct = call(url + "/api/v1/accounts", "POST", {"name": "alice"})
    st, _, h = call(url + "/api/v1/hosts", "POST",
                    {"name": "a", "os": "Linux", "ncpus": 1, "flops": 1e9, "memory_mb": 1024},
                    key=acct["authenticator"])
    key = h["host_key"]
    st, _, w = call(url + "/api/v1/work", "POST", {"want_seconds": 86400}, key=key)
    names = sorted(x["unit_id"] for x in w["assignments"])
    check(st == 200 and len(names) == 2 and names[0].startswith("long-") and
          names[-1].startswith("short-"), "the host holds replicas of both datasets: %s" % names)
    a = [x for x in w["assignments"] if x["unit_id"].startswith("long-")][0]
    st, _, data = call(url + a["url"])
    check(st == 200 and hashlib.sha256(data).hexdigest() == a["sha256"], "unit downloaded")
    unit = os.path.join(WORK, "unit.ozwu")
    with open(unit, "wb") as f:
        f.write(data)
    res = json.loads(subprocess.run([SEARCH, "--quiet", unit], check=True,
                                    capture_output=True).stdout)
    res.pop("start_utc", None)
    for s in res["signals"]:
        s.pop("time_utc", None)
    for s in res["best"].values():
        s.pop("time_utc", None)
    result = json.dumps({"version": 1, "unit_id": a["unit_id"], "unit_sha256": a["sha256"],
                         "result": res}).encode()
    put_url = url + "/api/v1/replicas/%d/result" % a["replica_id"]

    # Fill the tmpfs to the last page, then free half a megabyte: the
    # writes below take it, the WAL's new pages and the database's, until
    # one fails; then the checkpointer cannot copy the WAL into the database,
    # which must grow to take it, and tries again every 0.2 s.
    reserve = os.path.join(MNT, "reserve")
    with open(reserve, "wb") as f:
        f.write(b"\0" * (512 << 10))
    with open(filler, "wb", buffering=0) as f:
        for size in (1 << 20, 4096, 512):
            try:
                while f.write(b"\0" * size) == size:
                    pass
            except OSError:
                pass
    os.unlink(reserve)

    def refused_for_space(what, st, headers, body):
        code = body.get("error", {}).get("code") if isinstance(body, dict) else None
        return check(st == 503 and code == "unavailable" and
                     int(headers.get("Retry-After") or 0) >= 1,
                     "%s on a full disk: 503 unavailable with Retry-After (got %s %s, %s)"
                     % (what, st, code, headers.get("Retry-After")))

    made = 0
    while made < 5000:
        st, hdrs, body = call(url + "/api/v1/accounts", "POST", {"name": "filler %d" % made})
        if st != 200:
            break
        made += 1
    t_full = time.monotonic()
    refused_for_space("the account that found the disk full (after %d)" % made, st, hdrs, body)

    # For 2 s, and on until one is refused (at most 10 s), writes of every
    # kind.  SQLite starts its WAL over once the checkpointer has copied all
    # of it, into space the file already has, so a write may still succeed
    # now and then - for seconds on a slow (sanitized) build: each answer
    # must be 200 (committed) or 503 with Retry-After (nothing changed),
    # never 500, and the WAL's old space runs out in the end.
    seen = []
    work = {"want_seconds": 60, "results": [{"replica_id": a["replica_id"],
                                              "result": result.decode()}]}
    while time.monotonic() < t_full + 2 or (503 not in seen and time.monotonic() < t_full + 10):
        for what, args in (("a result upload", (put_url, "PUT", None, key, result)),
                           ("a work request carrying it", (url + "/api/v1/work", "POST", work,
                                                           key)),
                           ("an account", (url + "/api/v1/accounts", "POST",
                                           {"name": "x%d" % len(seen)}))):
            st, hdrs, body = call(*args)
            seen.append(st)
            if st != 200:
                refused_for_space(what, st, hdrs, body)
        time.sleep(0.1)
    check(set(seen) <= {200, 503} and 503 in seen,
          "%d writes on a full disk: %d refused with 503, the rest 200, none other (%s)"
          % (len(seen), seen.count(503), sorted(set(seen))))
    st, _, _ = call(url + "/api/v1/hosts/%d" % h["host_id"])
    check(st == 200, "reads still answer on a full disk: %d" % st)
    # Past the deadline of the replica of "short": the transitioner has
    # writes to make every 0.2 s tick, and the checkpointer its copy.
    time.sleep(max(0, t_full + 4 - time.monotonic()))
    full = log_lines(log, 'msg="disk full')
    check(len(full) == 1, "the log says once that the disk is full (%d lines)" % len(full))
    with open(log, errors="replace") as f:
        errors = [ln for ln in f if "level=error" in ln or "level=warn" in ln]
    check(len(errors) == 1, "and nothing else at warn or error for %.1f s of refused writes"
          " and job ticks (%d lines: %s)" % (time.monotonic() - t_full, len(errors),
                                              "".join(errors[:5]).strip()))
    check(not log_lines(log, 'msg="disk space available'),
          "nor that it is not, for the writes that succeeded on it")

    os.unlink(filler)
    st, _, body = call(put_url, "PUT", raw=result, key=key)
    check(st == 200 and body.get("accepted") is True,
          "space freed: the upload is taken (%d %s)" % (st, body))
    st, _, _ = call(url + "/api/v1/accounts", "POST", {"name": "carol"})
    check(st == 200, "space freed: an account is made: %d" % st)
    time.sleep(0.5)
    back = log_lines(log, 'msg="disk space available')
    check(len(back) == 1, "the log says once that writes succeed again (%d lines)" % len(back))
    check(len(log_lines(log, 'msg="disk full')) == 1, "and still once that the disk was full")
finally:
    if os.path.exists(filler):
        os.unlink(filler)
    proc.send_signal(signal.SIGTERM)
    rc = proc.wait(timeout=20)
    os.unlink(os.path.join(WORK, "server.pid"))
    pump.wait(timeout=5)
    errf.close()
    check(rc == 0, "SIGTERM: exit %d" % rc)
    with open(log, errors="replace") as f:
        text = f.read()
    check("Sanitizer" not in text and "runtime error" not in text, "no sanitizer report")

sys.exit(1 if failures else 0)

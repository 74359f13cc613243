# sched_project.py - what sched_crash.py, sched_soak.py and sched_fuzz.py
# share (imported, not a test itself): a real project of small units with
# every unit's result computed beforehand, a server started and killed, a
# small keep-alive client, and the ok/FAIL checks.  The clients upload
# real results, so the checker and the validator do their real work and
# units end validated.
import concurrent.futures
import hashlib
import http.client
import json
import os
import subprocess
import sys


class Checks:
    """check(cond, msg) prints "ok: msg", or "FAIL: msg" on stderr and
    counts it in .failures; returns cond."""

    def __init__(self):
        self.failures = 0

    def __call__(self, cond, msg):
        if cond:
            print("ok: " + msg)
        else:
            self.failures += 1
            print("FAIL: " + msg, file=sys.stderr)
        return cond


def make_project(bin_dir, work, samples, unit_samples, config, quorum=2, replicas=2):
    """Makes WORK/proj with one dataset "rec" of SAMPLES/UNIT_SAMPLES units,
    project.json updated with CONFIG; returns (project dir, {unit name:
    result text}), the result text the exact bytes a host would upload."""
    server = os.path.join(bin_dir, "ozma-server")
    rec = os.path.join(work, "rec")
    subprocess.run([os.path.join(bin_dir, "ozma-synth"), "--out", rec, "--samples", str(samples),
                    "--seed", "7"], check=True, capture_output=True)
    proj = os.path.join(work, "proj")
    subprocess.run([server, "init", proj], check=True, capture_output=True)
    path = os.path.join(proj, "project.json")
    with open(path) as f:
        cfg = json.load(f)
    cfg.update(config)
    with open(path, "w") as f:
        json.dump(cfg, f)
    subprocess.run([server, "load", proj, rec, "--name", "rec", "--unit-samples",
                    str(unit_samples), "--fft-max", "1024", "--chirp-max", "2", "--quorum",
                    str(quorum), "--replicas", str(replicas), "--max-total",
                    str(max(6, replicas)), "--quiet"],
                   check=True, capture_output=True)
    units = os.path.join(proj, "units")
    files = sorted(f for f in os.listdir(units) if f.endswith(".ozwu"))
    return proj, unit_results(bin_dir, units, files)


def unit_results(bin_dir, units, files):
    """{unit name: result text} for the unit files FILES in UNITS, each
    searched by ozma-search: the exact bytes a host would upload."""
    search = os.path.join(bin_dir, "ozma-search")

    def one(fname):
        p = os.path.join(units, fname)
        with open(p, "rb") as f:
            sha = hashlib.sha256(f.read()).hexdigest()
        res = json.loads(subprocess.run([search, "--quiet", p], check=True,
                                        capture_output=True).stdout)
        res.pop("start_utc", None)
        for s in res["signals"]:
            s.pop("time_utc", None)
        for s in res["best"].values():
            s.pop("time_utc", None)
        name = fname[:-len(".ozwu")]
        return name, json.dumps({"version": 1, "unit_id": name, "unit_sha256": sha,
                                 "result": res})

    with concurrent.futures.ThreadPoolExecutor(2) as ex:
        return dict(ex.map(one, files))


def serve(bin_dir, proj, log, env=None):
    """Starts `ozma-server serve PROJ --port 0`, its stderr appended to LOG,
    with ENV added to its environment; returns (process, base URL); raises
    when it prints no ready line."""
    errf = open(log, "ab")
    proc = subprocess.Popen([os.path.join(bin_dir, "ozma-server"), "serve", proj, "--port", "0"],
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            env=dict(os.environ, **(env or {})))
    # Its log may say something before the ready line (a job that met an
    # injected fault, say): read up to that line, or the end.
    while True:
        line = proc.stderr.readline().decode()
        errf.write(line.encode())
        errf.flush()
        if not line or ("ozma-server: serving" in line and "http://" in line):
            break
    # the rest of its log, copied by a child that ends when the server does
    subprocess.Popen(["cat"], stdin=proc.stderr, stdout=errf)
    proc.stderr.close()
    errf.close()
    if "http://" not in line:
        proc.kill()
        proc.wait()
        raise RuntimeError("server did not start: " + line)
    return proc, line.split("on ", 1)[1].strip().rstrip("/")


class Client:
    """One keep-alive connection to host:port; raises OSError or
    http.client.HTTPException when the server is not there."""

    def __init__(self, hostport, timeout=10):
        self.hostport, self.timeout = hostport, timeout
        self.c = None

    def close(self):
        if self.c:
            self.c.close()
        self.c = None

    def json(self, method, path, body=None, key=None, raw=None):
        h = {}
        if key:
            h["Authorization"] = "Bearer " + key
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None
                                            else None)
        if data is not None:
            h["Content-Type"] = "application/json"
        if self.c is None:
            self.c = http.client.HTTPConnection(self.hostport, timeout=self.timeout)
        try:
            self.c.request(method, path, body=data, headers=h)
            r = self.c.getresponse()
            payload = r.read()
            if r.getheader("Connection", "").lower() == "close":
                self.close()
        except Exception:
            self.close()
            raise
        try:
            return r.status, json.loads(payload)
        except ValueError:
            return r.status, payload

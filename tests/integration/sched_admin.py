# sched_admin.py - the operator's commands (ozma-server dataset list |
# cancel | delete, host ban), run by test_sched_admin.sh against a real
# `ozma-server serve` on loopback, each command run while it serves.
#
# Three datasets: "early" (quorum 1, held by host C), "rec" (quorum 2: host
# A takes two of its units and returns one) and "late" (quorum 1, never
# sent).  Then, as an operator and a volunteer would notice:
#   host ban A   A's next work request is refused (403), its other replica's
#                upload is refused, its returned result no longer counts and
#                both its units go to host B;
#   dataset list shows every dataset with its units by state, as the API;
#   dataset cancel late   its units end in error, nothing of it is sent;
#   dataset delete early  its rows and unit files are gone, and C's cap is
#                given back.
# After each, every host's in-progress count equals its replicas in progress
# (the counter dispatch trusts).
#
#   python3 sched_admin.py BIN_DIR WORK_DIR
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sched_project  # noqa: E402

BIN, WORK = sys.argv[1:3]
SERVER = os.path.join(BIN, "ozma-server")
check = sched_project.Checks()


def run(*args):
    p = subprocess.run([SERVER] + list(args), capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


rec = os.path.join(WORK, "rec")
subprocess.run([os.path.join(BIN, "ozma-synth"), "--out", rec, "--samples", str(2 * 32768),
                "--seed", "7", "-q"], check=True)
proj = os.path.join(WORK, "proj")
subprocess.run([SERVER, "init", proj], check=True, capture_output=True)
with open(os.path.join(proj, "project.json")) as f:
    cfg = json.load(f)
cfg.update({"max_in_progress_per_cpu": 2, "job_tick_s": 0.1, "read_rate": 1000,
            "read_burst": 10000})
with open(os.path.join(proj, "project.json"), "w") as f:
    json.dump(cfg, f)
loads = {}
for name, quorum in (("early", 1), ("rec", 2), ("late", 1)):
    rc, out, err = run("load", proj, rec, "--name", name, "--unit-samples", "32768",
                       "--fft-max", "1024", "--chirp-max", "2", "--quorum", str(quorum),
                       "--replicas", str(quorum))
    loads[name] = out
    check(rc == 0, "load %s: %s" % (name, (out + err).strip().replace("\n", " | ")))
check("one unit:" in loads["rec"] and "of CPU on a typical core (5 GFLOPS" in loads["rec"],
      "load states one unit's CPU time on a typical core")


def db(sql, *args):
    c = sqlite3.connect(os.path.join(proj, "ozma.db"), timeout=10)
    try:
        return c.execute(sql, args).fetchall()
    finally:
        c.close()


def caps_consistent(when):
    bad = db("SELECT h.id, h.in_progress, (SELECT count(*) FROM replicas r"
             " WHERE r.host_id = h.id AND r.state = 1) n FROM hosts h WHERE h.in_progress != n")
    check(not bad, "%s: every host's in-progress count matches its replicas %s" % (when, bad))


def result_text(a):
    path = os.path.join(proj, "units", a["unit_id"] + ".ozwu")
    res = json.loads(subprocess.run([os.path.join(BIN, "ozma-search"), "--quiet", path],
                                    check=True, capture_output=True).stdout)
    res.pop("start_utc", None)
    for s in res["signals"] + list(res["best"].values()):
        s.pop("time_utc", None)
    with open(path, "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    return json.dumps({"version": 1, "unit_id": a["unit_id"], "unit_sha256": sha, "result": res})


proc, url = sched_project.serve(BIN, proj, os.path.join(WORK, "server.log"))
cl = sched_project.Client(url.split("//", 1)[1])
try:
    hosts = {}
    for name in ("a", "b", "c"):
        st, acct = cl.json("POST", "/api/v1/accounts", {"name": "user-" + name})
        # C (two slow cores) asks for the 1.2 s that all three units of early
        # make (about 0.5 s each)
        st, h = cl.json("POST", "/api/v1/hosts", {"name": "h" + name, "os": "Linux",
                                                  "ncpus": 2 if name == "c" else 1,
                                                  "flops": 1e7 if name == "c" else 1e9,
                                                  "memory_mb": 1024},
                        acct["authenticator"])
        check(st == 200, "host %s registered" % name)
        hosts[name] = h

    def work(name, want=1000):
        return cl.json("POST", "/api/v1/work", {"want_seconds": want}, hosts[name]["host_key"])

    st, wc = work("c", 1.2)
    held_c = [a["unit_id"] for a in wc.get("assignments", [])]
    check(st == 200 and len(held_c) == 3 and all(u.startswith("early-") for u in held_c),
          "C holds units of early: %s" % held_c)
    st, wa = work("a")
    got_a = wa.get("assignments", [])
    check(st == 200 and len(got_a) == 2 and all(a["unit_id"].startswith("rec-") for a in got_a),
          "A holds two units of rec: %s" % [a["unit_id"] for a in got_a])
    st, _ = cl.json("PUT", "/api/v1/replicas/%d/result" % got_a[0]["replica_id"],
                    raw=result_text(got_a[0]).encode(), key=hosts["a"]["host_key"])
    check(st == 200, "A returns a result for %s" % got_a[0]["unit_id"])

    # ---- host ban -----------------------------------------------------------------------
    rc, out, err = run("host", "ban", proj, str(hosts["a"]["host_id"]), "--reason", "cheating")
    check(rc == 0 and "1 replica in progress taken back, 1 result on open units ignored" in out,
          "host ban: %s" % (out + err).strip())
    st, j = work("a")
    check(st == 403 and "banned" in json.dumps(j), "a banned host's work request: %d %s" % (st, j))
    # every request of the host's, not only work requests, is refused
    # within a second of the ban (the server's host-key cache asks the
    # database again after a second)
    deadline = time.time() + 3
    while True:
        st, j = cl.json("PUT", "/api/v1/replicas/%d/result" % got_a[1]["replica_id"],
                        raw=result_text(got_a[1]).encode(), key=hosts["a"]["host_key"])
        if (st == 403 and "banned" in json.dumps(j)) or time.time() > deadline:
            break
        time.sleep(0.2)
    check(st == 403 and "banned" in json.dumps(j),
          "a banned host's upload is refused as banned: %d %s" % (st, j))
    st, j = cl.json("POST", "/api/v1/replicas/%d/error" % got_a[1]["replica_id"],
                    {"message": "x"}, hosts["a"]["host_key"])
    check(st == 403 and "banned" in json.dumps(j),
          "a banned host's error report is refused as banned: %d %s" % (st, j))
    check(db("SELECT outcome, validate_state FROM replicas WHERE id = ?",
             got_a[0]["replica_id"]) == [(4, 2)], "its returned result no longer counts")
    # the transitioner (job_tick_s 0.1) makes a third replica of each of A's
    # units: their two first and the one in place of A's
    deadline = time.time() + 10
    counts = []
    while time.time() < deadline:
        counts = [db("SELECT count(*) FROM replicas r JOIN units u ON u.id = r.unit_id"
                     " WHERE u.name = ?", a["unit_id"])[0][0] for a in got_a]
        if counts == [3, 3]:
            break
        time.sleep(0.1)
    check(counts == [3, 3], "A's units are reissued: %s replicas each" % counts)
    got_b = []
    while time.time() < deadline and len(got_b) < 2:
        st, wb = work("b")
        got_b += [a["unit_id"] for a in wb.get("assignments", []) if a["unit_id"] in
                  (got_a[0]["unit_id"], got_a[1]["unit_id"])]
        time.sleep(0.1)
    check(sorted(got_b) == sorted(a["unit_id"] for a in got_a),
          "another host gets A's units: %s" % got_b)
    caps_consistent("after the ban")

    # ---- dataset list ---------------------------------------------------------------------
    rc, out, err = run("dataset", "list", proj)
    lines = out.splitlines()
    check(rc == 0 and lines[0].split()[:2] == ["ID", "NAME"] and
          [ln.split()[1] for ln in lines[1:]] == ["early", "rec", "late"],
          "dataset list: a table of the three datasets")
    rc, out, err = run("dataset", "list", proj, "--json")
    listed = json.loads(out)["datasets"] if rc == 0 else []
    st, api = cl.json("GET", "/api/v1/datasets?limit=500")
    check([(d["name"], d["units"], d["in_progress"], d["unsent"]) for d in listed] ==
          [(d["name"], d["units"], d["in_progress"], d["unsent"]) for d in api["datasets"]],
          "dataset list --json: as GET /api/v1/datasets")

    # ---- dataset cancel -------------------------------------------------------------------
    late_units = db("SELECT count(*) FROM units u JOIN datasets d ON d.id = u.dataset_id"
                    " WHERE d.name = 'late'")[0][0]
    rc, out, err = run("dataset", "cancel", proj, "late")
    check(rc == 0 and ("%d units ended" % late_units) in out, "dataset cancel: %s" % out.strip())
    st, wb = work("b", 100000)
    check(st == 200 and not [a for a in wb["assignments"] if a["unit_id"].startswith("late-")],
          "nothing of a cancelled dataset is sent")
    st, api = cl.json("GET", "/api/v1/datasets?limit=500")
    late = [d for d in api["datasets"] if d["name"] == "late"][0]
    check(late["error"] == late_units and late["unsent"] == 0,
          "the API shows late's units in error: %s" % late)
    caps_consistent("after the cancel")

    # ---- dataset delete -------------------------------------------------------------------
    files = [f for f in os.listdir(os.path.join(proj, "units")) if f.startswith("early-")]
    rc, out, err = run("dataset", "delete", proj, "early")
    check(rc == 0 and ("its %d unit files" % len(files)) in out, "dataset delete: %s" % out.strip())
    check(not [f for f in os.listdir(os.path.join(proj, "units")) if f.startswith("early-")],
          "its unit files are gone")
    check(db("SELECT count(*) FROM datasets WHERE name = 'early'") == [(0,)] and
          db("SELECT in_progress FROM hosts WHERE id = ?", hosts["c"]["host_id"]) == [(0,)],
          "its rows are gone and host C's cap is given back")
    caps_consistent("after the delete")

    # ---- refusals ---------------------------------------------------------------------------
    for args, pat in ((("dataset", "cancel", proj, "nope"), "no dataset \"nope\""),
                      (("dataset", "delete", proj, "nope"), "no dataset \"nope\""),
                      (("host", "ban", proj, "999"), "no host 999"),
                      (("host", "ban", proj, "x1"), "not a host id"),
                      (("dataset", "frob", proj), "list, cancel or delete")):
        rc, out, err = run(*args)
        check(rc == 2 and len(err.splitlines()) == 1 and err.startswith("ozma-server: ") and
              pat in err, "%s: exit %d, %s" % (" ".join(args[:2]), rc, err.strip()))
    for args in (("dataset", "--help"), ("host", "--help"), ("dataset", "list", "--help"),
                 ("host", "ban", "--help")):
        rc, out, err = run(*args)
        check(rc == 0 and "SYNOPSIS" in out, " ".join(args))
finally:
    proc.terminate()
    proc.wait(timeout=15)
check(proc.returncode == 0, "server exit status %s on SIGTERM" % proc.returncode)
sys.exit(1 if check.failures else 0)

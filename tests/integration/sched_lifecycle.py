# sched_lifecycle.py - the client half of test_sched_lifecycle.sh (run by
# it, not by ctest on its own): the data lifecycle (issue 20) under a long
# run, against a real `ozma-server serve`.
#
#   python3 sched_lifecycle.py BIN_DIR WORK DATASETS
#
# Phase 1, the lifecycle on (keep_units false, purge_after_days ~1.7 s):
# DATASETS small datasets are loaded one after another while the server
# runs, each worked to the end by one host uploading real results
# (ozma-search's), and after each the test waits for the file deleter and
# the purge (the second dataset's units get a third replica, which a slow
# host keeps a while: until it is back, the dataset's files and those
# units' texts stay).  Checks: the finished dataset's unit files are gone and GET
# /units/NAME.ozwu says 410; every result text is in
# DIR/archive/results-DAY.jsonl.gz exactly as uploaded (and no longer in
# the database); the units folder and the database stop growing - the
# database's live bytes (pages less free pages, after the WAL checkpoint)
# and its file (ozma.db) after the last dataset are within a bound of what
# they were after the third, where the result texts alone would have added
# DATASETS - 3 datasets' worth.  (The -wal file's length is the most
# frames one WAL generation held, which the writer bounds by starting it
# over at 4,096 frames, store_writer.c: it grew by 540 KB between two
# datasets in one CI run and not in others, and says nothing of whether
# the purge's pages are reused.)
# Phase 2, the control (keep_units true, purge_after_days 0): two more
# datasets keep their files and their texts, so the units folder and the
# live database grow by what phase 1 shed; then `ozma-server purge DIR
# --older-than 0` (with the server running) archives the texts after all,
# but not those of a validated unit with a replica still out, until that
# replica is back and validated against the canonical text.
# Prints "ok: ..." / "FAIL: ..." lines and a "figures:" line; exits 1 on
# any failure.
import glob
import gzip
import json
import os
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sched_project  # noqa: E402

BIN, WORK, DATASETS = sys.argv[1], sys.argv[2], int(sys.argv[3])
SERVER = os.path.join(BIN, "ozma-server")
check = sched_project.Checks()
BASE_CONFIG = {"job_tick_s": 0.1, "lifecycle_interval_s": 0.3, "rate_per_host": 1e5,
               "rate_burst": 1e6, "read_rate": 1e5, "read_burst": 1e6,
               "daily_result_quota": 1000000}
LIFE = dict(BASE_CONFIG, keep_units=False, purge_after_days=2e-5)  # 1.7 s
CONTROL = dict(BASE_CONFIG, keep_units=True, purge_after_days=0)

rec = os.path.join(WORK, "rec")
subprocess.run([os.path.join(BIN, "ozma-synth"), "--out", rec, "--samples", str(1 << 15),
                "--seed", "7"], check=True, capture_output=True)
proj = os.path.join(WORK, "proj")
subprocess.run([SERVER, "init", proj], check=True, capture_output=True)
units_dir = os.path.join(proj, "units")
db_path = os.path.join(proj, "ozma.db")


def configure(cfg):
    path = os.path.join(proj, "project.json")
    with open(path) as f:
        c = json.load(f)
    c.update(cfg)
    with open(path, "w") as f:
        json.dump(c, f)


def db(sql, *args):
    c = sqlite3.connect("file:%s?mode=ro" % db_path, uri=True, timeout=30)
    try:
        return c.execute(sql, args).fetchall()
    finally:
        c.close()


def dir_bytes(d):
    return sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))


def sizes():
    """(units folder bytes, live database bytes, ozma.db bytes, live
    bytes of the science tables): live is the pages in use (all less the
    free list); the science tables are the signals and candidates the
    assimilator keeps for good, with their indexes (dbstat)."""
    live = db("SELECT (SELECT page_count FROM pragma_page_count)"
              " - (SELECT freelist_count FROM pragma_freelist_count)")[0][0]
    live *= db("PRAGMA page_size")[0][0]
    files = os.path.getsize(db_path)
    science = db("SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name IN (SELECT name FROM"
                 " sqlite_schema WHERE tbl_name IN ('signals', 'candidates', 'rfi_bins'))")[0][0]
    return dir_bytes(units_dir), live, files, science


def wait_for(cond, what, timeout=15):
    t = time.monotonic() + timeout
    while time.monotonic() < t:
        if cond():
            return True
        time.sleep(0.1)
    return check(False, what + " (waited %d s)" % timeout)


class Run:
    def __init__(self):
        self.proc, url = sched_project.serve(BIN, proj, os.path.join(WORK, "serve.log"))
        with open(os.path.join(WORK, "server.pid"), "w") as f:  # for the script's cleanup
            f.write(str(self.proc.pid))
        self.c = sched_project.Client(url.split("//", 1)[1])

    def stop(self):
        self.c.close()
        self.proc.terminate()
        self.proc.wait(30)


def work_dataset(run, keys, name, replicas=2, first=None, held=None):
    """Loads dataset NAME (REPLICAS replicas of each unit, quorum 2, and a
    low spike threshold: results of a few KiB, as real ones with many
    signals), works every unit of it with real results from the hosts KEYS;
    returns {unit: result text}.  With FIRST, that host asks for a little
    work first and keeps it: its {replica_id: text} into HELD."""
    before = set(os.listdir(units_dir))
    subprocess.run([SERVER, "load", proj, rec, "--name", name, "--unit-samples", str(1 << 12),
                    "--fft-max", "1024", "--chirp-max", "2", "--spike-thresh", "6", "--quorum",
                    "2", "--replicas", str(replicas), "--quiet"], check=True, capture_output=True)
    files = sorted(f for f in set(os.listdir(units_dir)) - before if f.endswith(".ozwu"))
    texts = sched_project.unit_results(BIN, units_dir, files)
    if first:
        st, j = run.c.json("POST", "/api/v1/work", {"want_seconds": 1e-6}, key=first)
        held.update({a["replica_id"]: texts[a["unit_id"]] for a in j.get("assignments", [])})
    done, t = [{} for _ in keys], time.monotonic() + 30
    while time.monotonic() < t:
        for i, key in enumerate(keys):
            body = {"want_seconds": 600, "held": sorted(done[i]),
                    "results": [{"replica_id": r, "result": x} for r, x in done[i].items()]}
            st, j = run.c.json("POST", "/api/v1/work", body, key=key)
            if st != 200:
                check(False, "work request: %d %s" % (st, str(j)[:200]))
                return texts
            for r in j.get("results", []):
                if not r.get("accepted"):
                    check(False, "result refused: %s" % str(r)[:200])
            done[i] = {a["replica_id"]: texts[a["unit_id"]] for a in j["assignments"]}
        left = db("SELECT count(*) FROM units u JOIN datasets d ON d.id = u.dataset_id"
                  " WHERE d.name = ? AND u.state != 1", name)[0][0]
        if not any(done) and left == 0:
            return texts
        if not any(done):
            time.sleep(0.1)
    check(False, "dataset %s worked to the end" % name)
    return texts


def archived():
    """{replica text: count} over every archive line."""
    out = {}
    for p in sorted(glob.glob(os.path.join(proj, "archive", "results-*.jsonl.gz"))):
        with gzip.open(p, "rt") as f:
            for line in f:
                o = json.loads(line)
                out[o["result"]] = out.get(o["result"], 0) + 1
    return out


# ---- phase 1: the lifecycle on ----
configure(LIFE)
run = Run()
keys, host_ids = [], []
for n in ("h1", "h2", "h3"):  # three accounts: a unit's replicas go to different ones
    st, a = run.c.json("POST", "/api/v1/accounts", {"name": "life-" + n})
    st, h = run.c.json("POST", "/api/v1/hosts", {"name": n, "os": "Linux", "ncpus": 4,
                                                  "flops": 1e9, "memory_mb": 2048},
                       key=a["authenticator"])
    keys.append(h["host_key"])
    host_ids.append(h["host_id"])
key3 = keys.pop()  # the slow host: takes a replica and keeps it a while
figures, all_texts, text_bytes = [], {}, []
for k in range(DATASETS):
    name = "d%d" % k
    held = {}
    texts = work_dataset(run, keys, name, **({"replicas": 3, "first": key3, "held": held}
                                              if k == 1 else {}))
    if held:  # finished, but a replica is out: files and texts stay until it is back
        time.sleep(1.0)  # three passes of the lifecycle
        check(db("SELECT files_gone FROM datasets WHERE name = ?", name) == [(None,)]
              and any(f.startswith(name + "-") for f in os.listdir(units_dir))
              and db("SELECT count(*) FROM units WHERE purged IS NULL AND id IN (SELECT unit_id"
                     " FROM replicas WHERE id IN (%s))" % ",".join(map(str, held)))[0][0]
              == len(held),
              "%s validated with %d replica(s) still out: its files and those units' texts"
              " stay" % (name, len(held)))
        st, j = run.c.json("POST", "/api/v1/work", {"want_seconds": 0, "held": [],
                                                     "results": [{"replica_id": r, "result": x}
                                                                 for r, x in held.items()]},
                           key=key3)
        check(st == 200 and all(r.get("accepted") for r in j.get("results", [])),
              "the slow host's late result accepted (%d)" % st)
    all_texts.update(texts)
    text_bytes.append(2 * sum(len(x) for x in texts.values()))  # two replicas each
    ok = wait_for(lambda: db("SELECT files_gone IS NOT NULL FROM datasets WHERE name = ?",
                             name)[0][0] == 1
                  and not any(f.startswith(name + "-") for f in os.listdir(units_dir))
                  and db("SELECT count(*) FROM units u JOIN datasets d ON d.id = u.dataset_id"
                         " WHERE d.name = ? AND u.purged IS NULL", name)[0][0] == 0,
                  "dataset %s: unit files deleted and result texts purged" % name)
    if not ok:
        break
    figures.append(sizes())
    if k == 0:
        first = sorted(texts)[0]
        st, j = run.c.json("GET", "/units/%s.ozwu" % first)
        check(st == 410 and j.get("error", {}).get("code") == "gone",
              "GET /units/%s.ozwu after its dataset finished: 410 gone (%d %s)"
              % (first, st, str(j)[:120]))
        st, j = run.c.json("GET", "/units/nosuch-0.ozwu")
        check(st == 404, "an unknown unit file is still 404 (%d)" % st)

check(len(figures) == DATASETS, "%d datasets worked, each one's files deleted and texts purged"
      % len(figures))
left = db("SELECT count(*) FROM replicas WHERE result IS NOT NULL OR result_bin IS NOT NULL")[0][0]
check(left == 0, "no result text nor its packed form left in the database (%d)" % left)
arch = archived()
missing = [t for t in all_texts.values() if t not in arch]
check(not missing and len(all_texts) > 0,
      "every one of the %d result texts is in the archives, byte for byte (%d missing)"
      % (len(all_texts), len(missing)))
check(dir_bytes(units_dir) == 0, "the units folder is empty (%d bytes)" % dir_bytes(units_dir))
st, j = run.c.json("GET", "/api/v1/hosts/%d/results?limit=200" % host_ids[0])
check(st == 200 and j["results"] and all(r["archived"] for r in j["results"]),
      "a host's results page still lists them, each archived (%d, %d)"
      % (st, len(j.get("results", []))))
p = subprocess.run([SERVER, "verify", proj, "--all"], capture_output=True, text=True)
check(p.returncode == 0, "verify --all passes over the deleted files (exit %d: %s)"
      % (p.returncode, (p.stdout + p.stderr).strip()[-200:]))
# Bounded: after the third dataset the database reuses the pages the purge
# freed.  What stays of each dataset is the science it found (signals and
# candidates, kept for good) and its unit and replica rows less the texts:
# allow 8 KiB of rows per dataset (9 units, 18 replicas) beside the
# science, where the texts alone are ~60 KiB per dataset.
if len(figures) == DATASETS and DATASETS > 4:
    k0 = 2
    n = DATASETS - 1 - k0
    per = sum(text_bytes) / len(text_bytes)
    live_growth = figures[-1][1] - figures[k0][1]
    science_growth = figures[-1][3] - figures[k0][3]
    file_growth = figures[-1][2] - figures[k0][2]
    check(live_growth - science_growth <= 8192 * n,
          "live database grew %d bytes over the last %d datasets, %d of them their signals"
          " and candidates: the rest within %d (their texts: %d)"
          % (live_growth, n, science_growth, 8192 * n, per * n))
    check(file_growth <= live_growth + 256 * 1024,
          "the database file (ozma.db) grew %d bytes over the last %d datasets (bound %d)"
          % (file_growth, n, live_growth + 256 * 1024))
    per_life = live_growth / n
run.stop()

# ---- phase 2: the control, lifecycle off, then `purge` by hand ----
configure(CONTROL)
run = Run()
before = sizes()
control = {}
for k in range(2):
    control.update(work_dataset(run, keys, "c%d" % k))
time.sleep(1.0)  # a lifecycle pass or three: nothing may go
after = sizes()
kept = db("SELECT count(*) FROM replicas WHERE result IS NOT NULL")[0][0]
check(after[0] > before[0] and kept == 2 * len(control),
      "keep_units true, purge_after_days 0: files kept (%d -> %d bytes), %d texts kept"
      % (before[0], after[0], kept))
ctl_bytes = 2 * sum(len(x) for x in control.values())
check(after[1] - before[1] >= ctl_bytes // 2,
      "without the purge the live database grows with the texts (%d bytes for %d of text)"
      % (after[1] - before[1], ctl_bytes))
if len(figures) == DATASETS and DATASETS > 4:
    per_ctl = (after[1] - before[1]) / 2
    check(per_life <= per_ctl / 2, "with the lifecycle the live database grows %d bytes a"
          " dataset, without it %d" % (per_life, per_ctl))
p = subprocess.run([SERVER, "purge", proj, "--older-than", "0"], capture_output=True, text=True)
check(p.returncode == 0 and "purged %d unit" % len(control) in p.stdout,
      "ozma-server purge --older-than 0 while serving: %r %r" % (p.stdout.strip(),
                                                                  p.stderr.strip()))
arch = archived()
kept = db("SELECT count(*) FROM replicas WHERE result IS NOT NULL")[0][0]
check(kept == 0 and all(t in arch for t in control.values()),
      "its texts moved to the archives (%d left in the database)" % kept)
check(dir_bytes(units_dir) == after[0], "keep_units: the files are still there")

# A validated unit with a replica still out (a third replica, a slow host)
# keeps its texts, however old, until that replica is back and validated
# against the canonical result, which needs its text.
held = {}
c2 = work_dataset(run, keys, "c2", replicas=3, first=key3, held=held)
out_units = db("SELECT count(DISTINCT unit_id) FROM replicas WHERE state = 1")[0][0]
check(len(held) > 0 and out_units == len(held), "host 3 holds %d replicas of c2's validated units"
      % out_units)
p = subprocess.run([SERVER, "purge", proj, "--older-than", "0"], capture_output=True, text=True)
check(p.returncode == 0 and "purged %d unit" % (len(c2) - out_units) in p.stdout,
      "purge skips the units with a replica out: %r" % p.stdout.strip())
kept = db("SELECT count(*) FROM replicas r JOIN units u ON u.id = r.unit_id"
          " WHERE u.purged IS NULL AND r.result IS NOT NULL")[0][0]
check(kept == 2 * out_units, "their %d texts stay (%d)" % (2 * out_units, kept))
st, j = run.c.json("POST", "/api/v1/work", {"want_seconds": 0, "held": [],
                                             "results": [{"replica_id": r, "result": x}
                                                         for r, x in held.items()]},
                   key=key3)
check(st == 200 and all(r.get("accepted") for r in j.get("results", [])),
      "host 3's late results accepted: %d" % st)
wait_for(lambda: db("SELECT count(*) FROM replicas WHERE id IN (%s) AND validate_state = 1"
                    % ",".join(str(r) for r in held))[0][0] == len(held),
         "host 3's results validated against the canonical ones")
p = subprocess.run([SERVER, "purge", proj, "--older-than", "0"], capture_output=True, text=True)
arch = archived()
check(p.returncode == 0 and "purged %d unit" % out_units in p.stdout
      and db("SELECT count(*) FROM replicas WHERE result IS NOT NULL")[0][0] == 0
      and all(t in arch for t in c2.values()),
      "then they are purged too: %r" % p.stdout.strip())
run.stop()
print("figures: units_bytes,live_db_bytes,db_file_bytes,science_bytes after each dataset: %s;"
      " texts per dataset %d bytes; control %s -> %s"
      % (" ".join("%d,%d,%d,%d" % f for f in figures),
         sum(text_bytes) // max(1, len(text_bytes)), before, after))
sys.exit(1 if check.failures else 0)

"""testdb.py - the project database a test looks into, on either backend.

By default a project keeps its tables in DIR/ozma.db (SQLite).  Run under
pg_run.sh, which starts a throwaway PostgreSQL cluster and sets
OZ_TEST_PG_HOST (its socket directory), every project a test makes with
init() gets a fresh database of its own on that cluster instead, and
query() reads it with psql.  The SQL a test writes must then be the
dialect both share (CASE, not sums of comparisons; no PRAGMA, hex(), ...);
pg() tells a test that checks something only one backend has.
"""
import itertools
import json
import os
import subprocess
import sqlite3

PG_HOST = os.environ.get("OZ_TEST_PG_HOST") or None
_seq = itertools.count(1)


def pg():
    return PG_HOST is not None


def admin_uri():
    return "postgresql:///postgres?host=%s&user=postgres" % PG_HOST


def init(server, d, *args, **run):
    """ozma-server init D ARGS, with a database of its own under PostgreSQL."""
    cmd = [server, "init", d] + list(args)
    if PG_HOST:
        name = "p%d_%d" % (os.getpid(), next(_seq))
        subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", admin_uri(), "-c",
                        "CREATE DATABASE " + name], check=True, capture_output=True)
        cmd += ["--database", "postgresql:///%s?host=%s&user=postgres" % (name, PG_HOST)]
    run.setdefault("check", True)
    run.setdefault("capture_output", True)
    return subprocess.run(cmd, **run)


def uri(d):
    with open(os.path.join(d, "project.json")) as f:
        return json.load(f).get("database", "")


def _literal(v):
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, (bytes, bytearray)):
        return "'\\x%s'::bytea" % bytes(v).hex()
    return "'" + str(v).replace("'", "''") + "'"


def _bind(sql, args):
    """sql with each ? outside quotes replaced by the next of args."""
    out, it, quote = [], iter(args), None
    for ch in sql:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "?":
            out.append(_literal(next(it)))
            continue
        out.append(ch)
    return "".join(out)


def _value(t):
    if t == "\x1e":
        return None
    if t in ("t", "f"):
        return 1 if t == "t" else 0
    for conv in (int, float):
        try:
            return conv(t)
        except ValueError:
            pass
    return t


def query(d, sql, args=(), timeout=30):
    """The rows of sql (? parameters) on project d's database, as tuples."""
    if not PG_HOST:
        c = sqlite3.connect(os.path.join(d, "ozma.db"), timeout=timeout)
        try:
            return c.execute(sql, args).fetchall()
        finally:
            c.close()
    r = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-F", "\x1f", "-R", "\x1d", "-P",
                        "null=\x1e", "-v", "ON_ERROR_STOP=1", "-d", uri(d), "-c", _bind(sql, args)],
                       capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError("psql: %s: %s" % (sql, r.stderr.strip()))
    out = r.stdout[:-1] if r.stdout.endswith("\n") else r.stdout
    return [tuple(_value(f) for f in row.split("\x1f")) for row in out.split("\x1d") if out]


def dump(d):
    """The whole database as text, to compare before and after."""
    if not PG_HOST:
        return subprocess.run(["sqlite3", os.path.join(d, "ozma.db"), ".dump"],
                              capture_output=True, text=True, check=True).stdout
    out = subprocess.run(["pg_dump", "--no-owner", "--data-only", "--inserts", "-d", uri(d)],
                         capture_output=True, text=True, check=True).stdout
    # not data: pg_dump's random \restrict key, and where the id sequences
    # stand (they move on even in a transaction that is rolled back)
    return "".join(line for line in out.splitlines(True)
                   if not line.startswith(("\\restrict", "\\unrestrict"))
                   and "pg_catalog.setval(" not in line)


def main(argv):
    """For shell tests (lib.sh): init SERVER DIR [ARGS...] | query DIR SQL | uri DIR | dump DIR."""
    import sys
    if len(argv) >= 3 and argv[0] == "init":
        r = init(argv[1], argv[2], *argv[3:], check=False)
        sys.stdout.write(r.stdout.decode())
        sys.stderr.write(r.stderr.decode())
        return r.returncode
    if len(argv) == 3 and argv[0] == "query":
        for row in query(argv[1], argv[2]):
            print("|".join("" if v is None else str(v) for v in row))
        return 0
    if len(argv) == 2 and argv[0] == "uri":
        print(uri(argv[1]))
        return 0
    if len(argv) == 2 and argv[0] == "dump":
        sys.stdout.write(dump(argv[1]))
        return 0
    sys.stderr.write("usage: testdb.py init SERVER DIR [ARGS...] | query DIR SQL | uri DIR | dump DIR\n")
    return 2


if __name__ == "__main__":
    import sys
    sys.exit(main(sys.argv[1:]))

"""pg_statements.py - every SQL statement of the store's query files
(store_sql.py reads them from the source) prepared on both databases: on
PostgreSQL, whose schema pg_schema.py has applied, as the libpq driver
prepares it (states expanded, then the driver's own rewriting, through
pg_schema_sql --rewrite; no parameter types: the server must infer each), and on a SQLite project made by ozma-server
init, with decay(), greatest() and least() defined as the server does.
Statements are prepared, not run (a CREATE TEMP TABLE is run, in a
transaction that is rolled back, for the statements after it).  Run as
`python3 pg_statements.py BIN WORK PSQL DB ROOT`; exit 1 naming each
statement, by file and line, that either database refuses.
"""
import os
import re
import sqlite3
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import store_sql  # noqa: E402

BIN, WORK, PSQL, DB, ROOT = sys.argv[1:6]
found = store_sql.statements(ROOT)
raw = subprocess.run([f"{BIN}/pg_schema_sql", "--expand"],
                     input="".join(sql + "\0" for _, sql in found).encode(),
                     capture_output=True, check=True).stdout.decode()
texts = raw.split("\0")[:-1]
assert len(texts) == len(found), "the expander lost statements"
# each as the PostgreSQL driver sends it, after its largest parameter number
sent = subprocess.run([f"{BIN}/pg_schema_sql", "--rewrite"],
                      input="".join(sql + "\0" for sql in texts).encode(),
                      capture_output=True, check=True).stdout.decode().split("\0")[:-1]
assert len(sent) == len(texts), "the rewriter lost statements"
tops = [int(s.split("\t", 1)[0]) for s in sent]
pgs = [s.split("\t", 1)[1] for s in sent]


def runs(sql):
    """Is sql run rather than prepared (PostgreSQL prepares only DML)?"""
    return re.match(r"\s*(CREATE|DROP)\b", sql) is not None


# ---- PostgreSQL: one psql script, a line per statement, errors by line ----
lines = ["\\set ON_ERROR_ROLLBACK on", "BEGIN;"]
first = len(lines) + 1
for i, pg in enumerate(pgs):
    pg = " ".join(pg.split())
    lines.append(f"{pg};" if runs(pg) else f"PREPARE oz_{i} AS {pg};")
lines.append("ROLLBACK;")
out = subprocess.run([PSQL, "-X", "-q", "-d", DB, "-f", "-"], input="\n".join(lines) + "\n",
                     capture_output=True, text=True)
pg_bad = {}
for m in re.finditer(r"^psql:<stdin>:(\d+): ERROR:\s*(.*)$", out.stderr, re.M):
    pg_bad.setdefault(int(m.group(1)) - first, m.group(2))

# ---- SQLite: each statement compiled (EXPLAIN), never run ----
lite = sqlite3.connect(f"{WORK}/proj/ozma.db")
lite.create_function("decay", 3, lambda r, a, b: r, deterministic=True)
lite.create_function("greatest", -1, lambda *a: max(x for x in a if x is not None),
                     deterministic=True)
lite.create_function("least", -1, lambda *a: min(x for x in a if x is not None),
                     deterministic=True)
lite.execute("BEGIN")
lite_bad = {}
for i, sql in enumerate(texts):
    try:
        lite.execute(sql if runs(sql) else "EXPLAIN " + sql, [None] * tops[i])
    except sqlite3.Error as e:
        lite_bad[i] = str(e)
lite.rollback()

failures = 0
for i, (where, _) in enumerate(found):
    for name, bad in (("PostgreSQL", pg_bad), ("SQLite", lite_bad)):
        if i in bad:
            failures += 1
            print(f"FAIL: {where}: {name}: {bad[i]}\n    {' '.join(texts[i].split())}",
                  file=sys.stderr)
print(f"{'ok' if failures == 0 else 'FAIL'}: {len(found) - len(set(pg_bad) | set(lite_bad))}"
      f" of the store's {len(found)} statements prepare on PostgreSQL and SQLite",
      file=sys.stdout if failures == 0 else sys.stderr)
sys.exit(1 if failures or len(found) < 100 else 0)

"""pg_schema.py - test_sched_pg_schema.sh's checks: run as
`python3 pg_schema.py BIN WORK PSQL DB`, with PGHOST and PGUSER naming an
empty PostgreSQL database DB.  Applies the PostgreSQL schema (BIN/
pg_schema_sql) with psql, makes a SQLite project with BIN/ozma-server init,
and compares the two: tables, columns (order, type, NOT NULL, default),
primary, unique and foreign keys, indexes (columns, order, uniqueness,
partial WHERE), triggers, the schema version; then runs the same statements
on both and compares what the triggers counted; then SQL decay() against
credit.c's (pg_schema_sql --decay).  Exit 1 on any difference, each named.
"""
import random
import re
import sqlite3
import subprocess
import sys

BIN, WORK, PSQL, DB = sys.argv[1:5]
failures = 0


def check(cond, msg):
    global failures
    print(("ok: " if cond else "FAIL: ") + msg, file=sys.stdout if cond else sys.stderr)
    failures += 0 if cond else 1
    return cond


def psql(sql, stdin=None):
    """Rows of sql's last statement, each a tuple of strings (None for NULL)."""
    out = subprocess.run(
        [PSQL, "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-F", "\x1f", "-R", "\x1e",
         "-P", "null=\x1d", "-d", DB, "-c", sql],
        input=stdin, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"psql: {sql[:80]}...: {out.stderr.strip()}")
    return [tuple(None if v == "\x1d" else v for v in row.split("\x1f"))
            for row in out.stdout.strip("\n").split("\x1e") if row.strip("\n") != ""]


def diff(what, lite, pg):
    """Checks that the SQLite and PostgreSQL sides agree, naming the differences."""
    if isinstance(lite, dict):
        only_l = sorted(set(lite) - set(pg))
        only_p = sorted(set(pg) - set(lite))
        check(not only_l, f"{what}: none only in SQLite {only_l}")
        check(not only_p, f"{what}: none only in PostgreSQL {only_p}")
        bad = [f"{k}: SQLite {lite[k]} PostgreSQL {pg[k]}" for k in sorted(set(lite) & set(pg))
               if lite[k] != pg[k]]
        check(not bad, f"{what}: the same in both" + ("" if not bad else ": " + "; ".join(bad)))
    else:
        check(lite == pg, f"{what}: the same in both (SQLite {lite}, PostgreSQL {pg})")


# ---- the schema applies, in one transaction ----
sql = subprocess.run([f"{BIN}/pg_schema_sql"], capture_output=True, text=True, check=True).stdout
applied = subprocess.run([PSQL, "-X", "-q", "-1", "-v", "ON_ERROR_STOP=1", "-d", DB, "-f", "-"],
                         input=sql, capture_output=True, text=True)
if not check(applied.returncode == 0, f"the schema applies: {applied.stderr.strip()}"):
    sys.exit(1)
subprocess.run([f"{BIN}/ozma-server", "init", f"{WORK}/proj"], capture_output=True, check=True)
lite = sqlite3.connect(f"{WORK}/proj/ozma.db")
lite.execute("PRAGMA foreign_keys=ON")

# ---- tables and columns ----
TYPES = {"INTEGER": "bigint", "REAL": "double precision", "TEXT": "text", "BLOB": "bytea"}


def norm_default(v):
    """A column default as both write it: 0, '' (PostgreSQL adds casts)."""
    if v is None:
        return None
    v = re.sub(r"::[a-z ]+$", "", v)
    return v[1:-1] if re.fullmatch(r"'-?[0-9.]+'", v) else v


l_tables = [r[0] for r in lite.execute(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'")]
p_tables = [r[0] for r in psql(
    "SELECT table_name FROM information_schema.tables"
    " WHERE table_schema = 'public' AND table_type = 'BASE TABLE'")]
diff("tables", {t: "" for t in l_tables}, {t: "" for t in p_tables if t != "schema_version"})
l_cols, p_cols = {}, {}
for t in l_tables:
    for cid, name, typ, notnull, dflt, pk in lite.execute(f"PRAGMA table_info({t})"):
        l_cols[f"{t}.{name}"] = (cid + 1, TYPES.get(typ, typ), bool(notnull or pk),
                                 norm_default(dflt))
for t, name, pos, typ, nullable, dflt, ident in psql(
        # the rank of ordinal_position: a dropped column leaves a gap there
        "SELECT table_name, column_name,"
        " row_number() OVER (PARTITION BY table_name ORDER BY ordinal_position), data_type,"
        " is_nullable,"
        " column_default, is_identity FROM information_schema.columns"
        " WHERE table_schema = 'public' AND table_name <> 'schema_version'"
        " AND table_name IN (SELECT table_name FROM information_schema.tables"
        "  WHERE table_schema = 'public' AND table_type = 'BASE TABLE')"):
    p_cols[f"{t}.{name}"] = (int(pos), typ, nullable == "NO", norm_default(dflt))
diff("columns (position, type, NOT NULL, default)", l_cols, p_cols)

# ---- views: their names and columns ----
l_views = {v: tuple(r[1] for r in lite.execute(f"PRAGMA table_info({v})"))
           for (v,) in lite.execute("SELECT name FROM sqlite_master WHERE type = 'view'")}
p_views = {}
for v, cols in psql("SELECT c.table_name, string_agg(c.column_name, ',' ORDER BY"
                    " c.ordinal_position) FROM information_schema.columns c"
                    " JOIN information_schema.views v ON v.table_name = c.table_name"
                    " AND v.table_schema = c.table_schema"
                    " WHERE c.table_schema = 'public' GROUP BY c.table_name"):
    p_views[v] = tuple(cols.split(","))
diff("views (columns)", l_views, p_views)

# ---- keys ----
l_keys, p_keys = {}, {}
for t in l_tables:
    pk = [r[1] for r in sorted(lite.execute(f"PRAGMA table_info({t})"), key=lambda r: r[5])
          if r[5]]
    l_keys[f"{t} primary key"] = tuple(pk)
    for _, iname, uniq, origin, _ in lite.execute(f"PRAGMA index_list({t})"):
        if origin == "u":
            cols = tuple(r[2] for r in lite.execute(f"PRAGMA index_info({iname})"))
            l_keys[f"{t} unique{cols}"] = cols
    for _, _, ref, frm, to, _, on_delete, _ in lite.execute(f"PRAGMA foreign_key_list({t})"):
        l_keys[f"{t}.{frm} references"] = (ref, to, on_delete)
ACTIONS = {"a": "NO ACTION", "c": "CASCADE", "r": "RESTRICT", "n": "SET NULL", "d": "SET DEFAULT"}
for t, kind, cols, ref, refcols, deltype in psql(
        "SELECT c.conrelid::regclass::text, c.contype,"
        " (SELECT string_agg(a.attname, ',' ORDER BY k.i) FROM unnest(c.conkey)"
        "   WITH ORDINALITY k(n, i)"
        "   JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n),"
        " c.confrelid::regclass::text,"
        " (SELECT string_agg(a.attname, ',' ORDER BY k.i) FROM unnest(c.confkey)"
        "   WITH ORDINALITY k(n, i) JOIN pg_attribute a ON a.attrelid = c.confrelid"
        "   AND a.attnum = k.n), c.confdeltype"
        " FROM pg_constraint c JOIN pg_namespace s ON s.oid = c.connamespace"
        " WHERE s.nspname = 'public' AND c.contype IN ('p', 'u', 'f')"
        " AND c.conrelid::regclass::text <> 'schema_version'"):
    cols = tuple(cols.split(","))
    if kind == "p":
        p_keys[f"{t} primary key"] = cols
    elif kind == "u":
        p_keys[f"{t} unique{cols}"] = cols
    else:
        p_keys[f"{t}.{cols[0]} references"] = (ref, refcols, ACTIONS[deltype])
diff("primary, unique and foreign keys", l_keys, p_keys)

# ---- indexes ----
NOISE = {"is", "not", "null", "and", "or"}


def where_words(text):
    """A partial index's WHERE as the set of its names and numbers."""
    if not text:
        return ()
    return tuple(sorted(set(w.lower() for w in re.findall(r"[A-Za-z_]+|[0-9]+", text)) - NOISE))


l_idx, p_idx = {}, {}
for name, t, sql_text in lite.execute(
        "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"):
    keys = tuple((r[2] or "<expr>") + (" DESC" if r[3] else "")
                 for r in lite.execute(f"PRAGMA index_xinfo({name})") if r[5])
    where = sql_text.split(" WHERE ", 1)[1] if " WHERE " in sql_text else ""
    uniq = sql_text.upper().startswith("CREATE UNIQUE")
    l_idx[name] = (t, uniq, keys, where_words(where))
for name, t, uniq, keys, where in psql(
        "SELECT i.relname, c.relname, x.indisunique,"
        " (SELECT string_agg(CASE WHEN k.n = 0 THEN '<expr>' ELSE a.attname END"
        "   || CASE WHEN x.indoption[k.i - 1] & 1 = 1 THEN ' DESC' ELSE '' END, ',' ORDER BY k.i)"
        "   FROM unnest(x.indkey) WITH ORDINALITY k(n, i)"
        "   LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.n),"
        " pg_get_expr(x.indpred, x.indrelid)"
        " FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid"
        " JOIN pg_class c ON c.oid = x.indrelid JOIN pg_namespace s ON s.oid = c.relnamespace"
        " WHERE s.nspname = 'public'"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)"):
    p_idx[name] = (t, uniq == "t", tuple(keys.split(",")), where_words(where))
diff("indexes (table, unique, keys, partial WHERE)", l_idx, p_idx)

# ---- triggers ----
l_trig, p_trig = {}, {}
for name, t, sql_text in lite.execute(
        "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger'"):
    m = re.search(r"AFTER (INSERT|UPDATE|DELETE)(?: OF ([a-z_, ]+))? ON", sql_text)
    cols = tuple(c.strip() for c in m.group(2).split(",")) if m.group(2) else ()
    l_trig[name] = (t, m.group(1), cols)
for name, t, event, timing, cols in psql(
        "SELECT trigger_name, event_object_table, event_manipulation, action_timing,"
        " (SELECT string_agg(event_object_column, ',' ORDER BY event_object_column)"
        "  FROM information_schema.triggered_update_columns u"
        "  WHERE u.trigger_name = t.trigger_name) FROM information_schema.triggers t"
        " WHERE trigger_schema = 'public'"):
    p_trig[name] = (t, event, tuple(sorted(cols.split(","))) if cols else ())
    check(timing == "AFTER", f"trigger {name}: AFTER, as SQLite's")
l_trig = {k: (t, e, tuple(sorted(c))) for k, (t, e, c) in l_trig.items()}
diff("triggers (table, event, columns)", l_trig, p_trig)

# ---- the version ----
diff("schema version", lite.execute("PRAGMA user_version").fetchone()[0],
     int(psql("SELECT version FROM schema_version")[0][0]))

# ---- the triggers count alike ----
# (states: store.h's enums; replicas 0 unsent, 1 in progress, 2 over;
# outcome 1 success; units 1 validated, 2 error)
STEPS = [
    "INSERT INTO datasets(name, recording, sample_rate, center_hz, config, min_quorum,"
    " target_nresults, max_error_results, max_total_results, delay_bound, created)"
    " VALUES('d1', 'r', 1, 1, 'c', 2, 2, 3, 6, 100, 0),"
    " ('d2', 'r', 1, 1, 'c', 2, 2, 3, 6, 100, 0)",
    "INSERT INTO units(dataset_id, name, file, bytes, sha256, flops, idx, start_s, nsamples,"
    " target) VALUES" + ", ".join(f"({1 if i < 7 else 2}, 'u{i}', 'f', 1, BLOB, 1, {i}, 0, 1, 2)"
                                  for i in range(1, 9)),
    "UPDATE datasets SET nunits = 6 WHERE id = 1",  # as oz_store_units_add counts them
    "UPDATE datasets SET nunits = 2 WHERE id = 2",
    "INSERT INTO replicas(unit_id) SELECT id FROM units",
    "INSERT INTO replicas(unit_id, state) VALUES(1, 1)",
    "INSERT INTO replicas(unit_id, state, outcome) VALUES(2, 2, 1)",
    "UPDATE units SET state = 1 WHERE id = 3",
    "UPDATE units SET state = 2 WHERE id = 4",
    "UPDATE units SET n_running = n_running + 1 WHERE id IN (5, 6, 7)",
    "UPDATE units SET n_running = n_running - 1, n_success = n_success + 1 WHERE id = 5",
    "UPDATE units SET error = 'e' WHERE id = 6",
    "DELETE FROM replicas WHERE unit_id = 1 AND state = 1",
    "DELETE FROM datasets WHERE id = 2",
]
READS = ["SELECT dataset_id, n_validated, n_error, n_validating, n_running, n_unsent, n_units"
         " FROM dataset_progress ORDER BY dataset_id",
         "SELECT count(*) FROM dataset_counts",
         "SELECT id, state, n_running, n_success FROM units ORDER BY id",
         "SELECT id, unit_id, state, outcome FROM replicas ORDER BY id"]
for step in STEPS:
    lite.execute(step.replace("BLOB", "X'00'"))
    psql(step.replace("BLOB", "'\\x00'::bytea"))
lite.commit()
for q in READS:
    diff(q, [tuple(str(v) for v in r) for r in lite.execute(q)], psql(q))
counts = psql(READS[0])
check(counts == [("1", "1", "1", "2", "1", "1", "6")],
      f"dataset 1 counted 1 validated, 1 error, 2 validating, 1 running, 1 unsent of 6 units,"
      f" dataset 2 gone: {counts}")

# ---- decay() gives credit.c's doubles ----
rng = random.Random(22)
cases = [(100.0, 0, 604800), (1234.5678, 1700000000, 1700003600), (5.0, 10, 5), (2.5, 7, 7),
         (0.0, 0, 100), (1e-300, 0, 99999999), (1e12, 0, 10**10), (1e-20, 0, 400000000),
         (987654.321, 1600000000, 1700000000)]
for _ in range(100):
    cases.append((rng.random() * 10 ** rng.randint(-6, 9), rng.randint(0, 2 * 10**9),
                  rng.randint(0, 2 * 10**9)))
values = ",".join(f"({r!r}::float8, {a}, {b})" for r, a, b in cases)
got = [float(r[0]) for r in psql("SELECT decay(r, a, b) FROM (VALUES " + values + ") v(r, a, b)")]
bad = []
for (r, a, b), p in zip(cases, got):
    c = float(subprocess.run([f"{BIN}/pg_schema_sql", "--decay", repr(r), str(a), str(b)],
                             capture_output=True, text=True, check=True).stdout)
    if c != p:
        bad.append(f"decay({r!r}, {a}, {b}): C {c!r}, SQL {p!r}")
check(len(got) == len(cases) and not bad,
      f"decay() equals oz_credit_decay on {len(cases)} cases" + ("; ".join([""] + bad[:5])))

sys.exit(1 if failures else 0)

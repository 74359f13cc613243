/*
 * sqlite.c - the SQLite backend of the store (store.h): the database file,
 * its schema and migrations, its connections, the fsync of its WAL and
 * the checkpoints that store.h calls compaction.  store.c holds what both
 * backends share (the statement cache, transactions) and sends the rest
 * here or to pg.c; the writer thread that batches transactions is
 * store_writer.c.
 *
 * The schema is versioned in PRAGMA user_version.  Version 1 is created in
 * one transaction by oz_sqlite_db_create; later versions add a migration step to
 * `migrations` and bump OZ_STORE_SCHEMA_VERSION, and oz_sqlite_db_migrate applies the
 * missing steps in order, each in its own transaction.
 *
 * Every connection sets: WAL journal (on create), foreign_keys=ON,
 * busy_timeout (another process, such as a load, may hold the write lock for
 * one batch), and synchronous=NORMAL: a commit is in the WAL (safe from a
 * crash of the process) when it returns, and the WAL is fsynced before every
 * checkpoint.  What a client is promised is durable (results, accounts,
 * loads) also waits for an fsync of the WAL after its commit - group
 * commit: a thread that finds its commit already covered by another
 * thread's fsync returns at once, so N uploads cost one fsync, not N, and
 * no fsync happens under the write lock.  With the writer thread running, a
 * durable submission is handed from the writer to a syncer thread, which
 * fsyncs for all that are waiting and only then wakes them: the request's
 * thread waits once, and the writer runs the next batch meanwhile.  (On
 * Linux fsync flushes the file's every dirty page whichever descriptor
 * wrote them, so our own descriptor of the -wal file serves; it is reopened
 * if the file was replaced.)  A background thread checkpoints the WAL, and
 * the writer thread makes it start over once it is long (wal_restart), so
 * under steady load it stays near 16 MiB.  Replica, unit and signal rows
 * carry small integer states (store.h enums); the partial indexes below
 * make each job's "what needs doing" query a short index walk, and a
 * trigger (migrations 4 and 16) keeps each dataset's units counted by
 * progress class, so the public progress views cost a few rows per
 * dataset (dataset_progress), not a walk over every unit.
 * The SQL names those states by their enums, `{REPLICA_UNSENT}`, never by
 * digits: oz_store_stmt and the schema's runner put the values in before
 * SQLite sees the text (sql_states.h, which also says why not bound
 * parameters: the partial indexes must match the text).
 * A write that fails for want of space is OZ_SCHED_ENOSPC, and the
 * database keeps whether the disk is full (store.h), logging each change
 * of that state once: the failures themselves repeat every tick.
 */
#include "store_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "credit.h"
#include "name.h"
#include "sql_sqlite.h"
#include "sqlite.h"
#include "sql_states.h"

static const char schema_v1[] =
    "CREATE TABLE teams("
    "  id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, description TEXT NOT NULL DEFAULT '',"
    "  founder INTEGER, total_credit REAL NOT NULL DEFAULT 0,"
    "  recent_credit REAL NOT NULL DEFAULT 0, recent_time INTEGER NOT NULL DEFAULT 0,"
    "  created INTEGER NOT NULL);"
    "CREATE TABLE accounts("
    "  id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT,"
    "  team_id INTEGER REFERENCES teams(id), auth_hash BLOB NOT NULL UNIQUE,"
    "  total_credit REAL NOT NULL DEFAULT 0, recent_credit REAL NOT NULL DEFAULT 0,"
    "  recent_time INTEGER NOT NULL DEFAULT 0, created INTEGER NOT NULL);"
    "CREATE INDEX accounts_team ON accounts(team_id);"
    "CREATE INDEX accounts_total ON accounts(total_credit DESC, id);"
    "CREATE TABLE hosts("
    "  id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL REFERENCES accounts(id),"
    "  name TEXT NOT NULL, os TEXT NOT NULL, ncpus INTEGER NOT NULL, flops REAL NOT NULL,"
    "  memory_mb INTEGER NOT NULL, key_hash BLOB NOT NULL UNIQUE,"
    "  total_credit REAL NOT NULL DEFAULT 0, recent_credit REAL NOT NULL DEFAULT 0,"
    "  recent_time INTEGER NOT NULL DEFAULT 0, in_progress INTEGER NOT NULL DEFAULT 0,"
    "  last_rpc INTEGER NOT NULL DEFAULT 0, created INTEGER NOT NULL);"
    "CREATE INDEX hosts_account ON hosts(account_id);"
    "CREATE TABLE datasets("
    "  id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, recording TEXT NOT NULL,"
    "  sample_rate REAL NOT NULL, center_hz REAL NOT NULL, start_ns INTEGER,"
    "  config TEXT NOT NULL, min_quorum INTEGER NOT NULL, target_nresults INTEGER NOT NULL,"
    "  max_error_results INTEGER NOT NULL, max_total_results INTEGER NOT NULL,"
    "  delay_bound INTEGER NOT NULL, ready INTEGER NOT NULL DEFAULT 0,"
    "  nunits INTEGER NOT NULL DEFAULT 0, created INTEGER NOT NULL);"
    /* target: target_nresults, raised by one each time validation finds no
     * consensus.  need_*: work flags for the jobs, cleared as they finish. */
    "CREATE TABLE units("
    "  id INTEGER PRIMARY KEY,"
    "  dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,"
    "  name TEXT NOT NULL UNIQUE, file TEXT NOT NULL, bytes INTEGER NOT NULL,"
    "  sha256 BLOB NOT NULL, flops INTEGER NOT NULL, idx INTEGER NOT NULL,"
    "  start_s REAL NOT NULL, nsamples INTEGER NOT NULL, target INTEGER NOT NULL,"
    "  state INTEGER NOT NULL DEFAULT {UNIT_ACTIVE}, error TEXT, canonical INTEGER,"
    "  need_transition INTEGER NOT NULL DEFAULT 0, need_validate INTEGER NOT NULL DEFAULT 0,"
    "  assimilated INTEGER NOT NULL DEFAULT 0, finished INTEGER);"
    "CREATE INDEX units_dataset ON units(dataset_id, idx);"
    "CREATE INDEX units_state ON units(state);"
    "CREATE INDEX units_transition ON units(id) WHERE need_transition = 1;"
    "CREATE INDEX units_validate ON units(id) WHERE need_validate = 1;"
    "CREATE INDEX units_assimilate ON units(id) WHERE state = {UNIT_VALIDATED} AND assimilated = 0;"
    "CREATE TABLE replicas("
    "  id INTEGER PRIMARY KEY,"
    "  unit_id INTEGER NOT NULL REFERENCES units(id) ON DELETE CASCADE,"
    "  state INTEGER NOT NULL DEFAULT {REPLICA_UNSENT},"
    " outcome INTEGER NOT NULL DEFAULT {OUTCOME_INIT},"
    "  validate_state INTEGER NOT NULL DEFAULT {VALIDATE_INIT}, host_id INTEGER REFERENCES "
    "hosts(id),"
    "  account_id INTEGER, sent INTEGER, deadline INTEGER, received INTEGER,"
    "  result TEXT, result_sha256 BLOB, error TEXT, credit REAL NOT NULL DEFAULT 0);"
    "CREATE INDEX replicas_unit ON replicas(unit_id);"
    "CREATE INDEX replicas_unsent ON replicas(id) WHERE state = {REPLICA_UNSENT};"
    "CREATE INDEX replicas_deadline ON replicas(deadline) WHERE state = {REPLICA_IN_PROGRESS};"
    "CREATE INDEX replicas_received ON replicas(received) WHERE received IS NOT NULL;"
    "CREATE TABLE signals("
    "  id INTEGER PRIMARY KEY,"
    "  unit_id INTEGER NOT NULL REFERENCES units(id) ON DELETE CASCADE,"
    "  dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,"
    "  replica_id INTEGER NOT NULL, type TEXT NOT NULL, freq_hz REAL NOT NULL,"
    "  chirp_hz_s REAL NOT NULL, time_s REAL NOT NULL, time_ns INTEGER,"
    "  score REAL NOT NULL, power REAL NOT NULL, fft_len INTEGER NOT NULL,"
    "  period_s REAL NOT NULL DEFAULT 0);"
    "CREATE INDEX signals_unit ON signals(unit_id);"
    "CREATE INDEX signals_dataset ON signals(dataset_id, id);";

/* SQL built from macros: laid out by hand. */
/* clang-format off */
/* A unit row's progress class (migration 4): 1 validated, 2 error,
 * 3 validating, 4 running, 5 unsent (these are classes, numbered here and
 * nowhere else; the states in them are the enums'). */
#define UNIT_CLASS(u)                                                                          \
    "(CASE WHEN " u ".state = {UNIT_VALIDATED} THEN 1 WHEN " u ".state = {UNIT_ERROR} THEN 2" \
    " WHEN " u ".n_success > 0"                                                                 \
    " THEN 3 WHEN " u ".n_running > 0 THEN 4 ELSE 5 END)"
/* The dataset counters moved by a unit row leaving class `from` (an
 * expression: 0 for none) and entering class `to`. */
#define CLASS_MOVE(col, k, from, to) col " = " col " + (" to " = " k ") - (" from " = " k ")"
#define CLASS_MOVES(from, to)                                                                  \
    CLASS_MOVE("n_validated", "1", from, to) ", " CLASS_MOVE("n_error", "2", from, to) ", "      \
    CLASS_MOVE("n_validating", "3", from, to) ", " CLASS_MOVE("n_running", "4", from, to) ", "   \
    CLASS_MOVE("n_unsent", "5", from, to)
/* Migration 16's: the change of the counter of class k as a unit row moves
 * from old's class to new's, and the upsert that adds such a change. */
#define COUNT_MOVE(k) "(" UNIT_CLASS("new") " = " k ") - (" UNIT_CLASS("old") " = " k ")"
#define COUNTS_ADD                                                                             \
    "n_validated = n_validated + excluded.n_validated, n_error = n_error + excluded.n_error,"   \
    " n_validating = n_validating + excluded.n_validating,"                                      \
    " n_running = n_running + excluded.n_running"

/* migrations[i] takes a database from version i + 2 to i + 3: its
 * statements (each under the 4095 characters C guarantees a string
 * literal), run in order in one transaction. */
static const char *const migration_2[] = {
    /* credit granted per day, for the credit-history charts */
    "CREATE TABLE credit_daily("
    "  kind TEXT NOT NULL CHECK(kind IN ('host', 'user', 'team')), owner INTEGER NOT NULL,"
    "  day INTEGER NOT NULL, credit REAL NOT NULL, PRIMARY KEY(kind, owner, day))"
    "  WITHOUT ROWID;",
    NULL};
static const char *const migration_3[] = {
    /* the web pages' per-owner result lists and recent host errors */
    "CREATE INDEX replicas_host ON replicas(host_id, id) WHERE host_id IS NOT NULL;"
    "CREATE INDEX replicas_account ON replicas(account_id, id) WHERE account_id IS NOT NULL;"
    "CREATE INDEX replicas_errors ON replicas(received) WHERE outcome = {OUTCOME_CLIENT_ERROR};",
    NULL};
/* Each dataset's units by progress class, kept by triggers, so the
 * datasets page costs a row per dataset instead of a walk over every unit
 * and its replicas (8 s at 10^6 units).  A unit counts its running
 * (IN_PROGRESS) and successful replicas; its class is the first that holds:
 * validated, error, validating (a success waits for the validator or a
 * quorum), running, unsent. */
static const char *const migration_4[] = {
    "ALTER TABLE units ADD COLUMN n_running INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE units ADD COLUMN n_success INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE datasets ADD COLUMN n_validated INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE datasets ADD COLUMN n_error INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE datasets ADD COLUMN n_validating INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE datasets ADD COLUMN n_running INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE datasets ADD COLUMN n_unsent INTEGER NOT NULL DEFAULT 0;"
    "UPDATE units SET"
    "  n_running = (SELECT count(*) FROM replicas r WHERE r.unit_id = units.id AND r.state = {REPLICA_IN_PROGRESS}),"
    "  n_success = (SELECT count(*) FROM replicas r WHERE r.unit_id = units.id AND r.outcome = {OUTCOME_SUCCESS})"
    " WHERE id IN (SELECT unit_id FROM replicas WHERE state = {REPLICA_IN_PROGRESS} OR outcome = {OUTCOME_SUCCESS});"
    "UPDATE datasets SET (n_validated, n_error, n_validating, n_running, n_unsent) ="
    "  (SELECT coalesce(sum(c = 1), 0), coalesce(sum(c = 2), 0), coalesce(sum(c = 3), 0),"
    "          coalesce(sum(c = 4), 0), coalesce(sum(c = 5), 0)"
    "   FROM (SELECT " UNIT_CLASS("u") " AS c FROM units u WHERE u.dataset_id = datasets.id));",
    "CREATE TRIGGER replicas_count_insert AFTER INSERT ON replicas"
    "  WHEN new.state = {REPLICA_IN_PROGRESS} OR new.outcome = {OUTCOME_SUCCESS} BEGIN"
    "  UPDATE units SET n_running = n_running + (new.state = {REPLICA_IN_PROGRESS}),"
    "    n_success = n_success + (new.outcome = {OUTCOME_SUCCESS}) WHERE id = new.unit_id; END;"
    "CREATE TRIGGER replicas_count_update AFTER UPDATE OF state, outcome ON replicas"
    "  WHEN (old.state = {REPLICA_IN_PROGRESS}) != (new.state = {REPLICA_IN_PROGRESS}) OR (old.outcome = {OUTCOME_SUCCESS}) != (new.outcome = {OUTCOME_SUCCESS}) BEGIN"
    "  UPDATE units SET n_running = n_running + (new.state = {REPLICA_IN_PROGRESS}) - (old.state = {REPLICA_IN_PROGRESS}),"
    "    n_success = n_success + (new.outcome = {OUTCOME_SUCCESS}) - (old.outcome = {OUTCOME_SUCCESS}) WHERE id = new.unit_id; END;"
    "CREATE TRIGGER replicas_count_delete AFTER DELETE ON replicas"
    "  WHEN old.state = {REPLICA_IN_PROGRESS} OR old.outcome = {OUTCOME_SUCCESS} BEGIN"
    "  UPDATE units SET n_running = n_running - (old.state = {REPLICA_IN_PROGRESS}),"
    "    n_success = n_success - (old.outcome = {OUTCOME_SUCCESS}) WHERE id = old.unit_id; END;",
    "CREATE TRIGGER units_count_insert AFTER INSERT ON units BEGIN"
    "  UPDATE datasets SET " CLASS_MOVES("0", UNIT_CLASS("new")) " WHERE id = new.dataset_id;"
    "  END;",
    "CREATE TRIGGER units_count_update AFTER UPDATE OF state, n_running, n_success ON units"
    "  WHEN " UNIT_CLASS("old") " != " UNIT_CLASS("new") " BEGIN"
    "  UPDATE datasets SET " CLASS_MOVES(UNIT_CLASS("old"), UNIT_CLASS("new"))
    "  WHERE id = new.dataset_id; END;",
    "CREATE TRIGGER units_count_delete AFTER DELETE ON units BEGIN"
    "  UPDATE datasets SET " CLASS_MOVES(UNIT_CLASS("old"), "0") " WHERE id = old.dataset_id;"
    "  END;",
    NULL};
/* clang-format on */
/* A unit's running and successful replicas are counted by the statements
 * that move a replica in or out of those (dispatch, a result or error, a
 * timeout: store_dispatch.c, store_work.c, store_jobs.c), the last two in
 * the unit update each makes anyway: the trigger doing it cost a nested
 * update of the unit per dispatch and per result, a sixth of the writer's
 * time. */
static const char *const migration_5[] = {"DROP TRIGGER replicas_count_update;", NULL};
/* Team names are compared on their key (name.h: NFKC, case-folded), unique,
 * so no team can be made to read as another.  Of the teams an older server
 * let look alike, the oldest gets the key; the others, and names the rule
 * refuses, keep none: they stay, and are joined by id only. */
static const char *const migration_6[] = {
    "ALTER TABLE teams ADD COLUMN name_key TEXT;"
    "UPDATE teams SET name_key = oz_name_key(name)"
    " WHERE id IN (SELECT min(id) FROM teams GROUP BY oz_name_key(name));"
    "CREATE UNIQUE INDEX teams_name_key ON teams(name_key);",
    NULL};
/* What a host's cap and daily quota are counted from (dispatch.h; issue 21,
 * hole 2): the successful results it has returned (counted from its
 * replicas for the hosts already there), and the replicas sent to it on
 * the UTC day quota_day. */
static const char *const migration_7[] = {
    "ALTER TABLE hosts ADD COLUMN returned INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE hosts ADD COLUMN quota_day INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE hosts ADD COLUMN quota_sent INTEGER NOT NULL DEFAULT 0;"
    "UPDATE hosts SET returned = (SELECT count(*) FROM replicas r"
    " WHERE r.host_id = hosts.id AND r.outcome = {OUTCOME_SUCCESS});",
    NULL};
/* A host's replicas in progress, for the work requests that list what the
 * host holds (issue 21, hole 3: those it does not list were lost and are
 * sent again), a walk of exactly those rows. */
static const char *const migration_8[] = {"CREATE INDEX replicas_host_running ON replicas(host_id, "
                                          "id) WHERE state = {REPLICA_IN_PROGRESS};",
                                          NULL};
/* A unit whose file on the server no longer matches its SHA-256 (issue 21,
 * hole 8): why and since when, NULL while it is good; few rows, so listed
 * through a partial index. */
static const char *const migration_9[] = {
    "ALTER TABLE units ADD COLUMN file_bad TEXT;"
    "ALTER TABLE units ADD COLUMN file_bad_time INTEGER;"
    "CREATE INDEX units_file_bad ON units(id) WHERE file_bad IS NOT NULL;",
    NULL};
/* A host the operator banned (ozma-server host ban): since when and why,
 * NULL for every other; dispatch refuses it work. */
static const char *const migration_10[] = {"ALTER TABLE hosts ADD COLUMN banned INTEGER;"
                                           "ALTER TABLE hosts ADD COLUMN ban_reason TEXT;",
                                           NULL};
/* Adaptive replication (issue 18; trust.h, canary.h): each host's trust
 * (valid results in a row, its counts of valid, invalid and error results,
 * and how many times its daily quota is halved); whether a dataset is
 * adaptive; whether a unit went out alone (units.single: 0 undecided, 1
 * alone, 2 replicated for good, after a failed check); and the canaries:
 * the truth of the signal hidden in a unit, in a table of its own that no
 * public view reads, with the counts of results that found and missed it;
 * each result's spot check (replicas.spot: 0 none, 1 passed, 2 failed) and
 * the checks' totals and server CPU time (spot_stats, one row). */
static const char *const migration_11[] = {
    "ALTER TABLE hosts ADD COLUMN consecutive_valid INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE hosts ADD COLUMN n_valid INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE hosts ADD COLUMN n_invalid INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE hosts ADD COLUMN n_error INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE hosts ADD COLUMN quota_halvings INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE datasets ADD COLUMN adaptive INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE units ADD COLUMN single INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE canaries("
    "  unit_id INTEGER PRIMARY KEY REFERENCES units(id) ON DELETE CASCADE,"
    "  truth TEXT NOT NULL, found INTEGER NOT NULL DEFAULT 0, missed INTEGER NOT NULL DEFAULT 0);"
    "ALTER TABLE replicas ADD COLUMN spot INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE spot_stats(id INTEGER PRIMARY KEY CHECK(id = 1),"
    "  passed INTEGER NOT NULL, failed INTEGER NOT NULL, cpu_s REAL NOT NULL);"
    "INSERT INTO spot_stats VALUES(1, 0, 0, 0);",
    NULL};
/* Candidates (issue 17, candidates.h; migration 12): a dataset's site and pointing; each
 * signal's place in the sky, barycentric frequency and candidate; the
 * candidates.  Signals assimilated before are assimilated again, so that
 * they are grouped too (without a site or pointing they get neither). */
static const char *const migration_12[] = {
    "ALTER TABLE datasets ADD COLUMN sky TEXT;"
    "ALTER TABLE signals ADD COLUMN ra_deg REAL;"
    "ALTER TABLE signals ADD COLUMN dec_deg REAL;"
    "ALTER TABLE signals ADD COLUMN pixel INTEGER;"
    "ALTER TABLE signals ADD COLUMN freq_bary_hz REAL;"
    "ALTER TABLE signals ADD COLUMN candidate_id INTEGER;"
    /* covering what the links, RFI counts and observations read */
    "CREATE INDEX signals_time ON signals(dataset_id, time_s, freq_hz, chirp_hz_s, fft_len,"
    "  candidate_id);"
    "CREATE INDEX signals_bary ON signals(pixel, freq_bary_hz, dataset_id, candidate_id)"
    "  WHERE freq_bary_hz IS NOT NULL;"
    /* the sky pixels seen per topocentric frequency bin of rfi_freq_tol_hz,
     * all signals (still 0) and those not drifting (still 1): the RFI
     * rules' evidence, kept as signals arrive */
    "CREATE TABLE rfi_bins(bin INTEGER NOT NULL, pixel INTEGER NOT NULL,"
    "  still INTEGER NOT NULL, PRIMARY KEY(bin, still, pixel)) WITHOUT ROWID;"
    "CREATE INDEX signals_candidate ON signals(candidate_id, dataset_id, power, score);"
    "CREATE TABLE candidates("
    "  id INTEGER PRIMARY KEY, key TEXT NOT NULL, strongest INTEGER NOT NULL,"
    "  dataset_id INTEGER NOT NULL, type TEXT NOT NULL, score REAL NOT NULL, rfi TEXT,"
    "  freq_hz REAL NOT NULL, freq_bary_hz REAL, chirp_hz_s REAL NOT NULL, ra_deg REAL,"
    "  dec_deg REAL, pixel INTEGER, observations INTEGER NOT NULL, detections INTEGER NOT NULL,"
    "  power REAL NOT NULL, best_score REAL NOT NULL, time_s REAL NOT NULL, time_ns INTEGER,"
    "  rfi_pixels INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX candidates_rank ON candidates((rfi IS NOT NULL), score DESC, id);"
    "CREATE INDEX candidates_freq ON candidates(freq_hz);"
    "CREATE INDEX candidates_pixel ON candidates(pixel);"
    "UPDATE units SET assimilated = 0 WHERE state = {UNIT_VALIDATED} AND assimilated = 1;",
    NULL};
/* The data lifecycle (issue 20, lifecycle.h): when a finished dataset's
 * unit files were deleted (datasets.files_gone), and when a finished unit's
 * result texts moved out to the archives (units.purged); the purge walks
 * the finished units not yet purged by age, through a partial index. */
static const char *const migration_13[] = {
    "ALTER TABLE datasets ADD COLUMN files_gone INTEGER;"
    "ALTER TABLE units ADD COLUMN purged INTEGER;"
    "CREATE INDEX units_purge ON units(finished) WHERE finished IS NOT NULL AND purged IS NULL;",
    NULL};
/* Schema 14 (issue 17, assimilation speed): the persistence links look in
 * one other dataset's range at a time, never through the arriving signal's
 * own dataset, whose signals fill its pixel (1 in 1,000 of them within
 * 5 Hz in a 10 kHz band: 1,000 rows read per signal at 10^6). */
static const char *const migration_14[] = {
    "DROP INDEX signals_bary;"
    "CREATE INDEX signals_sky ON signals(pixel, dataset_id, freq_bary_hz, candidate_id)"
    "  WHERE freq_bary_hz IS NOT NULL;",
    NULL};
/* Schema 15 (issue 17, .sah sky tracks): a unit's own pointing, for the
 * units of a SETI@home dataset, each with its .sah's track (sky.h); NULL
 * for every other unit, whose pointing is its dataset's. */
static const char *const migration_15[] = {"ALTER TABLE units ADD COLUMN sky TEXT;", NULL};
/* clang-format off */
/* Schema 16 (issue 22): each dataset's progress counters leave its row,
 * which every writer updated, for dataset_counts: a row per dataset and
 * shard, which the unit trigger adds to and dataset_progress sums.  On
 * PostgreSQL each connection writes its own shard (pg_schema.c), so that
 * schedulers writing at once never wait for one row; here one writer
 * writes shard 0.  The units unsent are counted by what is left of
 * datasets.nunits, kept by the store as it adds units (store_work.c), so
 * a load updates no counter per unit; units leave only with their dataset,
 * so the insert and delete triggers go. */
static const char *const migration_16[] = {
    "CREATE TABLE dataset_counts("
    "  dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,"
    "  shard INTEGER NOT NULL, n_validated INTEGER NOT NULL DEFAULT 0,"
    "  n_error INTEGER NOT NULL DEFAULT 0, n_validating INTEGER NOT NULL DEFAULT 0,"
    "  n_running INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(dataset_id, shard)) WITHOUT ROWID;"
    "INSERT INTO dataset_counts SELECT id, 0, n_validated, n_error, n_validating, n_running"
    "  FROM datasets;"
    "UPDATE datasets SET nunits = (SELECT count(*) FROM units u WHERE u.dataset_id = datasets.id);"
    "DROP TRIGGER IF EXISTS units_count_insert;"
    "DROP TRIGGER IF EXISTS units_count_update;"
    "DROP TRIGGER IF EXISTS units_count_delete;"
    "ALTER TABLE datasets DROP COLUMN n_validated;"
    "ALTER TABLE datasets DROP COLUMN n_error;"
    "ALTER TABLE datasets DROP COLUMN n_validating;"
    "ALTER TABLE datasets DROP COLUMN n_running;"
    "ALTER TABLE datasets DROP COLUMN n_unsent;",
    "CREATE TRIGGER units_count_update AFTER UPDATE OF state, n_running, n_success ON units"
    "  WHEN " UNIT_CLASS("old") " != " UNIT_CLASS("new") " BEGIN"
    "  INSERT INTO dataset_counts(dataset_id, shard, n_validated, n_error, n_validating,"
    "   n_running) VALUES(new.dataset_id, 0, " COUNT_MOVE("1") ", " COUNT_MOVE("2") ","
    "   " COUNT_MOVE("3") ", " COUNT_MOVE("4") ")"
    "  ON CONFLICT(dataset_id, shard) DO UPDATE SET " COUNTS_ADD "; END;",
    "CREATE VIEW dataset_progress AS SELECT d.id AS dataset_id, d.nunits AS n_units,"
    "  CAST(coalesce(sum(c.n_validated), 0) AS INTEGER) AS n_validated,"
    "  CAST(coalesce(sum(c.n_error), 0) AS INTEGER) AS n_error,"
    "  CAST(coalesce(sum(c.n_validating), 0) AS INTEGER) AS n_validating,"
    "  CAST(coalesce(sum(c.n_running), 0) AS INTEGER) AS n_running,"
    "  d.nunits - CAST(coalesce(sum(c.n_validated + c.n_error + c.n_validating + c.n_running), 0)"
    "   AS INTEGER) AS n_unsent"
    "  FROM datasets d LEFT JOIN dataset_counts c ON c.dataset_id = d.id GROUP BY d.id;",
    NULL};
/* clang-format on */
/* Schema 17 (issue 22): each result's parsed form, packed at upload
 * (result_bin.h) beside its JSON, so that the validator and the assimilator
 * do not parse the text again; rows from before stay NULL and are parsed. */
static const char *const migration_17[] = {"ALTER TABLE replicas ADD COLUMN result_bin BLOB;",
                                           NULL};
static const char *const *const migrations[] = {
    migration_2,  migration_3,  migration_4,  migration_5,  migration_6,  migration_7,
    migration_8,  migration_9,  migration_10, migration_11, migration_12, migration_13,
    migration_14, migration_15, migration_16, migration_17};
_Static_assert(sizeof migrations / sizeof migrations[0] == OZ_STORE_SCHEMA_VERSION - 1,
               "a migration per schema version");

/* The SQL function decay(rac, then, now): recent credit seen at now. */
static void sql_decay(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    sqlite3_result_double(ctx, oz_credit_decay(sqlite3_value_double(argv[0]),
                                               sqlite3_value_int64(argv[1]),
                                               sqlite3_value_int64(argv[2])));
}

/* The SQL function oz_name_key(name): the key of name normalised (name.h),
 * or NULL for a name the rule refuses; for migration 6. */
static void sql_name_key(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    const char *name = (const char *)sqlite3_value_text(argv[0]);
    char norm[OZ_NAME_BYTES], key[OZ_NAME_KEY_BYTES];
    int rc = name ? oz_name_normalize(name, norm, sizeof norm, NULL, 0) : OZ_SCHED_EINVAL;
    if (rc == 0)
        rc = oz_name_key(norm, key, sizeof key);
    if (rc == 0)
        sqlite3_result_text(ctx, key, -1, SQLITE_TRANSIENT);
    else if (rc == OZ_SCHED_ENOMEM)
        sqlite3_result_error_nomem(ctx);
    else
        sqlite3_result_null(ctx);
}

static int conn_open(const char *path, int flags, oz_sql **out, char *why, size_t whylen)
{
    oz_sql *conn = NULL;
    if (oz_sql_sqlite_open(path, flags, &conn, why, whylen) != 0)
        return OZ_SCHED_EDB;
    sqlite3 *c = oz_sql_sqlite_handle(conn);
    sqlite3_busy_timeout(c, OZ_STORE_BUSY_MS);
    char *err = NULL;
    if (sqlite3_exec(c,
                     "PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL;"
                     " PRAGMA temp_store=MEMORY; PRAGMA cache_size=-8192;",
                     NULL, NULL, &err) != SQLITE_OK ||
        sqlite3_create_function(c, "decay", 3, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, sql_decay,
                                NULL, NULL) != SQLITE_OK ||
        sqlite3_create_function(c, "oz_name_key", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
                                sql_name_key, NULL, NULL) != SQLITE_OK) {
        oz_sched_fail(OZ_SCHED_EDB, why, whylen, "%s: cannot configure the database: %s", path,
                      err ? err : sqlite3_errmsg(c));
        sqlite3_free(err);
        oz_sql_close(conn);
        return OZ_SCHED_EDB;
    }
    *out = conn;
    return OZ_SCHED_OK;
}

/* Runs sql (its states named as sql_states.h says). */
static int exec_all(sqlite3 *c, const char *path, const char *sql, char *why, size_t whylen)
{
    char *err = NULL, *text = oz_sql_states_expand(sql, why, whylen);
    if (!text)
        return OZ_SCHED_EDB;
    int rc = OZ_SCHED_OK;
    if (sqlite3_exec(c, text, NULL, NULL, &err) != SQLITE_OK) {
        int busy = sqlite3_errcode(c) == SQLITE_BUSY;
        rc = busy ? OZ_SCHED_EBUSY : OZ_SCHED_EDB;
        oz_sched_fail(rc, why, whylen, "%s: %s", path, err ? err : sqlite3_errmsg(c));
        sqlite3_free(err);
    }
    free(text);
    return rc;
}

/* Runs the statements taking a database from version v to v + 1. */
static int exec_migration(sqlite3 *c, const char *path, int v, char *why, size_t whylen)
{
    int rc = OZ_SCHED_OK;
    for (const char *const *sql = migrations[v - 1]; *sql && rc == OZ_SCHED_OK; sql++)
        rc = exec_all(c, path, *sql, why, whylen);
    return rc;
}

int oz_sqlite_db_create(const char *path, char *why, size_t whylen)
{
    struct stat st;
    if (stat(path, &st) == 0)
        return oz_sched_fail(OZ_SCHED_EEXIST, why, whylen, "%s: already exists", path);
    oz_sql *conn;
    int rc = conn_open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_EXCLUSIVE,
                       &conn, why, whylen);
    if (rc != OZ_SCHED_OK)
        return rc;
    sqlite3 *c = oz_sql_sqlite_handle(conn);
    char version[64];
    snprintf(version, sizeof version, "PRAGMA user_version=%d; COMMIT;", OZ_STORE_SCHEMA_VERSION);
    if ((rc = exec_all(c, path, "PRAGMA journal_mode=WAL; BEGIN IMMEDIATE;", why, whylen)) ||
        (rc = exec_all(c, path, schema_v1, why, whylen))) {
        oz_sql_close(conn);
        remove(path);
        return rc;
    }
    /* A new database is version 1 plus every migration, in one transaction. */
    for (int v = 1; v < OZ_STORE_SCHEMA_VERSION; v++) {
        if ((rc = exec_migration(c, path, v, why, whylen)) != OZ_SCHED_OK) {
            oz_sql_close(conn);
            remove(path);
            return rc;
        }
    }
    if ((rc = exec_all(c, path, version, why, whylen))) {
        oz_sql_close(conn);
        remove(path);
        return rc;
    }
    oz_sql_close(conn);
    return OZ_SCHED_OK;
}

static int user_version(sqlite3 *c, int *out)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(c, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return -1;
    int rc = sqlite3_step(st) == SQLITE_ROW ? 0 : -1;
    if (rc == 0)
        *out = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return rc;
}

int oz_sqlite_db_migrate(const char *path, char *why, size_t whylen)
{
    oz_sql *conn;
    int rc = conn_open(path, SQLITE_OPEN_READWRITE, &conn, why, whylen);
    if (rc != OZ_SCHED_OK)
        return rc;
    sqlite3 *c = oz_sql_sqlite_handle(conn);
    int v = 0;
    if (user_version(c, &v) != 0) {
        rc = oz_sched_fail(OZ_SCHED_EDB, why, whylen, "%s: not an Ozma database: %s", path,
                           sqlite3_errmsg(c));
        goto out;
    }
    if (v < 1 || v > OZ_STORE_SCHEMA_VERSION) {
        rc = oz_sched_fail(OZ_SCHED_EDB, why, whylen,
                           "%s: schema version %d, this program knows 1 to %d", path, v,
                           OZ_STORE_SCHEMA_VERSION);
        goto out;
    }
    for (; v < OZ_STORE_SCHEMA_VERSION; v++) {
        char bump[64];
        snprintf(bump, sizeof bump, "PRAGMA user_version=%d; COMMIT;", v + 1);
        if ((rc = exec_all(c, path, "BEGIN IMMEDIATE;", why, whylen)) ||
            (rc = exec_migration(c, path, v, why, whylen)) ||
            (rc = exec_all(c, path, bump, why, whylen))) {
            sqlite3_exec(c, "ROLLBACK", NULL, NULL, NULL);
            goto out;
        }
    }
out:
    oz_sql_close(conn);
    return rc;
}

int oz_sqlite_conn_open(oz_db *db, oz_sql **out, char *why, size_t whylen)
{
    int rc = conn_open(db->path, SQLITE_OPEN_READWRITE, out, why, whylen);
    if (rc == OZ_SCHED_OK && atomic_load(&db->manual_checkpoint))
        sqlite3_wal_autocheckpoint(oz_sql_sqlite_handle(*out), 0);
    return rc;
}

int oz_sqlite_compact(oz_store *s, char *why, size_t whylen)
{
    int log = 0, done = 0;
    int rc = sqlite3_wal_checkpoint_v2(oz_sql_sqlite_handle(s->conn), NULL,
                                       SQLITE_CHECKPOINT_PASSIVE, &log, &done);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY)
        return oz_store_dberr(s, "checkpoint", why, whylen);
    return OZ_SCHED_OK;
}

/* Is errno value e a full disk or quota? */
static bool no_space(int e)
{
    return e == ENOSPC || e == EDQUOT;
}

/* fsyncs the WAL unless commit number `seq` is durable already. */
int oz_db_wal_sync(oz_db *db, uint64_t seq, char *why, size_t whylen)
{
    pthread_mutex_lock(&db->sync_lock);
    int rc = OZ_SCHED_OK;
    if (db->synced >= seq)
        goto out;
    uint64_t target = atomic_load(&db->commits); /* every commit up to here is in the WAL */
    char wal[4200];
    snprintf(wal, sizeof wal, "%s-wal", db->path);
    struct stat now, held;
    if (db->wal_fd >= 0 && (stat(wal, &now) != 0 || fstat(db->wal_fd, &held) != 0 ||
                            now.st_ino != held.st_ino || now.st_dev != held.st_dev)) {
        close(db->wal_fd);
        db->wal_fd = -1;
    }
    if (db->wal_fd < 0 && (db->wal_fd = open(wal, O_RDONLY | O_CLOEXEC)) < 0) {
        rc = oz_sched_fail(OZ_SCHED_EIO, why, whylen, "%s: %s", wal, strerror(errno));
        goto out;
    }
    if (fsync(db->wal_fd) != 0) {
        int e = errno;
        rc = oz_sched_fail(no_space(e) ? OZ_SCHED_ENOSPC : OZ_SCHED_EIO, why, whylen,
                           "%s: fsync: %s", wal, strerror(e));
        if (no_space(e))
            oz_db_disk_full_enter(db, strerror(e));
        goto out;
    }
    db->synced = target;
out:
    pthread_mutex_unlock(&db->sync_lock);
    return rc;
}

/*
 * store.c - what the store's two backends share (store.h): the database
 * handle, each thread's connection and its statement cache, read and write
 * transactions, the database's errors and the disk-full state.  Where the
 * backends differ it asks sqlite.c (a file: schema, WAL fsync,
 * checkpoints) or pg.c (a postgresql:// URI: schema, connections).
 *
 * Write transactions are serialised within the process by the database's
 * write lock, as SQLite needs (BEGIN IMMEDIATE: SQLite has one writer, so
 * whatever a write reads stays true until its commit).  On PostgreSQL,
 * where other schedulers write at the same time, a write transaction is
 * READ COMMITTED: each statement sees what was committed when it began,
 * an UPDATE or a lock waits for a row another transaction holds and then
 * re-checks its WHERE on the row as that one left it, and a transaction
 * never fails for another's sake but in a deadlock (then OZ_SCHED_EBUSY,
 * and the writer, store_writer.c, runs the batch again).  So each write
 * that reads and then writes from what it read is made safe by a row lock
 * taken before the read, or by a WHERE that re-checks at the write what it
 * depends on (a changed row count 0 means "lost it"):
 *
 * - dispatch (store_dispatch.c): the host's row is read FOR UPDATE (its
 *   cap and daily quota: one request of a host at a time); the scan for
 *   candidate replicas locks each candidate's unit row as it returns it
 *   (FOR UPDATE OF u SKIP LOCKED: a unit another transaction holds is
 *   passed over, not waited for), and the replica is claimed by an UPDATE
 *   whose WHERE re-checks that it is still unsent and that the account
 *   holds no replica of the unit (a statement after the lock: it sees
 *   every claim committed before).  Every claim of a unit's replica is
 *   made under its unit's lock, so no replica goes to two hosts and no two
 *   of a unit to one account.  Adaptive replication's decision reads the
 *   unit under the same lock.  Counters (hosts.in_progress, quota_sent,
 *   units.n_running) are increments, never written from a read.
 * - a lost replica taken back, and the transitioner's time-outs
 *   (oz_store_replica_time_out): UPDATE ... WHERE state = IN_PROGRESS,
 *   and the counts move only when it changed the row.
 * - a result or an error report (store_work.c replica_lock): the replica
 *   and its unit are locked FOR UPDATE first, then read (its state, the
 *   unit's other results that decide need_validate): two results of one
 *   unit on two schedulers are recorded one after the other.
 * - the transitioner (store_jobs.c transition_unit), the validator's
 *   verdicts and its unflagging of units not ready lock the unit first,
 *   then read it and its replicas; a unit another transaction holds is
 *   left for the job's next pass (oz_store_unit_lock_try: its flag stays
 *   set), so that the jobs never wait for a request's transaction nor
 *   deadlock with one.  The verdicts' writes also re-check the replica's
 *   old validate_state and the unit's ACTIVE state, so a second
 *   scheduler's validator grants no credit twice.  The purge
 *   (store_lifecycle.c) waits for the unit's lock (oz_store_unit_lock).
 * - the assimilator claims a unit with UPDATE ... WHERE assimilated = 0;
 *   grouping its signals into candidates (store_candidates.c) reads the
 *   candidates near them and then writes, under a transaction-level
 *   advisory lock (OZ_CAND_LOCK_SQL) that every grouping takes.
 * - a file marked bad (store_files.c) updates its unit's row first (its
 *   lock), then deletes the unsent replicas, which no claim can take
 *   meanwhile; hosts' and accounts' credit, trust and counts are
 *   increments; a host's registration counts the account's hosts with the
 *   account's row locked; team names are unique by index; loads insert
 *   only under datasets.ready = 0 and finish with a re-checking UPDATE.
 * - the operator's commands (dataset cancel and delete, host ban) count
 *   and change many rows in a few statements: they keep SERIALIZABLE in a
 *   transaction of their own (oz_store_write_serial, oz_store_wbegin_serial),
 *   run again when they lose a conflict.
 *
 * A PostgreSQL connection lost meanwhile is taken up again before the next
 * statement outside a transaction (oz_sql_revive); one lost inside fails
 * that transaction, which the server has rolled back.
 */
#include "store_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "pg.h"
#include "sql_states.h"
#include "sqlite.h"

/* ---- the disk's state (store.h: a full disk) ---------------------------------------------- */

void oz_db_log_level_set(oz_db *db, oz_log_level threshold)
{
    db->log_level = threshold;
}

bool oz_db_disk_full(oz_db *db)
{
    return atomic_load_explicit(&db->disk_full, memory_order_relaxed);
}

void oz_db_disk_full_enter(oz_db *db, const char *why)
{
    if (atomic_exchange(&db->disk_full, true))
        return;
    oz_log(db->log_level, OZ_LOG_ERROR,
           "disk full: writes that need more room are answered 503 until space is freed", "db",
           db->path, "error", why, (const char *)NULL);
}

/* A write transaction that changed rows has committed: while the state is
 * full, leaves it if the file system has room again. */
static void disk_write_ok(oz_db *db)
{
    if (!atomic_load_explicit(&db->disk_full, memory_order_relaxed))
        return;
    struct statvfs v;
    unsigned long long avail = 0, need = 0; /* PostgreSQL's disk: not ours to see */
    if (!db->pg) {
        if (statvfs(db->path, &v) != 0)
            return;
        avail = (unsigned long long)v.f_bavail * v.f_frsize;
        need = (unsigned long long)v.f_blocks * v.f_frsize / 4;
        if (need > OZ_DB_DISK_RESUME_BYTES)
            need = OZ_DB_DISK_RESUME_BYTES;
    }
    if (avail < need || !atomic_exchange(&db->disk_full, false))
        return;
    char mib[32];
    snprintf(mib, sizeof mib, "%llu", avail >> 20);
    oz_log(db->log_level, OZ_LOG_INFO, "disk space available again: writes succeed", "db", db->path,
           "free_mib", mib, (const char *)NULL);
}

int oz_store_failure_rc(oz_store *s)
{
    switch (oz_sql_errkind_get(s->conn)) {
    case OZ_SQL_EBUSY:
    case OZ_SQL_EDOWN:
        return OZ_SCHED_EBUSY;
    case OZ_SQL_ENOSPC:
        return OZ_SCHED_ENOSPC;
    case OZ_SQL_EOTHER:
        break;
    }
    return OZ_SCHED_EDB;
}

int oz_store_dberr(oz_store *s, const char *what, char *why, size_t whylen)
{
    int err = oz_store_failure_rc(s);
    int rc =
        oz_sched_fail(err, why, whylen, "%s: %s: %s", s->db->path, what, oz_sql_errmsg(s->conn));
    if (err == OZ_SCHED_ENOSPC)
        oz_db_disk_full_enter(s->db, oz_sql_errmsg(s->conn));
    return rc;
}

int oz_store_insert_id(oz_store *s, oz_sql_stmt *st, int64_t *id, char *why, size_t whylen)
{
    int rc = oz_sql_step(st);
    if (rc == OZ_SQL_ROW)
        *id = oz_sql_column_int64(st, 0);
    int err = rc == OZ_SQL_ROW ? OZ_SCHED_OK
              : rc == OZ_SQL_DONE
                  ? oz_sched_fail(OZ_SCHED_ENOTFOUND, why, whylen, "nothing inserted")
                  : oz_store_dberr(s, "write", why, whylen);
    oz_sql_reset(st);
    return err;
}

const char *oz_store_col_text(oz_sql_stmt *st, int col)
{
    const unsigned char *t = oz_sql_column_text(st, col);
    return t ? (const char *)t : "";
}

bool oz_store_col_bin(oz_sql_stmt *st, int col, unsigned char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    if (oz_sql_column_type(st, col) == OZ_SQL_NULL)
        return true;
    const void *p = oz_sql_column_blob(st, col);
    int n = oz_sql_column_bytes(st, col);
    if (!(*out = malloc(n > 0 ? (size_t)n : 1)))
        return false;
    if (n > 0)
        memcpy(*out, p, (size_t)n);
    *len = n > 0 ? (size_t)n : 0;
    return true;
}

static int db_new(const char *path, bool pg, oz_db **out, char *why, size_t whylen);

int oz_db_open(const char *path, oz_db **out, char *why, size_t whylen)
{
    *out = NULL;
    bool pg = oz_pg_is_uri(path);
    struct stat st;
    if (!pg && stat(path, &st) != 0)
        return oz_sched_fail(OZ_SCHED_ENOTFOUND, why, whylen, "%s: %s", path, strerror(errno));
    int rc = pg ? oz_pg_db_migrate(path, why, whylen) : oz_sqlite_db_migrate(path, why, whylen);
    return rc == OZ_SCHED_OK ? db_new(path, pg, out, why, whylen) : rc;
}

int oz_db_open_read(const char *uri, oz_db **out, char *why, size_t whylen)
{
    *out = NULL;
    if (!oz_pg_is_uri(uri))
        return oz_sched_fail(OZ_SCHED_EINVAL, why, whylen,
                             "a read database is a PostgreSQL replica: a postgresql:// URI");
    int rc = oz_pg_db_check(uri, why, whylen);
    return rc == OZ_SCHED_OK ? db_new(uri, true, out, why, whylen) : rc;
}

/* The shared handle of a database made ready by oz_db_open. */
static int db_new(const char *path, bool pg, oz_db **out, char *why, size_t whylen)
{
    oz_db *db = calloc(1, sizeof *db);
    if (!db || !(db->path = strdup(path))) {
        free(db);
        return oz_sched_fail(OZ_SCHED_ENOMEM, why, whylen, "out of memory");
    }
    pthread_mutex_init(&db->write_lock, NULL);
    pthread_mutex_init(&db->sync_lock, NULL);
    pthread_mutex_init(&db->q_lock, NULL);
    pthread_cond_init(&db->q_work, NULL);
    pthread_mutex_init(&db->s_lock, NULL);
    pthread_cond_init(&db->s_work, NULL);
    db->wal_fd = -1;
    db->pg = pg;
    atomic_init(&db->disk_full, false);
    db->log_level = OZ_LOG_OFF;
    db->auth = oz_auth_cache_new();
    pthread_mutex_init(&db->cfg_lock, NULL);
    *out = db;
    return OZ_SCHED_OK;
}

void oz_db_close(oz_db *db)
{
    if (!db)
        return;
    oz_db_batching_stop(db);
    pthread_mutex_destroy(&db->write_lock);
    pthread_mutex_destroy(&db->sync_lock);
    pthread_mutex_destroy(&db->q_lock);
    pthread_cond_destroy(&db->q_work);
    pthread_mutex_destroy(&db->s_lock);
    pthread_cond_destroy(&db->s_work);
    oz_auth_cache_free(db->auth);
    for (size_t i = 0; i < sizeof db->cfg_cache / sizeof db->cfg_cache[0]; i++)
        free(db->cfg_cache[i].text);
    pthread_mutex_destroy(&db->cfg_lock);
    if (db->wal_fd >= 0)
        close(db->wal_fd);
    free(db->path);
    free(db);
}

void oz_db_compact_deferred(oz_db *db)
{
    atomic_store(&db->manual_checkpoint, true);
}

int oz_store_open(oz_db *db, oz_store **out, char *why, size_t whylen)
{
    *out = NULL;
    oz_store *s = calloc(1, sizeof *s);
    if (!s)
        return oz_sched_fail(OZ_SCHED_ENOMEM, why, whylen, "out of memory");
    s->db = db;
    int rc = db->pg ? oz_pg_conn_open(db->path, &s->conn, why, whylen)
                    : oz_sqlite_conn_open(db, &s->conn, why, whylen);
    if (rc != OZ_SCHED_OK) {
        free(s);
        return rc;
    }
    *out = s;
    return OZ_SCHED_OK;
}

int oz_store_compact(oz_store *s, char *why, size_t whylen)
{
    /* PostgreSQL: the server's own checkpointer and autovacuum */
    return s->db->pg ? OZ_SCHED_OK : oz_sqlite_compact(s, why, whylen);
}

int oz_db_create(const char *path, char *why, size_t whylen)
{
    return oz_pg_is_uri(path) ? oz_pg_db_create(path, why, whylen)
                              : oz_sqlite_db_create(path, why, whylen);
}

void oz_store_close(oz_store *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->nstmts; i++)
        oz_sql_finalize(s->stmts[i]);
    oz_sql_close(s->conn);
    free(s);
}

oz_sql_stmt *oz_store_stmt(oz_store *s, const char *sql, char *why, size_t whylen)
{
    /* A connection that cannot be taken up again yet (the database server
     * restarting) fails the statement's run, whose caller reports the
     * failure by its kind: unavailable, 503.  A NULL here would be a plain
     * database error, 500, to every caller. */
    if (!s->txn)
        oz_sql_revive(s->conn);
    for (int i = 0; i < s->nstmts; i++) {
        if (s->keys[i] == sql) {
            oz_sql_reset(s->stmts[i]);
            oz_sql_clear_bindings(s->stmts[i]);
            return s->stmts[i];
        }
    }
    oz_sql_stmt *st = NULL;
    char *text = oz_sql_states_expand(sql, why, whylen); /* the states' values, once */
    if (!text)
        return NULL;
    int rc = oz_sql_prepare(s->conn, text, s->nstmts < OZ_STORE_STMTS, &st);
    free(text);
    if (rc != 0) {
        oz_store_dberr(s, "prepare", why, whylen);
        return NULL;
    }
    if (s->nstmts < OZ_STORE_STMTS) {
        s->keys[s->nstmts] = sql;
        s->stmts[s->nstmts++] = st;
        return st;
    }
    /* The cache is full (a programming error: raise OZ_STORE_STMTS). */
    oz_sql_finalize(st);
    oz_sched_fail(OZ_SCHED_EDB, why, whylen, "statement cache full");
    return NULL;
}

int oz_store_exec_stmt(oz_store *s, oz_sql_stmt *st, char *why, size_t whylen)
{
    int rc = oz_sql_step(st);
    if (rc != OZ_SQL_DONE && rc != OZ_SQL_ROW) {
        int err = oz_store_dberr(s, "write", why, whylen);
        oz_sql_reset(st);
        return err;
    }
    oz_sql_reset(st);
    return OZ_SCHED_OK;
}

int oz_store_exec_literal(oz_store *s, const char *sql, char *why, size_t whylen)
{
    oz_sql_stmt *st = oz_store_stmt(s, sql, why, whylen);
    return st ? oz_store_exec_stmt(s, st, why, whylen) : OZ_SCHED_EDB;
}

/* Runs a transaction's BEGIN.  A PostgreSQL connection whose server
 * restarted since its last statement is found lost only by using it: its
 * BEGIN fails (EDOWN) though the server is back.  Nothing has run in the
 * transaction yet, so the connection is taken up again and BEGIN run once
 * more - the first request after an outage need not fail for it. */
static int begin(oz_store *s, const char *sql, char *why, size_t whylen)
{
    int rc = oz_store_exec_literal(s, sql, why, whylen);
    if (rc != OZ_SCHED_OK && s->db->pg && oz_sql_errkind_get(s->conn) == OZ_SQL_EDOWN &&
        oz_sql_revive(s->conn) == 0)
        rc = oz_store_exec_literal(s, sql, why, whylen);
    return rc;
}

/* Takes the process's write lock and begins a write transaction: on SQLite
 * IMMEDIATE (the one writer), on PostgreSQL READ COMMITTED or, with
 * serial, SERIALIZABLE (the head comment says which writes need what). */
static int wbegin(oz_store *s, int durable, bool serial, char *why, size_t whylen)
{
    pthread_mutex_lock(&s->db->write_lock);
    s->durable = durable;
    s->changes0 = oz_sql_total_changes(s->conn);
    const char *sql = !s->db->pg ? "BEGIN IMMEDIATE"
                      : serial   ? "BEGIN ISOLATION LEVEL SERIALIZABLE"
                                 : "BEGIN ISOLATION LEVEL READ COMMITTED";
    int rc = begin(s, sql, why, whylen);
    if (rc != OZ_SCHED_OK)
        pthread_mutex_unlock(&s->db->write_lock);
    s->txn = rc == OZ_SCHED_OK;
    return rc;
}

int oz_store_wbegin(oz_store *s, int durable, char *why, size_t whylen)
{
    return wbegin(s, durable, false, why, whylen);
}

int oz_store_wbegin_serial(oz_store *s, int durable, char *why, size_t whylen)
{
    return wbegin(s, durable, true, why, whylen);
}

int oz_store_lock(oz_store *s, const char *sql, int64_t id, bool *got, char *why, size_t whylen)
{
    *got = true;
    if (!s->db->pg) /* SQLite's one writer: nobody to wait for */
        return OZ_SCHED_OK;
    oz_sql_stmt *st = oz_store_stmt(s, sql, why, whylen);
    if (!st)
        return OZ_SCHED_EDB;
    oz_sql_bind_int64(st, 1, id);
    int step = oz_sql_step(st);
    *got = step == OZ_SQL_ROW;
    int rc = step == OZ_SQL_FAIL ? oz_store_dberr(s, "lock", why, whylen) : OZ_SCHED_OK;
    oz_sql_reset(st);
    return rc;
}

int oz_store_unit_lock_try(oz_store *s, int64_t unit, bool *got, char *why, size_t whylen)
{
    return oz_store_lock(s, "SELECT id FROM units WHERE id = ? /*PG: FOR UPDATE SKIP LOCKED */",
                         unit, got, why, whylen);
}

int oz_store_unit_lock(oz_store *s, int64_t unit, char *why, size_t whylen)
{
    bool got;
    return oz_store_lock(s, "SELECT id FROM units WHERE id = ? /*PG: FOR UPDATE */", unit, &got,
                         why, whylen);
}

int oz_store_wcommit(oz_store *s, char *why, size_t whylen)
{
    int rc = oz_store_exec_literal(s, "COMMIT", why, whylen);
    s->txn = false;
    uint64_t seq = 0;
    if (rc != OZ_SCHED_OK)
        oz_store_exec_literal(s, "ROLLBACK", NULL, 0);
    else
        seq = s->last_seq = atomic_fetch_add(&s->db->commits, 1) + 1;
    bool wrote = rc == OZ_SCHED_OK && oz_sql_total_changes(s->conn) != s->changes0;
    pthread_mutex_unlock(&s->db->write_lock);
    if (wrote)
        disk_write_ok(s->db);
    if (rc == OZ_SCHED_OK && s->durable && !s->db->pg) /* PostgreSQL: synchronous_commit */
        rc = oz_db_wal_sync(s->db, seq, why, whylen);
    return rc;
}

void oz_store_wrollback(oz_store *s)
{
    oz_store_exec_literal(s, "ROLLBACK", NULL, 0);
    s->txn = false;
    pthread_mutex_unlock(&s->db->write_lock);
}

int oz_store_rbegin(oz_store *s, char *why, size_t whylen)
{
    int rc = begin(s, s->db->pg ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" : "BEGIN", why,
                   whylen);
    s->txn = rc == OZ_SCHED_OK;
    return rc;
}

void oz_store_rend(oz_store *s)
{
    oz_store_exec_literal(s, "COMMIT", NULL, 0);
    s->txn = false;
}

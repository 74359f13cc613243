/*
 * store_internal.h - what the store_*.c files share and nothing else sees:
 * the connection struct, its statement cache and the write-transaction
 * helpers that take the process-wide write lock.
 */
#ifndef OZ_SCHED_STORE_INTERNAL_H
#define OZ_SCHED_STORE_INTERNAL_H

#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>

#include "sql.h"
#include "store.h"

#define OZ_STORE_STMTS 128 /* cached prepared statements per connection */

struct oz_db {
    char *path;                 /* the SQLite file, or the PostgreSQL URI */
    bool pg;                    /* a PostgreSQL database (pg.c) */
    pthread_mutex_t write_lock; /* held for the whole of every write transaction */
    /* Write transactions committed: counted under write_lock, read without. */
    atomic_uint_fast64_t commits;
    /* Write transactions that lost a conflict with another scheduler's
     * (PostgreSQL) and ran again: oz_store_gauges' write_conflicts. */
    atomic_uint_fast64_t write_conflicts;
    /* Group commit: one fsync of the WAL makes every commit before it
     * durable, so threads waiting for durability share it (sqlite.c). */
    pthread_mutex_t sync_lock;
    uint64_t synced;               /* commits known durable (under sync_lock) */
    int wal_fd;                    /* the -wal file, opened on first need (under sync_lock) */
    atomic_bool manual_checkpoint; /* oz_db_compact_deferred was called */
    atomic_bool disk_full;         /* a write failed for want of space (store.h) */
    oz_log_level log_level;        /* for the disk's changes of state; set before threads */
    /* The writer thread (oz_db_batching_start): transactions submitted with
     * oz_store_write queue here and run in batches on its connection. */
    pthread_mutex_t q_lock;
    pthread_cond_t q_work; /* the writer waits for submissions */
    struct oz_wop *q_head, *q_tail;
    bool writer_on;   /* submissions go to the writer (under q_lock) */
    bool writer_stop; /* asked to finish (under q_lock) */
    pthread_t writer;
    /* The syncer thread: durable submissions the writer has committed wait
     * here for the fsync that covers them, then their submitters are told. */
    pthread_mutex_t s_lock;
    pthread_cond_t s_work;
    struct oz_wop *s_head, *s_tail; /* under s_lock */
    bool syncer_stop;               /* under s_lock */
    pthread_t syncer;
    /* Host keys seen, so that authenticating a request needs no query
     * (hosts' keys and limits never change once registered). */
    struct oz_auth_cache *auth;
    /* Parsed analysis configurations by their stored text, so that checking
     * an upload does not parse its dataset's JSON again (under cfg_lock). */
    pthread_mutex_t cfg_lock;
    struct oz_cfg_slot {
        char *text; /* malloc'd, NULL when empty */
        oz_sci_config cfg;
    } cfg_cache[8];
};

/* A write failed for want of space: the disk-full state (store.h), logged
 * once on entering (store.c). */
void oz_db_disk_full_enter(oz_db *db, const char *why);

/* The host-key cache (store_accounts.c); NULL-safe, lookups fall back to
 * the database when it could not be made. */
struct oz_auth_cache *oz_auth_cache_new(void);
void oz_auth_cache_free(struct oz_auth_cache *c);

/* A transaction's body: runs inside an open write transaction on s and
 * returns a status; on failure its writes are undone (it may leave partial
 * writes: the caller rolls back to before it). */
typedef int (*oz_store_body)(oz_store *s, void *arg, char *why, size_t whylen);

/* One submitted transaction. */
typedef struct oz_wop {
    oz_store_body body;
    void *arg;
    char *why;
    size_t whylen;
    int rc;
    uint64_t seq; /* the commit that holds it */
    /* The last op of a group: called once the group is done (by the
     * writer, or by the syncer after the fsync), the group then belonging
     * to its submitter again; NULL for the others. */
    void (*done)(void *arg);
    void *done_arg;
    bool durable; /* the last op of a durable group: done after the fsync */
    int sync_rc;  /* OZ_SCHED_OK, or why the fsync failed, in sync_why */
    char *sync_why;
    size_t sync_whylen;
    struct oz_wop *next;
} oz_wop;

struct oz_store {
    oz_db *db;
    oz_sql *conn;
    int durable;       /* the open write transaction must be durable before it returns */
    bool txn;          /* a transaction of ours is open (no reconnecting) */
    int64_t changes0;  /* oz_sql_total_changes when the write transaction began */
    uint64_t last_seq; /* the number of this connection's last commit */
    /* Statement cache keyed by the SQL text's address: every caller passes a
     * string literal, so the pointer identifies the statement. */
    const char *keys[OZ_STORE_STMTS];
    oz_sql_stmt *stmts[OZ_STORE_STMTS];
    int nstmts;
};

/* The cached statement for sql (prepared on first use), reset and with its
 * bindings cleared; NULL after writing why. */
oz_sql_stmt *oz_store_stmt(oz_store *s, const char *sql, char *why, size_t whylen);

/* Takes the write lock and begins an IMMEDIATE transaction.  durable: the
 * commit returns only once the WAL holding it is fsynced (group commit);
 * otherwise it survives a crash of the process but not of the machine.  On
 * failure the lock is released. */
int oz_store_wbegin(oz_store *s, int full, char *why, size_t whylen);
/* The same, SERIALIZABLE on PostgreSQL (store.c says which writes need it). */
int oz_store_wbegin_serial(oz_store *s, int full, char *why, size_t whylen);
/* PostgreSQL's row locks inside a write transaction (SQLite: nothing to
 * do, *got true): runs sql, a SELECT ... FOR UPDATE with one parameter,
 * id; *got whether it returned a row (with SKIP LOCKED: false when
 * another transaction holds it). */
int oz_store_lock(oz_store *s, const char *sql, int64_t id, bool *got, char *why, size_t whylen);
/* Locks unit's row until the transaction ends (PostgreSQL; SQLite: no-op):
 * what a write reads of a unit and its replicas after it stays true until
 * its commit (store.c). */
int oz_store_unit_lock(oz_store *s, int64_t unit, char *why, size_t whylen);
/* The same without waiting: *got false when another transaction holds it. */
int oz_store_unit_lock_try(oz_store *s, int64_t unit, bool *got, char *why, size_t whylen);
/* Commits, releases the lock and, for a durable transaction, waits for the
 * fsync that covers it. */
int oz_store_wcommit(oz_store *s, char *why, size_t whylen);
/* Rolls back (ignoring errors) and releases the lock. */
void oz_store_wrollback(oz_store *s);

/* Runs body in a write transaction and commits it (durable: and waits for
 * the fsync that covers it).  With the writer thread running, the body runs
 * there, batched with others' in one transaction, and the caller waits;
 * otherwise it runs on s.  One body's failure undoes only its own writes:
 * a body that fails after writing makes the writer undo the batch and run
 * it again with a SAVEPOINT per body.  So bodies must use only the
 * oz_store they are given, and set their results afresh each run (a body
 * may run twice). */
int oz_store_write(oz_store *s, int durable, oz_store_body body, void *arg, char *why,
                   size_t whylen);
/* The same in a SERIALIZABLE transaction of its own on s, never batched
 * (PostgreSQL; on SQLite oz_store_write): for the operator's commands whose
 * statements count and change many rows at once (store.c). */
int oz_store_write_serial(oz_store *s, int durable, oz_store_body body, void *arg, char *why,
                          size_t whylen);

/* Several bodies that one request needs, each its own unit of success or
 * failure (a savepoint in the writer's batch, or its own transaction),
 * submitted at once so they share one wait and one fsync.  Each job's rc
 * says how its body went; the return is OZ_SCHED_OK or why the durable wait
 * failed (then no job may be reported as done). */
typedef struct oz_store_job {
    oz_store_body body;
    void *arg;
    char *why;
    size_t whylen;
    int rc; /* out */
} oz_store_job;
int oz_store_write_jobs(oz_store *s, int durable, oz_store_job *jobs, size_t n, char *why,
                        size_t whylen);
/* The same without waiting: queues the jobs with ops (the caller's, one
 * per job) and calls done(arg) once they are done - from the writer's or
 * the syncer's thread, or on this one before returning when no writer
 * runs.  Jobs, ops and why belong to the writer until then; then
 * oz_store_write_collect sets each job's rc and returns what
 * oz_store_write_jobs would. */
void oz_store_write_submit(oz_store *s, int durable, oz_store_job *jobs, oz_wop *ops, size_t n,
                           char *why, size_t whylen, void (*done)(void *arg), void *arg);
int oz_store_write_collect(oz_store_job *jobs, const oz_wop *ops, size_t n);
/* oz_store_write_submit, waiting here until they are done. */
void oz_store_write_wait(oz_store *s, int durable, oz_store_job *jobs, oz_wop *ops, size_t n,
                         char *why, size_t whylen);

/* A read transaction (a consistent snapshot across several statements). */
int oz_store_rbegin(oz_store *s, char *why, size_t whylen);
void oz_store_rend(oz_store *s);

/* Runs a statement to completion (no rows expected). */
int oz_store_exec_stmt(oz_store *s, oz_sql_stmt *st, char *why, size_t whylen);
/* The database's error as OZ_SCHED_EDB / EBUSY / ENOSPC with a sentence
 * (ENOSPC also puts the database in the disk-full state, store.h). */
int oz_store_dberr(oz_store *s, const char *what, char *why, size_t whylen);
/* The store's error for the kind of s's last failure: EBUSY (a conflict,
 * or the database unreachable: 503, run it again), ENOSPC, else EDB. */
int oz_store_failure_rc(oz_store *s);
/* Runs st, an INSERT (or UPDATE) ... RETURNING id, and reads the row's id into *id;
 * OZ_SCHED_ENOTFOUND when it touched no row. */
int oz_store_insert_id(oz_store *s, oz_sql_stmt *st, int64_t *id, char *why, size_t whylen);
/* Runs literal SQL (BEGIN, COMMIT...) on the store's connection. */
int oz_store_exec_literal(oz_store *s, const char *sql, char *why, size_t whylen);
/* fsyncs the WAL unless commit number `seq` is durable already (group
 * commit, sqlite.c). */
int oz_db_wal_sync(oz_db *db, uint64_t seq, char *why, size_t whylen);
/* How long a connection waits for another process's write lock. */
#define OZ_STORE_BUSY_MS 10000
/* The first key of the transaction-level advisory lock under which
 * candidates are grouped on PostgreSQL (store_candidates.c); dataset
 * counts' shards use 729971 (pg_schema.c). */
#define OZ_CAND_LOCK_SQL "729972"

/* ---- a host's dispatch, one body of its visit (store_dispatch.c) ---- */

/* What the dispatch of a visit is asked (store.h: oz_store_visit_new,
 * oz_store_visit_held) and where it answers. */
typedef struct oz_assign_args {
    const oz_host_auth *h;
    double want_seconds;
    oz_dispatch_limits lim;
    int64_t now;
    oz_assignment *out;
    size_t max, *n;
    bool listed;         /* the host listed the replicas it holds: */
    const int64_t *held; /* ascending */
    size_t nheld;
} oz_assign_args;

/* The dispatch as a write body (arg: an oz_assign_args): *n assignments
 * into out, lost ones first. */
int oz_store_assign_body(oz_store *s, void *arg, char *why, size_t whylen);
/* Ascending order of replica ids (int64_t), for qsort and bsearch. */
int oz_store_id_cmp(const void *a, const void *b);

/* A replica IN_PROGRESS on host past its deadline (or lost to it) becomes
 * OVER / NO_REPLY: the host's in-progress count lowered, its unit flagged
 * for the transitioner (store_jobs.c). */
int oz_store_replica_time_out(oz_store *s, int64_t replica, int64_t unit, int64_t host, char *why,
                              size_t whylen);

/* ---- adaptive replication's side of a verdict (store_checks.c) ---- */

/* A verdict on one of host's results moves its trust (trust.h). */
int oz_store_trust_write(oz_store *s, int64_t host, bool valid, char *why, size_t whylen);
/* The spot checks made for unit v's verdict (cpu_s their CPU time). */
int oz_store_spot_write(oz_store *s, const oz_validate_unit *v, double cpu_s, char *why,
                        size_t whylen);
/* found and missed more results of unit's canary. */
int oz_store_canary_count(oz_store *s, int64_t unit, int found, int missed, char *why,
                          size_t whylen);

/* ---- what the read-only views share (store_json.c) ---- */

#define OZ_STORE_LIMIT_MAX 500 /* rows in one page of any list */

/* The "adaptive" object of /api/v1/status and /api/v1/server (API.md). */
json_t *oz_store_adaptive_json(const oz_store_gauges *g);

/* v within [lo, hi]; dflt when below lo (absent or zero). */
int oz_store_clamp(int v, int lo, int hi, int dflt);
/* A pagination cursor: decimal digits, NULL or "" for the start; -1 when
 * malformed. */
long long oz_store_cursor_parse(const char *after);
typedef json_t *(*oz_store_row_fn)(oz_sql_stmt *st, int64_t now);
/* Runs st (bound by the caller, asking for limit + 1 rows) and makes a
 * JSON array of make(st, now) for at most limit rows; *more when another
 * row exists; *last (may be NULL) the int64 of column 0 of the last row
 * taken.  Resets st. */
int oz_store_rows_json(oz_sql_stmt *st, int limit, oz_store_row_fn make, int64_t now, json_t **arr,
                       bool *more, long long *last);
/* {key: arr, "next": cursor or null}; steals arr. */
int oz_store_paged(const char *key, json_t *arr, bool more, long long next, json_t **out);
/* The first column of a one-number query (bind: arg is its one
 * parameter); -1 on failure. */
int64_t oz_store_one_int(oz_store *s, const char *sql, int64_t arg, bool bind);
/* A signal as API.md shows it, from the columns id, type, freq_hz,
 * chirp_hz_s, time_s, period_s, time_ns, score, power, fft_len, unit name,
 * dataset name. */
json_t *oz_store_signal_row(oz_sql_stmt *st, int64_t now);
/* The columns a signal row takes after its first twelve (signals g): its
 * candidate and place in the sky. */
/* A replica as the API shows it (oz_store_result_row), from replicas r
 * joined with its unit u and dataset d. */
#define OZ_RESULT_COLS                                                                             \
    "r.id, u.name, d.name, r.host_id, r.account_id, r.state, r.outcome, r.validate_state,"         \
    " r.sent, r.received, r.deadline, r.credit,"                                                   \
    " (SELECT h.name FROM hosts h WHERE h.id = r.host_id), u.purged IS NOT NULL"
json_t *oz_store_result_row(oz_sql_stmt *st, int64_t now);
/* The columns of oz_store_signal_row, from signals g (its unit u, dataset d). */
#define OZ_SIGNAL_COLS                                                                             \
    "g.id, g.type, g.freq_hz, g.chirp_hz_s, g.time_s, g.period_s, g.time_ns, g.score,"             \
    " g.power, g.fft_len, u.name, d.name, " OZ_SIGNAL_SKY_COLS
#define OZ_SIGNAL_SKY_COLS "g.candidate_id, g.ra_deg, g.dec_deg, g.pixel, g.freq_bary_hz"

/* Inserts one of a unit's signals (store_jobs.c): id and candidate_id
 * when > 0, else the next rowid and NULL. */
int oz_store_signal_insert(oz_store *s, const oz_assimilate_unit *a, const oz_signal_row *r,
                           int64_t id, int64_t candidate_id, char *why, size_t whylen);

/* Text column or "" (never NULL). */
const char *oz_store_col_text(oz_sql_stmt *st, int col);
/* A blob column copied into *out (malloc'd, *len bytes; NULL for NULL);
 * false when out of memory. */
bool oz_store_col_bin(oz_sql_stmt *st, int col, unsigned char **out, size_t *len);
/* A column as JSON: integer, real, string, or null for NULL. */
json_t *oz_store_col_json(oz_sql_stmt *st, int col);

#endif

/*
 * store_writer.c - the database's writer thread (store.h: oz_db_batching_start,
 * oz_store_write*): the jobs' and the requests' write transactions go to one
 * thread with its own connection, which runs them in batches (one commit for
 * many).  On SQLite it restarts the WAL once it is long, and hands durable
 * submissions to a syncer thread that fsyncs the WAL once for all that
 * wait; on PostgreSQL the commit is durable when it returns, and a batch
 * that lost a conflict with another scheduler's transaction runs again.
 * Without the writer running, oz_store_write runs a transaction on the
 * caller's own connection (again after a conflict, on PostgreSQL).
 * store.c has the connections, transactions and the disk's state this
 * builds on.
 */
#include "sql_sqlite.h"
#include "store_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- the writer: one thread, one connection, batched transactions -------------------------- */

/* A transaction that lost a conflict with another scheduler's
 * (PostgreSQL's serialisation failures, EBUSY) runs again, up to this many
 * times: a single write, or the writer's whole batch.  Each time counts in
 * the database's write_conflicts (oz_store_gauges). */
#define WRITE_TRIES 20
#define BATCH_TRIES 8

/* Before try number `tries` of s's transaction: a short wait, longer each
 * time and different for each connection, so that two do not meet again. */
static void conflict_nap(const oz_store *s, int tries)
{
    atomic_fetch_add_explicit(&s->db->write_conflicts, 1, memory_order_relaxed);
    long us = (long)((uintptr_t)s / 16 * 2654435761u % 1000) + 100;
    struct timespec nap = {0, us * 1000 * tries};
    nanosleep(&nap, NULL);
}

/* Runs the batch's bodies in its transaction, each without a savepoint:
 * the savepoint's copy of every page a body touches cost about a fifth of
 * a dispatch.  A body that fails before it writes (a refusal: the usual
 * failure) needs nothing undone.  False when one failed after writing, or
 * with an error that made SQLite roll the transaction back itself (disk
 * full, I/O): then the caller undoes the batch and runs it again with
 * writer_run_one. */
static bool writer_run_fast(oz_store *ws, oz_wop *batch)
{
    for (oz_wop *op = batch; op; op = op->next) {
        int64_t before = oz_sql_total_changes(ws->conn);
        op->rc = op->body(ws, op->arg, op->why, op->whylen);
        if (op->rc != OZ_SCHED_OK &&
            (oz_sql_total_changes(ws->conn) != before || !oz_sql_in_transaction(ws->conn)))
            return false;
    }
    return true;
}

/* Runs one queued body inside the batch's transaction, in a savepoint, so
 * that its failure undoes only its own writes.  False when the transaction
 * is gone (SQLite rolled it back after an error): the batch has failed. */
static bool writer_run_one(oz_store *ws, oz_wop *op)
{
    char sub[256];
    int src = oz_store_exec_literal(ws, "SAVEPOINT op", sub, sizeof sub);
    if (src != OZ_SCHED_OK) {
        op->rc = oz_sched_fail(src, op->why, op->whylen, "%s", sub); /* EBUSY: run it again */
        return oz_sql_in_transaction(ws->conn);
    }
    op->rc = op->body(ws, op->arg, op->why, op->whylen);
    if (op->rc != OZ_SCHED_OK)
        oz_store_exec_literal(ws, "ROLLBACK TO op", NULL, 0);
    oz_store_exec_literal(ws, "RELEASE op", NULL, 0);
    return oz_sql_in_transaction(ws->conn);
}

/* What the writer knows of the WAL: its length in frames after the last
 * commit (sqlite3_wal_hook), the length at which to try restarting it,
 * and how many tries in a row have not (yet) made it start over. */
typedef struct wal_watch {
    int frames, next, misses;
} wal_watch;

static int wal_frames_note(void *arg, sqlite3 *conn, const char *name, int frames)
{
    (void)conn;
    (void)name;
    ((wal_watch *)arg)->frames = frames;
    return SQLITE_OK;
}

/* Past this many frames (4 KiB pages) the writer restarts the WAL; after a
 * miss it tries again each WAL_RETRY_FRAMES more, waiting for readers
 * WAL_WAIT_NAPS naps of 50 us (about 100 us each with the kernel's timer
 * slack) the first time and twice as long each next time, up to 64 times
 * as long. */
#define WAL_RESTART_FRAMES 4096
#define WAL_RETRY_FRAMES 1024
#define WAL_WAIT_NAPS 40
#define WAL_WAIT_DOUBLINGS 6

/* While restarting the WAL: short naps, then give up. */
static int wal_restart_busy(void *arg, int tries)
{
    if (tries >= *(int *)arg)
        return 0;
    struct timespec nap = {0, 50000}; /* 50 us: readers' transactions are short */
    nanosleep(&nap, NULL);
    return 1;
}

/* SQLite writes a WAL from its start again only when a write transaction
 * begins with every frame copied into the database and no reader still on
 * a frame.  Under steady load the checkpointer's PASSIVE checkpoints never
 * get there (a newer batch is always being written, a reader always
 * running), so the WAL grew without end: 2 GB in 20 s of the load
 * benchmark, every commit extending the file.  So once it is long, the
 * writer itself - between batches, none of its commits pending - runs a
 * RESTART checkpoint: it copies what the checkpointer has not, then waits
 * for the readers still on WAL frames to finish (new ones read the
 * database file), so the next batch starts the WAL over.  It waits about
 * 4 ms at first: SQLite's own busy handler stalled it for 10 s behind two
 * readers that never paused together.  A miss costs only a longer WAL; the
 * next try waits longer, for readers that the CPU's other work keeps from
 * finishing.  When the checkpointer thread is checkpointing, SQLite says
 * so at once (log -1): that is no miss, and the writer tries again after
 * its next batch.  It holds the process's write lock meanwhile, so that a
 * transaction begun on another connection of this process waits on the
 * lock instead of sleeping in SQLite's busy handler. */
static void wal_restart(oz_store *ws, wal_watch *w)
{
    int naps = WAL_WAIT_NAPS << (w->misses < WAL_WAIT_DOUBLINGS ? w->misses : WAL_WAIT_DOUBLINGS);
    int log = 0, done = 0;
    pthread_mutex_lock(&ws->db->write_lock);
    sqlite3 *conn = oz_sql_sqlite_handle(ws->conn);
    sqlite3_busy_handler(conn, wal_restart_busy, &naps);
    int rc = sqlite3_wal_checkpoint_v2(conn, NULL, SQLITE_CHECKPOINT_RESTART, &log, &done);
    sqlite3_busy_timeout(conn, OZ_STORE_BUSY_MS);
    pthread_mutex_unlock(&ws->db->write_lock);
    if (rc == SQLITE_BUSY && log < 0) { /* the checkpoint lock was taken */
        w->next = w->frames + 1;
        return;
    }
    w->next = w->frames + WAL_RETRY_FRAMES;
    w->misses++; /* until a commit shows the WAL short again */
}

/* A batch's run: its transaction, the bodies (again in savepoints when
 * one failed half-way) and the commit. */
static int writer_run_batch(oz_store *ws, oz_wop *batch, char *why, size_t whylen)
{
    int rc = oz_store_wbegin(ws, 0, why, whylen);
    if (rc == OZ_SCHED_OK && !writer_run_fast(ws, batch)) {
        /* a body failed half-way: the batch again, each body in a savepoint */
        oz_store_wrollback(ws);
        if ((rc = oz_store_wbegin(ws, 0, why, whylen)) == OZ_SCHED_OK)
            for (oz_wop *op = batch; op && rc == OZ_SCHED_OK; op = op->next)
                if (!writer_run_one(ws, op) ||                  /* the batch's writes are gone */
                    (ws->db->pg && op->rc == OZ_SCHED_EBUSY)) { /* a conflict: all again */
                    oz_store_wrollback(ws);
                    /* a full disk or a conflict as op met it; else
                     * the kind of what lost the transaction (the
                     * database server restarting: EBUSY, run again) */
                    rc = op->rc == OZ_SCHED_ENOSPC || op->rc == OZ_SCHED_EBUSY
                             ? op->rc
                             : oz_store_failure_rc(ws);
                    oz_sched_fail(rc, why, whylen, "%s",
                                  op->rc != OZ_SCHED_OK ? op->why : "the transaction was lost");
                }
    }
    if (rc == OZ_SCHED_OK)
        rc = oz_store_wcommit(ws, why, whylen);
    return rc;
}

/* The writer's page cache (SQLite): the pages of every index it inserts
 * into.  The other connections' 8 MiB hold a small part of a 10^6-signal
 * project's indexes, and each random-key insert (a candidate's score and
 * frequency, a signal's sky key) read its page back through the kernel,
 * and the checkpointer had the WAL's pages to copy more often: at 600,000
 * signals the assimilator's CPU per unit fell from 1/474 s to 1/820 s
 * with this cache, and the checkpointer's from 0.39 to 0.16 ms
 * (bench_sched_candidates --signals 600000).  SQLite allocates the pages
 * as they are used: a small project's writer stays small. */
#define WRITER_CACHE "PRAGMA cache_size=-262144" /* KiB: 256 MiB */

static void *writer_main(void *arg)
{
    oz_db *db = arg;
    oz_store *ws = NULL;
    char why[512];
    wal_watch wal = {.next = WAL_RESTART_FRAMES};
    int open_rc = oz_store_open(db, &ws, why, sizeof why);
    if (open_rc == OZ_SCHED_OK && !db->pg) {
        sqlite3_wal_hook(oz_sql_sqlite_handle(ws->conn), wal_frames_note, &wal);
        sqlite3_exec(oz_sql_sqlite_handle(ws->conn), WRITER_CACHE, NULL, NULL, NULL);
    }
    pthread_mutex_lock(&db->q_lock);
    for (;;) {
        while (!db->q_head && !db->writer_stop)
            pthread_cond_wait(&db->q_work, &db->q_lock);
        if (!db->q_head)
            break;
        oz_wop *batch = db->q_head;
        db->q_head = db->q_tail = NULL;
        pthread_mutex_unlock(&db->q_lock);
        int rc = open_rc;
        if (rc == OZ_SCHED_OK)
            rc = writer_run_batch(ws, batch, why, sizeof why);
        /* PostgreSQL: a batch that lost a conflict with another scheduler's
         * runs again, whole */
        for (int tries = 1; db->pg && rc == OZ_SCHED_EBUSY && tries < BATCH_TRIES; tries++) {
            conflict_nap(ws, tries);
            rc = writer_run_batch(ws, batch, why, sizeof why);
        }
        oz_wop *to_sync = NULL, *to_sync_tail = NULL;
        for (oz_wop *op = batch, *next; op; op = next) {
            next = op->next; /* a group is its submitter's once done is called */
            if (rc != OZ_SCHED_OK && op->rc == OZ_SCHED_OK)
                op->rc = oz_sched_fail(rc, op->why, op->whylen, "%s", why);
            op->seq = ws ? ws->last_seq : 0;
            /* the syncer finishes it (PostgreSQL's commit was durable) */
            if (op->durable && rc == OZ_SCHED_OK && !db->pg) {
                op->next = NULL;
                if (to_sync_tail)
                    to_sync_tail->next = op;
                else
                    to_sync = op;
                to_sync_tail = op;
                continue;
            }
            if (op->done)
                op->done(op->done_arg);
        }
        if (to_sync) {
            pthread_mutex_lock(&db->s_lock);
            if (db->s_tail)
                db->s_tail->next = to_sync;
            else
                db->s_head = to_sync;
            db->s_tail = to_sync_tail;
            pthread_cond_signal(&db->s_work);
            pthread_mutex_unlock(&db->s_lock);
        }
        if (db->pg) {
        } else if (wal.frames < WAL_RESTART_FRAMES) { /* short, or it started over */
            wal.next = WAL_RESTART_FRAMES;
            wal.misses = 0;
        } else if (open_rc == OZ_SCHED_OK && wal.frames >= wal.next) {
            wal_restart(ws, &wal);
        }
        pthread_mutex_lock(&db->q_lock);
    }
    pthread_mutex_unlock(&db->q_lock);
    oz_store_close(ws);
    return NULL;
}

/* The syncer: takes the durable submissions the writer has committed, makes
 * them durable with one fsync of the WAL (wal_sync: none when another has
 * covered them), and tells their submitters (done).  So a durable request
 * waits once, and the writer goes on with the next batch meanwhile. */
static void *syncer_main(void *arg)
{
    oz_db *db = arg;
    char why[512];
    pthread_mutex_lock(&db->s_lock);
    for (;;) {
        while (!db->s_head && !db->syncer_stop)
            pthread_cond_wait(&db->s_work, &db->s_lock);
        if (!db->s_head)
            break;
        oz_wop *list = db->s_head;
        db->s_head = db->s_tail = NULL;
        pthread_mutex_unlock(&db->s_lock);
        uint64_t seq = 0;
        for (oz_wop *op = list; op; op = op->next)
            seq = op->seq > seq ? op->seq : seq;
        int rc = oz_db_wal_sync(db, seq, why, sizeof why);
        for (oz_wop *op = list, *next; op; op = next) {
            next = op->next;
            if (rc != OZ_SCHED_OK)
                op->sync_rc = oz_sched_fail(rc, op->sync_why, op->sync_whylen, "%s", why);
            op->done(op->done_arg);
        }
        pthread_mutex_lock(&db->s_lock);
    }
    pthread_mutex_unlock(&db->s_lock);
    return NULL;
}

int oz_db_batching_start(oz_db *db, char *why, size_t whylen)
{
    pthread_mutex_lock(&db->q_lock);
    int rc = OZ_SCHED_OK;
    if (!db->writer_on) {
        db->writer_stop = false;
        db->syncer_stop = false;
        if (pthread_create(&db->syncer, NULL, syncer_main, db) != 0) {
            rc = oz_sched_fail(OZ_SCHED_ENOMEM, why, whylen, "cannot start the syncer thread");
        } else if (pthread_create(&db->writer, NULL, writer_main, db) != 0) {
            rc = oz_sched_fail(OZ_SCHED_ENOMEM, why, whylen, "cannot start the writer thread");
            pthread_mutex_lock(&db->s_lock);
            db->syncer_stop = true;
            pthread_cond_signal(&db->s_work);
            pthread_mutex_unlock(&db->s_lock);
            pthread_join(db->syncer, NULL);
        } else {
            db->writer_on = true;
        }
    }
    pthread_mutex_unlock(&db->q_lock);
    return rc;
}

void oz_db_batching_stop(oz_db *db)
{
    pthread_mutex_lock(&db->q_lock);
    bool on = db->writer_on;
    db->writer_stop = true;
    pthread_cond_broadcast(&db->q_work);
    pthread_mutex_unlock(&db->q_lock);
    if (!on)
        return;
    pthread_join(db->writer, NULL); /* it empties the queue first */
    pthread_mutex_lock(&db->s_lock);
    db->syncer_stop = true;
    pthread_cond_signal(&db->s_work);
    pthread_mutex_unlock(&db->s_lock);
    pthread_join(db->syncer, NULL); /* and so does the syncer */
    pthread_mutex_lock(&db->q_lock);
    db->writer_on = false;
    pthread_mutex_unlock(&db->q_lock);
}

/* Runs body in its own transaction on s (no writer thread); serial: a
 * SERIALIZABLE one (PostgreSQL). */
static int write_alone(oz_store *s, int durable, bool serial, oz_store_body body, void *arg,
                       char *why, size_t whylen)
{
    int rc = OZ_SCHED_EBUSY;
    for (int tries = 0; rc == OZ_SCHED_EBUSY && tries < (s->db->pg ? WRITE_TRIES : 1); tries++) {
        if (tries)
            conflict_nap(s, tries);
        if ((rc = serial ? oz_store_wbegin_serial(s, durable, why, whylen)
                         : oz_store_wbegin(s, durable, why, whylen)) != OZ_SCHED_OK)
            continue;
        if ((rc = body(s, arg, why, whylen)) != OZ_SCHED_OK) {
            oz_store_wrollback(s);
            continue;
        }
        rc = oz_store_wcommit(s, why, whylen);
    }
    return rc;
}

void oz_store_write_submit(oz_store *s, int durable, oz_store_job *jobs, oz_wop *ops, size_t n,
                           char *why, size_t whylen, void (*done)(void *arg), void *arg)
{
    oz_db *db = s->db;
    for (size_t i = 0; i < n; i++)
        ops[i] = (oz_wop){.body = jobs[i].body,
                          .arg = jobs[i].arg,
                          .why = jobs[i].why,
                          .whylen = jobs[i].whylen,
                          .done = i + 1 == n ? done : NULL,
                          .done_arg = i + 1 == n ? arg : NULL,
                          .durable = i + 1 == n && durable,
                          .sync_why = why,
                          .sync_whylen = whylen,
                          .next = i + 1 < n ? &ops[i + 1] : NULL};
    pthread_mutex_lock(&db->q_lock);
    if (n && db->writer_on && !db->writer_stop) {
        if (db->q_tail)
            db->q_tail->next = &ops[0];
        else
            db->q_head = &ops[0];
        db->q_tail = &ops[n - 1];
        pthread_cond_signal(&db->q_work);
        pthread_mutex_unlock(&db->q_lock);
        return; /* the writer finishes them in order */
    }
    pthread_mutex_unlock(&db->q_lock);
    for (size_t i = 0; i < n; i++)
        ops[i].rc =
            write_alone(s, durable, false, ops[i].body, ops[i].arg, ops[i].why, ops[i].whylen);
    done(arg);
}

int oz_store_write_collect(oz_store_job *jobs, const oz_wop *ops, size_t n)
{
    for (size_t i = 0; i < n; i++)
        jobs[i].rc = ops[i].rc;
    /* a failed batch never reached the syncer: nothing to be durable */
    return n ? ops[n - 1].sync_rc : OZ_SCHED_OK;
}

/* A semaphore, not a condition variable, so that it is posted without a
 * lock and the woken waiter does not then queue for one (sem_post never
 * touches it after the waiter may have returned). */
static void post_sem(void *arg)
{
    sem_post(arg);
}

void oz_store_write_wait(oz_store *s, int durable, oz_store_job *jobs, oz_wop *ops, size_t n,
                         char *why, size_t whylen)
{
    sem_t got;
    sem_init(&got, 0, 0);
    oz_store_write_submit(s, durable, jobs, ops, n, why, whylen, post_sem, &got);
    while (sem_wait(&got) != 0) /* EINTR */
        ;
    sem_destroy(&got);
}

#define JOBS_MAX 128

int oz_store_write_jobs(oz_store *s, int durable, oz_store_job *jobs, size_t n, char *why,
                        size_t whylen)
{
    if (n > JOBS_MAX)
        return oz_sched_fail(OZ_SCHED_EINVAL, why, whylen, "more than %d writes at once", JOBS_MAX);
    oz_wop ops[JOBS_MAX];
    oz_store_write_wait(s, durable, jobs, ops, n, why, whylen);
    return oz_store_write_collect(jobs, ops, n);
}

int oz_store_write(oz_store *s, int durable, oz_store_body body, void *arg, char *why,
                   size_t whylen)
{
    oz_store_job job = {.body = body, .arg = arg, .why = why, .whylen = whylen};
    int rc = oz_store_write_jobs(s, durable, &job, 1, why, whylen);
    return rc != OZ_SCHED_OK ? rc : job.rc;
}

int oz_store_write_serial(oz_store *s, int durable, oz_store_body body, void *arg, char *why,
                          size_t whylen)
{
    return s->db->pg ? write_alone(s, durable, true, body, arg, why, whylen)
                     : oz_store_write(s, durable, body, arg, why, whylen);
}

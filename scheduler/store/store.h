/*
 * store.h - the scheduler's database, behind one backend-neutral interface
 * (DESIGN.md §4a).
 *
 * Everything the scheduler remembers lives in the store: datasets, units,
 * replicas, accounts, teams, hosts, signals and candidates.  The HTTP
 * handlers, the jobs (transitioner, validator, assimilator) and the
 * command-line subcommands all go through these functions and never write
 * SQL of their own.  Nothing here names a database engine: a backend sits
 * behind it in its own files (one database file today; PostgreSQL next), and the policy - which
 * replicas a host may get, when a replica times out or a unit fails, what a quorum decides - is
 * plain C outside the store (dispatch.c, transition.c, validate.c): the backends read and record.
 * How the SQL names states: store/sql_states.h.
 *
 * Threads: an oz_db is the process's shared handle of one database; each
 * thread opens its own oz_store connection from it (STYLE.md §9: one
 * connection per thread).  Every write is one short transaction, committed
 * before the function returns: when it returns 0 the change is in the
 * database.  While the server runs, the writes of the request path and the
 * jobs are gathered and committed together (oz_db_batching_start), so that
 * one commit serves many requests.
 *
 * Durability: what a client is told is stored (accounts, hosts, result
 * uploads, error reports, loads, validation and credit) returns only once
 * it is on disk (group commit: one flush to disk covers every thread
 * waiting); work dispatch and the transitioner's bookkeeping survive a
 * crash of the server, and after a power loss the worst case is a replica
 * sent twice.
 *
 * State machine (BOINC's, DESIGN.md §4): a unit is ACTIVE until it is
 * VALIDATED (a canonical result chosen) or ERROR (too many errors or
 * replicas; reason kept).  A replica is UNSENT -> IN_PROGRESS -> OVER, with
 * an outcome (SUCCESS, CLIENT_ERROR, NO_REPLY, DIDNT_NEED) and a validate
 * state (INIT, VALID, INVALID, INCONCLUSIVE).
 */
#ifndef OZ_SCHED_STORE_H
#define OZ_SCHED_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "candidates.h"
#include "dispatch.h"
#include "log.h"
#include "ozma_workunits.h"
#include "sched_errors.h"

/* The schema's version, kept in the database; migrations run on open. */
#define OZ_STORE_SCHEMA_VERSION 17

enum oz_unit_state { OZ_UNIT_ACTIVE = 0, OZ_UNIT_VALIDATED = 1, OZ_UNIT_ERROR = 2 };
enum oz_replica_state { OZ_REPLICA_UNSENT = 0, OZ_REPLICA_IN_PROGRESS = 1, OZ_REPLICA_OVER = 2 };
enum oz_replica_outcome {
    OZ_OUTCOME_INIT = 0,
    OZ_OUTCOME_SUCCESS = 1,
    OZ_OUTCOME_CLIENT_ERROR = 2,
    OZ_OUTCOME_NO_REPLY = 3,
    OZ_OUTCOME_DIDNT_NEED = 4,
};
enum oz_validate_state {
    OZ_VALIDATE_INIT = 0,
    OZ_VALIDATE_VALID = 1,
    OZ_VALIDATE_INVALID = 2,
    OZ_VALIDATE_INCONCLUSIVE = 3,
};

typedef struct oz_db oz_db;       /* one database, shared by the process's threads */
typedef struct oz_store oz_store; /* one thread's connection */

/* Creates a new database at path with the current schema.  Refuses (OZ_SCHED_EEXIST) when it
 * exists. */
int oz_db_create(const char *path, char *why, size_t whylen);
/* Opens the shared handle of an existing database (checks the schema version,
 * runs migrations).  OZ_SCHED_ENOTFOUND when it does not exist. */
int oz_db_open(const char *path, oz_db **out, char *why, size_t whylen);
/* Opens a streaming replica of a PostgreSQL database (a postgresql://
 * URI) to read from: nothing is migrated, its schema must be this
 * program's. */
int oz_db_open_read(const char *uri, oz_db **out, char *why, size_t whylen);
void oz_db_close(oz_db *db);

/* A full disk: a write that fails for want of space (ENOSPC, EDQUOT or
 * the database's own "full") fails with OZ_SCHED_ENOSPC - the server
 * answers 503 with Retry-After, and the request changes nothing - and puts
 * db in the "disk full" state.  db leaves it when a write transaction that
 * changed rows commits while the file system has OZ_DB_DISK_RESUME_BYTES
 * free (or a quarter of its size, when that is less): a write alone does
 * not show there is room again, as a backend may write into space its
 * files already hold.  Each change of state is one log line at the
 * threshold given here (default OZ_LOG_OFF: programs other than serve
 * report the failure itself); the failures in the state are not logged
 * one by one. */
#define OZ_DB_DISK_RESUME_BYTES (32u << 20)
void oz_db_log_level_set(oz_db *db, oz_log_level threshold);
bool oz_db_disk_full(oz_db *db);

/* From now on the store's compaction (folding what recent commits wrote
 * into the database's main files, so that its log does not grow) runs only
 * when oz_store_compact is called - by a background thread of the server -
 * and never inside whichever commit makes it due, which would stall every
 * write queued behind that commit.  Programs without such a thread (load,
 * status) leave it to the store. */
void oz_db_compact_deferred(oz_db *db);
/* Compacts what it can without blocking writes or reads; a backend with
 * nothing to compact returns 0. */
int oz_store_compact(oz_store *s, char *why, size_t whylen);

/* Starts batching: from now on the request path's and the jobs' writes run
 * on one thread of the store, one transaction for as many as are waiting,
 * on one connection whose cache no other commit disturbs.  (A program
 * without it - load, status - runs each on its own.)  Stopped by
 * oz_db_batching_stop or oz_db_close, after what was queued has run. */
int oz_db_batching_start(oz_db *db, char *why, size_t whylen);
void oz_db_batching_stop(oz_db *db);

/* A connection for the calling thread (close it on the same thread). */
int oz_store_open(oz_db *db, oz_store **out, char *why, size_t whylen);
void oz_store_close(oz_store *s);

/* The backend's own SQL, for tests, benchmarks and an operator's checks -
 * never for the program's own work, which has a call here for each thing
 * it does.  States are named as sql_states.h says.  Not cached: each call
 * prepares its text afresh.  oz_store_sql_exec runs every statement of sql;
 * oz_store_sql_int gives the first column of sql's first row (no row:
 * OZ_SCHED_ENOTFOUND), oz_store_sql_text the same as text ("" for NULL). */
int oz_store_sql_exec(oz_store *s, const char *sql, char *why, size_t whylen);
int oz_store_sql_int(oz_store *s, const char *sql, int64_t *out, char *why, size_t whylen);
int oz_store_sql_text(oz_store *s, const char *sql, char *out, size_t outlen, char *why,
                      size_t whylen);

/* ---- accounts, teams, hosts ------------------------------------------------------------ */

/* Names (name, team_name) arrive normalised (oz_name_normalize), and a team
 * name is compared on its key (oz_name_key).  The team is the one whose
 * name reads as team_name when that is not NULL, else team_id (0: none).
 * auth_hash is the keyed hash of the authenticator.  OZ_SCHED_ENOTFOUND
 * when the team does not exist. */
int oz_store_account_create(oz_store *s, const char *name, const char *email, int64_t team_id,
                            const char *team_name, const unsigned char auth_hash[32], int64_t now,
                            int64_t *account_id, char *why, size_t whylen);
/* OZ_SCHED_ENOTFOUND when no account has this authenticator hash; a
 * failed lookup is the database's failure (EBUSY when unreachable). */
int oz_store_account_by_auth(oz_store *s, const unsigned char auth_hash[32], int64_t *account_id);
/* The founder joins the new team.  OZ_SCHED_EEXIST when the name is taken:
 * when another team's name has the same key. */
int oz_store_team_create(oz_store *s, int64_t account_id, const char *name, const char *description,
                         int64_t now, int64_t *team_id, char *why, size_t whylen);
/* OZ_SCHED_ENOTFOUND when the team does not exist. */
int oz_store_team_join(oz_store *s, int64_t account_id, int64_t team_id, char *why, size_t whylen);

typedef struct oz_host_info {
    const char *name, *os;
    int ncpus;    /* 1..1024 */
    double flops; /* FLOP/s per core, measured by the host */
    int64_t memory_mb;
} oz_host_info;

/* OZ_SCHED_EFORBIDDEN when the account has max_hosts hosts already (the
 * project's max_hosts_per_account: hosts cost the project a key, a row and
 * a share of the work each, and are never deleted), or has registered
 * max_per_day of them in the 24 hours before now (max_hosts_per_account_day:
 * each new host is a new in-progress cap, so an account must not mint them
 * faster than it could use them). */
int oz_store_host_create(oz_store *s, int64_t account_id, const oz_host_info *h, int max_hosts,
                         int max_per_day, const unsigned char key_hash[32], int64_t now,
                         int64_t *host_id, char *why, size_t whylen);

/* What a host key authenticates. */
typedef struct oz_host_auth {
    int64_t host_id, account_id;
    int ncpus;
    double flops;
} oz_host_auth;
/* OZ_SCHED_ENOTFOUND when no host has this key hash, OZ_SCHED_EFORBIDDEN
 * (out filled) when the host is banned: known within a second of the ban
 * (the host-key cache); a failed lookup is the database's failure (EBUSY
 * when unreachable). */
int oz_store_host_by_key(oz_store *s, const unsigned char key_hash[32], oz_host_auth *out);

/* ---- datasets and units (ozma-server load) ---------------------------------------------- */

typedef struct oz_dataset_info {
    const char *name;      /* dataset id, unique */
    const char *recording; /* where it came from (path as given) */
    double sample_rate, center_hz;
    bool has_time;
    int64_t start_ns;        /* UTC of the recording's first sample */
    const char *config_json; /* the analysis configuration every unit carries */
    /* Replication policy for its units (DESIGN.md §4 defaults 2, 2, 3, 6). */
    int min_quorum, target_nresults, max_error_results, max_total_results;
    int64_t delay_bound; /* seconds from dispatch to deadline */
    bool adaptive;       /* adaptive replication (trust.h) */
    /* Where and at what in the sky (sky.h: oz_sky_json), or NULL: unknown. */
    const char *sky_json;
} oz_dataset_info;

/* Starts a dataset in state "loading": its units get no replicas, so nothing
 * is sent, until oz_store_dataset_finish.  OZ_SCHED_EEXIST when the name is
 * taken by a finished dataset; OZ_SCHED_ECONFLICT when a half-loaded one of
 * that name exists (a failed load's leftovers - or a load running now in
 * another process: the caller decides; oz_store_dataset_remove clears it). */
int oz_store_dataset_begin(oz_store *s, const oz_dataset_info *d, int64_t now, int64_t *dataset_id,
                           char *why, size_t whylen);

typedef struct oz_unit_row {
    const char *name; /* the unit id, as in its header */
    const char *file; /* file name under the project's units/ folder */
    uint64_t bytes;
    unsigned char sha256[32]; /* the whole file's hash */
    uint64_t flops;           /* deterministic FLOP count of its search */
    uint64_t index;           /* position in the dataset */
    double start_s;           /* from the dataset's start */
    uint64_t nsamples;
    const char *canary; /* its hidden canary's truth (canary.h), or NULL */
    const char *sky;    /* its own pointing (sky.h: a .sah's track), or NULL */
} oz_unit_row;

/* Adds units in one transaction (a batch of the load). */
int oz_store_units_add(oz_store *s, int64_t dataset_id, const oz_unit_row *rows, size_t n,
                       char *why, size_t whylen);
/* Creates target_nresults UNSENT replicas per unit and marks the dataset
 * ready, in one transaction: after this its units are sent out. */
int oz_store_dataset_finish(oz_store *s, int64_t dataset_id, char *why, size_t whylen);
/* Deletes a dataset and everything of it (a failed load's cleanup).  Lists
 * its unit file names through each_file (may be NULL) first. */
int oz_store_dataset_remove(oz_store *s, const char *name,
                            void (*each_file)(void *arg, const char *file), void *arg, char *why,
                            size_t whylen);

/* Lists dataset_id's unit file names through each_file, in unit order. */
int oz_store_dataset_files(oz_store *s, int64_t dataset_id,
                           void (*each_file)(void *arg, const char *file), void *arg, char *why,
                           size_t whylen);
/* *when: the time the file deleter deleted the files of unit unit_id's
 * dataset (lifecycle.h), 0 when it has not (or there is no such unit). */
int oz_store_unit_file_gone(oz_store *s, const char *unit_id, int64_t *when, char *why,
                            size_t whylen);

/* ---- the data lifecycle (lifecycle.h) ---- */

/* Datasets whose units are all finished (validated and assimilated, or in
 * error) and whose unit files are not yet deleted: at most max ids. */
int oz_store_datasets_done(oz_store *s, int64_t *ids, size_t max, size_t *n, char *why,
                           size_t whylen);
/* Records, durably, that dataset_id's unit files are deleted (at now). */
int oz_store_dataset_files_gone(oz_store *s, int64_t dataset_id, int64_t now, char *why,
                                size_t whylen);

/* One result text to archive (the strings live until the next row). */
typedef struct oz_purge_row {
    int64_t replica_id, host_id, received, finished; /* finished: the unit's */
    const char *unit_id, *dataset, *result;
    bool canonical;
} oz_purge_row;
/* The purge's next unit after unit rowid *after in (finished, id) order,
 * finished at or before cutoff, not yet purged, with nothing left to do
 * (validated and assimilated or in error, no validation pending, no
 * replica unsent or in progress): its result texts through each (which
 * may fail, stopping the walk), its rowid in *unit and its finish time in
 * *finished.  OZ_SCHED_ENOTFOUND when there is none. */
int oz_store_purge_next(oz_store *s, int64_t cutoff, int64_t after_finished, int64_t after_id,
                        int (*each)(void *arg, const oz_purge_row *r), void *arg, int64_t *unit,
                        int64_t *finished, char *why, size_t whylen);
/* Drops the result texts of units[0 .. n) (archived) and marks them
 * purged at now, in one durable transaction. */
int oz_store_purge_commit(oz_store *s, const int64_t *units, size_t n, int64_t now, char *why,
                          size_t whylen);

/* ozma-server dataset cancel: the dataset's units not yet
 * validated end in ERROR with reason, their unsent replicas are deleted and
 * those in progress end (DIDNT_NEED: their uploads are refused), in one
 * durable transaction; validated units and their signals stay.  *units
 * counts the units ended, *recalled the replicas taken back.
 * OZ_SCHED_ENOTFOUND for an unknown name. */
int oz_store_dataset_cancel(oz_store *s, const char *name, const char *reason, int64_t now,
                            int64_t *units, int64_t *recalled, char *why, size_t whylen);

/* ozma-server host ban: the host gets no more work (dispatch
 * answers OZ_SCHED_EFORBIDDEN), its replicas in progress end (DIDNT_NEED)
 * and its results on units not yet validated are ignored (DIDNT_NEED,
 * INVALID), their units flagged so the transitioner sends them to others;
 * one durable transaction.  *recalled and *ignored count those replicas.
 * Banning again keeps the first time and reason.  OZ_SCHED_ENOTFOUND for an
 * unknown host. */
int oz_store_host_ban(oz_store *s, int64_t host_id, const char *reason, int64_t now,
                      int64_t *recalled, int64_t *ignored, char *why, size_t whylen);

/* ---- work ----------------------------------------------------------------------------------- */

typedef struct oz_assignment {
    int64_t replica_id, unit_rowid;
    char unit_id[OZ_WU_ID_MAX + 1];
    char file[OZ_WU_ID_MAX + 8];
    uint64_t bytes;
    char sha256[65];
    int64_t deadline;
    uint64_t flops;
} oz_assignment;

/*
 * Sends work to a host: UNSENT replicas of ready datasets, oldest first,
 * until their estimated seconds (flops / (host flops * ncpus)) cover
 * want_seconds (at least one when want_seconds > 0), at most `max` and at
 * most what the host's in-progress cap and daily quota under lim leave
 * (dispatch.h: from the replicas it holds, the results it has returned and
 * the replicas sent to it this UTC day).  Never two replicas of one unit
 * to one account.  Marks them IN_PROGRESS with deadline now + delay_bound,
 * counts them against the day's quota and records the host's RPC time, in
 * one transaction.  *n may be 0.
 */
int oz_store_work_assign(oz_store *s, const oz_host_auth *h, double want_seconds,
                         const oz_dispatch_limits *lim, int64_t now, oz_assignment *out, size_t max,
                         size_t *n, char *why, size_t whylen);

/*
 * Checks and records a result for a replica sent to host_id: outcome
 * SUCCESS, the JSON text and its hash (sha256, of exactly those bytes) kept,
 * the unit flagged for the validator, in one durable transaction.  The text
 * is parsed with the strict result parser in the calling thread, and checked
 * against the unit in the store's transaction, after the replica: OZ_SCHED_ENOTFOUND,
 * OZ_SCHED_EFORBIDDEN (another host's replica), then OZ_SCHED_EINVAL (not a
 * result file, or not one of this unit: "result: ..." or "result does not
 * fit replica N: ..."), then OZ_SCHED_ECONFLICT (another result already
 * accepted, or the replica is over without one, or the unit has ended).
 * Idempotent: the same bytes again return 0 with *duplicate set.
 */
int oz_store_result_accept(oz_store *s, int64_t replica_id, int64_t host_id, const char *json,
                           size_t len, const unsigned char sha256[32], int64_t now, bool *duplicate,
                           char *why, size_t whylen);

/* A result carried in a work request: its exact text and SHA-256 in, how
 * its acceptance went out (OZ_SCHED_OK, or the error
 * oz_store_result_accept would give, with why). */
#define OZ_WORK_RESULTS_MAX 64 /* results in one work request */
#define OZ_WORK_HELD_MAX 4096  /* replicas a work request may list as held */
typedef struct oz_result_in {
    int64_t replica_id;
    const char *json;
    size_t len;
    unsigned char sha256[32];
    int rc;         /* out */
    bool duplicate; /* out: this text was accepted before */
    char why[512];  /* out */
} oz_result_in;

/*
 * A host's visit: accepts each of res (at most OZ_WORK_RESULTS_MAX) as
 * oz_store_result_accept would, each succeeding or failing on its own, then
 * assigns work as oz_store_work_assign - one wait for one commit and, when a
 * result was accepted, one flush to disk for all.  Returns the assignment's
 * status; when the flush fails, each result's rc says so (it must not be reported
 * as accepted), and the assignments stand.
 */
int oz_store_work_report(oz_store *s, const oz_host_auth *h, oz_result_in *res, size_t nres,
                         double want_seconds, const oz_dispatch_limits *lim, int64_t now,
                         oz_assignment *out, size_t max, size_t *n, char *why, size_t whylen);

/*
 * The same without waiting for the commit, so that a request's thread can
 * serve other connections meanwhile.  oz_store_visit_new parses res (at most
 * OZ_WORK_RESULTS_MAX, kept by the caller until the visit is freed) in the
 * calling thread and prepares the writes: each result's acceptance and, when
 * dispatch is set, the assignment as above (lim is copied; without
 * dispatch an upload alone, as oz_store_result_accept: no RPC is recorded,
 * and lim may be NULL).  oz_store_visit_submit queues
 * them and calls done(arg) once, when they are done (and durable): from one
 * of the store's threads while batching (oz_db_batching_start), or from this
 * one before it returns when not.  Then oz_store_visit_end fills each result's rc and returns
 * what oz_store_work_report does; oz_store_visit_free frees the visit, at
 * any time but between submit and done.
 */
typedef struct oz_visit oz_visit;
int oz_store_visit_new(const oz_host_auth *h, oz_result_in *res, size_t nres, bool dispatch,
                       double want_seconds, const oz_dispatch_limits *lim, int64_t now, size_t max,
                       oz_visit **out, char *why, size_t whylen);
/* The host's visit lists the replicas it holds (held[0 .. n), any order;
 * copied): its dispatch first sends again each replica it has IN_PROGRESS
 * here that it does not list and whose deadline has not passed (lost with
 * an earlier reply: BOINC's "resend lost results"), as first sent, within
 * the reply's room and before any new one; one past its deadline is over
 * (NO_REPLY) at once.  Sent again, a replica counts against the seconds
 * asked but not again against the host's cap or quota.  A visit without
 * this (an older worker) leaves what it does not list alone.  Call it
 * before oz_store_visit_submit, on a visit made with dispatch. */
int oz_store_visit_held(oz_visit *v, const int64_t *held, size_t n);
void oz_store_visit_submit(oz_store *s, oz_visit *v, void (*done)(void *arg), void *arg);
/* oz_store_visit_submit, waiting here until they are done. */
void oz_store_visit_wait(oz_store *s, oz_visit *v);
int oz_store_visit_end(oz_visit *v, oz_assignment *out, size_t *n, char *why, size_t whylen);
void oz_store_visit_free(oz_visit *v);

/* A host reports it could not compute a replica: outcome CLIENT_ERROR with
 * its message; the unit is flagged for the transitioner.  mismatch: the
 * host says the unit's file did not match its SHA-256 (unit_check.h); when
 * the unit's file is marked bad (oz_store_unit_file_mark), that is the
 * server's fault, and the replica ends as DIDNT_NEED instead, its message
 * kept, not counted against the unit's errors.  Same errors as above;
 * reporting the same error twice is 0. */
int oz_store_replica_error(oz_store *s, int64_t replica_id, int64_t host_id, const char *message,
                           bool mismatch, int64_t now, char *why, size_t whylen);

/* ---- unit files (issue 21, hole 8) ------------------------------------------------------ */

/* A unit's file as the database describes it. */
typedef struct oz_unit_file {
    int64_t unit_rowid;
    char unit_id[OZ_WU_ID_MAX + 1];
    char dataset[OZ_WU_DATASET_MAX + 1];
    char file[OZ_WU_ID_MAX + 8]; /* under the project's units/ */
    unsigned char sha256[32];    /* the whole file's, recorded by its load */
    bool bad;                    /* marked bad */
} oz_unit_file;

/* The file of replica_id's unit, when the replica is IN_PROGRESS on
 * host_id; OZ_SCHED_ENOTFOUND otherwise (a report there is nothing to check
 * for: an unknown, another host's or a closed replica). */
int oz_store_replica_unit_file(oz_store *s, int64_t replica_id, int64_t host_id, oz_unit_file *out,
                               char *why, size_t whylen);

/* Marks a unit's file bad (reason: a sentence for the operator) or, with
 * reason NULL, good again, durably.  A bad file's unit is not sent: its
 * unsent replicas are deleted, no replica of it is sent again, and the
 * transitioner neither adds replicas nor ends it; cleared, the unit is
 * flagged for the transitioner, which makes its replicas again.  Marking a
 * unit bad again keeps its first reason and time. */
int oz_store_unit_file_mark(oz_store *s, int64_t unit_rowid, const char *reason, int64_t now,
                            char *why, size_t whylen);

/* Unit files in unit order after unit rowid `after` (0: from the first),
 * all or only those marked bad, at most max into out[0 .. *n). */
int oz_store_unit_files(oz_store *s, bool bad_only, int64_t after, oz_unit_file *out, size_t max,
                        size_t *n, char *why, size_t whylen);

/* The units marked bad, newest mark first: [{"unit_id", "dataset", "time",
 * "reason"}], at most limit of them (a new reference). */
int oz_store_unit_files_bad_json(oz_store *s, int limit, json_t **out);

/* ---- the jobs (jobs.c) ------------------------------------------------------------------- */

/* Transitioner: replicas IN_PROGRESS past their deadline become OVER /
 * NO_REPLY; then every unit flagged for transition is brought up to date:
 * ends in ERROR when errors reach max_error_results or replicas reach
 * max_total_results (reason kept; replicas withdrawn as DIDNT_NEED do not
 * count), otherwise gets new UNSENT replicas until target_nresults are
 * live (unsent, in progress, or succeeded and not invalid).  A unit whose
 * file is marked bad is left as it is.  At most `max` units per call;
 * *done counts them. */
int oz_store_transition(oz_store *s, int64_t now, size_t max, size_t *done, char *why,
                        size_t whylen);

/* One unit awaiting validation: its replicas with results. */
typedef struct oz_validate_replica {
    int64_t replica_id;
    int validate_state;
    char *json;         /* owned: the result file, NULL when bin holds it */
    unsigned char *bin; /* owned: its packed form (result_bin.h), or NULL */
    size_t binlen;
    int spot; /* its spot check (spot.h): 0 none (yet), 1 passed, 2 failed: invalid */
} oz_validate_replica;
typedef struct oz_validate_unit {
    int64_t unit_rowid;
    int min_quorum;          /* the dataset's, or 1 for a unit out alone (trust.h) */
    int single;              /* units.single: 0 undecided, 1 out alone, 2 replicated for good */
    int64_t target;          /* replicas the unit should have (transition.h) */
    int64_t target_nresults; /* its dataset's */
    bool adaptive;           /* its dataset's: fresh results are spot-checked (spot.h) */
    char *file;              /* owned: its unit file's name under units/ */
    char *canary_json;       /* owned: the truth of the unit's hidden canary (canary.h), or NULL */
    uint64_t flops;          /* the unit's deterministic FLOP count: its credit */
    double sample_rate;
    double center_hz;  /* the dataset's: a canary's absolute frequency */
    char *config_json; /* owned */
    int64_t canonical; /* replica id, or 0 */
    oz_validate_replica *replicas;
    size_t nreplicas;
} oz_validate_unit;
void oz_validate_unit_clear(oz_validate_unit *v);

/* The first units (at most max, up to OZ_STORE_BATCH_MAX) after unit id
 * `after` (0: from the start) flagged for validation with at least
 * min_quorum successful replicas (flags of units with fewer are cleared),
 * read in one snapshot, in order, into out[0 .. *n); OZ_SCHED_ENOTFOUND
 * when none.  After an error, *n units were read before it. */
#define OZ_STORE_BATCH_MAX 256
int oz_store_validate_batch(oz_store *s, int64_t after, oz_validate_unit *out, size_t max,
                            size_t *n, char *why, size_t whylen);

/* The validator's verdict on one unit: states[i] for v->replicas[i]
 * (VALID, INVALID, INCONCLUSIVE), the canonical replica id (0: no
 * consensus yet; the unit is flagged for the transitioner, which adds a
 * replica), and the credit each newly VALID replica's host, account and
 * team get (recent averages decayed to now).  With a canonical replica
 * the unit becomes VALIDATED, unsent replicas become OVER/DIDNT_NEED, and
 * the unit is queued for assimilation. */
typedef struct oz_verdict {
    const oz_validate_unit *v;
    const int *states;
    int64_t canonical;
    double credit;
    int canary_found, canary_missed; /* of the results judged now: found / missed the canary */
    double spot_cpu_s;               /* server CPU spent on its spot checks */
} oz_verdict;
/* Writes n verdicts in one transaction: the validator decides a batch of
 * units and then waits for one commit, not one per unit, so it keeps
 * up with uploads (one round trip per unit held it to ~900 units/s). */
int oz_store_validate_commit(oz_store *s, const oz_verdict *d, size_t n, int64_t now, char *why,
                             size_t whylen);

/* The next validated, unassimilated unit's canonical result. */
typedef struct oz_assimilate_unit {
    int64_t unit_rowid, dataset_id, replica_id;
    double unit_start_s; /* from the dataset's start */
    bool has_time;
    int64_t dataset_start_ns;
    char *json;         /* owned: the canonical result file, NULL when bin holds it */
    unsigned char *bin; /* owned: its packed form (result_bin.h), or NULL */
    size_t binlen;
    /* A unit with a canary (canary.h): its truth (owned), and what finding
     * it on a signal needs; canary_json NULL for any other unit. */
    char *canary_json, *config_json; /* owned */
    double sample_rate, center_hz;
    char *sky;         /* owned: the dataset's site and pointing (sky.h), or NULL */
    char *unit_sky;    /* owned: the unit's own pointing (a .sah's track), or NULL */
    uint64_t nsamples; /* the unit's */
} oz_assimilate_unit;
void oz_assimilate_unit_clear(oz_assimilate_unit *a);
/* The first such units (at most max) after unit id `after` (0: from the
 * start), in order, into out[0 .. *n); OZ_SCHED_ENOTFOUND when none.
 * After an error, *n units were read before it. */
int oz_store_assimilate_batch(oz_store *s, int64_t after, oz_assimilate_unit *out, size_t max,
                              size_t *n, char *why, size_t whylen);

typedef struct oz_signal_row {
    const char *type;
    double freq_hz, chirp_hz_s, time_s, score, power, period_s;
    uint32_t fft_len;
    bool has_time;
    int64_t time_ns; /* UTC, when has_time */
    bool has_pos;    /* where in the sky (sky.h), when the pointing is known */
    double ra_deg, dec_deg;
    int64_t pixel;
    bool has_bary; /* barycentric frequency, when the site and UTC are known too */
    double freq_bary_hz;
} oz_signal_row;
/* One unit's signals to insert. */
typedef struct oz_assimilation {
    const oz_assimilate_unit *a;
    const oz_signal_row *rows;
    size_t n;
} oz_assimilation;
/* Inserts n units' signals and marks them assimilated, in one transaction
 * (a crash before it commits repeats those units, never half of one).  A
 * unit found assimilated already (by another scheduler of the same
 * database since it was read) is left as it is; *done (may be NULL): the
 * units assimilated here. */
int oz_store_assimilate_commit(oz_store *s, const oz_assimilation *items, size_t n,
                               const struct oz_cand_config *cand, size_t *done, char *why,
                               size_t whylen);

/* ---- candidates (the rules are candidates.h's) ----------------------------------------------- */

/* Inserts a unit's n signals (in the open write transaction, the unit's
 * old ones deleted), grouped into candidates, and brings every candidate
 * they touch, or whose RFI evidence they change, up to date.  gap_s: how
 * far apart in time track links reach (link_gap_units unit lengths). */
int oz_store_candidates_add(oz_store *s, const struct oz_cand_config *c,
                            const oz_assimilate_unit *a, const oz_signal_row *rows, size_t n,
                            double gap_s, char *why, size_t whylen);

typedef struct oz_cand_query {
    int rfi;             /* -1 all, 0 unflagged only, 1 flagged only */
    const char *dataset; /* NULL: all; else those with a detection in it */
    int64_t pixel;       /* -1: all */
    int limit;
    const char *after;
} oz_cand_query;
/* {"candidates": [C...], "next"}: unflagged first, then by score (API.md);
 * the cursor is an offset. */
int oz_store_candidates_json(oz_store *s, const oz_cand_query *q, json_t **out);
/* C plus "detections_list" (strongest first, at most 500) and
 * "observations_list" ([{"dataset", "detections"}]); OZ_SCHED_ENOTFOUND. */
int oz_store_candidate_json(oz_store *s, int64_t id, json_t **out);

/* ---- reading, for the web API and the status/signals subcommands ------------------------- */

/* The JSON objects of API.md, new references; NULL `*out` never on 0.
 * limit is clamped to 1..500; after is the cursor from a previous "next"
 * (NULL: first page).  OZ_SCHED_ENOTFOUND for an unknown id. */
int oz_store_status_json(oz_store *s, int64_t now, int trust_after, json_t **out);
int oz_store_users_json(oz_store *s, bool by_recent, int limit, const char *after, int64_t now,
                        json_t **out);
int oz_store_user_json(oz_store *s, int64_t id, int64_t now, json_t **out);
int oz_store_host_json(oz_store *s, int64_t id, int64_t now, json_t **out);
int oz_store_teams_json(oz_store *s, int limit, const char *after, int64_t now, json_t **out);
int oz_store_team_json(oz_store *s, int64_t id, int64_t now, json_t **out);
typedef struct oz_signal_query {
    const char *dataset; /* NULL: all */
    const char *type;    /* NULL: all */
    double min_score;
    int limit;
    const char *after;
} oz_signal_query;
int oz_store_signals_json(oz_store *s, const oz_signal_query *q, json_t **out);

/* ---- reading, for the web pages and /metrics ---------------------------------------------- */

/* Ready datasets with their units by progress: {"datasets": [{"id", "name",
 * "recording", "sample_rate", "center_hz", "created", "units", "validated",
 * "validating" (a result is in, no canonical yet), "in_progress", "unsent",
 * "error", "signals"}], "next"}; a cursor is the last dataset id. */
int oz_store_datasets_json(oz_store *s, int limit, const char *after, json_t **out);
/* Results returned (outcome SUCCESS) per bucket of bucket_s seconds, the
 * n buckets up to now, oldest first, empty ones included: {"bucket_s",
 * "buckets": [{"t" (bucket start, Unix seconds), "results"}]}. */
int oz_store_throughput_json(oz_store *s, int64_t now, int bucket_s, int n, json_t **out);
/* The hosts leaderboard: {"hosts": [{"id", "name", "user_id", "user_name",
 * "os", "ncpus", "total_credit", "recent_credit", "last_rpc"}], "next"}. */
int oz_store_hosts_json(oz_store *s, bool by_recent, int limit, const char *after, int64_t now,
                        json_t **out);
/* The teams leaderboard ordered by recent credit (oz_store_teams_json
 * orders by total). */
int oz_store_teams_rac_json(oz_store *s, int limit, const char *after, int64_t now, json_t **out);

typedef enum oz_credit_owner {
    OZ_CREDIT_HOST,
    OZ_CREDIT_USER,
    OZ_CREDIT_TEAM,
} oz_credit_owner;
/* One row of the statistics exports (stats.c); the strings
 * are good only during the callback. */
typedef struct oz_stats_row {
    int64_t id;
    const char *name;
    double total_credit;
    double expavg_credit;                   /* recent average credit, decayed to now */
    int64_t created;                        /* Unix seconds */
    int64_t team_id;                        /* users: their team (0: none) */
    int64_t user_id;                        /* teams: the founder (0: none); hosts: the owner */
    const char *founder_name, *description; /* teams (founder_name may be NULL) */
    const char *os;                         /* hosts */
    int ncpus;                              /* hosts */
    double flops;                           /* hosts: FLOP/s per core */
} oz_stats_row;
typedef int (*oz_stats_row_fn)(void *arg, const oz_stats_row *r);
/* Calls fn for every user, team or host (kind) with credit, in id order,
 * within one read transaction; stops at fn's first non-zero return and
 * returns it. */
int oz_store_stats_each(oz_store *s, oz_credit_owner kind, int64_t now, oz_stats_row_fn fn,
                        void *arg, char *why, size_t whylen);

/* Credit granted per UTC day to one owner, the `days` days up to now,
 * oldest first, days without credit as 0: {"kind", "id", "days": [{"day"
 * (Unix days), "date" (YYYY-MM-DD), "credit"}]}.  OZ_SCHED_ENOTFOUND for an
 * unknown owner. */
int oz_store_credit_history_json(oz_store *s, oz_credit_owner kind, int64_t id, int64_t now,
                                 int days, json_t **out);
/* The newest replicas sent to a host (of_host) or an account, newest
 * first: {"results": [{"replica_id", "unit_id", "dataset", "host_id",
 * "user_id", "state", "outcome", "validate_state", "sent", "received",
 * "deadline", "credit"}], "next"} with the states as names (store.h's enums
 * in lower case: "in_progress", "success", "valid", ...); a cursor is the
 * last replica id.  OZ_SCHED_ENOTFOUND for an unknown host or account. */
int oz_store_results_json(oz_store *s, bool of_host, int64_t id, int limit, const char *after,
                          json_t **out);
/* The newest canonical signals, newest first: {"signals": [S...]} with S
 * as oz_store_signals_json's. */
int oz_store_signals_latest_json(oz_store *s, int limit, double min_score, json_t **out);
/* One unit by name (store_unit.c): {"unit_id", "dataset", "state"
 * ("pending", "validated", "error"), "error", "canonical_replica_id",
 * "start_s", "nsamples", "target", "finished", "replicas": [R... with
 * "host_name"], "signals": [S...] (its canonical signals, strongest first,
 * at most 500)}; OZ_SCHED_ENOTFOUND. */
int oz_store_unit_json(oz_store *s, const char *name, json_t **out);

/* What /metrics and the status page show of the database. */
typedef struct oz_store_gauges {
    int64_t units[3];                                        /* by enum oz_unit_state */
    int64_t units_file_bad;                                  /* units whose file is marked bad */
    int64_t replicas[3];                                     /* by enum oz_replica_state */
    int64_t need_transition, need_validate, need_assimilate; /* the jobs' backlogs */
    int64_t hosts, hosts_active; /* active: an RPC in the last 24 hours */
    int64_t accounts, teams, signals, datasets;
    double credit_total; /* granted to accounts, all time */
    /* the database's main file and its log of recent commits (0 when absent
     * or not on this host) */
    int64_t db_bytes, log_bytes;
    /* Adaptive replication (trust.h, canary.h, spot.h) */
    int64_t results_validated;               /* successful results of validated units */
    int64_t hosts_trusted;                   /* with trust_after or more valid results in a row */
    int64_t canaries_found, canaries_missed; /* results that reported / missed their canary */
    int64_t spot_passed, spot_failed;        /* spot checks */
    double spot_cpu_s;                       /* the server's CPU time on them */
    /* This process's write transactions that lost a conflict with another
     * scheduler's and ran again (PostgreSQL; 0 for an embedded database), since it opened
     * the database: not read from the database, but beside what is. */
    int64_t write_conflicts;
} oz_store_gauges;
/* The gauges; trust_after is the project's adaptive_trust_after. */
int oz_store_gauges_read(oz_store *s, int64_t now, int trust_after, oz_store_gauges *out, char *why,
                         size_t whylen);
/* The database's side of the status page: {"database": {"path", "bytes"
 * and the log's bytes, as API.md names them}, "queues": {"transition", "validate", "assimilate",
 * "unsent", "in_progress"}, "replica_errors": [{"replica_id", "unit_id",
 * "host_id", "time", "message"}], "unit_errors": [{"unit_id", "dataset",
 * "time", "reason"}], "unit_files_bad": [as oz_store_unit_files_bad_json]}
 * (the newest `limit` of each). */
int oz_store_server_json(oz_store *s, int64_t now, int limit, int trust_after, json_t **out);

#endif

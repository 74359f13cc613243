/*
 * runner.h - the state of `ozma-worker run` (run.c), shared by the files
 * that make up the service loop:
 *
 *   run.c       the loop: housekeeping, compute threads, the order of calls
 *   jobs.c      the task table: the tasks held, sorted by deadline
 *   fetch.c     the work-fetch policy applied to the table
 *   status.c    status.json, written every status_interval_s
 *   transfer.c  the scheduler calls: downloads, uploads, error reports, work
 *
 * Internal to worker/: everything here belongs to the one loop thread
 * (compute threads see only their oz_wk_compute), so nothing here locks.
 */
#ifndef OZMA_WORKER_RUNNER_H
#define OZMA_WORKER_RUNNER_H

#include "worker.h"

/* A task as the loop holds it: the assignment (task.c), where it lives and
 * what its compute thread last said. */
typedef struct oz_wk_job {
    oz_wk_task t;
    char dir[OZ_WK_PATH_MAX];
    oz_wk_compute *c; /* non-NULL while a compute thread runs this task */
    pthread_t thread;
    size_t done, steps; /* last known progress */
    double elapsed_s;
    bool held;         /* its thread is holding (suspended) */
    bool busy;         /* the loop is transferring it now */
    bool solo;         /* its result cannot ride in a work request: it goes by PUT */
    double started_at; /* monotonic time its thread started (newest quits first) */
} oz_wk_job;

/* The task table (jobs.c): every task held, sorted by deadline, earliest
 * first.  A pointer into v is good until the next add or remove. */
typedef struct oz_wk_jobs {
    oz_wk_job *v;
    size_t n, cap;
} oz_wk_jobs;

typedef struct oz_wk_runner {
    const oz_wk_run_opts *o;
    char conf_path[OZ_WK_PATH_MAX];
    char status_path[OZ_WK_PATH_MAX];
    oz_wk_prefs prefs;
    oz_wk_account acct;
    oz_wk_host_info host;
    unsigned ncpus; /* compute threads allowed */
    oz_wk_http *http;
    oz_wk_jobs jobs;
    atomic_int suspend;   /* oz_wk_suspend, read by compute threads */
    oz_wk_planner planner; /* FFTW planner lock and wisdom file, for compute threads */
    bool planner_ready;    /* planner.lock initialised */
    oz_wk_fetch fetch;    /* when calls may be made (fetch.c) */
    oz_wk_control ctl;    /* the volunteer's orders (control.c), as last read */
    oz_wk_control_stamp ctl_stamp;
    int64_t update_done;  /* the ctl.update_seq the last work request answered */
    bool ctl_bad_logged;
    char last_error[512]; /* the last failure, for status */
    double last_status, last_probe;
    bool idle_unreadable_logged, no_work_logged, disk_full_logged, priority_logged;
    bool no_carry; /* the scheduler refused results in work requests: PUT them */
    bool no_held;  /* the scheduler refused "held" in work requests: leave it out */
    bool in_housekeeping;
} oz_wk_runner;

/* ---- the task table (jobs.c) ------------------------------------------------------- */

/* Adds a copy of t in deadline order, its directory under DIR/tasks (empty
 * when the path does not fit); NULL when out of memory. */
oz_wk_job *oz_wk_jobs_add(oz_wk_jobs *tab, const char *dir, const oz_wk_task *t);

/* Removes entry i and its task directory. */
void oz_wk_jobs_remove(oz_wk_jobs *tab, size_t i);

/* The entry for a replica, or NULL. */
oz_wk_job *oz_wk_jobs_find(oz_wk_jobs *tab, int64_t replica_id);

/* The replica ids of every task held, whatever its state, as a JSON array
 * (a work request's "held": the scheduler sends again those it has in
 * progress for this host and finds missing); NULL when out of memory. */
json_t *oz_wk_jobs_held_json(const oz_wk_jobs *tab);

/* Frees the table (not the tasks on disk). */
void oz_wk_jobs_free(oz_wk_jobs *tab);

/* Rewrites the task's task.json, logging a failure. */
void oz_wk_job_save(oz_wk_job *j);

/* Moves the task to OZ_TASK_ERROR with the formatted message, logs and
 * saves it. */
void oz_wk_job_fail(oz_wk_job *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Brings a task found on disk to a consistent state: a crash may have come
 * between a file's rename and task.json's update. */
void oz_wk_job_recover(oz_wk_job *j);

/* The fraction computed, 0..1. */
double oz_wk_job_fraction(const oz_wk_job *j);

/* Seconds of computing left: from the task's own pace once it has some,
 * else from its FLOP count and the benchmark's flops (FLOP/s per core). */
double oz_wk_job_remaining(const oz_wk_job *j, double flops);

/* ---- the work-fetch policy (fetch.c) ----------------------------------------------- */

/* oz_wk_fetch_want on the table, then the disk limit: should the worker ask
 * for work now, and for how many seconds? */
bool oz_wk_work_want(oz_wk_runner *r, double *want_s);

/* ---- status.json (status.c) ------------------------------------------------------- */

/* Rewrites status.json (durably) from the loop's state; running false once
 * the loop is stopping.  A failure is logged: status is never worth
 * stopping for. */
void oz_wk_status_write(oz_wk_runner *r, bool running);

/* ---- the scheduler calls (transfer.c) ---------------------------------------------- */

/* Each makes one call for task i of the table, and on success moves the
 * task on (or removes it); a failure sets the shared retry time. */
void oz_wk_unit_download(oz_wk_runner *r, size_t i);
void oz_wk_result_upload(oz_wk_runner *r, size_t i);
void oz_wk_error_report(oz_wk_runner *r, size_t i);

/* Asks for want seconds of work (0: none, only returning results),
 * carrying the finished results that fit when carry is true.  False when
 * it made no call: carry was asked and no result could go (each is then
 * marked to go by itself). */
bool oz_wk_work_request(oz_wk_runner *r, double want, bool carry);

#endif /* OZMA_WORKER_RUNNER_H */

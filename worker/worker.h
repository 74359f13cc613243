/*
 * worker.h - the volunteer worker's library (DESIGN.md §5): what
 * ozma_worker.c drives and the tests call.  Internal to worker/; nothing
 * outside worker/ and tests/ includes it.
 *
 * The pieces, one file each:
 *   errors.c    the oz_wk_err codes and their sentences
 *   log.c       the one-line log on stderr
 *   clock.c     monotonic and wall-clock seconds, the interruptible nap
 *   prefs.c     worker.conf (libinih): the volunteer's preferences
 *   backoff.c   the jittered exponential retry schedule
 *   fetch.c     the work-fetch policy: how much work to ask for, and when
 *   state.c     the state directory: where it is, account.json, the lock
 *   task.c      one assignment on disk: tasks/REPLICA/task.json
 *   http.c      libcurl: JSON calls to the scheduler and resumable downloads
 *   host.c      what the host is (OS, cores, memory), idle and battery probes
 *   priority.c  lowering a compute thread to nice 19 and SCHED_IDLE
 *   compute.c   searching one task with checkpoints (one thread per task)
 *   bench.c     the FLOPS benchmark
 *   run.c       the service loop: housekeeping, threads, the order of calls
 *   jobs.c      the loop's task table (runner.h, internal to the loop)
 *   transfer.c  the loop's scheduler calls: downloads, uploads, error reports
 *   status.c    status.json: written by `run`, read by `ozma-worker status`
 *   control.c   control.json: suspend, resume, update, (no|allow)morework
 *
 * State directory layout (every file written durably: temporary file, fsync,
 * rename):
 *   DIR/worker.conf               preferences (optional; defaults otherwise)
 *   DIR/account.json              url, account and host ids and keys (0600)
 *   DIR/lock                      fcntl-locked by the running worker, holds its pid
 *   DIR/status.json               written by the running worker every few seconds
 *   DIR/control.json              the volunteer's orders: suspended, no more work, update
 *   DIR/tasks/REPLICA/task.json   the assignment and its state
 *   DIR/tasks/REPLICA/unit.ozwu   the verified unit (unit.ozwu.part while downloading)
 *   DIR/tasks/REPLICA/checkpoint.json  the search state at the last checkpoint
 *   DIR/tasks/REPLICA/result.json the finished result file, until uploaded
 *   DIR/uploaded/REPLICA.json     uploaded results, when keep_results is on
 *
 * Errors are negative oz_wk_err codes; functions that can fail for a reason a
 * person must read fill a caller-supplied `why` buffer (may be NULL).
 */
#ifndef OZMA_WORKER_H
#define OZMA_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "ozma_workunits.h"

/* ---- errors (errors.c) ---------------------------------------------------------- */

typedef enum oz_wk_err {
    OZ_WK_OK = 0,
    OZ_WK_ENOMEM = -1,   /* out of memory */
    OZ_WK_EINVAL = -2,   /* bad argument, option or preference */
    OZ_WK_EIO = -3,      /* a system call failed (open, read, write, fsync, rename) */
    OZ_WK_EFORMAT = -4,  /* malformed state file or server reply */
    OZ_WK_ENET = -5,     /* no answer from the scheduler (refused, timeout, reset) */
    OZ_WK_EHTTP = -6,    /* the scheduler answered with an error status */
    OZ_WK_EHASH = -7,    /* a download does not match its SHA-256 */
    OZ_WK_ESTATE = -8,   /* not attached, already attached, or the directory is in use */
    OZ_WK_ESTOPPED = -9, /* interrupted by a stop request (SIGTERM) */
    OZ_WK_ESCIENCE = -10 /* the unit could not be searched */
} oz_wk_err;

const char *oz_wk_strerror(int err);

/* Fills why and returns err: oz_sci_fail (ozma_science.h), the one shape
 * every part fails with, under the worker's name. */
#define oz_wk_fail oz_sci_fail

/* ---- the log line (log.c) and the clocks (clock.c) ------------------------------ */

/* One log line on stderr: "2026-11-25T17:00:00Z ozma-worker: message". */
void oz_wk_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Monotonic and wall-clock seconds. */
double oz_wk_mono(void);
double oz_wk_wall(void);

/* Sleeps up to `seconds`, waking early (every 50 ms check) once *stop or
 * *quit (either may be NULL) is non-zero. */
void oz_wk_nap(double seconds, const atomic_int *stop, const atomic_int *quit);

/* ---- preferences (prefs.c) ----------------------------------------------------- */

#define OZ_WK_PATH_MAX 512u
/* The system service's user and directory (deploy/ozma-worker.service, the
 * package): root and that user default to the directory. */
#define OZ_WK_SERVICE_USER "ozma-worker"
#define OZ_WK_SERVICE_DIR "/var/lib/ozma-worker"

typedef struct oz_wk_prefs {
    unsigned max_cpus;               /* cores to use; 0 means "use max_cpus_pct" */
    double max_cpus_pct;             /* percent of online cores, when max_cpus is 0 (100) */
    double cpu_throttle;             /* percent of each used core's time computing, 1..100 (100) */
    double idle_minutes;             /* run only after this long without input (0: always) */
    char idle_watch[OZ_WK_PATH_MAX]; /* files/dirs whose newest atime/mtime is the last input */
    bool suspend_on_battery;         /* (true) */
    char power_supply_dir[OZ_WK_PATH_MAX]; /* /sys/class/power_supply */
    double disk_limit_mb;                  /* no new work while tasks/ holds this much (2048) */
    double work_buffer_s;                  /* seconds of queued work to keep (3600) */
    double checkpoint_interval_s;          /* (60) */
    double backoff_min_s;                  /* first retry delay (60) */
    double backoff_max_s;                  /* retry delay cap (14400) */
    double status_interval_s;              /* status.json refresh (2) */
    double net_timeout_s;                  /* one scheduler call or download stall (60) */
    bool keep_results;                     /* keep uploaded result files in uploaded/ (false) */
} oz_wk_prefs;

void oz_wk_prefs_default(oz_wk_prefs *p);

/* Overlays INI text onto *p (keys at top level or in [worker]); an unknown
 * key or bad value is OZ_WK_EINVAL naming the line and key, and leaves *p
 * untouched.  `name` labels messages. */
int oz_wk_prefs_parse(const char *text, const char *name, oz_wk_prefs *p, char *why, size_t whylen);

/* Defaults overlaid with the file at path; a missing file gives the defaults. */
int oz_wk_prefs_load(const char *path, oz_wk_prefs *p, char *why, size_t whylen);

/* How many compute threads the preferences allow on a host with `online`
 * cores: at least 1, at most online. */
unsigned oz_wk_prefs_ncpus(const oz_wk_prefs *p, unsigned online);

/* The defaults as a commented worker.conf (static text). */
const char *oz_wk_prefs_template(void);

/* ---- backoff (backoff.c) ------------------------------------------------------- */

/* Delay before retry number `failures` (1 for the first): min·2^(failures-1)
 * stretched by a jitter factor 1 + u/2 (u in [0, 1)), then clamped to
 * [min, max].  Without the clamp, every delay is at least 4/3 of the one
 * before, so the schedule grows however the jitter falls. */
double oz_wk_backoff_delay(double min_s, double max_s, unsigned failures, double u);

/* A uniform number in [0, 1) from libsodium's generator. */
double oz_wk_backoff_random(void);

/* ---- the work-fetch policy (fetch.c) ---------------------------------------------- */

#define OZ_WK_TASKS_MAX 256u     /* tasks held at once; the server caps far lower */
#define OZ_WK_CARRY_WAIT_S 60.0 /* a finished result waits at most this for a work request */

/* When the scheduler may be called: the retry time every call waits for
 * after failures, and the next_rpc_delay work requests wait for.  Monotonic
 * times schedule; the wall-clock copies are only shown (status.json). */
typedef struct oz_wk_fetch {
    double retry_at;   /* monotonic: no scheduler call before this (0: none) */
    double retry_wall; /* the same, wall-clock */
    unsigned failures; /* consecutive failed calls */
    double work_at;    /* monotonic: no work request before this */
    double work_wall;  /* the same, wall-clock */
} oz_wk_fetch;

/* The tasks held, as the buffer rule sees them. */
typedef struct oz_wk_fetch_queue {
    size_t held;          /* tasks held, in any state */
    unsigned unfinished;  /* of them, still to download or compute */
    double queued_s;      /* their estimated computing, spread over the allowed CPUs */
    unsigned ncpus;       /* compute threads allowed */
    double work_buffer_s; /* seconds of queued work to keep (preferences) */
} oz_wk_fetch_queue;

/* Should the worker ask for work, and for how many seconds (*want_s, at
 * least 1 when it should)?  Yes when a CPU would otherwise go idle, or the
 * shortfall is at least a tenth of the buffer; never at OZ_WK_TASKS_MAX. */
bool oz_wk_fetch_want(const oz_wk_fetch_queue *q, double *want_s);

/* A call failed: counts it and sets the retry time `mono`/`wall` plus the
 * backoff delay for this many failures (jitter u in [0, 1)), or
 * retry_after when longer.  Returns the delay. */
double oz_wk_fetch_failed(oz_wk_fetch *f, const oz_wk_prefs *p, double retry_after, double u,
                          double mono, double wall);

/* A call worked: clears the retry time.  Returns the failures it ends. */
unsigned oz_wk_fetch_worked(oz_wk_fetch *f);

/* A work reply came: the next work request waits next_rpc_delay (clamped
 * to 0..one day; NaN is 0) from mono/wall.  Returns the delay. */
double oz_wk_fetch_replied(oz_wk_fetch *f, double next_rpc_delay, double mono, double wall);

/* May any call be made at monotonic time now (the backoff is over)? */
bool oz_wk_fetch_may_call(const oz_wk_fetch *f, double now);

/* Is a work request due at now (next_rpc_delay has passed)? */
bool oz_wk_fetch_work_due(const oz_wk_fetch *f, double now);

/* Does a finished result wait for the work request (due, or due within
 * OZ_WK_CARRY_WAIT_S) rather than go up by itself now? */
bool oz_wk_fetch_result_waits(const oz_wk_fetch *f, double now);

/* ---- state directory (state.c) ------------------------------------------------- */

/* The default state directory: $STATE_DIRECTORY (systemd), /var/lib/ozma-worker
 * for root, else $XDG_DATA_HOME/ozma-worker or ~/.local/share/ozma-worker. */
int oz_wk_dir_default(char *buf, size_t len, char *why, size_t whylen);

/* Creates dir (mode 0700, parents too) and dir/tasks. */
int oz_wk_dir_prepare(const char *dir, char *why, size_t whylen);

/* snprintf into buf, OZ_WK_EINVAL when it does not fit. */
int oz_wk_path(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

typedef struct oz_wk_account {
    char url[OZ_WK_PATH_MAX]; /* scheduler base URL, no trailing '/' */
    int64_t account_id;       /* 0 when unknown (attached with --key) */
    char authenticator[65];
    int64_t host_id;
    char host_key[65];
    char host_name[65];
    double flops; /* benchmark, FLOP/s per core */
} oz_wk_account;

/* account.json: load (OZ_WK_ESTATE "not attached" when missing) and save
 * (durably, mode 0600). */
int oz_wk_account_load(const char *dir, oz_wk_account *a, char *why, size_t whylen);
int oz_wk_account_save(const char *dir, const oz_wk_account *a, char *why, size_t whylen);

/* Writes buf as path durably with the given mode (workunits' durable file:
 * temporary file beside it, fsync, rename, fsync of the directory); the
 * worker's error code. */
int oz_wk_file_write(const char *path, const void *buf, size_t len, unsigned mode, char *why,
                        size_t whylen);

/* Takes DIR/lock (an fcntl record lock, non-blocking) and writes our pid in it; *fd keeps
 * it.  OZ_WK_ESTATE naming the holder's pid when another worker has it. */
int oz_wk_lock(const char *dir, int *fd, char *why, size_t whylen);
/* The pid holding DIR/lock, or 0 when nobody does. */
long oz_wk_lock_holder(const char *dir);

/* Removes a directory tree (task directories); missing is fine. */
int oz_wk_remove_tree(const char *path);

/* Reads a whole small file (at most max bytes) into a NUL-terminated malloc'd
 * buffer. */
int oz_wk_read_file(const char *path, size_t max, char **out, size_t *len, char *why,
                    size_t whylen);

/* ---- tasks (task.c) ------------------------------------------------------------ */

typedef enum oz_wk_task_state {
    OZ_TASK_DOWNLOADING = 0, /* unit.ozwu not yet here and verified */
    OZ_TASK_READY,           /* verified unit; searching (maybe from a checkpoint) */
    OZ_TASK_DONE,            /* result.json written, to upload */
    OZ_TASK_ERROR,           /* could not be computed; `error` to report */
} oz_wk_task_state;

const char *oz_wk_task_state_name(oz_wk_task_state s);

typedef struct oz_wk_task {
    int64_t replica_id;
    char unit_id[OZ_WU_ID_MAX + 1];
    char url[OZ_WK_PATH_MAX]; /* path on the scheduler, starting with '/' */
    uint64_t bytes;           /* unit file size */
    char sha256[65];          /* unit file hash */
    int64_t deadline;         /* Unix seconds */
    uint64_t flops;           /* the unit's FLOP count, for estimates */
    int64_t received;         /* when it was assigned (Unix seconds) */
    oz_wk_task_state state;
    unsigned bad_downloads; /* downloads that failed verification */
    char error[1001];       /* OZ_TASK_ERROR: the message for the scheduler */
} oz_wk_task;

/* Fills *t from one assignment object of a work reply, checking every
 * field (ids, sizes, hash, a path-only URL). */
int oz_wk_task_from_json(const json_t *a, oz_wk_task *t, char *why, size_t whylen);

/* DIR/tasks/REPLICA into buf. */
int oz_wk_task_dir(const char *dir, int64_t replica_id, char *buf, size_t len);

/* task.json in taskdir: save (durably) and load (strictly). */
int oz_wk_task_save(const char *taskdir, const oz_wk_task *t, char *why, size_t whylen);
int oz_wk_task_load(const char *taskdir, oz_wk_task *t, char *why, size_t whylen);

/* Every task under DIR/tasks, sorted by deadline; *out is malloc'd.
 * Unreadable task directories are logged and skipped. */
int oz_wk_tasks_scan(const char *dir, oz_wk_task **out, size_t *n, char *why, size_t whylen);

/* ---- the scheduler over HTTP (http.c) --------------------------------------------- */

typedef struct oz_wk_http oz_wk_http;

/* Called about every 100 ms during a transfer; non-zero aborts it
 * (OZ_WK_ESTOPPED). */
typedef int (*oz_wk_tick_fn)(void *arg);

/* One libcurl handle for one thread, talking to base_url.  Every call gives
 * up after timeout_s without progress. */
int oz_wk_http_new(const char *base_url, double timeout_s, oz_wk_http **out, char *why,
                   size_t whylen);
void oz_wk_http_free(oz_wk_http *h);
void oz_wk_http_set_tick(oz_wk_http *h, oz_wk_tick_fn tick, void *arg);
void oz_wk_http_set_timeout(oz_wk_http *h, double timeout_s);

/*
 * A JSON call: METHOD base_url+path with body (may be NULL) and
 * "Authorization: Bearer token" (token may be NULL).  Returns OZ_WK_OK when
 * any HTTP reply came back: *status holds its code and *reply (caller
 * decrefs) the parsed body, or NULL when it was not JSON.  OZ_WK_ENET when no
 * reply came.  For an error status, why holds the server's error message.
 * *retry_after (may be NULL) gets a Retry-After header's seconds, or 0.
 */
int oz_wk_http_call(oz_wk_http *h, const char *method, const char *path, const char *token,
                    const json_t *body, long *status, json_t **reply, double *retry_after,
                    char *why, size_t whylen);

/* Downloads base_url+path into part_file, resuming from its current size
 * with a Range request (a server that ignores the range restarts it).
 * OZ_WK_OK once the file holds `bytes` bytes; OZ_WK_EHTTP for an error status
 * (*status says which), OZ_WK_ENET when the transfer broke (the part is kept),
 * OZ_WK_EFORMAT when the server sends more than `bytes`.  part_file must be
 * a regular file or a new name: a symbolic link, device or FIFO there is
 * OZ_WK_EIO before anything is sent or written. */
int oz_wk_http_download(oz_wk_http *h, const char *path, const char *part_file, uint64_t bytes,
                        long *status, char *why, size_t whylen);

/* SHA-256 of a file as 64 hex digits. */
int oz_wk_file_sha256(const char *path, char hex[65], char *why, size_t whylen);

/* ---- the host (host.c) ------------------------------------------------------------- */

typedef struct oz_wk_host_info {
    char name[65];  /* hostname, cleaned to printable characters */
    char os[65];    /* "Linux 6.1.0 x86_64" */
    unsigned ncpus; /* online cores */
    uint64_t memory_mb;
} oz_wk_host_info;

int oz_wk_host_probe(oz_wk_host_info *h);

/* Whether the volunteer ruled out the kernel's AVX2 code: OZ_NO_AVX2 set in
 * the environment.  Searches and the benchmark pass it on as the
 * configuration's no_avx2 (results are the same either way). */
bool oz_wk_host_no_avx2(void);

/* Seconds since the newest access or modification time among the
 * whitespace-separated paths in `watch` (a directory stands for its
 * entries).  OZ_WK_EIO when none of them can be read. */
int oz_wk_idle_seconds(const char *watch, double *idle_s);

/* Is the host on battery?  True when power_supply_dir has a supply of type
 * Battery and no supply of another type (Mains, USB, ...) reports online=1.
 * No battery at all means mains power. */
bool oz_wk_on_battery(const char *power_supply_dir);

/* Bytes in the files under path (not following links). */
uint64_t oz_wk_disk_usage(const char *path);

/* ---- priority (priority.c) --------------------------------------------------------- */

/* Lowers the calling thread to nice 19 and SCHED_IDLE (Linux: both are
 * per-thread).  0, or the first failure as OZ_WK_EIO with why. */
int oz_wk_priority_lower(char *why, size_t whylen);

/* Names the calling thread (shown in /proc/PID/task/TID/comm). */
void oz_wk_thread_name(const char *name);

/* ---- computing one task (compute.c) ----------------------------------------------- */

/* Why compute threads are held (0: they run). */
typedef enum oz_wk_suspend {
    OZ_SUSPEND_NONE = 0,
    OZ_SUSPEND_USER_ACTIVE,
    OZ_SUSPEND_BATTERY,
    OZ_SUSPEND_REQUESTED, /* `ozma-worker suspend` */
} oz_wk_suspend;

const char *oz_wk_suspend_name(int why);

/* FFTW's planner as the compute threads share it.  Making a search plans its
 * FFTs, and the plans' wisdom is kept in DIR/fftw.wisdom so that a unit after
 * the first plans at once (a .sah unit's measured plans cost about 10 s of
 * CPU each time otherwise).  FFTW's wisdom calls take no lock of their own, so
 * making a search, saving the wisdom and freeing a search all happen under
 * `lock`.  The runner owns it; wisdom_path empty: keep no wisdom. */
typedef struct oz_wk_planner {
    pthread_mutex_t lock;
    char wisdom_path[OZ_WK_PATH_MAX];
} oz_wk_planner;

/* What the loop and one compute thread share.  The loop owns it; the thread
 * writes the progress fields under `lock` and reads the atomics. */
typedef struct oz_wk_compute {
    /* set before the run, read-only during it */
    char taskdir[OZ_WK_PATH_MAX];
    int64_t replica_id;
    const atomic_int *stop;    /* process-wide: checkpoint and return */
    const atomic_int *suspend; /* runner-wide oz_wk_suspend: hold while non-zero */
    atomic_int quit;           /* this task only: checkpoint and return */
    atomic_int throttle_pct;   /* 1..100, may change during the run */
    atomic_int checkpoint_ms;  /* may change during the run */
    unsigned stop_after_steps; /* tests: return ESTOPPED after this many steps here (0: off) */
    oz_wk_planner *planner;    /* shared by every compute thread; NULL: plan unlocked, no wisdom */
    /* progress, guarded by lock */
    pthread_mutex_t lock;
    size_t done, steps; /* kernel steps */
    size_t resumed_at;  /* steps done when this run started (from a checkpoint) */
    double cpu_s;       /* kernel CPU seconds, all runs */
    double elapsed_s;   /* wall seconds computing, all runs */
    bool held;          /* waiting on `suspend` */
    /* outcome, written by the thread before it ends */
    atomic_int finished; /* 1 once the thread is about to return */
    int rc;              /* OZ_WK_OK (result.json written), ESTOPPED, or an error */
    char why[512];
} oz_wk_compute;

/* Initialises c for the task in taskdir (mutex, atomics, zeros). */
int oz_wk_compute_init(oz_wk_compute *c, const char *taskdir, int64_t replica_id,
                       const atomic_int *stop, const atomic_int *suspend);
void oz_wk_compute_destroy(oz_wk_compute *c);

/*
 * Searches taskdir/unit.ozwu, resuming from taskdir/checkpoint.json when it
 * belongs to this unit, checkpointing every checkpoint_ms, when held and when
 * stopped.  Writes taskdir/result.json and returns OZ_WK_OK when finished;
 * OZ_WK_ESTOPPED after a final checkpoint when stop or quit was set; an error
 * (the unit cannot be loaded or searched) otherwise.  Also sets c->rc/why.
 */
int oz_wk_compute_run(oz_wk_compute *c);

/* Steps done and total as recorded in taskdir/checkpoint.json (0/0 when there
 * is none), for status when no worker runs. */
int oz_wk_checkpoint_progress(const char *taskdir, size_t *done, size_t *steps, double *elapsed_s);

/* ---- benchmark (bench.c) ----------------------------------------------------------- */

/* FLOP/s of one core: searches synthetic noise for at least min_cpu_s of
 * CPU time and divides the kernel's deterministic FLOP count by it. */
int oz_wk_benchmark(double min_cpu_s, double *flops, char *why, size_t whylen);

/* ---- the service loop (run.c) ------------------------------------------------------ */

typedef struct oz_wk_run_opts {
    const char *dir;         /* state directory, attached */
    const char *config_path; /* preferences file (NULL: DIR/worker.conf) */
    const atomic_int *stop;  /* set by SIGTERM/SIGINT */
    atomic_int *reload;      /* set by SIGHUP; the loop clears it */
} oz_wk_run_opts;

/* Runs until *stop: exits with OZ_WK_OK after checkpointing every task. */
int oz_wk_run(const oz_wk_run_opts *o, char *why, size_t whylen);

/* ---- status (status.c) ------------------------------------------------------------- */

/* DIR/status.json into buf: the one place its name is spelled. */
int oz_wk_status_path(const char *dir, char *buf, size_t len);

/* What `ozma-worker status` shows, as JSON: status.json when a worker is
 * running, else what the task files say; plus account and host credit from
 * the scheduler (best effort, timeout_s). */
int oz_wk_status_collect(const char *dir, double timeout_s, json_t **out, char *why, size_t whylen);

/* Human-readable rendering of oz_wk_status_collect's JSON. */
void oz_wk_status_print(const json_t *st, FILE *f);

/* ---- control (control.c) ------------------------------------------------------------ */

/* DIR/control.json: what the volunteer told the worker.  Every command bumps
 * seq; the running worker acknowledges it as status.json's control_seq. */
typedef struct oz_wk_control {
    int64_t seq;        /* bumped by every command */
    int64_t update_seq; /* bumped by `update`: contact the scheduler now */
    bool suspended;     /* `suspend` (true) / `resume` (false) */
    bool no_more_work;  /* `nomorework` (true) / `allowmorework` (false) */
} oz_wk_control;

/* Which version of control.json the worker last read. */
typedef struct oz_wk_control_stamp {
    bool seen;
    uint64_t ino;
    int64_t mtime_s, mtime_ns, size;
} oz_wk_control_stamp;

/* control.json's text (len bytes, at most 4096; name labels messages) into
 * *c, strictly: every field, nothing else, in range; OZ_WK_EFORMAT naming
 * the file otherwise, *c then unspecified. */
int oz_wk_control_parse(const char *text, size_t len, const char *name, oz_wk_control *c,
                        char *why, size_t whylen);
/* control.json: load (missing: all zero, OZ_WK_OK) and save durably. */
int oz_wk_control_load(const char *dir, oz_wk_control *c, char *why, size_t whylen);
int oz_wk_control_save(const char *dir, const oz_wk_control *c, char *why, size_t whylen);

/* May this user control the worker of dir?  Its owner and root may;
 * OZ_WK_ESTATE naming the owner otherwise. */
int oz_wk_control_permitted(const char *dir, char *why, size_t whylen);

/* The running worker's check, each turn: 1 when control.json changed since
 * *stamp (and *c holds it now), 0 when not, a negative error (file
 * unreadable, malformed, or owned by another user; *c unchanged). */
int oz_wk_control_watch(const char *dir, oz_wk_control_stamp *stamp, oz_wk_control *c, char *why,
                        size_t whylen);

/* One command (verb: suspend, resume, update, nomorework, allowmorework):
 * records it in control.json and waits up to wait_s for a running worker
 * to acknowledge it; msg gets the sentence to print. */
int oz_wk_control_send(const char *dir, const char *verb, double wait_s, char *msg, size_t msglen,
                       char *why, size_t whylen);

#endif /* OZMA_WORKER_H */

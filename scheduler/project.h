/*
 * project.h - a project directory and its configuration.
 *
 * Everything one scheduler needs lives in one directory, made by
 * `ozma-server init DIR`:
 *
 *   DIR/project.json   the configuration below (strictly parsed: an unknown
 *                      key or a value out of range is an error naming it)
 *   DIR/ozma.db        the SQLite database (store.h)
 *   DIR/units/         the .ozwu files served at /units/NAME.ozwu
 *   DIR/secret.key     32 random bytes, mode 0600: the key of the hashes
 *                      under which tokens are stored (auth.h)
 *   DIR/load.lock      flock()ed by a running `load` (load.c), made by it
 *
 * The configuration is a plain struct passed by pointer to whoever needs it
 * (no globals); defaults come from oz_project_config_default and the file
 * overlays the keys it has.
 */
#ifndef OZ_SCHED_PROJECT_H
#define OZ_SCHED_PROJECT_H

#include <stddef.h>

#include <jansson.h>

#include "auth.h"
#include "candidates.h"

#define OZ_PROJECT_CONFIG_VERSION 1
#define OZ_PROJECT_NAME_MAX 64
#define OZ_PROJECT_BIND_MAX 63
#define OZ_PROJECT_CONFIG_MAX 65536 /* project.json bytes */
#define OZ_PROJECT_PATH_MAX 4096
#define OZ_PROJECT_URL_MAX 512 /* units_url bytes, with the '/' it may be given */
#define OZ_PROJECT_DBURI_MAX 1024 /* database URI bytes */

typedef struct oz_project_config {
    char name[OZ_PROJECT_NAME_MAX * 4 + 1]; /* 1..64 UTF-8 characters */
    char bind[OZ_PROJECT_BIND_MAX + 1];     /* IPv4 or IPv6 literal; default 127.0.0.1 */
    int port;                               /* 0..65535 (0: any free port); 8080 */
    int http_threads;                       /* libmicrohttpd pool threads, 1..256; 16 */
    int connection_limit;                   /* open connections, 1..100000; 4096 */
    int per_ip_connection_limit;            /* per address (IPv6 /64), 0 (none)..100000; 64 */
    int connection_timeout_s;               /* idle connection timeout, 1..3600; 30 */
    int header_timeout_s;                   /* a request's headers within this, 1..3600; 10 */
    int body_min_rate;                      /* body bytes/s after that, 0 (none)..10^9; 8192 */
    int connection_memory_limit;            /* bytes per connection, 8192..1048576; 65536 */
    double rate_per_host;                   /* requests/s per host on average, > 0; 20 */
    double rate_burst;                      /* bucket size, >= 1; 100 */
    double read_rate;                       /* public GETs/s per client address, > 0; 20 */
    double read_burst;                      /* their bucket size, >= 1; 200 */
    double read_cache_s;                    /* status, throughput kept this long, 0..3600; 1 */
    int max_in_progress_per_cpu;            /* host's cap = this * CPUs counted, 1..1000; 4 */
    int max_ncpus;                          /* the most CPUs a claim counts for, 1..1024; 64 */
    int new_host_ncpus;                     /* CPUs counted before any result, 1..1024; 4 */
    int daily_result_quota;                 /* replicas per CPU counted per day, 1..10^6; 100 */
    int adaptive;                           /* `load` makes datasets adaptive by default, 0..1; 0 */
    int adaptive_trust_after;               /* valid results in a row to be trusted, 1..10^6; 10 */
    double adaptive_replicate_floor;        /* trusted hosts' units replicated anyway, 0..1; .05 */
    double canary_fraction;                 /* adaptive units given a hidden canary, 0..1; .05 */
    int max_hosts_per_account;              /* hosts an account may register, 1..10^6; 100 */
    int max_hosts_per_account_day;          /* ... in any 24 hours, 1..10^6; 10 */
    int next_rpc_delay;                     /* seconds, 1..86400; 60 */
    int body_limit_json;                    /* bytes, 1024..65536; 65536 */
    int body_limit_result;                  /* bytes, 1024..OZ_WU_RESULT_MAX; OZ_WU_RESULT_MAX */
    double job_tick_s;                      /* jobs' timer, 0.01..3600; 1 */
    double drain_timeout_s;                 /* SIGTERM waits this long for requests, 0..600; 10 */
    /* Candidates (candidates.h): candidate_nside, candidate_link_bins,
     * candidate_link_gap_units, candidate_bary_tol_hz, rfi_freq_tol_hz,
     * rfi_min_pixels, rfi_zero_drift_hz_s, rfi_bands ([[lo_hz, hi_hz], ...]). */
    oz_cand_config cand;
    double stats_interval_s; /* statistics exports (stats.h) this often, 1..30 days; 86400 */
    /* The data lifecycle (lifecycle.h) */
    int keep_units;              /* keep finished datasets' unit files, false/true; false */
    double purge_after_days;     /* finished units' result texts archived after, 0 (never)..
                                    36500; 7 */
    double lifecycle_interval_s; /* the file deleter and the purge run this often, 0.1..86400;
                                    600 */
    /* Where workers fetch unit files: "" (the default) for this scheduler's
     * own /units/, else an http:// or https:// URL ending in '/' (one is
     * added when missing) under which a file server has DIR/units/. */
    char units_url[OZ_PROJECT_URL_MAX + 1];
    /* The database: "" (the default) for DIR/ozma.db (SQLite), else a
     * libpq URI, postgresql://HOST/DBNAME?..., without a password
     * (PGPASSFILE, PGPASSWORD). */
    char database[OZ_PROJECT_DBURI_MAX + 1];
} oz_project_config;

void oz_project_config_default(oz_project_config *c);

/* Overlays the keys of obj onto *c; every key must be known ("version" must
 * be 1) and in range.  *c is untouched on failure (OZ_SCHED_EINVAL, why
 * naming the key). */
int oz_project_config_from_json(const json_t *obj, oz_project_config *c, char *why, size_t whylen);
/* Reads a project.json (at most OZ_PROJECT_CONFIG_MAX bytes, duplicate keys
 * refused) over the defaults.  Messages start with the path. */
int oz_project_config_load(const char *path, oz_project_config *c, char *why, size_t whylen);
/* The same from the bytes of a project.json in memory (name for messages):
 * what the fuzz target feeds (tests/fuzz/fuzz_project_config.c). */
int oz_project_config_parse(const char *buf, size_t len, const char *name, oz_project_config *c,
                            char *why, size_t whylen);
/* Every key as a new JSON object (with "version"), NULL on ENOMEM. */
json_t *oz_project_config_to_json(const oz_project_config *c);

/* DIR/leaf into buf; OZ_SCHED_ELIMIT when it does not fit. */
int oz_project_path(const char *dir, const char *leaf, char *buf, size_t len);
/* Where DIR's database is (store.h's oz_db_open takes it): its project.json's
 * "database" URI, or DIR/ozma.db.  OZ_SCHED_EINVAL (why) for a bad
 * project.json, ELIMIT for a path too long. */
int oz_project_database(const char *dir, char *buf, size_t len, char *why, size_t whylen);

/*
 * Creates a project: DIR (which may exist only if empty), project.json with
 * name (NULL: the directory's name) and the defaults, ozma.db, units/ and
 * secret.key.  database: NULL for ozma.db, else a PostgreSQL URI (as
 * project.json's "database") whose database gets the schema instead.  OZ_SCHED_EEXIST when DIR is not empty.  On failure whatever
 * it created is removed again.
 */
int oz_project_init(const char *dir, const char *name, const char *database, char *why,
                    size_t whylen);

/* Loads DIR/secret.key: a regular file of exactly 32 bytes. */
int oz_project_secret_load(const char *dir, unsigned char key[OZ_AUTH_KEY_BYTES], char *why,
                           size_t whylen);

#endif

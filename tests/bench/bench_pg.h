/*
 * bench_pg.h - what a scheduler benchmark needs of a PostgreSQL server
 * besides the store: a fresh database per run (DROP and CREATE DATABASE,
 * which no store call does), the server's counters (pg_stat_database),
 * and which local processes are the server, so that the benchmark can say
 * how much of the machine's CPU the database took.  It talks to the server
 * through psql(1) (Debian's postgresql-client): a test may not include
 * libpq's header (test_sched_store_boundary.sh), and none of this is on a
 * measured path.  Include after bench_proc.h and bench_procstat.h.
 */
#ifndef OZMA_BENCH_PG_H
#define OZMA_BENCH_PG_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* Runs psql on uri with each of sqls[] as its own -c (so CREATE DATABASE
 * runs outside a transaction); its unaligned output, without headers, goes
 * to out (trimmed at the first newline when one_line).  0 when psql exited
 * 0; else -1 with psql's message in out. */
static int pg_psql(const char *uri, const char *const sqls[], int nsql, char *out, size_t len,
                   bool one_line)
{
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        char *argv[32] = {"psql", "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-d",
                          (char *)uri};
        int a = 9;
        for (int i = 0; i < nsql && a + 3 < 32; i++) {
            argv[a++] = "-c";
            argv[a++] = (char *)sqls[i];
        }
        argv[a] = NULL;
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        close(fds[0]);
        close(fds[1]);
        execvp("psql", argv);
        _exit(127);
    }
    close(fds[1]);
    size_t n = 0;
    ssize_t r;
    while (pid > 0 && (r = read(fds[0], out + n, len - 1 - n)) > 0 && n + 1 < len)
        n += (size_t)r;
    out[n] = '\0';
    char drain[256];
    while (pid > 0 && read(fds[0], drain, sizeof drain) > 0)
        ;
    close(fds[0]);
    int st;
    if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return -1;
    if (one_line)
        out[strcspn(out, "\n")] = '\0';
    return 0;
}

/* One value from uri's server (sql's first row, first column) into out;
 * dies when psql fails. */
static void pg_value(const char *uri, const char *sql, char *out, size_t len)
{
    const char *sqls[] = {sql};
    if (pg_psql(uri, sqls, 1, out, len, true) != 0)
        die("psql %s: %s: %.300s", uri, sql, out);
}

/* uri with its database name replaced by name (libpq's URI:
 * postgresql://[userinfo@][host][:port][/dbname][?param=value&...]). */
static void pg_uri_with_db(const char *uri, const char *name, char *out, size_t len)
{
    const char *auth = strstr(uri, "://");
    if (!auth || strncmp(uri, "postgres", 8) != 0)
        die("--database %s: not a postgresql:// URI", uri);
    auth += 3;
    size_t alen = strcspn(auth, "/?");
    const char *params = strchr(auth + alen, '?');
    int n = snprintf(out, len, "%.*s/%s%s", (int)(auth + alen - uri), uri, name,
                     params ? params : "");
    if (n < 0 || (size_t)n >= len)
        die("--database %s: too long", uri);
}

/* A fresh, empty database `name` on uri's server (dropped first if it
 * exists, with whoever is connected to it); its URI into db. */
static void pg_database_fresh(const char *uri, const char *name, char *db, size_t len)
{
    char drop[160], create[160], out[1024];
    snprintf(drop, sizeof drop, "DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
    snprintf(create, sizeof create, "CREATE DATABASE %s", name);
    const char *sqls[] = {drop, create};
    if (pg_psql(uri, sqls, 2, out, sizeof out, false) != 0)
        die("cannot make database %s on %s: %.300s", name, uri, out);
    pg_uri_with_db(uri, name, db, len);
}

static void pg_database_drop(const char *uri, const char *name)
{
    char drop[160], out[1024];
    snprintf(drop, sizeof drop, "DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
    const char *sqls[] = {drop};
    if (pg_psql(uri, sqls, 1, out, sizeof out, false) != 0)
        fprintf(stderr, BENCH_NAME ": could not drop database %s: %.300s\n", name, out);
}

/* Is pid a PostgreSQL server process on this host? */
static bool pg_pid_is_server(pid_t pid)
{
    char path[64], comm[64] = "";
    snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    bool ok = fgets(comm, sizeof comm, f) && (!strncmp(comm, "postgres", 8) ||
                                              !strncmp(comm, "postmaster", 10));
    fclose(f);
    return ok;
}

/* The pid of uri's postmaster when it runs on this host: the first line
 * of DATA/postmaster.pid (SHOW data_directory: only the cluster's owner
 * and root may read it), else the parent of the server's checkpointer.
 * -1 when neither is a local PostgreSQL process (a server elsewhere). */
static pid_t pg_postmaster(const char *uri)
{
    char data[1024], path[1200], line[64] = "";
    pg_value(uri, "SHOW data_directory", data, sizeof data);
    snprintf(path, sizeof path, "%s/postmaster.pid", data);
    FILE *f = fopen(path, "r");
    pid_t pid = -1;
    if (f) {
        if (fgets(line, sizeof line, f))
            pid = (pid_t)atoi(line);
        fclose(f);
    }
    if (pid > 0 && pg_pid_is_server(pid))
        return pid;
    pg_value(uri, "SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'", line,
             sizeof line);
    pid = atoi(line) > 0 ? proc_parent((pid_t)atoi(line)) : -1;
    return pid > 0 && pg_pid_is_server(pid) ? pid : -1;
}

/* What the server counted for one database (pg_stat_database; a backend
 * reports its counts at the end of a transaction, at most once a second). */
typedef struct pg_counts {
    double commits, rollbacks, deadlocks, blks_read, blks_hit, tup_returned, tup_fetched,
        tup_changed;
} pg_counts;

static pg_counts pg_counts_read(const char *uri, const char *name)
{
    char sql[512], out[512];
    snprintf(sql, sizeof sql,
             "SELECT xact_commit, xact_rollback, deadlocks, blks_read, blks_hit, tup_returned,"
             " tup_fetched, tup_inserted + tup_updated + tup_deleted FROM pg_stat_database"
             " WHERE datname = '%s'",
             name);
    pg_value(uri, sql, out, sizeof out);
    pg_counts c;
    if (sscanf(out, "%lf|%lf|%lf|%lf|%lf|%lf|%lf|%lf", &c.commits, &c.rollbacks, &c.deadlocks,
               &c.blks_read, &c.blks_hit, &c.tup_returned, &c.tup_fetched, &c.tup_changed) != 8)
        die("pg_stat_database for %s: %.200s", name, out);
    return c;
}

#endif

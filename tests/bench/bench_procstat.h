/*
 * bench_procstat.h - what a benchmark reads from /proc about the server it
 * drives, so that it can say where the server's time went per request and
 * not only how much there was: user and system CPU (/proc/PID/stat utime,
 * stime: every thread's), read- and write-like system calls (/proc/PID/io
 * syscr, syscw: every thread's, counting reads, writes, sends, receives
 * and sendfile, but not epoll_wait or futex), minor page faults and
 * context switches
 * (voluntary and not, summed over each thread's /proc/PID/task/TID/status, since the
 * process's own status counts only its first thread).
 *
 * Take one sample before and one after the measured window and subtract
 * (a thread that ends in between takes its context switches with it; the
 * server's threads live as long as it does).
 * Fields read as -1 when /proc would not say (another user's process:
 * /proc/PID/io needs ptrace rights).
 */
#ifndef OZMA_BENCH_PROCSTAT_H
#define OZMA_BENCH_PROCSTAT_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

typedef struct proc_sample {
    double user_s, sys_s;   /* CPU seconds so far */
    long long syscr, syscw; /* read- and write-like system calls so far */
    long long vcsw, ivcsw;  /* voluntary and involuntary context switches so far */
    long long minflt;       /* minor page faults so far (fresh memory the kernel zeroed) */
} proc_sample;

/* The value after "key" in the "key: value" lines of path, or -1. */
static inline long long proc_field(const char *path, const char *key)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[256];
    long long v = -1;
    size_t klen = strlen(key);
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, key, klen) && line[klen] == ':') {
            v = strtoll(line + klen + 1, NULL, 10);
            break;
        }
    fclose(f);
    return v;
}

/* /proc/PID/stat into buf; the fields after the name (which may hold
 * spaces), or NULL. */
static inline const char *proc_stat_fields(pid_t pid, char *buf, size_t len)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t n = fread(buf, 1, len - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    return p ? p + 1 : NULL;
}

/* Fills *s for process pid; 0, or -1 when its stat could not be read. */
static inline int proc_sample_take(pid_t pid, proc_sample *s)
{
    char path[96], buf[2048];
    s->user_s = s->sys_s = -1;
    snprintf(path, sizeof path, "/proc/%d/io", (int)pid);
    s->syscr = proc_field(path, "syscr");
    s->syscw = proc_field(path, "syscw");
    s->vcsw = s->ivcsw = 0;
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    for (struct dirent *e; d && (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "/proc/%d/task/%.20s/status", (int)pid, e->d_name);
        long long v = proc_field(path, "voluntary_ctxt_switches");
        long long iv = proc_field(path, "nonvoluntary_ctxt_switches");
        s->vcsw += v > 0 ? v : 0;
        s->ivcsw += iv > 0 ? iv : 0;
    }
    if (d)
        closedir(d);
    const char *p = proc_stat_fields(pid, buf, sizeof buf);
    unsigned long long flt, ut, st;
    if (!p || sscanf(p, " %*c %*d %*d %*d %*d %*d %*u %llu %*u %*u %*u %llu %llu", &flt, &ut,
                     &st) != 3)
        return -1;
    s->minflt = (long long)flt;
    double tck = (double)sysconf(_SC_CLK_TCK);
    s->user_s = (double)ut / tck;
    s->sys_s = (double)st / tck;
    return 0;
}

/* What was used between two samples: after minus before. */
static inline proc_sample proc_sample_minus(const proc_sample *after, const proc_sample *before)
{
    return (proc_sample){after->user_s - before->user_s, after->sys_s - before->sys_s,
                         after->syscr - before->syscr,   after->syscw - before->syscw,
                         after->vcsw - before->vcsw,     after->ivcsw - before->ivcsw,
                         after->minflt - before->minflt};
}

/* The parent's pid in /proc/PID/stat, or -1. */
static inline pid_t proc_parent(pid_t pid)
{
    char buf[2048];
    const char *p = proc_stat_fields(pid, buf, sizeof buf);
    int ppid;
    return p && sscanf(p, " %*c %d", &ppid) == 1 ? (pid_t)ppid : -1;
}

/* The CPU seconds of pid's children that have ended and been waited for
 * (/proc/PID/stat cutime + cstime), or -1. */
static inline double proc_reaped_cpu_s(pid_t pid)
{
    char buf[2048];
    const char *p = proc_stat_fields(pid, buf, sizeof buf);
    long long cut, cst;
    if (!p || sscanf(p, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %lld %lld",
                     &cut, &cst) != 2)
        return -1;
    return (double)(cut + cst) / (double)sysconf(_SC_CLK_TCK);
}

/* Fills *s with what a process and its children used so far (a server
 * that forks one process per client, as PostgreSQL's postmaster does):
 * pid's own sample, its live children's, and the CPU time of the children
 * it has waited for, which keeps the CPU of those that ended within a
 * window (their system calls and context switches leave with them).
 * *nprocs gets how many processes were summed.  0, or -1 when pid's own
 * stat could not be read. */
static inline int proc_tree_take(pid_t pid, proc_sample *s, int *nprocs)
{
    if (proc_sample_take(pid, s) != 0)
        return -1;
    double reaped = proc_reaped_cpu_s(pid);
    s->user_s += reaped > 0 ? reaped : 0; /* utime and stime of the reaped are not told apart */
    *nprocs = 1;
    DIR *d = opendir("/proc");
    for (struct dirent *e; d && (e = readdir(d));) {
        char *end;
        long child = strtol(e->d_name, &end, 10);
        proc_sample c;
        if (*end || child <= 0 || proc_parent((pid_t)child) != pid ||
            proc_sample_take((pid_t)child, &c) != 0)
            continue;
        s->user_s += c.user_s;
        s->sys_s += c.sys_s;
        s->syscr = s->syscr >= 0 && c.syscr >= 0 ? s->syscr + c.syscr : -1;
        s->syscw = s->syscw >= 0 && c.syscw >= 0 ? s->syscw + c.syscw : -1;
        s->vcsw += c.vcsw;
        s->ivcsw += c.ivcsw;
        s->minflt += c.minflt;
        ++*nprocs;
    }
    if (d)
        closedir(d);
    return 0;
}

/* The server's CPU seconds so far (user + system), or -1. */
static inline double proc_cpu_s(pid_t pid)
{
    proc_sample s;
    return proc_sample_take(pid, &s) == 0 ? s.user_s + s.sys_s : -1;
}

#endif

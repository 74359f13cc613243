/*
 * bench_proc.h - what the scheduler benchmarks share for driving programs:
 * a monotonic clock, dying with one line named for the benchmark, and
 * running a program to success.  Include after defining BENCH_NAME.
 */
#ifndef OZMA_BENCH_PROC_H
#define OZMA_BENCH_PROC_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* "BENCH_NAME: message" on stderr, exit 1. */
static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, BENCH_NAME ": ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(1);
}

/* Runs argv (argv[0] a path, argv[1] its command) and dies unless it
 * exits 0. */
static void run_or_die(char *const argv[])
{
    pid_t pid = fork();
    if (pid == 0) {
        execv(argv[0], argv);
        _exit(127);
    }
    int st;
    if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        die("%s %s failed", argv[0], argv[1] ? argv[1] : "");
}

#endif

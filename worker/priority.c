/*
 * priority.c - putting a compute thread at the bottom of the machine.
 *
 * A volunteer's computer must not feel the worker.  Each compute thread
 * lowers itself to nice 19 and the SCHED_IDLE policy, which runs it only when
 * no normal task wants the CPU.  On Linux both are per-thread attributes:
 * setpriority(PRIO_PROCESS, tid) changes one thread (the kernel's "process"
 * here is the task), and pthread_setschedparam(SCHED_IDLE) the calling
 * thread; the loop thread keeps its normal priority so network I/O and
 * SIGTERM stay prompt.  Lowering needs no privilege.  Both can be read back
 * from /proc/PID/task/TID/stat (fields 19 and 41), as the tests do.
 *
 * _GNU_SOURCE: SCHED_IDLE, pthread_setname_np and SYS_gettid are Linux
 * extensions.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "worker.h"

int oz_wk_priority_lower(char *why, size_t whylen)
{
    pid_t tid = (pid_t)syscall(SYS_gettid);
    if (setpriority(PRIO_PROCESS, (id_t)tid, 19) != 0)
        return oz_wk_fail(OZ_WK_EIO, why, whylen, "setpriority(19): %s", strerror(errno));
    struct sched_param sp = {.sched_priority = 0};
    int e = pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp);
    if (e != 0)
        return oz_wk_fail(OZ_WK_EIO, why, whylen, "SCHED_IDLE: %s", strerror(e));
    return OZ_WK_OK;
}

void oz_wk_thread_name(const char *name)
{
    char n[16];
    size_t len = strlen(name);
    if (len > 15)
        len = 15;
    memcpy(n, name, len);
    n[len] = '\0';
    pthread_setname_np(pthread_self(), n);
}

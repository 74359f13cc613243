/*
 * periodic.c - a thread that does one thing every interval (periodic.h).
 */
#include "periodic.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct oz_periodic {
    oz_db *db;
    double interval_s;
    const char *name;
    oz_log_level log_level;
    oz_periodic_fn fn;
    void *arg;
    pthread_t thread;
    pthread_mutex_t lock; /* guards stop */
    pthread_cond_t wake;
    bool stop;
};

static void *periodic_main(void *arg)
{
    oz_periodic *p = arg;
    oz_store *s = NULL;
    char why[512];
    if (oz_store_open(p->db, &s, why, sizeof why) != OZ_SCHED_OK) {
        oz_log(p->log_level, OZ_LOG_ERROR, "no database connection", "thread", p->name, "error",
               why, (const char *)NULL);
        return NULL;
    }
    pthread_mutex_lock(&p->lock);
    while (!p->stop) {
        pthread_mutex_unlock(&p->lock);
        p->fn(p->arg, s);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        double sec = (double)until.tv_sec + (double)until.tv_nsec * 1e-9 + p->interval_s;
        until.tv_sec = (time_t)sec;
        until.tv_nsec = (long)((sec - (double)until.tv_sec) * 1e9);
        pthread_mutex_lock(&p->lock);
        while (!p->stop && pthread_cond_timedwait(&p->wake, &p->lock, &until) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&p->lock);
    oz_store_close(s);
    return NULL;
}

int oz_periodic_start(oz_db *db, double interval_s, const char *name, oz_log_level log_level,
                      oz_periodic_fn fn, void *arg, oz_periodic **out, char *why, size_t whylen)
{
    *out = NULL;
    oz_periodic *p = calloc(1, sizeof *p);
    if (!p)
        return oz_sched_fail(OZ_SCHED_ENOMEM, why, whylen, "out of memory");
    *p = (oz_periodic){.db = db,
                       .interval_s = interval_s,
                       .name = name,
                       .log_level = log_level,
                       .fn = fn,
                       .arg = arg};
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    int e = pthread_create(&p->thread, NULL, periodic_main, p);
    if (e != 0) {
        pthread_cond_destroy(&p->wake);
        pthread_mutex_destroy(&p->lock);
        free(p);
        return oz_sched_fail(OZ_SCHED_EIO, why, whylen, "%s thread: %s", name, strerror(e));
    }
    *out = p;
    return OZ_SCHED_OK;
}

void oz_periodic_stop(oz_periodic *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stop = true;
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->lock);
    pthread_join(p->thread, NULL);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

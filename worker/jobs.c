/*
 * jobs.c - the task table of `ozma-worker run`: every task the loop holds,
 * in deadline order, with what the loop knows of it beside task.json (its
 * directory, its compute thread, its last progress, whether a transfer has
 * it).
 *
 * The table is the loop's alone (runner.h).  Deadline order is what the
 * loop relies on: compute threads start from the front, so the task due
 * first is searched first.  Entries move when one is added or removed, so a
 * pointer into the table is good only until then.  A task's files are
 * task.c's business; this file only saves task.json at its transitions and,
 * on start, reconciles a task with the files beside it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runner.h"

oz_wk_job *oz_wk_jobs_add(oz_wk_jobs *tab, const char *dir, const oz_wk_task *t)
{
    if (tab->n == tab->cap) {
        size_t nc = tab->cap ? 2 * tab->cap : 16;
        oz_wk_job *nj = realloc(tab->v, nc * sizeof *nj);
        if (!nj)
            return NULL;
        tab->v = nj;
        tab->cap = nc;
    }
    size_t at = tab->n;
    while (at > 0 && tab->v[at - 1].t.deadline > t->deadline)
        at--;
    memmove(&tab->v[at + 1], &tab->v[at], (tab->n - at) * sizeof *tab->v);
    tab->n++;
    oz_wk_job *j = &tab->v[at];
    memset(j, 0, sizeof *j);
    j->t = *t;
    if (oz_wk_task_dir(dir, t->replica_id, j->dir, sizeof j->dir) != OZ_WK_OK)
        j->dir[0] = '\0';
    return j;
}

void oz_wk_jobs_remove(oz_wk_jobs *tab, size_t i)
{
    oz_wk_remove_tree(tab->v[i].dir);
    memmove(&tab->v[i], &tab->v[i + 1], (tab->n - i - 1) * sizeof *tab->v);
    tab->n--;
}

oz_wk_job *oz_wk_jobs_find(oz_wk_jobs *tab, int64_t replica_id)
{
    for (size_t i = 0; i < tab->n; i++)
        if (tab->v[i].t.replica_id == replica_id)
            return &tab->v[i];
    return NULL;
}

json_t *oz_wk_jobs_held_json(const oz_wk_jobs *tab)
{
    json_t *list = json_array();
    for (size_t i = 0; list && i < tab->n; i++) {
        if (json_array_append_new(list, json_integer((json_int_t)tab->v[i].t.replica_id)) != 0) {
            json_decref(list);
            return NULL;
        }
    }
    return list;
}

void oz_wk_jobs_free(oz_wk_jobs *tab)
{
    free(tab->v);
    tab->v = NULL;
    tab->n = tab->cap = 0;
}

void oz_wk_job_save(oz_wk_job *j)
{
    char why[512];
    if (oz_wk_task_save(j->dir, &j->t, why, sizeof why) != OZ_WK_OK)
        oz_wk_log("replica %lld: %s", (long long)j->t.replica_id, why);
}

void oz_wk_job_fail(oz_wk_job *j, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    j->t.state = OZ_TASK_ERROR;
    vsnprintf(j->t.error, sizeof j->t.error, fmt, ap);
    va_end(ap);
    oz_wk_log("replica %lld: %s", (long long)j->t.replica_id, j->t.error);
    oz_wk_job_save(j);
}

static bool file_exists(const char *dir, const char *name)
{
    char p[OZ_WK_PATH_MAX];
    return oz_wk_path(p, sizeof p, "%s/%s", dir, name) == OZ_WK_OK && access(p, F_OK) == 0;
}

void oz_wk_job_recover(oz_wk_job *j)
{
    if (j->t.state == OZ_TASK_READY && file_exists(j->dir, "result.json")) {
        j->t.state = OZ_TASK_DONE;
        oz_wk_job_save(j);
    } else if (j->t.state == OZ_TASK_READY && !file_exists(j->dir, "unit.ozwu")) {
        j->t.state = OZ_TASK_DOWNLOADING;
        oz_wk_job_save(j);
    } else if (j->t.state == OZ_TASK_DOWNLOADING && file_exists(j->dir, "unit.ozwu")) {
        char p[OZ_WK_PATH_MAX], hex[65];
        if (oz_wk_path(p, sizeof p, "%s/unit.ozwu", j->dir) == OZ_WK_OK &&
            oz_wk_file_sha256(p, hex, NULL, 0) == OZ_WK_OK && strcmp(hex, j->t.sha256) == 0) {
            j->t.state = OZ_TASK_READY;
            oz_wk_job_save(j);
        } else
            unlink(p);
    }
    if (j->t.state == OZ_TASK_READY)
        oz_wk_checkpoint_progress(j->dir, &j->done, &j->steps, &j->elapsed_s);
}

double oz_wk_job_fraction(const oz_wk_job *j)
{
    if (j->t.state == OZ_TASK_DONE)
        return 1.0;
    return j->steps ? (double)j->done / (double)j->steps : 0.0;
}

double oz_wk_job_remaining(const oz_wk_job *j, double flops)
{
    if (j->t.state == OZ_TASK_DONE || j->t.state == OZ_TASK_ERROR)
        return 0;
    double f = oz_wk_job_fraction(j);
    if (j->done > 0 && j->elapsed_s > 0 && f > 0)
        return j->elapsed_s * (1.0 - f) / f;
    double fl = flops > 0 ? flops : 1e9;
    return (double)j->t.flops / fl * (1.0 - f);
}

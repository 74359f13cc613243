/*
 * verify.c - `ozma-server verify` (verify.h): each unit file of a page of
 * the store's unit rows hashed (unit_check.c) outside any transaction, and
 * the mark set or cleared (store_files.c) one durable write at a time, so a
 * scrub of a million units never holds a read snapshot or the write lock
 * for long while `serve` runs.
 */
#include "verify.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "project.h"
#include "sched_errors.h"
#include "store.h"
#include "unit_check.h"

#define PAGE 256 /* unit rows read at a time */

int oz_verify_run(const char *dir, bool all, FILE *out, oz_verify_report *rep, char *why,
                  size_t whylen)
{
    memset(rep, 0, sizeof *rep);
    char path[OZ_PROJECT_PATH_MAX], units[OZ_PROJECT_PATH_MAX], reason[400];
    oz_db *db = NULL;
    oz_store *s = NULL;
    oz_unit_file *page = NULL;
    int fd = -1, rc;
    if (oz_project_path(dir, "units", units, sizeof units) != 0)
        return oz_sched_fail(OZ_SCHED_ELIMIT, why, whylen, "project path too long");
    if ((rc = oz_project_database(dir, path, sizeof path, why, whylen)) != 0)
        return rc;
    if ((fd = open(units, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        rc = oz_sched_fail(OZ_SCHED_ENOTFOUND, why, whylen, "%s: %s", units, strerror(errno));
        goto out;
    }
    if ((rc = oz_db_open(path, &db, why, whylen)) != 0 ||
        (rc = oz_store_open(db, &s, why, whylen)) != 0)
        goto out;
    if (!(page = calloc(PAGE, sizeof *page))) {
        rc = oz_sched_fail(OZ_SCHED_ENOMEM, why, whylen, "out of memory");
        goto out;
    }
    int64_t after = 0;
    for (;;) {
        size_t n;
        if ((rc = oz_store_unit_files(s, !all, after, page, PAGE, &n, why, whylen)) != 0)
            goto out;
        for (size_t i = 0; i < n; i++) {
            const oz_unit_file *f = &page[i];
            after = f->unit_rowid;
            int bad = oz_unit_check_file(fd, f->file, f->sha256, reason, sizeof reason);
            if (bad < 0) {
                rc = oz_sched_fail(bad, why, whylen, "out of memory");
                goto out;
            }
            rep->checked++;
            if (!bad && !f->bad)
                continue;
            if ((rc = oz_store_unit_file_mark(s, f->unit_rowid, bad ? reason : NULL,
                                              (int64_t)time(NULL), why, whylen)) != 0)
                goto out;
            if (bad) {
                rep->bad++;
                fprintf(out, "%s (%s): %s\n", f->unit_id, f->dataset, reason);
            } else {
                rep->cleared++;
                fprintf(out, "%s (%s): the file matches again; the unit is sent again\n",
                        f->unit_id, f->dataset);
            }
        }
        if (n < PAGE)
            break;
    }
    rc = OZ_SCHED_OK;
out:
    free(page);
    oz_store_close(s);
    oz_db_close(db);
    if (fd >= 0)
        close(fd);
    return rc;
}

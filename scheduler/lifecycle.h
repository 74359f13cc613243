/*
 * lifecycle.h - what happens to a project's data once it is finished, so
 * that disk and database stay bounded under a long run (issue 20):
 *
 *   file deleter  a dataset whose units are all finished (validated and
 *                 assimilated, or in error - a cancelled dataset's too),
 *                 with no replica still out, has its unit files deleted
 *                 from DIR/units/, unless
 *                 project.json's keep_units is true; the database records
 *                 it (datasets.files_gone), and GET /units/NAME.ozwu then
 *                 answers 410 Gone.
 *   purge         the result texts of units finished more than
 *                 purge_after_days ago (0: never) move into gzip archives,
 *                 DIR/archive/results-YYYY-MM-DD.jsonl.gz by the UTC day
 *                 the unit finished, one JSON object per result:
 *                 {"replica_id", "unit_id", "dataset", "host_id",
 *                 "received", "finished", "canonical", "result"} (result:
 *                 the uploaded text, byte for byte).  The rows stay, less
 *                 the text: states, credit, the result's SHA-256 and the
 *                 canonical signals are what the pages read.
 *
 * The archive is written first, durably (the day's file copied and a new
 * gzip member added, temporary file, fsync, rename), and only then are the
 * texts dropped, in one durable transaction: a crash between the two
 * leaves the texts in the database and archives them again on the next
 * run, so a result may appear twice (same replica_id), never not at all.
 * Runs of the purge (the server's thread, `ozma-server purge`) take turns
 * on a lock of the archive folder.
 */
#ifndef OZ_SCHED_LIFECYCLE_H
#define OZ_SCHED_LIFECYCLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "store.h"

/* Unlinks unit files named by the store (each_file of
 * oz_store_dataset_files and oz_store_dataset_remove): units is the units
 * folder; a file already gone counts as removed. */
typedef struct oz_unlinker {
    const char *units;
    unsigned removed, failed;
} oz_unlinker;
void oz_lifecycle_unlink(void *arg, const char *file);

/* The file deleter, once: the unit files of every dataset done with them
 * (at most 256 datasets) deleted and recorded.  *datasets and *files count
 * what it deleted.  A dataset whose files cannot all be removed is not
 * recorded (OZ_SCHED_EIO, why naming it) and is tried again next time. */
int oz_lifecycle_delete_files(oz_store *s, const char *units_dir, int64_t now, unsigned *datasets,
                              unsigned *files, char *why, size_t whylen);

typedef struct oz_purge_report {
    uint64_t units, results; /* units purged, result texts archived */
    uint64_t bytes;          /* of result text */
} oz_purge_report;
/* The purge, once: the result texts of units finished at or before cutoff
 * (Unix seconds) into archive_dir (made if missing). */
int oz_lifecycle_purge(oz_store *s, const char *archive_dir, int64_t cutoff, int64_t now,
                       oz_purge_report *rep, char *why, size_t whylen);

/* The server's thread: both, at once and then every interval_s, with its
 * own store connection; a failure is logged and tried again next time. */
typedef struct oz_lifecycle_opts {
    oz_db *db;
    const char *units_dir, *archive_dir;
    bool keep_units;
    double purge_after_days; /* 0: never */
    double interval_s;
    oz_log_level log_level;
} oz_lifecycle_opts;
typedef struct oz_lifecycle oz_lifecycle;
int oz_lifecycle_start(const oz_lifecycle_opts *o, oz_lifecycle **out, char *why, size_t whylen);
void oz_lifecycle_stop(oz_lifecycle *l);

#endif /* OZ_SCHED_LIFECYCLE_H */

/*
 * verify.h - `ozma-server verify DIR [--all]`: the project's unit files
 * checked against the SHA-256 their load recorded (issue 21, hole 8).
 *
 * By default only the units marked bad (a host reported a mismatch and the
 * server's copy did not match: store_files.c) are checked: one that matches
 * again - its file restored, or cut again with ozma-split and the load's
 * options - is cleared and goes out again.  --all checks every unit of the
 * ready datasets (a scrub), marking any that does not match.  The store
 * writes go through the same database as a running `serve`, which sees
 * them at once.
 */
#ifndef OZ_SCHED_VERIFY_H
#define OZ_SCHED_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct oz_verify_report {
    size_t checked; /* files hashed */
    size_t bad;     /* of them, not matching (or unreadable), marked */
    size_t cleared; /* marked before, matching now, cleared */
} oz_verify_report;

/* Checks the unit files of project dir (all, or only those marked bad),
 * writing a line to out for each bad one ("UNIT (DATASET): reason") and
 * each cleared one; *rep says how many.  A failure to check (the database,
 * memory) is an error, a bad file is not. */
int oz_verify_run(const char *dir, bool all, FILE *out, oz_verify_report *rep, char *why,
                  size_t whylen);

#endif

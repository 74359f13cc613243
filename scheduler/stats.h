/*
 * stats.h - the statistics exports aggregator sites read (BOINC's db_dump
 * format), written into the project's stats/ folder when the server starts
 * and then every stats_interval_s (project.json), and served at
 * /stats/FILE (stats_file.c).
 *
 *   tables.xml        <tables>: update_time, nusers_total, nteams_total,
 *                     nhosts_total, total_credit, applications
 *   user.gz           <users><user>: id, name, create_time, total_credit,
 *                     expavg_credit, expavg_time, teamid (when in a team)
 *   team.gz           <teams><team>: id, name, userid (founder),
 *                     total_credit, expavg_credit, expavg_time,
 *                     founder_name, create_time, description
 *   host.gz           <hosts><host>: id, userid, total_credit,
 *                     expavg_credit, expavg_time, os_name, os_version,
 *                     create_time, ncpus, p_fpops
 *   tables.json, user.jsonl.gz, team.jsonl.gz, host.jsonl.gz
 *                     the same, as JSON (one object per line for the lists)
 *
 * As in BOINC, only users, teams and hosts with credit are listed, and
 * expavg_time is the moment of the export (the recent average is decayed
 * to it).  Each file is replaced atomically (temporary file, fsync,
 * rename): a site downloading never sees half a file.
 */
#ifndef OZ_SCHED_STATS_H
#define OZ_SCHED_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "store.h"

/* The names served under /stats/, NULL-terminated. */
extern const char *const oz_stats_files[];

typedef struct oz_stats_counts {
    uint64_t users, teams, hosts;
    double total_credit; /* the users' */
} oz_stats_counts;

/* Writes every export into dir (which exists) as of now. */
int oz_stats_write(oz_store *s, const char *dir, int64_t now, oz_stats_counts *out, char *why,
                   size_t whylen);

/* The exporter thread: writes at once, then every interval_s, with its own
 * store connection; a failure is logged and retried at the next interval. */
typedef struct oz_stats oz_stats;
int oz_stats_start(oz_db *db, const char *dir, double interval_s, oz_log_level log_level,
                   oz_stats **out, char *why, size_t whylen);
void oz_stats_stop(oz_stats *st);

#endif /* OZ_SCHED_STATS_H */

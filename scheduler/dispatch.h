/*
 * dispatch.h - the dispatch rule, plain C with no database: how many
 * replicas a host may be given in one request.  A host gets work until
 * the seconds it asked for are covered (each unit counts its FLOPs over
 * the host's measured speed times its CPUs), never past its in-progress cap,
 * its daily quota or the reply's room.  Which replicas qualify (oldest
 * unsent first, none of a unit the host's account already holds) is the
 * store's query (store_dispatch.c); this is the counting around it.
 *
 * What a host claims is not believed until its work shows it (BOINC's
 * max_ncpus, daily_result_quota and in-progress limits; issue 21, hole 2):
 * its cap and its quota count its CPUs, and the CPUs counted are its claim
 * clamped to ncpus_max and, further, to new_host_ncpus plus the results it
 * has returned.  So a host that claims 1,024 CPUs and returns nothing holds
 * per_cpu x new_host_ncpus replicas at most, and each result it returns
 * lets it hold per_cpu more, up to what its (clamped) claim allows.
 */
#ifndef OZ_SCHED_DISPATCH_H
#define OZ_SCHED_DISPATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trust.h"

/* The project's limits (project.json; API.md "Work"). */
typedef struct oz_dispatch_limits {
    int per_cpu;        /* replicas in progress per CPU counted (max_in_progress_per_cpu) */
    int ncpus_max;      /* the most CPUs a host's claim counts for (max_ncpus) */
    int new_host_ncpus; /* CPUs counted for a host that has returned nothing (new_host_ncpus) */
    int daily_per_cpu; /* replicas sent per CPU counted per UTC day (daily_result_quota); 0: none */
    oz_trust_policy trust; /* adaptive replication: who may run a unit alone (trust.h) */
} oz_dispatch_limits;

/* What the store knows of the host asking. */
typedef struct oz_dispatch_host {
    int ncpus;              /* as it claims (<= 0 counts as 1) */
    double flops;           /* per CPU, as it measured; 0: unknown */
    int64_t in_progress;    /* replicas it holds */
    int64_t returned;       /* successful results it has returned, all time */
    int64_t sent_today;     /* replicas sent to it this UTC day */
    int64_t quota_halvings; /* its daily quota halved this many times (trust.h) */
} oz_dispatch_host;

typedef struct oz_dispatch {
    size_t room;      /* replicas this request may still get at most */
    double rate;      /* the host's FLOPs per second, all CPUs; 0: unknown */
    double want_s;    /* seconds of work asked for */
    double covered_s; /* seconds given so far */
    size_t got;       /* replicas given so far */
} oz_dispatch;

/* The CPUs a host's cap and quota count: its claim (at least 1) clamped to
 * ncpus_max and to new_host_ncpus + returned. */
int oz_dispatch_cpus(const oz_dispatch_limits *l, int ncpus, int64_t returned);

/* How many replicas the host may be sent now, its reply's room aside: what
 * its in-progress cap (per_cpu x CPUs counted) and its daily quota
 * (daily_per_cpu x CPUs counted, halved quota_halvings times but at least
 * 1: trust.h; less those sent today) leave; 0 when it is
 * at or past either. */
int64_t oz_dispatch_allowed(const oz_dispatch_limits *l, const oz_dispatch_host *h);

/* A request from host h wanting want_s seconds, with room for at most max
 * in the reply. */
void oz_dispatch_begin(oz_dispatch *d, const oz_dispatch_limits *l, const oz_dispatch_host *h,
                       size_t max, double want_s);

/* Whether another replica may be given. */
bool oz_dispatch_wants_more(const oz_dispatch *d);

/* Counts a replica of a unit of unit_flops given: its seconds on this host
 * (all of what was asked when the host's speed is unknown). */
void oz_dispatch_take(oz_dispatch *d, uint64_t unit_flops);

/* Counts a replica sent again (one the host was sent and lost:
 * store_dispatch.c) against the seconds asked, as oz_dispatch_take, but not
 * against the cap or the quota: it is in progress and was counted when
 * first sent.  The reply's room for it is the caller's to leave (max of
 * oz_dispatch_begin). */
void oz_dispatch_cover(oz_dispatch *d, uint64_t unit_flops);

#endif

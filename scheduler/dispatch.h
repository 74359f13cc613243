/*
 * dispatch.h - the dispatch rule, plain C with no database: how many
 * replicas a host may be given in one request.  A host gets work until
 * the seconds it asked for are covered (each unit counts its FLOPs over
 * the host's measured speed times its CPUs), never past its in-progress cap
 * or the reply's room.  Which replicas qualify (oldest unsent first, none
 * of a unit the host's account already holds) is the store's query
 * (store_work.c); this is the counting around it.
 */
#ifndef OZ_SCHED_DISPATCH_H
#define OZ_SCHED_DISPATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct oz_dispatch {
    size_t room;      /* replicas this request may still get at most */
    double rate;      /* the host's FLOPs per second, all CPUs; 0: unknown */
    double want_s;    /* seconds of work asked for */
    double covered_s; /* seconds given so far */
    size_t got;       /* replicas given so far */
} oz_dispatch;

/* A request from a host holding in_progress replicas against its cap,
 * wanting want_s seconds, with room for at most max in the reply; flops
 * per CPU and ncpus as the host reported (ncpus <= 0 counts as 1). */
void oz_dispatch_begin(oz_dispatch *d, int64_t in_progress, int cap, size_t max, double want_s,
                       double flops, int ncpus);

/* Whether another replica may be given. */
bool oz_dispatch_wants_more(const oz_dispatch *d);

/* Counts a replica of a unit of unit_flops given: its seconds on this host
 * (all of what was asked when the host's speed is unknown). */
void oz_dispatch_take(oz_dispatch *d, uint64_t unit_flops);

#endif

/*
 * cache.h - answers to public reads, kept for a moment (issue 21, hole 4).
 *
 * GET /api/v1/status counts the day's replicas and /throughput buckets
 * them: about 0.1 s of CPU each on a project with 10^5 replicas, for a
 * page that anyone may load and that refreshes itself.  The server keeps
 * the JSON text of such answers here, under a key naming the route and its
 * checked parameters, and makes one again only when the kept one is older
 * than max_age seconds - so however many clients ask, each answer is
 * computed at most once per max_age.
 *
 * When the kept answer is stale, the first caller to see it is told to make
 * a new one (OZ_CACHE_MISS) and the others meanwhile get the stale one: the
 * database is asked once, not once per waiting client.  A caller told to
 * make one must put it or abandon it; a claim not settled within
 * OZ_CACHE_CLAIM_S lapses, so a failed caller cannot freeze an entry.
 *
 * A fixed number of slots, allocated once; the oldest answer makes way for
 * a new key.  One mutex guards them; bodies are copied in and out under it.
 */
#ifndef OZ_SCHED_CACHE_H
#define OZ_SCHED_CACHE_H

#include <stddef.h>

typedef struct oz_cache oz_cache;

#define OZ_CACHE_KEY_MAX 96   /* bytes of a key, NUL included */
#define OZ_CACHE_CLAIM_S 10.0 /* seconds a caller may take to make an answer */

#define OZ_CACHE_HIT 0
#define OZ_CACHE_MISS 1

/* slots >= 1; max_age_s 0 keeps nothing (every get is a miss). */
int oz_cache_new(size_t slots, double max_age_s, oz_cache **out);
void oz_cache_free(oz_cache *c);

/* key's answer at time now (seconds, monotonic): OZ_CACHE_HIT with *body a
 * malloc'd copy (NUL-terminated) of *len bytes, or OZ_CACHE_MISS with *body
 * NULL when the caller must make it (oz_cache_put or oz_cache_abandon).
 * Also a miss when out of memory or the key is too long (then put is a
 * no-op). */
int oz_cache_get(oz_cache *c, const char *key, double now, char **body, size_t *len);
/* Keeps a copy of body as key's answer made at now. */
void oz_cache_put(oz_cache *c, const char *key, const char *body, size_t len, double now);
/* The caller told to make key's answer could not: the next may try. */
void oz_cache_abandon(oz_cache *c, const char *key);

#endif

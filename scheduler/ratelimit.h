/*
 * ratelimit.h - token buckets per client, in memory.
 *
 * Each client (a host after authentication, an account, or a client
 * address - an IPv6 /64 - for account creation) has a bucket of `burst` tokens refilled at `rate`
 * tokens a second; a request takes one token or is refused with the number
 * of seconds until one is back (the 429's Retry-After).
 *
 * The table has a fixed number of slots, allocated once: no allocation per
 * request, and memory that no crowd of clients can grow.  A key lives in
 * one of a few slots after its hash (open addressing with a short probe
 * window); a bucket that has refilled completely is indistinguishable from
 * no bucket at all, so such slots are reused freely, and when every slot of
 * the window is busy the stalest is evicted (which can only ever forgive a
 * client, never punish one that has not asked).  One mutex guards the table.
 *
 * A table has one rate and burst.  The server keeps two: one for hosts,
 * accounts, account creation and failed authentications (rate_per_host,
 * rate_burst), and one of read buckets, a client address's public GETs
 * (read_rate, read_burst), keyed OZ_RL_ADDR like account creation but never
 * sharing its bucket.
 */
#ifndef OZ_SCHED_RATELIMIT_H
#define OZ_SCHED_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

typedef struct oz_ratelimit oz_ratelimit;

/* Key spaces, so an account id and a host id never share a bucket.  An
 * address has two: the accounts it creates, and the authentications it
 * fails (tokens that are missing, malformed or unknown). */
#define OZ_RL_HOST(id) ((uint64_t)(id) << 2 | 0u)
#define OZ_RL_ACCOUNT(id) ((uint64_t)(id) << 2 | 1u)
#define OZ_RL_ADDR(hash) ((uint64_t)(hash) << 2 | 2u)
#define OZ_RL_AUTHFAIL(hash) ((uint64_t)(hash) << 2 | 3u)

/* The client address sa as a 62-bit hash for OZ_RL_ADDR: an IPv4 address
 * whole (also when it arrives IPv4-mapped, ::ffff:a.b.c.d), an IPv6
 * address by its /64, since a subscriber is given a /64 at least and could
 * otherwise have a bucket per address.  A family other than IPv4 and IPv6
 * (NULL too) hashes to one constant, so such clients share a bucket. */
uint64_t oz_ratelimit_addr_hash(const struct sockaddr *sa);

/* slots: table size (rounded up to a power of two, at least 64). */
int oz_ratelimit_new(double rate, double burst, size_t slots, oz_ratelimit **out);
void oz_ratelimit_free(oz_ratelimit *rl);

/* Takes a token for key at time now (seconds, monotonic): true when
 * allowed; otherwise false with *retry_after the whole seconds (>= 1) until
 * a token is back. */
bool oz_ratelimit_take(oz_ratelimit *rl, uint64_t key, double now, int *retry_after);

/* Would a take succeed now?  Takes nothing (a key never charged has a full
 * bucket); false with *retry_after as oz_ratelimit_take.  For a cost
 * charged only after the request is judged (a failed authentication),
 * checked before the work of judging it. */
bool oz_ratelimit_peek(oz_ratelimit *rl, uint64_t key, double now, int *retry_after);

#endif

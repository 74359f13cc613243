/*
 * ratelimit.c - see ratelimit.h.
 *
 * Invariants: slot.key == 0 means an empty slot (a caller's key 0 is
 * taken as 1, so no real key is 0); slot.tokens <= burst; slot.when is the
 * time slot.tokens was last brought up to date.
 */
#include "ratelimit.h"

#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "sched_errors.h"

#define PROBE 8 /* slots a key may live in */

struct slot {
    uint64_t key;
    double tokens;
    double when;
};

struct oz_ratelimit {
    pthread_mutex_t lock; /* guards slots */
    double rate, burst;
    size_t mask;
    struct slot *slots;
};

int oz_ratelimit_new(double rate, double burst, size_t slots, oz_ratelimit **out)
{
    size_t n = 64;
    while (n < slots && n < ((size_t)1 << 30))
        n <<= 1;
    oz_ratelimit *rl = calloc(1, sizeof *rl);
    if (!rl)
        return OZ_SCHED_ENOMEM;
    rl->slots = calloc(n, sizeof *rl->slots);
    if (!rl->slots || pthread_mutex_init(&rl->lock, NULL) != 0) {
        free(rl->slots);
        free(rl);
        return OZ_SCHED_ENOMEM;
    }
    rl->rate = rate;
    rl->burst = burst;
    rl->mask = n - 1;
    *out = rl;
    return 0;
}

void oz_ratelimit_free(oz_ratelimit *rl)
{
    if (!rl)
        return;
    pthread_mutex_destroy(&rl->lock);
    free(rl->slots);
    free(rl);
}

static uint64_t mix(uint64_t x) /* splitmix64's finaliser */
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

/* The seconds until a bucket at level t has a whole token again. */
static int wait_s(const oz_ratelimit *rl, double t)
{
    double wait = ceil((1.0 - t) / rl->rate);
    return wait < 1 ? 1 : wait > 86400 ? 86400 : (int)wait;
}

/* The level of slot s at time now, refilled up to the burst. */
static double level(const oz_ratelimit *rl, const struct slot *s, double now)
{
    double t = s->tokens + (now - s->when) * rl->rate;
    return t > rl->burst ? rl->burst : t;
}

/* A token is due at level t (rounding of the refill must not refuse one). */
static bool due(double t)
{
    return t >= 1.0 - 1e-9;
}

bool oz_ratelimit_take(oz_ratelimit *rl, uint64_t key, double now, int *retry_after)
{
    if (key == 0)
        key = 1;
    size_t h = (size_t)mix(key);
    bool ok;
    pthread_mutex_lock(&rl->lock);
    struct slot *found = NULL, *spare = NULL;
    double spare_when = INFINITY;
    for (size_t i = 0; i < PROBE; i++) {
        struct slot *s = &rl->slots[(h + i) & rl->mask];
        if (s->key == key) {
            found = s;
            break;
        }
        /* an empty or refilled slot is free; otherwise remember the stalest */
        double lv = s->key ? s->tokens + (now - s->when) * rl->rate : rl->burst;
        double rank = lv >= rl->burst ? -INFINITY : s->when;
        if (rank < spare_when) {
            spare_when = rank;
            spare = s;
        }
    }
    if (!found) {
        found = spare;
        found->key = key;
        found->tokens = rl->burst;
        found->when = now;
    }
    double t = level(rl, found, now);
    found->when = now;
    if (due(t)) {
        found->tokens = t - 1.0;
        ok = true;
    } else {
        found->tokens = t;
        ok = false;
        if (retry_after)
            *retry_after = wait_s(rl, t);
    }
    pthread_mutex_unlock(&rl->lock);
    return ok;
}

bool oz_ratelimit_peek(oz_ratelimit *rl, uint64_t key, double now, int *retry_after)
{
    if (key == 0)
        key = 1;
    size_t h = (size_t)mix(key);
    bool ok = true;
    pthread_mutex_lock(&rl->lock);
    for (size_t i = 0; i < PROBE; i++) {
        const struct slot *s = &rl->slots[(h + i) & rl->mask];
        if (s->key == key) {
            double t = level(rl, s, now);
            ok = due(t);
            if (!ok && retry_after)
                *retry_after = wait_s(rl, t);
            break;
        }
    }
    pthread_mutex_unlock(&rl->lock);
    return ok;
}

uint64_t oz_ratelimit_addr_hash(const struct sockaddr *sa)
{
    /* a tag byte for the family, then the bytes that name the client */
    unsigned char b[1 + 8];
    size_t n = 0;
    if (sa && sa->sa_family == AF_INET) {
        b[0] = 4;
        memcpy(b + 1, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
        n = 1 + 4;
    } else if (sa && sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a)) { /* ::ffff:a.b.c.d, a dual-stack socket's IPv4 client */
            b[0] = 4;
            memcpy(b + 1, a->s6_addr + 12, 4);
            n = 1 + 4;
        } else { /* the /64: the least any IPv6 subscriber is given */
            b[0] = 6;
            memcpy(b + 1, a->s6_addr, 8);
            n = 1 + 8;
        }
    }
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ULL;
    return h >> 2;
}

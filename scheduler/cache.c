/*
 * cache.c - see cache.h.
 *
 * Invariants (under lock): a slot is in use iff key[0] != '\0'; body is
 * NULL until the first put (then len bytes plus a NUL, malloc'd); made is
 * when body was made; claimed >= 0 is when a caller was told to make a new
 * body (-1: nobody is).
 */
#include "cache.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "sched_errors.h"

struct slot {
    char key[OZ_CACHE_KEY_MAX];
    char *body;
    size_t len;
    double made, claimed;
};

struct oz_cache {
    pthread_mutex_t lock;
    double max_age;
    size_t n;
    struct slot *slots;
};

int oz_cache_new(size_t slots, double max_age_s, oz_cache **out)
{
    *out = NULL;
    if (slots < 1 || !(max_age_s >= 0))
        return OZ_SCHED_EINVAL;
    oz_cache *c = calloc(1, sizeof *c);
    if (!c)
        return OZ_SCHED_ENOMEM;
    c->slots = calloc(slots, sizeof *c->slots);
    if (!c->slots || pthread_mutex_init(&c->lock, NULL) != 0) {
        free(c->slots);
        free(c);
        return OZ_SCHED_ENOMEM;
    }
    c->n = slots;
    c->max_age = max_age_s;
    *out = c;
    return 0;
}

void oz_cache_free(oz_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        free(c->slots[i].body);
    pthread_mutex_destroy(&c->lock);
    free(c->slots);
    free(c);
}

/* key's slot, or NULL (under lock). */
static struct slot *find(oz_cache *c, const char *key)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->slots[i].key[0] && strcmp(c->slots[i].key, key) == 0)
            return &c->slots[i];
    return NULL;
}

/* A slot for a new key: an empty one, else the one made longest ago that
 * nobody is making (under lock); NULL when every slot is being made. */
static struct slot *evict(oz_cache *c)
{
    struct slot *best = NULL;
    for (size_t i = 0; i < c->n; i++) {
        struct slot *s = &c->slots[i];
        if (!s->key[0])
            return s;
        if (s->claimed < 0 && (!best || s->made < best->made))
            best = s;
    }
    if (best) {
        free(best->body);
        memset(best, 0, sizeof *best);
    }
    return best;
}

static bool claimable(const struct slot *s, double now)
{
    return s->claimed < 0 || now - s->claimed > OZ_CACHE_CLAIM_S;
}

int oz_cache_get(oz_cache *c, const char *key, double now, char **body, size_t *len)
{
    *body = NULL;
    *len = 0;
    if (c->max_age <= 0 || strlen(key) >= OZ_CACHE_KEY_MAX)
        return OZ_CACHE_MISS;
    int rc = OZ_CACHE_MISS;
    pthread_mutex_lock(&c->lock);
    struct slot *s = find(c, key);
    if (!s) {
        if ((s = evict(c))) {
            memcpy(s->key, key, strlen(key) + 1);
            s->claimed = now;
        }
        goto out;
    }
    bool fresh = s->body && now - s->made < c->max_age;
    if (!fresh && claimable(s, now)) {
        s->claimed = now; /* this caller makes it; the others get the old one */
        goto out;
    }
    if (!s->body) /* the first is being made: make it too */
        goto out;
    char *copy = malloc(s->len + 1);
    if (copy) {
        memcpy(copy, s->body, s->len + 1);
        *body = copy;
        *len = s->len;
        rc = OZ_CACHE_HIT;
    }
out:
    pthread_mutex_unlock(&c->lock);
    return rc;
}

void oz_cache_put(oz_cache *c, const char *key, const char *body, size_t len, double now)
{
    if (c->max_age <= 0 || strlen(key) >= OZ_CACHE_KEY_MAX)
        return;
    char *copy = malloc(len + 1);
    if (!copy) {
        oz_cache_abandon(c, key);
        return;
    }
    memcpy(copy, body, len);
    copy[len] = '\0';
    pthread_mutex_lock(&c->lock);
    struct slot *s = find(c, key);
    if (!s && (s = evict(c)))
        memcpy(s->key, key, strlen(key) + 1);
    if (s && (!s->body || now >= s->made)) { /* never replace a newer answer */
        free(s->body);
        s->body = copy;
        s->len = len;
        s->made = now;
        s->claimed = -1;
        copy = NULL;
    }
    pthread_mutex_unlock(&c->lock);
    free(copy);
}

void oz_cache_abandon(oz_cache *c, const char *key)
{
    pthread_mutex_lock(&c->lock);
    struct slot *s = find(c, key);
    if (s)
        s->claimed = -1;
    pthread_mutex_unlock(&c->lock);
}

/*
 * conns.c - see conns.h.
 *
 * Layout: `conns` holds one record per connection (total of them, a free
 * list threading the unused ones); two hash tables with linear probing
 * find things in it - `byfd` from a descriptor to its record's index, and
 * `byaddr` from a client address to its count of open connections.  Each
 * table has at least twice as many slots as there can be entries, so a
 * probe is short and always ends at an empty slot; a removal shifts the
 * entries after it back (no tombstones), so the tables never degrade.
 *
 * Invariants (under lock): a record is in use iff its fd >= 0, and then
 * byfd maps fd to it and byaddr counts it under its key; open is the number
 * of records in use; a map slot is empty iff its `used` is 0.
 */
#include "conns.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "sched_errors.h"

struct conn {
    int fd; /* -1: free */
    int next_free;
    uint64_t key;
    oz_conn_phase phase;
    double since;  /* when the phase began */
    uint64_t body; /* body bytes read in this phase */
    bool begun;    /* libmicrohttpd serves it: the sweep may close it */
    bool named;    /* the sweep has named it already */
};

struct entry {
    uint64_t key;
    uint32_t val;
    unsigned char used;
};

struct map {
    struct entry *e;
    size_t mask;
};

struct oz_conns {
    pthread_mutex_t lock;
    oz_conns_limits lim;
    struct conn *conns; /* lim.total */
    int free_head;      /* -1: none */
    size_t open;
    struct map byfd;   /* fd -> index into conns */
    struct map byaddr; /* address key -> connections open from it */
};

static uint64_t mix(uint64_t x) /* splitmix64's finaliser */
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

/* The slot of key, or of the empty slot where it would go. */
static size_t map_find(const struct map *m, uint64_t key)
{
    size_t i = (size_t)mix(key) & m->mask;
    while (m->e[i].used && m->e[i].key != key)
        i = (i + 1) & m->mask;
    return i;
}

/* Empties slot i, moving back the entries that probed past it. */
static void map_remove(struct map *m, size_t i)
{
    size_t j = i;
    for (;;) {
        j = (j + 1) & m->mask;
        if (!m->e[j].used)
            break;
        size_t home = (size_t)mix(m->e[j].key) & m->mask;
        /* does home lie cyclically in (i, j]?  then e[j] may stay */
        bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (stays)
            continue;
        m->e[i] = m->e[j];
        i = j;
    }
    m->e[i].used = 0;
}

static int map_init(struct map *m, size_t entries)
{
    size_t n = 16;
    while (n < 2 * entries)
        n <<= 1;
    m->e = calloc(n, sizeof *m->e);
    m->mask = n - 1;
    return m->e ? 0 : OZ_SCHED_ENOMEM;
}

int oz_conns_new(const oz_conns_limits *l, oz_conns **out)
{
    *out = NULL;
    if (l->total < 1 || l->total > (1u << 24) || !(l->header_s > 0))
        return OZ_SCHED_EINVAL;
    oz_conns *c = calloc(1, sizeof *c);
    if (!c)
        return OZ_SCHED_ENOMEM;
    c->lim = *l;
    c->conns = calloc(l->total, sizeof *c->conns);
    if (!c->conns || map_init(&c->byfd, l->total) || map_init(&c->byaddr, l->total) ||
        pthread_mutex_init(&c->lock, NULL) != 0) {
        free(c->byaddr.e);
        free(c->byfd.e);
        free(c->conns);
        free(c);
        return OZ_SCHED_ENOMEM;
    }
    for (size_t i = 0; i < l->total; i++) {
        c->conns[i].fd = -1;
        c->conns[i].next_free = i + 1 < l->total ? (int)(i + 1) : -1;
    }
    c->free_head = 0;
    *out = c;
    return 0;
}

void oz_conns_free(oz_conns *c)
{
    if (!c)
        return;
    pthread_mutex_destroy(&c->lock);
    free(c->byaddr.e);
    free(c->byfd.e);
    free(c->conns);
    free(c);
}

/* The record of fd, or NULL (under lock). */
static struct conn *find(oz_conns *c, int fd)
{
    size_t i = map_find(&c->byfd, (uint64_t)fd);
    return c->byfd.e[i].used ? &c->conns[c->byfd.e[i].val] : NULL;
}

/* Uncounts fd's record (under lock). */
static void drop(oz_conns *c, int fd)
{
    size_t i = map_find(&c->byfd, (uint64_t)fd);
    if (!c->byfd.e[i].used)
        return;
    uint32_t idx = c->byfd.e[i].val;
    map_remove(&c->byfd, i);
    struct conn *k = &c->conns[idx];
    size_t a = map_find(&c->byaddr, k->key);
    if (c->byaddr.e[a].used && --c->byaddr.e[a].val == 0)
        map_remove(&c->byaddr, a);
    k->fd = -1;
    k->next_free = c->free_head;
    c->free_head = (int)idx;
    c->open--;
}

int oz_conns_admit(oz_conns *c, int fd, uint64_t addr_key, double now)
{
    int rc = 0;
    pthread_mutex_lock(&c->lock);
    drop(c, fd); /* a descriptor closed without its release: reused now */
    size_t a = map_find(&c->byaddr, addr_key);
    uint32_t from = c->byaddr.e[a].used ? c->byaddr.e[a].val : 0;
    if (c->lim.per_addr && from >= c->lim.per_addr) {
        rc = OZ_CONNS_ADDR_FULL;
        goto out;
    }
    if (c->free_head < 0) {
        rc = OZ_CONNS_FULL;
        goto out;
    }
    int idx = c->free_head;
    struct conn *k = &c->conns[idx];
    c->free_head = k->next_free;
    *k = (struct conn){
        .fd = fd, .next_free = -1, .key = addr_key, .phase = OZ_CONN_HEADERS, .since = now};
    size_t f = map_find(&c->byfd, (uint64_t)fd);
    c->byfd.e[f] = (struct entry){.key = (uint64_t)fd, .val = (uint32_t)idx, .used = 1};
    c->byaddr.e[a] = (struct entry){.key = addr_key, .val = from + 1, .used = 1};
    c->open++;
out:
    pthread_mutex_unlock(&c->lock);
    return rc;
}

void oz_conns_begun(oz_conns *c, int fd)
{
    pthread_mutex_lock(&c->lock);
    struct conn *k = find(c, fd);
    if (k)
        k->begun = true;
    pthread_mutex_unlock(&c->lock);
}

void oz_conns_release(oz_conns *c, int fd)
{
    pthread_mutex_lock(&c->lock);
    drop(c, fd);
    pthread_mutex_unlock(&c->lock);
}

void oz_conns_phase(oz_conns *c, int fd, oz_conn_phase p, double now)
{
    pthread_mutex_lock(&c->lock);
    struct conn *k = find(c, fd);
    if (k) {
        k->phase = p;
        k->since = now;
        k->body = 0;
    }
    pthread_mutex_unlock(&c->lock);
}

void oz_conns_body(oz_conns *c, int fd, size_t n)
{
    pthread_mutex_lock(&c->lock);
    struct conn *k = find(c, fd);
    if (k)
        k->body += n;
    pthread_mutex_unlock(&c->lock);
}

/* Is k past its deadline at now? */
static bool past(const oz_conns_limits *l, const struct conn *k, double now)
{
    double age = now - k->since;
    switch (k->phase) {
    case OZ_CONN_HEADERS:
        return age > l->header_s;
    case OZ_CONN_BODY:
        return l->body_rate > 0 && age > l->header_s + (double)k->body / l->body_rate;
    default:
        return false;
    }
}

size_t oz_conns_sweep(oz_conns *c, double now, void (*fn)(int fd, void *arg), void *arg)
{
    size_t n = 0;
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < c->lim.total; i++) {
        struct conn *k = &c->conns[i];
        if (k->fd < 0 || !k->begun || k->named || !past(&c->lim, k, now))
            continue;
        k->named = true;
        fn(k->fd, arg);
        n++;
    }
    pthread_mutex_unlock(&c->lock);
    return n;
}

size_t oz_conns_open(oz_conns *c)
{
    pthread_mutex_lock(&c->lock);
    size_t n = c->open;
    pthread_mutex_unlock(&c->lock);
    return n;
}

size_t oz_conns_open_from(oz_conns *c, uint64_t addr_key)
{
    pthread_mutex_lock(&c->lock);
    size_t a = map_find(&c->byaddr, addr_key);
    size_t n = c->byaddr.e[a].used ? c->byaddr.e[a].val : 0;
    pthread_mutex_unlock(&c->lock);
    return n;
}

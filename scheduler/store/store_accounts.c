/*
 * store_accounts.c - accounts, teams and hosts in the database (store.h).
 * Credentials are never stored: only their keyed hashes, which are unique
 * and indexed, so authenticating a request is one index lookup - or none,
 * for a host key seen before (the cache below).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "name.h"
#include "store_internal.h"

/* ---- the host-key cache ------------------------------------------------------------------- */

/* A direct-mapped table of the host keys seen: the slot is chosen by the
 * key hash's first bytes (already uniform: it is a keyed BLAKE2b), and a
 * newer key simply replaces an older one in its slot.  Hosts cannot change
 * their key, limits or account, but the operator may ban one (`ozma-server
 * host ban`, another process): so an entry is trusted for AUTH_RECHECK_S
 * only, and then the database is asked again, and a banned host is never
 * kept.  A ban thus shuts a host out within that time, while a host that
 * asks many times a second still costs one lookup a second.  Striped locks
 * keep the pool threads from queueing on one mutex. */
#define AUTH_SLOTS 65536u
#define AUTH_STRIPES 64u
#define AUTH_RECHECK_S 1.0

typedef struct auth_slot {
    bool used;
    unsigned char hash[32];
    double seen; /* monotonic seconds the database last vouched for it */
    oz_host_auth auth;
} auth_slot;

struct oz_auth_cache {
    pthread_mutex_t stripe[AUTH_STRIPES];
    auth_slot slot[AUTH_SLOTS];
};

struct oz_auth_cache *oz_auth_cache_new(void)
{
    struct oz_auth_cache *c = calloc(1, sizeof *c);
    if (c)
        for (unsigned i = 0; i < AUTH_STRIPES; i++)
            pthread_mutex_init(&c->stripe[i], NULL);
    return c;
}

void oz_auth_cache_free(struct oz_auth_cache *c)
{
    if (!c)
        return;
    for (unsigned i = 0; i < AUTH_STRIPES; i++)
        pthread_mutex_destroy(&c->stripe[i]);
    free(c);
}

static unsigned auth_index(const unsigned char hash[32])
{
    return ((unsigned)hash[0] | (unsigned)hash[1] << 8) % AUTH_SLOTS;
}

static double mono_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static bool auth_get(struct oz_auth_cache *c, const unsigned char hash[32], oz_host_auth *out)
{
    if (!c)
        return false;
    unsigned i = auth_index(hash);
    pthread_mutex_t *m = &c->stripe[i % AUTH_STRIPES];
    double now = mono_s();
    pthread_mutex_lock(m);
    bool hit = c->slot[i].used && memcmp(c->slot[i].hash, hash, 32) == 0 &&
               now - c->slot[i].seen < AUTH_RECHECK_S;
    if (hit)
        *out = c->slot[i].auth;
    pthread_mutex_unlock(m);
    return hit;
}

static void auth_put(struct oz_auth_cache *c, const unsigned char hash[32], const oz_host_auth *a)
{
    if (!c)
        return;
    unsigned i = auth_index(hash);
    pthread_mutex_t *m = &c->stripe[i % AUTH_STRIPES];
    double now = mono_s();
    pthread_mutex_lock(m);
    c->slot[i].used = true;
    c->slot[i].seen = now;
    memcpy(c->slot[i].hash, hash, 32);
    c->slot[i].auth = *a;
    pthread_mutex_unlock(m);
}

/* ---- accounts, teams, hosts --------------------------------------------------------------- */

int oz_store_account_create(oz_store *s, const char *name, const char *email, int64_t team_id,
                            const char *team_name, const unsigned char auth_hash[32], int64_t now,
                            int64_t *account_id, char *why, size_t whylen)
{
    int rc = oz_store_wbegin(s, 1, why, whylen);
    if (rc != OZ_SCHED_OK)
        return rc;
    oz_sql_stmt *st;
    char key[OZ_NAME_KEY_BYTES];
    if (team_name && (rc = oz_name_key(team_name, key, sizeof key)) != 0) {
        rc = oz_sched_fail(rc, why, whylen, "cannot compare the team name");
        goto fail;
    }
    if (team_name || team_id) {
        if (!(st = oz_store_stmt(s,
                                 team_name ? "SELECT id FROM teams WHERE name_key = ?"
                                           : "SELECT id FROM teams WHERE id = ?",
                                 why, whylen)))
            goto dberr;
        if (team_name)
            oz_sql_bind_text(st, 1, key, -1);
        else
            oz_sql_bind_int64(st, 1, team_id);
        int step = oz_sql_step(st);
        if (step == OZ_SQL_ROW)
            team_id = oz_sql_column_int64(st, 0);
        oz_sql_reset(st);
        if (step != OZ_SQL_ROW) {
            rc = team_name ? oz_sched_fail(OZ_SCHED_ENOTFOUND, why, whylen,
                                           "no team is named \"%s\"", team_name)
                           : oz_sched_fail(OZ_SCHED_ENOTFOUND, why, whylen,
                                           "team %lld does not exist", (long long)team_id);
            goto fail;
        }
    }
    if (!(st = oz_store_stmt(s,
                             "INSERT INTO accounts(name, email, team_id, auth_hash, created)"
                             " VALUES(?, ?, ?, ?, ?) RETURNING id",
                             why, whylen)))
        goto dberr;
    oz_sql_bind_text(st, 1, name, -1);
    if (email)
        oz_sql_bind_text(st, 2, email, -1);
    if (team_id)
        oz_sql_bind_int64(st, 3, team_id);
    oz_sql_bind_blob(st, 4, auth_hash, 32);
    oz_sql_bind_int64(st, 5, now);
    if ((rc = oz_store_insert_id(s, st, account_id, why, whylen)) != OZ_SCHED_OK)
        goto fail;
    return oz_store_wcommit(s, why, whylen);
dberr:
    rc = OZ_SCHED_EDB;
fail:
    oz_store_wrollback(s);
    return rc;
}

/* Looks up a 32-byte hash in `sql` (one blob parameter, selecting
 * columns): *out on its row, OZ_SCHED_ENOTFOUND with none, or the
 * lookup's failure (EBUSY, a 503, while the database is unreachable): a
 * token the database could not be asked about is not an unknown one. */
static int by_hash(oz_store *s, const char *sql, const unsigned char hash[32], oz_sql_stmt **out)
{
    char why[256];
    *out = NULL;
    oz_sql_stmt *st = oz_store_stmt(s, sql, why, sizeof why);
    if (!st)
        return OZ_SCHED_EDB;
    oz_sql_bind_blob(st, 1, hash, 32);
    int step = oz_sql_step(st);
    if (step == OZ_SQL_ROW) {
        *out = st;
        return OZ_SCHED_OK;
    }
    int rc = step == OZ_SQL_DONE ? OZ_SCHED_ENOTFOUND
                                 : oz_store_dberr(s, "authentication", why, sizeof why);
    oz_sql_reset(st);
    return rc;
}

int oz_store_account_by_auth(oz_store *s, const unsigned char auth_hash[32], int64_t *account_id)
{
    oz_sql_stmt *st;
    int rc = by_hash(s, "SELECT id FROM accounts WHERE auth_hash = ?", auth_hash, &st);
    if (rc != OZ_SCHED_OK)
        return rc;
    *account_id = oz_sql_column_int64(st, 0);
    oz_sql_reset(st);
    return OZ_SCHED_OK;
}

int oz_store_host_by_key(oz_store *s, const unsigned char key_hash[32], oz_host_auth *out)
{
    if (auth_get(s->db->auth, key_hash, out))
        return OZ_SCHED_OK;
    oz_sql_stmt *st;
    int rc = by_hash(
        s, "SELECT id, account_id, ncpus, flops, banned IS NOT NULL FROM hosts WHERE key_hash = ?",
        key_hash, &st);
    if (rc != OZ_SCHED_OK)
        return rc;
    out->host_id = oz_sql_column_int64(st, 0);
    out->account_id = oz_sql_column_int64(st, 1);
    out->ncpus = oz_sql_column_int(st, 2);
    out->flops = oz_sql_column_double(st, 3);
    bool banned = oz_sql_column_int(st, 4) != 0;
    oz_sql_reset(st);
    if (banned)
        return OZ_SCHED_EFORBIDDEN;
    auth_put(s->db->auth, key_hash, out);
    return OZ_SCHED_OK;
}

int oz_store_team_create(oz_store *s, int64_t account_id, const char *name, const char *description,
                         int64_t now, int64_t *team_id, char *why, size_t whylen)
{
    char key[OZ_NAME_KEY_BYTES];
    int rc = oz_name_key(name, key, sizeof key);
    if (rc != 0)
        return oz_sched_fail(rc, why, whylen, "cannot compare the team name");
    if ((rc = oz_store_wbegin(s, 1, why, whylen)) != OZ_SCHED_OK)
        return rc;
    oz_sql_stmt *st =
        oz_store_stmt(s, "SELECT id, name FROM teams WHERE name_key = ?", why, whylen);
    if (!st)
        goto dberr;
    oz_sql_bind_text(st, 1, key, -1);
    if (oz_sql_step(st) == OZ_SQL_ROW) {
        rc = oz_sched_fail(OZ_SCHED_EEXIST, why, whylen,
                           "team name \"%s\" is taken: it reads as team %lld, \"%s\"", name,
                           (long long)oz_sql_column_int64(st, 0), oz_store_col_text(st, 1));
        oz_sql_reset(st);
        goto fail;
    }
    oz_sql_reset(st);
    if (!(st = oz_store_stmt(s,
                             "INSERT INTO teams(name, name_key, description, founder, created)"
                             " VALUES(?, ?, ?, ?, ?) RETURNING id",
                             why, whylen)))
        goto dberr;
    oz_sql_bind_text(st, 1, name, -1);
    oz_sql_bind_text(st, 2, key, -1);
    oz_sql_bind_text(st, 3, description ? description : "", -1);
    oz_sql_bind_int64(st, 4, account_id);
    oz_sql_bind_int64(st, 5, now);
    if ((rc = oz_store_insert_id(s, st, team_id, why, whylen)) != OZ_SCHED_OK)
        goto fail;
    if (!(st = oz_store_stmt(s, "UPDATE accounts SET team_id = ? WHERE id = ?", why, whylen)))
        goto dberr;
    oz_sql_bind_int64(st, 1, *team_id);
    oz_sql_bind_int64(st, 2, account_id);
    if ((rc = oz_store_exec_stmt(s, st, why, whylen)) != OZ_SCHED_OK)
        goto fail;
    return oz_store_wcommit(s, why, whylen);
dberr:
    rc = OZ_SCHED_EDB;
fail:
    oz_store_wrollback(s);
    return rc;
}

int oz_store_team_join(oz_store *s, int64_t account_id, int64_t team_id, char *why, size_t whylen)
{
    int rc = oz_store_wbegin(s, 1, why, whylen);
    if (rc != OZ_SCHED_OK)
        return rc;
    oz_sql_stmt *st = oz_store_stmt(s,
                                     "UPDATE accounts SET team_id = ?1 WHERE id = ?2 AND "
                                     "EXISTS(SELECT 1 FROM teams WHERE id = ?1)",
                                     why, whylen);
    if (!st) {
        oz_store_wrollback(s);
        return OZ_SCHED_EDB;
    }
    oz_sql_bind_int64(st, 1, team_id);
    oz_sql_bind_int64(st, 2, account_id);
    if ((rc = oz_store_exec_stmt(s, st, why, whylen)) != OZ_SCHED_OK) {
        oz_store_wrollback(s);
        return rc;
    }
    if (oz_sql_changes(s->conn) == 0) {
        oz_store_wrollback(s);
        return oz_sched_fail(OZ_SCHED_ENOTFOUND, why, whylen, "team %lld does not exist",
                             (long long)team_id);
    }
    return oz_store_wcommit(s, why, whylen);
}

int oz_store_host_create(oz_store *s, int64_t account_id, const oz_host_info *h, int max_hosts,
                         int max_per_day, const unsigned char key_hash[32], int64_t now,
                         int64_t *host_id, char *why, size_t whylen)
{
    int rc = oz_store_wbegin(s, 1, why, whylen);
    if (rc != OZ_SCHED_OK)
        return rc;
    /* counted inside the write transaction, so two at once cannot both pass
     * (the account's hosts are at most max_hosts rows of its index); on
     * PostgreSQL with the account's row locked, so that two schedulers'
     * registrations for one account count one after the other */
    bool got;
    if ((rc = oz_store_lock(s, "SELECT id FROM accounts WHERE id = ? /*PG: FOR UPDATE */",
                            account_id, &got, why, whylen)) != OZ_SCHED_OK)
        goto fail;
    oz_sql_stmt *st = oz_store_stmt(s,
                                     "SELECT count(*), count(CASE WHEN created > ?2 THEN 1 END)"
                                     " FROM hosts"
                                     " WHERE account_id = ?1",
                                     why, whylen);
    if (!st)
        goto dberr;
    oz_sql_bind_int64(st, 1, account_id);
    oz_sql_bind_int64(st, 2, now - 86400);
    int step = oz_sql_step(st);
    int64_t nhosts = step == OZ_SQL_ROW ? oz_sql_column_int64(st, 0) : 0;
    int64_t nday = step == OZ_SQL_ROW ? oz_sql_column_int64(st, 1) : 0;
    oz_sql_reset(st);
    if (step != OZ_SQL_ROW) {
        rc = oz_sched_fail(OZ_SCHED_EDB, why, whylen, "counting account %lld's hosts failed",
                           (long long)account_id);
        goto fail;
    }
    if (nhosts >= max_hosts) {
        rc = oz_sched_fail(OZ_SCHED_EFORBIDDEN, why, whylen,
                           "account %lld has %lld hosts already, the project's "
                           "max_hosts_per_account",
                           (long long)account_id, (long long)nhosts);
        goto fail;
    }
    if (nday >= max_per_day) {
        rc = oz_sched_fail(OZ_SCHED_EFORBIDDEN, why, whylen,
                           "account %lld has registered %lld hosts in the last 24 hours, the "
                           "project's max_hosts_per_account_day",
                           (long long)account_id, (long long)nday);
        goto fail;
    }
    if (!(st = oz_store_stmt(s,
                             "INSERT INTO hosts(account_id, name, os, ncpus, flops,"
                             " memory_mb, key_hash, created) VALUES(?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                             why, whylen)))
        goto dberr;
    oz_sql_bind_int64(st, 1, account_id);
    oz_sql_bind_text(st, 2, h->name, -1);
    oz_sql_bind_text(st, 3, h->os, -1);
    oz_sql_bind_int(st, 4, h->ncpus);
    oz_sql_bind_double(st, 5, h->flops);
    oz_sql_bind_int64(st, 6, h->memory_mb);
    oz_sql_bind_blob(st, 7, key_hash, 32);
    oz_sql_bind_int64(st, 8, now);
    if ((rc = oz_store_insert_id(s, st, host_id, why, whylen)) != OZ_SCHED_OK)
        goto fail;
    return oz_store_wcommit(s, why, whylen);
dberr:
    rc = OZ_SCHED_EDB;
fail:
    oz_store_wrollback(s);
    return rc;
}

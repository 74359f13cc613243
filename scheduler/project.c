/*
 * project.c - the project directory: creating it, and reading its
 * configuration and secret key (see project.h).
 *
 * The configuration is described once, by the table `keys` below (JSON key,
 * type, field offset, range): the loader, the writer and the defaults all
 * walk it, so a new key is one line.  The loader validates the whole file
 * into a copy and only then replaces the caller's struct.
 */
#include "project.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "ozma_workunits.h"
#include "sched_errors.h"
#include "store.h"
#include "text.h"

enum ktype { K_INT, K_BOOL, K_DOUBLE, K_NAME, K_BIND, K_NSIDE, K_BANDS, K_URL, K_DBURI };

struct key {
    const char *name;
    enum ktype type;
    size_t off;
    double min, max;
};

#define F(field) offsetof(oz_project_config, field)
static const struct key keys[] = {
    {"name", K_NAME, F(name), 0, 0},
    {"bind", K_BIND, F(bind), 0, 0},
    {"port", K_INT, F(port), 0, 65535},
    {"http_threads", K_INT, F(http_threads), 1, 256},
    {"connection_limit", K_INT, F(connection_limit), 1, 100000},
    {"per_ip_connection_limit", K_INT, F(per_ip_connection_limit), 0, 100000},
    {"connection_timeout_s", K_INT, F(connection_timeout_s), 1, 3600},
    {"header_timeout_s", K_INT, F(header_timeout_s), 1, 3600},
    {"body_min_rate", K_INT, F(body_min_rate), 0, 1e9},
    {"connection_memory_limit", K_INT, F(connection_memory_limit), 8192, 1048576},
    {"rate_per_host", K_DOUBLE, F(rate_per_host), 1e-3, 1e6},
    {"rate_burst", K_DOUBLE, F(rate_burst), 1, 1e7},
    {"read_rate", K_DOUBLE, F(read_rate), 1e-3, 1e6},
    {"read_burst", K_DOUBLE, F(read_burst), 1, 1e7},
    {"read_cache_s", K_DOUBLE, F(read_cache_s), 0, 3600},
    {"max_in_progress_per_cpu", K_INT, F(max_in_progress_per_cpu), 1, 1000},
    {"max_ncpus", K_INT, F(max_ncpus), 1, 1024},
    {"new_host_ncpus", K_INT, F(new_host_ncpus), 1, 1024},
    {"daily_result_quota", K_INT, F(daily_result_quota), 1, 1000000},
    {"adaptive", K_INT, F(adaptive), 0, 1},
    {"adaptive_trust_after", K_INT, F(adaptive_trust_after), 1, 1000000},
    {"adaptive_replicate_floor", K_DOUBLE, F(adaptive_replicate_floor), 0, 1},
    {"canary_fraction", K_DOUBLE, F(canary_fraction), 0, 1},
    {"max_hosts_per_account", K_INT, F(max_hosts_per_account), 1, 1000000},
    {"max_hosts_per_account_day", K_INT, F(max_hosts_per_account_day), 1, 1000000},
    {"next_rpc_delay", K_INT, F(next_rpc_delay), 1, 86400},
    {"body_limit_json", K_INT, F(body_limit_json), 1024, 65536},
    {"body_limit_result", K_INT, F(body_limit_result), 1024, OZ_WU_RESULT_MAX},
    {"job_tick_s", K_DOUBLE, F(job_tick_s), 0.01, 3600},
    {"drain_timeout_s", K_DOUBLE, F(drain_timeout_s), 0, 600},
    {"candidate_nside", K_NSIDE, F(cand.nside), 1, OZ_WU_NSIDE_MAX},
    {"candidate_link_bins", K_DOUBLE, F(cand.link_bins), 0, 1000},
    {"candidate_link_gap_units", K_DOUBLE, F(cand.link_gap_units), 0, 1000},
    {"candidate_bary_tol_hz", K_DOUBLE, F(cand.bary_tol_hz), 0, 1e6},
    {"rfi_freq_tol_hz", K_DOUBLE, F(cand.rfi_freq_tol_hz), 0, 1e6},
    {"rfi_min_pixels", K_INT, F(cand.rfi_min_pixels), 2, 1000000},
    {"rfi_zero_drift_hz_s", K_DOUBLE, F(cand.rfi_zero_drift_hz_s), 0, 1e6},
    {"rfi_bands", K_BANDS, F(cand), 0, 0},
    {"stats_interval_s", K_DOUBLE, F(stats_interval_s), 1, 2592000},
    {"keep_units", K_BOOL, F(keep_units), 0, 1},
    {"purge_after_days", K_DOUBLE, F(purge_after_days), 0, 36500},
    {"lifecycle_interval_s", K_DOUBLE, F(lifecycle_interval_s), 0.1, 86400},
    {"units_url", K_URL, F(units_url), 0, 0},
    {"database", K_DBURI, F(database), 0, 0},
};
#undef F
#define NKEYS (sizeof keys / sizeof keys[0])

void oz_project_config_default(oz_project_config *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "ozma");
    snprintf(c->bind, sizeof c->bind, "127.0.0.1");
    c->port = 8080;
    c->http_threads = 16;
    c->connection_limit = 4096;
    c->per_ip_connection_limit = 64;
    c->connection_timeout_s = 30;
    c->header_timeout_s = 10;
    c->body_min_rate = 8192;
    c->connection_memory_limit = 65536;
    c->rate_per_host = 20;
    c->rate_burst = 100;
    c->read_rate = 20;
    c->read_burst = 200;
    c->read_cache_s = 1;
    c->max_in_progress_per_cpu = 4;
    c->max_ncpus = 64;
    c->new_host_ncpus = 4;
    c->daily_result_quota = 100;
    c->adaptive = 0;
    c->adaptive_trust_after = 10;
    c->adaptive_replicate_floor = 0.05;
    c->canary_fraction = 0.05;
    c->max_hosts_per_account = 100;
    c->max_hosts_per_account_day = 10;
    c->next_rpc_delay = 60;
    c->body_limit_json = 65536;
    c->body_limit_result = OZ_WU_RESULT_MAX;
    c->job_tick_s = 1.0;
    c->drain_timeout_s = 10.0;
    oz_cand_config_default(&c->cand);
    c->stats_interval_s = 86400;
    c->keep_units = 0;
    c->purge_after_days = 7;
    c->lifecycle_interval_s = 600;
}

/* rfi_bands: at most OZ_CAND_BANDS_MAX [lo, hi] pairs of finite Hz, lo <= hi. */
static int bands_from_json(const json_t *v, oz_cand_config *c, char *why, size_t whylen)
{
    size_t n = json_array_size(v);
    if (!json_is_array(v) || n > OZ_CAND_BANDS_MAX)
        return oz_sched_fail(OZ_SCHED_EINVAL, why, whylen,
                             "rfi_bands: expected an array of at most %d [lo_hz, hi_hz] pairs",
                             OZ_CAND_BANDS_MAX);
    for (size_t i = 0; i < n; i++) {
        const json_t *b = json_array_get(v, i);
        const json_t *lo = json_array_get(b, 0), *hi = json_array_get(b, 1);
        if (json_array_size(b) != 2 || !json_is_number(lo) || !json_is_number(hi) ||
            !isfinite(json_number_value(lo)) || !isfinite(json_number_value(hi)) ||
            json_number_value(lo) > json_number_value(hi))
            return oz_sched_fail(OZ_SCHED_EINVAL, why, whylen,
                                 "rfi_bands[%zu]: expected [lo_hz, hi_hz] with lo <= hi", i);
        c->bands[i][0] = json_number_value(lo);
        c->bands[i][1] = json_number_value(hi);
    }
    c->nbands = n;
    return 0;
}

/* units_url: "" (the scheduler serves the files), or http:// or https://,
 * a host, then only letters, digits and "-._~:/%[]+" (what a worker takes
 * in an assignment's url: worker/task.c), no "..", no query (NAME.ozwu is
 * appended); a '/' is added at the end when missing. */
static int url_from_json(const char *k, const char *t, char *out, char *why, size_t whylen)
{
    size_t len = strlen(t);
    if (len == 0) {
        out[0] = '\0';
        return 0;
    }
    size_t scheme = strncmp(t, "http://", 7) == 0 ? 7 : strncmp(t, "https://", 8) == 0 ? 8 : 0;
    bool ok = scheme > 0 && len > scheme && t[scheme] != '/' && !strstr(t, "..") &&
              len + (t[len - 1] != '/') <= OZ_PROJECT_URL_MAX;
    for (size_t i = scheme; ok && i < len; i++)
        ok = (t[i] >= 'a' && t[i] <= 'z') || (t[i] >= 'A' && t[i] <= 'Z') ||
             (t[i] >= '0' && t[i] <= '9') || strchr("-._~:/%[]+", t[i]);
    if (!ok)
        return oz_sched_fail(OZ_SCHED_EINVAL, why, whylen,
                             "%s: \"%.64s\" is not an http:// or https:// URL of at most %d "
                             "letters, digits and -._~:/%%[]+",
                             k, t, OZ_PROJECT_URL_MAX);
    memcpy(out, t, len); /* fits: len + 1 <= OZ_PROJECT_URL_MAX */
    if (t[len - 1] != '/')
        out[len++] = '/';
    out[len] = '\0';
    return 0;
}

/* database: "" (DIR/ozma.db, SQLite), or a libpq URI postgresql://... or
 * postgres://... of printable ASCII without spaces, and without a password:
 * that comes from PGPASSFILE or PGPASSWORD, never from a file that is
 * copied and shown. */
static int dburi_from_json(const char *k, const char *t, char *out, char *why, size_t whylen)
{
    size_t len = strlen(t);
    size_t scheme = strncmp(t, "postgresql://", 13) == 0 ? 13
                    : strncmp(t, "postgres://", 11) == 0 ? 11
                                                         : 0;
    bool ok = len == 0 || (scheme > 0 && len <= OZ_PROJECT_DBURI_MAX);
    for (size_t i = 0; ok && i < len; i++)
        ok = t[i] > ' ' && t[i] < 0x7f;
    if (!ok)
        return oz_sched_fail(OZ_SCHED_EINVAL, why, whylen,
                             "%s: \"%.64s\" is not a postgresql:// URI of at most %d printable "
                             "characters",
                             k, t, OZ_PROJECT_DBURI_MAX);
    const char *at = strchr(t + scheme, '@'), *slash = strchr(t + scheme, '/');
    bool userinfo = at && (!slash || at < slash);
    if ((userinfo && memchr(t + scheme, ':', (size_t)(at - t - (ptrdiff_t)scheme))) ||
        strstr(t, "password="))
        return oz_sched_fail(OZ_SCHED_EINVAL, why, whylen,
                             "%s: the URI holds a password; give it in PGPASSFILE or PGPASSWORD "
                             "instead",
                             k);
    memcpy(out, t, len + 1);
    return 0;
}

static bool bind_valid(const char *s)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

int oz_project_config_from_json(const json_t *obj, oz_project_config *c, char *why, size_t whylen)
{
    if (!json_is_object(obj))
        return oz_sched_fail(OZ_SCHED_EINVAL, why, whylen, "expected an object, got %s",
                             oz_sci_json_type(obj));
    oz_project_config n = *c;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v)
    {
        if (strcmp(k, "version") == 0) {
            if (!json_is_integer(v) || json_integer_value(v) != OZ_PROJECT_CONFIG_VERSION)
                return oz_sched_fail(OZ_SCHED_EINVAL, why, whylen,
                                     "version: this build reads version %d",
                                     OZ_PROJECT_CONFIG_VERSION);
            continue;
        }
        const struct key *key = NULL;
        for (size_t i = 0; i < NKEYS; i++)
            if (strcmp(keys[i].name, k) == 0)
                key = &keys[i];
        if (!key)
            return oz_sched_fail(OZ_SCHED_EINVAL, why, whylen, "unknown key \"%.64s\"", k);
        char *field = (char *)&n + key->off;
        switch (key->type) {
        case K_BANDS: {
            int rc = bands_from_json(v, &n.cand, why, whylen);
            if (rc != 0)
                return rc;
            break;
        }
        case K_BOOL: {
            if (!json_is_boolean(v))
                return oz_sched_fail(OZ_SCHED_EINVAL, why, whylen,
                                     "%s: expected true or false, got %s", k, oz_sci_json_type(v));
            int iv = json_is_true(v);
            memcpy(field, &iv, sizeof iv);
            break;
        }
        case K_URL: {
            if (!json_is_string(v))
                return oz_sched_fail(OZ_SCHED_EINVAL, why, whylen, "%s: expected a string, got %s",
                                     k, oz_sci_json_type(v));
            int rc = url_from_json(k, json_string_value(v), field, why, whylen);
            if (rc != 0)
                return rc;
            break;
        }
        case K_DBURI: {
            if (!json_is_string(v))
                return oz_sched_fail(OZ_SCHED_EINVAL, why, whylen, "%s: expected a string, got %s",
                                     k, oz_sci_json_type(v));
            int rc = dburi_from_json(k, json_string_value(v), field, why, whylen);
            if (rc != 0)
                return rc;
            break;
        }
        case K_NSIDE:
        case K_INT: {
            if (!json_is_integer(v))
                return oz_sched_fail(OZ_SCHED_EINVAL, why, whylen,
                                     "%s: expected an integer, got %s", k, oz_sci_json_type(v));
            json_int_t x = json_integer_value(v);
            if ((double)x < key->min || (double)x > key->max)
                return oz_sched_fail(OZ_SCHED_EINVAL, why, whylen, "%s: %lld is outside %.0f..%.0f",
                                     k, (long long)x, key->min, key->max);
            int iv = (int)x;
            if (key->type == K_NSIDE && !oz_wu_nside_valid(iv))
                return oz_sched_fail(OZ_SCHED_EINVAL, why, whylen,
                                     "%s: %d is not a power of two from 1 to %d", k, iv,
                                     OZ_WU_NSIDE_MAX);
            memcpy(field, &iv, sizeof iv);
            break;
        }
        case K_DOUBLE: {
            if (!json_is_number(v))
                return oz_sched_fail(OZ_SCHED_EINVAL, why, whylen, "%s: expected a number, got %s",
                                     k, oz_sci_json_type(v));
            double x = json_number_value(v);
            if (!isfinite(x) || x < key->min || x > key->max)
                return oz_sched_fail(OZ_SCHED_EINVAL, why, whylen, "%s: %g is outside %g..%g", k, x,
                                     key->min, key->max);
            memcpy(field, &x, sizeof x);
            break;
        }
        case K_NAME:
        case K_BIND: {
            const char *t = json_string_value(v);
            if (!t)
                return oz_sched_fail(OZ_SCHED_EINVAL, why, whylen, "%s: expected a string, got %s",
                                     k, oz_sci_json_type(v));
            if (key->type == K_NAME && !oz_text_valid(t, OZ_PROJECT_NAME_MAX))
                return oz_sched_fail(OZ_SCHED_EINVAL, why, whylen,
                                     "%s: must be 1..%d characters without control characters", k,
                                     OZ_PROJECT_NAME_MAX);
            if (key->type == K_BIND && (strlen(t) > OZ_PROJECT_BIND_MAX || !bind_valid(t)))
                return oz_sched_fail(OZ_SCHED_EINVAL, why, whylen,
                                     "%s: \"%.64s\" is not an IPv4 or IPv6 address", k, t);
            size_t cap = key->type == K_NAME ? sizeof n.name : sizeof n.bind;
            snprintf(field, cap, "%s", t);
            break;
        }
        }
    }
    *c = n;
    return 0;
}

/* The file's parsed JSON (or NULL with err) into c; takes obj. */
static int decode(json_t *obj, const json_error_t *err, const char *name, oz_project_config *c,
                  char *why, size_t whylen)
{
    if (!obj)
        return oz_sched_fail(OZ_SCHED_EINVAL, why, whylen, "%s: line %d: %s", name, err->line,
                             err->text);
    char inner[256];
    int rc = oz_project_config_from_json(obj, c, inner, sizeof inner);
    json_decref(obj);
    if (rc != 0)
        return oz_sched_fail(rc, why, whylen, "%s: %s", name, inner);
    return 0;
}

int oz_project_config_load(const char *path, oz_project_config *c, char *why, size_t whylen)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return oz_sched_fail(errno == ENOENT ? OZ_SCHED_ENOTFOUND : OZ_SCHED_EIO, why, whylen,
                             "%s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode) || st.st_size > OZ_PROJECT_CONFIG_MAX)
        return oz_sched_fail(OZ_SCHED_EINVAL, why, whylen,
                             "%s: not a regular file of at most %d bytes", path,
                             OZ_PROJECT_CONFIG_MAX);
    json_error_t err;
    json_t *obj = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
    return decode(obj, &err, path, c, why, whylen);
}

int oz_project_config_parse(const char *buf, size_t len, const char *name, oz_project_config *c,
                            char *why, size_t whylen)
{
    if (len > OZ_PROJECT_CONFIG_MAX)
        return oz_sched_fail(OZ_SCHED_EINVAL, why, whylen, "%s: more than %d bytes", name,
                             OZ_PROJECT_CONFIG_MAX);
    json_error_t err;
    json_t *obj = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &err);
    return decode(obj, &err, name, c, why, whylen);
}

json_t *oz_project_config_to_json(const oz_project_config *c)
{
    json_t *o = json_object();
    if (!o || json_object_set_new(o, "version", json_integer(OZ_PROJECT_CONFIG_VERSION)) != 0)
        goto fail;
    for (size_t i = 0; i < NKEYS; i++) {
        const char *field = (const char *)c + keys[i].off;
        json_t *v = NULL;
        switch (keys[i].type) {
        case K_BANDS:
            v = json_array();
            for (size_t b = 0; v && b < c->cand.nbands; b++)
                json_array_append_new(
                    v, json_pack("[f, f]", c->cand.bands[b][0], c->cand.bands[b][1]));
            break;
        case K_NSIDE:
        case K_INT: {
            int x;
            memcpy(&x, field, sizeof x);
            v = json_integer(x);
            break;
        }
        case K_BOOL: {
            int x;
            memcpy(&x, field, sizeof x);
            v = json_boolean(x);
            break;
        }
        case K_DOUBLE: {
            double x;
            memcpy(&x, field, sizeof x);
            v = json_real(x);
            break;
        }
        case K_NAME:
        case K_BIND:
        case K_URL:
        case K_DBURI:
            v = json_string(field);
            break;
        }
        if (json_object_set_new(o, keys[i].name, v) != 0)
            goto fail;
    }
    return o;
fail:
    json_decref(o);
    return NULL;
}

int oz_project_path(const char *dir, const char *leaf, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%s/%s", dir, leaf);
    if (n < 0 || (size_t)n >= len)
        return OZ_SCHED_ELIMIT;
    return 0;
}

int oz_project_database(const char *dir, char *buf, size_t len, char *why, size_t whylen)
{
    char cfgpath[OZ_PROJECT_PATH_MAX];
    if (oz_project_path(dir, "project.json", cfgpath, sizeof cfgpath))
        return oz_sched_fail(OZ_SCHED_ELIMIT, why, whylen, "%.64s...: path too long", dir);
    if (access(cfgpath, F_OK) != 0)
        return oz_sched_fail(OZ_SCHED_EINVAL, why, whylen,
                             "%s: not a project (no project.json; see ozma-server init)", dir);
    oz_project_config *c = malloc(sizeof *c);
    if (!c)
        return oz_sched_fail(OZ_SCHED_ENOMEM, why, whylen, "out of memory");
    oz_project_config_default(c);
    int rc = oz_project_config_load(cfgpath, c, why, whylen);
    if (rc == 0 && c->database[0]) {
        if (strlen(c->database) >= len)
            rc = oz_sched_fail(OZ_SCHED_ELIMIT, why, whylen, "database: URI too long");
        else
            memcpy(buf, c->database, strlen(c->database) + 1);
    } else if (rc == 0 && oz_project_path(dir, "ozma.db", buf, len)) {
        rc = oz_sched_fail(OZ_SCHED_ELIMIT, why, whylen, "%.64s...: path too long", dir);
    } else if (rc == 0 && access(buf, F_OK) != 0) {
        rc = oz_sched_fail(OZ_SCHED_EINVAL, why, whylen,
                           "%s: not a project (no ozma.db; see ozma-server init)", dir);
    }
    free(c);
    return rc;
}

/* 1 when dir exists and has entries, 0 when it exists empty, -1 when it
 * does not exist (errno ENOENT) or cannot be read. */
static int dir_state(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int full = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            full = 1;
            break;
        }
    closedir(d);
    return full;
}

static int write_secret(const char *path, char *why, size_t whylen)
{
    unsigned char key[OZ_AUTH_KEY_BYTES];
    randombytes_buf(key, sizeof key);
    int rc = 0;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = oz_sched_fail(OZ_SCHED_EIO, why, whylen, "%s: %s", path, strerror(errno));
        goto out;
    }
    if (write(fd, key, sizeof key) != (ssize_t)sizeof key || fsync(fd) != 0)
        rc = oz_sched_fail(OZ_SCHED_EIO, why, whylen, "%s: %s", path, strerror(errno));
    if (close(fd) != 0 && rc == 0)
        rc = oz_sched_fail(OZ_SCHED_EIO, why, whylen, "%s: %s", path, strerror(errno));
out:
    sodium_memzero(key, sizeof key);
    return rc;
}

int oz_project_init(const char *dir, const char *name, const char *database, char *why,
                    size_t whylen)
{
    char cfgpath[OZ_PROJECT_PATH_MAX], dbpath[OZ_PROJECT_PATH_MAX], units[OZ_PROJECT_PATH_MAX],
        keypath[OZ_PROJECT_PATH_MAX];
    if (oz_project_path(dir, "project.json", cfgpath, sizeof cfgpath) ||
        oz_project_path(dir, "ozma.db", dbpath, sizeof dbpath) ||
        oz_project_path(dir, "units", units, sizeof units) ||
        oz_project_path(dir, "secret.key", keypath, sizeof keypath))
        return oz_sched_fail(OZ_SCHED_ELIMIT, why, whylen, "%.64s...: path too long", dir);
    if (oz_auth_init() != 0)
        return oz_sched_fail(OZ_SCHED_EIO, why, whylen, "libsodium failed to initialise");

    oz_project_config c;
    oz_project_config_default(&c);
    if (!name) { /* the directory's own name, when it is a fit name */
        const char *base = strrchr(dir, '/');
        base = base && base[1] ? base + 1 : dir;
        name = oz_text_valid(base, OZ_PROJECT_NAME_MAX) ? base : "ozma";
    }
    if (!oz_text_valid(name, OZ_PROJECT_NAME_MAX))
        return oz_sched_fail(OZ_SCHED_EINVAL, why, whylen,
                             "--name must be 1..%d characters without control characters",
                             OZ_PROJECT_NAME_MAX);
    snprintf(c.name, sizeof c.name, "%s", name);
    if (database) {
        int rc = dburi_from_json("--database", database, c.database, why, whylen);
        if (rc == 0 && !database[0])
            rc = oz_sched_fail(OZ_SCHED_EINVAL, why, whylen, "--database: an empty URI");
        if (rc != 0)
            return rc;
        snprintf(dbpath, sizeof dbpath, "%s", database);
    }

    bool made_dir = false;
    int st = dir_state(dir);
    if (st == 1)
        return oz_sched_fail(OZ_SCHED_EEXIST, why, whylen, "%s: exists and is not empty", dir);
    if (st < 0) {
        if (errno != ENOENT)
            return oz_sched_fail(OZ_SCHED_EIO, why, whylen, "%s: %s", dir, strerror(errno));
        if (mkdir(dir, 0755) != 0)
            return oz_sched_fail(OZ_SCHED_EIO, why, whylen, "%s: cannot create: %s", dir,
                                 strerror(errno));
        made_dir = true;
    }

    int rc;
    char *text = NULL;
    json_t *cj = oz_project_config_to_json(&c);
    text = cj ? json_dumps(cj, JSON_INDENT(2) | JSON_REAL_PRECISION(17)) : NULL;
    json_decref(cj);
    if (!text) {
        rc = oz_sched_fail(OZ_SCHED_ENOMEM, why, whylen, "out of memory");
        goto fail;
    }
    size_t len = strlen(text);
    text[len] = '\0';
    char wwhy[512];
    if (oz_wu_write_file(cfgpath, text, len, wwhy, sizeof wwhy) != OZ_WU_OK) {
        rc = oz_sched_fail(OZ_SCHED_EIO, why, whylen, "%s", wwhy);
        goto fail;
    }
    if (mkdir(units, 0755) != 0) {
        rc = oz_sched_fail(OZ_SCHED_EIO, why, whylen, "%s: %s", units, strerror(errno));
        goto fail;
    }
    if ((rc = write_secret(keypath, why, whylen)) != 0)
        goto fail;
    if ((rc = oz_db_create(dbpath, why, whylen)) != 0)
        goto fail;
    free(text);
    return 0;

fail:
    free(text);
    unlink(cfgpath);
    unlink(keypath);
    rmdir(units);
    {
        /* the database and its WAL companions, if oz_db_create got that far */
        static const char *const sfx[] = {"", "-wal", "-shm", "-journal"};
        char p[OZ_PROJECT_PATH_MAX + 16];
        for (size_t i = 0; i < sizeof sfx / sizeof sfx[0]; i++) {
            snprintf(p, sizeof p, "%s%s", dbpath, sfx[i]);
            unlink(p);
        }
    }
    if (made_dir)
        rmdir(dir);
    return rc;
}

int oz_project_secret_load(const char *dir, unsigned char key[OZ_AUTH_KEY_BYTES], char *why,
                           size_t whylen)
{
    char path[OZ_PROJECT_PATH_MAX];
    if (oz_project_path(dir, "secret.key", path, sizeof path))
        return oz_sched_fail(OZ_SCHED_ELIMIT, why, whylen, "%.64s...: path too long", dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return oz_sched_fail(errno == ENOENT ? OZ_SCHED_ENOTFOUND : OZ_SCHED_EIO, why, whylen,
                             "%s: %s", path, strerror(errno));
    int rc = 0;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size != OZ_AUTH_KEY_BYTES) {
        rc = oz_sched_fail(OZ_SCHED_EINVAL, why, whylen, "%s: expected a file of exactly %d bytes",
                           path, OZ_AUTH_KEY_BYTES);
        goto out;
    }
    if (read(fd, key, OZ_AUTH_KEY_BYTES) != OZ_AUTH_KEY_BYTES)
        rc = oz_sched_fail(OZ_SCHED_EIO, why, whylen, "%s: short read", path);
out:
    close(fd);
    return rc;
}

/*
 * api_accounts.c - accounts, teams and hosts (API.md "Accounts, teams,
 * hosts").
 *
 * Account creation is the one write open to anyone; http.c limits it per
 * client address.  Tokens are made here (auth.h): the reply carries the
 * token once, the store receives only its keyed hash.  Account and team
 * names are normalised here (name.h), so the store sees only names that
 * cannot pass for others.
 */
#include <float.h>
#include <time.h>

#include "api.h"
#include "name.h"
#include "sched_errors.h"
#include "text.h"

#define MEMORY_MB_MAX ((int64_t)1 << 40)
#define FLOPS_MAX 1e15 /* per core: far beyond any CPU, still finite */

/* The string `key` of obj as a name (name.h), normalised into out: 0, 1
 * when absent and !required, or -1 with a 400 queued. */
static int req_name(oz_req *r, const json_t *obj, const char *key, bool required,
                    char out[OZ_NAME_BYTES])
{
    const char *s = NULL;
    int rc = oz_req_str(r, obj, key, required, OZ_TEXT_NAME_MAX, &s);
    if (rc != 0)
        return rc;
    char why[256];
    if ((rc = oz_name_normalize(s, out, OZ_NAME_BYTES, why, sizeof why)) != 0) {
        if (rc == OZ_SCHED_ENOMEM)
            oz_reply_error(r, 500, "out of memory");
        else
            oz_reply_error(r, 400, "%s: %s", key, why);
        return -1;
    }
    return 0;
}

enum MHD_Result oz_api_accounts_create(oz_req *r)
{
    static const char *const keys[] = {"name", "email", "team", NULL};
    enum MHD_Result ret;
    const char *email = NULL;
    char name[OZ_NAME_BYTES], team_name[OZ_NAME_BYTES];
    int64_t team = 0;
    json_t *o = oz_req_json(r, 0, keys);
    if (!o)
        return r->ret;
    /* "team": a team's id, or its name */
    bool by_name = json_is_string(json_object_get(o, "team"));
    if (req_name(r, o, "name", true, name) < 0 ||
        oz_req_str(r, o, "email", false, OZ_TEXT_NAME_MAX, &email) < 0 ||
        (by_name ? req_name(r, o, "team", false, team_name)
                 : oz_req_int(r, o, "team", false, 1, INT64_MAX, &team)) < 0) {
        ret = r->ret;
        goto out;
    }
    oz_store *s = oz_req_store(r);
    if (!s) {
        ret = r->ret;
        goto out;
    }
    char hex[OZ_AUTH_TOKEN_HEX + 1], why[256] = "";
    unsigned char hash[OZ_AUTH_HASH_BYTES];
    oz_auth_token_new(r->srv->secret, hex, hash);
    int64_t id = 0;
    int rc = oz_store_account_create(s, name, email, team, by_name ? team_name : NULL, hash,
                                     (int64_t)time(NULL), &id, why, sizeof why);
    if (rc != 0) {
        ret = oz_reply_store(r, rc, why);
        goto out;
    }
    ret = oz_reply_json(
        r, 200, json_pack("{s:I, s:s}", "account_id", (json_int_t)id, "authenticator", hex));
out:
    json_decref(o);
    return ret;
}

enum MHD_Result oz_api_teams_create(oz_req *r)
{
    static const char *const keys[] = {"name", "description", NULL};
    enum MHD_Result ret;
    const char *desc = NULL;
    char name[OZ_NAME_BYTES];
    json_t *o = oz_req_json(r, 0, keys);
    if (!o)
        return r->ret;
    if (req_name(r, o, "name", true, name) < 0 ||
        oz_req_str(r, o, "description", false, OZ_TEXT_MESSAGE_MAX, &desc) < 0) {
        ret = r->ret;
        goto out;
    }
    char why[256] = "";
    int64_t id = 0;
    int rc = oz_store_team_create(r->store, r->account_id, name, desc, (int64_t)time(NULL), &id,
                                  why, sizeof why);
    if (rc != 0) {
        ret = oz_reply_store(r, rc, why);
        goto out;
    }
    ret = oz_reply_json(r, 200, json_pack("{s:I}", "team_id", (json_int_t)id));
out:
    json_decref(o);
    return ret;
}

enum MHD_Result oz_api_teams_join(oz_req *r)
{
    json_t *o = oz_req_json(r, OZ_REQ_EMPTY_OK, NULL); /* no body, or {} */
    if (!o)
        return r->ret;
    json_decref(o);
    char why[256] = "";
    int rc = oz_store_team_join(r->store, r->account_id, r->id, why, sizeof why);
    if (rc != 0)
        return oz_reply_store(r, rc, why);
    return oz_reply_json(r, 200, json_pack("{s:I}", "team_id", (json_int_t)r->id));
}

enum MHD_Result oz_api_hosts_create(oz_req *r)
{
    static const char *const keys[] = {"name", "os", "ncpus", "flops", "memory_mb", NULL};
    enum MHD_Result ret;
    oz_host_info hi = {0};
    int64_t ncpus = 0;
    json_t *o = oz_req_json(r, 0, keys);
    if (!o)
        return r->ret;
    if (oz_req_str(r, o, "name", true, OZ_TEXT_NAME_MAX, &hi.name) < 0 ||
        oz_req_str(r, o, "os", true, OZ_TEXT_NAME_MAX, &hi.os) < 0 ||
        oz_req_int(r, o, "ncpus", true, 1, 1024, &ncpus) < 0 ||
        oz_req_num(r, o, "flops", true, DBL_MIN, FLOPS_MAX, &hi.flops) < 0 ||
        oz_req_int(r, o, "memory_mb", true, 1, MEMORY_MB_MAX, &hi.memory_mb) < 0) {
        ret = r->ret;
        goto out;
    }
    hi.ncpus = (int)ncpus;
    char hex[OZ_AUTH_TOKEN_HEX + 1], why[256] = "";
    unsigned char hash[OZ_AUTH_HASH_BYTES];
    oz_auth_token_new(r->srv->secret, hex, hash);
    int64_t id = 0;
    const oz_project_config *cfg = &r->srv->cfg;
    int rc = oz_store_host_create(r->store, r->account_id, &hi, cfg->max_hosts_per_account,
                                  cfg->max_hosts_per_account_day, hash, (int64_t)time(NULL), &id,
                                  why, sizeof why);
    if (rc != 0) {
        ret = oz_reply_store(r, rc, why);
        goto out;
    }
    ret =
        oz_reply_json(r, 200, json_pack("{s:I, s:s}", "host_id", (json_int_t)id, "host_key", hex));
out:
    json_decref(o);
    return ret;
}

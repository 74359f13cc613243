/*
 * validate.c - the validator's rule (validate.h): results as packed at
 * upload (result_bin.h; the strict parser's for older rows), checked for
 * the unit's canary (canary.h), compared with oz_sci_result_compare, a
 * canonical result chosen by quorum.  No SQL here.
 */
#include "validate.h"

#include "canary.h"
#include "result_bin.h"

#include <stdlib.h>
#include <string.h>

/* Reads every replica's result, packed at upload (result_bin.h) or else
 * parsed again; parsed[i] false when it fails (an upload is checked
 * already, so that means the stored bytes are bad). */
static void parse_all(const oz_validate_unit *v, oz_wu_result *res, bool *parsed)
{
    for (size_t i = 0; i < v->nreplicas; i++) {
        char why[256];
        const oz_validate_replica *r = &v->replicas[i];
        parsed[i] =
            oz_result_bin_read(r->bin, r->binlen, r->json, &res[i], why, sizeof why) == OZ_SCHED_OK;
    }
}

static bool agree(const oz_wu_result *a, const oz_wu_result *b, const oz_sci_config *cfg, double fs)
{
    char why[256];
    return oz_sci_result_compare(&a->result, &b->result, cfg, fs, why, sizeof why) == OZ_SCI_OK;
}

int oz_validate_config(const char *config_json, oz_sci_config *cfg)
{
    oz_sci_config_default(cfg);
    json_error_t jerr;
    json_t *cj = json_loads(config_json, 0, &jerr);
    char why[256];
    int rc = cj ? oz_sci_config_from_json(cj, cfg, why, sizeof why) : OZ_SCI_EINVAL;
    json_decref(cj);
    return rc == OZ_SCI_OK ? OZ_SCHED_OK : OZ_SCHED_EINVAL;
}

/* With a canary (canary.h), a parsed result that does not report it is
 * treated as one that does not parse: invalid, never counted toward a
 * quorum.  Results judged now are counted in *found and *missed. */
static int canary_check(const oz_validate_unit *v, const oz_sci_config *cfg, oz_wu_result *res,
                        bool *parsed, int *found, int *missed)
{
    oz_canary c;
    char why[256];
    if (oz_canary_parse(v->canary_json, &c, why, sizeof why) != OZ_SCHED_OK)
        return OZ_SCHED_EINVAL;
    for (size_t i = 0; i < v->nreplicas; i++) {
        if (!parsed[i])
            continue;
        bool ok = oz_canary_found(&c, &res[i].result, v->center_hz, v->sample_rate, cfg);
        parsed[i] = ok;
        if (v->replicas[i].validate_state == OZ_VALIDATE_INIT ||
            v->replicas[i].validate_state == OZ_VALIDATE_INCONCLUSIVE) {
            *found += ok;
            *missed += !ok;
        }
    }
    return OZ_SCHED_OK;
}

int oz_validate_decide(const oz_validate_unit *v, int *states, int64_t *canonical, int *found,
                       int *missed)
{
    oz_sci_config cfg;
    *canonical = 0;
    *found = *missed = 0;
    int rc = oz_validate_config(v->config_json, &cfg);
    return rc != OZ_SCHED_OK ? rc
                             : oz_validate_decide_in(v, &cfg, states, canonical, found, missed);
}

int oz_validate_decide_in(const oz_validate_unit *v, const oz_sci_config *cfg, int *states,
                          int64_t *canonical, int *found, int *missed)
{
    *canonical = 0;
    *found = *missed = 0;
    size_t n = v->nreplicas;
    int rc = OZ_SCHED_OK;
    oz_wu_result *res = calloc(n, sizeof *res);
    bool *parsed = calloc(n, sizeof *parsed);
    if (!res || !parsed) {
        free(res);
        free(parsed);
        return OZ_SCHED_ENOMEM;
    }
    parse_all(v, res, parsed);
    if (v->canary_json && (rc = canary_check(v, cfg, res, parsed, found, missed)) != OZ_SCHED_OK)
        goto out;
    for (size_t i = 0; i < n; i++) /* a failed spot check: as if it did not parse */
        parsed[i] = parsed[i] && v->replicas[i].spot != 2;
    size_t canon = n;
    if (v->canonical) {
        for (size_t i = 0; i < n; i++)
            if (v->replicas[i].replica_id == v->canonical)
                canon = i;
        *canonical = v->canonical;
    } else {
        size_t best = 0;
        for (size_t i = 0; i < n; i++) {
            if (!parsed[i])
                continue;
            size_t votes = 1;
            for (size_t k = 0; k < n; k++)
                if (k != i && parsed[k] && agree(&res[i], &res[k], cfg, v->sample_rate))
                    votes++;
            if (votes >= (size_t)v->min_quorum && votes > best) {
                best = votes;
                canon = i;
            }
        }
        if (canon < n)
            *canonical = v->replicas[canon].replica_id;
    }
    for (size_t i = 0; i < n; i++) {
        if (canon == n)
            states[i] = parsed[i] ? OZ_VALIDATE_INCONCLUSIVE : OZ_VALIDATE_INVALID;
        else if (i == canon)
            states[i] = OZ_VALIDATE_VALID;
        else if (v->replicas[i].validate_state != OZ_VALIDATE_INIT &&
                 v->replicas[i].validate_state != OZ_VALIDATE_INCONCLUSIVE)
            states[i] = v->replicas[i].validate_state; /* judged before */
        else
            states[i] =
                parsed[i] && parsed[canon] && agree(&res[canon], &res[i], cfg, v->sample_rate)
                    ? OZ_VALIDATE_VALID
                    : OZ_VALIDATE_INVALID;
    }
out:
    for (size_t i = 0; i < n; i++)
        oz_wu_result_clear(&res[i]);
    free(res);
    free(parsed);
    return rc;
}

int oz_validate_quorum(int min_quorum, int single)
{
    return single == 1 ? 1 : min_quorum;
}

bool oz_validate_due(bool validated, int64_t counting, int quorum)
{
    return validated || counting >= quorum;
}

void oz_validate_retry(const oz_validate_unit *v, size_t nresults, int64_t *target, int *single)
{
    int64_t want = (int64_t)nresults + 1;
    if (v->single == 1 && v->target_nresults > want)
        want = v->target_nresults;
    *target = v->target > want ? v->target : want;
    *single = v->single == 1 ? 2 : v->single;
}

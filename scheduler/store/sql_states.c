/*
 * sql_states.c - expands the state tokens of the store's SQL into the
 * values of store.h's enums (sql_states.h says why).  One constant table,
 * so that a state's number is written once, in its enum.
 */
#include "sql_states.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

static const struct {
    const char *name;
    int value;
} tokens[] = {
    {"UNIT_ACTIVE", OZ_UNIT_ACTIVE},
    {"UNIT_VALIDATED", OZ_UNIT_VALIDATED},
    {"UNIT_ERROR", OZ_UNIT_ERROR},
    {"REPLICA_UNSENT", OZ_REPLICA_UNSENT},
    {"REPLICA_IN_PROGRESS", OZ_REPLICA_IN_PROGRESS},
    {"REPLICA_OVER", OZ_REPLICA_OVER},
    {"OUTCOME_INIT", OZ_OUTCOME_INIT},
    {"OUTCOME_SUCCESS", OZ_OUTCOME_SUCCESS},
    {"OUTCOME_CLIENT_ERROR", OZ_OUTCOME_CLIENT_ERROR},
    {"OUTCOME_NO_REPLY", OZ_OUTCOME_NO_REPLY},
    {"OUTCOME_DIDNT_NEED", OZ_OUTCOME_DIDNT_NEED},
    {"VALIDATE_INIT", OZ_VALIDATE_INIT},
    {"VALIDATE_VALID", OZ_VALIDATE_VALID},
    {"VALIDATE_INVALID", OZ_VALIDATE_INVALID},
    {"VALIDATE_INCONCLUSIVE", OZ_VALIDATE_INCONCLUSIVE},
};

char *oz_sql_states_expand(const char *sql, char *why, size_t whylen)
{
    /* every value is one digit, no longer than its token: the text only shrinks */
    size_t cap = strlen(sql) + 1;
    char *out = malloc(cap), *o = out;
    if (!out) {
        snprintf(why, whylen, "out of memory");
        return NULL;
    }
    for (const char *p = sql; *p;) {
        const char *close = *p == '{' ? strchr(p, '}') : NULL;
        if (!close) {
            *o++ = *p++;
            continue;
        }
        size_t n = (size_t)(close - p - 1), i = 0;
        while (i < sizeof tokens / sizeof tokens[0] &&
               (strlen(tokens[i].name) != n || strncmp(tokens[i].name, p + 1, n) != 0))
            i++;
        if (i == sizeof tokens / sizeof tokens[0]) {
            snprintf(why, whylen, "SQL names an unknown state {%.*s}", (int)(n < 40 ? n : 40),
                     p + 1);
            free(out);
            return NULL;
        }
        o += snprintf(o, cap - (size_t)(o - out), "%d", tokens[i].value);
        p = close + 1;
    }
    *o = '\0';
    return out;
}

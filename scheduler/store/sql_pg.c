/*
 * sql_pg.c - the PostgreSQL driver of sql.h, over libpq: the store's SQL,
 * written in the dialect SQLite and PostgreSQL share, runs on a server.
 *
 * Parameters.  The store writes SQLite's ? and ?N; prepare rewrites them as
 * PostgreSQL's $N by SQLite's rule (a bare ? is one more than the largest
 * number so far), leaving '...' literals, "..." identifiers and comments as
 * they are (PostgreSQL's own E'...' and $$...$$ quoting is not part of the
 * shared dialect).  SQLite's index hints, INDEXED BY NAME, go: PostgreSQL's
 * planner takes none (its statistics choose the index those hints name).  A number the text never
 * names is declared text, so that a gap
 * (?1 and ?3 alone) does not stop the server inferring the others' types.
 *
 * Statements.  A persistent statement is prepared on the server under a
 * name unique on its connection (PQprepare, no parameter types: the server
 * infers them), once per connection generation: a reconnection (revive)
 * bumps the generation, and a statement prepared under an older one is
 * prepared again before it runs, so the store's kept statements survive a
 * database restart; one made while the connection is lost (or lost as
 * it is prepared) is prepared when it first runs, and that run fails as
 * the connection's (EDOWN).
 * Any other statement is parsed with each run
 * (PQexecParams): one round trip, and nothing left on the server.
 *
 * Values.  Binds are copied into the statement (text form: int64 as
 * decimal, doubles "%.17g", NaN and +-Infinity as PostgreSQL spells them;
 * blobs as binary parameters, for bytea columns).  A statement runs on its
 * first step after a bind or reset; its whole result comes back in text
 * form (a PGresult), which the steps then walk row by row, so several
 * statements of one connection may be stepped in turn as SQLite allows.
 * Column reads parse that text: integers and booleans as int64, floats
 * (NaN, Infinity too), bytea's \x hex decoded into a buffer per column
 * owned by the statement (for its text as for its blob, as SQLite gives a
 * blob's bytes as its text).  The whole result is held at once: the store's
 * reads are pages and batches, not whole tables.  The connection sets extra_float_digits and
 * bytea_output itself, so no server setting can change what a read gives.
 *
 * Errors.  The connection keeps its last error, one line, and its kind by
 * SQLSTATE: serialisation failures, deadlocks and lock timeouts are
 * OZ_SQL_EBUSY, a full disk OZ_SQL_ENOSPC, a lost or refused connection
 * OZ_SQL_EDOWN (its message names the server).  revive() resets a lost
 * connection once.
 */
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libpq-fe.h>

#include "sql_driver.h"
#include "sql_pg.h"
#include "sql_pg_text.h"

/* Type OIDs from PostgreSQL's catalog (pg_type.dat): libpq does not
 * install its catalog headers everywhere, and these numbers are fixed. */
enum {
    PG_BOOL = 16,
    PG_BYTEA = 17,
    PG_INT8 = 20,
    PG_INT2 = 21,
    PG_INT4 = 23,
    PG_TEXT = 25,
    PG_FLOAT4 = 700,
    PG_FLOAT8 = 701,
    PG_NUMERIC = 1700,
};

/* What every connection sets for itself, on connect and on reconnect. */
static const char pg_session_sql[] = "SET synchronous_commit = on;"
                                     "SET client_min_messages = warning;"
                                     "SET TIME ZONE 'UTC';"
                                     "SET extra_float_digits = 1;" /* shortest exact doubles */
                                     "SET bytea_output = hex";

typedef struct pg_conn {
    oz_sql base;
    PGconn *pq;
    char *where;         /* "PostgreSQL database \"d\" at host:port as u": no password */
    uint64_t generation; /* bumped by each reconnection: the server forgot our statements */
    uint64_t names;      /* persistent statements named so far ("oz1", "oz2", ...) */
    int64_t changes;     /* rows of the last INSERT, UPDATE, DELETE or MERGE */
    int64_t total_changes;
    oz_sql_errkind kind; /* of err */
    oz_sql_errkind first; /* of the last failure but "transaction is aborted" */
    bool lost;           /* a failure since the last (re)connection was EDOWN */
    char err[512];       /* the last failure, one line; "" before any */
} pg_conn;

typedef struct pg_param {
    char *buf;  /* the value: text (NUL-terminated) or a blob's bytes; owned */
    size_t cap; /* of buf */
    int len;    /* bytes of a blob */
    bool null;
    bool binary; /* a blob: sent in binary format */
} pg_param;

typedef struct pg_blob {
    unsigned char *buf; /* a bytea cell decoded, NUL-terminated; owned */
    size_t cap;
    int len;
    int row; /* the row buf holds; -1: none of the current result */
} pg_blob;

typedef struct pg_stmt {
    oz_sql_stmt base;
    pg_conn *c;
    char *text;    /* rewritten: $N parameters */
    char name[24]; /* on the server; "" for a statement parsed with each run */
    bool prepared; /* name exists on the server under generation */
    uint64_t generation;
    int nparams;         /* the largest $N */
    pg_param *params;    /* [nparams] */
    Oid *types;          /* [nparams]: 0 (inferred), text for a number never named */
    const char **values; /* [nparams], filled by each run */
    int *lengths;
    int *formats;
    PGresult *res;  /* the current run's rows; NULL before a run */
    bool ran;       /* res answers the current bindings */
    int row;        /* the row stepped to; -1 before the first */
    pg_blob *blobs; /* [nblobs], one per column of res */
    int nblobs;
} pg_stmt;

static const oz_sql_driver pg_driver;

/* ---- errors ---- */

static int fail_with(pg_conn *c, oz_sql_errkind kind, const char *msg)
{
    c->kind = kind;
    c->lost |= kind == OZ_SQL_EDOWN;
    oz_sql_pg_one_line(c->err, sizeof c->err, msg);
    return OZ_SQL_FAIL;
}

/* The kind of a failure by its SQLSTATE, and whether the connection is
 * known lost.  No SQLSTATE: libpq's own failure, which is the connection's
 * (the server closed it, a write failed, the protocol broke), even where
 * PQstatus still says CONNECTION_OK, as libpq 15 does after a write to a
 * crashed server's socket failed. */
static oz_sql_errkind classify(const char *state, bool lost)
{
    if (lost || !state)
        return OZ_SQL_EDOWN;
    if (!strcmp(state, "40001") || !strcmp(state, "40P01") || !strcmp(state, "55P03"))
        return OZ_SQL_EBUSY; /* serialisation failure, deadlock, lock not available */
    if (!strcmp(state, "53100"))
        return OZ_SQL_ENOSPC; /* disk full */
    if (!strncmp(state, "08", 2) || !strcmp(state, "57P01") || !strcmp(state, "57P02") ||
        !strcmp(state, "57P03"))
        return OZ_SQL_EDOWN; /* connection exception, shutdown, cannot connect now */
    return OZ_SQL_EOTHER;
}

/* Records why r (NULL: no result at all) failed. */
static int fail_result(pg_conn *c, const PGresult *r)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *detail = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL) : NULL;
    const char *severity = r ? PQresultErrorField(r, PG_DIAG_SEVERITY_NONLOCALIZED) : NULL;
    /* FATAL and PANIC end the session (a terminated backend, an idle
     * transaction timed out), whatever the SQLSTATE */
    bool ended = severity && (!strcmp(severity, "FATAL") || !strcmp(severity, "PANIC"));
    if (!msg && r && *PQresultErrorMessage(r))
        msg = PQresultErrorMessage(r);
    if (!msg)
        msg = PQerrorMessage(c->pq);
    if (!*msg)
        msg = "unknown failure";
    oz_sql_errkind kind = classify(state, ended || PQstatus(c->pq) == CONNECTION_BAD);
    /* Statements after a failure in a transaction fail as "aborted"
     * (25P02): of the kind of that failure (a serialisation failure a
     * caller took for no row is still one to run again). */
    if (state && !strcmp(state, "25P02"))
        kind = c->first;
    else
        c->first = kind;
    char line[sizeof c->err];
    if (kind == OZ_SQL_EDOWN)
        snprintf(line, sizeof line, "%s: %s", c->where, msg);
    else if (detail)
        snprintf(line, sizeof line, "%s (%s)", msg, detail);
    else
        snprintf(line, sizeof line, "%s", msg);
    return fail_with(c, kind, line);
}

/* Is r PostgreSQL's answer to a COMMIT (text) of a transaction an earlier
 * failure aborted: a ROLLBACK, and no error?  A caller that took that
 * failure for no row (a serialisation failure, under SERIALIZABLE) would
 * acknowledge what was never committed: it is a failure of that kind. */
static bool commit_rolled_back(pg_conn *c, const char *text, const PGresult *r)
{
    while (isspace((unsigned char)*text))
        text++;
    if (strncasecmp(text, "COMMIT", 6) != 0 || strcmp(PQcmdStatus((PGresult *)r), "ROLLBACK"))
        return false;
    fail_with(c, c->first, "COMMIT rolled back: a statement of the transaction failed");
    return true;
}

/* Did r succeed?  If not, its failure is recorded. */
static bool result_ok(pg_conn *c, const PGresult *r)
{
    switch (r ? PQresultStatus(r) : PGRES_FATAL_ERROR) {
    case PGRES_COMMAND_OK:
    case PGRES_TUPLES_OK:
    case PGRES_EMPTY_QUERY:
        return true;
    case PGRES_FATAL_ERROR:
    case PGRES_NONFATAL_ERROR:
        fail_result(c, r);
        return false;
    default: /* COPY and the like: not part of the store's SQL */
        fail_with(c, OZ_SQL_EOTHER, "a statement answered in a way the store does not use (COPY?)");
        return false;
    }
}

/* Counts the rows r's command changed, as SQLite's changes() counts them. */
static void count_changes(pg_conn *c, const PGresult *r)
{
    static const char *const writes[] = {"INSERT ", "UPDATE ", "DELETE ", "MERGE "};
    const char *cmd = PQcmdStatus((PGresult *)r);
    for (size_t i = 0; i < sizeof writes / sizeof *writes; i++) {
        if (!strncmp(cmd, writes[i], strlen(writes[i]))) {
            c->changes = strtoll(PQcmdTuples((PGresult *)r), NULL, 10);
            c->total_changes += c->changes;
            return;
        }
    }
}

/* ---- statements ---- */

static void stmt_free(pg_stmt *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->nparams && s->params; i++)
        free(s->params[i].buf);
    for (int i = 0; i < s->nblobs; i++)
        free(s->blobs[i].buf);
    PQclear(s->res);
    free(s->blobs);
    free(s->params);
    free(s->types);
    free(s->values);
    free(s->lengths);
    free(s->formats);
    free(s->text);
    free(s);
}

/* Prepares s under its name on the connection as it is now. */
static int server_prepare(pg_stmt *s)
{
    pg_conn *c = s->c;
    PGresult *r = PQprepare(c->pq, s->name, s->text, s->nparams, s->types);
    bool ok = result_ok(c, r);
    PQclear(r);
    if (!ok)
        return OZ_SQL_FAIL;
    s->prepared = true;
    s->generation = c->generation;
    return 0;
}

static int pg_prepare(oz_sql *base, const char *text, bool persistent, oz_sql_stmt **out)
{
    pg_conn *c = (pg_conn *)base;
    int *named = NULL, nnamed = 0;
    *out = NULL;
    pg_stmt *s = calloc(1, sizeof *s);
    if (!s)
        return fail_with(c, OZ_SQL_EOTHER, "out of memory");
    s->base.drv = &pg_driver;
    s->c = c;
    s->row = -1;
    char why[160];
    s->text = oz_sql_pg_rewrite(text, &s->nparams, &named, &nnamed, why, sizeof why);
    if (!s->text) {
        fail_with(c, OZ_SQL_EOTHER, why);
        goto fail;
    }
    size_t n = (size_t)s->nparams + 1; /* never calloc(0) */
    s->params = calloc(n, sizeof *s->params);
    s->types = calloc(n, sizeof *s->types);
    s->values = calloc(n, sizeof *s->values);
    s->lengths = calloc(n, sizeof *s->lengths);
    s->formats = calloc(n, sizeof *s->formats);
    if (!s->params || !s->types || !s->values || !s->lengths || !s->formats) {
        fail_with(c, OZ_SQL_EOTHER, "out of memory");
        goto fail;
    }
    for (int i = 0; i < s->nparams; i++) {
        s->params[i].null = true;
        s->types[i] = PG_TEXT;
    }
    for (int k = 0; k < nnamed; k++)
        s->types[named[k] - 1] = 0;
    free(named);
    named = NULL;
    if (persistent) { /* on a lost connection, at its first run (run) */
        snprintf(s->name, sizeof s->name, "oz%" PRIu64, ++c->names);
        if (!c->lost && PQstatus(c->pq) == CONNECTION_OK && server_prepare(s) != 0 &&
            c->kind != OZ_SQL_EDOWN) /* lost now: that too is for its run */
            goto fail;
    }
    *out = &s->base;
    return 0;
fail:
    free(named);
    stmt_free(s);
    return OZ_SQL_FAIL;
}

static void pg_finalize(oz_sql_stmt *base)
{
    pg_stmt *s = (pg_stmt *)base;
    pg_conn *c = s->c;
    PGTransactionStatusType t = PQtransactionStatus(c->pq);
    /* The server forgets it with the connection anyway; inside a failed
     * transaction it is left there (a name, never used again).  A failure
     * here leaves the connection's last error to the caller's statement. */
    if (s->prepared && s->generation == c->generation && !c->lost &&
        PQstatus(c->pq) == CONNECTION_OK && (t == PQTRANS_IDLE || t == PQTRANS_INTRANS)) {
        char sql[48];
        snprintf(sql, sizeof sql, "DEALLOCATE %s", s->name);
        PQclear(PQexec(c->pq, sql));
    }
    stmt_free(s);
}

static void pg_reset(oz_sql_stmt *base)
{
    pg_stmt *s = (pg_stmt *)base;
    PQclear(s->res);
    s->res = NULL;
    s->ran = false;
    s->row = -1;
}

static void pg_clear_bindings(oz_sql_stmt *base)
{
    pg_stmt *s = (pg_stmt *)base;
    for (int i = 0; i < s->nparams; i++)
        s->params[i].null = true;
    s->ran = false;
}

static int pg_parameter_count(oz_sql_stmt *base)
{
    return ((pg_stmt *)base)->nparams;
}

/* Sets parameter i (from 1) of s to len bytes at p (NULL: SQL NULL), copied
 * and NUL-terminated. */
static int bind(pg_stmt *s, int i, const void *p, size_t len, bool binary)
{
    if (i < 1 || i > s->nparams) {
        char msg[96];
        snprintf(msg, sizeof msg, "no parameter ?%d: the statement has %d", i, s->nparams);
        return fail_with(s->c, OZ_SQL_EOTHER, msg);
    }
    pg_param *p0 = &s->params[i - 1];
    s->ran = false;
    p0->null = p == NULL;
    p0->binary = binary;
    if (!p)
        return 0;
    if (len > INT32_MAX - 1) {
        p0->null = true;
        return fail_with(s->c, OZ_SQL_EOTHER, "a bound value over 2 GiB");
    }
    if (len + 1 > p0->cap) {
        char *b = realloc(p0->buf, len + 1);
        if (!b) {
            p0->null = true;
            return fail_with(s->c, OZ_SQL_EOTHER, "out of memory");
        }
        p0->buf = b;
        p0->cap = len + 1;
    }
    if (len)
        memcpy(p0->buf, p, len);
    p0->buf[len] = '\0';
    p0->len = (int)len;
    return 0;
}

static int pg_bind_int64(oz_sql_stmt *base, int i, int64_t v)
{
    char text[24];
    int n = snprintf(text, sizeof text, "%" PRId64, v);
    return bind((pg_stmt *)base, i, text, (size_t)n, false);
}

static int pg_bind_double(oz_sql_stmt *base, int i, double v)
{
    char text[32];
    if (isnan(v))
        snprintf(text, sizeof text, "NaN");
    else if (isinf(v))
        snprintf(text, sizeof text, "%s", v > 0 ? "Infinity" : "-Infinity");
    else
        snprintf(text, sizeof text, "%.17g", v);
    return bind((pg_stmt *)base, i, text, strlen(text), false);
}

static int pg_bind_text(oz_sql_stmt *base, int i, const char *text, int len)
{
    pg_stmt *s = (pg_stmt *)base;
    size_t n = !text ? 0 : len < 0 ? strlen(text) : (size_t)len;
    if (text && memchr(text, '\0', n)) {
        char msg[96];
        snprintf(msg, sizeof msg, "parameter ?%d: PostgreSQL's text cannot hold a NUL byte", i);
        return fail_with(s->c, OZ_SQL_EOTHER, msg);
    }
    return bind(s, i, text, n, false);
}

static int pg_bind_blob(oz_sql_stmt *base, int i, const void *p, int len)
{
    pg_stmt *s = (pg_stmt *)base;
    if (len < 0)
        return fail_with(s->c, OZ_SQL_EOTHER, "a blob of negative length");
    return bind(s, i, p, (size_t)len, true);
}

static int pg_bind_null(oz_sql_stmt *base, int i)
{
    return bind((pg_stmt *)base, i, NULL, 0, false);
}

/* Runs s with its bindings: s->res holds the rows. */
static int run(pg_stmt *s)
{
    pg_conn *c = s->c;
    PQclear(s->res);
    s->res = NULL;
    for (int i = 0; i < s->nparams; i++) {
        const pg_param *p = &s->params[i];
        s->values[i] = p->null ? NULL : p->buf ? p->buf : "";
        s->lengths[i] = p->null ? 0 : p->len;
        s->formats[i] = p->binary;
    }
    PGresult *r;
    if (s->name[0]) {
        if ((!s->prepared || s->generation != c->generation) && server_prepare(s) != 0)
            return OZ_SQL_FAIL;
        r = PQexecPrepared(c->pq, s->name, s->nparams, s->values, s->lengths, s->formats, 0);
    } else {
        r = PQexecParams(c->pq, s->text, s->nparams, s->types, s->values, s->lengths, s->formats,
                         0);
    }
    if (!result_ok(c, r) || commit_rolled_back(c, s->text, r)) {
        PQclear(r);
        return OZ_SQL_FAIL;
    }
    count_changes(c, r);
    int cols = PQnfields(r);
    if (cols > s->nblobs) {
        pg_blob *b = realloc(s->blobs, (size_t)cols * sizeof *b);
        if (!b) {
            PQclear(r);
            return fail_with(c, OZ_SQL_EOTHER, "out of memory");
        }
        memset(b + s->nblobs, 0, (size_t)(cols - s->nblobs) * sizeof *b);
        s->blobs = b;
        s->nblobs = cols;
    }
    for (int i = 0; i < s->nblobs; i++)
        s->blobs[i].row = -1;
    s->res = r;
    return 0;
}

static int pg_step(oz_sql_stmt *base)
{
    pg_stmt *s = (pg_stmt *)base;
    if (!s->ran) {
        if (run(s) != 0)
            return OZ_SQL_FAIL;
        s->ran = true;
        s->row = -1;
    }
    if (s->row + 1 < PQntuples(s->res)) {
        s->row++;
        return OZ_SQL_ROW;
    }
    /* done: the next step runs the statement again, as SQLite's does */
    s->row = PQntuples(s->res);
    s->ran = false;
    return OZ_SQL_DONE;
}

/* ---- columns ---- */

/* The text of column col in the current row; NULL for SQL NULL (or no
 * such row or column). */
static const char *cell(pg_stmt *s, int col)
{
    if (!s->res || s->row < 0 || s->row >= PQntuples(s->res) || col < 0 ||
        col >= PQnfields(s->res) || PQgetisnull(s->res, s->row, col))
        return NULL;
    return PQgetvalue(s->res, s->row, col);
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Column col of the current row, a bytea, decoded from its \x hex form
 * (bytea_output is hex on every connection); NULL for SQL NULL.  Cached
 * per column for the row. */
static const pg_blob *blob(pg_stmt *s, int col)
{
    const char *v = cell(s, col);
    if (!v)
        return NULL;
    pg_blob *b = &s->blobs[col];
    if (b->row == s->row)
        return b;
    size_t n = (size_t)PQgetlength(s->res, s->row, col);
    bool hex = n >= 2 && v[0] == '\\' && v[1] == 'x' && n % 2 == 0;
    size_t need = n + 1; /* room for the text as it is, should the hex prove bad */
    if (need > b->cap) {
        unsigned char *nb = realloc(b->buf, need);
        if (!nb) {
            fail_with(s->c, OZ_SQL_EOTHER, "out of memory");
            return NULL;
        }
        b->buf = nb;
        b->cap = need;
    }
    size_t len = 0;
    for (size_t i = 2; hex && i < n; i += 2) {
        int hi = hexval(v[i]), lo = hexval(v[i + 1]);
        hex = hi >= 0 && lo >= 0;
        if (hex)
            b->buf[len++] = (unsigned char)(hi << 4 | lo);
    }
    if (!hex) { /* not bytea's hex form after all: the text as it is */
        memcpy(b->buf, v, n);
        len = n;
    }
    b->buf[len] = '\0';
    b->len = (int)len;
    b->row = s->row;
    return b;
}

static Oid ftype(pg_stmt *s, int col)
{
    return PQftype(s->res, col);
}

static oz_sql_type pg_column_type(oz_sql_stmt *base, int col)
{
    pg_stmt *s = (pg_stmt *)base;
    if (!cell(s, col))
        return OZ_SQL_NULL;
    switch (ftype(s, col)) {
    case PG_BOOL:
    case PG_INT2:
    case PG_INT4:
    case PG_INT8:
        return OZ_SQL_INTEGER;
    case PG_FLOAT4:
    case PG_FLOAT8:
    case PG_NUMERIC:
        return OZ_SQL_FLOAT;
    case PG_BYTEA:
        return OZ_SQL_BLOB;
    default:
        return OZ_SQL_TEXT;
    }
}

static double pg_column_double(oz_sql_stmt *base, int col)
{
    pg_stmt *s = (pg_stmt *)base;
    const char *v = cell(s, col);
    if (!v)
        return 0;
    if (ftype(s, col) == PG_BOOL)
        return v[0] == 't';
    return strtod(v, NULL); /* NaN, Infinity and -Infinity included */
}

static int64_t pg_column_int64(oz_sql_stmt *base, int col)
{
    pg_stmt *s = (pg_stmt *)base;
    const char *v = cell(s, col);
    if (!v)
        return 0;
    Oid t = ftype(s, col);
    if (t == PG_BOOL)
        return v[0] == 't';
    if (t == PG_FLOAT4 || t == PG_FLOAT8) { /* as SQLite casts: toward zero, clamped */
        double d = strtod(v, NULL);
        if (isnan(d))
            return 0;
        if (d >= 9223372036854775807.0)
            return INT64_MAX;
        if (d <= -9223372036854775808.0)
            return INT64_MIN;
        return (int64_t)d;
    }
    return strtoll(v, NULL, 10); /* numeric's fraction dropped */
}

static const void *pg_column_blob(oz_sql_stmt *base, int col)
{
    pg_stmt *s = (pg_stmt *)base;
    if (cell(s, col) && ftype(s, col) == PG_BYTEA) {
        const pg_blob *b = blob(s, col);
        return b ? b->buf : NULL;
    }
    return cell(s, col);
}

static const unsigned char *pg_column_text(oz_sql_stmt *base, int col)
{
    return pg_column_blob(base, col);
}

static int pg_column_bytes(oz_sql_stmt *base, int col)
{
    pg_stmt *s = (pg_stmt *)base;
    if (!cell(s, col))
        return 0;
    if (ftype(s, col) == PG_BYTEA) {
        const pg_blob *b = blob(s, col);
        return b ? b->len : 0;
    }
    return PQgetlength(s->res, s->row, col);
}

/* ---- connections ---- */

static void pg_close(oz_sql *base)
{
    pg_conn *c = (pg_conn *)base;
    PQfinish(c->pq);
    free(c->where);
    free(c);
}

static int pg_exec(oz_sql *base, const char *text)
{
    pg_conn *c = (pg_conn *)base;
    if (!PQsendQuery(c->pq, text))
        return fail_result(c, NULL);
    /* every statement's result; the first failure is judged once all are
     * in, when libpq has noticed a lost connection (PQstatus) */
    PGresult *r, *failed = NULL;
    while ((r = PQgetResult(c->pq))) {
        ExecStatusType st = PQresultStatus(r);
        if (!failed &&
            (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY)) {
            count_changes(c, r);
            if (commit_rolled_back(c, text, r)) { /* recorded: no result to judge */
                PQclear(r);
                while ((r = PQgetResult(c->pq)))
                    PQclear(r);
                return OZ_SQL_FAIL;
            }
        } else if (!failed) {
            failed = r;
            continue;
        }
        PQclear(r);
    }
    if (!failed)
        return 0;
    result_ok(c, failed);
    PQclear(failed);
    return OZ_SQL_FAIL;
}

static int64_t pg_changes(oz_sql *base)
{
    return ((pg_conn *)base)->changes;
}

static int64_t pg_total_changes(oz_sql *base)
{
    return ((pg_conn *)base)->total_changes;
}

static bool pg_in_transaction(oz_sql *base)
{
    /* a lost connection has none (PQTRANS_UNKNOWN, or libpq has not seen
     * the loss yet): the server rolled it back; nor has one whose
     * transaction an error aborted (PQTRANS_INERROR: only a rollback, to
     * a savepoint or of the whole, is left - as SQLite after an error
     * that rolled its transaction back) */
    pg_conn *c = (pg_conn *)base;
    PGTransactionStatusType t = PQtransactionStatus(c->pq);
    return !c->lost && (t == PQTRANS_INTRANS || t == PQTRANS_ACTIVE);
}

static const char *pg_errmsg(oz_sql *base)
{
    pg_conn *c = (pg_conn *)base;
    return c->err[0] ? c->err : "not an error";
}

static oz_sql_errkind pg_errkind(oz_sql *base)
{
    return ((pg_conn *)base)->kind;
}

static int pg_revive(oz_sql *base)
{
    pg_conn *c = (pg_conn *)base;
    if (PQstatus(c->pq) == CONNECTION_OK && !c->lost)
        return 0;
    PQreset(c->pq);
    if (PQstatus(c->pq) != CONNECTION_OK) {
        char msg[sizeof c->err];
        snprintf(msg, sizeof msg, "%s: still unreachable: %s", c->where, PQerrorMessage(c->pq));
        return fail_with(c, OZ_SQL_EDOWN, msg);
    }
    c->generation++; /* a new session: every statement is prepared again */
    c->lost = false;
    return pg_exec(base, pg_session_sql);
}

static const oz_sql_driver pg_driver = {
    .name = "postgresql",
    .prepare = pg_prepare,
    .finalize = pg_finalize,
    .reset = pg_reset,
    .clear_bindings = pg_clear_bindings,
    .parameter_count = pg_parameter_count,
    .bind_int64 = pg_bind_int64,
    .bind_double = pg_bind_double,
    .bind_text = pg_bind_text,
    .bind_blob = pg_bind_blob,
    .bind_null = pg_bind_null,
    .step = pg_step,
    .column_type = pg_column_type,
    .column_int64 = pg_column_int64,
    .column_double = pg_column_double,
    .column_text = pg_column_text,
    .column_blob = pg_column_blob,
    .column_bytes = pg_column_bytes,
    .close = pg_close,
    .exec = pg_exec,
    .changes = pg_changes,
    .total_changes = pg_total_changes,
    .in_transaction = pg_in_transaction,
    .errmsg = pg_errmsg,
    .errkind = pg_errkind,
    .revive = pg_revive,
};

/* ---- opening ---- */

/* Notices and warnings (COMMIT outside a transaction, ...) are not errors;
 * libpq would print them on stderr. */
static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static const char *option(const PQconninfoOption *opts, const char *key)
{
    for (; opts && opts->keyword; opts++)
        if (!strcmp(opts->keyword, key))
            return opts->val && *opts->val ? opts->val : NULL;
    return NULL;
}

/* "PostgreSQL database "d" at host:port as user", from what the URI says. */
static char *describe(const PQconninfoOption *opts)
{
    const char *db = option(opts, "dbname"), *host = option(opts, "host");
    const char *addr = option(opts, "hostaddr"), *port = option(opts, "port");
    const char *user = option(opts, "user");
    char text[512];
    snprintf(text, sizeof text, "PostgreSQL%s%s%s at %s%s%s%s%s", db ? " database \"" : "",
             db ? db : "", db ? "\"" : "",
             host   ? host
             : addr ? addr
                    : "the default socket",
             port ? ":" : "", port ? port : "", user ? " as " : "", user ? user : "");
    return strdup(text);
}

int oz_sql_pg_open(const char *uri, oz_sql **out, char *why, size_t whylen)
{
    *out = NULL;
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(uri, &perr);
    pg_conn *c = calloc(1, sizeof *c);
    if (!opts || !c) {
        char line[512];
        oz_sql_pg_one_line(line, sizeof line, perr ? perr : "out of memory");
        snprintf(why, whylen, "%s: %s", perr ? "not a PostgreSQL connection URI" : "PostgreSQL",
                 line);
        goto fail;
    }
    c->base.drv = &pg_driver;
    c->where = describe(opts);
    /* the URI may name another application_name or connect_timeout: it
     * comes after, and libpq lets the last word win */
    static const char *const keys[] = {"application_name", "connect_timeout", "dbname", NULL};
    const char *const vals[] = {"ozma-server", "10", uri, NULL};
    c->pq = c->where ? PQconnectdbParams(keys, vals, 1) : NULL;
    if (!c->pq) {
        snprintf(why, whylen, "PostgreSQL: out of memory");
        goto fail;
    }
    if (PQstatus(c->pq) != CONNECTION_OK) {
        char line[512];
        oz_sql_pg_one_line(line, sizeof line, PQerrorMessage(c->pq));
        snprintf(why, whylen, "%s: cannot connect: %s", c->where, line);
        goto fail;
    }
    PQsetNoticeProcessor(c->pq, quiet, NULL);
    if (pg_exec(&c->base, pg_session_sql) != 0) {
        snprintf(why, whylen, "%s: cannot set up the session: %s", c->where, c->err);
        goto fail;
    }
    PQconninfoFree(opts);
    *out = &c->base;
    return 0;
fail:
    oz_sql_pg_redact(why, whylen, uri, option(opts, "password"));
    if (c) {
        PQfinish(c->pq);
        free(c->where);
        free(c);
    }
    PQconninfoFree(opts);
    PQfreemem(perr);
    return OZ_SQL_FAIL;
}

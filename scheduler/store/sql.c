/*
 * sql.c - sql.h's functions, each passing its call to the driver that made
 * the connection or statement (sql_driver.h).
 */
#include "sql_driver.h"

int oz_sql_prepare(oz_sql *c, const char *text, bool persistent, oz_sql_stmt **out)
{
    return c->drv->prepare(c, text, persistent, out);
}

void oz_sql_finalize(oz_sql_stmt *st)
{
    if (st)
        st->drv->finalize(st);
}

void oz_sql_reset(oz_sql_stmt *st)
{
    st->drv->reset(st);
}

void oz_sql_clear_bindings(oz_sql_stmt *st)
{
    st->drv->clear_bindings(st);
}

int oz_sql_bind_parameter_count(oz_sql_stmt *st)
{
    return st->drv->parameter_count(st);
}

int oz_sql_bind_int64(oz_sql_stmt *st, int i, int64_t v)
{
    return st->drv->bind_int64(st, i, v);
}

int oz_sql_bind_int(oz_sql_stmt *st, int i, int v)
{
    return st->drv->bind_int64(st, i, v);
}

int oz_sql_bind_double(oz_sql_stmt *st, int i, double v)
{
    return st->drv->bind_double(st, i, v);
}

int oz_sql_bind_text(oz_sql_stmt *st, int i, const char *text, int len)
{
    return st->drv->bind_text(st, i, text, len);
}

int oz_sql_bind_blob(oz_sql_stmt *st, int i, const void *p, int len)
{
    return st->drv->bind_blob(st, i, p, len);
}

int oz_sql_bind_null(oz_sql_stmt *st, int i)
{
    return st->drv->bind_null(st, i);
}

int oz_sql_step(oz_sql_stmt *st)
{
    return st->drv->step(st);
}

oz_sql_type oz_sql_column_type(oz_sql_stmt *st, int col)
{
    return st->drv->column_type(st, col);
}

int64_t oz_sql_column_int64(oz_sql_stmt *st, int col)
{
    return st->drv->column_int64(st, col);
}

int oz_sql_column_int(oz_sql_stmt *st, int col)
{
    return (int)st->drv->column_int64(st, col);
}

double oz_sql_column_double(oz_sql_stmt *st, int col)
{
    return st->drv->column_double(st, col);
}

const unsigned char *oz_sql_column_text(oz_sql_stmt *st, int col)
{
    return st->drv->column_text(st, col);
}

const void *oz_sql_column_blob(oz_sql_stmt *st, int col)
{
    return st->drv->column_blob(st, col);
}

int oz_sql_column_bytes(oz_sql_stmt *st, int col)
{
    return st->drv->column_bytes(st, col);
}

void oz_sql_close(oz_sql *c)
{
    if (c)
        c->drv->close(c);
}

int oz_sql_exec(oz_sql *c, const char *text)
{
    return c->drv->exec(c, text);
}

int64_t oz_sql_changes(oz_sql *c)
{
    return c->drv->changes(c);
}

int64_t oz_sql_total_changes(oz_sql *c)
{
    return c->drv->total_changes(c);
}

bool oz_sql_in_transaction(oz_sql *c)
{
    return c->drv->in_transaction(c);
}

const char *oz_sql_errmsg(oz_sql *c)
{
    return c->drv->errmsg(c);
}

oz_sql_errkind oz_sql_errkind_get(oz_sql *c)
{
    return c->drv->errkind(c);
}

int oz_sql_revive(oz_sql *c)
{
    return c->drv->revive(c);
}

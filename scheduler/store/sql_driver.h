/*
 * sql_driver.h - what a driver of sql.h provides: the table of functions
 * that sql.c calls through.  A driver's connection and statement structs
 * begin with the oz_sql / oz_sql_stmt below, so sql.c can find the table;
 * the rest of each struct is the driver's own (sql_sqlite.c, sql_pg.c).
 */
#ifndef OZ_SCHED_SQL_DRIVER_H
#define OZ_SCHED_SQL_DRIVER_H

#include "sql.h"

typedef struct oz_sql_driver {
    const char *name; /* "sqlite", "postgresql" */
    /* statements */
    int (*prepare)(oz_sql *c, const char *text, bool persistent, oz_sql_stmt **out);
    void (*finalize)(oz_sql_stmt *st);
    void (*reset)(oz_sql_stmt *st);
    void (*clear_bindings)(oz_sql_stmt *st);
    int (*parameter_count)(oz_sql_stmt *st);
    int (*bind_int64)(oz_sql_stmt *st, int i, int64_t v);
    int (*bind_double)(oz_sql_stmt *st, int i, double v);
    int (*bind_text)(oz_sql_stmt *st, int i, const char *text, int len);
    int (*bind_blob)(oz_sql_stmt *st, int i, const void *p, int len);
    int (*bind_null)(oz_sql_stmt *st, int i);
    int (*step)(oz_sql_stmt *st);
    oz_sql_type (*column_type)(oz_sql_stmt *st, int col);
    int64_t (*column_int64)(oz_sql_stmt *st, int col);
    double (*column_double)(oz_sql_stmt *st, int col);
    const unsigned char *(*column_text)(oz_sql_stmt *st, int col);
    const void *(*column_blob)(oz_sql_stmt *st, int col);
    int (*column_bytes)(oz_sql_stmt *st, int col);
    /* connections */
    void (*close)(oz_sql *c);
    int (*exec)(oz_sql *c, const char *text);
    int64_t (*changes)(oz_sql *c);
    int64_t (*total_changes)(oz_sql *c);
    bool (*in_transaction)(oz_sql *c);
    const char *(*errmsg)(oz_sql *c);
    oz_sql_errkind (*errkind)(oz_sql *c);
    int (*revive)(oz_sql *c);
} oz_sql_driver;

struct oz_sql {
    const oz_sql_driver *drv;
};

struct oz_sql_stmt {
    const oz_sql_driver *drv;
};

#endif

/*
 * ozma_server.h - what the two files of the ozma-server program share
 * (ozma_server.c: init, load, serve and main; ozma_server_read.c: status,
 * signals, verify; ozma_server_admin.c: dataset and host): its argument helpers and the reading commands.  Not
 * part of the scheduler library.
 */
#ifndef OZMA_SERVER_H
#define OZMA_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#define PROG "ozma-server"

/* --flag VALUE or --flag=VALUE at argv[*i]: the flag into buf, its value
 * into *value (NULL for a flag that takes none, when want_value is false).
 * Returns 0, or EXIT_BADINPUT after complaining. */
int oz_server_flag_split(int argc, char **argv, int *i, bool want_value, char *buf, size_t len,
                         const char **value);
/* -h or --help. */
bool oz_server_is_help(const char *a);
/* An integer in min..max for flag, or EXIT_BADINPUT after complaining. */
int oz_server_parse_int(const char *flag, const char *v, long min, long max, int *out);
/* The exit status of a scheduler error: bad input or a runtime failure. */
int oz_server_status_of(int rc);

typedef struct oz_db oz_db;
typedef struct oz_store oz_store;
/* Opens DIR's database and one connection; 0, or an exit status after
 * complaining (not a project, a database that does not open). */
int oz_server_open_store(const char *dir, oz_db **db, oz_store **s);

/* ozma-server status | signals | verify DIR ... (argv[1] is the command). */
int oz_server_cmd_status(int argc, char **argv);
int oz_server_cmd_signals(int argc, char **argv);
int oz_server_cmd_candidates(int argc, char **argv);
int oz_server_cmd_verify(int argc, char **argv);
/* ozma-server dataset list|cancel|delete and host ban (ozma_server_admin.c). */
int oz_server_cmd_dataset(int argc, char **argv);
int oz_server_cmd_host(int argc, char **argv);
int oz_server_cmd_purge(int argc, char **argv);

#endif

/*
 * cli.h - what Ozma's command-line programs share: their exit statuses, the
 * one-line complaint that names the program, the flag and the problem, and
 * strict number parsing.  Every program says bad input the same way
 * (exit 2, one line on stderr: "ozma-split: --overlap: ..."), so scripts and
 * people can rely on it.
 */
#ifndef OZMA_CLI_H
#define OZMA_CLI_H

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_BADINPUT = 2 };

/* Prints "PROG: <message>" on stderr and returns `status`. */
int oz_cli_complain(const char *prog, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The exit status for a workunits error: the input's fault unless memory or
 * the system failed. */
int oz_cli_status_of(int rc);

/* getopt_long returned ':' (a flag without its value) or '?' (an unknown
 * flag) for argv: complains naming the flag, returns EXIT_BADINPUT. */
int oz_cli_getopt_complain(const char *prog, int c, char **argv);

/* An output file path given by `flag`: complains (EXIT_BADINPUT) when it
 * names a directory, block device or socket (oz_wu_out_check), so a program
 * refuses it before its work rather than after. */
int oz_cli_out_file_check(const char *prog, const char *flag, const char *path);

/* An output directory given by `flag`: complains (EXIT_BADINPUT) when it
 * exists and is not a directory ("is a character device, not a
 * directory"). */
int oz_cli_out_dir_check(const char *prog, const char *flag, const char *dir);

/* A finite double, the whole of `text`; complains naming `flag` otherwise. */
int oz_cli_parse_double(const char *prog, const char *flag, const char *text, double *out);

#endif

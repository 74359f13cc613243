/*
 * cli.c - see ozma_cli.h: exit statuses, complaints, strict number parsing.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ozma_cli.h"
#include "ozma_workunits.h"

int oz_cli_complain(const char *prog, int status, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return status;
}

int oz_cli_status_of(int rc)
{
    return rc == OZ_WU_ENOMEM || rc == OZ_WU_EIO ? EXIT_RUNTIME : EXIT_BADINPUT;
}

int oz_cli_out_file_check(const char *prog, const char *flag, const char *path)
{
    char why[512];
    if (oz_wu_out_check(path, why, sizeof why) != OZ_WU_OK)
        return oz_cli_complain(prog, EXIT_BADINPUT, "%s: %s", flag, why);
    return EXIT_OK;
}

int oz_cli_out_dir_check(const char *prog, const char *flag, const char *dir)
{
    struct stat st;
    if (stat(dir, &st) != 0 || S_ISDIR(st.st_mode))
        return EXIT_OK; /* missing: made later, which says what is wrong, if anything */
    const char *what = S_ISREG(st.st_mode)    ? "a regular file"
                       : S_ISCHR(st.st_mode)  ? "a character device"
                       : S_ISBLK(st.st_mode)  ? "a block device"
                       : S_ISFIFO(st.st_mode) ? "a FIFO"
                       : S_ISSOCK(st.st_mode) ? "a socket"
                                              : "not a directory";
    return oz_cli_complain(prog, EXIT_BADINPUT, "%s: %s: is %s, not a directory", flag, dir, what);
}

int oz_cli_parse_double(const char *prog, const char *flag, const char *text, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || *end != '\0')
        return oz_cli_complain(prog, EXIT_BADINPUT, "%s: \"%s\" is not a number", flag, text);
    if (errno == ERANGE || !isfinite(v))
        return oz_cli_complain(prog, EXIT_BADINPUT, "%s: %s is not a finite number in range", flag,
                               text);
    *out = v;
    return EXIT_OK;
}

int oz_cli_getopt_complain(const char *prog, int c, char **argv)
{
    const char *arg = optind > 0 ? argv[optind - 1] : "";
    if (c == ':')
        return oz_cli_complain(prog, EXIT_BADINPUT, "%s needs a value (see --help)", arg);
    if (strncmp(arg, "--", 2) == 0)
        return oz_cli_complain(prog, EXIT_BADINPUT, "unknown option '%s' (see --help)", arg);
    return oz_cli_complain(prog, EXIT_BADINPUT, "unknown option '-%c' (see --help)", optopt);
}

/*
 * cli.c - see cli.h.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
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

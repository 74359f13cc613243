/*
 * unit_check.c - re-hashing a unit file on the server's disk, and the rule
 * for when a host's report calls for it (unit_check.h).
 *
 * The file is read in 64 KiB blocks through the workunits library's
 * SHA-256 (OpenSSL), never whole into memory; a read error is an answer
 * ("cannot be read") rather than a failure, since a file the server cannot
 * read is as unfit to send as one that reads wrong.
 */
#include "unit_check.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ozma_workunits.h"
#include "sched_errors.h"

bool oz_unit_check_reported(const char *message)
{
    return message && (strstr(message, "does not verify") || strstr(message, "hash mismatch"));
}

int oz_unit_check_file(int units_fd, const char *file, const unsigned char sha256[32], char *reason,
                       size_t len)
{
    unsigned char buf[1 << 16], got[32];
    int fd = openat(units_fd, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        snprintf(reason, len, "units/%s: cannot open: %s", file, strerror(errno));
        return 1;
    }
    oz_wu_sha256_ctx *st = oz_wu_sha256_begin();
    if (!st) {
        close(fd);
        return OZ_SCHED_ENOMEM;
    }
    for (;;) {
        ssize_t r = read(fd, buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(reason, len, "units/%s: cannot be read: %s", file, strerror(errno));
            close(fd);
            oz_wu_sha256_end(st, NULL);
            return 1;
        }
        if (r == 0)
            break;
        oz_wu_sha256_add(st, buf, (size_t)r);
    }
    close(fd);
    if (oz_wu_sha256_end(st, got) != OZ_WU_OK)
        return OZ_SCHED_ENOMEM;
    if (memcmp(got, sha256, 32) == 0)
        return 0;
    char have[65], want[65];
    oz_wu_sha256_hex(got, have);
    oz_wu_sha256_hex(sha256, want);
    snprintf(reason, len, "units/%s: SHA-256 %s, the database says %s", file, have, want);
    return 1;
}

/*
 * unit_check.h - checking the server's own unit files (issue 21, hole 8).
 *
 * Each unit file's SHA-256 is recorded by its load (load.c, from the bytes
 * it wrote durably).  A file changed on the server's disk afterwards (a bad
 * sector, an operator's slip, a half-restored backup) would be sent to host
 * after host, each rejecting it, until the unit ended in error with nobody
 * told.  So when a host reports that its download did not match the
 * assignment's SHA-256, the server hashes its own copy again; a copy that
 * does not match, or cannot be read, is the server's fault, to be marked
 * (store_files.c) and shown to the operator.  `ozma-server verify` checks
 * the files of units marked bad, or of every unit, the same way.
 */
#ifndef OZ_SCHED_UNIT_CHECK_H
#define OZ_SCHED_UNIT_CHECK_H

#include <stdbool.h>
#include <stddef.h>

/* Does a host's error report say its download did not match the unit's
 * SHA-256?  ozma-worker writes "UNIT: download N does not verify: SHA-256
 * ..." (worker/transfer.c); "hash mismatch" is accepted from other clients
 * (API.md). */
bool oz_unit_check_reported(const char *message);

/* Hashes the unit file `file` in the folder units_fd (openat, no symbolic
 * link followed) and compares it with sha256.  0: it matches; 1: it does not,
 * or it cannot be read, with reason saying which ("FILE: SHA-256 X, the
 * database says Y", "FILE: cannot open: ..."); OZ_SCHED_ENOMEM. */
int oz_unit_check_file(int units_fd, const char *file, const unsigned char sha256[32], char *reason,
                       size_t len);

#endif

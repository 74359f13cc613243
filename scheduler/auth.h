/*
 * auth.h - the scheduler's secrets: account authenticators and host keys.
 *
 * A token is 32 random bytes (libsodium's randombytes_buf) shown to its
 * owner once as 64 lowercase hex digits.  The database never holds a token:
 * it holds a keyed hash of it (crypto_generichash, BLAKE2b, 32-byte output,
 * keyed with the project's secret.key), so a stolen database copy is useless
 * without the key and the lookup by hash is an exact index match.  Because a
 * request is matched by the hash of what it presented, no secret is ever
 * compared byte by byte and constant-time comparison is unnecessary; what
 * must be strict is the parse of the Authorization header itself.
 */
#ifndef OZ_SCHED_AUTH_H
#define OZ_SCHED_AUTH_H

#include <stddef.h>

#define OZ_AUTH_KEY_BYTES 32   /* secret.key */
#define OZ_AUTH_TOKEN_BYTES 32 /* raw token */
#define OZ_AUTH_TOKEN_HEX 64   /* its text */
#define OZ_AUTH_HASH_BYTES 32  /* what the store keeps */

/* Calls sodium_init (idempotent, thread-safe); OZ_SCHED_EIO if it fails. */
int oz_auth_init(void);

/* A fresh token: hex receives 64 lowercase hex digits and a NUL, hash its
 * keyed hash under `key`. */
int oz_auth_token_new(const unsigned char key[OZ_AUTH_KEY_BYTES], char hex[OZ_AUTH_TOKEN_HEX + 1],
                      unsigned char hash[OZ_AUTH_HASH_BYTES]);

/* The keyed hash of a raw token. */
void oz_auth_token_hash(const unsigned char key[OZ_AUTH_KEY_BYTES],
                        const unsigned char token[OZ_AUTH_TOKEN_BYTES],
                        unsigned char hash[OZ_AUTH_HASH_BYTES]);

/* Parses exactly 64 lowercase hex digits (len bytes, no NUL needed) into
 * the raw token; OZ_SCHED_EAUTH otherwise. */
int oz_auth_token_parse(const char *hex, size_t len, unsigned char token[OZ_AUTH_TOKEN_BYTES]);

/* Parses an Authorization header value: exactly "Bearer " (scheme matched
 * case-insensitively, one space) then a token as above, nothing else.
 * OZ_SCHED_EAUTH with a reason in why for anything else (NULL: missing). */
int oz_auth_bearer_parse(const char *value, unsigned char token[OZ_AUTH_TOKEN_BYTES], char *why,
                         size_t whylen);

#endif

/*
 * auth.c - tokens and their keyed hashes (see auth.h).
 *
 * Everything here is a pure function of its arguments except token
 * generation, which draws from libsodium's CSPRNG.  The parsers accept one
 * spelling only (lowercase hex, one space after "Bearer"), so there is
 * exactly one text per token and nothing to normalise.
 */
#include "auth.h"

#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "sched_errors.h"

int oz_auth_init(void)
{
    return sodium_init() < 0 ? OZ_SCHED_EIO : 0;
}

void oz_auth_token_hash(const unsigned char key[OZ_AUTH_KEY_BYTES],
                        const unsigned char token[OZ_AUTH_TOKEN_BYTES],
                        unsigned char hash[OZ_AUTH_HASH_BYTES])
{
    crypto_generichash(hash, OZ_AUTH_HASH_BYTES, token, OZ_AUTH_TOKEN_BYTES, key,
                       OZ_AUTH_KEY_BYTES);
}

int oz_auth_token_new(const unsigned char key[OZ_AUTH_KEY_BYTES], char hex[OZ_AUTH_TOKEN_HEX + 1],
                      unsigned char hash[OZ_AUTH_HASH_BYTES])
{
    unsigned char token[OZ_AUTH_TOKEN_BYTES];
    randombytes_buf(token, sizeof token);
    sodium_bin2hex(hex, OZ_AUTH_TOKEN_HEX + 1, token, sizeof token); /* lowercase */
    oz_auth_token_hash(key, token, hash);
    sodium_memzero(token, sizeof token);
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

int oz_auth_token_parse(const char *hex, size_t len, unsigned char token[OZ_AUTH_TOKEN_BYTES])
{
    if (!hex || len != OZ_AUTH_TOKEN_HEX)
        return OZ_SCHED_EAUTH;
    for (size_t i = 0; i < OZ_AUTH_TOKEN_BYTES; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return OZ_SCHED_EAUTH;
        token[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

int oz_auth_bearer_parse(const char *value, unsigned char token[OZ_AUTH_TOKEN_BYTES], char *why,
                         size_t whylen)
{
    static const char scheme[] = "Bearer ";
    const size_t slen = sizeof scheme - 1;
    if (!value)
        return oz_sched_fail(OZ_SCHED_EAUTH, why, whylen, "no Authorization header");
    size_t len = strlen(value);
    if (len < slen || strncasecmp(value, scheme, slen) != 0)
        return oz_sched_fail(OZ_SCHED_EAUTH, why, whylen,
                             "Authorization must be \"Bearer\" and a token");
    if (oz_auth_token_parse(value + slen, len - slen, token) != 0)
        return oz_sched_fail(OZ_SCHED_EAUTH, why, whylen,
                             "the token must be 64 lowercase hex digits");
    return 0;
}

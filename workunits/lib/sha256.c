/*
 * sha256.c - SHA-256 of unit payloads, unit files and result bodies, their
 * hex form (and the check of it that tokens share), and constant-time
 * digest comparison.
 *
 * The digests come from OpenSSL's libcrypto rather than libsodium (which the
 * rest of Ozma uses for tokens): libcrypto's SHA-256 runs on the CPU's SHA
 * extensions (SHA-NI, ARMv8 SHA2) where they exist - 1.8 GB/s per core on
 * the reference machine against libsodium's 0.3 GB/s - and every unit byte
 * is hashed twice when a recording is split (payload, file) and twice again
 * when a unit is read.  libcrypto picks its implementation itself; it needs
 * no initialisation and is safe to call from several threads.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "internal.h"

struct oz_wu_sha256_ctx {
    EVP_MD_CTX *md;
    bool failed;
};

int oz_wu_sha256(const void *data, size_t n, unsigned char out[32])
{
    unsigned int len = 0;
    if (EVP_Digest(data, n, out, &len, EVP_sha256(), NULL) != 1 || len != 32)
        return OZ_WU_ENOMEM;
    return OZ_WU_OK;
}

oz_wu_sha256_ctx *oz_wu_sha256_begin(void)
{
    oz_wu_sha256_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->md = EVP_MD_CTX_new();
    if (!c->md || EVP_DigestInit_ex(c->md, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(c->md);
        free(c);
        return NULL;
    }
    return c;
}

void oz_wu_sha256_add(oz_wu_sha256_ctx *c, const void *data, size_t n)
{
    if (n && EVP_DigestUpdate(c->md, data, n) != 1)
        c->failed = true;
}

int oz_wu_sha256_end(oz_wu_sha256_ctx *c, unsigned char out[32])
{
    if (!c)
        return OZ_WU_ENOMEM;
    unsigned int len = 0;
    int rc = OZ_WU_OK;
    if (out && (c->failed || EVP_DigestFinal_ex(c->md, out, &len) != 1 || len != 32))
        rc = OZ_WU_ENOMEM;
    EVP_MD_CTX_free(c->md);
    free(c);
    return rc;
}

bool oz_wu_sha256_equal(const unsigned char a[32], const unsigned char b[32])
{
    return CRYPTO_memcmp(a, b, 32) == 0;
}

void oz_wu_sha256_hex(const unsigned char sha[32], char out[65])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = digits[sha[i] >> 4];
        out[2 * i + 1] = digits[sha[i] & 15];
    }
    out[64] = '\0';
}

bool oz_wu_hex64_valid(const char *s)
{
    if (!s || strlen(s) != 64)
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int oz_wu_sha256_unhex(const char *hex, unsigned char sha[32])
{
    if (!hex || strlen(hex) != 64)
        return OZ_WU_EFORMAT;
    unsigned char tmp[32];
    for (int i = 0; i < 32; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return OZ_WU_EFORMAT;
        tmp[i] = (unsigned char)(hi << 4 | lo);
    }
    memcpy(sha, tmp, sizeof tmp);
    return OZ_WU_OK;
}

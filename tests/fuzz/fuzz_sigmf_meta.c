/*
 * fuzz_sigmf_meta.c - libFuzzer target for the SigMF meta parser: the input
 * becomes a .sigmf-meta file beside a small data file, and opening the pair
 * must either fail with a message or give a reader whose samples all read
 * back.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "ozma_workunits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char stem[64];

static void put(const char *suffix, const void *buf, size_t len)
{
    char path[96];
    snprintf(path, sizeof path, "%s%s", stem, suffix);
    FILE *f = fopen(path, "wb");
    if (!f)
        abort();
    if (len && fwrite(buf, 1, len, f) != len)
        abort();
    fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!stem[0]) {
        snprintf(stem, sizeof stem, "/tmp/oz_fuzz_sigmf_%ld", (long)getpid());
        unsigned char samples[96];
        for (size_t i = 0; i < sizeof samples; i++)
            samples[i] = (unsigned char)(i * 37);
        put(".sigmf-data", samples, sizeof samples);
    }
    put(".sigmf-meta", data, size);
    oz_wu_reader *r;
    char why[512];
    if (oz_wu_open_sigmf(stem, &r, why, sizeof why) != OZ_WU_OK)
        return 0;
    float iq[2 * 96];
    size_t got;
    if (oz_wu_reader_read(r, iq, 96, &got, why, sizeof why) == OZ_WU_OK &&
        got != oz_wu_reader_info(r)->nsamples)
        __builtin_trap();
    oz_wu_reader_close(r);
    return 0;
}

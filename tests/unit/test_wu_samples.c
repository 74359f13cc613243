/*
 * test_wu_samples.c - sample formats (workunits/samples.c): names, sizes,
 * exact scaling of integer samples, quantisation with rounding and clipping,
 * little-endian layout, and SHA-256 digests as hex.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"
#include "ozma_workunits.h"

static void names_sizes_and_parsing_agree(void **state)
{
    (void)state;
    oz_wu_format f;
    assert_int_equal(oz_wu_format_parse("ci8", &f), 0);
    assert_int_equal(f, OZ_WU_CI8);
    assert_int_equal(oz_wu_format_parse("ci16_le", &f), 0);
    assert_int_equal(f, OZ_WU_CI16);
    assert_int_equal(oz_wu_format_parse("cf32", &f), 0);
    assert_int_equal(f, OZ_WU_CF32);
    assert_int_equal(oz_wu_format_parse("ci16_be", &f), OZ_WU_EINVAL);
    assert_int_equal(oz_wu_format_parse("cu8", &f), OZ_WU_EINVAL);
    assert_int_equal(oz_wu_format_parse(NULL, &f), OZ_WU_EINVAL);
    assert_string_equal(oz_wu_format_name(OZ_WU_CI16), "ci16");
    assert_int_equal(oz_wu_format_size(OZ_WU_CI8), 2);
    assert_int_equal(oz_wu_format_size(OZ_WU_CI16), 4);
    assert_int_equal(oz_wu_format_size(OZ_WU_CF32), 8);
}

static void integers_scale_to_full_scale_one(void **state)
{
    (void)state;
    const unsigned char ci8[4] = {0x80, 0x7f, 0x00, 0xff}; /* -128, 127, 0, -1 */
    float iq[4];
    oz_wu_format_to_cf32(OZ_WU_CI8, ci8, 2, iq);
    assert_true(iq[0] == -1.0f && iq[1] == 127.0f / 128 && iq[2] == 0 && iq[3] == -1.0f / 128);

    const unsigned char ci16[8] = {0x00, 0x80, 0xff, 0x7f, 0x01, 0x00, 0xfe, 0xff};
    oz_wu_format_to_cf32(OZ_WU_CI16, ci16, 2, iq);
    assert_true(iq[0] == -1.0f && iq[1] == 32767.0f / 32768 && iq[2] == 1.0f / 32768 &&
                iq[3] == -2.0f / 32768);
}

static void cf32_is_little_endian_ieee(void **state)
{
    (void)state;
    const unsigned char b[8] = {0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0}; /* 1, -2 */
    float iq[2];
    oz_wu_format_to_cf32(OZ_WU_CF32, b, 1, iq);
    assert_true(iq[0] == 1.0f && iq[1] == -2.0f);
    unsigned char out[8];
    assert_int_equal(oz_wu_format_from_cf32(OZ_WU_CF32, iq, 1, out), 0);
    assert_memory_equal(out, b, 8);
}

static void quantising_rounds_to_nearest_and_round_trips(void **state)
{
    (void)state;
    /* Every ci16 value survives float and back exactly. */
    enum { N = 32768 };
    unsigned char *raw = malloc(4 * N), *back = malloc(4 * N);
    float *iq = malloc(2 * N * sizeof *iq);
    assert_non_null(raw);
    assert_non_null(back);
    assert_non_null(iq);
    for (unsigned i = 0; i < 2 * N; i++) {
        unsigned v = i & 0xffffu;
        raw[2 * i] = (unsigned char)(v & 0xff);
        raw[2 * i + 1] = (unsigned char)(v >> 8);
    }
    oz_wu_format_to_cf32(OZ_WU_CI16, raw, N, iq);
    assert_int_equal(oz_wu_format_from_cf32(OZ_WU_CI16, iq, N, back), 0);
    assert_memory_equal(raw, back, 4 * N);

    /* Rounding: 0.4 LSB down, 0.6 LSB up, negative alike. */
    float q[4] = {0.4f / 128, 0.6f / 128, -0.4f / 128, -1.6f / 128};
    signed char c[4];
    assert_int_equal(oz_wu_format_from_cf32(OZ_WU_CI8, q, 2, c), 0);
    assert_int_equal(c[0], 0);
    assert_int_equal(c[1], 1);
    assert_int_equal(c[2], 0);
    assert_int_equal(c[3], -2);
    free(raw);
    free(back);
    free(iq);
}

static void quantising_clips_and_counts(void **state)
{
    (void)state;
    float q[6] = {1.0f, -1.0f, 2.0f, -2.0f, NAN, 0.5f};
    signed char c[6];
    /* 1.0 -> 128 clips to 127; -1.0 is -128 exactly; 2, -2 and NaN clip. */
    assert_int_equal(oz_wu_format_from_cf32(OZ_WU_CI8, q, 3, c), 4);
    assert_int_equal(c[0], 127);
    assert_int_equal(c[1], -128);
    assert_int_equal(c[2], 127);
    assert_int_equal(c[3], -128);
    assert_int_equal(c[4], 0);
    assert_int_equal(c[5], 64);
}

static void sha256_hex_round_trips_and_rejects_garbage(void **state)
{
    (void)state;
    unsigned char sha[32], back[32];
    for (int i = 0; i < 32; i++)
        sha[i] = (unsigned char)(i * 37 + 5);
    char hex[65];
    oz_wu_sha256_hex(sha, hex);
    assert_int_equal(strlen(hex), 64);
    assert_int_equal(oz_wu_sha256_unhex(hex, back), 0);
    assert_memory_equal(sha, back, 32);
    hex[10] = 'g';
    assert_int_equal(oz_wu_sha256_unhex(hex, back), OZ_WU_EFORMAT);
    assert_int_equal(oz_wu_sha256_unhex("abcd", back), OZ_WU_EFORMAT);
    assert_int_equal(oz_wu_sha256_unhex(NULL, back), OZ_WU_EFORMAT);
}

static void hex64_is_exactly_64_lowercase_hex_digits(void **state)
{
    (void)state;
    unsigned char sha[32];
    for (int i = 0; i < 32; i++)
        sha[i] = (unsigned char)(i * 37 + 5);
    char hex[65];
    oz_wu_sha256_hex(sha, hex);
    assert_true(oz_wu_hex64_valid(hex));
    hex[63] = 'A'; /* tokens and hashes are written lowercase */
    assert_false(oz_wu_hex64_valid(hex));
    hex[63] = 'g';
    assert_false(oz_wu_hex64_valid(hex));
    hex[63] = '\0';
    assert_false(oz_wu_hex64_valid(hex));
    assert_false(oz_wu_hex64_valid(""));
    assert_false(oz_wu_hex64_valid(NULL));
    char longer[66];
    oz_wu_sha256_hex(sha, longer);
    longer[64] = '0';
    longer[65] = '\0';
    assert_false(oz_wu_hex64_valid(longer));
}

static void ids_are_file_and_url_safe(void **state)
{
    (void)state;
    assert_true(oz_wu_id_valid("obs-2024_05.a", 64));
    assert_false(oz_wu_id_valid("", 64));
    assert_false(oz_wu_id_valid(".hidden", 64));
    assert_false(oz_wu_id_valid("-flag", 64));
    assert_false(oz_wu_id_valid("a/b", 64));
    assert_false(oz_wu_id_valid("a b", 64));
    assert_false(oz_wu_id_valid("abcdef", 5));
    assert_true(oz_wu_id_valid("abcde", 5));
}

static void strerror_names_every_code(void **state)
{
    (void)state;
    for (int e = 0; e >= -8; e--)
        assert_string_not_equal(oz_wu_strerror(e), "unknown error");
    assert_string_equal(oz_wu_strerror(-99), "unknown error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(names_sizes_and_parsing_agree),
        cmocka_unit_test(integers_scale_to_full_scale_one),
        cmocka_unit_test(cf32_is_little_endian_ieee),
        cmocka_unit_test(quantising_rounds_to_nearest_and_round_trips),
        cmocka_unit_test(quantising_clips_and_counts),
        cmocka_unit_test(sha256_hex_round_trips_and_rejects_garbage),
        cmocka_unit_test(hex64_is_exactly_64_lowercase_hex_digits),
        cmocka_unit_test(ids_are_file_and_url_safe),
        cmocka_unit_test(strerror_names_every_code),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

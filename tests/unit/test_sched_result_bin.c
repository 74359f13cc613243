/*
 * test_sched_result_bin.c - a result's packed form (scheduler/result_bin.c),
 * what the validator and the assimilator read instead of the JSON: a real
 * kernel result parsed from its text and packed comes back field for field
 * and bit for bit as the parse gave it; every field of a signal survives
 * (each given a value of its own); a row without a packed form is read
 * from its JSON; and bytes that are not a packed result - cut short, with
 * bytes left over, a wrong magic, an unknown signal type, a mask naming a
 * field that does not exist, a count past its bound - are refused with a
 * sentence, never read past their end.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "result_bin.h"
#include "support.h"

#define N (1u << 16)

/* Every field of a and b the same, doubles bit for bit. */
static void assert_same(const oz_wu_result *a, const oz_wu_result *b)
{
    assert_string_equal(a->unit_id, b->unit_id);
    assert_memory_equal(a->unit_sha256, b->unit_sha256, 32);
    const oz_sci_result *x = &a->result, *y = &b->result;
    assert_int_equal(x->flops, y->flops);
    assert_memory_equal(&x->cpu_s, &y->cpu_s, sizeof x->cpu_s);
    assert_memory_equal(&x->fft_s, &y->fft_s, sizeof x->fft_s);
    assert_string_equal(x->kernel_version, y->kernel_version);
    assert_int_equal(x->overflow, y->overflow);
    for (int t = 0; t < OZ_SIG_NTYPES; t++) {
        assert_int_equal(x->has_best[t], y->has_best[t]);
        if (x->has_best[t])
            assert_memory_equal(&x->best[t], &y->best[t], sizeof x->best[t]);
    }
    assert_int_equal(x->nsignals, y->nsignals);
    if (x->nsignals)
        assert_memory_equal(x->signals, y->signals, x->nsignals * sizeof *x->signals);
}

/* r packed and unpacked, compared with r; the packed bytes kept in *bin. */
static void round_trip(const oz_wu_result *r, unsigned char **bin, size_t *len)
{
    assert_int_equal(oz_result_bin_pack(r, bin, len), OZ_SCHED_OK);
    oz_wu_result back;
    char why[256];
    assert_int_equal(oz_result_bin_unpack(*bin, *len, &back, why, sizeof why), OZ_SCHED_OK);
    assert_same(r, &back);
    oz_wu_result_clear(&back);
}

static void a_kernel_result_comes_back_as_parsed(void **state)
{
    (void)state;
    oz_sci_config cfg;
    oz_test_config_small(&cfg);
    float *iq = oz_test_noise(N, 7, 1.0);
    oz_tone tone = {.freq_hz = -1500.0, .chirp_hz_s = 2.0, .amp = 0.5};
    oz_sci_add_tone(iq, N, OZ_TEST_FS, &tone);
    oz_sci_result r;
    oz_test_search(&cfg, iq, N, OZ_TEST_FS, OZ_TEST_F0, &r);
    free(iq);
    assert_true(r.nsignals > 0);
    char *text = oz_test_result_text(&r);
    oz_sci_result_clear(&r);
    oz_wu_result parsed, read;
    char why[256];
    assert_int_equal(oz_wu_result_parse(text, strlen(text), &parsed, why, sizeof why), OZ_WU_OK);
    unsigned char *bin;
    size_t len;
    round_trip(&parsed, &bin, &len);
    /* a stored row is read from the packed form when it has one, else from
     * its text, and both give the parse */
    assert_int_equal(oz_result_bin_read(bin, len, NULL, &read, why, sizeof why), OZ_SCHED_OK);
    assert_same(&parsed, &read);
    oz_wu_result_clear(&read);
    assert_int_equal(oz_result_bin_read(NULL, 0, text, &read, why, sizeof why), OZ_SCHED_OK);
    assert_same(&parsed, &read);
    oz_wu_result_clear(&read);
    assert_int_equal(oz_result_bin_read(NULL, 0, "{}", &read, why, sizeof why), OZ_SCHED_EINVAL);
    free(bin);
    free(text);
    oz_wu_result_clear(&parsed);
}

/* Signal i with every field a value of its own, but one zero (not
 * packed) and one -0.0 (packed: it is not zero bit for bit). */
static void distinct_signal(oz_signal *g, size_t i)
{
    g->type = (oz_sig_type)(i % OZ_SIG_NTYPES);
    g->fft_len = 0x80000000u >> i % 20;
    for (size_t k = 0; k < 17; k++) { /* the 17 doubles after type and fft_len */
        double v = k == i % 17 ? 0.0 : k == (i + 5) % 17 ? -0.0 : (double)(i * 100 + k) + 1.0 / 3.0;
        memcpy((unsigned char *)g + offsetof(oz_signal, freq_hz) + k * sizeof v, &v, sizeof v);
    }
}

/* A result whose every signal field, best and flag has a value of its own. */
static void distinct_result(oz_wu_result *r, oz_signal *sig, size_t n)
{
    memset(r, 0, sizeof *r);
    snprintf(r->unit_id, sizeof r->unit_id, "ds-%0*d", (int)OZ_WU_ID_MAX - 3, 42);
    for (int i = 0; i < 32; i++)
        r->unit_sha256[i] = (unsigned char)(255 - i);
    r->result.flops = UINT64_C(0xfedcba9876543210);
    r->result.cpu_s = 1.25;
    r->result.fft_s = -0.0;
    snprintf(r->result.kernel_version, sizeof r->result.kernel_version, "%031d", 7);
    r->result.overflow = true;
    for (size_t i = 0; i < n; i++)
        distinct_signal(&sig[i], i);
    r->result.signals = sig;
    r->result.nsignals = n;
    for (int t = 0; t < OZ_SIG_NTYPES; t += 2) {
        r->result.has_best[t] = true;
        distinct_signal(&r->result.best[t], 1000 + (size_t)t);
        r->result.best[t].type = (oz_sig_type)t;
    }
}

static void every_field_survives(void **state)
{
    (void)state;
    oz_signal sig[12];
    oz_wu_result r;
    distinct_result(&r, sig, 12);
    unsigned char *bin;
    size_t len;
    round_trip(&r, &bin, &len);
    free(bin);
    distinct_result(&r, sig, 0); /* and none at all */
    round_trip(&r, &bin, &len);
    free(bin);
}

static void bytes_that_are_not_a_packed_result_are_refused(void **state)
{
    (void)state;
    oz_signal sig[3];
    oz_wu_result r, back;
    distinct_result(&r, sig, 3);
    unsigned char *bin;
    size_t len;
    char why[256];
    assert_int_equal(oz_result_bin_pack(&r, &bin, &len), OZ_SCHED_OK);
    /* every cut, one byte more (each on a copy of its own size, so ASan
     * sees a read past the end) */
    for (size_t cut = 0; cut <= len + 1; cut++) {
        if (cut == len)
            continue;
        unsigned char *b = malloc(cut + 1);
        assert_non_null(b);
        memcpy(b, bin, cut < len ? cut : len);
        if (cut > len)
            b[len] = 0;
        why[0] = '\0';
        assert_int_equal(oz_result_bin_unpack(b, cut, &back, why, sizeof why), OZ_SCHED_EINVAL);
        assert_non_null(strstr(why, "packed result"));
        assert_int_equal(back.result.nsignals, 0);
        assert_null(back.result.signals);
        free(b);
    }
    bin[0] = 'X'; /* another magic */
    assert_int_equal(oz_result_bin_unpack(bin, len, &back, why, sizeof why), OZ_SCHED_EINVAL);
    bin[0] = 'O';
    /* where the count and the last signal begin: the same result packed
     * with no signal (the count is its last four bytes) and with two */
    unsigned char *none, *two;
    size_t len0, len2;
    r.result.nsignals = 0;
    assert_int_equal(oz_result_bin_pack(&r, &none, &len0), OZ_SCHED_OK);
    r.result.nsignals = 2;
    assert_int_equal(oz_result_bin_pack(&r, &two, &len2), OZ_SCHED_OK);
    free(none);
    free(two);
    size_t last = len2;
    bin[last] = OZ_SIG_NTYPES; /* an unknown type */
    assert_int_equal(oz_result_bin_unpack(bin, len, &back, why, sizeof why), OZ_SCHED_EINVAL);
    bin[last] = (unsigned char)sig[2].type;
    unsigned char keep = bin[last + 7];
    bin[last + 7] = keep | 0x04; /* a mask with a bit past the 17 doubles */
    assert_int_equal(oz_result_bin_unpack(bin, len, &back, why, sizeof why), OZ_SCHED_EINVAL);
    bin[last + 7] = keep;
    assert_int_equal(oz_result_bin_unpack(bin, len, &back, why, sizeof why), OZ_SCHED_OK);
    oz_wu_result_clear(&back);
    memset(bin + len0 - 4, 0xff, 4); /* a count past the bound */
    assert_int_equal(oz_result_bin_unpack(bin, len, &back, why, sizeof why), OZ_SCHED_EINVAL);
    memset(bin + len0 - 4, 0, 4); /* none: the signals' bytes left over */
    assert_int_equal(oz_result_bin_unpack(bin, len, &back, why, sizeof why), OZ_SCHED_EINVAL);
    free(bin);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_kernel_result_comes_back_as_parsed),
        cmocka_unit_test(every_field_survives),
        cmocka_unit_test(bytes_that_are_not_a_packed_result_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_sci_result.c - results as JSON (science/result.c): the writer's shape,
 * exact round trips, and the strict parser refusing each kind of garbage a
 * stranger could upload.
 *
 * The garbage cases start from a valid document (sample_json), break one
 * thing with jansson, and expect EPARSE, a message naming the place, and the
 * output struct left zeroed.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

/* A result with one signal of each type and odd doubles that need all 17
 * digits to survive. */
static void sample_result(oz_sci_result *r)
{
    memset(r, 0, sizeof *r);
    r->nsignals = 6;
    r->signals = calloc(r->nsignals, sizeof *r->signals);
    assert_non_null(r->signals);
    oz_signal *s = r->signals;
    s[0] = (oz_signal){.type = OZ_SIG_SPIKE,
                       .fft_len = 4096,
                       .freq_hz = 1420000123.4567891,
                       .chirp_hz_s = -0.3330000000000001,
                       .time_s = 3.2,
                       .power = 41.123456789012345,
                       .score = 41.123456789012345 / 24.0};
    s[1] = (oz_signal){.type = OZ_SIG_GAUSSIAN,
                       .fft_len = 1024,
                       .freq_hz = 1419999000.0 + 1.0 / 3.0,
                       .chirp_hz_s = 0.0,
                       .time_s = 50.0,
                       .power = 12.5,
                       .score = 1.5625,
                       .sigma_s = 4.1,
                       .chisq = 0.97};
    s[2] = (oz_signal){.type = OZ_SIG_PULSE,
                       .fft_len = 256,
                       .freq_hz = 1420001000.125,
                       .chirp_hz_s = 10.0,
                       .time_s = 0.0,
                       .power = 9.0,
                       .score = 1.125,
                       .period_s = 0.7853981633974483};
    s[3] = (oz_signal){.type = OZ_SIG_TRIPLET,
                       .fft_len = 8,
                       .freq_hz = -5.0e-324,
                       .chirp_hz_s = -OZ_SCI_CHIRP_MAX,
                       .time_s = 1e7,
                       .power = 1e300,
                       .score = 1e299,
                       .period_s = 2.0};
    s[4] = (oz_signal){.type = OZ_SIG_SPIKE,
                       .fft_len = 131072,
                       .freq_hz = 1e12,
                       .chirp_hz_s = 0.1,
                       .time_s = 107.37,
                       .power = 25,
                       .score = 25.0 / 24.0};
    s[5] = (oz_signal){.type = OZ_SIG_LINE,
                       .fft_len = 16384,
                       .freq_hz = 1420002000.0625,
                       .chirp_hz_s = -4.9,
                       .time_s = 53.5,
                       .power = 11.25,
                       .score = 1.3,
                       .start_s = 0.0,
                       .end_s = 107.0};
    r->has_best[OZ_SIG_SPIKE] = true;
    r->best[OZ_SIG_SPIKE] = s[0];
    r->has_best[OZ_SIG_PULSE] = true;
    r->best[OZ_SIG_PULSE] = (oz_signal){.type = OZ_SIG_PULSE,
                                        .fft_len = 64,
                                        .freq_hz = 1.0,
                                        .time_s = 1.0,
                                        .power = 0.5,
                                        .score = 0.0625,
                                        .period_s = 0.1};
    r->overflow = true;
    r->flops = 180000000000000ull;
    r->cpu_s = 12.345678901234567;
    r->fft_s = 0.1;
    snprintf(r->kernel_version, sizeof r->kernel_version, "%s", OZ_SCI_KERNEL_VERSION);
}

static json_t *sample_json(void)
{
    oz_sci_result r;
    sample_result(&r);
    json_t *j = oz_sci_result_to_json(&r);
    assert_non_null(j);
    oz_sci_result_clear(&r);
    return j;
}

static void assert_same_signal(const oz_signal *a, const oz_signal *b)
{
    assert_int_equal(a->type, b->type);
    assert_int_equal(a->fft_len, b->fft_len);
    /* Exact: the writer prints 17 significant digits. */
#define SAME(f)                                                                                    \
    do {                                                                                           \
        if (a->f != b->f)                                                                          \
            fail_msg(#f ": %.17g != %.17g", a->f, b->f);                                           \
    } while (0)
    SAME(freq_hz);
    SAME(chirp_hz_s);
    SAME(time_s);
    SAME(power);
    SAME(score);
    SAME(period_s);
    SAME(sigma_s);
    SAME(chisq);
#undef SAME
}

static void assert_zeroed(const oz_sci_result *r)
{
    oz_sci_result zero;
    memset(&zero, 0, sizeof zero);
    assert_null(r->signals);
    assert_memory_equal(r, &zero, sizeof zero);
}

/* Expects `j` (consumed) to be rejected with a message containing `word`. */
static void expect_garbage(json_t *j, const char *word)
{
    oz_sci_result out;
    char why[256] = "";
    memset(&out, 0x5a, sizeof out);
    int rc = oz_sci_result_from_json(j, &out, why, sizeof why);
    if (rc != OZ_SCI_EPARSE)
        fail_msg("expected EPARSE mentioning \"%s\", got %d (%s)", word, rc, why);
    if (!strstr(why, word))
        fail_msg("message \"%s\" does not mention \"%s\"", why, word);
    assert_zeroed(&out);
    json_decref(j);
}

static json_t *sig(json_t *j, size_t i)
{
    return json_array_get(json_object_get(j, "signals"), i);
}

/* ---- the writer ------------------------------------------------------------ */

static void to_json_has_the_design_shape(void **state)
{
    (void)state;
    json_t *j = sample_json();
    const char *top[] = {"signals", "best",  "counts", "overflow",
                         "flops",   "cpu_s", "fft_s",  "kernel_version"};
    for (size_t i = 0; i < sizeof top / sizeof top[0]; i++)
        if (!json_object_get(j, top[i]))
            fail_msg("no %s", top[i]);
    assert_int_equal(json_object_size(j), sizeof top / sizeof top[0]);
    assert_int_equal(json_array_size(json_object_get(j, "signals")), 6);

    json_t *spike = sig(j, 0), *gauss = sig(j, 1), *pulse = sig(j, 2), *trip = sig(j, 3);
    assert_string_equal(json_string_value(json_object_get(spike, "type")), "spike");
    assert_int_equal(json_integer_value(json_object_get(spike, "fft_len")), 4096);
    assert_int_equal(json_object_size(spike), 7); /* no type-specific keys */
    assert_null(json_object_get(spike, "period_s"));
    assert_non_null(json_object_get(gauss, "sigma_s"));
    assert_non_null(json_object_get(gauss, "chisq"));
    assert_null(json_object_get(gauss, "period_s"));
    assert_int_equal(json_object_size(gauss), 9);
    assert_non_null(json_object_get(pulse, "period_s"));
    assert_int_equal(json_object_size(pulse), 8);
    assert_non_null(json_object_get(trip, "period_s"));
    assert_null(json_object_get(trip, "chisq"));

    json_t *best = json_object_get(j, "best");
    assert_int_equal(json_object_size(best), 2);
    assert_non_null(json_object_get(best, "spike"));
    assert_non_null(json_object_get(best, "pulse"));
    assert_null(json_object_get(best, "gaussian"));

    json_t *counts = json_object_get(j, "counts");
    assert_int_equal(json_object_size(counts), OZ_SIG_NTYPES);
    assert_int_equal(json_integer_value(json_object_get(counts, "line")), 1);
    json_t *line = json_array_get(json_object_get(j, "signals"), 5);
    assert_true(json_real_value(json_object_get(line, "end_s")) == 107.0);
    assert_non_null(json_object_get(line, "start_s"));
    assert_null(json_object_get(line, "period_s"));
    assert_int_equal(json_integer_value(json_object_get(counts, "spike")), 2);
    assert_int_equal(json_integer_value(json_object_get(counts, "gaussian")), 1);
    assert_int_equal(json_integer_value(json_object_get(counts, "pulse")), 1);
    assert_int_equal(json_integer_value(json_object_get(counts, "triplet")), 1);

    assert_true(json_is_true(json_object_get(j, "overflow")));
    assert_true(json_is_integer(json_object_get(j, "flops")));
    assert_int_equal(json_integer_value(json_object_get(j, "flops")), 180000000000000ll);
    assert_string_equal(json_string_value(json_object_get(j, "kernel_version")),
                        OZ_SCI_KERNEL_VERSION);
    json_decref(j);
}

static void empty_result_round_trips(void **state)
{
    (void)state;
    oz_sci_result r, back;
    char why[256] = "";
    memset(&r, 0, sizeof r);
    snprintf(r.kernel_version, sizeof r.kernel_version, "%s", OZ_SCI_KERNEL_VERSION);
    json_t *j = oz_sci_result_to_json(&r);
    assert_non_null(j);
    assert_int_equal(json_array_size(json_object_get(j, "signals")), 0);
    assert_int_equal(json_object_size(json_object_get(j, "best")), 0);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "counts"), "spike")), 0);
    if (oz_sci_result_from_json(j, &back, why, sizeof why) != 0)
        fail_msg("rejected: %s", why);
    assert_int_equal(back.nsignals, 0);
    assert_null(back.signals);
    assert_false(back.overflow);
    assert_string_equal(back.kernel_version, OZ_SCI_KERNEL_VERSION);
    json_decref(j);
    oz_sci_result_clear(&back);
}

/* jansson's allocator, failing after a budget of allocations. */
static int alloc_budget;
static void *failing_malloc(size_t n)
{
    return alloc_budget-- > 0 ? malloc(n) : NULL;
}

static void to_json_returns_null_when_any_allocation_fails(void **state)
{
    (void)state;
    oz_sci_result r;
    sample_result(&r);
    int budget;
    for (budget = 0; budget < 100000; budget++) {
        alloc_budget = budget;
        json_set_alloc_funcs(failing_malloc, free);
        json_t *j = oz_sci_result_to_json(&r);
        json_set_alloc_funcs(malloc, free);
        if (j) { /* enough allocations at last; under ASan no earlier try leaked */
            json_decref(j);
            break;
        }
    }
    assert_true(budget > 10 && budget < 100000);
    oz_sci_result_clear(&r);
}

/* ---- round trips ----------------------------------------------------------- */

static void result_round_trips_exactly_through_text(void **state)
{
    (void)state;
    oz_sci_result r, back;
    char why[256] = "";
    sample_result(&r);
    json_t *j = oz_sci_result_to_json(&r);
    assert_non_null(j);
    char *text = json_dumps(j, JSON_INDENT(2));
    assert_non_null(text);
    json_decref(j);
    json_error_t err;
    j = json_loads(text, JSON_REJECT_DUPLICATES, &err);
    if (!j)
        fail_msg("writer's text does not parse: %s", err.text);
    free(text);
    if (oz_sci_result_from_json(j, &back, why, sizeof why) != 0)
        fail_msg("round trip rejected: %s", why);
    json_decref(j);

    assert_int_equal(back.nsignals, r.nsignals);
    for (size_t i = 0; i < r.nsignals; i++)
        assert_same_signal(&back.signals[i], &r.signals[i]);
    for (int t = 0; t < OZ_SIG_NTYPES; t++) {
        assert_int_equal(back.has_best[t], r.has_best[t]);
        if (r.has_best[t])
            assert_same_signal(&back.best[t], &r.best[t]);
    }
    assert_int_equal(back.overflow, r.overflow);
    assert_true(back.flops == r.flops);
    assert_true(back.cpu_s == r.cpu_s);
    assert_true(back.fft_s == r.fft_s);
    assert_string_equal(back.kernel_version, r.kernel_version);
    oz_sci_result_clear(&r);
    oz_sci_result_clear(&back);
}

static void clear_frees_and_zeroes(void **state)
{
    (void)state;
    oz_sci_result r;
    sample_result(&r);
    oz_sci_result_clear(&r);
    assert_zeroed(&r);
    oz_sci_result_clear(&r); /* twice is harmless */
    oz_sci_result_clear(NULL);
}

/* ---- the strict parser: one case per rule ------------------------------------- */

static void rejects_non_object(void **state)
{
    (void)state;
    expect_garbage(json_array(), "expected an object");
    expect_garbage(json_string("signals"), "expected an object");
    expect_garbage(json_null(), "expected an object");
    oz_sci_result out;
    char why[128];
    assert_int_equal(oz_sci_result_from_json(NULL, &out, why, sizeof why), OZ_SCI_EPARSE);
    assert_zeroed(&out);
}

static void rejects_missing_top_level_fields(void **state)
{
    (void)state;
    const char *keys[] = {"signals", "best",  "counts", "overflow",
                          "flops",   "cpu_s", "fft_s",  "kernel_version"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        json_t *j = sample_json();
        json_object_del(j, keys[i]);
        expect_garbage(j, keys[i]);
    }
}

static void rejects_unknown_top_level_key(void **state)
{
    (void)state;
    json_t *j = sample_json();
    json_object_set_new(j, "credit_claimed", json_integer(1000000));
    expect_garbage(j, "credit_claimed");
}

static void rejects_wrong_top_level_types(void **state)
{
    (void)state;
    json_t *j = sample_json();
    json_object_set_new(j, "signals", json_object());
    expect_garbage(j, "signals");
    j = sample_json();
    json_object_set_new(j, "best", json_array());
    expect_garbage(j, "best");
    j = sample_json();
    json_object_set_new(j, "counts", json_integer(5));
    expect_garbage(j, "counts");
    j = sample_json();
    json_object_set_new(j, "overflow", json_integer(1));
    expect_garbage(j, "overflow");
    j = sample_json();
    json_object_set_new(j, "flops", json_real(1e14));
    expect_garbage(j, "flops");
    j = sample_json();
    json_object_set_new(j, "cpu_s", json_string("12"));
    expect_garbage(j, "cpu_s");
    j = sample_json();
    json_object_set_new(j, "kernel_version", json_integer(1));
    expect_garbage(j, "kernel_version");
}

static void rejects_negative_flops_and_times(void **state)
{
    (void)state;
    json_t *j = sample_json();
    json_object_set_new(j, "flops", json_integer(-1));
    expect_garbage(j, "flops: -1 is negative");
    j = sample_json();
    json_object_set_new(j, "cpu_s", json_real(-0.5));
    expect_garbage(j, "cpu_s");
    j = sample_json();
    json_object_set_new(j, "fft_s", json_real(-1));
    expect_garbage(j, "fft_s");
}

static void rejects_long_or_odd_kernel_version(void **state)
{
    (void)state;
    json_t *j = sample_json();
    json_object_set_new(j, "kernel_version", json_string("ozma-kernel/1-with-a-very-long-tail"));
    expect_garbage(j, "kernel_version");
    j = sample_json();
    json_object_set_new(j, "kernel_version", json_stringn("ozma\0x", 6));
    expect_garbage(j, "kernel_version");
    j = sample_json();
    json_object_set_new(j, "kernel_version", json_string("ozma\n<script>"));
    expect_garbage(j, "kernel_version");
    /* 31 bytes fit the 32-byte field exactly. */
    oz_sci_result out;
    char why[256];
    j = sample_json();
    json_object_set_new(j, "kernel_version", json_string("0123456789012345678901234567890"));
    assert_int_equal(oz_sci_result_from_json(j, &out, why, sizeof why), 0);
    assert_string_equal(out.kernel_version, "0123456789012345678901234567890");
    oz_sci_result_clear(&out);
    json_decref(j);
}

static void rejects_more_than_the_signal_limit(void **state)
{
    (void)state;
    json_t *j = sample_json();
    json_t *arr = json_object_get(j, "signals");
    json_t *one = json_deep_copy(json_array_get(arr, 0));
    json_array_clear(arr);
    for (unsigned i = 0; i < OZ_SCI_SIGNALS_MAX + 1; i++)
        json_array_append(arr, one);
    json_decref(one);
    json_t *counts = json_object_get(j, "counts");
    json_object_set_new(counts, "spike", json_integer(OZ_SCI_SIGNALS_MAX + 1));
    json_object_set_new(counts, "gaussian", json_integer(0));
    json_object_set_new(counts, "pulse", json_integer(0));
    json_object_set_new(counts, "triplet", json_integer(0));
    json_object_set_new(counts, "line", json_integer(0));
    expect_garbage(j, "1001 entries");
}

static void accepts_exactly_the_signal_limit(void **state)
{
    (void)state;
    json_t *j = sample_json();
    json_t *arr = json_object_get(j, "signals");
    json_t *one = json_deep_copy(json_array_get(arr, 0));
    json_array_clear(arr);
    for (unsigned i = 0; i < OZ_SCI_SIGNALS_MAX; i++)
        json_array_append(arr, one);
    json_decref(one);
    json_t *counts = json_object_get(j, "counts");
    json_object_set_new(counts, "spike", json_integer(OZ_SCI_SIGNALS_MAX));
    json_object_set_new(counts, "gaussian", json_integer(0));
    json_object_set_new(counts, "pulse", json_integer(0));
    json_object_set_new(counts, "triplet", json_integer(0));
    json_object_set_new(counts, "line", json_integer(0));
    oz_sci_result out;
    char why[256] = "";
    if (oz_sci_result_from_json(j, &out, why, sizeof why) != 0)
        fail_msg("rejected: %s", why);
    assert_int_equal(out.nsignals, OZ_SCI_SIGNALS_MAX);
    oz_sci_result_clear(&out);
    json_decref(j);
}

static void rejects_unknown_signal_type(void **state)
{
    (void)state;
    json_t *j = sample_json();
    json_object_set_new(sig(j, 0), "type", json_string("wow"));
    expect_garbage(j, "signals[0].type: unknown signal type \"wow\"");
    j = sample_json();
    json_object_set_new(sig(j, 0), "type", json_integer(0));
    expect_garbage(j, "signals[0].type");
}

static void rejects_unknown_and_misplaced_signal_keys(void **state)
{
    (void)state;
    json_t *j = sample_json();
    json_object_set_new(sig(j, 1), "wow", json_real(3));
    expect_garbage(j, "signals[1]: unknown key \"wow\"");
    j = sample_json();
    json_object_set_new(sig(j, 0), "period_s", json_real(1)); /* a spike has none */
    expect_garbage(j, "period_s");
    j = sample_json();
    json_object_set_new(sig(j, 2), "chisq", json_real(1)); /* nor has a pulse */
    expect_garbage(j, "chisq");
}

static void rejects_missing_signal_fields(void **state)
{
    (void)state;
    const char *keys[] = {"type", "freq_hz", "chirp_hz_s", "time_s", "fft_len", "power", "score"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        json_t *j = sample_json();
        json_object_del(sig(j, 3), keys[i]);
        expect_garbage(j, keys[i]);
    }
    json_t *j = sample_json();
    json_object_del(sig(j, 2), "period_s");
    expect_garbage(j, "signals[2]: missing key \"period_s\"");
    j = sample_json();
    json_object_del(sig(j, 1), "sigma_s");
    expect_garbage(j, "sigma_s");
    j = sample_json();
    json_object_del(sig(j, 1), "chisq");
    expect_garbage(j, "chisq");
}

static void rejects_wrong_signal_field_types(void **state)
{
    (void)state;
    json_t *j = sample_json();
    json_object_set_new(sig(j, 0), "freq_hz", json_string("1420e6"));
    expect_garbage(j, "signals[0].freq_hz");
    j = sample_json();
    json_object_set_new(sig(j, 0), "fft_len", json_real(4096.0));
    expect_garbage(j, "signals[0].fft_len");
    j = sample_json();
    json_object_set_new(sig(j, 0), "power", json_null());
    expect_garbage(j, "signals[0].power");
    j = sample_json();
    json_array_set_new(json_object_get(j, "signals"), 4, json_integer(7));
    expect_garbage(j, "signals[4]");
}

static void accepts_integers_for_doubles(void **state)
{
    (void)state;
    json_t *j = sample_json();
    json_object_set_new(sig(j, 0), "freq_hz", json_integer(1420000000));
    json_object_set_new(sig(j, 0), "chirp_hz_s", json_integer(-3));
    oz_sci_result out;
    char why[256] = "";
    if (oz_sci_result_from_json(j, &out, why, sizeof why) != 0)
        fail_msg("rejected: %s", why);
    assert_true(out.signals[0].freq_hz == 1420000000.0);
    assert_true(out.signals[0].chirp_hz_s == -3.0);
    oz_sci_result_clear(&out);
    json_decref(j);
}

static void rejects_fft_len_not_a_power_of_two_or_out_of_range(void **state)
{
    (void)state;
    json_t *j = sample_json();
    json_object_set_new(sig(j, 3), "fft_len", json_integer(1000));
    expect_garbage(j, "signals[3].fft_len: 1000 is not a power of two");
    j = sample_json();
    json_object_set_new(sig(j, 3), "fft_len", json_integer(4));
    expect_garbage(j, "signals[3].fft_len");
    j = sample_json();
    json_object_set_new(sig(j, 3), "fft_len", json_integer(262144));
    expect_garbage(j, "signals[3].fft_len");
    j = sample_json();
    json_object_set_new(sig(j, 3), "fft_len", json_integer(0));
    expect_garbage(j, "signals[3].fft_len");
    j = sample_json();
    json_object_set_new(sig(j, 3), "fft_len", json_integer(-4096));
    expect_garbage(j, "signals[3].fft_len");
    j = sample_json(); /* 2^32 + 8 would be 8 if truncated to 32 bits */
    json_object_set_new(sig(j, 3), "fft_len", json_integer(4294967304ll));
    expect_garbage(j, "signals[3].fft_len");
}

static void rejects_huge_values(void **state)
{
    (void)state;
    json_t *j = sample_json();
    json_object_set_new(sig(j, 0), "freq_hz", json_real(1.0000001e12));
    expect_garbage(j, "signals[0].freq_hz");
    j = sample_json();
    json_object_set_new(sig(j, 0), "freq_hz", json_real(-1e300));
    expect_garbage(j, "signals[0].freq_hz");
    j = sample_json();
    json_object_set_new(sig(j, 0), "chirp_hz_s", json_real(OZ_SCI_CHIRP_MAX * 1.001));
    expect_garbage(j, "signals[0].chirp_hz_s");
    j = sample_json();
    json_object_set_new(sig(j, 0), "chirp_hz_s", json_real(-1e308));
    expect_garbage(j, "signals[0].chirp_hz_s");
    j = sample_json();
    json_object_set_new(sig(j, 0), "time_s", json_real(1e7 + 1));
    expect_garbage(j, "signals[0].time_s");
}

/* NaN and infinity cannot be written in JSON: jansson refuses 1e999 at load
 * and refuses to make a non-finite real, so they never reach the parser. */
static void non_finite_numbers_never_reach_the_parser(void **state)
{
    (void)state;
    json_error_t err;
    assert_null(json_loads("{\"power\": 1e999}", 0, &err));
    assert_null(json_loads("{\"power\": NaN}", 0, &err));
    assert_null(json_loads("{\"power\": -Infinity}", 0, &err));
    assert_null(json_real(INFINITY));
    assert_null(json_real(NAN));
}

static void rejects_negative_power_like_fields(void **state)
{
    (void)state;
    json_t *j = sample_json();
    json_object_set_new(sig(j, 0), "power", json_real(-1));
    expect_garbage(j, "signals[0].power: -1 is negative");
    j = sample_json();
    json_object_set_new(sig(j, 0), "score", json_real(-0.001));
    expect_garbage(j, "signals[0].score");
    j = sample_json();
    json_object_set_new(sig(j, 2), "period_s", json_real(-0.5));
    expect_garbage(j, "signals[2].period_s");
    j = sample_json();
    json_object_set_new(sig(j, 1), "sigma_s", json_real(-4));
    expect_garbage(j, "signals[1].sigma_s");
    j = sample_json();
    json_object_set_new(sig(j, 1), "chisq", json_integer(-1));
    expect_garbage(j, "signals[1].chisq");
    j = sample_json();
    json_object_set_new(sig(j, 1), "time_s", json_real(-0.1));
    expect_garbage(j, "signals[1].time_s");
}

static void rejects_counts_that_do_not_match(void **state)
{
    (void)state;
    json_t *j = sample_json();
    json_object_set_new(json_object_get(j, "counts"), "spike", json_integer(1));
    expect_garbage(j, "counts.spike: 1 does not match the 2 spike signals");
    j = sample_json();
    json_object_set_new(json_object_get(j, "counts"), "triplet", json_integer(-1));
    expect_garbage(j, "counts.triplet");
    j = sample_json();
    json_object_del(json_object_get(j, "counts"), "pulse");
    expect_garbage(j, "counts: missing key \"pulse\"");
    j = sample_json();
    json_object_set_new(json_object_get(j, "counts"), "wow", json_integer(0));
    expect_garbage(j, "counts: unknown signal type \"wow\"");
    j = sample_json();
    json_object_set_new(json_object_get(j, "counts"), "gaussian", json_string("1"));
    expect_garbage(j, "counts.gaussian");
}

static void rejects_bad_best_entries(void **state)
{
    (void)state;
    json_t *j = sample_json();
    json_t *best = json_object_get(j, "best");
    json_object_set(best, "wow", json_object_get(best, "spike"));
    expect_garbage(j, "best: unknown signal type \"wow\"");
    j = sample_json();
    best = json_object_get(j, "best");
    json_object_set(best, "gaussian", json_object_get(best, "spike")); /* type says spike */
    expect_garbage(j, "best.gaussian.type");
    j = sample_json();
    json_object_set_new(json_object_get(json_object_get(j, "best"), "pulse"), "power",
                        json_real(-2));
    expect_garbage(j, "best.pulse.power");
}

static void error_in_later_signal_frees_earlier_ones(void **state)
{
    (void)state;
    /* Under ASan a leak here fails the run. */
    json_t *j = sample_json();
    json_object_set_new(sig(j, 4), "fft_len", json_integer(12));
    expect_garbage(j, "signals[4].fft_len");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(to_json_has_the_design_shape),
        cmocka_unit_test(empty_result_round_trips),
        cmocka_unit_test(to_json_returns_null_when_any_allocation_fails),
        cmocka_unit_test(result_round_trips_exactly_through_text),
        cmocka_unit_test(clear_frees_and_zeroes),
        cmocka_unit_test(rejects_non_object),
        cmocka_unit_test(rejects_missing_top_level_fields),
        cmocka_unit_test(rejects_unknown_top_level_key),
        cmocka_unit_test(rejects_wrong_top_level_types),
        cmocka_unit_test(rejects_negative_flops_and_times),
        cmocka_unit_test(rejects_long_or_odd_kernel_version),
        cmocka_unit_test(rejects_more_than_the_signal_limit),
        cmocka_unit_test(accepts_exactly_the_signal_limit),
        cmocka_unit_test(rejects_unknown_signal_type),
        cmocka_unit_test(rejects_unknown_and_misplaced_signal_keys),
        cmocka_unit_test(rejects_missing_signal_fields),
        cmocka_unit_test(rejects_wrong_signal_field_types),
        cmocka_unit_test(accepts_integers_for_doubles),
        cmocka_unit_test(rejects_fft_len_not_a_power_of_two_or_out_of_range),
        cmocka_unit_test(rejects_huge_values),
        cmocka_unit_test(non_finite_numbers_never_reach_the_parser),
        cmocka_unit_test(rejects_negative_power_like_fields),
        cmocka_unit_test(rejects_counts_that_do_not_match),
        cmocka_unit_test(rejects_bad_best_entries),
        cmocka_unit_test(error_in_later_signal_frees_earlier_ones),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_sci_seti_gauss.c - SETI@home v8's Gaussian search (seti_gauss.c): a
 * beam-shaped rise and fall in one bin is reported at its bin and time with
 * v8's sigma and passing chi-squares; a noiseless bump gives the numbers of
 * v8's formulas, recomputed here in plain double precision; pure noise is
 * never reported (though the fit runs and offers best-of candidates); a
 * steady strong tone, interference switched on for a while and a one-spectrum
 * burst are not Gaussians; the DC bin, units without telescope motion and
 * blocks with fewer spectra than PoT points are not searched; the AVX2 and
 * generic builds, and the eight-bin and one-bin paths, agree bit for bit.
 *
 * Blocks are built by hand with the reference unit's parameters (2^20
 * samples at 9765.625 Hz, angle range 0.775, beam 0.1, 64 PoT points):
 * exponential noise of mean 1 (complex Gaussian noise's power), and a tone
 * of power S in noise as |n + sqrt(S)|^2 with n complex Gaussian of unit
 * power (the exact non-central distribution).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"
#include "seti.h"
#include "simd.h"

#define FS OZ_TEST_FS
#define NSAMP (1u << 20)
#define M 64

/* v8's sigma for the reference unit, in PoT points: the beam's FWHM over
 * 2.35482, over the degrees per point (0.775 / 64), rounded to float. */
#define SIGMA_V8 3.5068772

/* The reference unit's <analysis_cfg> and header, as v8 reads them. */
static void ref_params(oz_sci_seti *p)
{
    memset(p, 0, sizeof *p);
    p->angle_range = 0.775;
    p->beam_width = 0.1;
    p->gauss_null_chi_sq_thresh = 2.1;
    p->gauss_chi_sq_thresh = 1.42;
    p->gauss_power_thresh = 3.0;
    p->gauss_peak_power_thresh = 3.2;
    p->gauss_pot_length = M;
    p->pot_t_offset = 1.0;
    p->pot_min_slew = 0.0021;
    p->pot_max_slew = 0.0105;
}

typedef struct tblk {
    oz_sci_seti p;
    oz_seti_block b;
    float *power;
    oz_rng rng;
} tblk;

/* A block of L-bin spectra covering the whole unit, exponential noise of
 * mean 1 (or all zeros when seed is 0). */
static void tblk_init(tblk *x, uint32_t L, uint64_t seed)
{
    ref_params(&x->p);
    uint32_t nspec = NSAMP / L;
    x->power = calloc((size_t)nspec * L, sizeof(float));
    assert_non_null(x->power);
    oz_rng_seed(&x->rng, seed);
    if (seed)
        for (size_t i = 0; i < (size_t)nspec * L; i++)
            x->power[i] = (float)-log(1.0 - oz_rng_uniform(&x->rng));
    x->b = (oz_seti_block){.power = x->power,
                           .L = L,
                           .nspec = nspec,
                           .n = NSAMP,
                           .fs = FS,
                           .p = &x->p,
                           .avx2 = oz_cpu_avx2()};
}

static void tblk_free(tblk *x)
{
    free(x->power);
}

/* Spectrum s of bin k becomes a tone of power S in unit noise. */
static void tone(tblk *x, uint32_t k, uint32_t s, double S)
{
    double re = oz_rng_gauss(&x->rng) * sqrt(0.5) + sqrt(S);
    double im = oz_rng_gauss(&x->rng) * sqrt(0.5);
    x->power[(size_t)s * x->b.L + k] = (float)(re * re + im * im);
}

/* v8's model shape: half power at sigma points from the centre. */
static double shape(double d)
{
    return exp(-0.693 * d * d / (SIGMA_V8 * SIGMA_V8));
}

/* A beam crossing of peak power S centred at PoT point c in bin k. */
static void add_bump(tblk *x, uint32_t k, double S, double c)
{
    uint32_t m = x->b.nspec / M;
    for (uint32_t s = 0; s < x->b.nspec; s++)
        tone(x, k, s, S * shape(((double)s + 0.5) / m - 0.5 - c));
}

/* What the detector emitted. */
#define KEEP 256
typedef struct coll {
    size_t n, reported;
    oz_seti_hit rep[KEEP]; /* the first KEEP reported */
    oz_seti_hit all[KEEP]; /* the first KEEP emitted */
    uint32_t watch;        /* a bin whose hits are all kept */
    size_t nw;
    oz_seti_hit w[KEEP];
    bool ordered; /* bins never went down */
    uint32_t last_bin;
    bool bad; /* a hit that v8 could neither report nor keep as best */
} coll;

static void collect(void *ctx, const oz_seti_hit *h)
{
    coll *c = ctx;
    if (c->n && h->bin < c->last_bin)
        c->ordered = false;
    c->last_bin = h->bin;
    if (h->type != OZ_SIG_GAUSSIAN || !(h->chisq <= 1.42) || h->bin == 0)
        c->bad = true;
    if (c->n < KEEP)
        c->all[c->n] = *h;
    c->n++;
    if (h->bin == c->watch && c->nw < KEEP)
        c->w[c->nw++] = *h;
    if (h->report) {
        if (c->reported < KEEP)
            c->rep[c->reported] = *h;
        c->reported++;
    }
}

static void run(const tblk *x, uint32_t watch, coll *c)
{
    memset(c, 0, sizeof *c);
    c->watch = watch;
    c->ordered = true;
    size_t need = oz_seti_gauss_scratch(&x->b);
    float *scratch = malloc(need * sizeof(float));
    assert_non_null(scratch);
    oz_seti_gauss_search(&x->b, scratch, collect, c);
    free(scratch);
    assert_false(c->bad);
    assert_true(c->ordered);
}

/* Seconds per PoT point, and point i's centre in v8's convention. */
static double point_s(void)
{
    return (double)(float)(NSAMP / FS) / M;
}

static double point_time(double i)
{
    return (i + 0.5) * point_s();
}

/* v8's chi-square takes a strong tone's power variance for 1 + 2 sqrt(S)
 * (in units of the noise), the non-central truth being 1 + 2 S: a crossing
 * much stronger than its peak test asks for fails the fit.  At one spectrum
 * per PoT point the statistics are those of single exponentials, so a
 * crossing passes all three tests only in a fraction of recordings (these
 * pass in 10 to 13 of 16).  What is reported must be at its bin and within
 * about a sigma of its time (the fit's centre scatters by a few points). */
#define TRIALS 16u
static void bump_is_reported_at_its_bin_and_time(void **state)
{
    (void)state;
    const uint32_t lens[] = {16384, 4096}; /* one and four spectra per point */
    const uint32_t bins[] = {1234, 16000}; /* positive and negative frequency */
    const double centres[] = {20.0, 41.4};
    const double amps[] = {9.0, 6.0};
    for (int li = 0; li < 2; li++) {
        for (int i = 0; i < 2; i++) {
            unsigned found = 0;
            for (uint64_t seed = 1; seed <= TRIALS; seed++) {
                tblk x;
                tblk_init(&x, lens[li], 40 + seed);
                uint32_t k = bins[i] % lens[li];
                add_bump(&x, k, amps[li], centres[i]);
                coll c;
                run(&x, k, &c);
                found += c.reported > 0;
                for (size_t j = 0; j < c.reported && j < KEEP; j++) {
                    const oz_seti_hit *h = &c.rep[j];
                    if (h->bin != k || fabs(h->time_s - point_time(centres[i])) > 4.0 * point_s())
                        fail_msg("L %u: reported at bin %u time %.2f, truth bin %u time %.2f",
                                 lens[li], h->bin, h->time_s, k, point_time(centres[i]));
                    assert_true(fabs(h->sigma_s - SIGMA_V8) < 1e-6);
                    assert_true(h->chisq > 0 && h->chisq <= 1.42);
                    assert_true(h->null_chisq >= 2.1);
                    assert_true(h->peak_power >= 3.2 * h->mean_power);
                    assert_true(h->max_power >= h->peak_power);
                    assert_true(h->score > -12.0);
                }
                tblk_free(&x);
            }
            if (found < 6)
                fail_msg("L %u centre %.1f: reported in %u of %u recordings", lens[li], centres[i],
                         found, TRIALS);
        }
    }
}

/* v8's formulas in double precision, for a noiseless PoT x (m spectra per
 * point) and centre t: the mean beyond 2 isigma, the weighted peak, the
 * fit's and the flat line's chi-square. */
static void v8_formulas(const double *pot, uint32_t m, int t, double out[4])
{
    double x[M], tot = 0;
    for (int i = 0; i < M; i++)
        tot += pot[i];
    for (int i = 0; i < M; i++)
        x[i] = pot[i] / (tot / M);
    double far = 0;
    int nfar = 0;
    for (int i = 0; i < M; i++)
        if (abs(i - t) > 8) {
            far += x[i];
            nfar++;
        }
    double tm = far / nfar, pk = 0, ws = 0;
    for (int d = -4; d <= 4; d++) {
        pk += (x[t + d] - tm) * shape(d);
        ws += shape(d);
    }
    pk /= ws;
    double chi = 0, nul = 0;
    for (int i = 0; i < M; i++) {
        double pred = (tm + pk * shape(i - t)) / tm;
        double noise = 2 * sqrt(fmax(pred, 1) - 1) + 1;
        chi += m * (x[i] / tm - pred) * (x[i] / tm - pred) / noise;
        nul += m * (x[i] / tm - 1) * (x[i] / tm - 1) / noise;
    }
    out[0] = tm;
    out[1] = pk;
    out[2] = chi / M;
    out[3] = nul / M;
}

static void noiseless_bump_gives_v8s_numbers(void **state)
{
    (void)state;
    const uint32_t lens[] = {16384, 256}; /* 1 and 64 spectra per point (block sums) */
    for (int li = 0; li < 2; li++) {
        tblk x;
        tblk_init(&x, lens[li], 0);
        uint32_t L = lens[li], m = x.b.nspec / M, k = 77;
        const int t0 = 30;
        const double A = m == 1 ? 16.0 : 4.5;
        double pot[M];
        for (int i = 0; i < M; i++)
            pot[i] = m * (1.0 + A * shape(i - t0));
        for (uint32_t s = 0; s < x.b.nspec; s++)
            for (uint32_t kk = 0; kk < L; kk++)
                x.power[(size_t)s * L + kk] = kk == k ? (float)(pot[s / m] / m) : 1.0f;
        coll c;
        run(&x, k, &c);
        const oz_seti_hit *h = NULL;
        for (size_t j = 0; j < c.n && j < KEEP; j++)
            if (c.all[j].bin == k && fabs(c.all[j].time_s - point_time(t0)) < 1e-9)
                h = &c.all[j];
        double v[4];
        v8_formulas(pot, m, t0, v);
        if (!h)
            fail_msg("L %u: nothing at t0 (%zu hits): formulas %.4f %.4f %.4f %.4f", L, c.nw, v[1],
                     v[0], v[2], v[3]);
        if (!h->report)
            fail_msg(
                "L %u: not reported: peak %.4f mean %.4f chisq %.4f null %.4f (formulas %.4f %.4f "
                "%.4f %.4f)",
                L, h->peak_power, h->mean_power, h->chisq, h->null_chisq, v[1], v[0], v[2], v[3]);
        const double got[4] = {h->mean_power, h->peak_power, h->chisq, h->null_chisq};
        const char *name[4] = {"mean_power", "peak_power", "chisq", "null_chisq"};
        for (int f = 0; f < 4; f++)
            if (fabs(got[f] - v[f]) > 1e-5 * fabs(v[f]) + 1e-7)
                fail_msg("L %u %s %.9g, v8's formula %.9g", L, name[f], got[f], v[f]);
        double tot = 0;
        for (int i = 0; i < M; i++)
            tot += pot[i];
        assert_true(fabs(h->max_power - pot[t0] / (tot / M)) < 1e-5 * h->max_power);
        /* every bin but k is flat: nothing else is even a candidate */
        for (size_t j = 0; j < c.n && j < KEEP; j++)
            assert_int_equal(c.all[j].bin, k);
        tblk_free(&x);
    }
}

/* Without noise at one spectrum per point, a bump of 8 over a baseline of 1
 * fits (chi-square 0.04) and clears the peak test (3.25 over a mean of 0.52)
 * but its flat-line chi-square is only 0.97: v8's null test, not the others,
 * turns it down. */
static void clean_weak_bump_fails_the_flat_line_test(void **state)
{
    (void)state;
    tblk x;
    tblk_init(&x, 16384, 0);
    const uint32_t k = 77;
    for (uint32_t s = 0; s < x.b.nspec; s++)
        for (uint32_t kk = 0; kk < x.b.L; kk++)
            x.power[(size_t)s * x.b.L + kk] = kk == k ? (float)(1 + 8 * shape(s - 30.0)) : 1.0f;
    coll c;
    run(&x, k, &c);
    assert_true(c.nw > 0);
    assert_int_equal(c.reported, 0);
    for (size_t j = 0; j < c.nw; j++)
        if (fabs(c.w[j].time_s - point_time(30)) < 1e-9) {
            assert_true(c.w[j].peak_power >= 3.2 * c.w[j].mean_power);
            assert_true(c.w[j].null_chisq < 2.1);
        }
    tblk_free(&x);
}

static void pure_noise_is_never_reported(void **state)
{
    (void)state;
    const uint32_t lens[] = {16384, 16384, 16384, 16384, 2048, 1024};
    for (int i = 0; i < 6; i++) {
        tblk x;
        tblk_init(&x, lens[i], 1000 + (uint64_t)i);
        coll c;
        run(&x, 0, &c);
        if (c.reported)
            fail_msg("L %u seed %d: %zu reported, first bin %u chisq %.3f null %.3f peak %.3f "
                     "mean %.3f",
                     lens[i], i, c.reported, c.rep[0].bin, c.rep[0].chisq, c.rep[0].null_chisq,
                     c.rep[0].peak_power, c.rep[0].mean_power);
        /* at one spectrum per point the fit runs and offers best-of candidates */
        if (lens[i] == 16384)
            assert_true(c.n > 0);
        tblk_free(&x);
    }
}

/* A steady strong tone is a flat PoT (no point 3 times the mean): the bin is
 * not even fitted.  Interference switched on for 10 points is strong and
 * has the right scale, so it passes the peak and flat-line tests at its
 * middle; only the fit's chi-square (a flat top and sharp edges are not a
 * Gaussian) keeps it out.  So does a one-spectrum burst. */
static void steady_tone_and_switched_interference_are_not_gaussians(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 3; seed++) {
        tblk x;
        tblk_init(&x, 16384, 70 + seed);
        for (uint32_t s = 0; s < x.b.nspec; s++)
            tone(&x, 500, s, 30.0);
        for (uint32_t s = 25; s < 35; s++)
            tone(&x, 600, s, 30.0);
        tone(&x, 700, 40, 300.0);
        coll c;
        run(&x, 0, &c);
        for (size_t j = 0; j < c.reported && j < KEEP; j++)
            fail_msg("seed %u: reported at bin %u", (unsigned)seed, c.rep[j].bin);
        for (size_t j = 0; j < c.n && j < KEEP; j++)
            assert_true(c.all[j].bin != 500);
        tblk_free(&x);
    }
    /* the same interference with a beam's shape is reported: the test is
     * the shape, not the power */
    tblk x;
    tblk_init(&x, 16384, 71);
    add_bump(&x, 600, 9.0, 29.5);
    coll c;
    run(&x, 600, &c);
    assert_true(c.reported > 0 && c.rep[0].bin == 600);
    tblk_free(&x);
}

static void dc_bin_and_unresolved_units_are_not_searched(void **state)
{
    (void)state;
    tblk x;
    tblk_init(&x, 16384, 5);
    add_bump(&x, 0, 20.0, 30);
    coll c;
    run(&x, 0, &c);
    assert_true(c.n > 0); /* the noise bins are fitted; collect() fails on bin 0 */

    x.p.angle_range = 0; /* no telescope motion: v8 has no sigma */
    run(&x, 0, &c);
    assert_int_equal(c.n, 0);
    tblk_free(&x);

    /* fewer spectra than PoT points: v8's plan never fits such blocks */
    tblk_init(&x, 16384, 5);
    x.b.nspec = 32;
    x.b.L = 32768;
    run(&x, 0, &c);
    assert_int_equal(c.n, 0);
    tblk_free(&x);
}

/* Every hit of a run, to compare runs field by field. */
typedef struct hitlog {
    size_t n, cap;
    oz_seti_hit *h;
} hitlog;

static void log_hit(void *ctx, const oz_seti_hit *h)
{
    hitlog *l = ctx;
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 1024;
        l->h = realloc(l->h, l->cap * sizeof *l->h);
        assert_non_null(l->h);
    }
    l->h[l->n++] = *h;
}

static void log_run(const oz_seti_block *b, hitlog *l)
{
    memset(l, 0, sizeof *l);
    float *scratch = malloc(oz_seti_gauss_scratch(b) * sizeof(float));
    assert_non_null(scratch);
    oz_seti_gauss_search(b, scratch, log_hit, l);
    free(scratch);
}

/* The same numbers, bit for bit (the bins may differ by `shift`). */
static void assert_same_hit(const oz_seti_hit *a, const oz_seti_hit *b, uint32_t shift)
{
    const double fa[] = {a->time_s, a->peak_power, a->mean_power, a->sigma_s,
                         a->chisq,  a->null_chisq, a->max_power,  a->score};
    const double fb[] = {b->time_s, b->peak_power, b->mean_power, b->sigma_s,
                         b->chisq,  b->null_chisq, b->max_power,  b->score};
    assert_int_equal(a->type, b->type);
    assert_int_equal(a->bin + shift, b->bin);
    assert_int_equal(a->report, b->report);
    assert_memory_equal(fa, fb, sizeof fa);
}

/* The AVX2 build of the eight-bin search and the generic one give the same
 * hits bit for bit, with bumps and without, for several PoT lengths (64,
 * and 100: points left over after the eight-point vectors). */
static void simd_paths_agree_bit_for_bit(void **state)
{
    (void)state;
    const uint32_t lens[] = {16384, 4096, 8192};
    const uint32_t pots[] = {M, M, 100};
    for (int li = 0; li < 3; li++) {
        tblk x;
        tblk_init(&x, lens[li], 300 + (uint64_t)li);
        x.p.gauss_pot_length = pots[li];
        for (uint32_t k = 3; k < lens[li]; k += lens[li] / 7)
            add_bump(&x, k, 9.0, 10.0 + k % 40);
        hitlog fast, portable;
        log_run(&x.b, &fast);
        x.b.avx2 = false;
        log_run(&x.b, &portable);
        assert_true(fast.n > 0);
        assert_int_equal(fast.n, portable.n);
        for (size_t i = 0; i < fast.n; i++)
            assert_same_hit(&fast.h[i], &portable.h[i], 0);
        free(fast.h);
        free(portable.h);
        tblk_free(&x);
    }
}

/* Bins past the last group of eight take the one-bin path: copies of bins
 * 100..103 placed there give those bins' hits bit for bit. */
static void one_bin_path_agrees_with_eight_bin_path(void **state)
{
    (void)state;
    const uint32_t L = 16388, nspec = M, base = 16384;
    float *power = malloc((size_t)L * nspec * sizeof(float));
    assert_non_null(power);
    oz_rng rng;
    oz_rng_seed(&rng, 99);
    for (size_t i = 0; i < (size_t)L * nspec; i++)
        power[i] = (float)-log(1.0 - oz_rng_uniform(&rng));
    for (uint32_t s = 0; s < nspec; s++) {
        power[(size_t)s * L + 101] += (float)(8.0 * shape(s - 30.0));
        for (uint32_t j = 0; j < 4; j++)
            power[(size_t)s * L + base + j] = power[(size_t)s * L + 100 + j];
    }
    oz_sci_seti p;
    ref_params(&p);
    oz_seti_block b = {.power = power,
                       .L = L,
                       .nspec = nspec,
                       .n = NSAMP,
                       .fs = FS,
                       .p = &p,
                       .avx2 = oz_cpu_avx2()};
    hitlog l;
    log_run(&b, &l);
    size_t lo = 0, hi = 0;
    while (lo < l.n && l.h[lo].bin < 100)
        lo++;
    while (hi < l.n && l.h[hi].bin < base)
        hi++;
    size_t nlo = 0;
    while (lo + nlo < l.n && l.h[lo + nlo].bin < 104)
        nlo++;
    assert_true(nlo > 0);
    assert_int_equal(l.n - hi, nlo);
    for (size_t i = 0; i < nlo; i++)
        assert_same_hit(&l.h[lo + i], &l.h[hi + i], base - 100);
    free(l.h);
    free(power);
}

/* Once the unit has reported a Gaussian (b->gauss_reported_only), the
 * search emits exactly the reported hits of a full search, bit for bit and
 * in order, on both routes and on the one-bin path (L not a multiple of 8,
 * bumps in the last bins too), and nothing else. */
static void reported_only_gives_exactly_the_reported_hits(void **state)
{
    (void)state;
    const uint32_t lens[] = {16384, 8192, 8196};
    for (int li = 0; li < 3; li++) {
        tblk x;
        tblk_init(&x, lens[li], 500 + (uint64_t)li);
        for (uint32_t k = 5; k < lens[li]; k += lens[li] / 16)
            add_bump(&x, k, 8.0 + k % 5, 8.0 + k % 45);
        for (uint32_t j = 1; j <= 4; j++) /* the one-bin path's bins when L is 8196 */
            add_bump(&x, lens[li] - j, 8.0 + 2.0 * j, 15.0 + 8.0 * j);
        for (int v = 0; v < 2; v++) {
            if (v == 1 && !oz_cpu_avx2())
                continue;
            x.b.avx2 = v == 1;
            hitlog all, rep;
            x.b.gauss_reported_only = false;
            log_run(&x.b, &all);
            x.b.gauss_reported_only = true;
            log_run(&x.b, &rep);
            size_t j = 0;
            for (size_t i = 0; i < all.n; i++) {
                if (!all.h[i].report)
                    continue;
                if (j == rep.n)
                    fail_msg("L %u: reported hit %zu (bin %u) missing", lens[li], j, all.h[i].bin);
                assert_same_hit(&all.h[i], &rep.h[j++], 0);
            }
            if (j < 3)
                fail_msg("L %u: %zu reported of %zu hits", lens[li], j, all.n);
            assert_true(all.n > j);
            assert_int_equal(rep.n, j);
            if (lens[li] % 8) /* a reported hit came through the one-bin path */
                assert_true(rep.h[rep.n - 1].bin >= lens[li] / 8 * 8);
            free(all.h);
            free(rep.h);
        }
        tblk_free(&x);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bump_is_reported_at_its_bin_and_time),
        cmocka_unit_test(noiseless_bump_gives_v8s_numbers),
        cmocka_unit_test(clean_weak_bump_fails_the_flat_line_test),
        cmocka_unit_test(pure_noise_is_never_reported),
        cmocka_unit_test(steady_tone_and_switched_interference_are_not_gaussians),
        cmocka_unit_test(dc_bin_and_unresolved_units_are_not_searched),
        cmocka_unit_test(simd_paths_agree_bit_for_bit),
        cmocka_unit_test(one_bin_path_agrees_with_eight_bin_path),
        cmocka_unit_test(reported_only_gives_exactly_the_reported_hits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

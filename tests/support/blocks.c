/*
 * blocks.c - see blocks.h.
 */
#include <math.h>
#include <stdlib.h>

#include "blocks.h"

void blk_noise(blk *x, const oz_sci_config *cfg, uint32_t L, uint32_t nspec, uint64_t seed)
{
    x->power = malloc(sizeof(float) * L * nspec);
    x->spec_mean = malloc(sizeof(float) * nspec);
    x->spec_max = malloc(sizeof(float) * nspec);
    x->spec_argmax = malloc(sizeof(uint32_t) * nspec);
    assert_non_null(x->power);
    assert_non_null(x->spec_mean);
    assert_non_null(x->spec_max);
    assert_non_null(x->spec_argmax);
    oz_rng_seed(&x->rng, seed);
    for (size_t i = 0; i < (size_t)L * nspec; i++)
        x->power[i] = (float)-log(1.0 - oz_rng_uniform(&x->rng));
    x->b = (oz_block){.power = x->power,
                      .spec_mean = x->spec_mean,
                      .spec_max = x->spec_max,
                      .spec_argmax = x->spec_argmax,
                      .L = L,
                      .nspec = nspec,
                      .fs = OZ_TEST_FS,
                      .f0 = OZ_TEST_F0,
                      .chirp = 0.0,
                      .chirp_step = 1.0,
                      .cfg = cfg};
}

void blk_tone(blk *x, uint32_t k, uint32_t s, double S)
{
    double re = oz_rng_gauss(&x->rng) / sqrt(2.0) + sqrt(S);
    double im = oz_rng_gauss(&x->rng) / sqrt(2.0);
    x->power[(size_t)s * x->b.L + k] = (float)(re * re + im * im);
}

void blk_finish(blk *x)
{
    double total = 0;
    for (uint32_t s = 0; s < x->b.nspec; s++) {
        const float *row = x->power + (size_t)s * x->b.L;
        double sum = 0;
        uint32_t km = 1;
        for (uint32_t k = 0; k < x->b.L; k++) {
            sum += row[k];
            if (k > 0 && row[k] > row[km])
                km = k;
        }
        x->spec_mean[s] = (float)(sum / x->b.L);
        x->spec_max[s] = row[km];
        x->spec_argmax[s] = km;
        total += sum;
    }
    x->b.mean = total / ((double)x->b.L * x->b.nspec);
}

void blk_free(blk *x)
{
    free(x->power);
    free(x->spec_mean);
    free(x->spec_max);
    free(x->spec_argmax);
}

void blk_run(const blk *x, const blk_detector *det, oz_found *f)
{
    const oz_sci_config *cfg = x->b.cfg;
    assert_int_equal(oz_found_init(f, cfg, x->b.fs), 0);
    size_t n = det->scratch(cfg, x->b.L, x->b.nspec);
    float *scratch = malloc(sizeof(float) * (n ? n : 1));
    assert_non_null(scratch);
    det->search(&x->b, scratch, f);
    free(scratch);
}

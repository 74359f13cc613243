/*
 * blocks.h - synthetic power blocks for the detector tests: exponential
 * noise (what |X|^2 of complex Gaussian noise is), tones planted in chosen
 * (bin, spectrum) cells, and a detector run on a fresh found list.  Uses
 * science/'s internal oz_block, so only tests of science/ include it.
 */
#ifndef OZMA_TEST_BLOCKS_H
#define OZMA_TEST_BLOCKS_H

#include "support.h"
#include "internal.h"

/* A synthetic block and the arrays it points into. */
typedef struct blk {
    float *power, *spec_mean, *spec_max;
    uint32_t *spec_argmax;
    oz_block b;
    oz_rng rng;
} blk;

/* nspec spectra of L bins of unit-mean exponential noise from seed, at
 * OZ_TEST_FS / OZ_TEST_F0, chirp 0. */
void blk_noise(blk *x, const oz_sci_config *cfg, uint32_t L, uint32_t nspec, uint64_t seed);
/* Bin k of spectrum s becomes a tone of power S in unit noise. */
void blk_tone(blk *x, uint32_t k, uint32_t s, double S);
/* Computes the per-spectrum and block statistics; call after planting. */
void blk_finish(blk *x);
void blk_free(blk *x);

/* A detector: its scratch size and its search. */
typedef struct blk_detector {
    size_t (*scratch)(const oz_sci_config *cfg, uint32_t L, uint32_t nspec);
    void (*search)(const oz_block *b, float *scratch, oz_found *found);
} blk_detector;

/* Runs the detector on the block with a fresh found list (the caller frees
 * it with oz_found_free). */
void blk_run(const blk *x, const blk_detector *det, oz_found *f);

#endif

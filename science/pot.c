/*
 * pot.c - power over time (PoT) for the Gaussian and pulse searches: each
 * bin's power series rebinned to M points of m spectra, laid out for their
 * vector code.  Bins go sixteen at a time (OZ_POT_GROUP: one cache line of
 * each spectrum) into column buffers of eight (OZ_POT_LANES), point i of
 * lane w at [i * 8 + w], so every fold or fit then runs across the bins, a
 * vector of lanes at a time, with each lane's sums in the scalar order.
 */
#include <string.h>

#include "internal.h"
#include "simd.h"

#define LANES OZ_POT_LANES
#define GROUP OZ_POT_GROUP

/* The PoT of nq quads of bins from k0 into the column buffers (see
 * oz_pot_build); nq is a constant where it is inlined, so the sums stay in
 * registers. */
static inline __attribute__((always_inline)) void
quads(const oz_block *b, uint32_t k0, uint32_t nq, uint32_t M, uint32_t m, float *cols, float *sy)
{
    const float scale = (float)(1.0 / ((double)m * b->mean));
    const v4f sc = {scale, scale, scale, scale};
    v4f t[4] = {{0}};
    for (uint32_t j = 0; j < M; j++) {
        v4f p[4] = {{0}}, x[4];
        for (uint32_t s = j * m; s < (j + 1) * m; s++) {
            const float *row = b->power + (size_t)s * b->L + k0;
            for (uint32_t q = 0; q < nq; q++) {
                OZ_LOAD(x[q], row + 4 * q);
                p[q] += x[q];
            }
        }
        for (uint32_t q = 0; q < nq; q++) {
            p[q] *= sc;
            t[q] += p[q];
            memcpy(cols + (size_t)(q / 2) * LANES * M + (size_t)j * LANES + 4 * (q % 2), &p[q],
                   sizeof p[q]);
        }
    }
    for (uint32_t q = 0; sy && q < nq; q++)
        memcpy(sy + 4 * q, &t[q], sizeof t[q]);
}

/* The PoT of bins k0 .. k0 + nb - 1 (nb <= GROUP) into the column buffers
 * (the second at cols + LANES * M, written only when nb > LANES): each
 * point the sum of its m spectra from 0 in spectrum order, times 1 / (m *
 * block mean); lanes past nb hold zeros.  sy[w] (sy may be NULL) gets lane
 * w's sum over the M points, from 0 in point order.  A full group reads one cache line of each
 * spectrum. */
void oz_pot_build(const oz_block *b, uint32_t k0, uint32_t nb, uint32_t M, uint32_t m, float *cols,
                  float *sy)
{
    if (nb == GROUP) {
        quads(b, k0, GROUP / 4, M, m, cols, sy);
        return;
    }
    if (nb == LANES) { /* L = 8 */
        quads(b, k0, LANES / 4, M, m, cols, sy);
        return;
    }
    const float scale = (float)(1.0 / ((double)m * b->mean));
    const uint32_t nl = nb > LANES ? GROUP : LANES;
    for (uint32_t w = 0; w < nl; w++) {
        float t = 0.0f;
        for (uint32_t j = 0; j < M; j++) {
            float p = 0.0f;
            for (uint32_t s = j * m; w < nb && s < (j + 1) * m; s++)
                p += b->power[(size_t)s * b->L + k0 + w];
            p *= scale;
            cols[(size_t)(w / LANES) * LANES * M + (size_t)j * LANES + w % LANES] = p;
            t += p;
        }
        if (sy)
            sy[w] = t;
    }
}

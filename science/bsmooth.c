/*
 * bsmooth.c - band flattening: SETI@home v8's baseline smoothing.
 *
 * A real receiver's band is not flat: filters roll off at the edges and the
 * gain ripples across it, so a spectrum's mean is not each bin's noise level
 * and thresholds written for flat noise misfire.  v8 flattens the band once,
 * before the search: the unit is cut into chunks of `chunk` samples; each
 * chunk goes to the frequency domain, every bin is divided by the square
 * root of half the mean power of the `boxcar` bins around it (a running mean
 * that slides across the band from its lowest negative frequency, wrapping
 * at the ends; the first and last half boxcars take the nearest mean), and
 * the chunk goes back to time, divided by its length.  Noise then has power
 * 2 per bin in every chunk, whatever the receiver did to it.  (v8's units
 * are whole chunks; a length that is not ends here with a window over the
 * last `chunk` samples, writing only those the whole chunks did not cover.)
 *
 * The arithmetic is v8's, in float and in v8's order (the boxcar's running
 * mean is updated by subtracting and adding one bin each step), so that the
 * search's powers match v8's to float rounding.  The samples here are the
 * complex conjugates of v8's (see the .sah reader), so v8's backward
 * transform is our forward one and its forward our backward: each bin's
 * power and its scale factor are the same.
 */
#include <fftw3.h>
#include <math.h>
#include <string.h>

#include "internal.h"

/* One chunk of `chunk` samples at in, flattened into out, whose first
 * `skip` samples are left alone (the overlapping last window). */
static void smooth_chunk(const float *in, float *out, uint32_t skip, uint32_t chunk,
                         uint32_t boxcar, fftwf_complex *buf, float *power, fftwf_plan fwd,
                         fftwf_plan back)
{
    const float recip = 1.0f / (float)chunk;
    const uint32_t half = chunk / 2, hb = boxcar / 2;
    memcpy(buf, in, (size_t)chunk * sizeof *buf);
    fftwf_execute(fwd);
    for (uint32_t k = 0; k < chunk; k++)
        power[k] = buf[k][0] * buf[k][0] + buf[k][1] * buf[k][1];

    /* the boxcar i..k (exclusive) with centre j, starting at the lowest
     * negative frequency (bin chunk/2); k wraps from the start, as a
     * boxcar longer than half the chunk ends past bin chunk - 1 */
    uint32_t i = half, j = half + hb, k = (half + boxcar) % chunk;
    float total = 0;
    for (uint32_t h = i; h < half + boxcar; h++)
        total += power[h % chunk];
    float mean = total / (float)boxcar;
    float scale = (float)(1.0 / sqrt(mean * 0.5));
    for (uint32_t h = i; h < j; h++) {
        buf[h % chunk][0] *= scale;
        buf[h % chunk][1] *= scale;
    }
    for (; k != half; i++, j++, k++) {
        if (k == chunk)
            k = 0;
        if (j == chunk)
            j = 0;
        if (i == chunk)
            i = 0;
        mean = mean - power[i] / (float)boxcar + power[k] / (float)boxcar;
        scale = (float)(1.0 / sqrt(mean * 0.5));
        buf[j][0] *= scale;
        buf[j][1] *= scale;
    }
    for (uint32_t h = j % chunk; h != k; h = (h + 1) % chunk) {
        buf[h][0] *= scale;
        buf[h][1] *= scale;
    }

    fftwf_execute(back);
    for (uint32_t m = skip; m < chunk; m++) {
        out[2 * m] = buf[m][0] * recip;
        out[2 * m + 1] = buf[m][1] * recip;
    }
}

int oz_bsmooth(const float *in, float *out, size_t n, uint32_t chunk, uint32_t boxcar,
               unsigned fftw_flags)
{
    if (chunk < 8 || (chunk & (chunk - 1)) || boxcar < 2 || boxcar > chunk || boxcar % 2 ||
        n < chunk)
        return OZ_SCI_EINVAL;
    int rc = OZ_SCI_ENOMEM;
    fftwf_complex *buf = fftwf_alloc_complex(chunk);
    float *power = fftwf_alloc_real(chunk);
    fftwf_plan fwd = NULL, back = NULL;
    if (!buf || !power)
        goto out;
    rc = OZ_SCI_EFFT;
    fwd = fftwf_plan_dft_1d((int)chunk, buf, buf, FFTW_FORWARD, fftw_flags);
    back = fftwf_plan_dft_1d((int)chunk, buf, buf, FFTW_BACKWARD, fftw_flags);
    if (!fwd || !back)
        goto out;

    /* a length that is not a whole number of chunks ends with a window
     * over the last `chunk` samples, of which only the rest is written; it
     * goes first, so that flattening in place reads its samples unchanged */
    size_t full = n / chunk, rest = n % chunk;
    if (rest)
        smooth_chunk(in + 2 * (n - chunk), out + 2 * (n - chunk), (uint32_t)(chunk - rest), chunk,
                     boxcar, buf, power, fwd, back);
    for (size_t c = 0; c < full; c++)
        smooth_chunk(in + 2 * c * chunk, out + 2 * c * chunk, 0, chunk, boxcar, buf, power, fwd,
                     back);
    rc = OZ_SCI_OK;
out:
    if (fwd)
        fftwf_destroy_plan(fwd);
    if (back)
        fftwf_destroy_plan(back);
    fftwf_free(buf);
    fftwf_free(power);
    return rc;
}

/*
 * synth.c - deterministic test signals: a seeded random source, complex
 * Gaussian noise and injected tones with envelopes.
 *
 * Tests, benchmarks and ozma-synth all build their recordings from these, so
 * a seed names the same samples on every machine.  The random source is
 * xoshiro256** seeded through splitmix64; Gaussian deviates use the polar
 * Box-Muller method (no cached second deviate, so the state is just s[4]).
 * Tones are computed in double precision per sample with the phase reduced
 * modulo one cycle, so long recordings keep their frequency exact.
 */
#include <math.h>

#include "internal.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void oz_rng_seed(oz_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t oz_rng_next(oz_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double oz_rng_uniform(oz_rng *r)
{
    return (double)(oz_rng_next(r) >> 11) * 0x1.0p-53;
}

double oz_rng_gauss(oz_rng *r)
{
    double u, v, q;
    do {
        u = 2.0 * oz_rng_uniform(r) - 1.0;
        v = 2.0 * oz_rng_uniform(r) - 1.0;
        q = u * u + v * v;
    } while (q >= 1.0 || q == 0.0);
    return u * sqrt(-2.0 * log(q) / q);
}

void oz_sci_add_noise(float *iq, size_t n, double power, oz_rng *rng)
{
    double sd = sqrt(power / 2.0);
    for (size_t i = 0; i < 2 * n; i++)
        iq[i] += (float)(sd * oz_rng_gauss(rng));
}

/* Amplitude envelope of a tone at time t (the Gaussian is in power, so its
 * amplitude has sigma * sqrt(2)). */
static double envelope(const oz_tone *tone, double t)
{
    switch (tone->env) {
    case OZ_ENV_GAUSS: {
        double d = (t - tone->t0) / tone->sigma_s;
        return exp(-0.25 * d * d);
    }
    case OZ_ENV_PULSES: {
        if (t < tone->t0 || tone->period_s <= 0)
            return 0.0;
        double ph = fmod(t - tone->t0, tone->period_s);
        return ph < tone->width_s ? 1.0 : 0.0;
    }
    case OZ_ENV_CONST:
    default:
        return 1.0;
    }
}

void oz_sci_add_tone(float *iq, size_t n, double sample_rate, const oz_tone *tone)
{
    bool whole = tone->t_end <= tone->t_start;
    for (size_t i = 0; i < n; i++) {
        double t = (double)i / sample_rate;
        if (!whole && (t < tone->t_start || t >= tone->t_end))
            continue;
        double e = envelope(tone, t);
        if (e == 0.0)
            continue;
        /* cycles = f t + c t^2 / 2, reduced to [0, 1) before the sin/cos. */
        double cycles = tone->freq_hz * t + 0.5 * tone->chirp_hz_s * t * t;
        cycles -= floor(cycles);
        double ph = 2.0 * OZ_PI * cycles;
        double a = tone->amp * e;
        iq[2 * i] += (float)(a * cos(ph));
        iq[2 * i + 1] += (float)(a * sin(ph));
    }
}

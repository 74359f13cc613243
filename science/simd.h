/*
 * simd.h - the kernel's vector vocabulary and its one choice of AVX2
 * (internal to science/).
 *
 * The hot loops (dechirping, squaring, the detectors' folds and fits, the
 * Taylor tree) are written with GCC/clang vector extensions, so one source
 * serves every CPU.  Where AVX2 pays, a file compiles the same loop a second
 * time with the OZ_AVX2 attribute, inside `#ifdef OZ_SIMD_AVX2`, and picks
 * the copy at run time.  As Redis's ae.c picks its event backend in one
 * place, this header is the one place that says whether AVX2 copies exist
 * (x86-64 with GCC or clang) and whether they run:
 *  - oz_cpu_avx2(): this build has them and the CPU runs them;
 *  - oz_simd_avx2(cfg): the search runs them, i.e. the CPU can and the
 *    configuration does not rule them out (cfg->no_avx2, which the CLIs and
 *    the worker set from OZ_NO_AVX2; the kernel reads no environment).
 * Lower-level functions (oz_dechirp, the Taylor trees, the seti mode's
 * blocks) take the answer as a `bool avx2` argument or field.
 *
 * Invariant: both copies do every lane's operations in the same order (no
 * fused multiply-add), so they give bit-identical results; tests run both.
 * A 32-byte vector never crosses a call between functions built for
 * different targets (helpers of an AVX2 copy are always-inline or macros).
 */
#ifndef OZMA_SCIENCE_SIMD_H
#define OZMA_SCIENCE_SIMD_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "ozma_science.h"

/* 16-byte vectors (SSE registers on x86-64) ... */
typedef float v4f __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));
typedef double v2d __attribute__((vector_size(16)));
typedef int64_t v2l __attribute__((vector_size(16)));
/* ... and 32-byte ones (one AVX2 register, two of the others). */
typedef float v8f __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));
typedef double v4d __attribute__((vector_size(32)));
typedef int64_t v4l __attribute__((vector_size(32)));

/* A vector from memory at any alignment, and back. */
#define OZ_LOAD(v, p) memcpy(&(v), (p), sizeof(v))
#define OZ_STORE(p, v) memcpy((p), &(v), sizeof(v))

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
/* AVX2 copies are built: OZ_AVX2 marks a function compiled for AVX2. */
#define OZ_SIMD_AVX2 1
#define OZ_AVX2 __attribute__((target("avx2")))
#endif

/* Whether this build has the AVX2 copies and this CPU can run them. */
static inline bool oz_cpu_avx2(void)
{
#ifdef OZ_SIMD_AVX2
    return __builtin_cpu_supports("avx2");
#else
    return false;
#endif
}

/* Whether a search with this configuration runs the AVX2 copies. */
static inline bool oz_simd_avx2(const oz_sci_config *cfg)
{
    return !cfg->no_avx2 && oz_cpu_avx2();
}

#endif /* OZMA_SCIENCE_SIMD_H */

# Bit-cast unions, a vectorizable exp(-a), sigmoid, and the run-time SIMD dispatch; textually
# included by csrc/elementwise.pyx, csrc/nn.pyx and csrc/philox.pyx.
#
# Design: libm's exp/expf are opaque calls (~4 ns each, never vectorized without -ffast-math,
# which the kernels are not compiled with: it would flush subnormals process-wide). The users
# only need e = exp(-a) for a >= 0, i.e. e in [0, 1], which a short branch-free routine gives to
# ~1 ulp with subnormal results kept, as numpy's exp does. Everything is straight-line float or
# integer bit arithmetic (selects are integer masks: a float compare-and-select is not
# if-converted under the default -ftrapping-math), so GCC vectorizes a loop of it at -O3.
# The routines take no clamp of their own: each caller bounds a first (sigmoid keeping NaN, the
# cross-entropies on finite rows), so that no shift or conversion here is undefined.
#
# The math is C (not Cython) so that one loop body can be compiled three times, for baseline
# SSE2, AVX2+FMA and AVX-512, by GCC target attributes (MTF_LOOPS below), and chosen at run time
# by mtf_simd_level(): never -march=native, so the extension runs on any x86-64. Cython code
# calls the same scalar functions through the extern declarations at the end.

from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t

cdef union _bits32:
    float f
    uint32_t u
    int32_t i

cdef union _bits64:
    double f
    uint64_t u
    int64_t i

cdef extern from *:
    """
    #include <stdint.h>
    #include <string.h>
    #ifndef MTF_FASTMATH_H
    #define MTF_FASTMATH_H

    /* 0: baseline (SSE2), 1: AVX2 + FMA, 2: AVX-512F (+ AVX2, FMA). */
    #if defined(__GNUC__) && defined(__x86_64__)
    #include <immintrin.h>
    static inline int mtf_simd_level(void) {
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2")
                && __builtin_cpu_supports("fma"))
            return 2;
        if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
            return 1;
        return 0;
    }
    #define MTF_TARGET_AVX2 __attribute__((target("avx2,fma")))
    #define MTF_TARGET_AVX512 __attribute__((target("avx512f,avx2,fma,prefer-vector-width=512")))
    #else
    static inline int mtf_simd_level(void) { return 0; }
    #define MTF_TARGET_AVX2
    #define MTF_TARGET_AVX512
    #endif
    #define MTF_INLINE static inline __attribute__((always_inline))

    MTF_INLINE uint32_t mtf_f2u(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
    MTF_INLINE float mtf_u2f(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
    MTF_INLINE uint64_t mtf_d2u(double f) { uint64_t u; memcpy(&u, &f, 8); return u; }
    MTF_INLINE double mtf_u2d(uint64_t u) { double f; memcpy(&f, &u, 8); return f; }

    /* exp(-a) for a in [0, 110] (or NaN -> NaN), ~1 ulp, subnormal results kept.
       -a = k ln2 + r with k = round(-a / ln2) and |r| <= ln2 / 2; exp(r) by its Taylor
       polynomial to r^7 (truncation 5e-9 relative, below float rounding); 2^k is applied as
       2^(k+64), built in the exponent bits (k >= -159 here, so the field stays in range), then
       a constant 2^-64: the first product is exact and the second rounds once, so results in
       the subnormal range are kept (exp(-110) rounds to 0). */
    MTF_INLINE float mtf_exp_neg_f(float a) {
        /* Adding 1.5 * 2^23 rounds to an integer in the low mantissa bits (round to nearest). */
        float kbf = a * -1.4426950408889634f + 12582912.0f;
        float kf = kbf - 12582912.0f;
        int32_t k = (int32_t)mtf_f2u(kbf) - 0x4B400000;
        /* Cody-Waite: ln2 split so that kf * LN2_HI is exact for |k| < 2^9. */
        float r = (-a - kf * 0.693145751953125f) - kf * 1.428606765330187045e-06f;
        float p = 1.0f / 5040.0f;
        p = p * r + 1.0f / 720.0f;
        p = p * r + 1.0f / 120.0f;
        p = p * r + 1.0f / 24.0f;
        p = p * r + 1.0f / 6.0f;
        p = p * r + 0.5f;
        p = p * r + 1.0f;
        p = p * r + 1.0f;
        return (p * mtf_u2f((uint32_t)(k + (64 + 127)) << 23)) * 5.421010862427522e-20f;
    }

    /* exp(-a) for a in [0, 750] (or NaN -> NaN); as mtf_exp_neg_f, Taylor to r^13 (4e-18),
       2^k applied in two halves built from nk = -k (subnormal results kept here too). */
    MTF_INLINE double mtf_exp_neg_d(double a) {
        double kbf = a * -1.4426950408889634 + 6755399441055744.0;   /* 1.5 * 2^52 */
        double kf = kbf - 6755399441055744.0;
        /* nk = -k >= 0 as an unsigned number: SSE2 has logical, not arithmetic, 64-bit shifts */
        uint64_t nk = 0x4338000000000000ULL - mtf_d2u(kbf);
        double r = (-a - kf * 6.93147180369123816490e-01) - kf * 1.90821492927058770002e-10;
        double p = 1.0 / 6227020800.0;
        p = p * r + 1.0 / 479001600.0;
        p = p * r + 1.0 / 39916800.0;
        p = p * r + 1.0 / 3628800.0;
        p = p * r + 1.0 / 362880.0;
        p = p * r + 1.0 / 40320.0;
        p = p * r + 1.0 / 5040.0;
        p = p * r + 1.0 / 720.0;
        p = p * r + 1.0 / 120.0;
        p = p * r + 1.0 / 24.0;
        p = p * r + 1.0 / 6.0;
        p = p * r + 0.5;
        p = p * r + 1.0;
        p = p * r + 1.0;
        uint64_t nk1 = nk >> 1;
        return (p * mtf_u2d((1023 - nk1) << 52)) * mtf_u2d((1023 - (nk - nk1)) << 52);
    }

    /* 1 / (1 + exp(-x)) without overflow: with e = exp(-|x|) in [0, 1] and r = 1 / (1 + e),
       sigmoid(x) = r for x >= 0 and e * r for x < 0. Exact 0 at -inf and 1 at +inf (|x| is
       clamped to 110, where e rounds to 0); NaN flows through the arithmetic. Masks come from
       sign shifts, not comparisons (see the top of this file). */
    MTF_INLINE float mtf_sigmoid_f(float x) {
        uint32_t xu = mtf_f2u(x), au = xu & 0x7FFFFFFFu;
        uint32_t over = (uint32_t)((int32_t)(0x42DC0000u - au) >> 31);   /* |x| > 110.0f */
        uint32_t fin = (uint32_t)((int32_t)(au - 0x7F800001u) >> 31);    /* |x| <= inf */
        uint32_t m = over & fin;
        float e = mtf_exp_neg_f(mtf_u2f((au & ~m) | (0x42DC0000u & m)));
        float r = 1.0f / (1.0f + e);
        uint32_t neg = (uint32_t)((int32_t)xu >> 31);   /* all ones when the sign bit is set */
        return mtf_u2f((mtf_f2u(r) & ~neg) | (mtf_f2u(e * r) & neg));
    }

    /* As mtf_sigmoid_f, with |x| clamped to 750; masks as 0 - (top bit), logical shifts. */
    MTF_INLINE double mtf_sigmoid_d(double x) {
        uint64_t xu = mtf_d2u(x), au = xu & 0x7FFFFFFFFFFFFFFFULL;
        uint64_t over = (0x4087700000000000ULL - au) >> 63;          /* |x| > 750.0 */
        uint64_t fin = (au - 0x7FF0000000000001ULL) >> 63;           /* |x| <= inf */
        uint64_t m = 0 - (over & fin);
        double e = mtf_exp_neg_d(mtf_u2d((au & ~m) | (0x4087700000000000ULL & m)));
        double r = 1.0 / (1.0 + e);
        uint64_t neg = 0 - (xu >> 63);
        return mtf_u2d((mtf_d2u(r) & ~neg) | (mtf_d2u(e * r) & neg));
    }

    /* MTF_LOOPS(name, params, body...) defines name_0 (baseline), name_1 (AVX2) and name_2
       (AVX-512) from one body; MTF_LOOPS_2 only the first two (name_2 written by hand). */
    #define MTF_LOOPS(name, params, ...) \
        static void name##_0 params { __VA_ARGS__ } \
        MTF_TARGET_AVX2 static void name##_1 params { __VA_ARGS__ } \
        MTF_TARGET_AVX512 static void name##_2 params { __VA_ARGS__ }
    #define MTF_LOOPS_2(name, params, ...) \
        static void name##_0 params { __VA_ARGS__ } \
        MTF_TARGET_AVX2 static void name##_1 params { __VA_ARGS__ }
    #endif
    """
    int mtf_simd_level() noexcept nogil
    float _exp_neg_f "mtf_exp_neg_f"(float a) noexcept nogil
    double _exp_neg_d "mtf_exp_neg_d"(double a) noexcept nogil
    float _sigmoid_f "mtf_sigmoid_f"(float x) noexcept nogil
    double _sigmoid_d "mtf_sigmoid_d"(double x) noexcept nogil

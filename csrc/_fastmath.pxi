# Bit-cast unions and a vectorizable exp(-a), textually included by csrc/elementwise.pyx
# (sigmoid) and csrc/nn.pyx (softmax cross-entropies).
#
# Design: libm's exp/expf are opaque calls (~4 ns each, never vectorized without -ffast-math,
# which the kernels are not compiled with: it would flush subnormals process-wide). Both users
# only need e = exp(-a) for a >= 0, i.e. e in [0, 1], which a short branch-free routine gives to
# ~1 ulp with subnormal results kept, as numpy's exp does. Everything here is straight-line float
# or integer bit arithmetic (selects are written as integer masks: a float compare-and-select is
# not if-converted under the default -ftrapping-math), so GCC vectorizes a loop of it at -O3 with
# baseline SSE2 and does more with MICROTF_NATIVE=1. The routines take no clamp of their own:
# each caller bounds a first (sigmoid keeping NaN, the cross-entropies on finite rows), so that
# no shift or conversion here is undefined.

from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t

cdef union _bits32:
    float f
    uint32_t u
    int32_t i

cdef union _bits64:
    double f
    uint64_t u
    int64_t i


cdef inline float _exp_neg_f(float a) noexcept nogil:
    """exp(-a) for a in [0, 110] (or NaN -> NaN), ~1 ulp, subnormal results kept.

    -a = k ln2 + r with k = round(-a / ln2) and |r| <= ln2 / 2; exp(r) by its Taylor polynomial
    to r^7 (truncation 5e-9 relative, below float rounding); 2^k is applied as 2^(k+64), built
    in the exponent bits (k >= -159 here, so the field stays in range), then a constant 2^-64:
    the first product is exact and the second rounds once, so results in the subnormal range
    are kept (exp(-110) rounds to 0). A split of 2^k into two halves built from k gives the same
    bits, but costs three more integer operations per element.
    """
    cdef _bits32 kb, s1
    # Adding 1.5 * 2^23 rounds to an integer in the low mantissa bits (round to nearest).
    kb.f = a * <float>(-1.4426950408889634) + <float>12582912.0
    cdef float kf = kb.f - <float>12582912.0
    cdef int32_t k = kb.i - 0x4B400000
    # Cody-Waite: ln2 split so that kf * LN2_HI is exact for |k| < 2^9.
    cdef float r = (-a - kf * <float>0.693145751953125) - kf * <float>1.428606765330187045e-06
    cdef float p = <float>(1.0 / 5040.0)
    p = p * r + <float>(1.0 / 720.0)
    p = p * r + <float>(1.0 / 120.0)
    p = p * r + <float>(1.0 / 24.0)
    p = p * r + <float>(1.0 / 6.0)
    p = p * r + <float>0.5
    p = p * r + <float>1.0
    p = p * r + <float>1.0
    s1.u = (<uint32_t>(k + (64 + 127))) << 23
    return (p * s1.f) * <float>5.421010862427522e-20    # 2^-64, exact in float


cdef inline double _exp_neg_d(double a) noexcept nogil:
    """exp(-a) for a in [0, 750] (or NaN -> NaN); as _exp_neg_f, Taylor to r^13 (4e-18), with
    2^k applied in two halves built from nk = -k (subnormal results kept here too)."""
    cdef _bits64 kb, s1, s2
    kb.f = a * -1.4426950408889634 + 6755399441055744.0   # 1.5 * 2^52
    cdef double kf = kb.f - 6755399441055744.0
    # nk = -k >= 0 as an unsigned number: SSE2 has logical, not arithmetic, 64-bit shifts.
    cdef uint64_t nk = 0x4338000000000000ULL - kb.u
    cdef double r = (-a - kf * 6.93147180369123816490e-01) - kf * 1.90821492927058770002e-10
    cdef double p = 1.0 / 6227020800.0
    p = p * r + 1.0 / 479001600.0
    p = p * r + 1.0 / 39916800.0
    p = p * r + 1.0 / 3628800.0
    p = p * r + 1.0 / 362880.0
    p = p * r + 1.0 / 40320.0
    p = p * r + 1.0 / 5040.0
    p = p * r + 1.0 / 720.0
    p = p * r + 1.0 / 120.0
    p = p * r + 1.0 / 24.0
    p = p * r + 1.0 / 6.0
    p = p * r + 0.5
    p = p * r + 1.0
    p = p * r + 1.0
    cdef uint64_t nk1 = nk >> 1
    s1.u = (1023 - nk1) << 52
    s2.u = (1023 - (nk - nk1)) << 52
    return (p * s1.f) * s2.f

# cython: language_level=3
"""Elementwise kernels (add/subtract/multiply/divide with row or scalar broadcast, the row
sums, sigmoid, bias + activation); imports nothing of microtf.

Design:
- Layers: `cdef inline ... noexcept nogil` scalar math, then fused float/double loops on raw
  pointers, then one thin def wrapper per kernel that validates with numpy's C API and dispatches
  on the dtype number (no fused def: Cython's runtime fused dispatch costs microseconds).
- Arrays are seen flat in C order; callers pass shapes that make the flat view right (a bias
  row b of size nb against a of size n = rows * nb).
- out may be exactly the same array as an input (in place); a partial overlap is rejected,
  because a write could then change an input element before it is read.
- Loops over fewer than NOGIL_MIN elements keep the GIL (cheaper than releasing it).
- Compiled without -ffast-math (it would flush subnormals process-wide), so vectorizing sigmoid
  takes a small exp of our own (_fastmath.pxi, shared with nn.pyx): one pass, <= 3 ulp, exact at
  the limits.
- Sigmoid, its backward and bias + activation are C loops compiled for SSE2, AVX2+FMA and
  AVX-512 (GCC target attributes, never -march=native) and picked once at import by the CPU
  (`_simd_level` switches them for tests); float32 sigmoid on AVX-512 is written with intrinsics.
  One thread: the loops already beat numpy by 2-6x there. On the shared 2-core machine a second
  thread for sigmoid (philox.pyx's halves joined at the end, or chunks shared through an atomic
  counter) lost below 2.6e5 elements and ranged from 0.6x to 9x of one thread's time at 1e6-1e7:
  with the other core busy, the new thread waits for a time slice.
- The binary ops (add, subtract, multiply, divide) and most wrappers allocate their output in C
  when `out` is None: PyArray_EMPTY costs ~50 ns, np.empty from Python ~250 ns, which matters for
  the framework's tiny tensors. `binary` is the framework's entry: it returns None instead of
  raising when a pattern is not flat, and the caller falls back to numpy.
"""

cimport cython
from cython cimport floating
from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t

include "_common.pxi"
include "_fastmath.pxi"


# ---------------------------------------------------------------- C loops, one per SIMD level
#
# The scalar math (sigmoid, exp(-a)) is in _fastmath.pxi, as C, so that each loop below can be
# compiled for SSE2, AVX2 and AVX-512 (MTF_LOOPS) and chosen once at import (_LEVEL). The
# bias-activation loops fuse z = x + b with the activation (forward) and dz = act'(y) * dy with
# the bias gradient's row sums (backward): one pass each, no temporaries.
# Activation codes: 0 linear, 1 relu, 2 sigmoid. relu works on the bits, as csrc/nn.pyx does:
# negative non-NaN values become +0 (NaN kept), and dy passes where y is positive, not NaN.

cdef extern from *:
    """
    #define MTF_RELU_F(z) mtf_u2f(mtf_f2u(z) & ((uint32_t)((mtf_f2u(z) - 0x80000000u) <= 0x7F800000u) - 1u))
    #define MTF_RELU_D(z) mtf_u2d(mtf_d2u(z) & ((uint64_t)((mtf_d2u(z) - 0x8000000000000000ULL) <= 0x7FF0000000000000ULL) - 1ULL))
    #define MTF_DRELU_F(y, g) mtf_u2f(mtf_f2u(g) & (0u - (uint32_t)((mtf_f2u(y) - 1u) < 0x7F800000u)))
    #define MTF_DRELU_D(y, g) mtf_u2d(mtf_d2u(g) & (0ULL - (uint64_t)((mtf_d2u(y) - 1ULL) < 0x7FF0000000000000ULL)))

    MTF_LOOPS_2(mtf_sigmoid_f32, (const float *x, float *out, Py_ssize_t n),
        for (Py_ssize_t i = 0; i < n; i++) out[i] = mtf_sigmoid_f(x[i]);)

    /* AVX-512 float32 sigmoid by hand: mtf_sigmoid_f's steps, in fewer instructions (the loop
       is bound by its vector instruction count: 1e4 floats run from L2 at ~0.7 cycle each):
       - exp(-r) by a degree-6 polynomial instead of Taylor to r^7: coefficients fitted for
         minimal relative error on |r| <= ln2/2 (Lawson's reweighted least squares, c0 = 1 and
         c1 = -1 kept exact; 2e-9 before rounding, Taylor's truncation is 5e-9), then c2..c6
         moved by a few float32 ulps to the least mean error of the float32 evaluation. Over
         every float32 in [-90, 90] the sigmoid keeps Taylor's max 2.78 ulp and mean 0.098 ulp;
         92.354% correctly rounded against 92.358% (Taylor here: bit-identical, ~6% slower);
       - 2^-k applied by vscalefps, which rounds once, subnormal results included, as the two
         products of mtf_exp_neg_f do;
       - 1 / (1 + e) as vrcp14ps refined by one Newton step instead of vdivps, which took half
         the loop's time. */
    #if defined(__GNUC__) && defined(__x86_64__)
    MTF_TARGET_AVX512 static inline __m512 mtf_sigmoid16(__m512 x) {
        /* min(110, |x|): vminps returns its second operand if either is NaN, so NaN is kept
           (vrangeps, one instruction, would drop it as IEEE minNum does) */
        __m512 a = _mm512_min_ps(_mm512_set1_ps(110.0f), _mm512_abs_ps(x));
        /* exp(-a) = 2^-k exp(-r) with k = round(a / ln2) in [0, 159], r = a - k ln2 (two FMAs,
           ln2 split as in mtf_exp_neg_f). nk = -k, the exponent vscalefps takes: rounding to
           nearest is symmetric, so nkb = -(a log2e + 1.5 * 2^23) rounded, and nk is exact. */
        __m512 nkb = _mm512_fmsub_ps(_mm512_set1_ps(-1.4426950408889634f), a,
                                     _mm512_set1_ps(12582912.0f));
        __m512 nk = _mm512_add_ps(nkb, _mm512_set1_ps(12582912.0f));
        __m512 r = _mm512_fmadd_ps(nk, _mm512_set1_ps(0.693145751953125f), a);
        r = _mm512_fmadd_ps(nk, _mm512_set1_ps(1.428606765330187045e-06f), r);
        __m512 p = _mm512_set1_ps(0.001384272938594222f);
        p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(-0.008372263982892036f));
        p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.0416683591902256f));
        p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(-0.16666485369205475f));
        p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.49999991059303284f));
        p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(-1.0f));
        p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
        __m512 e = _mm512_scalef_ps(p, nk);
        __m512 d = _mm512_add_ps(_mm512_set1_ps(1.0f), e);
        __m512 r0 = _mm512_rcp14_ps(d);
        /* q = r0 + r0 (1 - d r0): the residual 1 - d r0 is exact in an FMA, so q is within
           ~0.5 ulp of 1 / d (r0 * (2 - d r0) rounds twice and reached 3.2 ulp overall). */
        __m512 q = _mm512_fmadd_ps(r0, _mm512_fnmadd_ps(d, r0, _mm512_set1_ps(1.0f)), r0);
        __mmask16 neg = _mm512_cmplt_epi32_mask(_mm512_castps_si512(x), _mm512_setzero_si512());
        return _mm512_mask_mul_ps(q, neg, e, q);
    }
    MTF_TARGET_AVX512 static void mtf_sigmoid_f32_2(const float *x, float *out, Py_ssize_t n) {
        Py_ssize_t i = 0;
        /* One masked vector first, up to x's next 64-byte boundary, so that no load of the loop
           spans two cache lines: numpy aligns to 16 bytes only, and split loads cost ~7% at
           1e4 (split stores measured no cost). x is float-aligned (checked by the wrapper). */
        Py_ssize_t head = (Py_ssize_t)((0 - (uintptr_t)x) / 4 & 15);
        if (head != 0 && n >= 32) {
            __mmask16 m = (__mmask16)((1u << head) - 1);
            _mm512_mask_storeu_ps(out, m, mtf_sigmoid16(_mm512_maskz_loadu_ps(m, x)));
            i = head;
        }
        for (; i + 16 <= n; i += 16)
            _mm512_storeu_ps(out + i, mtf_sigmoid16(_mm512_loadu_ps(x + i)));
        if (i < n) {
            __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
            _mm512_mask_storeu_ps(out + i, m, mtf_sigmoid16(_mm512_maskz_loadu_ps(m, x + i)));
        }
    }
    #else
    #define mtf_sigmoid_f32_2 mtf_sigmoid_f32_1
    #endif
    MTF_LOOPS(mtf_sigmoid_f64, (const double *x, double *out, Py_ssize_t n),
        for (Py_ssize_t i = 0; i < n; i++) out[i] = mtf_sigmoid_d(x[i]);)
    MTF_LOOPS(mtf_dsigmoid_f32, (const float *y, const float *dy, float *out, Py_ssize_t n),
        for (Py_ssize_t i = 0; i < n; i++) out[i] = dy[i] * y[i] * (1.0f - y[i]);)
    MTF_LOOPS(mtf_dsigmoid_f64, (const double *y, const double *dy, double *out, Py_ssize_t n),
        for (Py_ssize_t i = 0; i < n; i++) out[i] = dy[i] * y[i] * (1.0 - y[i]);)

    /* out = act(x + b[i % nb]) row by row (nb >= 1 divides n), act 0 (linear) or 1 (relu);
       sigmoid is this with act 0 then the sigmoid loop on cache-sized chunks (_bias_act_any). */
    #define MTF_BIAS_ACT(T, RELU) \
        for (Py_ssize_t r = 0; r < n; r += nb) { \
            const T *xr = x + r; T *o = out + r; \
            if (act == 0) for (Py_ssize_t j = 0; j < nb; j++) o[j] = xr[j] + b[j]; \
            else for (Py_ssize_t j = 0; j < nb; j++) { T z = xr[j] + b[j]; o[j] = RELU(z); } \
        }
    MTF_LOOPS(mtf_bias_act_f32, (const float *x, const float *b, float *out, Py_ssize_t n,
                                 Py_ssize_t nb, int act), MTF_BIAS_ACT(float, MTF_RELU_F))
    MTF_LOOPS(mtf_bias_act_f64, (const double *x, const double *b, double *out, Py_ssize_t n,
                                 Py_ssize_t nb, int act), MTF_BIAS_ACT(double, MTF_RELU_D))

    /* dz = act'(y) * dy (from the saved output y) and db[j] = sum over rows of dz, in one pass;
       the first row is copied into db (so -0.0 survives), later rows added in order, as
       numpy's sum(axis=0). Requires n >= nb >= 1, nb dividing n. */
    #define MTF_BIAS_ACT_GRAD(T, DRELU) \
        for (Py_ssize_t r = 0; r < n; r += nb) { \
            const T *yr = y + r, *g = dy + r; T *o = dz + r; \
            if (act == 0) for (Py_ssize_t j = 0; j < nb; j++) o[j] = g[j]; \
            else if (act == 1) for (Py_ssize_t j = 0; j < nb; j++) o[j] = DRELU(yr[j], g[j]); \
            else for (Py_ssize_t j = 0; j < nb; j++) o[j] = g[j] * yr[j] * ((T)1 - yr[j]); \
            if (r == 0) for (Py_ssize_t j = 0; j < nb; j++) db[j] = o[j]; \
            else for (Py_ssize_t j = 0; j < nb; j++) db[j] += o[j]; \
        }
    MTF_LOOPS(mtf_bias_act_grad_f32, (const float *y, const float *dy, float *dz, float *db,
                                      Py_ssize_t n, Py_ssize_t nb, int act),
              MTF_BIAS_ACT_GRAD(float, MTF_DRELU_F))
    MTF_LOOPS(mtf_bias_act_grad_f64, (const double *y, const double *dy, double *dz, double *db,
                                      Py_ssize_t n, Py_ssize_t nb, int act),
              MTF_BIAS_ACT_GRAD(double, MTF_DRELU_D))

    /* out[j] = sum over rows of dy[r * nb + j] (nb >= 1 divides n, n >= nb), in row order as
       numpy's sum(axis=0) rounds, four rows per sweep so that out is loaded and stored a
       quarter as often. The first row is copied, not added to a zero, so that -0.0 survives and
       out may be dy itself when there is only one row. */
    #define MTF_SUM_ROWS(T) \
        Py_ssize_t rows = n / nb, r = 1; \
        for (Py_ssize_t j = 0; j < nb; j++) out[j] = dy[j]; \
        for (; r + 4 <= rows; r += 4) { \
            const T *a = dy + r * nb, *b = a + nb, *c = b + nb, *d = c + nb; \
            for (Py_ssize_t j = 0; j < nb; j++) out[j] = (((out[j] + a[j]) + b[j]) + c[j]) + d[j]; \
        } \
        for (; r < rows; r++) { \
            const T *a = dy + r * nb; \
            for (Py_ssize_t j = 0; j < nb; j++) out[j] += a[j]; \
        }
    MTF_LOOPS(mtf_sum_rows_f32, (const float *dy, float *out, Py_ssize_t n, Py_ssize_t nb),
              MTF_SUM_ROWS(float))
    MTF_LOOPS(mtf_sum_rows_f64, (const double *dy, double *out, Py_ssize_t n, Py_ssize_t nb),
              MTF_SUM_ROWS(double))

    /* Binary ops out = x OP y over flat views where one side is repeated: b (size nb dividing
       n) is the right operand (swap = 0) or the left one (swap = 1). OP codes: 0 add, 1 sub,
       2 mul, 3 div. Plain C arithmetic: IEEE results (inf, nan) and no numpy warnings. */
    #define MTF_BIN_LOOP(T, EXPR) \
        if (nb == n) { \
            if (swap) for (Py_ssize_t i = 0; i < n; i++) { T u = b[i], v = a[i]; out[i] = EXPR; } \
            else for (Py_ssize_t i = 0; i < n; i++) { T u = a[i], v = b[i]; out[i] = EXPR; } \
        } \
        else if (nb == 1) { \
            const T s = b[0]; \
            if (swap) for (Py_ssize_t i = 0; i < n; i++) { T u = s, v = a[i]; out[i] = EXPR; } \
            else for (Py_ssize_t i = 0; i < n; i++) { T u = a[i], v = s; out[i] = EXPR; } \
        } else for (Py_ssize_t r = 0; r < n; r += nb) { \
            const T *ar = a + r; T *o = out + r; \
            if (swap) for (Py_ssize_t j = 0; j < nb; j++) { T u = b[j], v = ar[j]; o[j] = EXPR; } \
            else for (Py_ssize_t j = 0; j < nb; j++) { T u = ar[j], v = b[j]; o[j] = EXPR; } \
        }
    #define MTF_BINARY(T, SUF) \
        static void mtf_binary_##SUF(int op, const T *a, const T *b, T *out, Py_ssize_t n, \
                                     Py_ssize_t nb, int swap) { \
            switch (op) { \
            case 0: MTF_BIN_LOOP(T, u + v) break; \
            case 1: MTF_BIN_LOOP(T, u - v) break; \
            case 2: MTF_BIN_LOOP(T, u * v) break; \
            default: MTF_BIN_LOOP(T, u / v) break; \
            } \
        }
    MTF_BINARY(float, f32)
    MTF_BINARY(double, f64)

    typedef void (*mtf_unary_f32_fn)(const float *, float *, Py_ssize_t);
    typedef void (*mtf_unary_f64_fn)(const double *, double *, Py_ssize_t);
    typedef void (*mtf_rows_f32_fn)(const float *, float *, Py_ssize_t, Py_ssize_t);
    typedef void (*mtf_rows_f64_fn)(const double *, double *, Py_ssize_t, Py_ssize_t);
    typedef void (*mtf_pair_f32_fn)(const float *, const float *, float *, Py_ssize_t);
    typedef void (*mtf_pair_f64_fn)(const double *, const double *, double *, Py_ssize_t);
    typedef void (*mtf_bias_f32_fn)(const float *, const float *, float *, Py_ssize_t, Py_ssize_t, int);
    typedef void (*mtf_bias_f64_fn)(const double *, const double *, double *, Py_ssize_t, Py_ssize_t, int);
    typedef void (*mtf_bgrad_f32_fn)(const float *, const float *, float *, float *, Py_ssize_t, Py_ssize_t, int);
    typedef void (*mtf_bgrad_f64_fn)(const double *, const double *, double *, double *, Py_ssize_t, Py_ssize_t, int);
    """
    ctypedef void (*mtf_unary_f32_fn)(const float*, float*, npy_intp) noexcept nogil
    ctypedef void (*mtf_unary_f64_fn)(const double*, double*, npy_intp) noexcept nogil
    ctypedef void (*mtf_rows_f32_fn)(const float*, float*, npy_intp, npy_intp) noexcept nogil
    ctypedef void (*mtf_rows_f64_fn)(const double*, double*, npy_intp, npy_intp) noexcept nogil
    ctypedef void (*mtf_pair_f32_fn)(const float*, const float*, float*, npy_intp) noexcept nogil
    ctypedef void (*mtf_pair_f64_fn)(const double*, const double*, double*, npy_intp) noexcept nogil
    ctypedef void (*mtf_bias_f32_fn)(const float*, const float*, float*, npy_intp, npy_intp,
                                     int) noexcept nogil
    ctypedef void (*mtf_bias_f64_fn)(const double*, const double*, double*, npy_intp, npy_intp,
                                     int) noexcept nogil
    ctypedef void (*mtf_bgrad_f32_fn)(const float*, const float*, float*, float*, npy_intp,
                                      npy_intp, int) noexcept nogil
    ctypedef void (*mtf_bgrad_f64_fn)(const double*, const double*, double*, double*, npy_intp,
                                      npy_intp, int) noexcept nogil
    void mtf_binary_f32(int op, const float* a, const float* b, float* out, npy_intp n,
                        npy_intp nb, int swap) noexcept nogil
    void mtf_binary_f64(int op, const double* a, const double* b, double* out, npy_intp n,
                        npy_intp nb, int swap) noexcept nogil
    # The per-level loops (_select picks one set).
    void mtf_sum_rows_f32_0(const float*, float*, npy_intp, npy_intp) noexcept nogil
    void mtf_sum_rows_f32_1(const float*, float*, npy_intp, npy_intp) noexcept nogil
    void mtf_sum_rows_f32_2(const float*, float*, npy_intp, npy_intp) noexcept nogil
    void mtf_sum_rows_f64_0(const double*, double*, npy_intp, npy_intp) noexcept nogil
    void mtf_sum_rows_f64_1(const double*, double*, npy_intp, npy_intp) noexcept nogil
    void mtf_sum_rows_f64_2(const double*, double*, npy_intp, npy_intp) noexcept nogil
    void mtf_sigmoid_f32_0(const float*, float*, npy_intp) noexcept nogil
    void mtf_sigmoid_f32_1(const float*, float*, npy_intp) noexcept nogil
    void mtf_sigmoid_f32_2(const float*, float*, npy_intp) noexcept nogil
    void mtf_sigmoid_f64_0(const double*, double*, npy_intp) noexcept nogil
    void mtf_sigmoid_f64_1(const double*, double*, npy_intp) noexcept nogil
    void mtf_sigmoid_f64_2(const double*, double*, npy_intp) noexcept nogil
    void mtf_dsigmoid_f32_0(const float*, const float*, float*, npy_intp) noexcept nogil
    void mtf_dsigmoid_f32_1(const float*, const float*, float*, npy_intp) noexcept nogil
    void mtf_dsigmoid_f32_2(const float*, const float*, float*, npy_intp) noexcept nogil
    void mtf_dsigmoid_f64_0(const double*, const double*, double*, npy_intp) noexcept nogil
    void mtf_dsigmoid_f64_1(const double*, const double*, double*, npy_intp) noexcept nogil
    void mtf_dsigmoid_f64_2(const double*, const double*, double*, npy_intp) noexcept nogil
    void mtf_bias_act_f32_0(const float*, const float*, float*, npy_intp, npy_intp, int) noexcept nogil
    void mtf_bias_act_f32_1(const float*, const float*, float*, npy_intp, npy_intp, int) noexcept nogil
    void mtf_bias_act_f32_2(const float*, const float*, float*, npy_intp, npy_intp, int) noexcept nogil
    void mtf_bias_act_f64_0(const double*, const double*, double*, npy_intp, npy_intp, int) noexcept nogil
    void mtf_bias_act_f64_1(const double*, const double*, double*, npy_intp, npy_intp, int) noexcept nogil
    void mtf_bias_act_f64_2(const double*, const double*, double*, npy_intp, npy_intp, int) noexcept nogil
    void mtf_bias_act_grad_f32_0(const float*, const float*, float*, float*, npy_intp, npy_intp, int) noexcept nogil
    void mtf_bias_act_grad_f32_1(const float*, const float*, float*, float*, npy_intp, npy_intp, int) noexcept nogil
    void mtf_bias_act_grad_f32_2(const float*, const float*, float*, float*, npy_intp, npy_intp, int) noexcept nogil
    void mtf_bias_act_grad_f64_0(const double*, const double*, double*, double*, npy_intp, npy_intp, int) noexcept nogil
    void mtf_bias_act_grad_f64_1(const double*, const double*, double*, double*, npy_intp, npy_intp, int) noexcept nogil
    void mtf_bias_act_grad_f64_2(const double*, const double*, double*, double*, npy_intp, npy_intp, int) noexcept nogil


cdef struct _Loops:
    mtf_unary_f32_fn sigmoid32
    mtf_unary_f64_fn sigmoid64
    mtf_pair_f32_fn dsigmoid32
    mtf_pair_f64_fn dsigmoid64
    mtf_bias_f32_fn bias32
    mtf_bias_f64_fn bias64
    mtf_bgrad_f32_fn bgrad32
    mtf_bgrad_f64_fn bgrad64
    mtf_rows_f32_fn rows32
    mtf_rows_f64_fn rows64

cdef _Loops _L


cdef void _select(int level) noexcept nogil:
    global _L
    if level >= 2:
        _L = _Loops(mtf_sigmoid_f32_2, mtf_sigmoid_f64_2, mtf_dsigmoid_f32_2, mtf_dsigmoid_f64_2,
                    mtf_bias_act_f32_2, mtf_bias_act_f64_2, mtf_bias_act_grad_f32_2,
                    mtf_bias_act_grad_f64_2, mtf_sum_rows_f32_2, mtf_sum_rows_f64_2)
    elif level == 1:
        _L = _Loops(mtf_sigmoid_f32_1, mtf_sigmoid_f64_1, mtf_dsigmoid_f32_1, mtf_dsigmoid_f64_1,
                    mtf_bias_act_f32_1, mtf_bias_act_f64_1, mtf_bias_act_grad_f32_1,
                    mtf_bias_act_grad_f64_1, mtf_sum_rows_f32_1, mtf_sum_rows_f64_1)
    else:
        _L = _Loops(mtf_sigmoid_f32_0, mtf_sigmoid_f64_0, mtf_dsigmoid_f32_0, mtf_dsigmoid_f64_0,
                    mtf_bias_act_f32_0, mtf_bias_act_f64_0, mtf_bias_act_grad_f32_0,
                    mtf_bias_act_grad_f64_0, mtf_sum_rows_f32_0, mtf_sum_rows_f64_0)


cdef int _LEVEL = mtf_simd_level()
_select(_LEVEL)


def _simd_level(level=None):
    """Testing switch: the SIMD level in use (0 SSE2, 1 AVX2, 2 AVX-512); with an argument, use
    min(level, what the CPU has) and return the previous level. All levels agree to <= 1 ulp."""
    global _LEVEL
    previous = _LEVEL
    if level is not None:
        _LEVEL = min(int(level), mtf_simd_level())
        _select(_LEVEL)
    return previous


# ---------------------------------------------------------------- array loops

cdef floating _pairwise_sum(const floating* x, npy_intp n) noexcept nogil:
    """Sum of x[0:n] by pairwise summation (error O(log n) ulps, like numpy's full sum)."""
    cdef npy_intp i, half
    cdef floating s0, s1, s2, s3, s4, s5, s6, s7, s
    if n < 8:
        s = 0
        if n > 0:
            s = x[0]
            for i in range(1, n):
                s = s + x[i]
        return s
    if n <= 128:
        # Eight independent accumulators: vectorizes and keeps each partial sum short.
        s0 = x[0]; s1 = x[1]; s2 = x[2]; s3 = x[3]
        s4 = x[4]; s5 = x[5]; s6 = x[6]; s7 = x[7]
        i = 8
        while i + 8 <= n:
            s0 = s0 + x[i]; s1 = s1 + x[i + 1]; s2 = s2 + x[i + 2]; s3 = s3 + x[i + 3]
            s4 = s4 + x[i + 4]; s5 = s5 + x[i + 5]; s6 = s6 + x[i + 6]; s7 = s7 + x[i + 7]
            i = i + 8
        s = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
        while i < n:
            s = s + x[i]
            i = i + 1
        return s
    half = (n // 2) - (n // 2) % 8
    return _pairwise_sum(x, half) + _pairwise_sum(x + half, n - half)


cdef void _fill_zero(floating* out, npy_intp n) noexcept nogil:
    cdef npy_intp i
    for i in range(n):
        out[i] = 0


# ---------------------------------------------------------------- dtype dispatch
# One nogil entry per kernel so the wrappers can call it with or without the GIL.

cdef void _binary_any(int t, int op, void* a, void* b, void* out, npy_intp n, npy_intp nb,
                      int swap) noexcept nogil:
    if t == cnp.NPY_FLOAT:
        mtf_binary_f32(op, <const float*>a, <const float*>b, <float*>out, n, nb, swap)
    else:
        mtf_binary_f64(op, <const double*>a, <const double*>b, <double*>out, n, nb, swap)


cdef void _sum_rows_any(int t, void* dy, void* out, npy_intp n, npy_intp nb) noexcept nogil:
    """out[j] = column sums of dy seen as (n / nb, nb); nb == 1 sums pairwise, as numpy's sum."""
    if t == cnp.NPY_FLOAT:
        if nb == 1:
            (<float*>out)[0] = _pairwise_sum(<const float*>dy, n)
        else:
            _L.rows32(<const float*>dy, <float*>out, n, nb)
    else:
        if nb == 1:
            (<double*>out)[0] = _pairwise_sum(<const double*>dy, n)
        else:
            _L.rows64(<const double*>dy, <double*>out, n, nb)


cdef void _sigmoid_any(int t, void* x, void* out, npy_intp n) noexcept nogil:
    if t == cnp.NPY_FLOAT:
        _L.sigmoid32(<const float*>x, <float*>out, n)
    else:
        _L.sigmoid64(<const double*>x, <double*>out, n)


cdef void _sigmoid_backward_any(int t, void* y, void* dy, void* out, npy_intp n) noexcept nogil:
    if t == cnp.NPY_FLOAT:
        _L.dsigmoid32(<const float*>y, <const float*>dy, <float*>out, n)
    else:
        _L.dsigmoid64(<const double*>y, <const double*>dy, <double*>out, n)


# Rows per chunk of the fused bias + sigmoid: the chunk of x + b is still in L1/L2 when the
# sigmoid loop reads it back, so memory sees one pass.
cdef npy_intp _CHUNK = 8192


cdef void _bias_act_any(int t, void* x, void* b, void* out, npy_intp n, npy_intp nb,
                        int act) noexcept nogil:
    cdef npy_intp step = nb * (_CHUNK // nb if nb < _CHUNK else 1)
    cdef npy_intp r, m
    if act != 2:
        if t == cnp.NPY_FLOAT:
            _L.bias32(<const float*>x, <const float*>b, <float*>out, n, nb, act)
        else:
            _L.bias64(<const double*>x, <const double*>b, <double*>out, n, nb, act)
        return
    r = 0
    while r < n:
        m = step if n - r > step else n - r
        if t == cnp.NPY_FLOAT:
            _L.bias32(<const float*>x + r, <const float*>b, <float*>out + r, m, nb, 0)
            _L.sigmoid32(<float*>out + r, <float*>out + r, m)
        else:
            _L.bias64(<const double*>x + r, <const double*>b, <double*>out + r, m, nb, 0)
            _L.sigmoid64(<double*>out + r, <double*>out + r, m)
        r += m


cdef void _bias_act_grad_any(int t, void* y, void* dy, void* dz, void* db, npy_intp n,
                             npy_intp nb, int act) noexcept nogil:
    if t == cnp.NPY_FLOAT:
        _L.bgrad32(<const float*>y, <const float*>dy, <float*>dz, <float*>db, n, nb, act)
    else:
        _L.bgrad64(<const double*>y, <const double*>dy, <double*>dz, <double*>db, n, nb, act)


# ---------------------------------------------------------------- def wrappers

cdef inline cnp.ndarray _out_like(cnp.ndarray x, object out, str fn, int t):
    """out checked as a writable output of x's dtype and size, or a new array shaped like x
    (allocated here: PyArray_EMPTY costs ~50 ns, np.empty from Python ~250 ns)."""
    if out is None:
        return cnp.PyArray_EMPTY(cnp.PyArray_NDIM(x), cnp.PyArray_DIMS(x), t, 0)
    if not isinstance(out, cnp.ndarray):
        raise TypeError(f"{fn}: out must be a numpy array or None, got {type(out).__name__}")
    _check(fn, "out", out, t, True)
    if cnp.PyArray_SIZE(out) != cnp.PyArray_SIZE(x):
        raise ValueError(f"{fn}: out must have the size of {_shape(x)}, got {_shape(out)}")
    return out


cdef inline bint _is_row_of(cnp.ndarray small, cnp.ndarray big) noexcept:
    """Whether small broadcasts to exactly big by repeating along leading axes only: its shape,
    leading 1s dropped, is a suffix of big's (then flat index i of big reads small[i % size])."""
    cdef int ns = cnp.PyArray_NDIM(small), nbig = cnp.PyArray_NDIM(big), i = 0
    cdef npy_intp* ds = cnp.PyArray_DIMS(small)
    cdef npy_intp* db = cnp.PyArray_DIMS(big)
    if ns > nbig:
        return False
    while i < ns and ds[i] == 1:
        i += 1
    while i < ns:
        if ds[i] != db[nbig - ns + i]:
            return False
        i += 1
    return True


cdef object _binary(str fn, int op, cnp.ndarray a, cnp.ndarray b, object out, int swap):
    """out = a OP b[i % nb] (swap: b[i % nb] OP a) after the checks every wrapper makes."""
    cdef int t = _float_typenum(fn, "a", a)
    _check(fn, "a", a, t, False)
    _check(fn, "b", b, t, False)
    cdef cnp.ndarray o = _out_like(a, out, fn, t)
    cdef npy_intp n = cnp.PyArray_SIZE(a)
    cdef npy_intp nb = cnp.PyArray_SIZE(b)
    if n == 0:
        return o
    if nb == 0 or n % nb != 0:
        raise ValueError(
            f"{fn}: the size of b {_shape(b)} must divide the size of a {_shape(a)} "
            "(same shape, a trailing row, or a scalar)")
    _overlap(fn, o, "out", a, "a", True)
    _overlap(fn, o, "out", b, "b", True)
    _run_binary(t, op, a, b, o, n, nb, swap)
    return o


cdef inline void _run_binary(int t, int op, cnp.ndarray a, cnp.ndarray b, cnp.ndarray o,
                             npy_intp n, npy_intp nb, int swap, npy_intp m=0) noexcept:
    """The loop over checked arrays, without the GIL when the size makes that pay. m == 0: b
    repeats along a's leading axes (b[i % nb]); m > 0: b holds one value per row of m."""
    cdef void* pa = cnp.PyArray_DATA(a)
    cdef void* pb = cnp.PyArray_DATA(b)
    cdef void* po = cnp.PyArray_DATA(o)
    if n >= NOGIL_MIN:
        with nogil:
            _binary_layout_any(t, op, pa, pb, po, n, nb, swap, m)
    else:
        _binary_layout_any(t, op, pa, pb, po, n, nb, swap, m)


cdef void _binary_layout_any(int t, int op, void* a, void* b, void* out, npy_intp n,
                             npy_intp nb, int swap, npy_intp m) noexcept nogil:
    """_binary_any over the flat arrays (m == 0), or row by row with b[r] as the scalar (each
    row is the scalar case of the binary loop, so the arithmetic is the same IEEE operation)."""
    cdef npy_intp r, size
    if m == 0:
        _binary_any(t, op, a, b, out, n, nb, swap)
        return
    size = 4 if t == cnp.NPY_FLOAT else 8
    for r in range(n // m):
        _binary_any(t, op, <char*>a + r * m * size, <char*>b + r * size,
                    <char*>out + r * m * size, m, 1, swap)


cdef inline bint _is_column_of(cnp.ndarray small, cnp.ndarray big) noexcept:
    """Whether small is big's shape with a last axis of 1: one value per row of big (a per-row
    scale or shift: softmax's normalization, a loss gradient times its row's backprop)."""
    cdef int nd = cnp.PyArray_NDIM(big), i
    if nd < 2 or cnp.PyArray_NDIM(small) != nd:
        return False
    cdef npy_intp* ds = cnp.PyArray_DIMS(small)
    cdef npy_intp* db = cnp.PyArray_DIMS(big)
    if ds[nd - 1] != 1 or db[nd - 1] <= 1:
        return False
    for i in range(nd - 1):
        if ds[i] != db[i]:
            return False
    return True


def add(cnp.ndarray a not None, cnp.ndarray b not None, out=None):
    """out[i] = a[i] + b[i % nb] over the flat C-order views; returns out.

    a    # IN  size n
    b    # IN  size nb: nb == n (same shape), nb == row length (bias row), or nb == 1 (scalar);
         #     nb >= 1 must divide n unless n == 0 (then nothing is done)
    out  # OUT size n, or None: a new array shaped like a; may be a (or b when nb == n)
    Same float dtype everywhere, C-contiguous. TypeError on dtypes, ValueError otherwise.
    """
    return _binary("add", 0, a, b, out, 0)


def subtract(cnp.ndarray a not None, cnp.ndarray b not None, out=None, bint swap=False):
    """out[i] = a[i] - b[i % nb] (swap: b[i % nb] - a[i]); contract as `add`."""
    return _binary("subtract", 1, a, b, out, swap)


def multiply(cnp.ndarray a not None, cnp.ndarray b not None, out=None):
    """out[i] = a[i] * b[i % nb]; contract as `add`."""
    return _binary("multiply", 2, a, b, out, 0)


def divide(cnp.ndarray a not None, cnp.ndarray b not None, out=None, bint swap=False):
    """out[i] = a[i] / b[i % nb] (swap: b[i % nb] / a[i]), IEEE (x / 0 = +-inf or nan);
    contract as `add`."""
    return _binary("divide", 3, a, b, out, swap)


# The `op` codes of `binary` (the same numbers the C loop switches on).
BINARY_ADD, BINARY_SUBTRACT, BINARY_MULTIPLY, BINARY_DIVIDE = 0, 1, 2, 3


def binary(int op, x, y):
    """The fast path of the framework's AddV2/Sub/Mul/RealDiv forwards (op: BINARY_ADD,
    BINARY_SUBTRACT, BINARY_MULTIPLY, BINARY_DIVIDE): x OP y as a
    new array when both are float32 (or both float64) C-contiguous aligned native ndarrays and
    one broadcasts to the other along leading axes only (same shape, bias row, scalar) or is
    the other's shape with a last axis of 1 (one value per row); otherwise None, and the caller
    takes numpy's general path. No numpy warnings: IEEE results.
    """
    return _binary_or_none(op, x, y)


def binary_forward(int op, fallback):
    """The forward of a binary op as a compiled function `forward(x, y)`: `binary`'s fast path,
    else `fallback(x, y)` (numpy's general broadcasting, other dtypes, TensorFlow's errors).
    Compiled rather than a Python forward calling `binary`: on (1, 3) arrays the Python frame
    costs as much as the kernel."""
    def forward(x, y):
        out = _binary_or_none(op, x, y)
        return out if out is not None else fallback(x, y)
    return forward


cdef object _binary_or_none(int op, object x, object y):
    if type(x) is not cnp.ndarray or type(y) is not cnp.ndarray:
        return None
    cdef cnp.ndarray a = x, b = y
    cdef int t = cnp.PyArray_TYPE(a)
    if (t != cnp.NPY_FLOAT and t != cnp.NPY_DOUBLE) or cnp.PyArray_TYPE(b) != t:
        return None
    if not (cnp.PyArray_ISCARRAY_RO(a) and cnp.PyArray_ISCARRAY_RO(b)
            and cnp.PyArray_ISNOTSWAPPED(a) and cnp.PyArray_ISNOTSWAPPED(b)):
        return None
    cdef int swap = 0, columns = 0
    if not _is_row_of(b, a):
        if _is_row_of(a, b):
            a, b, swap = y, x, 1
        elif _is_column_of(b, a):
            columns = 1
        elif _is_column_of(a, b):
            a, b, swap, columns = y, x, 1, 1
        else:
            return None
    cdef cnp.ndarray o = cnp.PyArray_EMPTY(cnp.PyArray_NDIM(a), cnp.PyArray_DIMS(a), t, 0)
    cdef npy_intp n = cnp.PyArray_SIZE(a)
    cdef npy_intp nb = cnp.PyArray_SIZE(b)
    if n != 0:
        _run_binary(t, op, a, b, o, n, nb, swap,
                    cnp.PyArray_DIMS(a)[cnp.PyArray_NDIM(a) - 1] if columns else 0)
    return o


def sum_rows(cnp.ndarray dy not None, cnp.ndarray out not None):
    """out[j] = sum_r dy[r * nb + j], the gradient of the bias row in `add`; returns out.

    dy   # IN  size n
    out  # OUT size nb; nb >= 1 must divide n, or n == 0 (then out is zero-filled);
         #     may be dy only when nb == n (a copy); must not partially overlap dy
    nb == 1 sums everything, pairwise (as numpy's sum); otherwise rows accumulate in order.
    """
    cdef int t = _float_typenum("sum_rows", "dy", dy)
    _check("sum_rows", "dy", dy, t, False)
    _check("sum_rows", "out", out, t, True)
    cdef npy_intp n = cnp.PyArray_SIZE(dy)
    cdef npy_intp nb = cnp.PyArray_SIZE(out)
    cdef void* pd = cnp.PyArray_DATA(dy)
    cdef void* po = cnp.PyArray_DATA(out)
    if n == 0:
        if t == cnp.NPY_FLOAT:
            _fill_zero(<float*>po, nb)
        else:
            _fill_zero(<double*>po, nb)
        return out
    if nb == 0 or n % nb != 0:
        raise ValueError(
            f"sum_rows: the size of out {_shape(out)} must divide the size of dy {_shape(dy)}")
    _overlap("sum_rows", out, "out", dy, "dy", True)
    if n >= NOGIL_MIN:
        with nogil:
            _sum_rows_any(t, pd, po, n, nb)
    else:
        _sum_rows_any(t, pd, po, n, nb)
    return out


def sigmoid(cnp.ndarray x not None, out=None):
    """out = 1 / (1 + exp(-x)) in one stable pass (SIMD level chosen at import); returns out.

    x    # IN  any shape
    out  # OUT size of x, or None: a new array shaped like x; may be x (in place)
    Exact 0.0 at -inf and 1.0 at +inf, NaN propagates, subnormals kept, no overflow, <= 3 ulp.
    """
    cdef int t = _float_typenum("sigmoid", "x", x)
    _check("sigmoid", "x", x, t, False)
    cdef cnp.ndarray o = _out_like(x, out, "sigmoid", t)
    cdef npy_intp n = cnp.PyArray_SIZE(x)
    _overlap("sigmoid", o, "out", x, "x", True)
    cdef void* px = cnp.PyArray_DATA(x)
    cdef void* po = cnp.PyArray_DATA(o)
    if n >= NOGIL_MIN:
        with nogil:
            _sigmoid_any(t, px, po, n)
    else:
        _sigmoid_any(t, px, po, n)
    return o


def sigmoid_backward(cnp.ndarray y not None, cnp.ndarray dy not None, out=None):
    """out = dy * y * (1 - y), the sigmoid gradient from the saved forward output y; returns out.

    y    # IN  sigmoid output
    dy   # IN  upstream gradient, size of y
    out  # OUT size of y, or None (a new array shaped like y); may be y or dy (in place)
    """
    cdef int t = _float_typenum("sigmoid_backward", "y", y)
    _check("sigmoid_backward", "y", y, t, False)
    _check("sigmoid_backward", "dy", dy, t, False)
    cdef cnp.ndarray o = _out_like(y, out, "sigmoid_backward", t)
    cdef npy_intp n = cnp.PyArray_SIZE(y)
    if cnp.PyArray_SIZE(dy) != n:
        raise ValueError(
            f"sigmoid_backward: y, dy and out must have one size, "
            f"got shapes {_shape(y)}, {_shape(dy)}, {_shape(o)}")
    _overlap("sigmoid_backward", o, "out", y, "y", True)
    _overlap("sigmoid_backward", o, "out", dy, "dy", True)
    cdef void* py = cnp.PyArray_DATA(y)
    cdef void* pd = cnp.PyArray_DATA(dy)
    cdef void* po = cnp.PyArray_DATA(o)
    if n >= NOGIL_MIN:
        with nogil:
            _sigmoid_backward_any(t, py, pd, po, n)
    else:
        _sigmoid_backward_any(t, py, pd, po, n)
    return o


_ACTIVATIONS = {"linear": 0, "relu": 1, "sigmoid": 2}


cdef int _activation(str fn, str activation) except -1:
    code = _ACTIVATIONS.get(activation)
    if code is None:
        raise ValueError(f"{fn}: activation must be one of {sorted(_ACTIVATIONS)}, "
                         f"got {activation!r}")
    return code


cdef npy_intp _bias_size(str fn, cnp.ndarray x, cnp.ndarray b) except -1:
    """Size of the bias row b, which must divide the size of x (or x is empty)."""
    cdef npy_intp n = cnp.PyArray_SIZE(x), nb = cnp.PyArray_SIZE(b)
    if n != 0 and (nb == 0 or n % nb != 0):
        raise ValueError(f"{fn}: the size of the bias {_shape(b)} must divide the size of "
                         f"{_shape(x)} (a row repeated along leading axes)")
    return nb


def bias_activation(cnp.ndarray x not None, cnp.ndarray b not None, str activation, out=None):
    """out[i] = act(x[i] + b[i % nb]) in one pass, act one of linear, relu, sigmoid; returns out.

    x    # IN  size n
    b    # IN  bias row, size nb dividing n
    out  # OUT size n, or None (a new array shaped like x); may be x (in place)
    """
    fn = "bias_activation"
    cdef int act = _activation(fn, activation)
    cdef int t = _float_typenum(fn, "x", x)
    _check(fn, "x", x, t, False)
    _check(fn, "b", b, t, False)
    cdef cnp.ndarray o = _out_like(x, out, fn, t)
    cdef npy_intp nb = _bias_size(fn, x, b)
    cdef npy_intp n = cnp.PyArray_SIZE(x)
    _overlap(fn, o, "out", x, "x", True)
    _overlap(fn, o, "out", b, "b", False)
    cdef void* px = cnp.PyArray_DATA(x)
    cdef void* pb = cnp.PyArray_DATA(b)
    cdef void* po = cnp.PyArray_DATA(o)
    if n == 0:
        return o
    if n >= NOGIL_MIN:
        with nogil:
            _bias_act_any(t, px, pb, po, n, nb, act)
    else:
        _bias_act_any(t, px, pb, po, n, nb, act)
    return o


def bias_activation_backward(cnp.ndarray y not None, cnp.ndarray dy not None, str activation,
                             cnp.ndarray db not None, dz=None):
    """dz = act'(y) * dy and db[j] = sum over rows of dz, in one pass; returns (dz, db).

    y    # IN  the forward output act(x + b), size n
    dy   # IN  upstream gradient, size n
    db   # OUT bias gradient, size nb dividing n (zeros when n == 0); must not overlap the rest
    dz   # OUT size n, or None (a new array shaped like y); may be dy (in place)
    act' from y: linear 1, relu (y > 0), sigmoid y * (1 - y).
    """
    fn = "bias_activation_backward"
    cdef int act = _activation(fn, activation)
    cdef int t = _float_typenum(fn, "y", y)
    _check(fn, "y", y, t, False)
    _check(fn, "dy", dy, t, False)
    _check(fn, "db", db, t, True)
    cdef cnp.ndarray o = _out_like(y, dz, fn, t)
    cdef npy_intp n = cnp.PyArray_SIZE(y)
    if cnp.PyArray_SIZE(dy) != n:
        raise ValueError(f"{fn}: y and dy must have one size, got {_shape(y)} and {_shape(dy)}")
    cdef npy_intp nb = _bias_size(fn, y, db)
    _overlap(fn, o, "dz", y, "y", True)
    _overlap(fn, o, "dz", dy, "dy", True)
    for other, name in ((y, "y"), (dy, "dy"), (o, "dz")):
        _overlap(fn, db, "db", other, name, False)
    cdef void* py = cnp.PyArray_DATA(y)
    cdef void* pd = cnp.PyArray_DATA(dy)
    cdef void* po = cnp.PyArray_DATA(o)
    cdef void* pb = cnp.PyArray_DATA(db)
    if n == 0:
        if t == cnp.NPY_FLOAT:
            _fill_zero(<float*>pb, nb)
        else:
            _fill_zero(<double*>pb, nb)
        return o, db
    if n >= NOGIL_MIN:
        with nogil:
            _bias_act_grad_any(t, py, pd, po, pb, n, nb, act)
    else:
        _bias_act_grad_any(t, py, pd, po, pb, n, nb, act)
    return o, db

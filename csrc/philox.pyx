# cython: language_level=3
"""Philox4x32-10 random streams with TensorFlow's transforms; imports nothing of microtf.

Design:
- A stream is a 64-bit key (k0 = low word, k1 = high word) and a 128-bit counter, passed as two
  uint64 halves (ctr_lo holds counter words 0-1, ctr_hi words 2-3). Block i of a fill is
  philox(counter + i, key): 4 uint32 outputs, counter incremented as a 128-bit little-endian
  integer (TensorFlow's PhiloxRandom::Skip). The kernels never keep state: the caller advances
  the counter, exactly as TensorFlow's GuardedPhiloxRandom reserves samples.
- Output layout follows TensorFlow's FillPhiloxRandom: a float32 (or raw uint32) output takes
  the 4 words of one block, a float64 output takes 2 words (so 2 per block), and a partial last
  group uses a fresh block. Normal outputs come from Box-Muller on pairs of words (float32) or
  pairs of word pairs (float64), TensorFlow's BoxMullerFloat/BoxMullerDouble.
- Truncated normal follows TensorFlow's variable-samples fill: output group g (4 float32 or 2
  float64 values) reads words sequentially from counter + g * 256 (float64: g * 128), keeping
  Box-Muller values with |x| < 2.
- Every loop is free of Python objects and runs without the GIL above NOGIL_MIN elements; fills
  above PARALLEL_MIN elements are split over two threads (see "two threads" below).
- Speed: the block is scalar code, except the raw and uniform fills, which compute 8 blocks at
  once with AVX2 intrinsics when the CPU has them (chosen at run time; `_use_avx2` switches it
  for tests). Letting GCC vectorize 8 side-by-side scalar blocks measured slower than either.
"""

from libc.math cimport cos, cosf, log, sin, sinf, sqrt
from libc.stdint cimport int64_t, uint32_t, uint64_t

include "_common.pxi"
include "_fastmath.pxi"   # mtf_simd_level: the one CPU check, shared with elementwise.pyx

# Philox4x32 constants (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011),
# as C macros so that they stay unsigned 32-bit literals; TWO_PI is `2.0f * M_PI` as TensorFlow
# writes it (a double).
cdef extern from *:
    """
    #define PHILOX_M0 0xD2511F53u
    #define PHILOX_M1 0xCD9E8D57u
    #define PHILOX_W0 0x9E3779B9u
    #define PHILOX_W1 0xBB67AE85u
    #define PHILOX_TWO_PI 6.283185307179586
    """
    const uint32_t M0 "PHILOX_M0"
    const uint32_t M1 "PHILOX_M1"
    const uint32_t W0 "PHILOX_W0"
    const uint32_t W1 "PHILOX_W1"
    const double TWO_PI "PHILOX_TWO_PI"


# AVX2 path for the raw and uniform-float32 fills: 8 blocks per step, the 32x32->64 multiplies
# done 4 at a time by vpmuludq on even and odd lanes, then a 4x8 transpose to block order. Built
# for AVX2 by a function attribute and chosen at run time, so the extension still runs on any
# x86-64 (and compiles elsewhere, where philox_avx2_words does nothing).
cdef extern from *:
    """
    #if defined(__GNUC__) && defined(__x86_64__)
    #include <immintrin.h>

    __attribute__((target("avx2")))
    static inline __m256i philox_mulhilo(__m256i x, __m256i m, __m256i *lo) {
        __m256i even = _mm256_mul_epu32(x, m);
        __m256i odd = _mm256_mul_epu32(_mm256_srli_epi64(x, 32), m);
        *lo = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
        return _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
    }

    /* Words of blocks first .. first + 8 * chunks - 1 into out (uint32, or float32 in [0, 1)
       when as_float), in block order. */
    __attribute__((target("avx2")))
    static void philox_avx2_words(uint64_t key, uint64_t lo, uint64_t hi, uint64_t first,
                                  Py_ssize_t chunks, void *out, int as_float) {
        const __m256i m0 = _mm256_set1_epi32((int)PHILOX_M0), m1 = _mm256_set1_epi32((int)PHILOX_M1);
        const __m256i mant = _mm256_set1_epi32(0x7fffff), one = _mm256_set1_epi32(0x3f800000);
        uint32_t a[4][8];
        for (Py_ssize_t c = 0; c < chunks; c++) {
            for (int j = 0; j < 8; j++) {
                uint64_t l = lo + first + (uint64_t)c * 8 + (uint64_t)j, h = hi + (l < lo);
                a[0][j] = (uint32_t)l; a[1][j] = (uint32_t)(l >> 32);
                a[2][j] = (uint32_t)h; a[3][j] = (uint32_t)(h >> 32);
            }
            __m256i x0 = _mm256_loadu_si256((const __m256i *)a[0]);
            __m256i x1 = _mm256_loadu_si256((const __m256i *)a[1]);
            __m256i x2 = _mm256_loadu_si256((const __m256i *)a[2]);
            __m256i x3 = _mm256_loadu_si256((const __m256i *)a[3]);
            uint32_t k0 = (uint32_t)key, k1 = (uint32_t)(key >> 32);
            for (int r = 0; r < 10; r++) {
                __m256i lo0, lo1;
                __m256i hi0 = philox_mulhilo(x0, m0, &lo0), hi1 = philox_mulhilo(x2, m1, &lo1);
                x0 = _mm256_xor_si256(_mm256_xor_si256(hi1, x1), _mm256_set1_epi32((int)k0));
                x2 = _mm256_xor_si256(_mm256_xor_si256(hi0, x3), _mm256_set1_epi32((int)k1));
                x1 = lo1;
                x3 = lo0;
                k0 += PHILOX_W0;
                k1 += PHILOX_W1;
            }
            /* transpose: lanes j of x0..x3 are the 4 words of block j */
            __m256i t0 = _mm256_unpacklo_epi32(x0, x1), t1 = _mm256_unpackhi_epi32(x0, x1);
            __m256i t2 = _mm256_unpacklo_epi32(x2, x3), t3 = _mm256_unpackhi_epi32(x2, x3);
            __m256i u0 = _mm256_unpacklo_epi64(t0, t2), u1 = _mm256_unpackhi_epi64(t0, t2);
            __m256i u2 = _mm256_unpacklo_epi64(t1, t3), u3 = _mm256_unpackhi_epi64(t1, t3);
            __m256i o[4] = {_mm256_permute2x128_si256(u0, u1, 0x20),
                            _mm256_permute2x128_si256(u2, u3, 0x20),
                            _mm256_permute2x128_si256(u0, u1, 0x31),
                            _mm256_permute2x128_si256(u2, u3, 0x31)};
            for (int q = 0; q < 4; q++) {
                if (as_float) {
                    __m256 f = _mm256_castsi256_ps(_mm256_or_si256(_mm256_and_si256(o[q], mant), one));
                    _mm256_storeu_ps((float *)out + c * 32 + q * 8, _mm256_sub_ps(f, _mm256_set1_ps(1.0f)));
                } else {
                    _mm256_storeu_si256((__m256i *)((uint32_t *)out + c * 32 + q * 8), o[q]);
                }
            }
        }
    }
    #else
    static void philox_avx2_words(uint64_t key, uint64_t lo, uint64_t hi, uint64_t first,
                                  Py_ssize_t chunks, void *out, int as_float) {}
    #endif
    """
    void philox_avx2_words(uint64_t key, uint64_t lo, uint64_t hi, uint64_t first,
                           npy_intp chunks, void* out, int as_float) noexcept nogil

cdef bint HAVE_AVX2 = mtf_simd_level() >= 1


def _use_avx2(bint on):
    """Testing switch: take the AVX2 path (if the CPU has it) or the scalar one; returns the
    previous setting. Both paths give the same bits."""
    global HAVE_AVX2
    previous = HAVE_AVX2
    HAVE_AVX2 = on and mtf_simd_level() >= 1
    return previous


# ---------------------------------------------------------------- scalar math

cdef inline void _philox(uint32_t* c, uint32_t k0, uint32_t k1) noexcept nogil:
    """c <- Philox4x32-10(c, key): 10 rounds, the key bumped by (W0, W1) between rounds."""
    cdef uint32_t x0 = c[0], x1 = c[1], x2 = c[2], x3 = c[3], y0, y2
    cdef uint64_t p0, p1
    cdef int r
    for r in range(10):
        p0 = <uint64_t>M0 * x0
        p1 = <uint64_t>M1 * x2
        y0 = (<uint32_t>(p1 >> 32)) ^ x1 ^ k0
        y2 = (<uint32_t>(p0 >> 32)) ^ x3 ^ k1
        x0, x1, x2, x3 = y0, <uint32_t>p1, y2, <uint32_t>p0
        k0 = k0 + W0
        k1 = k1 + W1
    c[0], c[1], c[2], c[3] = x0, x1, x2, x3


cdef inline void _block(uint64_t key, uint64_t lo, uint64_t hi, uint64_t i,
                        uint32_t* c) noexcept nogil:
    """c <- philox(counter + i): the 128-bit add written branch-free (carry as a comparison)."""
    cdef uint64_t l = lo + i
    cdef uint64_t h = hi + (l < lo)
    c[0] = <uint32_t>l
    c[1] = <uint32_t>(l >> 32)
    c[2] = <uint32_t>h
    c[3] = <uint32_t>(h >> 32)
    _philox(c, <uint32_t>key, <uint32_t>(key >> 32))


cdef inline float _to_float(uint32_t x) noexcept nogil:
    """[0, 1): 23 random mantissa bits under exponent 0 give [1, 2), minus 1 (Uint32ToFloat)."""
    cdef _bits32 b
    b.u = (x & 0x7fffffu) | 0x3f800000u
    return b.f - <float>1.0


cdef inline double _to_double(uint32_t x0, uint32_t x1) noexcept nogil:
    """[0, 1) from 52 bits: the low 20 bits of x0 above the 32 of x1 (Uint64ToDouble)."""
    cdef _bits64 b
    b.u = ((<uint64_t>(x0 & 0xfffffu)) << 32) | x1 | 0x3ff0000000000000ULL
    return b.f - 1.0


cdef inline void _box_muller_f(uint32_t x0, uint32_t x1, float* f0, float* f1) noexcept nogil:
    """Two N(0, 1) floats (BoxMullerFloat): r = sqrt(-2 ln u1), u1 >= 1e-7 so that the log is
    finite; outputs r sin(2 pi u2), r cos(2 pi u2), the angle rounded to float as in TF."""
    cdef float u1 = _to_float(x0)
    if u1 < <float>1e-7:
        u1 = <float>1e-7
    cdef float v1 = <float>(TWO_PI * _to_float(x1))
    cdef float r = <float>sqrt(-2.0 * log(u1))
    # float sine and cosine of the float angle, as TF's sincosf (sinf/cosf: the same glibc code)
    f0[0] = sinf(v1) * r
    f1[0] = cosf(v1) * r


cdef inline void _box_muller_d(uint32_t x0, uint32_t x1, uint32_t x2, uint32_t x3,
                               double* d0, double* d1) noexcept nogil:
    """Two N(0, 1) doubles (BoxMullerDouble), u1 from (x0, x1) and the angle from (x2, x3)."""
    cdef double u1 = _to_double(x0, x1)
    if u1 < 1e-7:
        u1 = 1e-7
    cdef double v1 = TWO_PI * _to_double(x2, x3)
    cdef double r = sqrt(-2.0 * log(u1))
    d0[0] = sin(v1) * r
    d1[0] = cos(v1) * r


cdef struct _Stream:
    # One word at a time from successive blocks (TensorFlow's SingleSampleAdapter).
    uint64_t key, lo, hi, next_block
    uint32_t buf[4]
    int used


cdef inline void _stream_init(_Stream* s, uint64_t key, uint64_t lo, uint64_t hi,
                              uint64_t first_block) noexcept nogil:
    s.key, s.lo, s.hi, s.next_block, s.used = key, lo, hi, first_block, 4


cdef inline uint32_t _stream_next(_Stream* s) noexcept nogil:
    if s.used == 4:
        _block(s.key, s.lo, s.hi, s.next_block, s.buf)
        s.next_block += 1
        s.used = 0
    s.used += 1
    return s.buf[s.used - 1]


# ---------------------------------------------------------------- loops

cdef void _fill_u32(uint64_t key, uint64_t lo, uint64_t hi, void* out_,
                    npy_intp n) noexcept nogil:
    cdef uint32_t* out = <uint32_t*>out_
    cdef uint32_t c[4]
    cdef npy_intp i, j, full = n // 4, start = 0
    if HAVE_AVX2:
        start = full // 8 * 8
        philox_avx2_words(key, lo, hi, 0, full // 8, out, 0)
    for i in range(start, full):
        _block(key, lo, hi, i, c)
        out[4 * i], out[4 * i + 1], out[4 * i + 2], out[4 * i + 3] = c[0], c[1], c[2], c[3]
    if n > 4 * full:
        _block(key, lo, hi, full, c)
        for j in range(n - 4 * full):
            out[4 * full + j] = c[j]


cdef void _uniform_f(uint64_t key, uint64_t lo, uint64_t hi, void* out_,
                     npy_intp n) noexcept nogil:
    cdef float* out = <float*>out_
    cdef uint32_t c[4]
    cdef npy_intp i, j, full = n // 4, start = 0
    if HAVE_AVX2:
        start = full // 8 * 8
        philox_avx2_words(key, lo, hi, 0, full // 8, out, 1)
    for i in range(start, full):
        _block(key, lo, hi, i, c)
        out[4 * i] = _to_float(c[0])
        out[4 * i + 1] = _to_float(c[1])
        out[4 * i + 2] = _to_float(c[2])
        out[4 * i + 3] = _to_float(c[3])
    if n > 4 * full:
        _block(key, lo, hi, full, c)
        for j in range(n - 4 * full):
            out[4 * full + j] = _to_float(c[j])


cdef void _uniform_d(uint64_t key, uint64_t lo, uint64_t hi, void* out_,
                     npy_intp n) noexcept nogil:
    cdef double* out = <double*>out_
    cdef uint64_t* raw = <uint64_t*>out_
    cdef uint32_t c[4]
    cdef uint64_t v
    cdef npy_intp i, full = n // 2, start = 0
    if HAVE_AVX2:
        # raw words straight into the output (2 words fill one double's 8 bytes), then each
        # little-endian pair (w0 | w1 << 32) becomes Uint64ToDouble(w0, w1) in place
        start = full // 8 * 8
        philox_avx2_words(key, lo, hi, 0, full // 8, out, 0)
        for i in range(2 * start):
            v = raw[i]
            raw[i] = ((v & 0xfffffu) << 32) | (v >> 32) | 0x3ff0000000000000ULL
            out[i] = out[i] - 1.0
    for i in range(start, full):
        _block(key, lo, hi, i, c)
        out[2 * i] = _to_double(c[0], c[1])
        out[2 * i + 1] = _to_double(c[2], c[3])
    if n > 2 * full:
        _block(key, lo, hi, full, c)
        out[2 * full] = _to_double(c[0], c[1])


cdef void _normal_f(uint64_t key, uint64_t lo, uint64_t hi, void* out_,
                    npy_intp n) noexcept nogil:
    cdef float* out = <float*>out_
    cdef uint32_t c[4]
    cdef float f[4]
    cdef npy_intp i, j, full = n // 4
    for i in range(full):
        _block(key, lo, hi, i, c)
        _box_muller_f(c[0], c[1], &out[4 * i], &out[4 * i + 1])
        _box_muller_f(c[2], c[3], &out[4 * i + 2], &out[4 * i + 3])
    if n > 4 * full:
        _block(key, lo, hi, full, c)
        _box_muller_f(c[0], c[1], &f[0], &f[1])
        _box_muller_f(c[2], c[3], &f[2], &f[3])
        for j in range(n - 4 * full):
            out[4 * full + j] = f[j]


cdef void _normal_d(uint64_t key, uint64_t lo, uint64_t hi, void* out_,
                    npy_intp n) noexcept nogil:
    cdef double* out = <double*>out_
    cdef uint32_t c[4]
    cdef double d[2]
    cdef npy_intp i, full = n // 2
    for i in range(full):
        _block(key, lo, hi, i, c)
        _box_muller_d(c[0], c[1], c[2], c[3], &out[2 * i], &out[2 * i + 1])
    if n > 2 * full:
        _block(key, lo, hi, full, c)
        _box_muller_d(c[0], c[1], c[2], c[3], &d[0], &d[1])
        out[2 * full] = d[0]


cdef void _truncated_f(uint64_t key, uint64_t lo, uint64_t hi, void* out_,
                       npy_intp n) noexcept nogil:
    cdef float* out = <float*>out_
    cdef _Stream s
    cdef float f[2]
    cdef uint32_t x0, x1
    cdef npy_intp g, idx, k
    for g in range((n + 3) // 4):
        _stream_init(&s, key, lo, hi, <uint64_t>g * 256)
        idx = 4 * g
        k = 0
        while k < 4 and idx + k < n:
            # two statements: C leaves the order of evaluating arguments unspecified
            x0 = _stream_next(&s)
            x1 = _stream_next(&s)
            _box_muller_f(x0, x1, &f[0], &f[1])
            # TF keeps f[0] then f[1], each if inside the cut, and stops once the group is full
            if f[0] < 2 and f[0] > -2:
                out[idx + k] = f[0]
                k += 1
                if k == 4 or idx + k == n:
                    break
            if f[1] < 2 and f[1] > -2:
                out[idx + k] = f[1]
                k += 1


cdef void _truncated_d(uint64_t key, uint64_t lo, uint64_t hi, void* out_,
                       npy_intp n) noexcept nogil:
    cdef double* out = <double*>out_
    cdef _Stream s
    cdef double d[2]
    cdef uint32_t x0, x1, x2, x3
    cdef npy_intp g, idx, k
    for g in range((n + 1) // 2):
        _stream_init(&s, key, lo, hi, <uint64_t>g * 128)
        idx = 2 * g
        k = 0
        while k < 2 and idx + k < n:
            x0 = _stream_next(&s)
            x1 = _stream_next(&s)
            x2 = _stream_next(&s)
            x3 = _stream_next(&s)
            _box_muller_d(x0, x1, x2, x3, &d[0], &d[1])
            if d[0] < 2 and d[0] > -2:
                out[idx + k] = d[0]
                k += 1
                if k == 2 or idx + k == n:
                    break
            if d[1] < 2 and d[1] > -2:
                out[idx + k] = d[1]
                k += 1


cdef void _permutation(uint64_t key, uint64_t lo, uint64_t hi, int64_t* out,
                       npy_intp n) noexcept nogil:
    """TensorFlow's RandomShuffle: for i < n - 1 swap i with i + word % (n - i)."""
    cdef _Stream s
    cdef npy_intp i, j
    cdef int64_t t
    _stream_init(&s, key, lo, hi, 0)
    for i in range(n):
        out[i] = i
    for i in range(n - 1):
        j = i + _stream_next(&s) % <uint32_t>(n - i)
        t = out[i]
        out[i] = out[j]
        out[j] = t


# ---------------------------------------------------------------- two threads for large fills
#
# Every fill is a pure function of the counter, so a large output is cut in two at a group
# boundary and the second half runs on a second thread with the counter advanced by the blocks
# the first half owns: the values do not depend on the split. Plain pthreads (in glibc since
# 2.34), joined before returning, so no thread pool outlives the call (fork stays safe).

cdef extern from "<pthread.h>" nogil:
    ctypedef struct pthread_t:
        pass
    int pthread_create(pthread_t* thread, const void* attr, void* (*start)(void*) noexcept nogil,
                       void* arg)
    int pthread_join(pthread_t thread, void** retval)

ctypedef void (*_fill_fn)(uint64_t, uint64_t, uint64_t, void*, npy_intp) noexcept nogil

cdef struct _Job:
    _fill_fn fn
    uint64_t key, lo, hi
    char* out
    npy_intp n

# Below this many elements one thread does it all (starting a thread costs ~20 us).
cdef npy_intp PARALLEL_MIN = 1 << 18


cdef void* _job_main(void* arg) noexcept nogil:
    cdef _Job* j = <_Job*>arg
    j.fn(j.key, j.lo, j.hi, j.out, j.n)
    return NULL


cdef void _fill(_fill_fn fn, uint64_t key, uint64_t lo, uint64_t hi, char* out, npy_intp n,
                npy_intp itemsize, npy_intp group, uint64_t blocks_per_group) noexcept nogil:
    """fn over out[0:n]; above PARALLEL_MIN, the second half (whole groups of `group` outputs,
    each using `blocks_per_group` counter values) on a second thread."""
    cdef _Job second
    cdef pthread_t thread
    cdef npy_intp half
    cdef uint64_t skip
    if n < PARALLEL_MIN:
        fn(key, lo, hi, out, n)
        return
    half = n // 2 // group * group
    skip = <uint64_t>(half // group) * blocks_per_group
    second.fn, second.key, second.n = fn, key, n - half
    second.lo = lo + skip
    second.hi = hi + (second.lo < lo)
    second.out = out + half * itemsize
    if pthread_create(&thread, NULL, _job_main, &second) != 0:
        fn(key, lo, hi, out, n)  # no thread available: do it all here
        return
    fn(key, lo, hi, out, half)
    pthread_join(thread, NULL)


# ---------------------------------------------------------------- def wrappers

cdef inline npy_intp _out(str fn, cnp.ndarray out, int typenum, str want) except -1:
    """Check out (dtype, native order, aligned, C-contiguous, writable); return its size."""
    if cnp.PyArray_TYPE(out) != typenum or not cnp.PyArray_ISNOTSWAPPED(out):
        raise TypeError(f"{fn}: out must be {want}, got {out.dtype}")
    if not (cnp.PyArray_ISALIGNED(out) and cnp.PyArray_IS_C_CONTIGUOUS(out)):
        raise ValueError(f"{fn}: out must be aligned and C-contiguous")
    if not cnp.PyArray_ISWRITEABLE(out):
        raise ValueError(f"{fn}: out is read-only")
    return cnp.PyArray_SIZE(out)


cdef _run(_fill_fn fn, uint64_t key, uint64_t ctr_lo, uint64_t ctr_hi, cnp.ndarray out,
          npy_intp n, npy_intp group, uint64_t blocks_per_group):
    cdef char* p = <char*>cnp.PyArray_DATA(out)
    cdef npy_intp itemsize = cnp.PyArray_ITEMSIZE(out)
    if n >= NOGIL_MIN:
        with nogil:
            _fill(fn, key, ctr_lo, ctr_hi, p, n, itemsize, group, blocks_per_group)
    else:
        fn(key, ctr_lo, ctr_hi, p, n)


cdef _float_kernel(str fn, _fill_fn ff, _fill_fn fd, uint64_t key, uint64_t ctr_lo,
                   uint64_t ctr_hi, cnp.ndarray out, uint64_t blocks_f, uint64_t blocks_d):
    """Dispatch on out's dtype: float32 groups of 4 outputs using blocks_f counters each,
    float64 groups of 2 using blocks_d."""
    cdef int t = _float_typenum(fn, "out", out)
    cdef npy_intp n = _out(fn, out, t, "float32 or float64")
    if t == cnp.NPY_FLOAT:
        _run(ff, key, ctr_lo, ctr_hi, out, n, 4, blocks_f)
    else:
        _run(fd, key, ctr_lo, ctr_hi, out, n, 2, blocks_d)


def philox_uint32(uint64_t key, uint64_t ctr_lo, uint64_t ctr_hi, cnp.ndarray out not None):
    """out <- the raw words of blocks philox(ctr + i, key), 4 per block; returns None.

    key     # IN  k0 | k1 << 32
    ctr_*   # IN  counter words 0-1 (ctr_lo) and 2-3 (ctr_hi)
    out     # OUT uint32, any shape; a partial last block fills what fits
    """
    cdef npy_intp n = _out("philox_uint32", out, cnp.NPY_UINT32, "uint32")
    _run(_fill_u32, key, ctr_lo, ctr_hi, out, n, 4, 1)


def philox_uniform(uint64_t key, uint64_t ctr_lo, uint64_t ctr_hi, cnp.ndarray out not None):
    """out <- uniform [0, 1) as TensorFlow: float32 from 23 bits of each word (4 per block),
    float64 from 52 bits of each word pair (2 per block); returns None."""
    _float_kernel("philox_uniform", _uniform_f, _uniform_d, key, ctr_lo, ctr_hi, out, 1, 1)


def philox_normal(uint64_t key, uint64_t ctr_lo, uint64_t ctr_hi, cnp.ndarray out not None):
    """out <- N(0, 1) by TensorFlow's Box-Muller (float32: 4 per block, float64: 2)."""
    _float_kernel("philox_normal", _normal_f, _normal_d, key, ctr_lo, ctr_hi, out, 1, 1)


def philox_truncated_normal(uint64_t key, uint64_t ctr_lo, uint64_t ctr_hi,
                            cnp.ndarray out not None):
    """out <- N(0, 1) cut to (-2, 2) by rejection; output group g (4 float32 or 2 float64)
    reads from counter + 256 g (float64: 128 g), TensorFlow's reserved 256 words per output."""
    _float_kernel("philox_truncated_normal", _truncated_f, _truncated_d, key, ctr_lo, ctr_hi,
                  out, 256, 128)


def philox_permutation(uint64_t key, uint64_t ctr_lo, uint64_t ctr_hi, cnp.ndarray out not None):
    """out <- TensorFlow's RandomShuffle permutation of range(out.size) (int64); returns None."""
    cdef npy_intp n = _out("philox_permutation", out, cnp.NPY_INT64, "int64")
    if n >= 2 ** 32:
        raise ValueError("philox_permutation: at most 2**32 - 1 elements")
    cdef int64_t* p = <int64_t*>cnp.PyArray_DATA(out)
    with nogil:
        _permutation(key, ctr_lo, ctr_hi, p, n)

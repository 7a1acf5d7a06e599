# cython: language_level=3
"""Elementwise kernels (add with row/scalar broadcast, its reduction, sigmoid); imports nothing of microtf.

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
  takes a small exp of our own (_fastmath.pxi, shared with nn.pyx): one pass, ~1 ulp, exact at
  the limits.
"""

cimport cython
from cython cimport floating
from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t

include "_common.pxi"
include "_fastmath.pxi"


# ---------------------------------------------------------------- scalar math
#
# exp(-a) and the bit-cast unions come from _fastmath.pxi (why an exp of our own is explained
# there). Sigmoid needs e = exp(-a) for a = |x| >= 0, with |x| clamped to 110 (NaN kept) first.
# The sign select is written as integer masks too: under the default -ftrapping-math the
# compiler will not turn a float select into a blend, so a branchy loop mispredicts on mixed
# signs and does not vectorize.


cdef inline float _sigmoid_f(float x) noexcept nogil:
    """1 / (1 + exp(-x)) without overflow: with e = exp(-|x|) in [0, 1] and r = 1 / (1 + e),
    sigmoid(x) = r for x >= 0 and e * r for x < 0. Exact 0 at -inf and 1 at +inf (|x| is
    clamped to 110, where e rounds to 0); NaN flows through the arithmetic.
    """
    cdef _bits32 xb, ab, rb, eb, ob
    xb.f = x
    cdef uint32_t au = xb.u & 0x7FFFFFFF
    # Clamp |x| to 110 unless it is NaN; masks from sign shifts, not comparisons (see above).
    cdef uint32_t over = <uint32_t>(<int32_t>(0x42DC0000 - au) >> 31)   # |x| > 110.0f
    cdef uint32_t fin = <uint32_t>(<int32_t>(au - 0x7F800001) >> 31)    # |x| <= inf
    cdef uint32_t m = over & fin
    ab.u = (au & ~m) | (0x42DC0000 & m)
    cdef float e = _exp_neg_f(ab.f)
    cdef float r = <float>1.0 / (<float>1.0 + e)
    rb.f = r
    eb.f = e * r
    cdef uint32_t neg = <uint32_t>(xb.i >> 31)   # all ones when the sign bit is set
    ob.u = (rb.u & ~neg) | (eb.u & neg)
    return ob.f


cdef inline double _sigmoid_d(double x) noexcept nogil:
    """As _sigmoid_f, with |x| clamped to 750."""
    cdef _bits64 xb, ab, rb, eb, ob
    xb.f = x
    cdef uint64_t au = xb.u & 0x7FFFFFFFFFFFFFFFULL
    # Masks as 0 - (top bit): logical shifts only (see nk in _exp_neg_d, _fastmath.pxi).
    cdef uint64_t over = (0x4087700000000000ULL - au) >> 63            # |x| > 750.0
    cdef uint64_t fin = (au - 0x7FF0000000000001ULL) >> 63             # |x| <= inf
    cdef uint64_t m = 0 - (over & fin)
    ab.u = (au & ~m) | (0x4087700000000000ULL & m)
    cdef double e = _exp_neg_d(ab.f)
    cdef double r = 1.0 / (1.0 + e)
    rb.f = r
    eb.f = e * r
    cdef uint64_t neg = 0 - (xb.u >> 63)
    ob.u = (rb.u & ~neg) | (eb.u & neg)
    return ob.f


cdef inline floating _sigmoid(floating x) noexcept nogil:
    if floating is float:
        return _sigmoid_f(x)
    else:
        return _sigmoid_d(x)


# ---------------------------------------------------------------- array loops

cdef void _add(const floating* a, const floating* b, floating* out,
               npy_intp n, npy_intp nb) noexcept nogil:
    """out[i] = a[i] + b[i % nb]; requires nb >= 1 and n % nb == 0."""
    cdef npy_intp i, j, r
    cdef floating s
    cdef const floating* ar
    cdef floating* outr
    if nb == n:
        for i in range(n):
            out[i] = a[i] + b[i]
    elif nb == 1:
        s = b[0]  # read before the loop: out may be b when n == 1 (then nb == n above anyway)
        for i in range(n):
            out[i] = a[i] + s
    else:
        for r in range(n // nb):
            ar = a + r * nb
            outr = out + r * nb
            for j in range(nb):
                outr[j] = ar[j] + b[j]


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


cdef void _sum_rows(const floating* dy, floating* out, npy_intp n, npy_intp nb) noexcept nogil:
    """out[j] = sum over rows r of dy[r * nb + j]; requires nb >= 1 and n % nb == 0, n >= nb.

    Row by row, in the input dtype: the inner loop over j is contiguous and vectorizes, and the
    rounding matches numpy's sum(axis=0). The first row is copied, not added to a zero, so that
    -0.0 survives and out may be dy itself when there is only one row.
    """
    cdef npy_intp r, j
    cdef const floating* row
    if nb == 1:
        out[0] = _pairwise_sum(dy, n)
        return
    for j in range(nb):
        out[j] = dy[j]
    for r in range(1, n // nb):
        row = dy + r * nb
        for j in range(nb):
            out[j] = out[j] + row[j]


cdef void _sigmoid_loop(const floating* x, floating* out, npy_intp n) noexcept nogil:
    cdef npy_intp i
    for i in range(n):
        out[i] = _sigmoid(x[i])


cdef void _sigmoid_backward(const floating* y, const floating* dy, floating* out,
                            npy_intp n) noexcept nogil:
    cdef npy_intp i
    for i in range(n):
        out[i] = dy[i] * y[i] * (1 - y[i])


cdef void _fill_zero(floating* out, npy_intp n) noexcept nogil:
    cdef npy_intp i
    for i in range(n):
        out[i] = 0


# ---------------------------------------------------------------- dtype dispatch
# One nogil entry per kernel so the wrappers can call it with or without the GIL.

cdef void _add_any(int t, void* a, void* b, void* out, npy_intp n, npy_intp nb) noexcept nogil:
    if t == cnp.NPY_FLOAT:
        _add(<const float*>a, <const float*>b, <float*>out, n, nb)
    else:
        _add(<const double*>a, <const double*>b, <double*>out, n, nb)


cdef void _sum_rows_any(int t, void* dy, void* out, npy_intp n, npy_intp nb) noexcept nogil:
    if t == cnp.NPY_FLOAT:
        _sum_rows(<const float*>dy, <float*>out, n, nb)
    else:
        _sum_rows(<const double*>dy, <double*>out, n, nb)


cdef void _sigmoid_any(int t, void* x, void* out, npy_intp n) noexcept nogil:
    if t == cnp.NPY_FLOAT:
        _sigmoid_loop(<const float*>x, <float*>out, n)
    else:
        _sigmoid_loop(<const double*>x, <double*>out, n)


cdef void _sigmoid_backward_any(int t, void* y, void* dy, void* out, npy_intp n) noexcept nogil:
    if t == cnp.NPY_FLOAT:
        _sigmoid_backward(<const float*>y, <const float*>dy, <float*>out, n)
    else:
        _sigmoid_backward(<const double*>y, <const double*>dy, <double*>out, n)


# ---------------------------------------------------------------- def wrappers

def add(cnp.ndarray a not None, cnp.ndarray b not None, cnp.ndarray out not None):
    """out[i] = a[i] + b[i % nb] over the flat C-order views; returns None.

    a    # IN  size n
    b    # IN  size nb: nb == n (same shape), nb == row length (bias row), or nb == 1 (scalar);
         #     nb >= 1 must divide n unless n == 0 (then nothing is done)
    out  # OUT size n; may be a (or b when nb == n) for an in-place add
    Same float dtype everywhere, C-contiguous. TypeError on dtypes, ValueError otherwise.
    """
    cdef int t = _float_typenum("add", "a", a)
    _check("add", "a", a, t, False)
    _check("add", "b", b, t, False)
    _check("add", "out", out, t, True)
    cdef npy_intp n = cnp.PyArray_SIZE(a)
    cdef npy_intp nb = cnp.PyArray_SIZE(b)
    if cnp.PyArray_SIZE(out) != n:
        raise ValueError(f"add: out must have the size of a ({_shape(a)}), got {_shape(out)}")
    if n == 0:
        return None
    if nb == 0 or n % nb != 0:
        raise ValueError(
            f"add: the size of b {_shape(b)} must divide the size of a {_shape(a)} "
            "(same shape, a trailing row, or a scalar)")
    _overlap("add", out, "out", a, "a", True)
    _overlap("add", out, "out", b, "b", True)
    cdef void* pa = cnp.PyArray_DATA(a)
    cdef void* pb = cnp.PyArray_DATA(b)
    cdef void* po = cnp.PyArray_DATA(out)
    if n >= NOGIL_MIN:
        with nogil:
            _add_any(t, pa, pb, po, n, nb)
    else:
        _add_any(t, pa, pb, po, n, nb)
    return None


def sum_rows(cnp.ndarray dy not None, cnp.ndarray out not None):
    """out[j] = sum_r dy[r * nb + j], the gradient of the bias row in `add`; returns None.

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
        return None
    if nb == 0 or n % nb != 0:
        raise ValueError(
            f"sum_rows: the size of out {_shape(out)} must divide the size of dy {_shape(dy)}")
    _overlap("sum_rows", out, "out", dy, "dy", True)
    if n >= NOGIL_MIN:
        with nogil:
            _sum_rows_any(t, pd, po, n, nb)
    else:
        _sum_rows_any(t, pd, po, n, nb)
    return None


def sigmoid(cnp.ndarray x not None, cnp.ndarray out not None):
    """out = 1 / (1 + exp(-x)) in one stable pass; returns None.

    x    # IN  any shape
    out  # OUT size of x; may be x (in place)
    Exact 0.0 at -inf and 1.0 at +inf, NaN propagates, no overflow for any finite x.
    """
    cdef int t = _float_typenum("sigmoid", "x", x)
    _check("sigmoid", "x", x, t, False)
    _check("sigmoid", "out", out, t, True)
    cdef npy_intp n = cnp.PyArray_SIZE(x)
    if cnp.PyArray_SIZE(out) != n:
        raise ValueError(f"sigmoid: out must have the size of x ({_shape(x)}), got {_shape(out)}")
    _overlap("sigmoid", out, "out", x, "x", True)
    cdef void* px = cnp.PyArray_DATA(x)
    cdef void* po = cnp.PyArray_DATA(out)
    if n >= NOGIL_MIN:
        with nogil:
            _sigmoid_any(t, px, po, n)
    else:
        _sigmoid_any(t, px, po, n)
    return None


def sigmoid_backward(cnp.ndarray y not None, cnp.ndarray dy not None, cnp.ndarray out not None):
    """out = dy * y * (1 - y), the sigmoid gradient from the saved forward output y; returns None.

    y    # IN  sigmoid output
    dy   # IN  upstream gradient, size of y
    out  # OUT size of y; may be y or dy (in place)
    """
    cdef int t = _float_typenum("sigmoid_backward", "y", y)
    _check("sigmoid_backward", "y", y, t, False)
    _check("sigmoid_backward", "dy", dy, t, False)
    _check("sigmoid_backward", "out", out, t, True)
    cdef npy_intp n = cnp.PyArray_SIZE(y)
    if cnp.PyArray_SIZE(dy) != n or cnp.PyArray_SIZE(out) != n:
        raise ValueError(
            f"sigmoid_backward: y, dy and out must have one size, "
            f"got shapes {_shape(y)}, {_shape(dy)}, {_shape(out)}")
    _overlap("sigmoid_backward", out, "out", y, "y", True)
    _overlap("sigmoid_backward", out, "out", dy, "dy", True)
    cdef void* py = cnp.PyArray_DATA(y)
    cdef void* pd = cnp.PyArray_DATA(dy)
    cdef void* po = cnp.PyArray_DATA(out)
    if n >= NOGIL_MIN:
        with nogil:
            _sigmoid_backward_any(t, py, pd, po, n)
    else:
        _sigmoid_backward_any(t, py, pd, po, n)
    return None

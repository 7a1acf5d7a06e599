# cython: language_level=3
"""Neural-network kernels (relu, softmax cross-entropies); imports nothing of microtf.

Design:
- Same layering as elementwise.pyx: scalar or row loops on raw pointers (`noexcept nogil`), then
  one thin def wrapper per kernel that validates with numpy's C API (_common.pxi) and dispatches
  on the dtype number. Loops over fewer than NOGIL_MIN elements keep the GIL.
- relu and its backward are integer bit tests on the float's bits: the select becomes an AND
  with a mask, which GCC vectorizes (a float compare-and-select is not if-converted under the
  default -ftrapping-math) and which keeps NaN exactly as numpy's maximum does.
- The cross-entropies see logits as rows of `n` classes in C order (the caller moves the class
  axis last). Per row: one sweep for the max, one for exp(x - max) written straight into
  `backprop` while summing, one for the loss and the normalization; numpy's version makes about
  ten full-size temporaries for the same result. Sums accumulate in double. IEEE results
  (nan for a row holding +inf, -inf logits) match numpy's formula, and C raises no warnings.
"""

cimport cython
from cython cimport floating
from libc.math cimport exp, log, INFINITY
from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t

include "_common.pxi"
include "_fastmath.pxi"


# ---------------------------------------------------------------- relu
#
# On the bits u of a float32: negative non-NaN values are u in [0x80000000, 0xFF800000] (-0.0
# to -inf), so (u - 0x80000000) <= 0x7F800000 unsigned; positive non-NaN non-zero values are u
# in [1, 0x7F800000], so (u - 1) < 0x7F800000 unsigned. float64 is the same with 64-bit constants.

cdef void _relu32(const uint32_t* x, uint32_t* out, npy_intp n) noexcept nogil:
    cdef npy_intp i
    cdef uint32_t u
    for i in range(n):
        u = x[i]
        out[i] = u & ((<uint32_t>((u - 0x80000000U) <= 0x7F800000U)) - 1U)


cdef void _relu64(const uint64_t* x, uint64_t* out, npy_intp n) noexcept nogil:
    cdef npy_intp i
    cdef uint64_t u
    for i in range(n):
        u = x[i]
        out[i] = u & ((<uint64_t>((u - 0x8000000000000000ULL) <= 0x7FF0000000000000ULL)) - 1ULL)


cdef void _relu_backward32(const uint32_t* y, const uint32_t* dy, uint32_t* out,
                           npy_intp n) noexcept nogil:
    cdef npy_intp i
    for i in range(n):
        out[i] = dy[i] & (0U - <uint32_t>((y[i] - 1U) < 0x7F800000U))


cdef void _relu_backward64(const uint64_t* y, const uint64_t* dy, uint64_t* out,
                           npy_intp n) noexcept nogil:
    cdef npy_intp i
    for i in range(n):
        out[i] = dy[i] & (0ULL - <uint64_t>((y[i] - 1ULL) < 0x7FF0000000000000ULL))


# ---------------------------------------------------------------- softmax cross-entropy rows
#
# float32 rows take exp(-a) from _fastmath.pxi (shared with elementwise.pyx's sigmoid):
# numpy's float32 exp is SIMD, libm's expf is an opaque call (~4 ns, never vectorized without
# -ffast-math), and on 1000-class rows the exponentials are most of the work. exp(x - max) only
# needs exp(-a) for a = max - x >= 0; _exp_neg_f wants a in [0, 110], so a is bounded first
# with integer bit operations: the sign is cleared (max = -0.0 against x = +0.0 gives a = -0.0)
# and a is clamped to 110 (a finite row can still give max - x = inf; exp(-110) rounds to 0).
# Results keep subnormals, as numpy's exp. Rows holding inf or nan, and float64, take the libm
# path, which mirrors numpy's formula exactly.

cdef inline float _exp_neg_clamped_f(float a) noexcept nogil:
    """exp(-|a|) for a not NaN (+-0, +-inf included): _exp_neg_f on min(|a|, 110)."""
    cdef _bits32 ab
    ab.f = a
    ab.u = ab.u & 0x7FFFFFFFU                                           # |a|
    ab.u = ab.u if ab.u < 0x42DC0000U else 0x42DC0000U                 # min(|a|, 110.0f)
    return _exp_neg_f(ab.f)


cdef inline double _sum(const floating* v, npy_intp n) noexcept nogil:
    """Sum in double with four accumulators (independent add chains; no -ffast-math needed)."""
    cdef double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
    cdef npy_intp j = 0
    while j + 4 <= n:
        s0 += v[j]
        s1 += v[j + 1]
        s2 += v[j + 2]
        s3 += v[j + 3]
        j += 4
    while j < n:
        s0 += v[j]
        j += 1
    return (s0 + s1) + (s2 + s3)


cdef inline double _label_dot(const floating* z, const floating* x, double lse,
                              npy_intp n) noexcept nogil:
    """sum(z * (lse - x)) in double, four accumulators: 0 * inf = nan as in numpy."""
    cdef double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
    cdef npy_intp j = 0
    while j + 4 <= n:
        s0 += z[j] * (lse - x[j])
        s1 += z[j + 1] * (lse - x[j + 1])
        s2 += z[j + 2] * (lse - x[j + 2])
        s3 += z[j + 3] * (lse - x[j + 3])
        j += 4
    while j < n:
        s0 += z[j] * (lse - x[j])
        j += 1
    return (s0 + s1) + (s2 + s3)


cdef inline floating _row_max(const floating* x, npy_intp n) noexcept nogil:
    """max(x) ignoring nan (-inf for n = 0). Four running maxima: each compare-and-keep is a
    maxss with 4 cycles of latency, so one chain would cost 4 cycles per element."""
    cdef floating m0 = -INFINITY, m1 = -INFINITY, m2 = -INFINITY, m3 = -INFINITY
    cdef npy_intp j = 0
    while j + 4 <= n:
        m0 = x[j] if x[j] > m0 else m0
        m1 = x[j + 1] if x[j + 1] > m1 else m1
        m2 = x[j + 2] if x[j + 2] > m2 else m2
        m3 = x[j + 3] if x[j + 3] > m3 else m3
        j += 4
    while j < n:
        m0 = x[j] if x[j] > m0 else m0
        j += 1
    m0 = m1 if m1 > m0 else m0
    m2 = m3 if m3 > m2 else m2
    return m2 if m2 > m0 else m0


cdef inline bint _all_finite_f(const float* x, npy_intp n) noexcept nogil:
    """No inf or nan in x: an OR over exponent-bit tests, no float add chain (vectorizes)."""
    cdef const uint32_t* u = <const uint32_t*>x
    cdef uint32_t bad = 0
    cdef npy_intp j
    for j in range(n):
        bad |= <uint32_t>((u[j] & 0x7F800000U) == 0x7F800000U)
    return bad == 0


cdef inline double _exp_row(const floating* x, floating* e, npy_intp n,
                            double* lse) noexcept nogil:
    """e = exp(x - max(x)); returns 1 / sum(e) and sets lse = log(sum(e)) + max(x), the row's
    log-sum-exp (loss terms are lse - x). An empty row gives lse = -inf (log 0), as numpy."""
    cdef npy_intp j
    cdef floating mx = _row_max(x, n)
    cdef double total = 0.0
    cdef double v
    cdef double m = mx
    if floating is float:
        if n and _all_finite_f(x, n):
            for j in range(n):
                e[j] = _exp_neg_clamped_f(mx - x[j])
            total = _sum(e, n)
            lse[0] = log(total) + m
            return 1.0 / total
    for j in range(n):
        # x - max: a row holding +inf gives inf - inf = nan, as numpy and TensorFlow.
        v = exp(<double>x[j] - m)
        e[j] = <floating>v
        total += v
    lse[0] = log(total) + m if n else -INFINITY
    return 1.0 / total if n else 0.0


cdef void _xent_rows(const floating* x, const floating* z, floating* loss, floating* bp,
                     npy_intp rows, npy_intp n) noexcept nogil:
    cdef npy_intp r, j
    cdef double lse, inv
    cdef floating* e
    cdef floating finv
    for r in range(rows):
        e = bp + r * n
        inv = _exp_row(x + r * n, e, n, &lse)
        loss[r] = <floating>_label_dot(z + r * n, x + r * n, lse, n)
        finv = <floating>inv
        for j in range(n):
            e[j] = e[j] * finv - z[r * n + j]


cdef npy_intp _sparse_xent_rows(const floating* x, const int64_t* labels, floating* loss,
                                floating* bp, npy_intp rows, npy_intp n) noexcept nogil:
    """Returns the first row whose label is outside [0, n), or -1; such rows are not written
    past (the caller raises)."""
    cdef npy_intp r, j
    cdef int64_t k
    cdef double lse, inv
    cdef floating* e
    cdef floating finv
    for r in range(rows):
        k = labels[r]
        if k < 0 or k >= n:
            return r
        e = bp + r * n
        inv = _exp_row(x + r * n, e, n, &lse)
        finv = <floating>inv
        for j in range(n):
            e[j] = e[j] * finv
        e[k] -= 1
        loss[r] = <floating>(lse - x[r * n + k])
    return -1


cdef void _softmax_rows(const floating* x, floating* y, npy_intp rows,
                        npy_intp n) noexcept nogil:
    cdef npy_intp r, j
    cdef double lse
    cdef floating finv
    for r in range(rows):
        finv = <floating>_exp_row(x + r * n, y + r * n, n, &lse)
        for j in range(n):
            y[r * n + j] *= finv


# ---------------------------------------------------------------- dtype dispatch

cdef void _relu_any(int t, void* x, void* out, npy_intp n) noexcept nogil:
    if t == cnp.NPY_FLOAT:
        _relu32(<const uint32_t*>x, <uint32_t*>out, n)
    else:
        _relu64(<const uint64_t*>x, <uint64_t*>out, n)


cdef void _relu_backward_any(int t, void* y, void* dy, void* out, npy_intp n) noexcept nogil:
    if t == cnp.NPY_FLOAT:
        _relu_backward32(<const uint32_t*>y, <const uint32_t*>dy, <uint32_t*>out, n)
    else:
        _relu_backward64(<const uint64_t*>y, <const uint64_t*>dy, <uint64_t*>out, n)


cdef void _xent_any(int t, void* x, void* z, void* loss, void* bp, npy_intp rows,
                    npy_intp n) noexcept nogil:
    if t == cnp.NPY_FLOAT:
        _xent_rows(<const float*>x, <const float*>z, <float*>loss, <float*>bp, rows, n)
    else:
        _xent_rows(<const double*>x, <const double*>z, <double*>loss, <double*>bp, rows, n)


cdef npy_intp _sparse_xent_any(int t, void* x, const int64_t* z, void* loss, void* bp,
                               npy_intp rows, npy_intp n) noexcept nogil:
    if t == cnp.NPY_FLOAT:
        return _sparse_xent_rows(<const float*>x, z, <float*>loss, <float*>bp, rows, n)
    return _sparse_xent_rows(<const double*>x, z, <double*>loss, <double*>bp, rows, n)


cdef void _softmax_any(int t, void* x, void* y, npy_intp rows, npy_intp n) noexcept nogil:
    if t == cnp.NPY_FLOAT:
        _softmax_rows(<const float*>x, <float*>y, rows, n)
    else:
        _softmax_rows(<const double*>x, <double*>y, rows, n)


# ---------------------------------------------------------------- def wrappers

cdef npy_intp _same_size(str fn, list names, list arrays, int t) except -1:
    """Checks every array (last one written) against dtype t and the first one's size."""
    cdef npy_intp n = cnp.PyArray_SIZE(arrays[0])
    cdef int k
    for k in range(len(arrays)):
        _check(fn, names[k], arrays[k], t, k == len(arrays) - 1)
        if cnp.PyArray_SIZE(arrays[k]) != n:
            raise ValueError(f"{fn}: {names[k]} must have the size of {names[0]} "
                             f"({_shape(arrays[0])}), got {_shape(arrays[k])}")
    return n


def relu_forward(cnp.ndarray x not None, cnp.ndarray out not None):
    """out = max(x, 0) in one pass (NaN stays NaN); returns None.

    x    # IN  float32/float64, any shape
    out  # OUT size of x; may be x (in place)
    """
    cdef int t = _float_typenum("relu_forward", "x", x)
    cdef npy_intp n = _same_size("relu_forward", ["x", "out"], [x, out], t)
    _overlap("relu_forward", out, "out", x, "x", True)
    cdef void* px = cnp.PyArray_DATA(x)
    cdef void* po = cnp.PyArray_DATA(out)
    if n >= NOGIL_MIN:
        with nogil:
            _relu_any(t, px, po, n)
    else:
        _relu_any(t, px, po, n)
    return None


def relu_backward(cnp.ndarray y not None, cnp.ndarray dy not None, cnp.ndarray out not None):
    """out = dy where y > 0 else 0 (so relu'(0) = 0, and 0 where y is NaN); returns None.

    y    # IN  relu output (or its input: the test y > 0 is the same)
    dy   # IN  upstream gradient, size of y
    out  # OUT size of y; may be dy (in place)
    """
    cdef int t = _float_typenum("relu_backward", "y", y)
    cdef npy_intp n = _same_size("relu_backward", ["y", "dy", "out"], [y, dy, out], t)
    _overlap("relu_backward", out, "out", y, "y", True)
    _overlap("relu_backward", out, "out", dy, "dy", True)
    cdef void* py = cnp.PyArray_DATA(y)
    cdef void* pd = cnp.PyArray_DATA(dy)
    cdef void* po = cnp.PyArray_DATA(out)
    if n >= NOGIL_MIN:
        with nogil:
            _relu_backward_any(t, py, pd, po, n)
    else:
        _relu_backward_any(t, py, pd, po, n)
    return None


cdef npy_intp _rows(str fn, cnp.ndarray logits, cnp.ndarray loss, npy_intp n) except -1:
    """Number of rows of n classes; checks that loss holds one value per row."""
    if n < 0:
        raise ValueError(f"{fn}: num_classes must be >= 0, got {n}")
    cdef npy_intp size = cnp.PyArray_SIZE(logits)
    cdef npy_intp rows = cnp.PyArray_SIZE(loss)
    if size != rows * n:
        raise ValueError(f"{fn}: logits {_shape(logits)} must hold loss.size={rows} rows of "
                         f"{n} classes")
    return rows


def softmax_xent_forward(cnp.ndarray logits not None, cnp.ndarray labels not None,
                         cnp.ndarray loss not None, cnp.ndarray backprop not None,
                         npy_intp num_classes):
    """Per row: loss = sum(labels * (logsumexp(logits) - logits)) and
    backprop = softmax(logits) - labels, in one pass over each row; returns None.

    logits    # IN  rows x num_classes, C order (class axis last)
    labels    # IN  size of logits
    loss      # OUT one value per row
    backprop  # OUT size of logits; must not share memory with logits or labels
    """
    fn = "softmax_xent_forward"
    cdef int t = _float_typenum(fn, "logits", logits)
    _same_size(fn, ["logits", "labels", "backprop"], [logits, labels, backprop], t)
    _check(fn, "loss", loss, t, True)
    cdef npy_intp rows = _rows(fn, logits, loss, num_classes)
    _overlap(fn, backprop, "backprop", logits, "logits", False)
    _overlap(fn, backprop, "backprop", labels, "labels", False)
    _overlap(fn, loss, "loss", backprop, "backprop", False)
    cdef void* px = cnp.PyArray_DATA(logits)
    cdef void* pz = cnp.PyArray_DATA(labels)
    cdef void* pl = cnp.PyArray_DATA(loss)
    cdef void* pb = cnp.PyArray_DATA(backprop)
    if rows * num_classes >= NOGIL_MIN:
        with nogil:
            _xent_any(t, px, pz, pl, pb, rows, num_classes)
    else:
        _xent_any(t, px, pz, pl, pb, rows, num_classes)
    return None


def sparse_softmax_xent_forward(cnp.ndarray logits not None, cnp.ndarray labels not None,
                                cnp.ndarray loss not None, cnp.ndarray backprop not None,
                                npy_intp num_classes):
    """Per row: loss = logsumexp(logits) - logits[label] and
    backprop = softmax(logits) - one_hot(label), in one pass over each row.

    logits    # IN  rows x num_classes, C order (class axis last)
    labels    # IN  int64, one class index per row
    loss      # OUT one value per row
    backprop  # OUT size of logits; must not share memory with logits
    Returns -1, or the first row whose label is outside [0, num_classes) (rows from there on
    are left unwritten: the caller raises).
    """
    fn = "sparse_softmax_xent_forward"
    cdef int t = _float_typenum(fn, "logits", logits)
    _same_size(fn, ["logits", "backprop"], [logits, backprop], t)
    _check(fn, "loss", loss, t, True)
    cdef npy_intp rows = _rows(fn, logits, loss, num_classes)
    if cnp.PyArray_TYPE(labels) != cnp.NPY_INT64 or not cnp.PyArray_IS_C_CONTIGUOUS(labels):
        raise TypeError(f"{fn}: labels must be C-contiguous int64, got {labels.dtype}")
    if cnp.PyArray_SIZE(labels) != rows:
        raise ValueError(f"{fn}: labels must hold one value per row ({rows}), got "
                         f"{_shape(labels)}")
    _overlap(fn, backprop, "backprop", logits, "logits", False)
    _overlap(fn, loss, "loss", backprop, "backprop", False)
    cdef void* px = cnp.PyArray_DATA(logits)
    cdef const int64_t* pz = <const int64_t*>cnp.PyArray_DATA(labels)
    cdef void* pl = cnp.PyArray_DATA(loss)
    cdef void* pb = cnp.PyArray_DATA(backprop)
    cdef npy_intp bad
    if rows * num_classes >= NOGIL_MIN:
        with nogil:
            bad = _sparse_xent_any(t, px, pz, pl, pb, rows, num_classes)
    else:
        bad = _sparse_xent_any(t, px, pz, pl, pb, rows, num_classes)
    return bad


def softmax_forward(cnp.ndarray logits not None, cnp.ndarray out not None, npy_intp num_classes):
    """Per row of num_classes: out = exp(x - max(x)) / sum(exp(x - max(x))), one pass to
    exponentiate (the row stays in cache) and one to scale. A row holding inf or nan gives nan,
    as numpy's formula and TensorFlow; an empty row stays empty.

    logits  # IN  rows x num_classes, C order (class axis last)
    out     # OUT the same size and dtype; must not share memory with logits
    """
    fn = "softmax_forward"
    cdef int t = _float_typenum(fn, "logits", logits)
    _same_size(fn, ["logits", "out"], [logits, out], t)
    if num_classes <= 0:
        if num_classes < 0 or cnp.PyArray_SIZE(logits) != 0:
            raise ValueError(f"{fn}: num_classes must be >= 1 for {_shape(logits)}, got "
                             f"{num_classes}")
        return out
    _overlap(fn, out, "out", logits, "logits", False)
    cdef npy_intp rows = cnp.PyArray_SIZE(logits) // num_classes
    if rows * num_classes != cnp.PyArray_SIZE(logits):
        raise ValueError(f"{fn}: logits {_shape(logits)} is not made of rows of {num_classes}")
    cdef void* px = cnp.PyArray_DATA(logits)
    cdef void* po = cnp.PyArray_DATA(out)
    if rows * num_classes >= NOGIL_MIN:
        with nogil:
            _softmax_any(t, px, po, rows, num_classes)
    else:
        _softmax_any(t, px, po, rows, num_classes)
    return out

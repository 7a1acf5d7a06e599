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
from libc.stdint cimport int64_t, uint32_t, uint64_t

include "_common.pxi"


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

cdef inline double _exp_row(const floating* x, floating* e, npy_intp n,
                            double* lse) noexcept nogil:
    """e = exp(x - max(x)); returns 1 / sum(e) and sets lse = log(sum(e)) + max(x), the row's
    log-sum-exp (loss terms are lse - x). An empty row gives lse = -inf (log 0), as numpy."""
    cdef npy_intp j
    cdef double m = -INFINITY
    cdef double total = 0.0
    cdef double v
    for j in range(n):
        if x[j] > m:
            m = x[j]
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
    cdef double lse, inv, acc
    cdef floating* e
    for r in range(rows):
        e = bp + r * n
        inv = _exp_row(x + r * n, e, n, &lse)
        acc = 0.0
        for j in range(n):
            # labels * (lse - x): the same products (0 * inf = nan included) as numpy.
            acc += z[r * n + j] * (lse - x[r * n + j])
            e[j] = <floating>(e[j] * inv - z[r * n + j])
        loss[r] = <floating>acc


cdef npy_intp _sparse_xent_rows(const floating* x, const int64_t* labels, floating* loss,
                                floating* bp, npy_intp rows, npy_intp n) noexcept nogil:
    """Returns the first row whose label is outside [0, n), or -1; such rows are not written
    past (the caller raises)."""
    cdef npy_intp r, j
    cdef int64_t k
    cdef double lse, inv
    cdef floating* e
    for r in range(rows):
        k = labels[r]
        if k < 0 or k >= n:
            return r
        e = bp + r * n
        inv = _exp_row(x + r * n, e, n, &lse)
        for j in range(n):
            e[j] = <floating>(e[j] * inv)
        e[k] -= 1
        loss[r] = <floating>(lse - x[r * n + k])
    return -1


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

# cython: language_level=3
"""Matrix product kernels (BLAS gemm through scipy.linalg.cython_blas); imports nothing of microtf.

Design:
- Two def wrappers share `_compute`, which dispatches on the dtype number to the fused `_gemm`
  (no Cython fused def: its runtime dispatch costs microseconds). `matmul` validates every
  argument with numpy's C API and raises on misuse; `matmul_forward` builds the MatMul op's
  forward, which computes the common case and hands anything else to the op's Python code
  (TensorFlow's errors, integer and batched products), so that code runs only when needed.
- op(a) @ op(b) is computed by gemm with transpose flags, never with transposed copies, so the
  backward pass of a matmul (dA = dY @ B^T, dB = A^T @ dY) is two calls without allocations.
- BLAS is column-major, our arrays are row-major; see `_gemm` for the argument order.
- Degenerate sizes are handled here, not in BLAS: m == 0 or n == 0 is a no-op, k == 0 gives
  out = beta * out (reference BLAS also scales C then, but not every BLAS guards lda/ldb >= 1).
- out must not overlap a or b: gemm reads its inputs while writing C.
"""

cimport cython
from cython cimport floating
from libc.limits cimport INT_MAX
from scipy.linalg.cython_blas cimport dgemm, sgemm

include "_common.pxi"


cdef void _gemm(floating* a, floating* b, floating* c, int m, int n, int k,
                bint transpose_a, bint transpose_b, floating beta) noexcept nogil:
    """c (m, n) = op(a) @ op(b) + beta * c, all row-major; m, n, k >= 1.

    A row-major (r, s) array is, byte for byte, the column-major (s, r) matrix: its transpose.
    So gemm sees C^T (n x m, ldc = n) and we ask it for C^T = op(b)^T @ op(a)^T:
    b goes first, a second, M = n, N = m, and each flag passes through unchanged, because the
    column-major view of a stored array is already the transpose of the row-major one.
    The leading dimension of each stored array is its row length: k or m for a, n or k for b.
    """
    cdef char ta = b'T' if transpose_a else b'N'
    cdef char tb = b'T' if transpose_b else b'N'
    cdef int lda = m if transpose_a else k
    cdef int ldb = k if transpose_b else n
    cdef int ldc = n
    cdef floating alpha = 1
    # cython_blas declares every argument as a non-const pointer: pass addresses of locals.
    if floating is float:
        sgemm(&tb, &ta, &n, &m, &k, &alpha, b, &ldb, a, &lda, &beta, c, &ldc)
    else:
        dgemm(&tb, &ta, &n, &m, &k, &alpha, b, &ldb, a, &lda, &beta, c, &ldc)


cdef void _scale(floating* c, npy_intp size, floating beta) noexcept nogil:
    """c *= beta; beta == 0 writes zeros (so NaN or inf in c do not survive, as in gemm)."""
    cdef npy_intp i
    if beta == 0:
        for i in range(size):
            c[i] = 0
    elif beta != 1:
        for i in range(size):
            c[i] = c[i] * beta


cdef void _matmul_any(int t, void* a, void* b, void* c, int m, int n, int k,
                      bint transpose_a, bint transpose_b, double beta) noexcept nogil:
    """Dtype dispatch; k == 0 means no products at all: out = beta * out."""
    if t == cnp.NPY_FLOAT:
        if k == 0:
            _scale(<float*>c, <npy_intp>m * n, <float>beta)
        else:
            _gemm(<float*>a, <float*>b, <float*>c, m, n, k, transpose_a, transpose_b, <float>beta)
    else:
        if k == 0:
            _scale(<double*>c, <npy_intp>m * n, beta)
        else:
            _gemm(<double*>a, <double*>b, <double*>c, m, n, k, transpose_a, transpose_b, beta)


cdef inline int _blas_dim(npy_intp d, str what) except -1:
    if d > INT_MAX:
        raise ValueError(f"matmul: dimension {what} = {d} does not fit a BLAS int (max {INT_MAX})")
    return <int>d


cdef inline bint _usable(object x, int t):
    """x is an ndarray gemm can read as it is: 2-D, dtype number t, native, aligned, C order."""
    return (cnp.PyArray_Check(x) and cnp.PyArray_NDIM(<cnp.ndarray>x) == 2
            and cnp.PyArray_TYPE(<cnp.ndarray>x) == t
            and cnp.PyArray_ISNOTSWAPPED(<cnp.ndarray>x)
            and cnp.PyArray_ISALIGNED(<cnp.ndarray>x)
            and cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>x))


cdef object _compute(int t, cnp.ndarray a, cnp.ndarray b, cnp.ndarray c, npy_intp m,
                     npy_intp n, npy_intp k, bint transpose_a, bint transpose_b, double beta):
    """c = op(a) @ op(b) + beta * c for arrays already validated; returns c."""
    if m == 0 or n == 0:
        return c
    cdef int im = _blas_dim(m, "m")
    cdef int in_ = _blas_dim(n, "n")
    cdef int ik = _blas_dim(k, "k")
    cdef void* pa = cnp.PyArray_DATA(a)
    cdef void* pb = cnp.PyArray_DATA(b)
    cdef void* pc = cnp.PyArray_DATA(c)
    # Work, not size, decides: a 1x1 gemm is ~100 ns, as much as a GIL round trip.
    if <double>m * <double>n * <double>(k if k > 0 else 1) >= NOGIL_MIN:
        with nogil:
            _matmul_any(t, pa, pb, pc, im, in_, ik, transpose_a, transpose_b, beta)
    else:
        _matmul_any(t, pa, pb, pc, im, in_, ik, transpose_a, transpose_b, beta)
    return c


def matmul(cnp.ndarray a not None, cnp.ndarray b not None, out=None,
           bint transpose_a=False, bint transpose_b=False, double beta=0.0):
    """out = op(a) @ op(b) + beta * out, where op transposes when its flag is set; returns out.

    a     # IN  (m, k), or (k, m) when transpose_a; 2-D, C-contiguous
    b     # IN  (k, n), or (n, k) when transpose_b; 2-D, C-contiguous
    out   # OUT (m, n); 2-D, C-contiguous, writeable, sharing no memory with a or b; or None:
          #     a new (m, n) array allocated here (beta is then ignored: nothing to accumulate)
    All three float32 or all float64. beta == 0 (default) overwrites out without reading it;
    beta == 1 accumulates (a gradient summed into an existing buffer, no temporary).
    Raises TypeError on dtypes, ValueError on layout, shapes or overlap.
    """
    cdef int t = _float_typenum("matmul", "a", a)
    _check("matmul", "a", a, t, False)
    _check("matmul", "b", b, t, False)
    if cnp.PyArray_NDIM(a) != 2 or cnp.PyArray_NDIM(b) != 2:
        raise ValueError(f"matmul: a and b must be 2-D, got shapes {_shape(a)}, {_shape(b)}")
    cdef npy_intp* da = cnp.PyArray_DIMS(a)
    cdef npy_intp* db = cnp.PyArray_DIMS(b)
    cdef npy_intp dims[2]
    cdef npy_intp m = da[1] if transpose_a else da[0]
    cdef npy_intp k = da[0] if transpose_a else da[1]
    cdef npy_intp kb = db[1] if transpose_b else db[0]
    cdef npy_intp n = db[0] if transpose_b else db[1]
    if k != kb:
        raise ValueError(
            f"matmul: inner dimensions differ: a {_shape(a)} (transpose_a={transpose_a}), "
            f"b {_shape(b)} (transpose_b={transpose_b})")
    cdef cnp.ndarray c
    if out is None:
        dims[0] = m
        dims[1] = n
        c = cnp.PyArray_EMPTY(2, dims, t, 0)
        beta = 0.0
    else:
        if not isinstance(out, cnp.ndarray):
            raise TypeError(f"matmul: out must be a numpy array or None, got {type(out).__name__}")
        c = out
        _check("matmul", "out", c, t, True)
        if cnp.PyArray_NDIM(c) != 2:
            raise ValueError(f"matmul: out must be 2-D, got shape {_shape(c)}")
        if cnp.PyArray_DIMS(c)[0] != m or cnp.PyArray_DIMS(c)[1] != n:
            raise ValueError(f"matmul: out must have shape ({m}, {n}), got {_shape(c)}")
        _overlap("matmul", c, "out", a, "a", False)
        _overlap("matmul", c, "out", b, "b", False)
    return _compute(t, a, b, c, m, n, k, transpose_a, transpose_b, beta)


def matmul_forward(fallback, npy_intp max_size):
    """The forward of the MatMul op: `matmul(a, b, transpose_a=False, transpose_b=False)`.

    The common case is computed here: a and b 2-D, both float32 or both float64, native, aligned
    and C-contiguous, with equal inner dimensions and at most max_size output elements; the
    result is a new array. Anything else returns `fallback(a, b, transpose_a, transpose_b)`:
    other dtypes, batches, the errors for mismatched shapes, large outputs to be checked before
    allocation. A closure compiled here rather than a Python forward calling `matmul`: the
    Python frame and checks alone cost more than a (1, 3) @ (3, 3) gemm.
    """
    def matmul(a, b, bint transpose_a=False, bint transpose_b=False):
        """op(a) @ op(b); 2-D float products are one BLAS gemm call with transpose flags."""
        out = _product_or_none(a, b, transpose_a, transpose_b, max_size)
        return out if out is not None else fallback(a, b, transpose_a, transpose_b)
    return matmul


cdef object _product_or_none(object a, object b, bint transpose_a, bint transpose_b,
                             npy_intp max_size):
    """matmul_forward's common case: op(a) @ op(b) as a new array, or None if not that case."""
    if not cnp.PyArray_Check(a):
        return None
    cdef int t = cnp.PyArray_TYPE(<cnp.ndarray>a)
    if (t != cnp.NPY_FLOAT and t != cnp.NPY_DOUBLE) or not _usable(a, t) or not _usable(b, t):
        return None
    cdef npy_intp* da = cnp.PyArray_DIMS(<cnp.ndarray>a)
    cdef npy_intp* db = cnp.PyArray_DIMS(<cnp.ndarray>b)
    cdef npy_intp dims[2]
    dims[0] = da[1] if transpose_a else da[0]
    dims[1] = db[0] if transpose_b else db[1]
    cdef npy_intp k = da[0] if transpose_a else da[1]
    if (k != (db[1] if transpose_b else db[0])
            or k > INT_MAX or dims[0] > INT_MAX or dims[1] > INT_MAX):
        return None
    if dims[0] != 0 and dims[1] > max_size // dims[0]:  # m * n > max_size, without overflow
        return None
    c = cnp.PyArray_EMPTY(2, dims, t, 0)
    return _compute(t, a, b, c, dims[0], dims[1], k, transpose_a, transpose_b, 0.0)

# distutils: extra_compile_args = -ffp-contract=off
# Optimizer updates in one pass (keras.optimizers: Adam, SGD with and without momentum).
#
# Design: numpy spends one pass and one temporary per operation of an update rule (Adam's takes
# ten), and on a small model's weights the per-call overhead dominates: one loop per variable
# reads w, g and the state once and writes fresh arrays. Fresh, not in place: a tape may hold the
# variable's old array (TensorFlow's tensors read before the step keep their values), so the
# caller hands the new arrays to the variables (keras/optimizers.py). Every operation runs in the
# variable's dtype in numpy's order, and -ffp-contract=off forbids fused multiply-adds, so the
# results are bitwise those of the numpy formulas (IEEE: inf/nan propagate, no warnings).

cimport numpy as cnp
from libc.math cimport sqrt, sqrtf

include "_common.pxi"


cdef cnp.ndarray _new_like(cnp.ndarray x, int t):
    return cnp.PyArray_EMPTY(cnp.PyArray_NDIM(x), cnp.PyArray_DIMS(x), t, 0)


cdef npy_intp _same_size(str fn, cnp.ndarray w, list others) except -1:
    cdef npy_intp n = cnp.PyArray_SIZE(w)
    for x in others:
        if cnp.PyArray_SIZE(<cnp.ndarray>x) != n:
            raise ValueError(f"{fn}: every array must have the size of w {_shape(w)}, "
                             f"got {_shape(<cnp.ndarray>x)}")
    return n


cdef void _adam_f(const float* w, const float* g, const float* m, const float* v, float alpha,
                  float c1, float c2, float eps, float* w_out, float* m_out, float* v_out,
                  npy_intp n) noexcept nogil:
    cdef npy_intp i
    cdef float mi, vi
    for i in range(n):
        mi = (g[i] - m[i]) * c1 + m[i]
        vi = (g[i] * g[i] - v[i]) * c2 + v[i]
        m_out[i] = mi
        v_out[i] = vi
        w_out[i] = w[i] - (mi * alpha) / (sqrtf(vi) + eps)


cdef void _adam_d(const double* w, const double* g, const double* m, const double* v,
                  double alpha, double c1, double c2, double eps, double* w_out, double* m_out,
                  double* v_out, npy_intp n) noexcept nogil:
    cdef npy_intp i
    cdef double mi, vi
    for i in range(n):
        mi = (g[i] - m[i]) * c1 + m[i]
        vi = (g[i] * g[i] - v[i]) * c2 + v[i]
        m_out[i] = mi
        v_out[i] = vi
        w_out[i] = w[i] - (mi * alpha) / (sqrt(vi) + eps)


cdef inline void _adam_any(int t, void* pw, void* pg, void* pm, void* pv, double alpha, double c1,
                           double c2, double eps, void* ow, void* om, void* ov,
                           npy_intp n) noexcept nogil:
    if t == cnp.NPY_FLOAT:
        _adam_f(<float*>pw, <float*>pg, <float*>pm, <float*>pv, <float>alpha, <float>c1,
                <float>c2, <float>eps, <float*>ow, <float*>om, <float*>ov, n)
    else:
        _adam_d(<double*>pw, <double*>pg, <double*>pm, <double*>pv, alpha, c1, c2, eps,
                <double*>ow, <double*>om, <double*>ov, n)


def adam_update(cnp.ndarray w not None, cnp.ndarray g not None, cnp.ndarray m not None,
                cnp.ndarray v not None, double alpha, double c1, double c2, double eps):
    """Keras's Adam step; returns fresh (w', m', v'):
        m' = (g - m) * c1 + m;  v' = (g * g - v) * c2 + v;  w' = w - (m' * alpha) / (sqrt(v') + eps)
    with c1 = 1 - beta_1, c2 = 1 - beta_2 and alpha the bias-corrected rate, all rounded to the
    arrays' dtype first (as numpy does with scalars of that dtype).

    w, g, m, v  # IN  one dtype (float32/float64), one size, C-contiguous
    """
    cdef int t = _float_typenum("adam_update", "w", w)
    for name, x in (("w", w), ("g", g), ("m", m), ("v", v)):
        _check("adam_update", name, x, t, False)
    cdef npy_intp n = _same_size("adam_update", w, [g, m, v])
    cdef cnp.ndarray w_out = _new_like(w, t)
    cdef cnp.ndarray m_out = _new_like(w, t)
    cdef cnp.ndarray v_out = _new_like(w, t)
    cdef void* pw = cnp.PyArray_DATA(w)
    cdef void* pg = cnp.PyArray_DATA(g)
    cdef void* pm = cnp.PyArray_DATA(m)
    cdef void* pv = cnp.PyArray_DATA(v)
    cdef void* ow = cnp.PyArray_DATA(w_out)
    cdef void* om = cnp.PyArray_DATA(m_out)
    cdef void* ov = cnp.PyArray_DATA(v_out)
    if n >= NOGIL_MIN:
        with nogil:
            _adam_any(t, pw, pg, pm, pv, alpha, c1, c2, eps, ow, om, ov, n)
    else:
        _adam_any(t, pw, pg, pm, pv, alpha, c1, c2, eps, ow, om, ov, n)
    return w_out, m_out, v_out


cdef void _sgd_f(const float* w, const float* g, float lr, float* w_out,
                 npy_intp n) noexcept nogil:
    cdef npy_intp i
    for i in range(n):
        w_out[i] = w[i] - g[i] * lr


cdef void _sgd_d(const double* w, const double* g, double lr, double* w_out,
                 npy_intp n) noexcept nogil:
    cdef npy_intp i
    for i in range(n):
        w_out[i] = w[i] - g[i] * lr


cdef inline void _sgd_any(int t, void* pw, void* pg, double lr, void* ow,
                          npy_intp n) noexcept nogil:
    if t == cnp.NPY_FLOAT:
        _sgd_f(<float*>pw, <float*>pg, <float>lr, <float*>ow, n)
    else:
        _sgd_d(<double*>pw, <double*>pg, lr, <double*>ow, n)


def sgd_update(cnp.ndarray w not None, cnp.ndarray g not None, double lr):
    """Plain gradient descent; returns a fresh w' = w - g * lr (lr rounded to the dtype first),
    one pass instead of numpy's two (a temporary for g * lr, then the subtraction).

    w, g  # IN  one dtype (float32/float64), one size, C-contiguous
    """
    cdef int t = _float_typenum("sgd_update", "w", w)
    _check("sgd_update", "w", w, t, False)
    _check("sgd_update", "g", g, t, False)
    cdef npy_intp n = _same_size("sgd_update", w, [g])
    cdef cnp.ndarray w_out = _new_like(w, t)
    cdef void* pw = cnp.PyArray_DATA(w)
    cdef void* pg = cnp.PyArray_DATA(g)
    cdef void* ow = cnp.PyArray_DATA(w_out)
    if n >= NOGIL_MIN:
        with nogil:
            _sgd_any(t, pw, pg, lr, ow, n)
    else:
        _sgd_any(t, pw, pg, lr, ow, n)
    return w_out


cdef void _momentum_f(const float* w, const float* g, const float* m, float lr, float mom,
                      bint nesterov, float* w_out, float* m_out, npy_intp n) noexcept nogil:
    cdef npy_intp i
    cdef float mi
    for i in range(n):
        mi = m[i] * mom - g[i] * lr
        m_out[i] = mi
        w_out[i] = w[i] + (mi * mom - g[i] * lr) if nesterov else w[i] + mi


cdef void _momentum_d(const double* w, const double* g, const double* m, double lr, double mom,
                      bint nesterov, double* w_out, double* m_out, npy_intp n) noexcept nogil:
    cdef npy_intp i
    cdef double mi
    for i in range(n):
        mi = m[i] * mom - g[i] * lr
        m_out[i] = mi
        w_out[i] = w[i] + (mi * mom - g[i] * lr) if nesterov else w[i] + mi


cdef inline void _momentum_any(int t, void* pw, void* pg, void* pm, double lr, double momentum,
                               bint nesterov, void* ow, void* om, npy_intp n) noexcept nogil:
    if t == cnp.NPY_FLOAT:
        _momentum_f(<float*>pw, <float*>pg, <float*>pm, <float>lr, <float>momentum, nesterov,
                    <float*>ow, <float*>om, n)
    else:
        _momentum_d(<double*>pw, <double*>pg, <double*>pm, lr, momentum, nesterov,
                    <double*>ow, <double*>om, n)


def sgd_momentum_update(cnp.ndarray w not None, cnp.ndarray g not None, cnp.ndarray m not None,
                        double lr, double momentum, bint nesterov):
    """Keras's SGD step with momentum; returns fresh (w', m'):
        m' = m * momentum - g * lr;  w' = w + m'  (nesterov: w' = w + (m' * momentum - g * lr))
    lr and momentum rounded to the arrays' dtype first.

    w, g, m  # IN  one dtype (float32/float64), one size, C-contiguous
    """
    cdef int t = _float_typenum("sgd_momentum_update", "w", w)
    for name, x in (("w", w), ("g", g), ("m", m)):
        _check("sgd_momentum_update", name, x, t, False)
    cdef npy_intp n = _same_size("sgd_momentum_update", w, [g, m])
    cdef cnp.ndarray w_out = _new_like(w, t)
    cdef cnp.ndarray m_out = _new_like(w, t)
    cdef void* pw = cnp.PyArray_DATA(w)
    cdef void* pg = cnp.PyArray_DATA(g)
    cdef void* pm = cnp.PyArray_DATA(m)
    cdef void* ow = cnp.PyArray_DATA(w_out)
    cdef void* om = cnp.PyArray_DATA(m_out)
    if n >= NOGIL_MIN:
        with nogil:
            _momentum_any(t, pw, pg, pm, lr, momentum, nesterov, ow, om, n)
    else:
        _momentum_any(t, pw, pg, pm, lr, momentum, nesterov, ow, om, n)
    return w_out, m_out

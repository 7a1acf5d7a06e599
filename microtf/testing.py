"""microtf.testing: gradient checking by central differences in float64.

`check_gradients(fn, *inputs)` compares the gradient a GradientTape computes through `fn` with
numerical derivatives. Small inputs get the full Jacobian (every input element perturbed, each
output element weighted by a random cotangent); large ones a few random directions. `order=2`
also checks the gradient of the gradient, which exercises nested tapes.
"""
import numpy as np

from .eager.registry import convert_to_tensor
from .eager.tape import GradientTape
from .framework import dtypes
from .framework.tensor import wrap

__all__ = ["check_gradients", "numerical_jacobian", "compute_gradient"]

_FULL_JACOBIAN_LIMIT = 64  # input elements up to which every element is perturbed


def _as_float64(x):
    # C order: the differences perturb elements through a flat view, which must not be a copy.
    return np.array(x._value if hasattr(x, "_value") else x, dtype=np.float64, order="C")


def _eval(fn, arrays, dtype):
    out = fn(*[wrap(np.array(a, dtype=dtype._np), dtype) for a in arrays])
    return np.array(convert_to_tensor(out)._value, dtype=np.float64)


def _tape_vjp(fn, arrays, dtype, cotangent):
    xs = [wrap(np.array(a, dtype=dtype._np), dtype) for a in arrays]
    with GradientTape() as tape:
        for x in xs:
            tape.watch(x)
        y = convert_to_tensor(fn(*xs))
    seed = wrap(np.array(cotangent, dtype=y.dtype._np), y.dtype)
    grads = tape.gradient(y, xs, output_gradients=seed)
    out = []
    for a, g in zip(arrays, grads):
        if g is None:
            out.append(np.zeros_like(a))
            continue
        if tuple(g.shape) != a.shape:
            raise AssertionError("gradient shape %s differs from its input's shape %s"
                                 % (tuple(g.shape), a.shape))
        if g.dtype is not dtype:
            raise AssertionError("gradient dtype %s differs from the input dtype %s"
                                 % (g.dtype.name, dtype.name))
        out.append(np.array(g._value, dtype=np.float64))
    return out


def numerical_jacobian(fn, arrays, delta=1e-6):
    """d(fn)/d(input) by central differences in float64, as arrays of shape out + in."""
    arrays = [_as_float64(a) for a in arrays]
    y0 = _eval(fn, arrays, dtypes.float64)
    jacs = []
    for k, a in enumerate(arrays):
        jac = np.zeros(y0.shape + a.shape)
        flat = a.reshape(-1)
        jflat = jac.reshape(y0.shape + (a.size,))
        for i in range(flat.size):
            old = flat[i]
            flat[i] = old + delta
            up = _eval(fn, arrays, dtypes.float64)
            flat[i] = old - delta
            down = _eval(fn, arrays, dtypes.float64)
            flat[i] = old
            jflat[..., i] = (up - down) / (2 * delta)
        jacs.append(jac)
    return jacs


def check_gradients(fn, *inputs, dtype=None, rtol=None, atol=None, order=1, delta=None,
                    seed=0):
    """Asserts that the tape's gradient of `fn` matches central differences.

    fn: takes Tensors, returns a Tensor. inputs: arrays (or tensors) where to differentiate.
    dtype: the dtype the tape runs in (float64 default); differences always use float64.
    order=2 also checks the gradient of <gradient, random cotangent> (nested tapes).
    Raises AssertionError naming the input, the worst element, and both values.
    """
    dtype = dtypes.float64 if dtype is None else dtypes.as_dtype(dtype)
    low = dtype is dtypes.float32
    rtol = (2e-2 if low else 1e-5) if rtol is None else rtol
    atol = (2e-3 if low else 1e-7) if atol is None else atol
    delta = 1e-6 if delta is None else delta  # differences always run in float64
    arrays = [_as_float64(x) for x in inputs]
    rng = np.random.default_rng(seed)
    y0 = _eval(fn, arrays, dtypes.float64)
    cot = rng.standard_normal(y0.shape)
    total = sum(a.size for a in arrays)
    if total <= _FULL_JACOBIAN_LIMIT:
        jacs = numerical_jacobian(fn, arrays, delta)
        expected = [np.tensordot(cot, j, axes=cot.ndim) if cot.ndim else cot * j
                    for j in jacs]
        got = _tape_vjp(fn, arrays, dtype, cot)
        for k, (e, g) in enumerate(zip(expected, got)):
            _assert_close(g, e, rtol, atol, "gradient of input %d" % k)
    else:
        # Directional check per input (so one input's error cannot hide behind another's):
        # <grad_k, v> against (f(x_k + h v) - f(x_k - h v)) . cot / 2h for random v.
        got = _tape_vjp(fn, arrays, dtype, cot)
        for k, (a, g) in enumerate(zip(arrays, got)):
            for _ in range(2):
                v = rng.standard_normal(a.shape)
                up = _eval(fn, arrays[:k] + [a + delta * v] + arrays[k + 1:], dtypes.float64)
                down = _eval(fn, arrays[:k] + [a - delta * v] + arrays[k + 1:], dtypes.float64)
                numeric = float(np.sum((up - down) * cot) / (2 * delta))
                _assert_close(np.array(float(np.sum(g * v))), np.array(numeric), rtol,
                              atol * np.sqrt(a.size), "directional derivative of input %d" % k)
    if order >= 2:
        def grad_fn(*xs):
            with GradientTape() as tape:
                for x in xs:
                    tape.watch(x)
                y = convert_to_tensor(fn(*xs))
            seed_t = wrap(np.array(cot, dtype=y.dtype._np), y.dtype)
            gs = tape.gradient(y, list(xs), output_gradients=seed_t)
            total_g = None
            for g in gs:
                if g is None:
                    continue
                from .ops import reduce_sum
                s = reduce_sum(g * g)
                total_g = s if total_g is None else total_g + s
            if total_g is None:
                raise AssertionError("no gradient to differentiate a second time")
            return total_g
        check_gradients(grad_fn, *arrays, dtype=dtype, rtol=rtol * 5, atol=atol * 5,
                        order=order - 1, delta=delta, seed=seed + 1)


def _assert_close(got, expected, rtol, atol, what):
    both_inf = np.isinf(got) & np.isinf(expected) & (np.sign(got) == np.sign(expected))
    ok = both_inf | (np.abs(got - expected) <= atol + rtol * np.abs(expected))
    ok |= np.isnan(got) & np.isnan(expected)
    if not np.all(ok):
        idx = tuple(int(i) for i in np.unravel_index(np.argmax(~ok), ok.shape))
        raise AssertionError("%s differs from central differences at %s: tape %r, numeric %r "
                             "(rtol=%g, atol=%g)\ntape:\n%s\nnumeric:\n%s"
                             % (what, idx, float(got[idx]), float(expected[idx]), rtol, atol, got,
                                expected))


def compute_gradient(f, x, delta=None):
    """tf.test.compute_gradient: the theoretical and numerical Jacobians of y = f(*x).

    Returns (theoretical, numerical), each a tuple with one 2-D array per argument, of shape
    (y.size, x[i].size) and x[i]'s dtype, as TensorFlow 2 does: row j of the theoretical one is
    the tape's gradient for output element j, column i of the numerical one
    (f(x + delta e_i) - f(x - delta e_i)) / 2 delta, computed in x's dtype like TensorFlow
    (check_gradients differences in float64 instead). delta defaults to 1/1024, exactly
    representable in binary.
    """
    if not isinstance(x, (list, tuple)):
        raise ValueError("`x` must be a list or tuple of values convertible to a Tensor "
                         "(arguments to `f`), not a %s" % type(x))
    delta = 1.0 / 1024 if delta is None else delta
    xs = [np.array(convert_to_tensor(v)._value) for v in x]
    kinds = [dtypes.as_dtype(a.dtype) for a in xs]

    def call(arrays):
        return convert_to_tensor(f(*[wrap(a.copy(), d) for a, d in zip(arrays, kinds)]))

    y_size = call(xs)._value.size
    theoretical = []
    for k, a in enumerate(xs):
        jac = np.zeros((y_size, a.size), a.dtype)
        for j in range(y_size):
            cot = np.zeros(y_size)
            cot[j] = 1
            ts = [wrap(b.copy(), d) for b, d in zip(xs, kinds)]
            with GradientTape() as tape:
                tape.watch(ts[k])
                out = convert_to_tensor(f(*ts))
            seed = wrap(cot.astype(out.dtype._np).reshape(out.shape._dims), out.dtype)
            g = tape.gradient(out, ts[k], output_gradients=seed)
            if g is not None:
                jac[j] = g._value.reshape(-1)
        theoretical.append(jac)
    numerical = []
    for k, a in enumerate(xs):
        jac = np.zeros((y_size, a.size), a.dtype)
        for i in range(a.size):
            pert = [b.copy() for b in xs]
            pert[k].reshape(-1)[i] += delta
            up = call(pert)._value
            pert = [b.copy() for b in xs]  # x - delta from x itself, not (x + delta) - 2 delta
            pert[k].reshape(-1)[i] -= delta
            down = call(pert)._value
            jac[:, i] = ((up - down) / np.asarray(2 * delta, up.dtype)).reshape(-1)
        numerical.append(jac)
    return tuple(theoretical), tuple(numerical)

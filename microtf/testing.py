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
    a = np.array(x._value if hasattr(x, "_value") else x, dtype=np.float64)
    return a


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
    arrays = [np.array(a, dtype=np.float64) for a in arrays]
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
        # Directional check: <grad, v> against (f(x + h v) - f(x - h v)) . cot / 2h.
        got = _tape_vjp(fn, arrays, dtype, cot)
        for _ in range(3):
            vs = [rng.standard_normal(a.shape) for a in arrays]
            up = _eval(fn, [a + delta * v for a, v in zip(arrays, vs)], dtypes.float64)
            down = _eval(fn, [a - delta * v for a, v in zip(arrays, vs)], dtypes.float64)
            numeric = float(np.sum((up - down) * cot) / (2 * delta))
            analytic = float(sum(np.sum(g * v) for g, v in zip(got, vs)))
            _assert_close(np.array(analytic), np.array(numeric), rtol, atol * np.sqrt(total),
                          "directional derivative")
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
        idx = np.unravel_index(np.argmax(~ok), ok.shape) if ok.ndim else ()
        raise AssertionError("%s differs from central differences at %s: tape %r, numeric %r "
                             "(rtol=%g, atol=%g)\ntape:\n%s\nnumeric:\n%s"
                             % (what, idx, got[idx], expected[idx], rtol, atol, got, expected))


def compute_gradient(f, x, delta=None):
    """tf.test.compute_gradient: (theoretical, numerical) Jacobians as 2-D arrays per input,
    of shape (input size, output size), as TensorFlow returns them."""
    arrays = [_as_float64(a) for a in x]
    dtype = convert_to_tensor(x[0]).dtype if hasattr(x[0], "dtype") else dtypes.float64
    dtype = dtype if dtype.is_floating else dtypes.float64
    delta = delta or (1e-3 if dtype is dtypes.float32 else 1e-6)
    y0 = _eval(f, arrays, dtype)
    theoretical, numerical = [], []
    numeric = numerical_jacobian(f, arrays, delta)
    for k, a in enumerate(arrays):
        rows = np.zeros((a.size, y0.size))
        for j in range(y0.size):
            cot = np.zeros(y0.size)
            cot[j] = 1
            rows[:, j] = _tape_vjp(f, arrays, dtype, cot.reshape(y0.shape))[k].reshape(-1)
        theoretical.append(rows.astype(dtype._np))
        numerical.append(numeric[k].reshape(y0.size, a.size).T.astype(dtype._np))
    return tuple(theoretical), tuple(numerical)

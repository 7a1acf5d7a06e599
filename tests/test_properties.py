"""Property tests (hypothesis): for any shape (0 and 1 sides included), float dtype and values
(NaN, inf, subnormal, huge), each op either raises a documented error or equals the numpy
float64 reference; each gradient has its input's shape and passes microtf.testing.check_gradients.
"""
import warnings

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import microtf as tf
from microtf.testing import check_gradients

# derandomize: the same examples on every run (CI never flakes); database=None: no .hypothesis/.
FORWARD = settings(max_examples=120, deadline=None, derandomize=True, database=None,
                   suppress_health_check=[HealthCheck.too_slow])
BACKWARD = settings(max_examples=20, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])
DTYPES = st.sampled_from([np.float32, np.float64])
SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)
SMALL_SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)


def _softmax(x):
    e = np.exp(x - np.max(x, axis=-1, keepdims=True, initial=-np.inf))
    return e / np.sum(e, axis=-1, keepdims=True)


def _log_softmax(x):
    z = x - np.max(x, axis=-1, keepdims=True, initial=-np.inf)
    return z - np.log(np.sum(np.exp(z), axis=-1, keepdims=True))


# name: (microtf function, float64 reference, gradient domain as (low, high) and kink points)
UNARY = {
    "sigmoid": (tf.sigmoid, lambda x: 1 / (1 + np.exp(-x)), (-6, 6)),
    "tanh": (tf.tanh, np.tanh, (-3, 3)),
    "relu": (tf.nn.relu, lambda x: np.where(np.isnan(x), x, np.maximum(x, 0)), (-3, 3)),
    "leaky_relu": (tf.nn.leaky_relu, lambda x: np.where(x > 0, x, 0.2 * x), (-3, 3)),
    "softplus": (tf.nn.softplus, lambda x: np.logaddexp(0, x), (-5, 5)),
    "exp": (tf.exp, np.exp, (-3, 3)),
    "log": (tf.math.log, np.log, (0.1, 5)),
    "log1p": (tf.math.log1p, np.log1p, (-0.5, 5)),
    "sqrt": (tf.sqrt, np.sqrt, (0.1, 5)),
    "square": (tf.square, np.square, (-3, 3)),
    "abs": (tf.abs, np.abs, (-3, 3)),
    "negative": (tf.negative, np.negative, (-3, 3)),
    "reciprocal": (tf.math.reciprocal, lambda x: 1 / x, (0.5, 3)),
    "softmax": (tf.nn.softmax, _softmax, (-3, 3)),
    "log_softmax": (tf.nn.log_softmax, _log_softmax, (-3, 3)),
}
BINARY = {
    "add": (tf.add, np.add),
    "subtract": (tf.subtract, np.subtract),
    "multiply": (tf.multiply, np.multiply),
    "divide": (tf.divide, np.divide),
    "maximum": (tf.maximum, np.maximum),
    "minimum": (tf.minimum, np.minimum),
    "pow": (tf.pow, np.power),
}
REDUCTIONS = {
    "reduce_sum": (tf.reduce_sum, lambda x, axis: np.sum(x, axis=axis)),
    "reduce_mean": (tf.reduce_mean, lambda x, axis: np.mean(x, axis=axis)),
    "reduce_max": (tf.reduce_max, lambda x, axis: np.max(x, axis=axis, initial=-np.inf)),
    "reduce_min": (tf.reduce_min, lambda x, axis: np.min(x, axis=axis, initial=np.inf)),
    "reduce_prod": (tf.reduce_prod, lambda x, axis: np.prod(x, axis=axis)),
}


@st.composite
def _any_values(draw, shape=SHAPES):
    """An array of any float values: NaN, ±inf, subnormal, huge, zero, ordinary."""
    dtype = draw(DTYPES)
    return draw(hnp.arrays(dtype, draw(shape), elements=st.floats(
        width=32 if dtype == np.float32 else 64, allow_subnormal=True)))


def _reference(fn, *arrays):
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numpy's 'mean of empty slice'
        return np.asarray(fn(*[a.astype(np.float64) for a in arrays]))


def _assert_matches(got, want, dtype):
    """Equal to the float64 reference rounded to dtype: same NaN and inf positions, finite
    values within a few ulps (subnormal results within the subnormal spacing)."""
    assert got.dtype == tf.as_dtype(dtype), got.dtype
    got = got.numpy()
    want = want.astype(dtype)  # overflow to inf in float32 is the right float32 answer
    assert got.shape == want.shape
    # A float32 accumulation (a product) may round past the largest float to inf where the
    # float64 reference stays just below it: the same rounding, seen at the overflow edge.
    edge = np.isinf(got) & (np.abs(want) >= np.finfo(dtype).max * (1 - 1e-5))
    want = np.where(edge & (np.sign(got) == np.sign(want)), got, want)
    tiny = np.finfo(dtype).smallest_normal
    rtol = 4e-6 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(got, want, rtol=rtol, atol=tiny, equal_nan=True)


def _run(fn, *args, **kwargs):
    """Calls an op with warnings as errors: a RuntimeWarning leaking out is a failure."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return fn(*args, **kwargs)


# -- forward: any values -------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(UNARY))
@FORWARD
@given(x=_any_values())
def test_properties_unary_forward(name, x):
    fn, ref, _ = UNARY[name]
    if name.endswith("softmax") and x.ndim == 0:
        with pytest.raises(tf.errors.InvalidArgumentError, match=r">= 1 dimension, got \[\]"):
            _run(fn, x)
        return
    _assert_matches(_run(fn, x), _reference(ref, x), x.dtype.type)


@st.composite
def _two_arrays(draw):
    """Two arrays of one dtype whose shapes mostly broadcast (shared base) and sometimes not."""
    dtype = draw(DTYPES)
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3,
                                                    min_side=0, max_side=4)).input_shapes
    if draw(st.integers(0, 5)) == 0:
        shapes = (shapes[0], draw(SHAPES))  # independent: may be incompatible
    elems = st.floats(width=32 if dtype == np.float32 else 64, allow_subnormal=True)
    return tuple(draw(hnp.arrays(dtype, s, elements=elems)) for s in shapes)


def _broadcasts(a, b):
    try:
        np.broadcast_shapes(a, b)
        return True
    except ValueError:
        return False


@pytest.mark.parametrize("name", sorted(BINARY))
@FORWARD
@given(xy=_two_arrays())
def test_properties_binary_forward(name, xy):
    fn, ref = BINARY[name]
    x, y = xy
    if not _broadcasts(x.shape, y.shape):
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"Incompatible shapes: \["):
            _run(fn, x, y)
        return
    _assert_matches(_run(fn, x, y), _reference(ref, x, y), x.dtype.type)


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@FORWARD
@given(x=_any_values(), data=st.data())
def test_properties_reduction_forward(name, x, data):
    fn, ref = REDUCTIONS[name]
    axis = data.draw(st.none() | st.integers(-x.ndim - 1, x.ndim), label="axis")
    if axis is not None and not -x.ndim <= axis < max(x.ndim, 1):
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"Invalid reduction dimension"):
            _run(fn, x, axis=axis)
        return
    if x.ndim == 0 and axis is not None:
        axis = None  # TF reduces a scalar over axis 0 or -1 to itself
    if name == "reduce_prod" and x.dtype == np.float32:
        # Where a float32 partial product overflows (then meets a 0 or a tiny factor), float32
        # accumulation and the float64 reference rightly differ (inf*0 = nan vs 0): skip.
        magnitudes = np.abs(np.where(x == 0, 1, x).astype(np.float64))
        with np.errstate(all="ignore"):
            assume(not np.nanmax(np.cumprod(magnitudes.ravel()), initial=0) > 3e38)
    _assert_matches(_run(fn, x, axis=axis), _reference(lambda a: ref(a, axis), x),
                    x.dtype.type)


@FORWARD
@given(data=st.data())
def test_properties_matmul_forward(data):
    dtype = data.draw(DTYPES, label="dtype")
    m, k, n = (data.draw(st.integers(0, 5)) for _ in range(3))
    k2 = k if data.draw(st.integers(0, 5)) else data.draw(st.integers(0, 5))
    elems = st.floats(-1e3, 1e3, width=32 if dtype == np.float32 else 64, allow_subnormal=True)
    a = data.draw(hnp.arrays(dtype, (m, k), elements=elems))
    b = data.draw(hnp.arrays(dtype, (k2, n), elements=elems))
    if k != k2:
        with pytest.raises(tf.errors.InvalidArgumentError, match="Matrix size-incompatible"):
            _run(tf.matmul, a, b)
        return
    got = _run(tf.matmul, a, b)
    want = _reference(np.matmul, a, b)
    # A sum of k products: error bound relative to sum |a||b|, not to the (maybe cancelled) sum.
    scale = _reference(np.matmul, np.abs(a), np.abs(b))
    eps = np.finfo(dtype).eps
    assert got.shape == want.shape and got.dtype == tf.as_dtype(dtype)
    assert np.all(np.abs(got.numpy() - want) <= 4 * k * eps * scale + np.finfo(dtype).tiny)


# -- backward: finite values where the op is smooth ----------------------------------------------
def _smooth_values(draw, shape, low, high, dtype=np.float64):
    """Distinct values in [low, high] at least 1e-2 apart from each other and from 0 (kinks of
    relu/abs/max, ties of max), so that central differences are exact enough."""
    n = int(np.prod(shape))
    grid = draw(st.lists(st.integers(int(low * 100), int(high * 100)).filter(lambda v: v != 0),
                         min_size=n, max_size=n, unique=True))
    return (np.array(grid, np.float64) / 100).reshape(shape).astype(dtype)


def _assert_gradient_shapes(fn, *arrays):
    for dtype in (np.float32, np.float64):
        xs = [tf.constant(a.astype(dtype)) for a in arrays]
        with tf.GradientTape() as tape:
            for x in xs:
                tape.watch(x)
            y = fn(*xs)
        grads = tape.gradient(y, xs)
        for x, g in zip(xs, grads):
            assert g is not None and g.shape == x.shape and g.dtype == x.dtype


@pytest.mark.parametrize("name", sorted(UNARY))
@BACKWARD
@given(data=st.data())
def test_properties_unary_gradient(name, data):
    fn, _, (low, high) = UNARY[name]
    shape = data.draw(SMALL_SHAPES, label="shape")
    if name.endswith("softmax") and not shape:
        shape = (1,)  # softmax needs an axis (tested in the forward test)
    x = _smooth_values(data.draw, shape, low, high)
    _assert_gradient_shapes(fn, x)
    check_gradients(fn, x)
    check_gradients(fn, x, dtype=tf.float32)


@pytest.mark.parametrize("name", sorted(BINARY))
@BACKWARD
@given(data=st.data())
def test_properties_binary_gradient(name, data):
    fn, _ = BINARY[name]
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3,
                                                         min_side=1, max_side=3)).input_shapes
    low = 0.5 if name in ("divide", "pow") else -3  # away from the poles of y/x and x**y
    x = _smooth_values(data.draw, shapes[0], low, 3)
    y = _smooth_values(data.draw, shapes[1], low, 3)
    if name in ("maximum", "minimum"):
        y = y + 0.005  # never equal to an x (x and y are on a 0.01 grid)
    _assert_gradient_shapes(fn, x, y)
    check_gradients(fn, x, y)
    check_gradients(fn, x, y, dtype=tf.float32)


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@BACKWARD
@given(data=st.data())
def test_properties_reduction_gradient(name, data):
    fn, _ = REDUCTIONS[name]
    shape = data.draw(SMALL_SHAPES, label="shape")
    x = _smooth_values(data.draw, shape, -3, 3)
    axis = data.draw(st.none() | st.integers(-len(shape), max(len(shape) - 1, 0)), label="axis")
    if not shape:
        axis = None

    def f(t):
        return fn(t, axis=axis)

    _assert_gradient_shapes(f, x)
    check_gradients(f, x)
    check_gradients(f, x, dtype=tf.float32)


@BACKWARD
@given(data=st.data())
def test_properties_matmul_gradient(data):
    m, k, n = (data.draw(st.integers(1, 4)) for _ in range(3))
    a = _smooth_values(data.draw, (m, k), -3, 3)
    b = _smooth_values(data.draw, (k, n), -3, 3)
    _assert_gradient_shapes(tf.matmul, a, b)
    check_gradients(tf.matmul, a, b)
    check_gradients(tf.matmul, a, b, dtype=tf.float32)

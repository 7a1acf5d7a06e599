"""Elementwise math, comparisons, logical ops and matmul (microtf/ops/math_ops.py).

Oracle: numpy in float64 for forward values, central differences (microtf.testing) for gradients,
TF_SEMANTICS.md sections 2.2, 2.5, 2.6, 2.7 and 2.10 for dtype rules, errors and subgradients.
Every test turns RuntimeWarnings into errors, so one leaking from numpy fails it.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import microtf as tf
from microtf.testing import check_gradients

InvalidArgumentError = tf.errors.InvalidArgumentError
pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

FLOAT_DTYPES = [np.float32, np.float64]
FWD_TOL = {np.float32: dict(rtol=2e-6, atol=1e-6), np.float64: dict(rtol=1e-12, atol=1e-12)}
RNG = np.random.default_rng(0)


def np_ieee(fn, *arrays):
    """numpy's own result, with its warnings about inf/nan silenced (the reference answer)."""
    with np.errstate(all="ignore"):
        return fn(*arrays)


def helper_test_op(tf_fn, np_fn, arrays, grad=True):
    """Forward vs numpy float64 and gradient vs central differences, in float32 and float64."""
    for dtype in FLOAT_DTYPES:
        xs = [np.asarray(a, dtype=dtype) for a in arrays]
        got = tf_fn(*[tf.constant(x) for x in xs])
        expected = np_ieee(np_fn, *[x.astype(np.float64) for x in xs])
        assert got.dtype == dtype
        assert tuple(got.shape) == expected.shape
        np.testing.assert_allclose(got.numpy(), expected, **FWD_TOL[dtype])
        if grad:
            check_gradients(tf_fn, *xs, dtype=dtype)


def sample(shape, low=-2.0, high=2.0):
    return RNG.uniform(low, high, size=shape)


def away_from_zero(shape):
    return RNG.choice([-1, 1], size=shape) * RNG.uniform(0.5, 2.0, size=shape)


# -- unary ops ---------------------------------------------------------------------------------
# (name, tf function, numpy function, input sampler, differentiable)
UNARY = [
    ("negative", tf.negative, np.negative, sample, True),
    ("square", tf.square, np.square, sample, True),
    ("sqrt", tf.sqrt, np.sqrt, lambda s: sample(s, 0.2, 3.0), True),
    ("exp", tf.exp, np.exp, sample, True),
    ("log", tf.math.log, np.log, lambda s: sample(s, 0.2, 3.0), True),
    ("log1p", tf.math.log1p, np.log1p, lambda s: sample(s, -0.8, 3.0), True),
    ("abs", tf.abs, np.abs, away_from_zero, True),
    ("sign", tf.sign, np.sign, away_from_zero, True),
    ("reciprocal", tf.math.reciprocal, np.reciprocal, away_from_zero, True),
    ("round", tf.round, np.round, lambda s: sample(s, -5, 5), False),
    ("tanh", tf.tanh, np.tanh, sample, True),
    ("sigmoid", tf.sigmoid, lambda x: 1 / (1 + np.exp(-x)), sample, True),
]
SHAPES = [(), (1, 1), (3, 5), (0, 3)]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name,tf_fn,np_fn,sampler,grad", UNARY, ids=[u[0] for u in UNARY])
def test_unary_forward_and_gradient(name, tf_fn, np_fn, sampler, grad, shape):
    helper_test_op(tf_fn, np_fn, [sampler(shape)], grad=grad)


# -- binary ops --------------------------------------------------------------------------------
def floor_safe(shape):
    # Keeps x / y away from integers, where floordiv and floormod jump.
    return RNG.integers(-3, 3, size=shape) + RNG.uniform(0.2, 0.8, size=shape)


BINARY = [
    ("add", tf.add, np.add, sample, sample, True),
    ("subtract", tf.subtract, np.subtract, sample, sample, True),
    ("multiply", tf.multiply, np.multiply, sample, sample, True),
    ("divide", tf.divide, np.divide, sample, away_from_zero, True),
    ("pow", tf.pow, np.power, lambda s: sample(s, 0.3, 2.0), sample, True),
    ("maximum", tf.maximum, np.maximum, sample, sample, True),
    ("minimum", tf.minimum, np.minimum, sample, sample, True),
    ("floormod", tf.math.floormod, np.mod, floor_safe, lambda s: np.ones(s), True),
    ("floordiv", tf.math.floordiv, np.floor_divide, sample, away_from_zero, False),
]
PAIRS = [((3, 5), (3, 5)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((), (3, 5)), ((1, 1), ()),
         ((), ()), ((0, 3), (1, 3)), ((0, 3), ())]


@pytest.mark.parametrize("xs,ys", PAIRS, ids=str)
@pytest.mark.parametrize("name,tf_fn,np_fn,sx,sy,grad", BINARY, ids=[b[0] for b in BINARY])
def test_binary_forward_and_gradient(name, tf_fn, np_fn, sx, sy, grad, xs, ys):
    helper_test_op(tf_fn, np_fn, [sx(xs), sy(ys)], grad=grad)
    helper_test_op(tf_fn, np_fn, [sy(ys), sx(xs)] if name in ("add", "multiply") else
                   [sx(ys), sy(xs)], grad=grad)  # the broadcast side swapped


def test_clip_by_value_forward_and_gradient():
    t = np.array([[-3.0, -1.0, 0.5], [1.5, 4.0, 0.2]])
    helper_test_op(lambda x, lo, hi: tf.clip_by_value(x, lo, hi),
                   lambda x, lo, hi: np.clip(x, lo, hi), [t, np.array(-1.5), np.array([0, 1, 2.])])
    for dtype in FLOAT_DTYPES:
        x = tf.constant(np.array([-2.0, -1.0, 0.0, 1.0, 2.0], dtype))
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.clip_by_value(x, -1.0, 1.0)
        np.testing.assert_array_equal(y.numpy(), [-1, -1, 0, 1, 1])
        # Inside the closed bounds the gradient passes; outside it is 0.
        np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [0, 1, 1, 1, 0])


def test_clip_by_value_edges():
    assert tf.clip_by_value(tf.constant([1, 5, -3]), 0, 2).numpy().tolist() == [1, 2, 0]
    assert tf.clip_by_value(tf.constant([0.0, 5.0]), 3.0, 1.0).numpy().tolist() == [3, 3]
    with pytest.raises(TypeError, match="Cannot convert 0.5 to EagerTensor of dtype int32"):
        tf.clip_by_value(tf.constant([1, 2]), 0.5, 2)
    with pytest.raises(ValueError, match=r"Shapes \(3, 1\) and \(2,\) are incompatible"):
        tf.clip_by_value(tf.constant([1.0, 2.0]), tf.zeros((3, 1)), 1.0)


# -- extreme values: numpy's IEEE results, no RuntimeWarning -----------------------------------
EXTREMES = [np.inf, -np.inf, np.nan, 1e30, -1e30, 1e-40, 5e-324, 0.0, -0.0, 1.0, -2.5, 88.0,
            710.0]


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name,tf_fn,np_fn,sampler,grad", UNARY, ids=[u[0] for u in UNARY])
def test_unary_extreme_values(name, tf_fn, np_fn, sampler, grad, dtype):
    x = np.array(EXTREMES, dtype=dtype)
    got = tf_fn(tf.constant(x)).numpy()
    np.testing.assert_allclose(got, np_ieee(np_fn, x), rtol=4 * np.finfo(dtype).eps, atol=0)
    if grad:
        with tf.GradientTape() as tape:  # gradients at extremes must not warn either
            xt = tf.constant(x)
            tape.watch(xt)
            y = tf_fn(xt)
        assert tape.gradient(y, xt).shape == x.shape


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name,tf_fn,np_fn,sx,sy,grad", BINARY, ids=[b[0] for b in BINARY])
def test_binary_extreme_values(name, tf_fn, np_fn, sx, sy, grad, dtype):
    x = np.array(EXTREMES, dtype=dtype)[:, None]
    y = np.array(EXTREMES, dtype=dtype)[None, :]
    got = tf_fn(tf.constant(x), tf.constant(y))
    assert got.dtype == dtype
    np.testing.assert_array_equal(got.numpy(), np_ieee(np_fn, x, y))
    if grad:
        xt, yt = tf.constant(x), tf.constant(y)
        with tf.GradientTape() as tape:
            tape.watch([xt, yt])
            out = tf_fn(xt, yt)
        gx, gy = tape.gradient(out, [xt, yt])
        assert gx.shape == x.shape and gy.shape == y.shape


def test_overflow_to_inf_in_float32():
    big = tf.constant(1e30)
    assert np.isposinf((big * big).numpy())
    assert np.isnan((tf.constant(np.inf) - np.inf).numpy())
    assert np.isposinf(tf.exp(100.0).numpy())
    assert tf.exp(100.0).dtype == tf.float32


# -- subgradients at kinks (TF_SEMANTICS.md 2.10) ----------------------------------------------
def grad_at(fn, *values, dtype=np.float32):
    xs = [tf.constant(np.asarray(v, dtype)) for v in values]
    with tf.GradientTape() as tape:
        tape.watch(xs)
        y = fn(*xs)
    return [None if g is None else g.numpy() for g in tape.gradient(y, xs)]


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=["f32", "f64"])
def test_subgradients_at_zero(dtype):
    assert grad_at(tf.abs, 0.0, dtype=dtype) == [0.0]
    assert grad_at(tf.sqrt, 0.0, dtype=dtype) == [np.inf]
    assert grad_at(lambda x: x ** 2.0, 0.0, dtype=dtype) == [0.0]
    assert grad_at(lambda x: tf.pow(x, 0.5), 0.0, dtype=dtype) == [np.inf]
    assert grad_at(tf.math.log, 0.0, dtype=dtype) == [np.inf]
    assert grad_at(tf.sign, 0.0, dtype=dtype) == [0.0]
    assert grad_at(tf.round, 0.5, dtype=dtype) == [None]


def test_maximum_minimum_ties_give_gradient_to_x():
    """TF's math_grad: xmask = x >= y for Maximum, x <= y for Minimum."""
    assert grad_at(tf.maximum, 1.0, 1.0) == [1.0, 0.0]
    assert grad_at(tf.minimum, 1.0, 1.0) == [1.0, 0.0]
    gx, gy = grad_at(tf.maximum, [1.0, 2.0, 3.0], 2.0)
    np.testing.assert_array_equal(gx, [0, 1, 1])
    assert gy == 1.0  # summed over the broadcast axis
    gx, gy = grad_at(tf.minimum, [1.0, 2.0, 3.0], 2.0)
    np.testing.assert_array_equal(gx, [1, 1, 0])
    assert gy == 1.0


def test_pow_gradient_wrt_exponent_is_zero_for_nonpositive_base():
    gx, gy = grad_at(tf.pow, [0.0, -2.0, 2.0], 2.0, dtype=np.float64)
    np.testing.assert_allclose(gx, [0, -4, 4])
    np.testing.assert_allclose(gy, 4 * np.log(2))  # only x = 2 contributes x**y * log(x)


# -- second derivatives (nested tapes) ---------------------------------------------------------
def second_derivative(fn, x0, dtype=np.float64):
    x = tf.constant(np.asarray(x0, dtype))
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = fn(x)
        g = inner.gradient(y, x)
    return outer.gradient(g, x).numpy()


SECOND = [
    ("pow3", lambda x: x ** 3.0, lambda x: 6 * x),
    ("square", tf.square, lambda x: 2 + 0 * x),
    ("sqrt", tf.sqrt, lambda x: -0.25 * x ** -1.5),
    ("exp", tf.exp, np.exp),
    ("log", tf.math.log, lambda x: -1 / x ** 2),
    ("log1p", tf.math.log1p, lambda x: -1 / (1 + x) ** 2),
    ("tanh", tf.tanh, lambda x: -2 * np.tanh(x) * (1 - np.tanh(x) ** 2)),
    ("sigmoid", tf.sigmoid, lambda x: (s := 1 / (1 + np.exp(-x))) * (1 - s) * (1 - 2 * s)),
    ("reciprocal", tf.math.reciprocal, lambda x: 2 / x ** 3),
    ("divide", lambda x: 1.0 / x, lambda x: 2 / x ** 3),
    ("abs_times_x", lambda x: tf.abs(x) * x, lambda x: 2 * np.sign(x)),
]


@pytest.mark.parametrize("name,fn,d2", SECOND, ids=[s[0] for s in SECOND])
def test_second_derivative(name, fn, d2):
    x0 = np.array([0.3, 1.7, 2.5])
    np.testing.assert_allclose(second_derivative(fn, x0), d2(x0), rtol=1e-10)
    if name == "pow3":
        assert second_derivative(fn, 3.0) == 18.0  # TF_SEMANTICS.md 2.10: x**3 at 3


@pytest.mark.skipif(not hasattr(tf, "reduce_sum"), reason="check_gradients(order=2) needs "
                    "tf.reduce_sum (reduction_ops)")
@pytest.mark.parametrize("fn", [tf.tanh, tf.exp, lambda x: x * tf.sqrt(x),
                                lambda x: tf.maximum(x, 1.0) * x, lambda x: tf.pow(x, x),
                                lambda x: tf.clip_by_value(x, 0.5, 2.0) * x / (1.0 + x)],
                         ids=["tanh", "exp", "x_sqrt", "max_times_x", "x_pow_x", "clip"])
def test_check_gradients_order_2(fn):
    check_gradients(fn, np.array([[0.4, 1.3], [2.2, 0.7]]), order=2)


# -- comparisons and logical ops ---------------------------------------------------------------
COMPARISONS = [(tf.equal, np.equal), (tf.not_equal, np.not_equal), (tf.less, np.less),
               (tf.less_equal, np.less_equal), (tf.greater, np.greater),
               (tf.greater_equal, np.greater_equal)]


@pytest.mark.parametrize("tf_fn,np_fn", COMPARISONS, ids=[c[1].__name__ for c in COMPARISONS])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64])
def test_comparison_forward(tf_fn, np_fn, dtype):
    x = np.array([[0, 1, 2], [3, 1, -1]], dtype=dtype)
    y = np.array([1, 1, -1], dtype=dtype)
    for a, b in [(x, y), (y, x), (x, x), (x[:, :1], y)]:
        got = tf_fn(tf.constant(a), tf.constant(b))
        assert got.dtype == tf.bool
        np.testing.assert_array_equal(got.numpy(), np_fn(a, b))
    e = np.zeros((0, 3), dtype)
    assert tf_fn(tf.constant(e), tf.constant(y)).shape == (0, 3)
    if dtype in FLOAT_DTYPES:
        ex = np.array(EXTREMES, dtype)
        np.testing.assert_array_equal(tf_fn(tf.constant(ex[:, None]), tf.constant(ex)).numpy(),
                                      np_fn(ex[:, None], ex))


@pytest.mark.parametrize("tf_fn,np_fn", COMPARISONS, ids=[c[1].__name__ for c in COMPARISONS])
def test_comparison_errors_and_no_gradient(tf_fn, np_fn):
    f32, f64 = tf.constant([1.0]), tf.constant([1.0], tf.float64)
    with pytest.raises(InvalidArgumentError, match="expected to be a float tensor but is a "
                       "double tensor"):
        tf_fn(f32, f64)
    with pytest.raises(InvalidArgumentError, match=r"Incompatible shapes: \[2,3\] vs. \[2\]"):
        tf_fn(tf.zeros((2, 3)), tf.zeros((2,)))
    # The bool factor is a constant for the tape: d(cast(x op 0.5) * x)/dx = cast(x op 0.5).
    for x0 in (0.0, 0.5, 1.0):
        assert grad_at(lambda x: tf.cast(tf_fn(x, 0.5), tf.float32) * x, x0) == [np_fn(x0, 0.5)]


def test_equality_on_strings_and_bools():
    s = tf.constant(["a", "b"])
    np.testing.assert_array_equal(tf.equal(s, "a").numpy(), [True, False])
    np.testing.assert_array_equal(tf.not_equal(s, tf.constant(["a", "c"])).numpy(), [False, True])
    np.testing.assert_array_equal(tf.equal(tf.constant([True, False]), True).numpy(),
                                  [True, False])
    with pytest.raises(InvalidArgumentError, match="Value for attr 'T' of string"):
        tf.less(s, "a")


def test_comparison_operators():
    x = tf.constant([1, 2, 3])
    assert (x < 2).numpy().tolist() == [True, False, False]
    assert (x <= 2).numpy().tolist() == [True, True, False]
    assert (x > 2).numpy().tolist() == [False, False, True]
    assert (x >= 2).numpy().tolist() == [False, True, True]
    assert (x == 2).numpy().tolist() == [False, True, False]
    assert (x != 2).numpy().tolist() == [True, False, True]
    assert (x == tf.constant([1, 2])) is False  # incompatible shapes: False, as TF


LOGICAL = [(tf.logical_and, np.logical_and), (tf.logical_or, np.logical_or),
           (tf.logical_xor, np.logical_xor)]


@pytest.mark.parametrize("tf_fn,np_fn", LOGICAL, ids=[c[1].__name__ for c in LOGICAL])
def test_logical_binary(tf_fn, np_fn):
    a = np.array([[True, True, False, False]])
    b = np.array([[True], [False]])
    np.testing.assert_array_equal(tf_fn(tf.constant(a), tf.constant(b)).numpy(), np_fn(a, b))
    np.testing.assert_array_equal(tf_fn(tf.constant(a), True).numpy(), np_fn(a, True))
    assert tf_fn(tf.constant(np.zeros((0, 2), bool)), False).shape == (0, 2)
    name = tf_fn.op_def.name
    with pytest.raises(InvalidArgumentError, match=r"cannot compute %s as input #1\(zero-based\) "
                       r"was expected to be a bool tensor but is a int32 tensor" % name):
        tf_fn(tf.constant([True]), tf.constant([1]))
    with pytest.raises(InvalidArgumentError, match="float tensor"):
        tf_fn(tf.constant([1.0]), tf.constant([True]))
    with pytest.raises(InvalidArgumentError, match="Incompatible shapes"):
        tf_fn(tf.constant([True, False]), tf.constant([True, False, True]))


def test_logical_not_and_bool_operators():
    a, b = tf.constant([True, True, False, False]), tf.constant([True, False, True, False])
    assert tf.logical_not(a).numpy().tolist() == [False, False, True, True]
    assert (~a).numpy().tolist() == [False, False, True, True]
    assert (a & b).numpy().tolist() == [True, False, False, False]
    assert (a | b).numpy().tolist() == [True, True, True, False]
    assert (a ^ b).numpy().tolist() == [False, True, True, False]
    assert (True & b).numpy().tolist() == [True, False, True, False]
    with pytest.raises(InvalidArgumentError, match="expected to be a bool tensor but is a float"):
        tf.logical_not(tf.constant(1.0))


# -- TF's dtype rules (TF_SEMANTICS.md 2.2 and 2.7) --------------------------------------------
i32 = tf.constant(1)
VALUE_RULES = [
    ("int_truediv", lambda: tf.constant(7) / 2, tf.float64, 3.5),
    ("int_int_truediv", lambda: tf.constant(7) / tf.constant(2), tf.float64, 3.5),
    ("int64_truediv", lambda: tf.constant(7, tf.int64) / tf.constant(2, tf.int64), tf.float64,
     3.5),
    ("int8_truediv", lambda: tf.constant(7, tf.int8) / tf.constant(2, tf.int8), tf.float32, 3.5),
    ("divide_pyints", lambda: tf.divide(7, 2), tf.float64, 3.5),
    ("floordiv_neg", lambda: tf.constant(-7) // 2, tf.int32, -4),
    ("tf_floordiv", lambda: tf.math.floordiv(-7, 2), tf.int32, -4),
    ("floormod_int", lambda: tf.constant(-7) % 3, tf.int32, 2),
    ("floormod_float", lambda: tf.constant(-7.0) % 3, tf.float32, 2.0),
    ("float_div_zero", lambda: tf.constant(1.0) / 0, tf.float32, np.inf),
    ("int_truediv_zero", lambda: tf.constant(-7) / 0, tf.float64, -np.inf),
    ("float_floordiv_zero", lambda: tf.constant(1.0) // 0, tf.float32, np.inf),
    ("sqrt_neg", lambda: tf.sqrt(-1.0), tf.float32, np.nan),
    ("log_zero", lambda: tf.math.log(0.0), tf.float32, -np.inf),
    ("int_pow", lambda: tf.constant(2) ** 2, tf.int32, 4),
    ("pow_float_int", lambda: tf.pow(2.0, 3), tf.float32, 8.0),
    ("add_float_first", lambda: tf.add(1.5, 2), tf.float32, 3.5),
    ("f64_plus_int", lambda: tf.constant(1.5, tf.float64) + 1, tf.float64, 2.5),
    ("int_plus_true", lambda: i32 + True, tf.int32, 2),
    ("int_plus_np_float", lambda: i32 + np.float64(2.0), tf.int32, 3),
    ("string_concat", lambda: tf.constant("a") + "b", tf.string, b"ab"),
    ("int32_overflow", lambda: tf.constant(2 ** 31 - 1) + 1, tf.int32, -2 ** 31),
    ("int32_truncates_big", lambda: tf.constant(1) + 2 ** 40, tf.int32, 1),
    ("int32_mul_overflow", lambda: tf.constant(2 ** 16) * 2 ** 16, tf.int32, 0),
    ("int_min_floordiv", lambda: tf.constant(-2 ** 31) // -1, tf.int32, -2 ** 31),
    ("abs_int", lambda: abs(tf.constant(-3)), tf.int32, 3),
    ("neg_int", lambda: -tf.constant(3), tf.int32, -3),
    ("round_int", lambda: tf.round(tf.constant(3)), tf.int32, 3),
    ("square_int", lambda: tf.square(tf.constant(-3)), tf.int32, 9),
]


@pytest.mark.parametrize("expr,dtype,value", [r[1:] for r in VALUE_RULES],
                         ids=[r[0] for r in VALUE_RULES])
def test_dtype_rule_values(expr, dtype, value):
    got = expr()
    assert got.dtype == dtype
    if isinstance(value, float) and np.isnan(value):
        assert np.isnan(got.numpy())
    else:
        assert got.numpy() == value


def test_numpy_operands_cast_unsafely_to_tensor_dtype():
    got = tf.constant([1, 2]) + np.array([1.5, 2.0])
    assert got.dtype == tf.int32 and got.numpy().tolist() == [2, 4]
    got = tf.constant([1.0, 2.0]) + np.array([1.0, 2.0])
    assert got.dtype == tf.float32
    got = np.array([1.0, 2.0]) + tf.constant([1.0, 2.0])
    assert isinstance(got, tf.Tensor) and got.dtype == tf.float32
    got = tf.constant([1, 2]) / np.array([1.5, 2.0])  # y cast to int32 first, then true division
    assert got.dtype == tf.float64 and got.numpy().tolist() == [1.0, 1.0]
    got = np.array([1.0, 3.0]) / tf.constant([2.0, 4.0])  # reflected: the tensor's dtype wins
    assert isinstance(got, tf.Tensor) and got.dtype == tf.float32
    np.testing.assert_array_equal(got.numpy(), [0.5, 0.75])
    for got in (np.array([3.0]) - tf.constant([1.0]), np.array([3.0]) ** tf.constant([2.0])):
        assert isinstance(got, tf.Tensor) and got.dtype == tf.float32


def test_variables_as_operands():
    v = tf.Variable([1.0, -2.0])
    assert (v / 2).numpy().tolist() == [0.5, -1.0]
    assert (2.0 / v).dtype == tf.float32
    with tf.GradientTape() as tape:
        y = tf.maximum(v, 0.0) * v + tf.abs(v) / v
    np.testing.assert_array_equal(tape.gradient(y, v).numpy(), [2.0, 0.0])


def test_round_is_bankers():
    got = tf.round([0.5, 1.5, 2.5, -0.5, -1.5, 0.49999997])
    np.testing.assert_array_equal(got.numpy(), [0, 2, 2, -0.0, -2, 0])
    assert np.signbit(got.numpy()[3])


ADD_MSG = (r"cannot compute AddV2 as input #1\(zero-based\) was expected to be a int32 tensor "
           r"but is a float tensor \[Op:AddV2\]")
ERROR_RULES = [
    ("int_plus_float", lambda: i32 + 1.5, InvalidArgumentError, ADD_MSG),
    ("tf_add_int_float", lambda: tf.add(i32, 1.5), InvalidArgumentError, ADD_MSG),
    ("tf_add_pyints", lambda: tf.add(1, 2.5), InvalidArgumentError, ADD_MSG),
    ("int_plus_f32", lambda: i32 + tf.constant(1.5), InvalidArgumentError, ADD_MSG),
    ("f32_plus_f64", lambda: tf.constant(1.0) + tf.constant(1.0, tf.float64),
     InvalidArgumentError, "expected to be a float tensor but is a double tensor"),
    ("int32_plus_int64", lambda: i32 + tf.constant(1, tf.int64), InvalidArgumentError,
     "expected to be a int32 tensor but is a int64 tensor"),
    ("mul_int_f32", lambda: i32 * tf.constant(1.5), InvalidArgumentError, r"\[Op:Mul\]"),
    ("bool_plus_int", lambda: tf.constant(True) + 1, InvalidArgumentError,
     "Value for attr 'T' of bool is not in the list of allowed values"),
    ("int_minus_float", lambda: i32 - 1.5, TypeError,
     "Cannot convert 1.5 to EagerTensor of dtype int32"),
    ("int_times_float", lambda: i32 * 1.5, TypeError,
     "Cannot convert 1.5 to EagerTensor of dtype int32"),
    ("int_pow_float", lambda: i32 ** 1.5, TypeError, "Cannot convert 1.5"),
    ("int_floordiv_float", lambda: i32 // 1.5, TypeError, "Cannot convert 1.5"),
    ("float_plus_int_reflected", lambda: 1.5 + i32, TypeError, "Cannot convert 1.5"),
    ("float_times_int_reflected", lambda: 1.5 * i32, TypeError, "Cannot convert 1.5"),
    ("tf_multiply", lambda: tf.multiply(i32, 1.5), TypeError, "Cannot convert 1.5"),
    ("int_truediv_float", lambda: i32 / 1.5, TypeError,
     r"^`x` and `y` must have the same dtype, got tf.int32 != tf.float32.$"),
    ("int_truediv_f32", lambda: i32 / tf.constant(1.5), TypeError,
     r"`x` and `y` must have the same dtype, got tf.int32 != tf.float32."),
    ("tf_divide", lambda: tf.divide(i32, 1.5), TypeError, "tf.int32 != tf.float32"),
    ("int_floordiv_zero", lambda: tf.constant([1, 2]) // tf.constant([1, 0]),
     InvalidArgumentError, r"Integer division by zero \[Op:FloorDiv\]"),
    ("int_mod_zero", lambda: tf.constant(1) % 0, InvalidArgumentError,
     r"Integer division by zero \[Op:FloorMod\]"),
    ("int_negative_pow", lambda: tf.constant(2) ** -1, InvalidArgumentError,
     r"Integers to negative integer powers are not allowed \[Op:Pow\]"),
    ("sqrt_int", lambda: tf.sqrt(tf.constant(4)), InvalidArgumentError,
     "Value for attr 'T' of int32 is not in the list of allowed values: float, double"),
    ("exp_int", lambda: tf.exp(tf.constant(4)), InvalidArgumentError, r"\{\{node Exp\}\}"),
    ("broadcast_add", lambda: tf.zeros((2, 3)) + tf.zeros((2,)), InvalidArgumentError,
     r"Incompatible shapes: \[2,3\] vs. \[2\] \[Op:AddV2\]"),
    ("broadcast_mul", lambda: tf.zeros((2, 3)) * tf.zeros((2,)), InvalidArgumentError,
     r"Incompatible shapes: \[2,3\] vs. \[2\] \[Op:Mul\]"),
    ("broadcast_max", lambda: tf.maximum(tf.zeros((0, 3)), tf.zeros((2,))),
     InvalidArgumentError, r"Incompatible shapes: \[0,3\] vs. \[2\] \[Op:Maximum\]"),
    ("broadcast_div", lambda: tf.zeros((4,)) / tf.zeros((3,)), InvalidArgumentError,
     r"Incompatible shapes: \[4\] vs. \[3\] \[Op:RealDiv\]"),
    ("broadcast_int_div", lambda: tf.constant([1, 2]) / tf.constant([1, 2, 3]),
     InvalidArgumentError, r"Incompatible shapes: \[2\] vs. \[3\]"),
]


@pytest.mark.parametrize("expr,cls,message", [r[1:] for r in ERROR_RULES],
                         ids=[r[0] for r in ERROR_RULES])
def test_dtype_and_shape_errors(expr, cls, message):
    with pytest.raises(cls, match=message) as info:
        expr()
    assert type(info.value) is cls or cls is InvalidArgumentError


def test_python_operators_match_functions():
    x, y = tf.constant([[1.5, -2.0]]), tf.constant([[0.5], [3.0]])
    a, b = x.numpy(), y.numpy()
    for got, expected in [(x + y, a + b), (x - y, a - b), (x * y, a * b), (x / y, a / b),
                          (x // y, a // b), (x % y, a % b), (abs(x) ** y, abs(a) ** b),
                          (-x, -a), (abs(x), abs(a)), (y @ x, b @ a), (2.0 - x, 2 - a),
                          (2.0 / x, 2 / a), (2.0 ** x, 2 ** a), (3.0 % y, 3 % b)]:
        assert got.dtype == tf.float32
        np.testing.assert_allclose(got.numpy(), expected, rtol=1e-6)


# -- property test: broadcasting gradients ------------------------------------------------------
def np_sum_to_shape(g, shape):
    g = g.sum(axis=tuple(range(g.ndim - len(shape))))
    return g.sum(axis=tuple(i for i, d in enumerate(shape) if d == 1), keepdims=True)


PROPERTY_OPS = {
    "add": (tf.add, lambda x, y, dy: (dy, dy)),
    "subtract": (tf.subtract, lambda x, y, dy: (dy, -dy)),
    "multiply": (tf.multiply, lambda x, y, dy: (dy * y, dy * x)),
    "maximum": (tf.maximum, lambda x, y, dy: (dy * (x >= y), dy * (x < y))),
}


@settings(max_examples=60, deadline=None)
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_side=0, max_side=3, max_dims=3),
       op=st.sampled_from(sorted(PROPERTY_OPS)), data=st.data())
def test_broadcast_gradients_property(shapes, op, data):
    (xs, ys), out_shape = shapes.input_shapes, shapes.result_shape
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 16)))
    # Small integers make ties in maximum likely, and sums exact.
    x, y, dy = (rng.integers(-2, 3, size=s).astype(np.float64) for s in (xs, ys, out_shape))
    tf_fn, np_grads = PROPERTY_OPS[op]
    xt, yt = tf.constant(x), tf.constant(y)
    with tf.GradientTape() as tape:
        tape.watch([xt, yt])
        out = tf_fn(xt, yt)
    assert tuple(out.shape) == out_shape
    gx, gy = tape.gradient(out, [xt, yt], output_gradients=tf.constant(dy))
    ex, ey = np_grads(np.broadcast_to(x, out_shape), np.broadcast_to(y, out_shape), dy)
    assert tuple(gx.shape) == xs and tuple(gy.shape) == ys
    np.testing.assert_array_equal(gx.numpy(), np_sum_to_shape(ex, xs))
    np.testing.assert_array_equal(gy.numpy(), np_sum_to_shape(ey, ys))


# -- matmul (TF_SEMANTICS.md 2.6) --------------------------------------------------------------
def test_matmul_rank_1_is_rejected_with_a_hint():
    with pytest.raises(InvalidArgumentError, match=r"In\[0\] ndims must be >= 2") as info:
        tf.matmul(tf.constant([1.0, 2.0]), tf.constant([[1.0], [2.0]]))
    assert "[Op:MatMul]" in str(info.value) and "Hint" in str(info.value)
    with pytest.raises(InvalidArgumentError, match=r"In\[1\] ndims must be >= 2"):
        tf.constant([[1.0, 2.0]]) @ tf.constant([1.0, 2.0])


def test_matmul_size_incompatible_message():
    a = tf.zeros((2, 3))
    msg = r"Matrix size-incompatible: In\[0\]: \[2,3\], In\[1\]: \[2,3\] \[Op:MatMul\]"
    with pytest.raises(InvalidArgumentError, match=msg):
        tf.matmul(a, a)
    with pytest.raises(InvalidArgumentError, match=msg):
        a @ a
    with pytest.raises(InvalidArgumentError, match="Incompatible shapes"):
        tf.zeros((2, 2, 3)) @ tf.zeros((3, 3, 4))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("sa,sb", [((2, 3), (3, 4)), ((1, 1), (1, 1)), ((3, 5), (5, 1)),
                                   ((5, 1, 2, 3), (4, 3, 4)), ((2, 3), (4, 3, 2)),
                                   ((3, 0), (0, 4)), ((0, 3), (3, 2))], ids=str)
def test_matmul_forward_and_gradient(sa, sb, dtype):
    a, b = sample(sa), sample(sb)
    got = tf.matmul(tf.constant(a.astype(dtype)), tf.constant(b.astype(dtype)))
    expected = np.matmul(a, b)
    assert got.dtype == dtype and tuple(got.shape) == expected.shape
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5, atol=1e-5)
    check_gradients(tf.matmul, a, b, dtype=dtype)


def test_matmul_batched_broadcast_shape():
    assert tf.matmul(tf.zeros((5, 1, 2, 3)), tf.zeros((4, 3, 4))).shape == (5, 4, 2, 4)


@pytest.mark.parametrize("ta,tb", [(False, True), (True, False), (True, True)])
@pytest.mark.parametrize("batched", [False, True])
def test_matmul_transpose_flags(ta, tb, batched):
    a = sample((2, 3, 4) if batched else (3, 4))
    b = sample((4, 5) if batched else (4, 5))
    a_in = np.swapaxes(a, -1, -2).copy() if ta else a
    b_in = np.swapaxes(b, -1, -2).copy() if tb else b
    fn = lambda x, y: tf.matmul(x, y, transpose_a=ta, transpose_b=tb)  # noqa: E731
    np.testing.assert_allclose(fn(tf.constant(a_in), tf.constant(b_in)).numpy(), a @ b,
                               rtol=1e-12)
    check_gradients(fn, a_in, b_in)
    check_gradients(fn, a_in, b_in, dtype=tf.float32)


@pytest.mark.parametrize("flags", [dict(adjoint_a=True), dict(adjoint_b=True),
                                   dict(adjoint_a=True, transpose_b=True),
                                   dict(transpose_a=True, adjoint_a=True)], ids=str)
def test_matmul_adjoint_is_transpose_for_real_tensors(flags):
    ta = flags.get("transpose_a", False) or flags.get("adjoint_a", False)
    tb = flags.get("transpose_b", False) or flags.get("adjoint_b", False)
    a, b = sample((4, 3) if ta else (3, 4)), sample((5, 4) if tb else (4, 5))
    fn = lambda x, y: tf.matmul(x, y, **flags)  # noqa: E731
    np.testing.assert_allclose(fn(tf.constant(a), tf.constant(b)).numpy(),
                               (a.T if ta else a) @ (b.T if tb else b), rtol=1e-12)
    check_gradients(fn, a, b)


def test_matmul_records_the_flags_it_was_given():
    # tf.matmul passes transpose flags to the MatMul op only when one is set; the gradient
    # reads a missing flag as False.
    a, b = tf.constant(sample((3, 4))), tf.constant(sample((5, 4)))
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([a, b])
        plain = tf.matmul(a, tf.transpose(b))
        flagged = tf.matmul(a, b, transpose_b=True)
    for y in (plain, flagged):
        ga, gb = tape.gradient(y, [a, b])
        np.testing.assert_allclose(ga.numpy(), np.ones((3, 5)) @ b.numpy(), rtol=1e-12)
        np.testing.assert_allclose(gb.numpy(), np.ones((5, 3)) @ a.numpy(), rtol=1e-12)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("ta,tb", [(False, False), (True, False), (False, True), (True, True)])
def test_matmul_large_output_path(dtype, ta, tb):
    # Float outputs above math_ops._SMALL_ALLOC elements leave the compiled forward for
    # _matmul_rest, which checks the allocation in Python first; too big to run here, so the
    # path is called directly.
    from microtf.ops import math_ops
    a, b = sample((4, 3) if ta else (3, 4)), sample((5, 4) if tb else (4, 5))
    got = math_ops._matmul_rest(a.astype(dtype), b.astype(dtype), ta, tb)
    assert got.dtype == dtype
    np.testing.assert_allclose(got, (a.T if ta else a) @ (b.T if tb else b), **FWD_TOL[dtype])

def test_matmul_ints_and_mixed_dtypes():
    got = tf.matmul([[1, 2]], [[3], [4]])
    assert got.dtype == tf.int32 and got.numpy().tolist() == [[11]]
    got = tf.constant([[1, 2]], tf.int64) @ tf.constant([[3], [4]], tf.int64)
    assert got.dtype == tf.int64
    with pytest.raises(InvalidArgumentError, match="expected to be a int32 tensor but is a "
                       r"float tensor \[Op:MatMul\]"):
        tf.matmul(tf.constant([[1]]), tf.constant([[1.0]]))


def test_matmul_empty_gives_zeros():
    got = tf.matmul(tf.ones((3, 0)), tf.ones((0, 4)))
    assert got.shape == (3, 4) and not got.numpy().any()
    got = tf.matmul(tf.ones((2, 3, 0), tf.float64), tf.ones((0, 4), tf.float64))
    assert got.shape == (2, 3, 4) and not got.numpy().any()


def test_matmul_numpy_layouts():
    base = sample((6, 8))
    b = sample((4, 3))
    readonly = base[:3, :4].copy()
    readonly.flags.writeable = False
    layouts = {"fortran": np.asfortranarray(base[:3, :4]), "strided": base[::2, ::2],
               "transposed_view": base[:4, :3].T, "readonly": readonly,
               "broadcast_view": np.broadcast_to(base[0, :4], (3, 4))}
    for name, a in layouts.items():
        for dtype in FLOAT_DTYPES:
            expected = np.asarray(a, dtype) @ b.astype(dtype)
            got = tf.matmul(a.astype(dtype, copy=False), tf.constant(b.astype(dtype)))
            np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5, err_msg=name)
            got = tf.matmul(tf.constant(b.T.astype(dtype)), a.astype(dtype, copy=False).T)
            np.testing.assert_allclose(got.numpy(), expected.T, rtol=1e-5, err_msg=name)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_square_by_pow_2_matches_numpy_bitwise_and_differentiates_twice(dtype):
    # x ** 2 runs as x * x (the lab's loss); it must equal np.power exactly, extremes included.
    info = np.finfo(dtype)
    values = np.array([0.0, -0.0, 1.5, -3.25, info.max, -info.max, info.tiny, info.tiny / 4,
                       np.inf, -np.inf, np.nan, 1e20], dtype=dtype)
    got = (tf.constant(values) ** 2).numpy()
    with np.errstate(over="ignore"):
        want = np.power(values, dtype(2))
    np.testing.assert_array_equal(got, want)
    assert not np.signbit(got[1]) and not np.signbit(want[1])
    x = tf.Variable(np.array([[-1.5, 0.0, 2.0]], dtype))
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            y = x ** 2
        dx = inner.gradient(y, x)
    np.testing.assert_array_equal(dx.numpy(), 2 * x.numpy())
    np.testing.assert_array_equal(outer.gradient(dx, x).numpy(), np.full((1, 3), 2, dtype))


def test_mixed_second_derivative_of_pow_at_exponent_2():
    # d/dy (d/dx x**y) = x**(y-1) (1 + y ln x): the x**2 fast path must not be differentiated.
    x, y = tf.Variable(3.0, dtype=tf.float64), tf.Variable(2.0, dtype=tf.float64)
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            f = tf.pow(x, y)
        dfdx = inner.gradient(f, x)
    np.testing.assert_allclose(outer.gradient(dfdx, y).numpy(), 3.0 * (1 + 2 * np.log(3.0)),
                               rtol=1e-12)


def test_int_to_float16_cast_overflows_to_inf_silently():
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = tf.cast(tf.constant([70000, 1, -70000]), tf.float16).numpy()
    np.testing.assert_array_equal(got, np.array([np.inf, 1, -np.inf], np.float16))

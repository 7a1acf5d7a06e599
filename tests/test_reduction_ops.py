"""Reductions, argmax/argmin and norm (microtf/ops/reduction_ops.py).

Oracle: numpy in float64 for forward values, central differences (microtf.testing) for gradients,
TF_SEMANTICS.md sections 2.7 (integer mean, int64 argmax) and 2.10 (ties split evenly).
Warnings are errors: the mean of an empty tensor must be nan without a RuntimeWarning.
"""
import numpy as np
import pytest
from test_array_ops import FLOAT_DTYPES, helper_test_op, raises, sample

import microtf as tf
from microtf.testing import check_gradients

InvalidArgumentError = tf.errors.InvalidArgumentError
RNG_BITS = np.random.default_rng(5)
pytestmark = pytest.mark.filterwarnings("error")


def _np_axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


def np_mean(x, axis, keepdims):
    with np.errstate(all="ignore"):  # 0 / 0 = nan for empty groups, as TF
        return (np.sum(x, axis, keepdims=keepdims)
                / np.sum(np.ones_like(x), axis, keepdims=keepdims))


REDUCTIONS = {
    "sum": (tf.reduce_sum, lambda x, a, k: np.sum(x, a, keepdims=k)),
    "mean": (tf.reduce_mean, np_mean),
    "max": (tf.reduce_max, lambda x, a, k: np.max(x, a, keepdims=k, initial=-np.inf)),
    "min": (tf.reduce_min, lambda x, a, k: np.min(x, a, keepdims=k, initial=np.inf)),
    "prod": (tf.reduce_prod, lambda x, a, k: np.prod(x, a, keepdims=k)),
}
CASES = [((), None), ((1, 1), None), ((1, 1), 0), ((3, 5), None), ((3, 5), 0), ((3, 5), -1),
         ((3, 5), [0, 1]), ((3, 5), (-1,)), ((3, 5), []), ((2, 3, 4), [0, 2]), ((2, 3, 4), -2),
         ((0, 3), 0), ((0, 3), 1), ((0, 3), None)]


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@pytest.mark.parametrize("shape, axis", CASES)
@pytest.mark.parametrize("keepdims", [False, True])
def test_reduction_forward_and_gradient(name, shape, axis, keepdims):
    tf_fn, np_fn = REDUCTIONS[name]
    x = sample(shape, 0.5, 1.5) if name == "prod" else sample(shape)
    helper_test_op(lambda t: tf_fn(t, axis, keepdims=keepdims),
                   lambda a: np_fn(a, _np_axis(axis), keepdims), [x])


@pytest.mark.parametrize("name", ["sum", "mean", "prod"])
def test_second_order(name):
    tf_fn = REDUCTIONS[name][0]
    check_gradients(lambda t: tf_fn(t * t, 1) * tf_fn(t), sample((3, 4), 0.5, 1.5), order=2)


@pytest.mark.parametrize("x", [
    [[0.0, 2.0, 3.0], [0.0, 0.0, 2.0], [1.5, -2.0, 3.0]],
    [[0.0, -1.0], [1.0, 0.0]],
])
@pytest.mark.parametrize("axis", [None, 0, 1])
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_prod_gradient_with_zeros(x, axis, dtype):
    check_gradients(lambda t: tf.reduce_prod(t, axis), np.array(x), dtype=dtype)


def test_prod_gradient_one_zero_exact():
    x = tf.constant([2.0, 0.0, 3.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_prod(x)
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [0.0, 6.0, 0.0])


@pytest.mark.parametrize("fn, x, axis, expected", [
    (tf.reduce_max, [1.0, 3.0, 3.0], None, [0.0, 0.5, 0.5]),
    (tf.reduce_max, [2.0, 2.0, 2.0, 2.0], 0, [0.25] * 4),
    (tf.reduce_min, [[1.0, 1.0], [0.0, 5.0]], 1, [[0.5, 0.5], [1.0, 0.0]]),
    (tf.reduce_min, [[1.0, 1.0], [0.0, 5.0]], 0, [[0.0, 1.0], [1.0, 0.0]]),
])
def test_max_min_ties_split_evenly(fn, x, axis, expected):
    t = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(t)
        y = fn(t, axis)
    np.testing.assert_allclose(tape.gradient(y, t).numpy(), expected)


@pytest.mark.parametrize("fn, x, axis, expected, dtype", [
    (tf.reduce_sum, [[1, 2], [3, 4]], 0, [4, 6], tf.int32),
    (tf.reduce_sum, [2**31 - 1, 1], None, -2**31, tf.int32),  # wraps like TF's int32
    (tf.reduce_mean, [1, 2], None, 1, tf.int32),
    (tf.reduce_mean, [1, 2, 4], None, 2, tf.int32),
    (tf.reduce_mean, [-1, -2], None, -1, tf.int32),  # truncates toward zero
    (tf.reduce_mean, np.array([[7, 8], [-9, 9]]), 1, [7, 0], tf.int64),
    (tf.reduce_max, [[1, 5], [7, 2]], 1, [5, 7], tf.int32),
    (tf.reduce_min, [[1, 5], [7, 2]], None, 1, tf.int32),
    (tf.reduce_prod, [[1, 5], [7, 2]], 0, [7, 10], tf.int32),
])
def test_integer_reductions(fn, x, axis, expected, dtype):
    got = fn(tf.constant(x), axis)
    assert got.dtype == dtype
    np.testing.assert_array_equal(got.numpy(), expected)


@pytest.mark.parametrize("fn, dtype, expected", [
    (tf.reduce_sum, tf.float32, 0.0), (tf.reduce_prod, tf.float32, 1.0),
    (tf.reduce_mean, tf.float64, np.nan), (tf.reduce_max, tf.float32, -np.inf),
    (tf.reduce_min, tf.float64, np.inf), (tf.reduce_max, tf.int32, np.iinfo(np.int32).min),
    (tf.reduce_min, tf.int64, np.iinfo(np.int64).max), (tf.reduce_sum, tf.int32, 0),
])
def test_empty_reductions(fn, dtype, expected):
    got = fn(tf.zeros((0, 2), dtype))
    assert got.dtype == dtype and got.shape == ()
    np.testing.assert_array_equal(got.numpy(), expected)


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_extreme_values(name, dtype):
    info = np.finfo(dtype)
    x = np.array([[np.inf, 1.0, -2.0], [np.inf, -np.inf, 3.0], [np.nan, 1.0, 0.0],
                  [info.max, info.max, -0.5], [info.smallest_subnormal, 1.0, 1e-3]], dtype)
    tf_fn, np_fn = REDUCTIONS[name]
    with np.errstate(all="ignore"):  # in x's own dtype: float32 max + max overflows to inf
        expected = np_fn(x, 1, False)
    np.testing.assert_array_equal(tf_fn(tf.constant(x), 1).numpy(), expected)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("shape", [(1,), (7,), (129,), (1031,), (256, 1024), (3, 5, 7), (1000, 3),
                                   (0, 4), (4, 0), (2, 0, 3)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_sum_and_mean_over_leading_axes_match_numpy_bits(dtype, shape, keepdims):
    """Float sums over axes (0, ..., k-1) run in csrc/'s sum_rows: numpy's own order of
    additions in x's dtype (pairwise for a full sum, past its 128-element blocks; rows in order
    otherwise), hence numpy's bits, not only numpy's float64 value within a tolerance."""
    x = (RNG_BITS.standard_normal(shape) * RNG_BITS.choice([1e-3, 1.0, 1e3], shape)).astype(dtype)
    for k in range(1, len(shape) + 1):
        axes = list(range(k))
        want = np.sum(x, tuple(axes), keepdims=keepdims, dtype=dtype)
        got = tf.reduce_sum(tf.constant(x), axes, keepdims=keepdims)
        assert got.dtype == dtype and got.shape == want.shape
        np.testing.assert_array_equal(got.numpy(), want)
        with np.errstate(invalid="ignore"):  # the mean of nothing is nan
            want_mean = np.divide(want, dtype(x.size // max(want.size, 1) if x.size else 0))
        np.testing.assert_array_equal(tf.reduce_mean(tf.constant(x), axes, keepdims).numpy(),
                                      want_mean)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("axis", [None, 0])
def test_sum_over_leading_axes_extreme_values(dtype, axis):
    info = np.finfo(dtype)
    x = np.array([[np.inf, 1.0, -2.0, info.max, info.smallest_subnormal],
                  [np.inf, -np.inf, 3.0, info.max, info.smallest_subnormal],
                  [np.nan, 1.0, 0.0, -0.5, 0.0]], dtype)
    with np.errstate(all="ignore"):  # in x's own dtype: max + max overflows to inf
        want = np.sum(x, axis, dtype=dtype)
    np.testing.assert_array_equal(tf.reduce_sum(tf.constant(x), axis).numpy(), want)
    np.testing.assert_array_equal(tf.reduce_sum(tf.constant(x[:, 1:3]), axis).numpy(),
                                  np.sum(x[:, 1:3], axis, dtype=dtype))


@pytest.mark.parametrize("fn, np_fn", [(tf.reduce_any, np.any), (tf.reduce_all, np.all)])
@pytest.mark.parametrize("shape, axis", CASES)
def test_any_all(fn, np_fn, shape, axis):
    x = sample(shape) > 0
    for keepdims in (False, True):
        got = fn(tf.constant(x), axis, keepdims=keepdims)
        assert got.dtype == tf.bool
        np.testing.assert_array_equal(got.numpy(), np_fn(x, _np_axis(axis), keepdims=keepdims))


def test_any_all_need_bool():
    with raises(InvalidArgumentError, "cannot compute Any as input #0(zero-based) was expected "
                "to be a bool tensor but is a float tensor", "[Op:Any]"):
        tf.reduce_any(tf.zeros(3))
    with raises(InvalidArgumentError, "[Op:All]"):
        tf.reduce_all(tf.constant([1, 0]))


@pytest.mark.parametrize("fn", [tf.reduce_sum, tf.reduce_mean, tf.reduce_max, tf.reduce_prod])
@pytest.mark.parametrize("axis, bad", [(2, 2), (-3, -3), ([0, 5], 5)])
def test_bad_reduction_axis(fn, axis, bad):
    with raises(InvalidArgumentError, "Invalid reduction dimension (%d for input with 2 "
                "dimension(s)" % bad):
        fn(tf.zeros((2, 3)), axis)


def test_axis_as_tensor_and_tf_math():
    x = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(tf.reduce_sum(x, tf.constant(1)).numpy(), [3.0, 7.0])
    np.testing.assert_array_equal(tf.math.reduce_mean(x, axis=0).numpy(), [2.0, 3.0])
    assert int(tf.math.argmax([1, 9, 3])) == 1


# -- argmax, argmin ------------------------------------------------------------------------------
@pytest.mark.parametrize("fn, np_fn", [(tf.argmax, np.argmax), (tf.argmin, np.argmin)])
@pytest.mark.parametrize("shape, axis", [((5,), None), ((3, 5), None), ((3, 5), 1),
                                         ((3, 5), -1), ((2, 3, 4), 1), ((1, 1), 0)])
def test_argmax_argmin(fn, np_fn, shape, axis):
    x = sample(shape)
    got = fn(tf.constant(x), axis)
    assert got.dtype == tf.int64
    np.testing.assert_array_equal(got.numpy(), np_fn(x, 0 if axis is None else axis))
    assert fn(tf.constant(x.astype(np.int32)), axis, output_type=tf.int32).dtype == tf.int32


def test_argmax_ties_pick_first_and_no_gradient():
    assert tf.argmax([1.0, 3.0, 3.0]).numpy() == 1
    assert tf.argmin([[2, 1, 1]], axis=1).numpy().tolist() == [1]
    x = tf.constant([1.0, 2.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.cast(tf.argmax(x), tf.float32)
    assert tape.gradient(y, x) is None


def test_argmax_errors():
    with raises(InvalidArgumentError, "Expected dimension in the range [-2, 2), but got 2",
                "[Op:ArgMax]"):
        tf.argmax(tf.zeros((2, 3)), 2)
    with raises(InvalidArgumentError, "Reduction axis 0 is empty in shape [0,3]", "[Op:ArgMin]"):
        tf.argmin(tf.zeros((0, 3)))


# -- norm ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape, ord, axis, np_ord, np_axis", [
    ((5,), "euclidean", None, None, None), ((5,), 2, None, 2, None), ((5,), 1, None, 1, None),
    ((5,), np.inf, None, np.inf, None), ((5,), 3, None, 3, None),
    ((3, 5), "euclidean", None, None, None), ((3, 5), "fro", (0, 1), "fro", (0, 1)),
    ((3, 5), "euclidean", 1, None, 1), ((3, 5), 1, 0, 1, 0), ((3, 5), np.inf, -1, np.inf, -1),
    ((1, 1), 2, 1, 2, 1), ((), "euclidean", None, None, None),
])
@pytest.mark.parametrize("keepdims", [False, True])
def test_norm(shape, ord, axis, np_ord, np_axis, keepdims):
    x = sample(shape, 0.3, 2.0) * np.sign(sample(shape))
    if x.ndim == 0 or np_axis is None:  # tf.norm with axis=None treats the tensor as one vector
        np_fn = lambda a: np.linalg.norm(np.reshape(a, -1), np_ord).reshape(  # noqa: E731
            (1,) * a.ndim if keepdims else ())
    else:
        np_fn = lambda a: np.linalg.norm(a, np_ord, np_axis, keepdims=keepdims)  # noqa: E731
    helper_test_op(lambda t: tf.norm(t, ord, axis, keepdims), np_fn, [x])


def test_norm_gradient_at_zero_is_nan_as_tf():
    x = tf.zeros(3)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.norm(x)
    assert float(y) == 0.0
    assert np.isnan(tape.gradient(y, x).numpy()).all()


def test_norm_errors():
    with raises(ValueError, "'ord' must be a supported vector norm, got 0"):
        tf.norm(tf.ones(3), ord=0)
    with raises(ValueError, "'ord' must be a supported matrix norm, got 2"):
        tf.norm(tf.ones((2, 2)), ord=2, axis=(0, 1))
    with raises(InvalidArgumentError, "tf.cast"):
        tf.norm(tf.constant([3, 4]))

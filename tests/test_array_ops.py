"""Creation, shape, joining, gathering and indexing ops (microtf/ops/array_ops.py).

Oracle: numpy in float64 for forward values, central differences (microtf.testing) for gradients,
TF_SEMANTICS.md sections 2.1, 2.4 and 2.8 for dtypes, errors and indexing rules. Warnings are
errors, so a RuntimeWarning or DeprecationWarning leaking from numpy fails a test.
"""
import numpy as np
import pytest

import microtf as tf
from microtf.testing import check_gradients

InvalidArgumentError = tf.errors.InvalidArgumentError
pytestmark = pytest.mark.filterwarnings("error")

FLOAT_DTYPES = [np.float32, np.float64]
FWD_TOL = {np.float32: dict(rtol=1e-5, atol=1e-6), np.float64: dict(rtol=1e-12, atol=1e-12)}
RNG = np.random.default_rng(0)


def sample(shape, low=-2.0, high=2.0):
    return RNG.uniform(low, high, size=shape)


def helper_test_op(tf_fn, np_fn, arrays, grad=True, order=1):
    """Forward vs numpy float64 (values, shape, dtype) and gradient vs central differences, in
    float32 and float64."""
    for dtype in FLOAT_DTYPES:
        xs = [np.asarray(a, dtype=dtype) for a in arrays]
        got = tf_fn(*[tf.constant(x) for x in xs])
        with np.errstate(all="ignore"):
            expected = np.asarray(np_fn(*[x.astype(np.float64) for x in xs]))
        assert got.dtype == dtype
        assert tuple(got.shape) == expected.shape
        np.testing.assert_allclose(got.numpy(), expected, **FWD_TOL[dtype])
        if grad:
            check_gradients(tf_fn, *xs, dtype=dtype, order=order)


def raises(cls, *fragments):
    """Context manager: the block raises `cls` whose message contains every fragment."""
    class _Check:
        def __enter__(self):
            self.ctx = pytest.raises(cls)
            self.info = self.ctx.__enter__()

        def __exit__(self, *exc):
            result = self.ctx.__exit__(*exc)
            for f in fragments:
                assert f in str(self.info.value), (f, str(self.info.value))
            return result
    return _Check()


# -- range, linspace ---------------------------------------------------------------------------
@pytest.mark.parametrize("args, kwargs, dtype, expected", [
    ((5,), {}, tf.int32, np.arange(5)),
    ((2, 11, 3), {}, tf.int32, np.arange(2, 11, 3)),
    ((10, 0, -3), {}, tf.int32, np.arange(10, 0, -3)),
    ((1, 2, 0.25), {}, tf.float32, np.arange(1, 2, 0.25)),
    ((5.0,), {}, tf.float32, np.arange(5.0)),
    ((3,), {"dtype": tf.float64}, tf.float64, np.arange(3.0)),
    ((0,), {}, tf.int32, np.arange(0)),
    ((np.int64(4),), {}, tf.int64, np.arange(4)),
    ((1, 5), {"delta": 2}, tf.int32, np.array([1, 3])),
])
def test_range_values_and_dtype(args, kwargs, dtype, expected):
    got = tf.range(*args, **kwargs)
    assert got.dtype == dtype
    np.testing.assert_allclose(got.numpy(), expected)


def test_range_errors():
    with raises(InvalidArgumentError, "Requires delta != 0", "[Op:Range]"):
        tf.range(0, 5, 0)
    with raises(InvalidArgumentError, "Requires start <= limit when delta > 0: 5/1"):
        tf.range(5, 1)
    with raises(InvalidArgumentError, "Requires start >= limit when delta < 0: 1/5"):
        tf.range(1, 5, -1)


@pytest.mark.parametrize("start, stop, num", [(0.0, 1.0, 5), (-2.0, 3.0, 1), (1.0, 1.0, 3),
                                              ([0.0, 1.0], [2.0, -1.0], 4), (0.0, 1.0, 0)])
def test_linspace(start, stop, num):
    helper_test_op(lambda a, b: tf.linspace(a, b, num), lambda a, b: np.linspace(a, b, num),
                   [start, stop])


def test_linspace_axis_and_int_error():
    got = tf.linspace(tf.constant([0.0, 10.0]), tf.constant([1.0, 20.0]), 3, axis=-1)
    np.testing.assert_allclose(got.numpy(), [[0, 0.5, 1], [10, 15, 20]])
    with raises(InvalidArgumentError, "int32", "float, double", "[Op:LinSpace]"):
        tf.linspace(0, 10, 5)


# -- transpose, expand_dims, squeeze, reshape ---------------------------------------------------
@pytest.mark.parametrize("shape, perm", [((), None), ((1, 1), None), ((3, 5), None),
                                         ((3, 5), [0, 1]), ((2, 3, 4), [1, 2, 0]),
                                         ((2, 3, 4), (2, 0, 1)), ((0, 3), None)])
def test_transpose(shape, perm):
    helper_test_op(lambda x: tf.transpose(x, perm), lambda x: np.transpose(x, perm),
                   [sample(shape)], order=2 if shape == (2, 3, 4) else 1)


@pytest.mark.parametrize("perm, message", [
    ([0, 1, 2], "transpose expects a vector of size 2. But input(1) is a vector of size 3"),
    ([0, 2], "2 is out of range [0 .. 2)"),
    ([0, -1], "-1 is out of range [0 .. 2)"),
    ([1, 1], "0 is missing from {1,1}."),
])
def test_transpose_bad_perm(perm, message):
    with raises(InvalidArgumentError, message, "[Op:Transpose]"):
        tf.transpose(tf.zeros((2, 3)), perm)


@pytest.mark.parametrize("shape, axis", [((), 0), ((), -1), ((3, 5), 0), ((3, 5), 2),
                                         ((3, 5), -1), ((3, 5), -3), ((0, 2), 1)])
def test_expand_dims(shape, axis):
    helper_test_op(lambda x: tf.expand_dims(x, axis), lambda x: np.expand_dims(x, axis),
                   [sample(shape)])


def test_expand_dims_bad_axis():
    with raises(InvalidArgumentError, "Tried to expand dim index 3 for tensor with 2 dimensions",
                "[Op:ExpandDims]"):
        tf.expand_dims(tf.zeros((2, 3)), 3)


@pytest.mark.parametrize("shape, axis", [((1, 3, 1), None), ((1, 3, 1), 0), ((1, 3, 1), -1),
                                         ((1, 3, 1), [0, 2]), ((1, 1), None), ((3, 5), None),
                                         ((1,), None), ((0, 1), 1)])
def test_squeeze(shape, axis):
    np_axis = tuple(axis) if isinstance(axis, list) else axis
    helper_test_op(lambda x: tf.squeeze(x, axis), lambda x: np.squeeze(x, np_axis),
                   [sample(shape)])


def test_squeeze_errors():
    with raises(InvalidArgumentError, "Can not squeeze dim[1], expected a dimension of 1, got 3",
                "[Op:Squeeze]"):
        tf.squeeze(tf.zeros((1, 3)), 1)
    with raises(InvalidArgumentError, "Tried to squeeze dim index 2 for tensor with 2"):
        tf.squeeze(tf.zeros((1, 1)), 2)


def test_reshape_size_mismatch_message():
    with raises(InvalidArgumentError, "Input to reshape is a tensor with 6 values, but the "
                "requested shape has 4", "[Op:Reshape]"):
        tf.reshape(tf.zeros((2, 3)), (2, 2))
    with raises(InvalidArgumentError, "requires a multiple of 4"):
        tf.reshape(tf.zeros((2, 3)), (-1, 4))


# -- concat, split, tile ------------------------------------------------------------------------
@pytest.mark.parametrize("shapes, axis", [([(2, 3), (4, 3)], 0), ([(3, 5), (3, 1), (3, 2)], 1),
                                          ([(3, 5), (3, 5)], -1), ([(1, 1)], 0),
                                          ([(2, 3), (0, 3)], 0), ([(2, 2, 1), (2, 2, 3)], 2)])
def test_concat(shapes, axis):
    helper_test_op(lambda *xs: tf.concat(list(xs), axis),
                   lambda *xs: np.concatenate(xs, axis), [sample(s) for s in shapes],
                   order=2 if len(shapes) == 3 else 1)


def test_concat_python_and_int_inputs():
    got = tf.concat([tf.constant([1, 2]), [3]], 0)
    assert got.dtype == tf.int32 and got.numpy().tolist() == [1, 2, 3]


@pytest.mark.parametrize("values, axis, cls, message", [
    ([np.zeros((2, 3)), np.zeros((3,))], 0, InvalidArgumentError,
     "ConcatOp : Ranks of all input tensors should match: shape[0] = [2,3] vs. shape[1] = [3]"),
    ([np.zeros((2, 3)), np.zeros((2, 4))], 0, InvalidArgumentError,
     "ConcatOp : Dimension 1 in both shapes must be equal: shape[0] = [2,3] vs. shape[1] = [2,4]"),
    ([np.zeros((2, 3)), np.zeros((2, 3))], 2, InvalidArgumentError,
     "Expected concatenating dimensions in the range [-2, 2), but got 2"),
    ([np.float64(1), np.float64(2)], 0, InvalidArgumentError, "Can't concatenate scalars"),
    ([np.zeros(2), np.zeros(2, np.float32)], 0, InvalidArgumentError,
     "cannot compute ConcatV2 as input #1(zero-based) was expected to be a double tensor"),
])
def test_concat_errors(values, axis, cls, message):
    with raises(cls, message, "[Op:ConcatV2]"):
        tf.concat([tf.constant(v) for v in values], axis)


@pytest.mark.parametrize("shape, spec, axis", [((6, 2), 3, 0), ((3, 5), [1, 4], 1),
                                               ((3, 5), [2, -1, 1], -1), ((3, 5), 1, 0),
                                               ((4,), [0, 4], 0)])
def test_split(shape, spec, axis):
    x = sample(shape)
    cuts = np.cumsum(spec)[:-1] if isinstance(spec, list) else spec
    if isinstance(spec, list) and -1 in spec:
        cuts = [2, 4]
    for k in range(len(np.split(x, cuts, axis))):
        helper_test_op(lambda t, k=k: tf.split(t, spec, axis)[k],
                       lambda a, k=k: np.split(a, cuts, axis)[k], [x])


def test_split_gradient_of_all_pieces():
    check_gradients(lambda t: tf.concat(tf.split(t, [1, 2], 1)[::-1], 1), sample((2, 3)),
                    order=2)


def test_split_errors():
    with raises(InvalidArgumentError, "Number of ways to split should evenly divide the split "
                "dimension, but got split_dim 1 (size = 3) and num_split 2", "[Op:Split]"):
        tf.split(tf.zeros((2, 3)), 2, 1)
    with raises(InvalidArgumentError, "Determined shape must either match input shape",
                "Got: 4", "[Op:SplitV]"):
        tf.split(tf.zeros((3,)), [1, 3])


@pytest.mark.parametrize("shape, multiples", [((), []), ((1, 1), [2, 3]), ((3, 5), [1, 1]),
                                              ((3, 5), [2, 1]), ((2, 1, 3), [1, 4, 2]),
                                              ((3,), [0])])
def test_tile(shape, multiples):
    helper_test_op(lambda x: tf.tile(x, multiples), lambda x: np.tile(x, multiples),
                   [sample(shape)], order=2 if len(shape) == 3 else 1)


def test_tile_errors():
    with raises(InvalidArgumentError, "Expected multiples argument to be a vector of length 2 "
                "but got length 1", "[Op:Tile]"):
        tf.tile(tf.zeros((2, 3)), [2])
    with raises(InvalidArgumentError, "Expected multiples[1] >= 0, but got -1"):
        tf.tile(tf.zeros((2, 3)), [1, -1])


# -- one_hot ------------------------------------------------------------------------------------
def test_one_hot_defaults():
    got = tf.one_hot([0, 2, -1, 3], 3)
    assert got.dtype == tf.float32 and got.shape == (4, 3)
    np.testing.assert_array_equal(got.numpy(), [[1, 0, 0], [0, 0, 1], [0, 0, 0], [0, 0, 0]])


@pytest.mark.parametrize("kwargs, dtype", [
    (dict(on_value=5, off_value=-1), tf.int32),
    (dict(on_value=2.0), tf.float32),
    (dict(dtype=tf.float64), tf.float64),
    (dict(dtype=tf.int64, on_value=np.int64(7)), tf.int64),
])
def test_one_hot_values_and_dtypes(kwargs, dtype):
    got = tf.one_hot(tf.constant([[1], [0]]), 2, **kwargs)
    on, off = kwargs.get("on_value", 1), kwargs.get("off_value", 0)
    assert got.dtype == dtype and got.shape == (2, 1, 2)
    np.testing.assert_array_equal(got.numpy(), [[[off, on]], [[on, off]]])


def test_one_hot_axis():
    got = tf.one_hot([1, 0, 2], 3, axis=0)
    np.testing.assert_array_equal(got.numpy(), np.eye(3)[[1, 0, 2]].T)


def test_one_hot_errors_and_no_gradient():
    with raises(InvalidArgumentError, "depth must be non-negative, got: -1", "[Op:OneHot]"):
        tf.one_hot([1], -1)
    with raises(InvalidArgumentError, "Value for attr 'TI' of float"):
        tf.one_hot([1.0], 3)
    on = tf.constant(2.0)
    with tf.GradientTape() as tape:
        tape.watch(on)
        y = tf.one_hot([1], 3, on_value=on)
    assert tape.gradient(y, on) is None


# -- gather -------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape, indices, axis", [
    ((5,), [1, 3], 0), ((3, 5), [2, 0, 2], 0), ((3, 5), [[4, 0], [1, 1]], 1),
    ((3, 5), 2, 1), ((1, 1), [0, 0, 0], -1), ((2, 3, 4), [3, 3, 1], 2), ((3, 5), [], 0),
])
def test_gather(shape, indices, axis):
    idx = np.array(indices, dtype=np.int32)
    helper_test_op(lambda p: tf.gather(p, idx, axis=axis),
                   lambda p: np.take(p, idx, axis=axis), [sample(shape)],
                   order=2 if len(shape) == 3 else 1)


def test_gather_duplicate_indices_accumulate():
    v = tf.Variable([1.0, 2.0, 3.0])
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(tf.gather(v, [2, 0, 2, 2]))
    np.testing.assert_array_equal(tape.gradient(y, v).numpy(), [1, 0, 3])


def test_gather_batch_dims():
    params = sample((2, 3, 4))
    idx = np.array([[2, 0], [1, 1]])
    expected = np.stack([np.take(params[b], idx[b], axis=0) for b in range(2)])
    helper_test_op(lambda p: tf.gather(p, idx, axis=1, batch_dims=1), lambda p: expected,
                   [params])


def test_gather_ints_and_int64_indices():
    got = tf.gather(tf.constant([[1, 2], [3, 4]]), tf.constant([1], tf.int64))
    assert got.dtype == tf.int32 and got.numpy().tolist() == [[3, 4]]


@pytest.mark.parametrize("indices, message", [
    ([0, 5], "indices[1] = 5 is not in [0, 3)"),
    ([[0], [-1]], "indices[1,0] = -1 is not in [0, 3)"),
])
def test_gather_out_of_range(indices, message):
    with raises(InvalidArgumentError, message, "[Op:GatherV2]"):
        tf.gather(tf.constant([1.0, 2.0, 3.0]), indices)


def test_gather_bad_axis_and_dtype():
    with raises(InvalidArgumentError, "Expected axis in the range [-2, 2), but got 2"):
        tf.gather(tf.zeros((2, 3)), [0], axis=2)
    with raises(InvalidArgumentError, "Tindices"):
        tf.gather(tf.zeros((2, 3)), [0.5])


# -- indexing (TF_SEMANTICS.md section 2.8) -----------------------------------------------------
X = np.arange(60, dtype=np.float64).reshape(3, 4, 5) / 7 - 3


@pytest.mark.parametrize("key", [
    1, -1, (0, 2), (slice(None), 1), slice(1, None), slice(None, None, -1), (Ellipsis, 2),
    (slice(None), slice(None, None, 2), slice(3, 0, -2)), (None, 1), (Ellipsis, None),
    (1, Ellipsis, slice(-2, None)), np.int64(2), (np.int32(0), slice(None), None, -1),
    X > 0, (slice(None), X[0, :, 0] > -2), (0, X[0] > -2.5), slice(5, 10),
])
def test_getitem_matches_numpy(key):
    helper_test_op(lambda x: x[key], lambda x: x[key], [X])


@pytest.mark.parametrize("key, expected", [
    (lambda: tf.constant(2), X[2]), (lambda: (tf.constant(1, tf.int64), tf.constant(-1)),
                                     X[1, -1]),
])
def test_getitem_scalar_int_tensors(key, expected):
    np.testing.assert_array_equal(tf.constant(X)[key()].numpy(), expected)


def test_getitem_bool_mask_tensor_and_boolean_mask():
    t = tf.constant([[1.0, -2.0], [3.0, -4.0]])
    np.testing.assert_array_equal(t[t > 0.0].numpy(), [1.0, 3.0])
    np.testing.assert_array_equal(tf.boolean_mask(t, [False, True]).numpy(), [[3.0, -4.0]])
    np.testing.assert_array_equal(tf.boolean_mask(t, [True, False], axis=1).numpy(),
                                  [[1.0], [3.0]])
    check_gradients(lambda x: tf.boolean_mask(x, X > 0), X)
    with raises(ValueError, "Shapes (2,) and (3,) are incompatible"):
        t[tf.constant([True, False, True])]


@pytest.mark.parametrize("key, message", [
    (5, "slice index 5 of dimension 0 out of bounds. [Op:StridedSlice]"),
    (-4, "slice index -4 of dimension 0 out of bounds."),
    ((0, 4), "slice index 4 of dimension 1 out of bounds."),
    ((0, 0, 0, 0), "Index out of range using input dim 3; input has only 3 dims"),
])
def test_getitem_out_of_range(key, message):
    with raises(InvalidArgumentError, message):
        tf.constant(X)[key]


def test_getitem_list_index_teaches_gather():
    with raises(InvalidArgumentError, "Index out of range using input dim 1; input has only 1 "
                "dims", "tf.gather"):
        tf.constant([1.0, 2.0, 3.0])[[0, 2]]


def test_gradient_through_slicing():
    v = tf.Variable([1.0, 2.0, 3.0])
    with tf.GradientTape() as tape:
        y = v[1] * 5.0
    np.testing.assert_array_equal(tape.gradient(y, v).numpy(), [0.0, 5.0, 0.0])
    check_gradients(lambda x: x[::-2, 1:, None] * x[0, 0], X[:, :2, :2], order=2)


# -- extreme values pass through data movement unchanged ----------------------------------------
@pytest.mark.parametrize("tf_fn, np_fn", [
    (lambda x: tf.transpose(x), np.transpose),
    (lambda x: tf.concat([x, x], 1), lambda x: np.concatenate([x, x], 1)),
    (lambda x: tf.gather(x, [1, 0, 1]), lambda x: x[[1, 0, 1]]),
    (lambda x: tf.tile(x, [1, 2]), lambda x: np.tile(x, [1, 2])),
    (lambda x: tf.split(x, 3, 1)[2], lambda x: x[:, 2:]),
    (lambda x: tf.squeeze(tf.expand_dims(x[::-1], 0)), lambda x: x[::-1]),
])
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_extreme_values_pass_through(tf_fn, np_fn, dtype):
    info = np.finfo(dtype)
    x = np.array([[np.inf, -np.inf, np.nan], [info.max, info.smallest_subnormal, -0.0]], dtype)
    got = tf_fn(tf.constant(x)).numpy()
    np.testing.assert_array_equal(got, np_fn(x))
    assert np.signbit(got).tolist() == np.signbit(np_fn(x)).tolist()  # -0.0 stays -0.0

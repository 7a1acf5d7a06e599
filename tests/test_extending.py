"""Extending microtf: a user op from outside the package, the gradient checker, the csrc/nn.pyx
kernels (relu, softmax cross-entropies), tf.test.compute_gradient, and the guide's examples.

Oracle: numpy float64 formulas and central differences (microtf.testing.check_gradients).
"""
import os
import re
import subprocess
import sys
import warnings

import numpy as np
import pytest

import microtf as tf
from microtf import _kernels as K
from microtf.testing import check_gradients

sys.path.insert(0, os.path.dirname(__file__))
import ext_user_op  # noqa: E402 - the user's module, found next to this file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DTYPES = [np.float32, np.float64]
FWD_TOL = {np.float32: dict(rtol=1e-5, atol=1e-6), np.float64: dict(rtol=1e-12, atol=1e-14)}


@pytest.fixture(autouse=True)
def _no_runtime_warnings():
    """A kernel or forward that lets numpy warn (overflow, invalid) fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        yield


def _rand(shape, seed=0, low=-3.0, high=3.0):
    return np.random.default_rng(seed).uniform(low, high, shape)


def helper_test_op(tf_fn, np_fn, arrays, dtype, order=1, grad=True):
    """Forward of tf_fn in `dtype` against np_fn in float64, then check_gradients in `dtype`."""
    got = tf_fn(*[tf.constant(np.asarray(a, dtype)) for a in arrays])
    assert got.dtype == tf.as_dtype(dtype)
    with np.errstate(all="ignore"):
        want = np_fn(*[np.asarray(a, np.float64) for a in arrays])
    np.testing.assert_allclose(got.numpy().astype(np.float64), want, **FWD_TOL[dtype])
    if grad:
        check_gradients(tf_fn, *arrays, dtype=dtype, order=order)


# -- numpy float64 references -------------------------------------------------------------------
def np_relu(x):
    return np.maximum(x, 0)


def np_lse(x, axis=-1):
    m = np.max(x, axis=axis, keepdims=True, initial=-np.inf)
    s = x - m
    return s, np.log(np.sum(np.exp(s), axis=axis, keepdims=True))


def np_xent(logits, labels, axis=-1):
    s, lse = np_lse(logits, axis)
    return np.sum(labels * (lse - s), axis=axis)


def np_sparse_xent(logits, labels):
    s, lse = np_lse(logits)
    return (lse - np.take_along_axis(s, labels[..., None].astype(np.intp), -1))[..., 0]


# -- a user op from outside the package ---------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(), (1, 1), (3, 5), (0, 3)])
def test_user_op_forward_and_gradients(shape, dtype):
    helper_test_op(lambda x: ext_user_op.scaled_softsign(x, 2.0),
                   lambda x: 2 * x / (1 + np.abs(x)), [_rand(shape)], dtype, order=2)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("xs,bs", [((3, 5), (5,)), ((3, 5), (3, 1)), ((1, 1), ()), ((0, 2), (2,))])
def test_user_op_broadcasting_gradients(xs, bs, dtype):
    helper_test_op(ext_user_op.biased_square, lambda x, b: x * x + b,
                   [_rand(xs), _rand(bs, 1)], dtype, order=2)


def test_user_op_needs_grad_only_b():
    """Only b is watched: needs_grad is (False, True), the gradient returns None for x."""
    x, b = tf.constant([[1.0, 2.0], [3.0, 4.0]]), tf.constant([3.0, 4.0])
    with tf.GradientTape() as tape:
        tape.watch(b)
        y = ext_user_op.biased_square(x, b)
    np.testing.assert_array_equal(tape.gradient(y, b).numpy(), [2.0, 2.0])


def test_user_op_trains_with_gradient_tape():
    """Fit y = 2 softsign(w x + c) to data made with w = 1.5, c = -0.5: the loss must fall."""
    rng = np.random.default_rng(0)
    x = tf.constant(rng.uniform(-2, 2, (64, 1)).astype(np.float32))
    y = ext_user_op.scaled_softsign(1.5 * x - 0.5, 2.0)
    w, c = tf.Variable([[0.1]]), tf.Variable([0.0])
    losses = []
    for _ in range(150):
        with tf.GradientTape() as tape:
            pred = ext_user_op.scaled_softsign(tf.matmul(x, w) + c, 2.0)
            loss = tf.reduce_mean(tf.square(pred - y))
        dw, dc = tape.gradient(loss, [w, c])
        w.assign_sub(0.5 * dw)
        c.assign_sub(0.5 * dc)
        losses.append(float(loss))
    assert losses[-1] < 1e-3 * losses[0]
    np.testing.assert_allclose([float(w[0, 0]), float(c[0])], [1.5, -0.5], atol=0.05)


def test_user_op_trains_in_keras_fit():
    """The user op as a Keras activation, trained by Model.fit."""
    keras = tf.keras
    if not hasattr(keras.Model, "fit"):
        pytest.skip("keras Model.fit not there yet")
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(1)
    x = rng.uniform(-2, 2, (128, 2)).astype(np.float32)
    y = np.tanh(x @ np.array([[1.0], [-1.0]], np.float32))
    model = keras.Sequential([keras.layers.Dense(8, activation=ext_user_op.scaled_softsign),
                              keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse")
    history = model.fit(x, y, epochs=30, batch_size=32, verbose=0)
    loss = history.history["loss"]
    assert loss[-1] < 0.2 * loss[0]


# -- the gradient checker catches wrong gradients -------------------------------------------------
@tf.register_op("ExtWrongCube", dtypes=(tf.float32, tf.float64))
def _wrong_cube(x):
    return x ** 3


@tf.register_gradient("ExtWrongCube")
def _wrong_cube_grad(op, dy):
    """Deliberately wrong: 2 x^2 dy instead of 3 x^2 dy."""
    return (dy * 2.0 * tf.square(op.inputs[0]),)


@tf.register_op("ExtDetachedSquare", dtypes=(tf.float32, tf.float64))
def _detached_square(x):
    return x * x


@tf.register_gradient("ExtDetachedSquare")
def _detached_square_grad(op, dy):
    """Right values, but computed in numpy: an outer tape sees a constant (no 2nd derivative)."""
    return (tf.constant(2 * op.inputs[0].numpy() * dy.numpy()),)


@pytest.mark.parametrize("shape", [(3,), (40, 30)], ids=["full-jacobian", "random-directions"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_checker_catches_wrong_gradient(shape, dtype):
    with pytest.raises(AssertionError, match="differs from central differences"):
        check_gradients(_wrong_cube, _rand(shape), dtype=dtype)


def test_checker_catches_wrong_gradient_of_one_input_among_several():
    with pytest.raises(AssertionError, match="input 1"):
        check_gradients(lambda a, b: a + _wrong_cube(b), _rand((30, 30)), _rand((30, 30), 1))


def test_checker_catches_gradient_not_written_with_microtf_ops():
    x = _rand((4,))
    check_gradients(_detached_square, x)  # first order is right
    with pytest.raises(AssertionError):
        check_gradients(_detached_square, x, order=2)


def test_checker_accepts_right_gradient_second_order():
    check_gradients(lambda x: x * x * x, _rand((2, 3)), order=2)


# -- relu kernel -------------------------------------------------------------------------------
RELU_SHAPES = [(), (1, 1), (3, 5), (0,), (2, 0, 3), (70, 70)]  # 4900 > NOGIL_MIN: GIL released


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", RELU_SHAPES)
def test_relu_forward_backward(shape, dtype):
    x = _rand(shape)
    x = np.where(np.abs(x) < 0.05, 0.5, x)  # keep central differences off the kink
    helper_test_op(tf.nn.relu, np_relu, [x], dtype, order=2 if x.size < 100 else 1)


@pytest.mark.parametrize("dtype", DTYPES)
def test_relu_extreme_values(dtype):
    info = np.finfo(dtype)
    x = np.array([-np.inf, -info.max, -1.0, -info.smallest_subnormal, -0.0, 0.0,
                  info.smallest_subnormal, 1.0, info.max, np.inf, np.nan], dtype)
    y = tf.nn.relu(x).numpy()
    np.testing.assert_array_equal(y, np.maximum(x, 0))
    with tf.GradientTape() as tape:
        t = tf.constant(x)
        tape.watch(t)
        y = tf.nn.relu(t)
    g = tape.gradient(y, t).numpy()
    np.testing.assert_array_equal(g, (x > 0).astype(dtype))  # relu'(0) = 0, 0 at nan


@pytest.mark.parametrize("dtype", DTYPES)
def test_relu_kernels_direct(dtype):
    """The raw kernels on every class of value (tf.nn.relu uses numpy for float64 forward)."""
    info = np.finfo(dtype)
    x = np.array([-np.inf, -info.max, -1.0, -info.smallest_subnormal, -0.0, 0.0,
                  info.smallest_subnormal, 1.0, info.max, np.inf, np.nan, -np.nan], dtype)
    out = np.empty_like(x)
    K.relu_forward(x, out)
    np.testing.assert_array_equal(out, np.maximum(x, 0))
    K.relu_backward(out, np.full_like(x, 3.0), out)  # in place over y
    np.testing.assert_array_equal(out, np.where(x > 0, 3.0, 0.0))


def test_relu_int_stays_numpy():
    np.testing.assert_array_equal(tf.nn.relu(tf.constant([-2, 3])).numpy(), [0, 3])


# -- softmax cross-entropy kernels ---------------------------------------------------------------
XENT_SHAPES = [(1, 1), (3, 5), (0, 4), (4, 0), (2, 3, 5), (5,)]


def _labels(shape, seed=1):
    z = np.random.default_rng(seed).uniform(0, 1, shape)
    return z / np.maximum(z.sum(-1, keepdims=True), 1e-300) if z.size else z


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", XENT_SHAPES)
def test_softmax_xent_forward_backward(shape, dtype):
    helper_test_op(lambda x, z: tf.nn.softmax_cross_entropy_with_logits(z, x), np_xent,
                   [_rand(shape), _labels(shape)], dtype,
                   order=2 if np.prod(shape) <= 15 else 1)


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_xent_other_axis(dtype):
    x, z = _rand((4, 3)), _labels((3, 4)).T
    helper_test_op(lambda x, z: tf.nn.softmax_cross_entropy_with_logits(z, x, axis=0),
                   lambda x, z: np_xent(x, z, axis=0), [x, z], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1, 1), (3, 5), (0, 4), (2, 3, 5), (1, 5000)])
def test_sparse_softmax_xent_forward_backward(shape, dtype):
    n = shape[-1]
    labels = np.random.default_rng(2).integers(0, n, shape[:-1])
    fn = lambda x: tf.nn.sparse_softmax_cross_entropy_with_logits(  # noqa: E731
        tf.constant(labels, tf.int32), x)
    helper_test_op(fn, lambda x: np_sparse_xent(x, labels), [_rand(shape)], dtype,
                   order=2 if np.prod(shape) <= 15 else 1)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("big", [1e4, -1e4])
def test_xent_extreme_finite_logits(big, dtype):
    x = np.array([[big, 0.0, -big], [big, big, 0.0], [1.0, 2.0, 3.0]])
    z = np.array([[0.0, 0.0, 1.0], [0.5, 0.5, 0.0], [0.0, 1.0, 0.0]])
    helper_test_op(lambda x, z: tf.nn.softmax_cross_entropy_with_logits(z, x), np_xent,
                   [x, z], dtype, grad=False)
    helper_test_op(lambda x: tf.nn.sparse_softmax_cross_entropy_with_logits([2, 0, 1], x),
                   lambda x: np_sparse_xent(x, np.array([2, 0, 1])), [x], dtype, grad=False)
    # The saved backprop = softmax - labels stays finite: gradients are exact 0/±1 there.
    check_gradients(lambda x: tf.nn.sparse_softmax_cross_entropy_with_logits([2, 0, 1], x),
                    x, dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_xent_infinite_and_nan_logits(dtype):
    """+inf in a row gives nan (inf - inf), as TensorFlow; a -inf logit with label 0 gives
    0 * inf = nan in the dense loss too; nan propagates. Same as the float64 formula."""
    x = np.array([[np.inf, 0.0], [-np.inf, 0.0], [np.nan, 0.0], [-np.inf, -np.inf]])
    z = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 0.0]])
    helper_test_op(lambda x, z: tf.nn.softmax_cross_entropy_with_logits(z, x), np_xent,
                   [x, z], dtype, grad=False)
    helper_test_op(lambda x: tf.nn.sparse_softmax_cross_entropy_with_logits([0, 1, 1, 0], x),
                   lambda x: np_sparse_xent(x, np.array([0, 1, 1, 0])), [x], dtype, grad=False)


@pytest.mark.parametrize("rows,n", [(64, 80), (3, 1001)])  # GIL released; odd row length
def test_xent_float32_fast_exp_over_its_range(rows, n):
    """float32 rows of finite logits use csrc/nn.pyx's own vectorized exp: softmax - labels
    must match float64 to float32 rounding over the whole range, including terms below
    FLT_MIN relative to the row's max (flushed to 0)."""
    x = np.random.default_rng(3).uniform(-100.0, 0.0, (rows, n)).astype(np.float32)
    x[:, 1] = 0.0
    x64 = x.astype(np.float64)
    s, lse = np_lse(x64)
    loss, bp = np.empty(rows, np.float32), np.empty_like(x)
    K.softmax_xent_forward(x, np.zeros_like(x), loss, bp, n)  # labels 0: backprop = softmax
    np.testing.assert_allclose(bp, np.exp(s - lse), rtol=2e-6, atol=1e-37)
    z = _labels((rows, n)).astype(np.float32)
    K.softmax_xent_forward(x, z, loss, bp, n)
    np.testing.assert_allclose(loss, np_xent(x64, z.astype(np.float64)), rtol=2e-6)


def test_sparse_xent_label_out_of_range():
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"label value of 3 which is outside the valid range of \[0, 3\)"):
        tf.nn.sparse_softmax_cross_entropy_with_logits([0, 3], tf.zeros((2, 3)))
    with pytest.raises(tf.errors.InvalidArgumentError, match="label value of -1"):
        tf.nn.sparse_softmax_cross_entropy_with_logits([-1], tf.zeros((1, 3)))


# -- the raw kernels: validation, never out of bounds --------------------------------------------
def test_kernel_argument_errors():
    x = np.zeros((2, 3), np.float32)
    with pytest.raises(TypeError, match="float32 or float64"):
        K.relu_forward(np.zeros(3, np.int32), np.zeros(3, np.int32))
    with pytest.raises(TypeError, match="same dtype"):
        K.relu_forward(x, np.zeros((2, 3)))
    with pytest.raises(ValueError, match="size of x"):
        K.relu_forward(x, np.zeros(5, np.float32))
    with pytest.raises(ValueError, match="C-contiguous"):
        K.relu_backward(x.T, x.T, np.zeros((3, 2), np.float32))
    with pytest.raises(ValueError, match="rows of 4 classes"):
        K.softmax_xent_forward(x, x, np.zeros(2, np.float32), np.zeros_like(x), 4)
    with pytest.raises(ValueError, match="must not share memory"):
        K.softmax_xent_forward(x, np.zeros_like(x), np.zeros(2, np.float32), x, 3)
    with pytest.raises(TypeError, match="int64"):
        K.sparse_softmax_xent_forward(x, np.zeros(2, np.int32), np.zeros(2, np.float32),
                                      np.zeros_like(x), 3)


def test_sparse_kernel_reports_bad_label_without_writing_past_it():
    x = np.zeros((3, 2))
    loss, bp = np.full(3, 7.0), np.full((3, 2), 7.0)
    assert K.sparse_softmax_xent_forward(x, np.array([1, 2, 0]), loss, bp, 2) == 1
    np.testing.assert_array_equal(bp[1:], 7.0)
    assert K.sparse_softmax_xent_forward(x, np.array([0, 1, 1]), loss, bp, 2) == -1


# -- tf.test.compute_gradient -------------------------------------------------------------------
def test_compute_gradient_tf_example():
    theoretical, numerical = tf.test.compute_gradient(lambda x: x * x, [1.0])
    assert isinstance(theoretical, tuple) and isinstance(numerical, tuple)
    assert theoretical[0].dtype == np.float32 and theoretical[0].shape == (1, 1)
    np.testing.assert_allclose(theoretical[0], [[2.0]])
    np.testing.assert_allclose(numerical[0], [[2.0]], rtol=1e-5)


def test_compute_gradient_shapes_are_y_size_by_x_size():
    a, b = np.arange(6.0).reshape(2, 3), np.arange(12.0).reshape(3, 4) / 10
    theoretical, numerical = tf.test.compute_gradient(tf.matmul, [a, b])
    assert [t.shape for t in theoretical] == [(8, 6), (8, 12)]
    assert theoretical[0].dtype == np.float64
    for t, n in zip(theoretical, numerical):
        np.testing.assert_allclose(t, n, atol=1e-9)
    # d y[i, j] / d a[i, k] = b[k, j]
    np.testing.assert_allclose(theoretical[0][0 * 4 + 1, 0 * 3 + 2], b[2, 1])


def test_compute_gradient_rejects_non_list():
    with pytest.raises(ValueError, match="must be a list or tuple"):
        tf.test.compute_gradient(lambda x: x, np.ones(2))


# -- the guide and the example run ---------------------------------------------------------------
def test_docs_examples_run():
    """Every ```python block of docs/extending.md, in order, in one namespace."""
    with open(os.path.join(ROOT, "docs", "extending.md")) as f:
        blocks = re.findall(r"```python\n(.*?)```", f.read(), flags=re.S)
    assert len(blocks) >= 4
    namespace = {"__name__": "extending_md"}
    for i, code in enumerate(blocks):
        try:
            exec(compile(code, "docs/extending.md block %d" % i, "exec"), namespace)
        except Exception as exc:  # name the failing block
            raise AssertionError("docs/extending.md python block %d failed:\n%s" % (i, code)) \
                from exc


def test_example_custom_op_runs():
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "custom_op.py")],
                         env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "gradient check passed" in out.stdout
    assert "keras fit with swish" in out.stdout

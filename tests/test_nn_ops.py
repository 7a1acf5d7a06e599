"""tf.nn ops: forward against float64 numpy formulas, gradients against central differences.

Every test turns RuntimeWarnings into errors: extreme inputs must give IEEE results quietly.
"""
import numpy as np
import pytest

import microtf as tf
from microtf.framework.errors import InvalidArgumentError
from microtf.ops.nn_ops import bias_activation, fused_matmul
from microtf.testing import check_gradients

pytestmark = pytest.mark.filterwarnings("error")

FLOAT_DTYPES = [tf.float32, tf.float64]
SHAPES = [(), (1, 1), (3, 5), (2, 3, 4), (0, 5)]
ROW_SHAPES = [(1, 1), (3, 5), (2, 3, 4), (0, 5)]  # softmax-like ops need rank >= 1


# -- float64 reference formulas (written directly, not through microtf) ------------------------
def ref_softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True)) if x.size else np.exp(x)
    return e / e.sum(axis=axis, keepdims=True)


def ref_log_softmax(x, axis=-1):
    return np.log(ref_softmax(x, axis))


def ref_sigmoid_xent(z, x):
    s = 1 / (1 + np.exp(-x))
    return -z * np.log(s) - (1 - z) * np.log(1 - s)


def ref_softmax_xent(z, x, axis=-1):
    return -np.sum(z * ref_log_softmax(x, axis), axis=axis)


def ref_sparse_xent(labels, x):
    return -np.take_along_axis(ref_log_softmax(x), labels[..., None], axis=-1)[..., 0]


# -- the one helper every op test goes through ---------------------------------------------------
def random_input(shape, seed=0, away_from_zero=False):
    x = np.random.default_rng(seed).uniform(-2, 2, size=shape)
    if away_from_zero:  # keep finite differences off a kink
        x = np.where(np.abs(x) < 0.2, x + np.sign(x + 1e-9) * 0.3, x)
    return x


def random_distribution(shape, axis=-1, seed=1):
    p = np.random.default_rng(seed).uniform(0.1, 1, size=shape)
    return p / p.sum(axis=axis, keepdims=True)


def helper_test_op(tf_fn, ref_fn, inputs, dtype, order=1, grad=True):
    """Forward of tf_fn(*inputs in dtype) vs ref_fn(*float64 inputs); then the tape's gradient
    vs central differences (check_gradients), in the same dtype."""
    tensors = [tf.constant(np.asarray(a, dtype=dtype.as_numpy_dtype), dtype=dtype)
               for a in inputs]
    out = tf_fn(*tensors)
    expected = ref_fn(*[np.asarray(a, dtype=np.float64) for a in inputs])
    assert out.dtype == dtype
    assert tuple(out.shape) == expected.shape
    tol = 1e-5 if dtype == tf.float32 else 1e-12
    np.testing.assert_allclose(out.numpy(), expected, rtol=tol, atol=tol)
    if not grad:
        return
    if out.numpy().size == 0:
        # check_gradients cannot reshape an empty Jacobian: check shape and dtype by hand.
        with tf.GradientTape() as tape:
            tape.watch(tensors)
            out = tf_fn(*tensors)
        for t, g in zip(tensors, tape.gradient(out, tensors)):
            assert g.dtype == dtype and tuple(g.shape) == tuple(t.shape)
            assert np.all(g.numpy() == 0)
        return
    check_gradients(tf_fn, *inputs, dtype=dtype, order=order)


# -- activations ---------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_relu_forward_backward(shape, dtype):
    helper_test_op(tf.nn.relu, lambda x: np.maximum(x, 0),
                   [random_input(shape, away_from_zero=True)], dtype)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("alpha", [0.2, 0.01, 1.5])
@pytest.mark.parametrize("shape", SHAPES)
def test_leaky_relu_forward_backward(shape, alpha, dtype):
    helper_test_op(lambda x: tf.nn.leaky_relu(x, alpha=alpha),
                   lambda x: np.where(x > 0, x, alpha * x),
                   [random_input(shape, away_from_zero=True)], dtype)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_softplus_forward_backward_second_order(shape, dtype):
    helper_test_op(tf.nn.softplus, lambda x: np.log(1 + np.exp(x)), [random_input(shape)],
                   dtype, order=2)


def test_relu_grad_is_differentiable():
    # x * relu(x) = x**2 for x > 0: its second derivative (2) flows through ReluGrad's
    # gradient with respect to its incoming gradient.
    check_gradients(lambda x: x * tf.nn.relu(x), random_input((3, 5), away_from_zero=True),
                    order=2)
    x = tf.constant([1.5, -1.0])
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = x * tf.nn.relu(x)
        g = inner.gradient(y, x)
    np.testing.assert_allclose(g.numpy(), [3.0, 0.0])
    np.testing.assert_allclose(outer.gradient(g, x).numpy(), [2.0, 0.0])


@pytest.mark.parametrize("fn, expected", [(tf.nn.relu, 0.0),
                                          (tf.nn.leaky_relu, 0.2),
                                          (lambda x: tf.nn.leaky_relu(x, alpha=0.5), 0.5)])
def test_kink_subgradient_at_zero(fn, expected):
    x = tf.constant([0.0, 0.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = fn(x)
    np.testing.assert_array_equal(y.numpy(), [0.0, 0.0])
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), [expected, expected], rtol=1e-7)


def test_relu_keeps_integer_dtype_and_leaky_relu_casts_ints_to_float32():
    r = tf.nn.relu(tf.constant([-3, 0, 4]))
    assert r.dtype == tf.int32 and r.numpy().tolist() == [0, 0, 4]
    lr = tf.nn.leaky_relu(tf.constant([-5, 2]), alpha=0.1)
    assert lr.dtype == tf.float32
    np.testing.assert_allclose(lr.numpy(), [-0.5, 2.0])


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_activations_extreme_values(dtype):
    np_dt = dtype.as_numpy_dtype
    tiny = np.finfo(np_dt).smallest_subnormal
    big = np.finfo(np_dt).max
    x = tf.constant(np.array([-np.inf, -big, -1e4, -tiny, tiny, 1e4, big, np.inf, np.nan],
                             dtype=np_dt))
    xs = x.numpy().astype(np.float64)
    np.testing.assert_array_equal(tf.nn.relu(x).numpy(), np.maximum(xs, 0).astype(np_dt))
    np.testing.assert_array_equal(tf.nn.leaky_relu(x).numpy(),
                                  np.where(xs > 0, xs, 0.2 * xs).astype(np_dt))
    sp = tf.nn.softplus(x).numpy()
    np.testing.assert_allclose(sp[:-1], [0, 0, 0, np.log(2), np.log(2), 1e4, big, np.inf],
                               rtol=1e-6)
    assert np.isnan(sp[-1])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.nn.softplus(x)
    g = tape.gradient(y, x).numpy()
    np.testing.assert_allclose(g[:-1], [0, 0, 0, 0.5, 0.5, 1, 1, 1], atol=1e-7)


# -- softmax, log_softmax ------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("shape, axis", [((1, 1), -1), ((3, 5), -1), ((3, 5), 0), ((5,), 0),
                                         ((2, 3, 4), -1), ((2, 3, 4), 1), ((2, 3, 4), 0),
                                         ((2, 3, 4), -3), ((0, 5), -1), ((4, 0), -1)])
@pytest.mark.parametrize("tf_fn, ref_fn", [(tf.nn.softmax, ref_softmax),
                                           (tf.nn.log_softmax, ref_log_softmax)])
def test_softmax_family_forward_backward_second_order(tf_fn, ref_fn, shape, axis, dtype):
    helper_test_op(lambda x: tf_fn(x, axis=axis), lambda x: ref_fn(x, axis),
                   [random_input(shape)], dtype, order=2)


def test_softmax_axis_none_is_last():
    x = tf.constant(random_input((2, 3)))
    np.testing.assert_array_equal(tf.nn.softmax(x, axis=None, name="sm").numpy(),
                                  tf.nn.softmax(x, axis=-1).numpy())
    np.testing.assert_array_equal(tf.nn.log_softmax(x, name="ls").numpy(),
                                  tf.nn.log_softmax(x, axis=1).numpy())


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_softmax_extreme_logits(dtype):
    np_dt = dtype.as_numpy_dtype
    x = tf.constant(np.array([[1e4, -1e4, 0.0], [-np.inf, 0.0, 0.0], [1e4, 1e4, -np.inf]],
                             dtype=np_dt))
    np.testing.assert_allclose(tf.nn.softmax(x).numpy(),
                               [[1, 0, 0], [0, 0.5, 0.5], [0.5, 0.5, 0]], atol=1e-7)
    np.testing.assert_allclose(tf.nn.log_softmax(x).numpy(),
                               [[0, -2e4, -1e4], [-np.inf, -np.log(2), -np.log(2)],
                                [-np.log(2), -np.log(2), -np.inf]], rtol=1e-6)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.nn.softmax(x)[:, 0]
    assert np.all(np.isfinite(tape.gradient(y, x).numpy()))
    # +inf or nan in a row has no meaningful softmax: TensorFlow's result is nan, and so is ours.
    bad = tf.nn.softmax(tf.constant(np.array([[np.inf, 0.0], [np.nan, 1.0]], dtype=np_dt)))
    assert np.isnan(bad.numpy()).all()


@pytest.mark.parametrize("fn, name", [(tf.nn.softmax, "Softmax"),
                                      (tf.nn.log_softmax, "LogSoftmax")])
def test_softmax_bad_axis_and_scalar(fn, name):
    x = tf.constant([[1.0, 2.0]])
    with pytest.raises(InvalidArgumentError, match=r"`dim` must be in the range \[-2, 2\) .* "
                       r"Received: dim=2 \[Op:%s\]" % name):
        fn(x, axis=2)
    with pytest.raises(InvalidArgumentError, match=r"logits must have >= 1 dimension, got \[\]"):
        fn(tf.constant(1.0))


# -- sigmoid cross-entropy -----------------------------------------------------------------------
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_sigmoid_xent_forward_backward_second_order(shape, dtype):
    labels = np.random.default_rng(3).uniform(0, 1, size=shape)
    helper_test_op(lambda z, x: tf.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x),
                   ref_sigmoid_xent, [labels, random_input(shape)], dtype, order=2)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_sigmoid_xent_extreme_logits(dtype):
    np_dt = dtype.as_numpy_dtype
    x = tf.constant(np.array([1e4, 1e4, -1e4, -1e4, np.inf, -np.inf], dtype=np_dt))
    z = tf.constant(np.array([1, 0, 1, 0, 0, 1], dtype=np_dt))
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x)
    # inf * 0 (logits * labels) is nan in TensorFlow's formula too.
    np.testing.assert_allclose(loss.numpy(), [0, 1e4, 1e4, 0, np.nan, np.inf])
    np.testing.assert_allclose(tape.gradient(loss, x).numpy(), [0, 1, -1, 0, 1, -1])


# -- softmax cross-entropy -----------------------------------------------------------------------
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("shape, axis", [((1, 1), -1), ((3, 5), -1), ((3, 5), 0), ((4,), 0),
                                         ((2, 3, 4), -1), ((2, 3, 4), 1), ((0, 5), -1)])
def test_softmax_xent_forward_backward_second_order(shape, axis, dtype):
    labels = random_distribution(shape, axis)
    helper_test_op(lambda z, x: tf.nn.softmax_cross_entropy_with_logits(z, x, axis=axis),
                   lambda z, x: ref_softmax_xent(z, x, axis),
                   [labels, random_input(shape)], dtype, order=2)


def test_softmax_xent_keywords_and_list_labels():
    logits = tf.constant([[2.0, 1.0, 0.1]])
    loss = tf.nn.softmax_cross_entropy_with_logits(labels=[[0, 1, 0]], logits=logits, name="x")
    assert loss.dtype == tf.float32 and tuple(loss.shape) == (1,)
    np.testing.assert_allclose(loss.numpy(), ref_softmax_xent(np.array([[0, 1, 0]]),
                                                              np.array([[2.0, 1.0, 0.1]])),
                               rtol=1e-6)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_softmax_xent_extreme_logits(dtype):
    np_dt = dtype.as_numpy_dtype
    x = tf.constant(np.array([[1e4, -1e4], [-1e4, 1e4], [1e4, 1e4]], dtype=np_dt))
    z = tf.constant(np.array([[0, 1], [0, 1], [1, 0]], dtype=np_dt))
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.nn.softmax_cross_entropy_with_logits(labels=z, logits=x)
    np.testing.assert_allclose(loss.numpy(), [2e4, 0, np.log(2)], rtol=1e-6)
    np.testing.assert_allclose(tape.gradient(loss, x).numpy(),
                               [[1, -1], [0, 0], [-0.5, 0.5]], atol=1e-7)


# -- sparse softmax cross-entropy ----------------------------------------------------------------
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("label_dtype", [np.int32, np.int64])
@pytest.mark.parametrize("shape", [(1, 1), (3, 5), (2, 3, 4), (4,), (0, 5)])
def test_sparse_xent_forward_backward_second_order(shape, label_dtype, dtype):
    labels = np.random.default_rng(4).integers(0, shape[-1], size=shape[:-1]).astype(label_dtype)

    def fn(x):
        return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=x)

    helper_test_op(fn, lambda x: ref_sparse_xent(labels.astype(np.intp), x),
                   [random_input(shape)], dtype, order=2)


def test_sparse_xent_has_no_label_gradient_and_handles_neg_inf():
    x = tf.constant([[-np.inf, 0.0, 1e4], [0.0, -np.inf, -1e4]])
    labels = tf.constant([2, 0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=x)
    np.testing.assert_allclose(loss.numpy(), [0, 0])
    np.testing.assert_allclose(tape.gradient(loss, x).numpy(), [[0, 0, 0], [0, 0, 0]])


@pytest.mark.parametrize("bad, values", [(5, "0 5"), (-1, "0 -1"), (3, "0 3")])
def test_sparse_xent_label_out_of_range(bad, values):
    with pytest.raises(InvalidArgumentError) as err:
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[0, bad], logits=tf.ones((2, 3)))
    assert str(err.value) == (
        "Received a label value of %d which is outside the valid range of [0, 3).  Label "
        "values: %s [Op:SparseSoftmaxCrossEntropyWithLogits]" % (bad, values))


def test_sparse_xent_bad_labels():
    logits = tf.ones((2, 3))
    with pytest.raises(InvalidArgumentError, match="Value for attr 'Tlabels' of float"):
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[0.0, 1.0], logits=logits)
    with pytest.raises(ValueError, match=r"`labels.shape.rank` must equal `logits.shape.rank - "
                       r"1`. Received: labels.shape=\(2, 3\) of rank 2"):
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.zeros((2, 3), tf.int32),
                                                       logits=logits)
    with pytest.raises(InvalidArgumentError, match=r"must have the same first dimension, got "
                       r"logits shape \[2,3\] and labels shape \[3\]"):
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[0, 1, 2], logits=logits)
    with pytest.raises(ValueError, match=r"labels.shape=\(2, 2\) and logits.shape=\(2, 3, 4\)"):
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.zeros((2, 2), tf.int32),
                                                       logits=tf.ones((2, 3, 4)))


# -- errors shared by the float-only ops ---------------------------------------------------------
INT_ERROR = "Value for attr 'T' of int32 is not in the list of allowed values"


@pytest.mark.parametrize("fn", [
    tf.nn.softplus, tf.nn.softmax, tf.nn.log_softmax,
    lambda x: tf.nn.sigmoid_cross_entropy_with_logits(labels=x, logits=x),
    lambda x: tf.nn.sigmoid_cross_entropy_with_logits(labels=x, logits=tf.ones((2, 2))),
    lambda x: tf.nn.softmax_cross_entropy_with_logits(labels=x, logits=x),
    lambda x: tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[0, 1], logits=x),
])
def test_float_only_ops_reject_int32(fn):
    with pytest.raises(InvalidArgumentError, match=INT_ERROR):
        fn(tf.constant([[1, 2], [3, 4]]))


def test_xent_shape_mismatch_and_missing_arguments():
    with pytest.raises(ValueError, match=r"must have the same shape, received \(\(2, 3\) vs "
                       r"\(2,\)\)"):
        tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.ones((2,)), logits=tf.ones((2, 3)))
    with pytest.raises(InvalidArgumentError, match=r"logits and labels must be broadcastable: "
                       r"logits_size=\[2,3\] labels_size=\[2,4\]"):
        tf.nn.softmax_cross_entropy_with_logits(labels=tf.ones((2, 4)), logits=tf.ones((2, 3)))
    with pytest.raises(ValueError, match="Both `labels` and `logits` must be provided"):
        tf.nn.sigmoid_cross_entropy_with_logits(logits=tf.ones((2,)))
    with pytest.raises(InvalidArgumentError, match="cannot compute SoftmaxCrossEntropyWithLogits"
                       " as input #1"):
        tf.nn.softmax_cross_entropy_with_logits(labels=tf.ones((2, 3), tf.float64),
                                                logits=tf.ones((2, 3)))


def test_variables_are_read_and_watched():
    v = tf.Variable([[1.0, -2.0, 0.5]])
    with tf.GradientTape() as tape:
        loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[0], logits=tf.nn.relu(v))
    p = ref_softmax(np.array([[1.0, 0.0, 0.5]]))[0]
    np.testing.assert_allclose(tape.gradient(loss, v).numpy(), [[p[0] - 1, 0, p[2]]], rtol=1e-6)


# -- bias_add and the fused bias + activation ----------------------------------------------------
def ref_bias_activation(x, b, activation):
    z = x + b
    return {"linear": z, "relu": np.maximum(z, 0), "sigmoid": 1 / (1 + np.exp(-z))}[activation]


BIAS_SHAPES = [((1, 1), (1,)), ((3, 5), (5,)), ((2, 3, 4), (4,)), ((7, 1), (1,)),
               ((0, 3), (3,)), ((2, 0), (0,))]


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("shape, bshape", BIAS_SHAPES)
@pytest.mark.parametrize("activation", ["linear", "relu", "sigmoid"])
def test_bias_activation_forward_backward(activation, shape, bshape, dtype):
    b = random_input(bshape, seed=3)
    # relu: keep z = x + b off the kink, so that central differences see one side only
    x = random_input(shape, away_from_zero=activation == "relu") - b
    order = 2 if activation == "sigmoid" else 1
    helper_test_op(lambda x, b: bias_activation(x, b, activation),
                   lambda x, b: ref_bias_activation(x, b, activation), [x, b], dtype, order=order)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("shape, bshape", BIAS_SHAPES)
def test_bias_add_forward_backward(shape, bshape, dtype):
    helper_test_op(tf.nn.bias_add, lambda x, b: x + b,
                   [random_input(shape), random_input(bshape, seed=3)], dtype, order=2)


def test_bias_activation_gradients_in_one_pass_match_separate_ops():
    x = tf.constant(random_input((6, 4)))
    b = tf.Variable(random_input((4,), seed=3))
    for activation, act in (("sigmoid", tf.sigmoid), ("relu", tf.nn.relu),
                            ("linear", lambda z: z)):
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(x)
            fused = tf.reduce_sum(bias_activation(x, b, activation) ** 2)
            plain = tf.reduce_sum(act(x + b) ** 2)
        for g1, g2 in zip(tape.gradient(fused, [x, b]), tape.gradient(plain, [x, b])):
            np.testing.assert_allclose(g1.numpy(), g2.numpy(), rtol=1e-12)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_bias_activation_extreme_values(dtype):
    np_dt = dtype.as_numpy_dtype
    tiny = np.finfo(np_dt).smallest_subnormal
    big = np.finfo(np_dt).max
    row = np.array([-np.inf, -big, -1e4, -tiny, tiny, 1e4, big, np.inf, np.nan], dtype=np_dt)
    x = tf.constant(np.stack([row, -row]))
    b = tf.zeros(row.shape, dtype)
    xs = x.numpy().astype(np.float64)
    np.testing.assert_array_equal(bias_activation(x, b, "linear").numpy(), x.numpy())
    np.testing.assert_array_equal(bias_activation(x, b, "relu").numpy(),
                                  np.maximum(xs, 0).astype(np_dt))
    with np.errstate(over="ignore"):
        expected = (1 / (1 + np.exp(-xs))).astype(np_dt)
    np.testing.assert_array_equal(bias_activation(x, b, "sigmoid").numpy(), expected)
    # subnormal sums survive (no flush to zero), and inf + -inf bias gives nan as numpy
    sub = tf.nn.bias_add(tf.constant([[tiny, np.inf]], dtype), tf.constant([tiny, -np.inf], dtype))
    assert sub.numpy()[0, 0] == 2 * tiny and np.isnan(sub.numpy()[0, 1])
    with tf.GradientTape() as tape:
        tape.watch([x, b])
        y = bias_activation(x, b, "sigmoid")
    gx, gb = tape.gradient(y, [x, b])
    ys = expected.astype(np.float64)
    np.testing.assert_allclose(gx.numpy(), (ys * (1 - ys)).astype(np_dt), rtol=1e-6)
    np.testing.assert_allclose(gb.numpy(), gx.numpy().sum(axis=0), rtol=1e-6)


def test_bias_add_bad_input():
    x = tf.ones((2, 4))
    with pytest.raises(InvalidArgumentError, match=r"Must provide as many biases as the last "
                       r"dimension of the input tensor: \[3\] vs\. \[2,4\] \[Op:BiasAdd\]"):
        tf.nn.bias_add(x, tf.ones((3,)))
    with pytest.raises(InvalidArgumentError, match=r"Biases must be 1D: \[1,4\] \[Op:BiasAdd\]"):
        tf.nn.bias_add(x, tf.ones((1, 4)))
    with pytest.raises(InvalidArgumentError, match=r"Input tensor must be at least 2D: \[4\]"):
        tf.nn.bias_add(tf.ones((4,)), tf.ones((4,)))
    with pytest.raises(InvalidArgumentError, match=r"\[Op:BiasActivation\]"):
        bias_activation(x, tf.ones((3,)), "relu")
    with pytest.raises(InvalidArgumentError, match="float tensor but is a double tensor"):
        bias_activation(x, tf.ones((4,), tf.float64), "sigmoid")
    with pytest.raises(InvalidArgumentError, match="int32"):
        tf.nn.bias_add(tf.ones((2, 4), tf.int32), tf.ones((4,), tf.int32))
    with pytest.raises(ValueError, match=r"one of linear, relu, sigmoid, got 'tanh'"):
        bias_activation(x, tf.ones((4,)), "tanh")
    with pytest.raises(NotImplementedError, match="NCHW"):
        tf.nn.bias_add(x, tf.ones((4,)), data_format="NCHW")


# -- matmul fused with bias and activation (Dense) ---------------------------------------------
MATMUL_SHAPES = [((1, 1), (1, 1)), ((3, 5), (5, 4)), ((7, 1), (1, 3)), ((4, 9), (9, 1)),
                 ((0, 3), (3, 2)), ((2, 0), (0, 3)), ((4, 3), (3, 0))]


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("ashape, bshape", MATMUL_SHAPES)
@pytest.mark.parametrize("activation", ["linear", "relu", "sigmoid"])
def test_fused_matmul_forward_backward(activation, ashape, bshape, dtype):
    # These seeds give |a @ b + bias| >= 0.02: off relu's kink, as central differences need.
    a, b = random_input(ashape), random_input(bshape, seed=2)
    bias = random_input(bshape[1:], seed=3)
    order = 2 if activation == "sigmoid" else 1
    helper_test_op(lambda a, b, bias: fused_matmul(a, b, bias, activation),
                   lambda a, b, bias: ref_bias_activation(a @ b, bias, activation),
                   [a, b, bias], dtype, order=order)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("activation", ["linear", "relu", "sigmoid"])
def test_fused_matmul_equals_the_unfused_ops_bitwise(monkeypatch, activation, dtype):
    """Same gemm and same one-pass kernels, so the same bits as MatMul then BiasActivation, in
    the forward and in the gradients; a gradient nobody asks for costs no gemm."""
    from microtf.ops import math_ops
    a = tf.constant(random_input((33, 17)), dtype)
    b = tf.Variable(random_input((17, 65), seed=2), dtype=dtype)
    bias = tf.Variable(random_input((65,), seed=3), dtype=dtype)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(a)
        fused = fused_matmul(a, b, bias, activation)
        plain = bias_activation(tf.matmul(a, b), bias, activation)
        loss_f, loss_p = tf.reduce_sum(fused ** 2), tf.reduce_sum(plain ** 2)
    assert [e[0] for e in tape._entries].count("_FusedMatMul") == 1
    np.testing.assert_array_equal(fused.numpy(), plain.numpy())
    for g1, g2 in zip(tape.gradient(loss_f, [a, b, bias]), tape.gradient(loss_p, [a, b, bias])):
        np.testing.assert_array_equal(g1.numpy(), g2.numpy())
    gemms = []
    gemm = math_ops._matmul
    monkeypatch.setattr(math_ops, "_matmul",
                        lambda *args, **flags: gemms.append(flags) or gemm(*args, **flags))
    tape.gradient(loss_f, [b, bias])  # `a` needs no gradient: only a^T @ dz
    assert gemms == [{"transpose_a": True, "transpose_b": False}]


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("activation", ["linear", "relu", "sigmoid"])
def test_fused_matmul_extreme_values(activation, dtype):
    """inf, nan, the largest finite value and subnormals through the identity matrix: the gemm
    gives IEEE's answers (0 * inf = nan, no flush to zero), then the activation, as numpy."""
    np_dt = dtype.as_numpy_dtype
    tiny, big = np.finfo(np_dt).smallest_subnormal, np.finfo(np_dt).max
    row = np.array([-np.inf, -big, -1e4, -tiny, tiny, 1e4, big, np.inf, np.nan], np_dt)
    b = np.stack([row, np.full_like(row, tiny)])
    a = np.eye(2, dtype=np_dt)
    bias = np.zeros(row.shape, np_dt)
    got = fused_matmul(tf.constant(a), tf.constant(b), tf.constant(bias), activation).numpy()
    with np.errstate(all="ignore"):
        expected = ref_bias_activation(np.matmul(a.astype(np.float64), b.astype(np.float64)),
                                       bias, activation).astype(np_dt)
    np.testing.assert_array_equal(got, expected)


def test_fused_matmul_bad_input():
    a, b = tf.ones((2, 3)), tf.ones((3, 4))
    with pytest.raises(InvalidArgumentError, match=r"In\[0\] is not a matrix. Instead it has "
                       r"shape \[3\] \[Op:_FusedMatMul\]"):
        fused_matmul(tf.ones((3,)), b, tf.ones((4,)))
    with pytest.raises(InvalidArgumentError, match=r"In\[1\] is not a matrix"):
        fused_matmul(a, tf.ones((2, 3, 4)), tf.ones((4,)))
    with pytest.raises(InvalidArgumentError, match=r"Matrix size-incompatible: In\[0\]: \[2,3\], "
                       r"In\[1\]: \[4,4\]"):
        fused_matmul(a, tf.ones((4, 4)), tf.ones((4,)))
    with pytest.raises(InvalidArgumentError, match=r"Must provide as many biases as the last "
                       r"dimension of the input tensor: \[3\] vs\. \[2,4\] \[Op:_FusedMatMul\]"):
        fused_matmul(a, b, tf.ones((3,)))
    with pytest.raises(InvalidArgumentError, match=r"Biases must be 1D: \[1,4\]"):
        fused_matmul(a, b, tf.ones((1, 4)))
    with pytest.raises(InvalidArgumentError, match="cannot compute _FusedMatMul as input #1"):
        fused_matmul(a, tf.ones((3, 4), tf.float64), tf.ones((4,)))
    with pytest.raises(InvalidArgumentError, match="Value for attr 'T' of int32"):
        fused_matmul(tf.ones((2, 3), tf.int32), tf.ones((3, 4), tf.int32), tf.ones((4,), tf.int32))
    with pytest.raises(ValueError, match=r"one of linear, relu, sigmoid, got 'tanh'"):
        fused_matmul(a, b, tf.ones((4,)), "tanh")


@pytest.mark.parametrize("grad_op", ["ReluGrad", "LeakyReluGrad", "SigmoidGrad",
                                     "BiasActivationGrad"])
def test_nn_backward_ops_refuse_mismatched_shapes(grad_op):
    from microtf.eager.registry import get_op
    attrs = {"LeakyReluGrad": {"alpha": 0.2}, "BiasActivationGrad": {"activation": "relu"}}
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"Incompatible shapes: \[2,3\] vs. \[3,2\] \[Op:%s\]" % grad_op):
        get_op(grad_op).function(tf.ones((2, 3)), tf.ones((3, 2)), **attrs.get(grad_op, {}))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 1), (7, 3), (5, 10), (3, 1000), (2, 0), (0, 4)])
def test_softmax_kernel_rows_match_float64(shape, dtype):
    # csrc/nn.pyx softmax_forward: last-axis rows; float32 exponentials from _fastmath.pxi.
    from microtf import _kernels as K
    rng = np.random.default_rng(sum(shape))
    x = (rng.standard_normal(shape) * 30).astype(dtype)
    got = K.softmax_forward(x, np.empty_like(x), shape[-1])
    want = ref_softmax(x.astype(np.float64), -1)
    np.testing.assert_allclose(got, want, rtol=4e-6 if dtype == np.float32 else 1e-13,
                               atol=1e-37 if dtype == np.float32 else 0)
    assert got.dtype == dtype


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_kernel_extremes_and_bad_arguments(dtype):
    from microtf import _kernels as K
    tiny = np.finfo(dtype).tiny
    x = np.array([[0.0, -80.0, -90.0], [-np.inf] * 3, [np.nan, 0.0, 1.0], [np.inf, 1.0, 2.0],
                  [tiny, -tiny, 0.0]], dtype=dtype)
    got = K.softmax_forward(x, np.empty_like(x), 3)
    with np.errstate(all="ignore"):
        want = ref_softmax(x.astype(np.float64), -1)
    np.testing.assert_allclose(got[[0, 4]], want[[0, 4]], rtol=4e-6, atol=0)
    assert got[0, 2] > 0  # a subnormal in float32 (e^-90), kept as numpy keeps it
    assert np.isnan(got[1:4]).all()  # -inf - -inf, nan, inf - inf: nan as numpy and TensorFlow
    with pytest.raises(ValueError, match="rows of 2"):
        K.softmax_forward(x, np.empty_like(x), 2)
    with pytest.raises(ValueError):
        K.softmax_forward(x, x, 3)  # out must not share memory with logits
    with pytest.raises(TypeError):
        K.softmax_forward(np.zeros(x.shape, np.int32), np.empty(x.shape, np.int32), 3)


def test_softmax_kernel_refuses_a_bad_class_count():
    from microtf import _kernels as K
    x = np.ones((2, 2), np.float32)
    for bad in (0, -1):
        with pytest.raises(ValueError, match="num_classes must be >= 1"):
            K.softmax_forward(x, np.empty_like(x), bad)
    empty = np.ones((0,), np.float32)
    assert K.softmax_forward(empty, np.empty_like(empty), 0).shape == (0,)

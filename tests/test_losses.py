"""tf.keras.losses and tf.keras.backend.sparse_categorical_crossentropy: values against float64
numpy formulas (Keras 3's definitions, clipping included), gradients by central differences,
extreme inputs, the loss classes' reductions, and Keras's errors."""
import warnings

import numpy as np
import pytest

import microtf as tf
from microtf.framework.errors import InvalidArgumentError
from microtf.testing import check_gradients

losses = tf.keras.losses
EPS = 1e-7


# -- float64 references ------------------------------------------------------------------------
def _clip(p, dtype):
    # Keras clips with eps and 1 - eps rounded to the tensor's dtype.
    return np.clip(p, dtype(EPS), dtype(1 - EPS)).astype(np.float64)


def _log_softmax(x):
    s = x - x.max(axis=-1, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=-1, keepdims=True))


def ref_sparse(y, p, from_logits, dtype):
    logp = _log_softmax(p if from_logits else np.log(_clip(p, dtype)))
    return -np.take_along_axis(logp, y[..., None].astype(int), axis=-1)[..., 0]


def ref_categorical(t, p, from_logits, dtype):
    if from_logits:
        return -(t * _log_softmax(p)).sum(-1)
    return -(t * np.log(_clip(p / p.sum(-1, keepdims=True), dtype))).sum(-1)


def ref_binary(t, p, from_logits, dtype):
    if from_logits:
        return np.mean(np.maximum(p, 0) - p * t + np.log1p(np.exp(-np.abs(p))), axis=-1)
    q = _clip(p, dtype)
    return -np.mean(t * np.log(q) + (1 - t) * np.log(1 - q), axis=-1)


def ref_mse(t, p, *_):
    return np.mean((t - p) ** 2, axis=-1)


def ref_mae(t, p, *_):
    return np.mean(np.abs(t - p), axis=-1)


# -- one helper: forward against the reference, backward by central differences ------------
def helper_test_loss(fn, ref, y_true, y_pred, dtype, from_logits=None, grad=True):
    kw = {} if from_logits is None else {"from_logits": from_logits}
    pred = y_pred.astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no numpy warning leaks
        out = fn(y_true, tf.constant(pred), **kw)
    assert out.dtype == tf.as_dtype(dtype)
    expected = ref(y_true, pred.astype(np.float64), bool(from_logits), dtype)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.numpy(), expected, rtol=2e-6 if dtype == np.float32 else 1e-12,
                               atol=1e-6 if dtype == np.float32 else 1e-12)
    if grad:
        check_gradients(lambda p: fn(y_true, p, **kw), y_pred, dtype=tf.as_dtype(dtype))


def _probs(rng, shape):
    p = rng.uniform(0.05, 1.0, shape)
    return p / p.sum(-1, keepdims=True)


DTYPES = [np.float32, np.float64]
CLASS_SHAPES = [(1, 1), (1, 3), (3, 5), (4, 2), (0, 4)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", CLASS_SHAPES)
@pytest.mark.parametrize("from_logits", [True, False])
def test_sparse_categorical_crossentropy(dtype, shape, from_logits):
    rng = np.random.default_rng(1)
    y = rng.integers(0, shape[-1], shape[:-1])
    p = rng.standard_normal(shape) * 3 if from_logits else _probs(rng, shape)
    helper_test_loss(losses.sparse_categorical_crossentropy, ref_sparse, y, p, dtype, from_logits)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", CLASS_SHAPES)
@pytest.mark.parametrize("from_logits", [True, False])
def test_categorical_crossentropy(dtype, shape, from_logits):
    rng = np.random.default_rng(2)
    t = np.eye(shape[-1])[rng.integers(0, shape[-1], shape[:-1])]
    p = rng.standard_normal(shape) * 3 if from_logits else _probs(rng, shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)  # the (n, 1) warning has its own test
        helper_test_loss(losses.categorical_crossentropy, ref_categorical, t, p, dtype,
                         from_logits)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1, 1), (5, 1), (3, 5), (7,), (0, 3)])
@pytest.mark.parametrize("from_logits", [True, False])
def test_binary_crossentropy(dtype, shape, from_logits):
    rng = np.random.default_rng(3)
    t = rng.integers(0, 2, shape).astype(np.float64)
    p = rng.standard_normal(shape) * 3 if from_logits else rng.uniform(0.05, 0.95, shape)
    helper_test_loss(losses.binary_crossentropy, ref_binary, t, p, dtype, from_logits)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1, 1), (3, 5), (7,), (0, 2)])
@pytest.mark.parametrize("fn,ref", [(losses.mse, ref_mse), (losses.mae, ref_mae)],
                         ids=["mse", "mae"])
def test_regression_losses(dtype, shape, fn, ref):
    rng = np.random.default_rng(4)
    t = rng.standard_normal(shape)
    p = t + rng.choice([-1, 1], shape) * rng.uniform(0.1, 1.0, shape)  # away from |.|'s kink
    helper_test_loss(fn, ref, t, p, dtype)


def test_keras_doc_examples():
    y_pred = np.array([[0.05, 0.95, 0], [0.1, 0.8, 0.1]], np.float32)
    np.testing.assert_allclose(losses.sparse_categorical_crossentropy([1, 2], y_pred),
                               [0.0513, 2.303], atol=1e-3)
    np.testing.assert_allclose(losses.categorical_crossentropy([[0, 1, 0], [0, 0, 1]], y_pred),
                               [0.0513, 2.303], atol=1e-3)
    np.testing.assert_allclose(
        losses.binary_crossentropy([[0, 1], [0, 0]], np.array([[0.6, 0.4], [0.4, 0.6]],
                                                               np.float32)),
        [0.916, 0.714], atol=1e-3)


def test_aliases():
    assert losses.MSE is losses.mse and losses.MAE is losses.mae


@pytest.mark.parametrize("name,short", [("mean_squared_error", "mse"),
                                        ("mean_absolute_error", "mae")])
def test_long_function_names_absent_as_in_keras3(name, short):
    with pytest.raises(AttributeError, match="has no attribute '%s'.*Hint: use "
                                             "tf.keras.losses.%s" % (name, short)):
        getattr(tf.keras.losses, name)
    assert losses.get(name) is getattr(losses, short)  # the compile string still works


# -- extreme values ------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_extreme_logits_stay_finite(dtype):
    x = tf.constant(np.array([[1000.0, -1000.0, 0.0], [-1e30, 1e30, 5.0]], dtype))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = losses.sparse_categorical_crossentropy([1, 1], x, from_logits=True)
        g = tape.gradient(loss, x)
    np.testing.assert_allclose(loss.numpy(), [2000.0, 0.0], rtol=1e-6)
    np.testing.assert_allclose(g.numpy(), [[1, -1, 0], [0, 0, 0]], atol=1e-6)
    b = losses.binary_crossentropy([[1.0, 0.0]], np.array([[-1000.0, 1000.0]], dtype),
                                   from_logits=True)
    np.testing.assert_allclose(b.numpy(), [1000.0])


@pytest.mark.parametrize("dtype", DTYPES)
def test_saturated_probabilities_are_clipped(dtype):
    p = tf.constant(np.array([[0.0, 1.0]], dtype))
    with tf.GradientTape() as tape:
        tape.watch(p)
        loss = losses.binary_crossentropy([[1.0, 0.0]], p)
    # Both columns are clipped: p = eps and 1 - p = 1 - (1 - eps), each rounded to the dtype.
    expected = -(np.log(np.float64(dtype(EPS))) + np.log(np.float64(1 - dtype(1 - EPS)))) / 2
    np.testing.assert_allclose(loss.numpy(), [expected], rtol=1e-6)
    assert np.isfinite(loss.numpy()).all()
    np.testing.assert_array_equal(tape.gradient(loss, p).numpy(), [[0.0, 0.0]])  # clip's flat
    s = losses.sparse_categorical_crossentropy([0], p)
    np.testing.assert_allclose(s.numpy(), [-np.log(dtype(EPS)) + np.log(1.0 + dtype(EPS))],
                               rtol=1e-5)


def test_nan_and_subnormal_inputs():
    out = losses.sparse_categorical_crossentropy([0], np.array([[np.nan, 1.0]]),
                                                 from_logits=True)
    assert np.isnan(out.numpy()).all()
    tiny = np.array([[5e-324, 1.0]])  # subnormal probability: clipped to eps
    np.testing.assert_allclose(losses.sparse_categorical_crossentropy([0], tiny).numpy(),
                               ref_sparse(np.array([0]), tiny, False, np.float64))
    huge = np.array([[1e300, -1e300]])
    np.testing.assert_allclose(losses.mae([[0.0, 0.0]], huge).numpy(), [1e300])
    assert np.isinf(losses.mse([[0.0, 0.0]], huge).numpy()).all()


# -- classes ---------------------------------------------------------------------------------------
def test_classes_reduce_to_batch_mean_in_float32():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((6, 4))
    y = rng.integers(0, 4, 6)
    onehot = np.eye(4)[y]
    cases = [(losses.SparseCategoricalCrossentropy(from_logits=True), y,
              ref_sparse(y, x, True, np.float32)),
             (losses.CategoricalCrossentropy(from_logits=True), onehot,
              ref_categorical(onehot, x, True, np.float32)),
             (losses.BinaryCrossentropy(from_logits=True), onehot,
              ref_binary(onehot, x, True, np.float32)),
             (losses.MeanSquaredError(), onehot, ref_mse(onehot, x)),
             (losses.MeanAbsoluteError(), onehot, ref_mae(onehot, x))]
    for loss, target, per_sample in cases:
        out = loss(target, x)
        assert out.shape == () and out.dtype == tf.float32  # Keras computes in floatx
        np.testing.assert_allclose(out.numpy(), per_sample.mean(), rtol=1e-6)


def test_class_names_and_defaults():
    assert losses.SparseCategoricalCrossentropy().name == "sparse_categorical_crossentropy"
    assert losses.MeanSquaredError().name == "mean_squared_error"
    bce = losses.BinaryCrossentropy()
    assert bce.reduction == "sum_over_batch_size" and bce.from_logits is False


def test_sparse_labels_with_trailing_one():
    x = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3]])
    a = losses.SparseCategoricalCrossentropy(from_logits=True)([[0], [1]], x)
    b = losses.SparseCategoricalCrossentropy(from_logits=True)([0, 1], x)
    assert a.numpy() == b.numpy()
    np.testing.assert_allclose(a.numpy(), ref_sparse(np.array([0, 1]), x, True, 0).mean(),
                               rtol=1e-6)


def test_reductions_and_sample_weight():
    t, p = np.zeros((4, 2)), np.arange(8.0).reshape(4, 2)
    per = ref_mse(t, p)
    w = np.array([1.0, 0.0, 2.0, 1.0])
    np.testing.assert_allclose(losses.MeanSquaredError(reduction="sum")(t, p).numpy(), per.sum())
    np.testing.assert_allclose(losses.MeanSquaredError(reduction=None)(t, p).numpy(), per)
    np.testing.assert_allclose(losses.MeanSquaredError()(t, p, sample_weight=w).numpy(),
                               (per * w).sum() / 4)
    np.testing.assert_allclose(
        losses.MeanSquaredError(reduction="mean_with_sample_weight")(t, p, sample_weight=w),
        (per * w).sum() / w.sum())
    with pytest.raises(ValueError, match="Invalid value for argument `reduction`.*"
                                         "Received: reduction='average'"):
        losses.MeanSquaredError(reduction="average")


def test_empty_batch_returns_empty_values():
    out = losses.SparseCategoricalCrossentropy()(np.zeros(0, np.int64), np.zeros((0, 3)))
    assert out.shape == (0,)


def test_gradient_through_class_matches_softmax_minus_onehot():
    x = tf.Variable(np.array([[1.0, 2.0, 0.5], [0.3, -1.0, 2.0]], np.float32))
    with tf.GradientTape() as tape:
        loss = losses.SparseCategoricalCrossentropy(from_logits=True)([2, 0], x)
    g = tape.gradient(loss, x)
    soft = np.exp(_log_softmax(x.numpy().astype(np.float64)))
    np.testing.assert_allclose(g.numpy(), (soft - np.eye(3)[[2, 0]]) / 2, rtol=1e-5)


@pytest.mark.parametrize("dtype", DTYPES)
def test_class_gradients(dtype):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((3, 4))
    y = rng.integers(0, 4, 3)
    # The loss computes in float64 (its dtype), so central differences stay exact; float32
    # inputs are cast on the way in and their gradients cast back.
    for loss in (losses.SparseCategoricalCrossentropy(from_logits=True, dtype="float64"),
                 losses.CategoricalCrossentropy(dtype="float64")):
        target = y if "Sparse" in type(loss).__name__ else np.eye(4)[y]
        p = x if loss.fn is losses.sparse_categorical_crossentropy else _probs(rng, (3, 4))
        check_gradients(lambda q, loss=loss, target=target: loss(target, q), p,
                        dtype=tf.as_dtype(dtype))


# -- errors -------------------------------------------------------------------------------------
def test_sparse_shape_errors():
    with pytest.raises(ValueError, match=r"(?s)Argument `output` must have rank \(ndim\) "
                                         r"`target.ndim - 1`.*Hint: sparse targets"):
        losses.sparse_categorical_crossentropy(np.zeros((2, 3)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="same shape up until the last dimension: "
                                         r"target.shape=\(3,\), output.shape=\(2, 4\)"):
        losses.sparse_categorical_crossentropy([0, 1, 2], np.zeros((2, 4)))
    with pytest.raises(InvalidArgumentError, match="Received a label value of 5 which is "
                                                   r"outside the valid range of \[0, 3\)"):
        losses.sparse_categorical_crossentropy([5], np.ones((1, 3)) / 3)
    with pytest.raises(ValueError, match="Only axis=-1 is currently supported"):
        losses.sparse_categorical_crossentropy([0], np.ones((1, 3)), axis=0)


def test_categorical_and_binary_shape_errors():
    with pytest.raises(ValueError, match=r"must have the same shape. Received: "
                                         r"target.shape=\(2, 3\), output.shape=\(2, 4\)"):
        losses.categorical_crossentropy(np.zeros((2, 3)), np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"must have the same rank \(ndim\)"):
        losses.binary_crossentropy(np.zeros((2, 1)), np.zeros((2, 1, 1)))
    with pytest.raises(ValueError, match="must be at least rank 1"):
        losses.categorical_crossentropy(1.0, 0.5)


def test_categorical_single_column_warns():
    with pytest.warns(SyntaxWarning, match="Consider using 'binary_crossentropy'"):
        losses.categorical_crossentropy(np.ones((2, 1)), np.ones((2, 1)))


def test_get():
    assert losses.get("sparse_categorical_crossentropy") is losses.sparse_categorical_crossentropy
    assert losses.get("mse") is losses.mse and losses.get("MAE") is losses.mae
    assert isinstance(losses.get("BinaryCrossentropy"), losses.BinaryCrossentropy)
    assert losses.get(None) is None and losses.get(losses.mse) is losses.mse
    loss = losses.CategoricalCrossentropy(from_logits=True)
    again = losses.deserialize(losses.serialize(loss))
    assert isinstance(again, losses.CategoricalCrossentropy) and again.from_logits
    with pytest.raises(ValueError, match="Could not interpret loss identifier: 'hinge'. Known "
                                         "losses: .*sparse_categorical_crossentropy"):
        losses.get("hinge")


# -- tf.keras.backend ----------------------------------------------------------------------------
def test_backend_sparse_categorical_crossentropy():
    rng = np.random.default_rng(8)
    p = _probs(rng, (2, 3, 4))
    y = rng.integers(0, 4, (2, 3))
    out = tf.keras.backend.sparse_categorical_crossentropy(y, p)
    assert out.shape == (2, 3)
    np.testing.assert_allclose(out.numpy(), ref_sparse(y, p, False, np.float64), rtol=1e-12)
    x = rng.standard_normal((3, 4))
    flat = tf.keras.backend.sparse_categorical_crossentropy([[1], [2], [0]], x, from_logits=True)
    np.testing.assert_allclose(flat.numpy(), ref_sparse(np.array([1, 2, 0]), x, True, 0))
    moved = tf.keras.backend.sparse_categorical_crossentropy(y[0], np.moveaxis(p[0], -1, 0),
                                                             axis=0)
    np.testing.assert_allclose(moved.numpy(), ref_sparse(y[0], p[0], False, np.float64))
    check_gradients(lambda q: tf.keras.backend.sparse_categorical_crossentropy(
        y[0], q, from_logits=True), x, dtype=tf.float32)
    assert tf.keras.backend.epsilon() == 1e-7 and tf.keras.backend.floatx() == "float32"


@pytest.mark.parametrize("name", ["sparse", "categorical", "binary", "sparse_probs"])
def test_second_derivatives(name):
    rng = np.random.default_rng(9)
    x, y = rng.standard_normal((3, 4)), rng.integers(0, 4, 3)
    fns = {"sparse": lambda p: losses.sparse_categorical_crossentropy(y, p, from_logits=True),
           "categorical": lambda p: losses.categorical_crossentropy(np.eye(4)[y], p,
                                                                    from_logits=True),
           "binary": lambda p: losses.binary_crossentropy(np.eye(4)[y], p, from_logits=True),
           "sparse_probs": lambda p: losses.sparse_categorical_crossentropy(y, p)}
    check_gradients(fns[name], rng.uniform(0.1, 0.9, (3, 4)) if name == "sparse_probs" else x,
                    order=2)


# -- Keras 3's `_keras_logits`: the softmax and sigmoid activations keep their input ---------------
@pytest.mark.parametrize("given", [lambda v: v, np.array, tf.constant, tf.Variable])
def test_losses_take_the_stored_logits_whatever_the_activation_was_given(given):
    # Keras stores the raw input (a list, an array, a variable); the losses convert it.
    z = [[1.0, 2.0, 3.0]]
    p = tf.keras.activations.softmax(given(np.array(z, np.float32)) if given is not np.array
                                     else np.array(z, np.float32))
    want = float(np.log(np.exp(z).sum()) - 3.0)
    got = tf.keras.losses.categorical_crossentropy([[0.0, 0.0, 1.0]], p).numpy()
    np.testing.assert_allclose(got, [want], rtol=1e-6)
    got = tf.keras.losses.sparse_categorical_crossentropy([2], p).numpy()
    np.testing.assert_allclose(got, [want], rtol=1e-6)


def test_binary_crossentropy_uses_a_keras_sigmoids_logits():
    z = tf.constant([[-30.0, 0.5]])
    p = tf.keras.activations.sigmoid(z)
    # from the logits: log(1 + e^30) = 30 for the first; clipped probabilities would give ~16.1
    got = tf.keras.losses.binary_crossentropy([[1.0, 0.0]], p).numpy()
    want = np.mean([np.logaddexp(0, 30.0), np.logaddexp(0, 0.5)])
    np.testing.assert_allclose(got, [want], rtol=1e-6)
    plain = tf.keras.losses.binary_crossentropy([[1.0, 0.0]], tf.constant(p.numpy())).numpy()
    assert plain[0] < 9  # a plain tensor of probabilities is clipped, as in Keras
    with pytest.warns(UserWarning, match="produced by a Sigmoid activation"):
        tf.keras.losses.binary_crossentropy([[1.0, 0.0]], p, from_logits=True)
    # the gradient flows to the logits and is not clipped away at saturation
    with tf.GradientTape() as tape:
        tape.watch(z)
        loss = tf.keras.losses.binary_crossentropy([[1.0, 0.0]], tf.keras.activations.sigmoid(z))
    np.testing.assert_allclose(tape.gradient(loss, z).numpy(),
                               [[(1 / (1 + np.exp(30)) - 1) / 2, 1 / (1 + np.exp(-0.5)) / 2]],
                               rtol=1e-5)

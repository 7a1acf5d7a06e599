"""Activation, Dropout, Flatten, Reshape, Input/InputLayer, and the input_shape= compatibility
path: forward against numpy, gradients with check_gradients, errors with expected/received."""
import warnings

import numpy as np
import pytest

import microtf as tf
from microtf.keras import layers as L
from microtf.testing import check_gradients

SHAPES = [(1, 1), (3, 5), (0, 4), (2, 3, 4)]


def _x(shape, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype(dtype)


def _relu(a):
    return np.maximum(a, 0)


def _tanh(a):
    return np.tanh(a)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name,ref", [("relu", _relu), ("tanh", _tanh), ("linear", lambda a: a)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_activation_forward_and_gradient(shape, name, ref, dtype):
    x = _x(shape, dtype) + 0.1  # away from relu's kink
    layer = L.Activation(name, dtype=dtype)
    out = layer(tf.constant(x))
    np.testing.assert_allclose(out.numpy(), ref(x.astype(np.float64)), rtol=1e-6, atol=1e-7)
    assert out.dtype.name == np.dtype(dtype).name
    check_gradients(lambda t: L.Activation(name, dtype="float64")(t), x.astype(np.float64))


def test_activation_extreme_values_and_unknown_name():
    x = np.array([[-np.inf, np.inf, np.nan, 1e300, 5e-324]])
    out = L.Activation("relu", dtype="float64")(tf.constant(x)).numpy()
    np.testing.assert_array_equal(out, [[0, np.inf, np.nan, 1e300, 5e-324]])
    with pytest.raises(ValueError, match="Could not interpret activation.*nope"):
        L.Activation("nope")


@pytest.mark.parametrize("shape", SHAPES)
def test_dropout_identity_unless_training(shape):
    x = _x(shape, np.float32)
    layer = L.Dropout(0.5, seed=1)
    np.testing.assert_array_equal(layer(x).numpy(), x)
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x)


def test_dropout_training_scales_kept_values_and_drops_about_rate():
    x = np.ones((200, 50), np.float32)
    out = L.Dropout(0.3, seed=0)(x, training=True).numpy()
    kept = out != 0
    np.testing.assert_allclose(out[kept], 1 / 0.7, rtol=1e-6)
    assert 0.27 < 1 - kept.mean() < 0.33
    assert out.dtype == np.float32
    np.testing.assert_array_equal(L.Dropout(1.0)(x, training=True).numpy(), 0 * x)
    np.testing.assert_array_equal(L.Dropout(0.0)(x, training=True).numpy(), x)


def test_dropout_gradient_is_mask_over_keep_probability():
    x = tf.Variable(np.ones((4, 6)), dtype=tf.float64)
    layer = L.Dropout(0.5, seed=3, dtype="float64")
    with tf.GradientTape() as tape:
        y = layer(x, training=True)
        total = tf.reduce_sum(y)
    g = tape.gradient(total, x).numpy()
    np.testing.assert_array_equal(g, (y.numpy() != 0) * 2.0)


def test_dropout_seeded_is_reproducible_and_training_from_model():
    x = np.ones((3, 8), np.float32)
    a = L.Dropout(0.5, seed=7)(x, training=True).numpy()
    b = L.Dropout(0.5, seed=7)(x, training=True).numpy()
    np.testing.assert_array_equal(a, b)
    model = tf.keras.Sequential([L.Dropout(0.5, seed=7)])
    np.testing.assert_array_equal(model(x, training=True).numpy(), a)  # passed down to layers
    np.testing.assert_array_equal(model(x).numpy(), x)


def test_dropout_masks_follow_set_random_seed():
    x = np.ones((4, 8), np.float32)
    masks = []
    for _ in range(2):
        tf.keras.utils.set_random_seed(5)
        masks.append(L.Dropout(0.5)(x, training=True).numpy())
    np.testing.assert_array_equal(masks[0], masks[1])
    assert not np.array_equal(L.Dropout(0.5)(x, training=True).numpy(), masks[0])


@pytest.mark.parametrize("rate", [-0.1, 1.5, "0.5", True])
def test_dropout_bad_rate(rate):
    with pytest.raises(ValueError, match=r"between 0 and 1\. Received: rate="):
        L.Dropout(rate)


@pytest.mark.parametrize("shape,expected", [((2, 3, 4), (2, 12)), ((1, 1), (1, 1)),
                                            ((0, 3, 2), (0, 6)), ((5,), (5, 1))])
def test_flatten_forward_and_gradient(shape, expected):
    x = _x(shape)
    out = L.Flatten(dtype="float64")(tf.constant(x))
    np.testing.assert_array_equal(out.numpy(), x.reshape(expected))
    assert L.Flatten().compute_output_shape((None,) + shape[1:]) == (None,) + expected[1:]
    check_gradients(lambda t: tf.multiply(L.Flatten(dtype="float64")(t), 2.0), x)


@pytest.mark.parametrize("target,shape,expected", [((3, 4), (2, 12), (2, 3, 4)),
                                                   ((-1, 2), (3, 6), (3, 3, 2)),
                                                   ((2, 2), (0, 4), (0, 2, 2)),
                                                   ((1,), (1, 1), (1, 1))])
def test_reshape_forward_and_gradient(target, shape, expected):
    x = _x(shape)
    layer = L.Reshape(target, dtype="float64")
    out = layer(tf.constant(x))
    np.testing.assert_array_equal(out.numpy(), x.reshape(expected))
    assert layer.compute_output_shape((None,) + shape[1:]) == (None,) + expected[1:]
    check_gradients(lambda t: L.Reshape(target, dtype="float64")(t), x)


def test_reshape_errors_name_expected_and_received():
    with pytest.raises(ValueError, match=r"expected input of shape \(batch,\) \+ \(5, 2\).*"
                                         r"received input with shape \(2, 12\)"):
        L.Reshape((5, 2))(np.zeros((2, 12), np.float32))
    with pytest.raises(ValueError, match="at most one -1"):
        L.Reshape((-1, -1))
    with pytest.raises(ValueError, match="Received: target_shape=\\(0, 2\\)"):
        L.Reshape((0, 2))


def test_input_builds_sequential_at_once():
    inp = tf.keras.Input((64,))
    assert inp.shape == (None, 64) and inp.dtype == "float32"
    d = L.Dense(10)
    model = tf.keras.Sequential([inp, d])
    assert model.built and model.layers == [d]
    assert [tuple(w.shape) for w in model.weights] == [(64, 10), (10,)]
    assert tf.keras.layers.Input is tf.keras.Input
    layer = L.InputLayer(shape=(3,), batch_size=8)
    assert layer.batch_shape == (8, 3)
    np.testing.assert_array_equal(layer(np.ones((8, 3), np.float32)).numpy(), np.ones((8, 3)))


def test_input_must_come_first_and_needs_a_shape():
    with pytest.raises(ValueError, match="must come first.*1 layers"):
        tf.keras.Sequential([L.Dense(2), tf.keras.Input((3,))])
    with pytest.raises(ValueError, match="shape=None"):
        tf.keras.Input()


@pytest.mark.parametrize("kwargs,kernel", [({"input_shape": (4,)}, (4, 3)),
                                           ({"batch_input_shape": (None, 5)}, (5, 3)),
                                           ({"input_dim": 2}, (2, 3))])
def test_input_shape_keywords_warn_and_build(kwargs, kernel):
    with pytest.warns(DeprecationWarning, match=r"Input\(shape\)") as record:
        first = L.Dense(3, **kwargs)
    assert issubclass(record[0].category, UserWarning)  # Keras's class, too
    assert record[0].filename == __file__  # points at the user's line
    model = tf.keras.Sequential([first])
    assert model.built and tuple(model.weights[0].shape) == kernel


def test_dense_rejects_other_width_after_build():
    d = L.Dense(2)
    d(np.ones((1, 4), np.float32))
    with pytest.raises(ValueError, match=r'Input 0 of layer "%s" is incompatible with the layer: '
                                         r"expected axis -1 of input shape to have value 4, but "
                                         r"received input with shape \(1, 3\)" % d.name):
        d(np.ones((1, 3), np.float32))


def test_reset_states_warns():
    model = tf.keras.Sequential([L.Dense(1)])
    with pytest.warns(DeprecationWarning, match="reset_state"):
        model.reset_states()


def test_sequential_pop_then_add_rebuilds():
    model = tf.keras.Sequential([tf.keras.Input((3,)), L.Dense(4), L.Dense(2)])
    model.pop()
    model.add(L.Dense(5))
    assert model.built and tuple(model(np.ones((2, 3), np.float32)).shape) == (2, 5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tf.keras.Sequential([L.Dense(1)])  # no warning without input_shape

"""A user-defined op, registered from user code: swish with an explicit gradient.

    PYTHONPATH=. python3 examples/custom_op.py

1. register the forward (numpy arrays in, an array out) and the gradient (microtf ops);
2. check it with microtf.testing.check_gradients (first and second order, float32 and float64);
3. train a small Keras model that uses it as an activation, with compile/fit.
See docs/extending.md for the contract.
"""
import numpy as np

import microtf as tf


@tf.register_op("Swish", dtypes=(tf.float32, tf.float64))
def _swish(x):
    """y = x * sigmoid(x), computed from exp(-|x|) so that nothing overflows."""
    e = np.exp(-np.abs(x))
    sig = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
    return (x * sig).astype(x.dtype)


@tf.register_gradient("Swish")
def _swish_grad(op, dy):
    """dx = dy * (s + y * (1 - s)) with s = sigmoid(x), y = x * s: reuses the saved output y.

    Written with microtf ops, so a tape around this gradient can differentiate it again."""
    x, y = op.inputs[0], op.outputs[0]
    s = tf.sigmoid(x)
    return (dy * (s + y * (1.0 - s)),)


def swish(x, name=None):
    """x * sigmoid(x) (tf.nn.silu in TensorFlow)."""
    return _swish(x)


def check():
    x = np.linspace(-6.0, 6.0, 13)
    for dtype in ("float32", "float64"):
        tf.testing.check_gradients(swish, x, dtype=dtype, order=2)
    tf.testing.check_gradients(swish, np.random.default_rng(0).standard_normal((40, 40)))
    print("gradient check passed (full Jacobian, random directions, second order)")


def train():
    tf.keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.uniform(-1.0, 1.0, (256, 2)).astype("float32")
    y = (x[:, :1] * x[:, 1:] > 0).astype("float32")  # XOR-like quadrants: needs a hidden layer
    model = tf.keras.Sequential([
        tf.keras.layers.Dense(16, activation=swish),
        tf.keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=tf.keras.optimizers.Adam(0.05), loss="binary_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x, y, epochs=40, batch_size=32, verbose=0)
    first, last = history.history["loss"][0], history.history["loss"][-1]
    print("keras fit with swish: loss %.3f -> %.3f, accuracy %.2f"
          % (first, last, history.history["accuracy"][-1]))
    return first, last


if __name__ == "__main__":
    check()
    train()

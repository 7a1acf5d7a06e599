"""A user op defined entirely outside microtf, with the public API only (see docs/extending.md).

test_extending.py imports this module and trains through the op, so the extension path users
take (register a forward and a gradient by name from their own code) cannot silently break.
Nothing here may import a microtf submodule that is not documented for users.
"""
import numpy as np

import microtf as tf
from microtf.ops.math_ops import sum_to_shape  # documented in docs/extending.md, step 6


@tf.register_op("ExtScaledSoftsign", dtypes=(tf.float32, tf.float64))
def _scaled_softsign(x, scale):
    """y = scale * x / (1 + |x|): forward on numpy arrays, attrs as keyword arguments."""
    return (scale * x / (1 + np.abs(x))).astype(x.dtype)


@tf.register_gradient("ExtScaledSoftsign")
def _scaled_softsign_grad(op, dy):
    """dx = dy * scale / (1 + |x|)^2, written with microtf ops (so it has a second derivative)."""
    x = op.inputs[0]
    denom = tf.square(1.0 + tf.abs(x))
    return (dy * op.attrs["scale"] / denom,)


def scaled_softsign(x, scale=1.0):
    """The public function: a thin wrapper passing the attribute by keyword."""
    return _scaled_softsign(x, scale=float(scale))


@tf.register_op("ExtBiasedSquare", dtypes=(tf.float32, tf.float64))
def _biased_square(x, b):
    """y = x^2 + b, with b broadcast against x (numpy rules)."""
    return np.square(x) + b


@tf.register_gradient("ExtBiasedSquare")
def _biased_square_grad(op, dy):
    """dx = 2 x dy; db = dy summed back to b's shape (unbroadcast). Skips unneeded work."""
    x, b = op.inputs
    dx = sum_to_shape(2.0 * x * dy, x.shape) if op.needs_grad[0] else None
    db = sum_to_shape(dy, b.shape) if op.needs_grad[1] else None
    return dx, db


biased_square = _biased_square

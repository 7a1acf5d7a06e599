"""keras.activations: elementwise activation functions by name; imports microtf.ops.

The ops are looked up when an activation runs, not at import, so that this module works while
ops such as relu or softmax are still being added to microtf.ops.nn_ops.
"""
from ..ops import math_ops, nn_ops

__all__ = ["relu", "sigmoid", "tanh", "softmax", "linear", "get", "serialize"]


def relu(x):
    """max(x, 0)."""
    return nn_ops.relu(x)


def sigmoid(x):
    """1 / (1 + exp(-x))."""
    return math_ops.sigmoid(x)


def tanh(x):
    """(exp(x) - exp(-x)) / (exp(x) + exp(-x))."""
    return math_ops.tanh(x)


def softmax(x, axis=-1):
    """exp(x) / sum(exp(x)) along `axis`."""
    return nn_ops.softmax(x, axis=axis)


def linear(x):
    """The identity: x unchanged."""
    return x


_BY_NAME = {"relu": relu, "sigmoid": sigmoid, "tanh": tanh, "softmax": softmax,
            "linear": linear}


def get(identifier):
    """The activation function for a name ("relu"), a callable (returned as is), or None
    (linear)."""
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        fn = _BY_NAME.get(identifier)
        if fn is not None:
            return fn
    elif callable(identifier):
        return identifier
    raise ValueError("Could not interpret activation function identifier: %s\nHint: known names "
                     "are %s; or pass a function such as tf.nn.relu."
                     % (identifier, ", ".join(sorted(_BY_NAME))))


def serialize(activation):
    """The name of an activation function (its __name__ for callables)."""
    return getattr(activation, "__name__", str(activation))

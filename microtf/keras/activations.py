"""keras.activations: activation functions by name (Keras 3's names); imports microtf.ops.

Each is written with microtf ops, so gradients (and second derivatives) come from the ops'.
"""
import threading

from ..ops import math_ops, nn_ops

__all__ = ["relu", "sigmoid", "tanh", "softmax", "linear", "softplus", "softsign", "leaky_relu",
           "log_softmax", "swish", "silu", "elu", "selu", "relu6", "exponential",
           "hard_sigmoid", "get", "serialize"]


class _CompiledStep(threading.local):
    """Per thread: True inside fit's and evaluate's steps (Keras runs them as a traced
    tf.function), where any Softmax op's output leads back to its input."""

    def __init__(self):
        self.active = False


_compiled = _CompiledStep()


class compiled_step:
    """Marks a train/test step of fit/evaluate: Keras 3 (TensorFlow backend) traces those, and
    in a graph its cross-entropies also see that an `output` made by tf.nn.softmax comes from a
    Softmax op and use the op's input as logits (keras/src/backend/tensorflow/nn.py,
    _get_logits). Eagerly only the Keras softmax activation leaves its logits behind.
    A class rather than a generator context manager: it is entered at every step."""

    __slots__ = ("_outer",)

    def __enter__(self):
        self._outer = _compiled.active
        _compiled.active = True

    def __exit__(self, *exc):
        _compiled.active = self._outer
        return False


def stored_logits(output):
    """The logits a Keras softmax or sigmoid activation turned into `output` (Keras 3's
    `_keras_logits`: the activation's input as it was given), or None when `output` was made
    otherwise."""
    return getattr(output, "_keras_logits", None)


def relu(x):
    """max(x, 0)."""
    return nn_ops.relu(x)


def sigmoid(x):
    """1 / (1 + exp(-x)); the output keeps its logits for binary_crossentropy, as in Keras 3."""
    out = math_ops.sigmoid(x)
    out._keras_logits = x
    return out


def tanh(x):
    """(exp(x) - exp(-x)) / (exp(x) + exp(-x))."""
    return math_ops.tanh(x)


def softmax(x, axis=-1):
    """exp(x) / sum(exp(x)) along `axis`."""
    out = nn_ops.softmax(x, axis=axis)
    # Keras 3 keeps the logits on the output: its cross-entropies then compute from them, in
    # one stable fused op, instead of from clipped probabilities (and so does microtf).
    out._keras_logits = x
    return out


def fused_name(fn):
    """The name of `fn` for nn_ops.bias_activation ("relu", "linear"), or None when the bias
    add is not fused with it."""
    return _FUSED.get(fn)


def apply(fn, x):
    """fn(x) for a layer's activation; in a compiled step tf.nn.softmax and tf.sigmoid run as
    the Keras activations, whose outputs lead back to their logits (in a TF graph each is one
    Softmax or Sigmoid op, which Keras's losses recognize)."""
    if _compiled.active:
        fn = _AS_KERAS.get(fn, fn)
    return fn(x)


def linear(x):
    """The identity: x unchanged."""
    return x


def softplus(x):
    """log(1 + exp(x)), computed stably."""
    return nn_ops.softplus(x)


def softsign(x):
    """x / (|x| + 1)."""
    return math_ops.divide(x, math_ops.add(math_ops.abs(x), 1))


def leaky_relu(x, negative_slope=0.2):
    """x for x > 0, negative_slope * x otherwise (Keras 3's default slope 0.2)."""
    return nn_ops.leaky_relu(x, alpha=negative_slope)


def log_softmax(x, axis=-1):
    """log(softmax(x)), computed stably."""
    return nn_ops.log_softmax(x, axis=axis)


def swish(x):
    """x * sigmoid(x) (also called silu)."""
    return math_ops.multiply(x, math_ops.sigmoid(x))


silu = swish


def _expm1_negative(x):
    # exp(min(x, 0)) - 1: the branch where() does not pick stays finite, so its zero gradient
    # never meets an inf (exp of a large x) and turns into nan.
    return math_ops.subtract(math_ops.exp(math_ops.minimum(x, 0)), 1)


def elu(x, alpha=1.0):
    """x for x > 0, alpha * (exp(x) - 1) otherwise."""
    from ..ops.array_ops import where
    return where(math_ops.greater(x, 0), x, math_ops.multiply(_expm1_negative(x), alpha))


_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772, 1.0507009873554805


def selu(x):
    """scale * elu(x, alpha) with Klambauer et al.'s constants (self-normalizing)."""
    return math_ops.multiply(elu(x, _SELU_ALPHA), _SELU_SCALE)


def relu6(x):
    """min(max(x, 0), 6)."""
    return math_ops.minimum(nn_ops.relu(x), 6)


def exponential(x):
    """exp(x)."""
    return math_ops.exp(x)


def hard_sigmoid(x):
    """relu6(x + 3) / 6, Keras 3's piecewise-linear sigmoid."""
    return math_ops.divide(relu6(math_ops.add(x, 3)), 6)


# Activations a Dense layer applies in the gemm's output pass. Not sigmoid: its output must
# keep its logits (a tensor) for binary_crossentropy, as Keras's does.
_FUSED = {relu: "relu", nn_ops.relu: "relu", linear: "linear"}
_AS_KERAS = {nn_ops.softmax: softmax, math_ops.sigmoid: sigmoid}

_BY_NAME = {f.__name__: f for f in (relu, sigmoid, tanh, softmax, linear, softplus, softsign,
                                    leaky_relu, log_softmax, swish, elu, selu, relu6,
                                    exponential, hard_sigmoid)}
_BY_NAME["silu"] = swish


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

"""tf.nn: activations, softmax and cross-entropies (re-exports)."""
from .ops.math_ops import sigmoid  # noqa: F401
from .ops.nn_ops import *  # noqa: F401,F403

"""tf.math: elementwise math, comparisons and reductions (re-exports)."""
from .ops.math_ops import *  # noqa: F401,F403
from .ops.reduction_ops import *  # noqa: F401,F403
from .ops.nn_ops import log_softmax, softmax, softplus  # noqa: F401

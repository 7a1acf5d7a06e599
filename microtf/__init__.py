"""microtf: TensorFlow 2's eager API and Keras 3 in a small framework with Cython kernels.

`import microtf as tf` offers TensorFlow's names where TensorFlow keeps them. This module only
re-exports.
"""
from . import _kernels  # noqa: F401 - fails early, with build instructions, when unbuilt
from .eager.registry import (convert_to_tensor, no_gradient, not_differentiable,  # noqa: F401
                             register_gradient, register_op)
from .eager.tape import GradientTape, UnconnectedGradients, custom_gradient  # noqa: F401
from .framework import errors  # noqa: F401
from .framework.convert import constant  # noqa: F401
from .framework.dtypes import (DType, as_dtype, bool, double, float16, float32,  # noqa: F401
                               float64, half, int8, int16, int32, int64, string, uint8)
from .framework.shape import TensorShape  # noqa: F401
from .framework.tensor import Tensor, is_tensor  # noqa: F401
from .framework.variable import Variable  # noqa: F401
from .ops import *  # noqa: F401,F403

newaxis = None
__version__ = "0.1.0"


def gradients(*args, **kwargs):
    raise RuntimeError("tf.gradients is not supported when eager execution is enabled. Use "
                       "tf.GradientTape instead.")


def function(func=None, **kwargs):
    """tf.function: microtf runs eagerly, so this returns the function unchanged."""
    if func is None:
        return lambda f: f
    return func


def executing_eagerly():
    return True

from . import keras, math, nn, random, testing  # noqa: E402,F401 - TensorFlow's namespaces
from . import test  # noqa: E402,F401 - tf.test.compute_gradient

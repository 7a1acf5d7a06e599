"""Public ops; each module lists its public names in __all__. Importing attaches the operators."""
from . import operators  # noqa: F401 - attaches + - * / ... and indexing to Tensor and Variable
from .array_ops import *  # noqa: F401,F403
from .math_ops import *  # noqa: F401,F403
from . import nn_ops  # noqa: F401 - tf.nn re-exports it (microtf/nn.py), not the top level
from .reduction_ops import *  # noqa: F401,F403

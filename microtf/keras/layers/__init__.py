"""keras.layers: the Layer base class and the built-in layers."""
from .core import Activation, Dense, Dropout  # noqa: F401
from .input_layer import Input, InputLayer  # noqa: F401
from .layer import Layer  # noqa: F401
from .reshaping import Flatten, Reshape  # noqa: F401

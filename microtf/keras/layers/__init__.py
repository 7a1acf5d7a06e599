"""keras.layers: the Layer base class and the built-in layers."""
from .core import Dense  # noqa: F401
from .layer import Layer  # noqa: F401

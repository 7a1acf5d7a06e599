"""tf.keras: layers, models, initializers and activations (training API later)."""
from . import activations, initializers, layers, models, utils  # noqa: F401
from .layers import Layer  # noqa: F401
from .models import Model, Sequential  # noqa: F401
from .variables import Variable  # noqa: F401

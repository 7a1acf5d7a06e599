"""tf.keras: layers, models, initializers, activations, optimizers, losses, metrics, saving."""
from . import activations, initializers, layers, models, utils  # noqa: F401
from . import backend, losses, metrics, optimizers  # noqa: F401
from . import callbacks, saving  # noqa: F401
from .layers import Input, Layer  # noqa: F401
from .models import Model, Sequential  # noqa: F401
from .variables import Variable  # noqa: F401

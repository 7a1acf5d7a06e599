"""keras.layers Flatten and Reshape: views of each sample with another shape; imports ops, Layer.

Both keep the batch axis; their gradient is the reshape's (dy reshaped back to the input shape).
"""
import numpy as np

from ... import ops as _ops
from .layer import Layer

__all__ = ["Flatten", "Reshape"]


def _count(dims):
    return int(np.prod(dims, dtype=np.int64))


class Flatten(Layer):
    """(batch, d1, d2, ...) -> (batch, d1 * d2 * ...)."""

    def call(self, inputs):
        shape = tuple(inputs.shape)
        return _ops.reshape(inputs, (shape[0], _count(shape[1:])) if shape else (1,))

    def compute_output_shape(self, input_shape):
        rest = tuple(input_shape)[1:]
        return (input_shape[0], None if None in rest else _count(rest))


class Reshape(Layer):
    """(batch, ...) -> (batch,) + target_shape; one entry of target_shape may be -1."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(int(d) for d in target_shape)
        if sum(d == -1 for d in self.target_shape) > 1 or any(
                d < -1 or d == 0 for d in self.target_shape):
            raise ValueError("Invalid `target_shape`: expected positive sizes and at most one -1. "
                             "Received: target_shape=%s" % (self.target_shape,))

    def _resolved(self, input_shape):
        """target_shape with its -1 replaced, checking that the sizes agree."""
        size, known = _count(input_shape[1:]), _count([d for d in self.target_shape if d != -1])
        target = self.target_shape
        if -1 in target and known and size % known == 0:
            target = tuple(size // known if d == -1 else d for d in target)
        if _count(target) != size or -1 in target:
            raise ValueError("The total size of the input must equal the total size of the "
                             "target shape in Reshape layer '%s': expected input of shape "
                             "(batch,) + %s (%d values per sample), but received input with "
                             "shape %s (%d values per sample)."
                             % (self.name, self.target_shape, known, tuple(input_shape), size))
        return target

    def call(self, inputs):
        shape = tuple(inputs.shape)
        return _ops.reshape(inputs, (shape[0],) + self._resolved(shape))

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + self._resolved(tuple(input_shape))

    def get_config(self):
        config = super().get_config()
        config.update(target_shape=self.target_shape)
        return config

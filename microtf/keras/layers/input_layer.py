"""keras.Input and keras.layers.InputLayer: the declared input of a model; imports Layer only.

`Input(shape)` returns a symbolic KerasTensor (shape with a None batch axis); putting it first in
a Sequential builds the model at once, and summary() then shows None as the batch size.
"""
from ...framework import dtypes as _dt
from .layer import Layer

__all__ = ["Input", "InputLayer", "KerasTensor"]


class KerasTensor:
    """A placeholder for a model input: a shape (batch first, None when free) and a dtype."""

    def __init__(self, shape, dtype="float32", name=None, layer=None):
        self.shape, self.dtype, self.name, self._input_layer = tuple(shape), dtype, name, layer

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        return "<KerasTensor shape=%s, dtype=%s, name=%s>" % (self.shape, self.dtype, self.name)


class InputLayer(Layer):
    """The layer behind `Input`: holds the batch shape and passes its input through."""

    def __init__(self, shape=None, batch_size=None, dtype=None, batch_shape=None, name=None,
                 **kwargs):
        super().__init__(name=name, dtype=dtype, **kwargs)
        if batch_shape is None:
            if shape is None:
                raise ValueError("You must pass a `shape` argument to Input, e.g. "
                                 "tf.keras.Input(shape=(4,)). Received: shape=None")
            shape = (shape,) if isinstance(shape, int) else tuple(shape)
            batch_shape = (batch_size,) + shape
        self.batch_shape = tuple(None if d is None else int(d) for d in batch_shape)
        self.output = KerasTensor(self.batch_shape, _dt.as_dtype(self.dtype).name, self.name,
                                  self)
        self.built = True

    def call(self, inputs):
        return inputs

    def get_config(self):
        config = super().get_config()
        config.update(batch_shape=self.batch_shape)
        return config


def Input(shape=None, batch_size=None, dtype=None, batch_shape=None, name=None):  # noqa: N802
    """A symbolic input of `shape` (without the batch axis), e.g. tf.keras.Input(shape=(64,))."""
    return InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, batch_shape=batch_shape,
                      name=name).output

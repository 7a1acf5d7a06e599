"""keras.Model and keras.Sequential: layers that hold layers; imports keras.layers only.

Training (compile/fit/evaluate/predict) and summary() come later.
"""
import warnings

from .layers.input_layer import InputLayer, KerasTensor
from .layers.layer import Layer
from .trainer import Trainer

__all__ = ["Model", "Sequential"]


class Model(Trainer, Layer):
    """A layer meant to be subclassed: sub-layers assigned in `__init__` are tracked, `call`
    computes, and keyword arguments of `model(x, flag=True)` are forwarded to `call`."""

    def __init__(self, *args, **kwargs):
        if args or "inputs" in kwargs or "outputs" in kwargs:
            raise NotImplementedError("microtf does not support the functional API "
                                      "(Model(inputs, outputs)) yet: subclass tf.keras.Model "
                                      "or use tf.keras.Sequential.")
        super().__init__(**kwargs)

    @property
    def layers(self):
        """The tracked sub-layers, in the order they were assigned."""
        return self._sublayers

    def build(self, input_shape=None):
        """Creates the weights by running the model once on zeros of `input_shape`."""
        self._build_by_running(input_shape)

    # __call__ builds a model by calling it: there is no separate weight-creating step.
    build._builds_by_calling = True

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False,
                show_trainable=False, layer_range=None):
        """Prints Keras 3's table of layers, output shapes and parameter counts; returns None."""
        from .summary import print_summary
        print_summary(self, print_fn=print_fn)

    def save_weights(self, filepath, overwrite=True):
        """Saves all weights to `filepath` (Keras 3's `.weights.h5`, or `.npz`)."""
        from . import saving
        return saving.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath):
        """Loads weights saved by save_weights (shapes are checked before any is assigned)."""
        from . import saving
        return saving.load_weights(self, filepath)

    def reset_states(self):
        """Resets the state of stateful layers (none here); Keras 3 removed this method."""
        warnings.warn("`model.reset_states()` was removed in Keras 3: call `layer.reset_state()`"
                      " on stateful layers (e.g. RNNs with stateful=True) instead; microtf "
                      "keeps it for older labs.", DeprecationWarning, stacklevel=2)
        for layer in self.layers:
            if hasattr(layer, "reset_state"):
                layer.reset_state()


class Sequential(Model):
    """A stack of layers, each called on the previous one's output."""

    def __init__(self, layers=None, trainable=True, name=None):
        super().__init__(trainable=trainable, name=name)
        self._layers = []
        self._input_batch_shape = None
        for layer in layers or []:
            self.add(layer)

    @property
    def layers(self):
        return list(self._layers)

    def add(self, layer):
        """Appends a layer; the model is built again on its next call. An `Input(shape)` (or an
        InputLayer) first declares the input shape: the model is then built at once."""
        if isinstance(layer, KerasTensor):
            layer = layer._input_layer
        if isinstance(layer, InputLayer):
            if self._layers:
                raise ValueError("An `Input` must come first in a Sequential model; this one "
                                 "already has %d layers." % len(self._layers))
            self._input_batch_shape = layer.batch_shape
            return
        if not isinstance(layer, Layer):
            raise ValueError("Only instances of `keras.Layer` can be added to a Sequential model. "
                             "Received: %r (of type %s)" % (layer, type(layer)))
        if any(other.name == layer.name for other in self._layers):
            raise ValueError("All layers added to a Sequential model should have unique names. "
                             "Name '%s' is already the name of a layer in this model. Update the "
                             "`name` argument to pass a unique name." % layer.name)
        self._layers.append(layer)
        self.built = False
        shape = self._input_batch_shape or getattr(self._layers[0], "_batch_input_shape", None)
        if shape is not None:
            self.build(shape)  # Input or Dense(..., input_shape=...) first: Keras builds at once

    def pop(self):
        """Removes and returns the last layer."""
        if not self._layers:
            raise IndexError("There are no layers in the model: Sequential.pop() needs at least "
                             "one layer.")
        layer = self._layers.pop()
        self.built = False
        return layer

    def call(self, inputs, training=None):
        x = inputs
        for layer in self._layers:
            x = layer(x, training=training)
        return x

    def build(self, input_shape=None):
        """Builds every layer by running the model once on zeros of `input_shape`."""
        self._build_by_running(input_shape)

    build._builds_by_calling = True

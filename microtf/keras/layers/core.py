"""keras.layers Dense (activation(x @ kernel + bias)), Activation, Dropout; imports ops, Layer."""
import random as _pyrandom

import numpy as np

from ... import ops as _ops
from ...ops import nn_ops as _nn
from ...framework.tensor import contiguous, wrap
from .. import activations, initializers
from .layer import Layer

__all__ = ["Dense", "Activation", "Dropout"]

_FUSED_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))  # bias_activation's dtypes


class Dense(Layer):
    """A densely connected layer: kernel of shape (input_dim, units), bias of shape (units,).

    Gradients come from the ops: d kernel = x^T @ (dy * activation'), d bias = their column sums.
    """

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        if isinstance(units, bool) or not isinstance(units, (int, np.integer)) or units <= 0:
            raise ValueError("Received an invalid value for `units`, expected a positive "
                             "integer. Received: units=%r" % (units,))
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        # Built here, as Keras 3 does: a seeded initializer draws its seed at construction.
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer, self.bias_regularizer = kernel_regularizer, bias_regularizer
        self.activity_regularizer = activity_regularizer
        self.kernel_constraint, self.bias_constraint = kernel_constraint, bias_constraint
        self.kernel = self.bias = None

    def build(self, input_shape):
        """kernel: (input_shape[-1], units); bias: (units,)."""
        in_dim = input_shape[-1]
        if in_dim is None:
            raise ValueError("The last dimension of the inputs to a Dense layer should be "
                             "defined. Found None. Full input shape received: %s"
                             % (tuple(input_shape),))
        self.kernel = self.add_weight(name="kernel", shape=(int(in_dim), self.units),
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(self.units,),
                                        initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)

    def _check_inputs(self, inputs):
        # Keras's InputSpec for Dense: rank >= 2, and once built the kernel's input dimension.
        # The array's shape when there is one: building a TensorShape costs more than the check.
        shape = getattr(getattr(inputs, "_value", inputs), "shape", ())
        shape = tuple(shape) if not isinstance(shape, tuple) else shape
        if len(shape) < 2:
            raise ValueError('Input 0 of layer "%s" is incompatible with the layer: expected '
                             "min_ndim=2, found ndim=%d. Full shape received: %s\nHint: Dense "
                             "takes a batch of rows; use tf.reshape(x, (1, -1)) for one sample."
                             % (self.name, len(shape), shape))
        if self.kernel is not None and shape[-1] != self.kernel._value.shape[0]:
            raise ValueError('Input 0 of layer "%s" is incompatible with the layer: expected axis '
                             "-1 of input shape to have value %d, but received input with shape "
                             "%s" % (self.name, self.kernel._value.shape[0], shape))

    def call(self, inputs):
        x = inputs
        if not x.dtype.is_floating:
            x = _ops.cast(x, self._dtype)  # Keras's Dense accepts ints (its matmul promotes)
        fused = activations.fused_name(self.activation)
        if (self.bias is not None and x._value.ndim == 2 and x._value.dtype in _FUSED_DTYPES
                and x.dtype is self.kernel.dtype):
            # The gemm, then bias and activation in one pass over its output; backward one pass
            # for both and a gemm per matrix gradient (issue 5).
            y = _nn.fused_matmul(x, self.kernel, self.bias, fused or "linear")
            return y if fused else activations.apply(self.activation, y)
        y = _ops.matmul(x, self.kernel)  # batches of matrices; or MatMul's dtype error
        if self.bias is None:
            return activations.apply(self.activation, y)
        if y._value.dtype not in _FUSED_DTYPES:
            return activations.apply(self.activation, _ops.add(y, self.bias))
        if fused is not None:
            return _nn.bias_activation(y, self.bias, fused)
        return activations.apply(self.activation, _nn.bias_activation(y, self.bias, "linear"))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)[:-1] + (self.units,)

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units, activation=activations.serialize(self.activation),
                      use_bias=self.use_bias,
                      kernel_initializer=initializers.serialize(self.kernel_initializer),
                      bias_initializer=initializers.serialize(self.bias_initializer))
        return config


class Activation(Layer):
    """Applies an activation function by name or callable; its gradient is the activation's."""

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def call(self, inputs):
        return activations.apply(self.activation, inputs)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(activation=activations.serialize(self.activation))
        return config


class Dropout(Layer):
    """With training=True, zeroes each input with probability `rate` and scales the rest by
    1 / (1 - rate), so the expected output is the input; otherwise the identity.

    Gradient: dx = dy * mask / (1 - rate) (the mask is a constant multiplied in)."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
            raise ValueError("Invalid value received for argument `rate`. Expected a float value "
                             "between 0 and 1. Received: rate=%r" % (rate,))
        self.rate, self.noise_shape, self.seed = float(rate), noise_shape, seed
        # Like Keras's SeedGenerator: without a seed, draw one from Python's `random`, so that
        # keras.utils.set_random_seed makes the masks reproducible.
        self._rng = np.random.default_rng(_pyrandom.randint(1, 10**9) if seed is None else seed)

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        dtype = inputs.dtype._np
        shape = tuple(inputs.shape) if self.noise_shape is None else tuple(
            d if d is not None else s for d, s in zip(self.noise_shape, inputs.shape))
        if self.rate == 1:
            scale = np.zeros(shape, dtype)  # everything dropped (Keras gives zeros, not NaN)
        else:
            keep = self._rng.random(shape) >= self.rate
            scale = keep.astype(dtype) / dtype.type(1 - self.rate)
        return _ops.multiply(inputs, wrap(contiguous(scale.astype(dtype, copy=False))))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(rate=self.rate, noise_shape=self.noise_shape, seed=self.seed)
        return config

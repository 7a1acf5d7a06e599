"""keras.Variable: a trainable tf.Variable that knows its layer path; imports framework only
(and keras.initializers, lazily, for the Variable(initializer, shape) form)."""
import numpy as np

from ..framework.variable import Variable as _TFVariable
from .naming import unique_name


class Variable(_TFVariable):
    """A layer weight: `.name` is the weight's own name ("kernel"), `.path` adds the layers that
    created it ("sequential/dense/kernel"). GradientTape watches it like any trainable Variable."""

    def __init__(self, initializer, shape=None, dtype=None, trainable=True, name=None, path=None,
                 **kwargs):
        if callable(initializer) and shape is not None:
            # Keras 3 form: Variable(initializer, shape, dtype) calls initializer(shape, dtype).
            from .initializers import _dtype
            initializer = initializer(tuple(shape), dtype=_dtype(dtype))
        name = unique_name("variable") if name is None else name
        super().__init__(initializer, trainable=trainable, dtype=dtype, name=name)
        self._path = path if path is not None else self._name

    @property
    def name(self):
        return self._name

    @property
    def path(self):
        return self._path

    def __repr__(self):
        return "<Variable path=%s, shape=%s, dtype=%s, value=%s>" % (
            self._path, tuple(self._value.shape), self._dtype.name,
            np.array2string(self._value, separator=" "))

    __str__ = __repr__

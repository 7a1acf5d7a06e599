"""Variable: mutable state with a fixed shape and dtype (tf.Variable).

Design: assign* replaces the storage array instead of writing into it, so a tensor read from
the variable earlier (and held by a tape) keeps the value it had when it was read. Reads that a
tape must see go through microtf.eager.registry.read_variable (imported lazily: the tape sits
one layer above this module).
"""
import numpy as np

from . import dtypes
from .convert import to_array
from .errors import InvalidArgumentError
from .shape import TensorShape
from .tensor import ArrayValue, Tensor, contiguous, numpy_repr


def _read(var):
    from ..eager.registry import read_variable
    return read_variable(var)


class Variable(ArrayValue):
    """A tensor-like value that changes only through `assign`, `assign_add` and `assign_sub`."""

    def __init__(self, initial_value=None, trainable=None, validate_shape=True,
                 caching_device=None, name=None, variable_def=None, dtype=None,
                 import_scope=None, constraint=None, synchronization=None, aggregation=None,
                 shape=None, **kwargs):
        if initial_value is None:
            raise ValueError("The `initial_value` arg to `tf.Variable` must be specified except "
                             "when you are not providing a `variable_def`. You provided neither.")
        if callable(initial_value):
            initial_value = initial_value()
        if dtype is not None:
            dtype = dtypes.as_dtype(dtype)
        if isinstance(initial_value, (Tensor, Variable)):
            arr, src = initial_value._value, initial_value._dtype
            if dtype is not None and dtype is not src:
                # As tf.convert_to_tensor: a tensor never changes dtype implicitly.
                raise ValueError("Tensor conversion requested dtype %s for Tensor with dtype %s: "
                                 "%r\nHint: use tf.cast(value, tf.%s) first."
                                 % (dtype.name, src.name, initial_value, dtype.name))
            arr, dtype = np.array(arr, copy=True), src
        else:
            arr, dtype = to_array(initial_value, dtype)
        self._value = contiguous(arr)
        self._dtype = dtype
        self._shape = TensorShape(arr.shape) if shape is None else TensorShape(shape)
        if validate_shape and shape is not None and not self._shape.is_compatible_with(arr.shape):
            raise ValueError("The initial value's shape (%s) is not compatible with the explicitly"
                             " supplied `shape` argument (%s)." % (TensorShape(arr.shape),
                                                                   self._shape))
        self._trainable = True if trainable is None else bool(trainable)
        self._name = "Variable" if name is None else str(name)
        self._constraint = constraint

    # -- attributes ---------------------------------------------------------------------------
    @property
    def shape(self):
        return self._shape

    @property
    def name(self):
        return self._name + ":0"

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        self._trainable = bool(value)

    @property
    def constraint(self):
        return self._constraint

    # -- reading ------------------------------------------------------------------------------
    def value(self):
        """The current value as a Tensor (recorded by active tapes)."""
        return _read(self)

    def read_value(self):
        return _read(self)

    # -- writing ------------------------------------------------------------------------------
    def _converted(self, value):
        """`value` as an ndarray of this variable's dtype, with TensorFlow's refusals."""
        if isinstance(value, (Tensor, Variable)):
            if value._dtype is not self._dtype:
                raise ValueError("Tensor conversion requested dtype %s for Tensor with dtype %s:"
                                 " %r" % (self._dtype.name, value._dtype.name, value))
            return value._value
        arr, _ = to_array(value, None if isinstance(value, np.ndarray) else self._dtype)
        if arr.dtype != self._dtype._np:
            if np.dtype(arr.dtype).kind == "f" and not self._dtype.is_floating:
                raise ValueError("Tensor conversion requested dtype %s for Tensor with dtype %s"
                                 % (self._dtype.name, dtypes.from_numpy(arr.dtype).name))
            arr = arr.astype(self._dtype._np)
        return arr

    def _set(self, arr, read_value):
        self._value = arr
        return UnreadVariable(self) if read_value else None

    def assign(self, value, use_locking=False, name=None, read_value=True):
        """Replaces the value; the shape and dtype must match the variable's."""
        arr = self._converted(value)
        if arr.shape != self._value.shape and not self._shape.is_compatible_with(arr.shape):
            raise ValueError("Cannot assign value to variable ' %s': Shape mismatch.The variable "
                             "shape %s, and the assigned value shape %s are incompatible."
                             % (self.name, self._shape, TensorShape(arr.shape)))
        return self._set(np.array(arr, copy=True, order="C"), read_value)

    def _update(self, value, sign, op_name, read_value):
        arr = self._converted(value)
        if arr.shape != self._value.shape:
            raise InvalidArgumentError(
                None, op_name,
                "Cannot update variable with shape %s using a Tensor with shape %s, shapes must "
                "be equal. [Op:%s]" % (_dims(self._value.shape), _dims(arr.shape), op_name))
        new = np.add(self._value, arr) if sign > 0 else np.subtract(self._value, arr)
        return self._set(new, read_value)

    def assign_add(self, delta, use_locking=False, name=None, read_value=True):
        return self._update(delta, 1, "AssignAddVariableOp", read_value)

    def assign_sub(self, delta, use_locking=False, name=None, read_value=True):
        return self._update(delta, -1, "AssignSubVariableOp", read_value)

    def _inplace_error(self, *args):
        raise RuntimeError("`variable += value` with `tf.Variable`s is not supported. Use "
                           "`variable.assign_add(value)` to modify the variable, or "
                           "`out = variable + value` if you need to get a new output Tensor.")

    __iadd__ = __isub__ = __imul__ = __itruediv__ = __ifloordiv__ = __ipow__ = _inplace_error
    __imod__ = __imatmul__ = _inplace_error

    # -- Python protocols ---------------------------------------------------------------------
    def __iter__(self):
        return iter(self.value())

    def __index__(self):
        return self.value().__index__()

    def __hash__(self):
        raise TypeError("Variable is unhashable. Instead, use variable.ref() as the key.")

    def __repr__(self):
        return "<tf.Variable '%s' shape=%s dtype=%s, numpy=%s>" % (
            self.name, self._shape, self._dtype.name, numpy_repr(self._value))

    __str__ = __repr__


class UnreadVariable(Variable):
    """What `assign*` return (TensorFlow's `_UnreadVariable`): the same variable's state, shown
    under the name 'UnreadVariable'; reading it gives the variable's current value."""

    def __init__(self, var):
        var = getattr(var, "_var", var)
        self.__dict__.update(var.__dict__)
        self._var = var

    # Storage and trainability live on the variable, so chained assigns change it.
    _value = property(lambda self: self._var._value,
                      lambda self, arr: setattr(self._var, "_value", arr))
    _trainable = property(lambda self: self._var._trainable,
                          lambda self, flag: setattr(self._var, "_trainable", flag))

    @property
    def name(self):
        return "UnreadVariable"


def _dims(shape):
    return "[%s]" % ",".join(str(d) for d in shape)


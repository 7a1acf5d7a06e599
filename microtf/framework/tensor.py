"""Tensor: an immutable n-d array with a dtype; imports numpy and framework modules only.

Arithmetic operators and indexing are attached by microtf.ops.operators (as TensorFlow does),
so that this module stays free of ops and the tape.
"""
import numpy as np

from . import dtypes
from .shape import TensorShape

_from_numpy = dtypes.from_numpy
_dtype_of = dtypes._BY_NP.get  # the fast lookup; from_numpy handles the rest and errors


class ArrayValue:
    """What Tensor and Variable share: a numpy value `_value` and a DType `_dtype`, read through
    numpy's protocols and Python's conversions (TF_SEMANTICS.md section 2.9).

    Variable is not a Tensor (`isinstance(tf.Variable(1.), tf.Tensor)` is False in TensorFlow),
    so the shared part lives here rather than in a common Tensor base.
    """

    __slots__ = ()
    # Makes `ndarray + tensor` call the tensor's __radd__, so the result is a Tensor.
    __array_priority__ = 100

    @property
    def dtype(self):
        return self._dtype

    @property
    def ndim(self):
        return self._value.ndim

    @property
    def device(self):
        return "/job:localhost/replica:0/task:0/device:CPU:0"

    def get_shape(self):
        return self.shape

    def numpy(self):
        """A copy of the value: a numpy array, or a numpy scalar for 0-d values."""
        v = self._value
        if v.ndim == 0:
            return v[()]
        return v.copy()

    def __array__(self, dtype=None, copy=None):
        v = self._value
        if dtype is not None and np.dtype(dtype) != v.dtype:
            return v.astype(dtype)
        if copy:
            return v.copy()
        view = v.view()
        view.flags.writeable = False  # a view must not let numpy code change the value
        return view

    def __dlpack__(self, **kwargs):
        return self._value.__dlpack__(**kwargs)

    def __dlpack_device__(self):
        return self._value.__dlpack_device__()

    def __len__(self):
        if self._value.ndim == 0:
            raise TypeError("Scalar tensor has no len()")
        return self._value.shape[0]

    def __bool__(self):
        return bool(self._value)

    def __float__(self):
        return float(self._value)

    def __int__(self):
        return int(self._value)

    def ref(self):
        """A hashable reference (for dict keys and sets)."""
        return Reference(self)

    experimental_ref = ref

    def __format__(self, spec):
        v = self._value
        return format(v[()] if v.ndim == 0 else v, spec)


class Tensor(ArrayValue):
    """An immutable multi-dimensional array (TensorFlow's EagerTensor).

    Storage is one C-contiguous numpy array owned by the tensor; `.numpy()` returns a copy.
    """

    # _keras_logits: set by the Keras softmax activation on its output (TF's EagerTensor takes
    # any attribute; Keras 3 stores the logits there for its cross-entropies). Unset otherwise.
    __slots__ = ("_value", "_dtype", "_keras_logits", "__weakref__")

    def __init__(self, *args, **kwargs):
        raise TypeError("Tensors are made by ops: use tf.constant(value) or "
                        "tf.convert_to_tensor(value) instead of tf.Tensor(...).")

    @property
    def shape(self):
        return TensorShape._from_tuple(self._value.shape)

    def __iter__(self):
        if self._value.ndim == 0:
            raise TypeError("Cannot iterate over a scalar tensor.")
        return (self[i] for i in range(self._value.shape[0]))

    def __index__(self):
        if not self._dtype.is_integer or self._value.ndim != 0:
            raise TypeError("Only integer scalar tensors can be used as an index; got %s "
                            "of shape %s" % (self._dtype.name, self.shape))
        return int(self._value)

    def __hash__(self):
        raise TypeError("Tensor is unhashable. Instead, use tensor.ref() as the key.")

    def __copy__(self):
        return self  # immutable

    def __deepcopy__(self, memo):
        return self

    def __reduce__(self):
        from . import convert
        return convert.constant_from_array, (self._value, self._dtype.name)

    # -- printing (TF_SEMANTICS.md section 2.3) ---------------------------------------------
    def __str__(self):
        text = _value_str(self._value)
        if "\n" in text:
            text = "\n" + text
        return "tf.Tensor(%s, shape=%s, dtype=%s)" % (text, self.shape, self._dtype.name)

    def __repr__(self):
        return "<tf.Tensor: shape=%s, dtype=%s, numpy=%s>" % (
            self.shape, self._dtype.name, numpy_repr(self._value))


def _value_str(v):
    return str(v[()]) if v.ndim == 0 else str(v)


def numpy_repr(v):
    """The `numpy=` part of a tensor or variable repr: 0-d values as Python reprs."""
    if v.ndim == 0:
        return repr(v.item()) if v.dtype != object else repr(v[()])
    text = repr(v)
    return "\n" + text if "\n" in text else text


class Reference:
    """Hashable wrapper returned by `Tensor.ref()` and `Variable.ref()`."""

    __slots__ = ("_obj",)

    def __init__(self, obj):
        self._obj = obj

    def deref(self):
        return self._obj

    def __hash__(self):
        return id(self._obj)

    def __eq__(self, other):
        return isinstance(other, Reference) and other._obj is self._obj

    def __repr__(self):
        return "<Reference wrapping %r>" % (self._obj,)


_new = object.__new__


def contiguous(a):
    """`a` as a C-contiguous array, copied only if needed (np.ascontiguousarray would turn a
    0-d array into a 1-d one)."""
    return a if a.flags.c_contiguous else a.copy(order="C")


def wrap(value, dtype=None):
    """Makes a Tensor owning `value` (an ndarray the caller gives away; not copied).

    The one constructor every op uses; numpy scalars from 0-d math become 0-d arrays here.
    """
    if type(value) is not np.ndarray:
        value = np.asarray(value)
    t = _new(Tensor)
    t._value = value
    if dtype is None:
        dtype = _dtype_of(value.dtype) or _from_numpy(value.dtype)
    t._dtype = dtype
    return t


def is_tensor(x):
    from .variable import Variable
    return isinstance(x, (Tensor, Variable))

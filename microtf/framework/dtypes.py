"""DType objects with TensorFlow's names; imports only numpy."""
import numpy as np


class DType:
    """A tensor element type: `tf.float32`, `tf.int32`, `tf.string`, ...

    Compares equal to itself, to its numpy dtype and to its name, as TensorFlow's does.
    """

    __slots__ = ("name", "_np", "_short", "is_floating", "is_integer")

    def __init__(self, name, np_dtype, short):
        self.name = name
        self._np = np.dtype(np_dtype)
        self._short = short  # the name TensorFlow's kernel messages use ("float", "double")
        # Plain attributes, not properties: the tape reads is_floating for every recorded output.
        self.is_floating = self._np.kind == "f"
        self.is_integer = self._np.kind in "iu"

    def __setattr__(self, key, value):
        if hasattr(self, key):  # set once in __init__, then read-only like TensorFlow's
            raise AttributeError("DType objects are immutable (tried to set %r)" % key)
        object.__setattr__(self, key, value)

    @property
    def as_numpy_dtype(self):
        return self._np.type

    @property
    def is_bool(self):
        return self._np.kind == "b"

    @property
    def is_unsigned(self):
        return self._np.kind == "u"

    @property
    def size(self):
        return 8 if self.name == "string" else self._np.itemsize

    @property
    def base_dtype(self):
        return self

    @property
    def min(self):
        info = np.finfo(self._np) if self.is_floating else np.iinfo(self._np)
        return info.min

    @property
    def max(self):
        info = np.finfo(self._np) if self.is_floating else np.iinfo(self._np)
        return info.max

    def __repr__(self):
        return "tf." + self.name

    def __str__(self):
        return "<dtype: '%s'>" % self.name

    def __eq__(self, other):
        if other is self:
            return True
        if other is None:
            return False
        try:
            return as_dtype(other) is self
        except TypeError:
            return False

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return hash(self.name)

    def __reduce__(self):
        return as_dtype, (self.name,)


float16 = DType("float16", np.float16, "half")
float32 = DType("float32", np.float32, "float")
float64 = DType("float64", np.float64, "double")
int8 = DType("int8", np.int8, "int8")
int16 = DType("int16", np.int16, "int16")
int32 = DType("int32", np.int32, "int32")
int64 = DType("int64", np.int64, "int64")
uint8 = DType("uint8", np.uint8, "uint8")
bool = DType("bool", np.bool_, "bool")  # noqa: A001 - TensorFlow's name
string = DType("string", object, "string")
half, double = float16, float64

ALL = (float16, float32, float64, int8, int16, int32, int64, uint8, bool, string)
FLOATS = (float16, float32, float64)
# Dtypes whose math kernels microtf runs (float16 is storage only, as the issue asks).
COMPUTE_FLOATS = (float32, float64)

_BY_NAME = {d.name: d for d in ALL}
_BY_NAME.update(half=float16, double=float64, float=float32, int=int32)
_BY_NP = {d._np: d for d in ALL if d is not string}
_BY_NP[np.dtype(object)] = string
_BY_NP[np.dtype("S")] = string
_PY_TYPES = {float: float32, int: int32, type(True): bool, str: string, bytes: string}


def as_dtype(value):
    """Converts a DType, numpy dtype/type, Python type or name to a microtf DType."""
    if isinstance(value, DType):
        return value
    if isinstance(value, str):
        d = _BY_NAME.get(value)
        if d is not None:
            return d
    elif isinstance(value, type) and value in _PY_TYPES:
        return _PY_TYPES[value]
    else:
        try:
            npd = np.dtype(value)
        except TypeError:
            npd = None
        if npd is not None:
            if npd.kind in "SUO":
                return string
            d = _BY_NP.get(npd)
            if d is not None:
                return d
    raise TypeError("Cannot convert %r to a microtf dtype. Supported: %s"
                    % (value, ", ".join(d.name for d in ALL)))


def from_numpy(npd):
    """The DType of a numpy dtype, or TypeError naming it."""
    d = _BY_NP.get(npd)
    if d is None:
        if npd.kind in "SUO":
            return string
        raise TypeError("microtf has no dtype for numpy %s. Supported: %s"
                        % (npd, ", ".join(d.name for d in ALL)))
    return d

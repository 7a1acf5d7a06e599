"""Python values and numpy arrays to tensor storage, with TensorFlow's dtype rules (section 2.1).

Imports framework modules only. Variable reads and op recording are handled one layer up, in
microtf.eager.registry.
"""
import numpy as np

from . import dtypes
from .tensor import Tensor, contiguous, wrap

_INT32_MIN, _INT32_MAX = -(2 ** 31), 2 ** 31 - 1
_INT64_MIN, _INT64_MAX = -(2 ** 63), 2 ** 63 - 1


def _is_variable(x):
    from .variable import Variable
    return isinstance(x, Variable)


def _infer_python(value):
    """The DType TensorFlow infers for a Python scalar or nested list (no numpy involved)."""
    if isinstance(value, bool) or isinstance(value, np.bool_):
        return dtypes.bool
    if isinstance(value, (int, np.integer)):
        return dtypes.int32 if _INT32_MIN <= value <= _INT32_MAX else dtypes.int64
    if isinstance(value, (float, np.floating)):
        return dtypes.float32
    if isinstance(value, (str, bytes)):
        return dtypes.string
    if isinstance(value, complex):
        raise TypeError("microtf does not support complex numbers (got %r)." % (value,))
    return None


def _flatten_leaves(value, out):
    # Iterative walk over a nested list; a numpy array or tensor inside a list is a leaf block.
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, (list, tuple)):
            stack.extend(v)
        else:
            out.append(v)


def _check_rectangular(value):
    """ValueError for ragged nested lists, as TensorFlow raises."""
    level = [value]
    while True:
        lists = [v for v in level if isinstance(v, (list, tuple))]
        if not lists:
            return
        if len(lists) != len(level) or len({len(v) for v in lists}) != 1:
            raise ValueError("Can't convert non-rectangular Python sequence to Tensor.")
        level = [x for v in lists for x in v]


def _python_to_array(value, dtype):
    """A nested Python list or scalar to an ndarray, with TensorFlow's inference."""
    leaves = []
    _flatten_leaves(value, leaves)
    if isinstance(value, (list, tuple)):
        _check_rectangular(value)
    if any(isinstance(v, Tensor) or _is_variable(v) for v in leaves):
        # Auto-packing: [t1, t2] stacks the tensors (tf.convert_to_tensor does this).
        return _pack(value, dtype)
    inferred = None
    for v in leaves:
        d = _infer_python(v)
        if d is None:
            if isinstance(v, np.ndarray):
                d = dtypes.from_numpy(v.dtype)
            else:
                raise TypeError("Can't convert %r (of type %s) to a Tensor. Give numbers, "
                                "strings, nested lists of them or numpy arrays."
                                % (v, type(v).__name__))
        inferred = _join(inferred, d)
    if inferred is None:  # [] or [[]]
        inferred = dtypes.float32
    target = inferred if dtype is None else dtype
    if target is dtypes.string:
        if inferred is not dtypes.string:
            raise TypeError("Cannot convert %r to EagerTensor of dtype string" % (value,))
        arr = np.empty(np.shape(value) if leaves else (0,), dtype=object)
        flat = arr.reshape(-1)
        _strings_into(value, flat)
        return arr, dtypes.string
    if inferred is dtypes.string:
        raise TypeError("Cannot convert %r to EagerTensor of dtype %s" % (value, target.name))
    if inferred is dtypes.int64 and dtype is None:
        for v in leaves:
            if not (_INT64_MIN <= v <= _INT64_MAX):
                raise ValueError("Can't convert Python sequence with out-of-range integer "
                                 "to Tensor.")
    if inferred is dtypes.float32 and target.is_integer or target.is_bool and not inferred.is_bool:
        # TensorFlow refuses to truncate Python floats silently.
        arr = np.array(value, dtype=np.float64)
        if target.is_bool or not np.all(arr == np.trunc(arr)):
            raise TypeError("Cannot convert %r to EagerTensor of dtype %s"
                            % (value, target.name))
    try:
        arr = np.array(value, dtype=target._np)
    except OverflowError:
        raise ValueError("Can't convert Python sequence with out-of-range integer to Tensor "
                         "of dtype %s." % target.name) from None
    return arr, target


def _join(a, b):
    """TensorFlow's inference over a list: bool < int32 < int64 < float32; strings don't mix."""
    if a is None or a is b:
        return b
    order = [dtypes.bool, dtypes.int32, dtypes.int64, dtypes.float32]
    if a in order and b in order:
        return order[max(order.index(a), order.index(b))]
    if a.is_floating and b.is_floating:
        return a if a.size >= b.size else b
    if dtypes.string in (a, b):
        raise TypeError("Can't convert a list that mixes strings and numbers to a Tensor.")
    return a if a.size >= b.size else b


def _strings_into(value, flat):
    leaves = []
    _flatten_leaves(value, leaves)
    leaves.reverse()  # _flatten_leaves pops from the end
    for i, v in enumerate(leaves):
        flat[i] = v.encode("utf-8") if isinstance(v, str) else bytes(v)


def _pack(value, dtype):
    arrays = []

    def to_np(v):
        if isinstance(v, (list, tuple)):
            return [to_np(x) for x in v]
        if isinstance(v, Tensor):
            return v._value
        if _is_variable(v):
            return v._value
        return v

    nested = to_np(value)
    first = None
    _flatten_leaves(value, arrays)
    for v in arrays:
        if isinstance(v, Tensor) or _is_variable(v):
            first = v.dtype
            break
    target = dtype or first
    try:
        arr = np.array(nested, dtype=target._np)
    except ValueError:
        raise ValueError("Can't convert non-rectangular Python sequence to Tensor.") from None
    return arr, target


def numpy_to_array(value, dtype):
    """A numpy array or scalar to owned C-contiguous storage, keeping numpy's dtype."""
    value = np.asarray(value)
    if value.dtype.kind in "SUO":
        if value.dtype.kind == "O" and not all(isinstance(v, (str, bytes))
                                               for v in value.reshape(-1)):
            raise TypeError("Can't convert a numpy object array to a Tensor unless it holds "
                            "only strings; got %r" % (value,))
        out = np.empty(value.shape, dtype=object)
        flat = out.reshape(-1)
        for i, v in enumerate(value.reshape(-1)):
            flat[i] = v.encode("utf-8") if isinstance(v, str) else bytes(v)
        if dtype is not None and dtype is not dtypes.string:
            raise TypeError("Cannot convert a string array to EagerTensor of dtype %s"
                            % dtype.name)
        return out, dtypes.string
    src = dtypes.from_numpy(value.dtype)
    if value.dtype.kind == "c":
        raise TypeError("microtf does not support complex numbers.")
    target = src if dtype is None else dtype
    if target is dtypes.string:
        raise TypeError("Cannot convert a %s array to EagerTensor of dtype string" % src.name)
    # Always a private copy: the caller's array may change later, and views may be strided.
    return np.array(value, dtype=target._np, order="C", copy=True), target


def to_array(value, dtype=None):
    """(ndarray, DType) for a Python value or numpy array, as tf.constant infers them."""
    if dtype is not None:
        dtype = dtypes.as_dtype(dtype)
    if isinstance(value, np.ndarray) or isinstance(value, np.generic):
        return numpy_to_array(value, dtype)
    if isinstance(value, (list, tuple)) or _infer_python(value) is not None:
        return _python_to_array(value, dtype)
    if hasattr(value, "__array__"):
        return numpy_to_array(np.asarray(value), dtype)
    raise TypeError("Can't convert %r (of type %s) to a Tensor. Give numbers, strings, nested "
                    "lists of them or numpy arrays." % (value, type(value).__name__))


def constant(value, dtype=None, shape=None, name=None):
    """tf.constant: a Tensor holding `value` (copied), with TensorFlow's dtype inference."""
    if isinstance(value, Tensor) or _is_variable(value):
        src = value
        arr = src._value
        if dtype is not None:
            dtype = dtypes.as_dtype(dtype)
            if dtype is not src.dtype:
                arr = _cast_array(arr, src.dtype, dtype)
        else:
            dtype = src.dtype
        arr = arr.copy()
    else:
        if isinstance(value, (list, tuple)):
            leaves = []
            _flatten_leaves(value, leaves)
            if any(isinstance(v, Tensor) or _is_variable(v) for v in leaves):
                # TensorFlow's class and text, plus the way out.
                raise ValueError("TypeError: Scalar tensor has no len()\nHint: tf.constant does "
                                 "not take a list of tensors; use tf.stack([...]) or "
                                 "tf.convert_to_tensor([...]) to pack them.")
        arr, dtype = to_array(value, dtype)
    if shape is not None:
        shape = tuple(int(d) for d in shape)
        n = int(np.prod(shape, dtype=np.int64))
        if arr.size == n:
            arr = arr.reshape(shape)
        elif arr.size == 1:
            arr = np.full(shape, arr.reshape(()), dtype=arr.dtype)
        else:
            raise TypeError(
                "Eager execution of tf.constant with unsupported shape. Tensor %s (converted "
                "from %r) has %d elements, but got `shape` %s with %d elements)."
                % (_value_text(arr), value, arr.size, shape, n))
    return wrap(contiguous(arr), dtype)


def _value_text(arr):
    return str(arr[()]) if arr.ndim == 0 else str(arr)


def _cast_array(arr, src, dst):
    if src is dtypes.string or dst is dtypes.string:
        raise TypeError("Cannot convert a %s tensor to dtype %s" % (src.name, dst.name))
    if src.is_floating and not dst.is_floating:
        raise TypeError("Cannot convert a %s tensor to EagerTensor of dtype %s; use tf.cast."
                        % (src.name, dst.name))
    return arr.astype(dst._np)


def constant_from_array(arr, dtype_name):
    """Unpickling helper."""
    return wrap(np.array(arr, copy=True), dtypes.as_dtype(dtype_name))


def scalar_to_array(value, dtype):
    """A Python scalar converted to `dtype` for use beside a tensor of that dtype.

    Ints wrap around into narrower int dtypes, as TensorFlow's conversion does; a float that is
    not integral going to an int dtype raises TypeError.
    """
    if dtype.is_integer and isinstance(value, float) and not value.is_integer():
        raise TypeError("Cannot convert %r to EagerTensor of dtype %s" % (value, dtype.name))
    if dtype is dtypes.string:
        if not isinstance(value, (str, bytes)):
            raise TypeError("Cannot convert %r to EagerTensor of dtype string" % (value,))
        a = np.empty((), dtype=object)
        a[()] = value.encode() if isinstance(value, str) else value
        return a
    if isinstance(value, (str, bytes)):
        raise TypeError("Cannot convert %r to EagerTensor of dtype %s" % (value, dtype.name))
    if dtype.is_integer and isinstance(value, int) and not isinstance(value, bool):
        info = np.iinfo(dtype._np)
        if not info.min <= value <= info.max:
            value = (value - info.min) % (1 << (8 * dtype.size)) + info.min
    return np.array(value, dtype=dtype._np)


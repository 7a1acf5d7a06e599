"""Helpers shared by the op modules: dtype sets, shape checks, axis handling, error text."""
import numpy as np

from ..framework import dtypes as _dt
from ..framework.errors import InvalidArgumentError, ResourceExhaustedError

FLOATS = (_dt.float32, _dt.float64)
INTS = (_dt.int8, _dt.int16, _dt.int32, _dt.int64, _dt.uint8)
NUMERIC = FLOATS + INTS
NUMERIC_BOOL = NUMERIC + (_dt.bool,)
ANY = None


def dims_text(shape):
    """TensorFlow's shape text in kernel messages: [2,3]."""
    return "[%s]" % ",".join(str(d) for d in shape)


def op_error(message, op_name, cls=InvalidArgumentError):
    return cls(None, op_name, "%s [Op:%s]" % (message, op_name))


_INT64_MAX = np.iinfo(np.int64).max
_MAX_BYTES = np.iinfo(np.intp).max


def check_alloc(dims, np_dtype, op_name):
    """`dims` for a new array of `op_name`, checked before numpy allocates it (numpy would raise
    a bare ValueError, 'negative dimensions' or 'array is too big'). Errors as TensorFlow's
    TensorShape: a negative size, or an element count beyond int64; ResourceExhaustedError for
    more bytes than an address space holds."""
    n = 1
    for d in dims:
        if d < 0:
            raise op_error("Dimension %d must be >= 0 (shape %s)" % (d, dims_text(dims)), op_name)
        if n * d > _INT64_MAX:  # Python ints: the product itself never overflows
            raise op_error("Encountered overflow when multiplying %d with %d, result: -1 "
                           "(shape %s)" % (n, d, dims_text(dims)), op_name)
        n *= d
    if n * np.dtype(np_dtype).itemsize > _MAX_BYTES:
        raise op_error("OOM when allocating tensor with shape%s and type %s: %d bytes exceed "
                       "the address space" % (dims_text(dims), np.dtype(np_dtype).name,
                                              n * np.dtype(np_dtype).itemsize),
                       op_name, ResourceExhaustedError)
    return dims


def broadcast_shape(xs, ys, op_name):
    """The numpy broadcast of two shape tuples, or TensorFlow's 'Incompatible shapes' error."""
    if xs == ys:
        return xs
    nx, ny = len(xs), len(ys)
    n = max(nx, ny)
    out = []
    for i in range(n):
        a = xs[i - n + nx] if i - n + nx >= 0 else 1
        b = ys[i - n + ny] if i - n + ny >= 0 else 1
        if a == b or b == 1:
            out.append(a)
        elif a == 1:
            out.append(b)
        else:
            raise op_error("Incompatible shapes: %s vs. %s" % (dims_text(xs), dims_text(ys)),
                           op_name)
    return tuple(out)


def check_same_shape(a, b, op_name):
    """Backward ops pair a saved tensor with its gradient: their shapes must be equal."""
    if a.shape != b.shape:
        raise op_error("Incompatible shapes: %s vs. %s" % (dims_text(a.shape), dims_text(b.shape)),
                       op_name)


def is_row_of(small, big):
    """Whether `small` broadcasts to exactly `big` by repeating it along leading axes only
    (same shape, bias rows, scalars): then flat index i of big reads small[i % small.size]."""
    if len(small) > len(big):
        return False
    small = tuple(small)
    while small and small[0] == 1:
        small = small[1:]
    return tuple(big[len(big) - len(small):]) == small


def normalize_axis(axis, ndim, op_name):
    """A tuple of non-negative axes (None means all), with TF's error for out-of-range axes."""
    if axis is None:
        return tuple(range(ndim))
    if hasattr(axis, "_value"):
        axis = axis._value.tolist()
    if isinstance(axis, np.ndarray):
        axis = axis.tolist()
    if isinstance(axis, (list, tuple)):
        axes = [int(a) for a in axis]
    else:
        axes = [int(axis)]
    out = []
    for a in axes:
        if not -ndim <= a < max(ndim, 1):
            raise op_error("Invalid reduction dimension (%d for input with %d dimension(s)"
                           % (a, ndim), op_name)
        out.append(a % ndim if ndim else 0)
    return tuple(sorted(set(out)))


def as_shape_tuple(shape):
    """A shape argument (list, tuple, TensorShape, int tensor) as a tuple of Python ints."""
    if type(shape) is tuple:  # gradients pass array shapes: taken as they are
        for d in shape:
            if type(d) is not int:
                break
        else:
            return shape
    if hasattr(shape, "_value"):
        return tuple(int(d) for d in np.asarray(shape._value).reshape(-1))
    if isinstance(shape, np.ndarray):
        return tuple(int(d) for d in shape.reshape(-1))
    if hasattr(shape, "as_list"):
        return tuple(shape.as_list())
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    return tuple(int(d) for d in shape)

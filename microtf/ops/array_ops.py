"""Creation, shape and indexing ops: each forward beside its gradient.

Imports the registry, the framework and microtf.ops._common; math_ops is reached as a module at
call time (the two modules use each other's ops in gradients).
"""
import numpy as np

from ..eager.registry import (convert_to_tensor, not_differentiable, register_gradient,
                              register_op)
from ..framework import dtypes as _dt
from ..framework.errors import UnimplementedError
from ..framework.tensor import Tensor, wrap
from ..framework.variable import Variable
from . import math_ops as _math
from ._common import as_shape_tuple, broadcast_shape, dims_text, op_error
from ..framework.tensor import contiguous

__all__ = ["zeros", "ones", "zeros_like", "ones_like", "fill", "eye", "shape", "rank", "size",
           "identity", "stop_gradient", "cast", "reshape", "broadcast_to", "stack", "unstack",
           "where"]


# -- creation (constants: nothing to record) ---------------------------------------------------


def zeros(shape, dtype=_dt.float32, name=None):
    dtype = _dt.as_dtype(dtype)
    return wrap(np.zeros(as_shape_tuple(shape), dtype=dtype._np), dtype)


def ones(shape, dtype=_dt.float32, name=None):
    dtype = _dt.as_dtype(dtype)
    return wrap(np.ones(as_shape_tuple(shape), dtype=dtype._np), dtype)


def _like(x, dtype, fill):
    if not isinstance(x, (Tensor, Variable)):
        x = convert_to_tensor(x)
    dtype = x.dtype if dtype is None else _dt.as_dtype(dtype)
    return wrap(np.full(x._value.shape, fill, dtype=dtype._np), dtype)


def zeros_like(input, dtype=None, name=None):  # noqa: A002 - TensorFlow's argument name
    return _like(input, dtype, 0)


def ones_like(input, dtype=None, name=None):  # noqa: A002
    return _like(input, dtype, 1)


def fill(dims, value, name=None):
    value = convert_to_tensor(value)
    return wrap(np.full(as_shape_tuple(dims), value._value, dtype=value._value.dtype),
                value.dtype)


def eye(num_rows, num_columns=None, batch_shape=None, dtype=_dt.float32, name=None):
    dtype = _dt.as_dtype(dtype)
    m = np.eye(int(num_rows), None if num_columns is None else int(num_columns), dtype=dtype._np)
    if batch_shape is not None:
        m = contiguous(np.broadcast_to(m, as_shape_tuple(batch_shape) + m.shape))
    return wrap(m, dtype)


def shape(input, out_type=_dt.int32, name=None):  # noqa: A002
    """tf.shape: the dynamic shape as an int32 (or out_type) tensor."""
    x = input if isinstance(input, (Tensor, Variable)) else convert_to_tensor(input)
    out_type = _dt.as_dtype(out_type)
    return wrap(np.array(x._value.shape, dtype=out_type._np), out_type)


def rank(input, name=None):  # noqa: A002
    x = input if isinstance(input, (Tensor, Variable)) else convert_to_tensor(input)
    return wrap(np.array(x._value.ndim, dtype=np.int32), _dt.int32)


def size(input, out_type=_dt.int32, name=None):  # noqa: A002
    x = input if isinstance(input, (Tensor, Variable)) else convert_to_tensor(input)
    out_type = _dt.as_dtype(out_type)
    return wrap(np.array(x._value.size, dtype=out_type._np), out_type)


# -- identity, stop_gradient, cast ---------------------------------------------------------------
@register_op("Identity")
def identity(x):
    return x


register_gradient("Identity")(lambda op, dy: (dy,))


def stop_gradient(input, name=None):  # noqa: A002
    """The same value, never recorded: gradients stop here."""
    x = convert_to_tensor(input)
    return wrap(x._value, x.dtype)


@register_op("ReadVariableOp", same_dtype=False)
def _read_variable_op(x):
    return x  # recorded by microtf.eager.registry.read_variable; registered for its gradient


register_gradient("ReadVariableOp")(lambda op, dy: (dy,))


@register_op("Cast", same_dtype=False)
def _cast(x, DstT):
    if (x.dtype == object) != (DstT is _dt.string):
        raise op_error("Cast %s to %s is not supported" % (_dt.from_numpy(x.dtype).name,
                                                          DstT.name), "Cast", UnimplementedError)
    with np.errstate(invalid="ignore", over="ignore"):
        return x.astype(DstT._np)


def cast(x, dtype, name=None):
    """tf.cast: floats to ints truncate toward zero; gradients flow between float dtypes only."""
    dtype = _dt.as_dtype(dtype)
    x = convert_to_tensor(x)
    if x.dtype is dtype:
        return x
    return _cast(x, DstT=dtype)


@register_gradient("Cast")
def _cast_grad(op, dy):
    """dx = cast(dy, x.dtype) between float dtypes; None through integers or bools."""
    src = op.inputs[0].dtype
    if src.is_floating and dy.dtype.is_floating:
        return (cast(dy, src),)
    return (None,)


# -- shape manipulation -------------------------------------------------------------------------
@register_op("Reshape", same_dtype=False)
def _reshape(x, shape):
    n = x.size
    if shape.count(-1) > 1:
        raise op_error("Only one input size may be -1, not both %d and %d"
                       % tuple(i for i, d in enumerate(shape) if d == -1)[:2], "Reshape")
    known = 1
    for d in shape:
        if d != -1:
            known *= d
    if -1 in shape:
        if known == 0 or n % known:
            raise op_error("Input to reshape is a tensor with %d values, but the requested "
                           "shape requires a multiple of %d" % (n, known), "Reshape")
    elif known != n:
        raise op_error("Input to reshape is a tensor with %d values, but the requested shape "
                       "has %d" % (n, known), "Reshape")
    return x.reshape(shape)


def reshape(tensor, shape, name=None):
    return _reshape(tensor, shape=as_shape_tuple(shape))


@register_gradient("Reshape")
def _reshape_grad(op, dy):
    return (reshape(dy, op.inputs[0].shape._dims),)


@register_op("BroadcastTo", same_dtype=False)
def _broadcast_to(x, shape):
    out = broadcast_shape(x.shape, shape, "BroadcastTo")
    if out != shape:
        raise op_error("Unable to broadcast tensor of shape %s to tensor of shape %s"
                       % (dims_text(x.shape), dims_text(shape)), "BroadcastTo")
    return contiguous(np.broadcast_to(x, shape))


def broadcast_to(input, shape, name=None):  # noqa: A002
    return _broadcast_to(input, shape=as_shape_tuple(shape))


@register_gradient("BroadcastTo")
def _broadcast_to_grad(op, dy):
    return (_math.sum_to_shape(dy, op.inputs[0].shape._dims),)


@register_op("Pack")
def _pack(*values, axis=0):
    shapes = {v.shape for v in values}
    if len(shapes) > 1:
        a, b = list(shapes)[:2]
        raise op_error("Shapes of all inputs must match: values[0].shape = %s != values[1]."
                       "shape = %s" % (dims_text(a), dims_text(b)), "Pack")
    return np.stack(values, axis=axis)


def stack(values, axis=0, name="stack"):
    """tf.stack: joins same-shaped tensors along a new axis."""
    values = list(values)
    if not values:
        raise ValueError("tf.stack needs at least one tensor; got an empty list.")
    ndim = np.ndim(values[0]._value if isinstance(values[0], (Tensor, Variable)) else values[0])
    if not -(ndim + 1) <= axis <= ndim:
        raise ValueError("Argument `axis` = %d not in range [%d, %d)" % (axis, -ndim - 1,
                                                                           ndim + 1))
    return _pack(*values, axis=axis % (ndim + 1))


@register_gradient("Pack")
def _pack_grad(op, dy):
    return tuple(unstack(dy, num=len(op.inputs), axis=op.attrs["axis"]))


@register_op("Unpack")
def _unpack(x, num, axis=0):
    return tuple(contiguous(np.take(x, i, axis=axis)) for i in range(num))


def unstack(value, num=None, axis=0, name="unstack"):
    """tf.unstack: the slices of `value` along `axis`, as a list of tensors."""
    x = convert_to_tensor(value)
    ndim = x.ndim
    if not -ndim <= axis < ndim:
        raise ValueError("Argument `axis` = %d not in range [%d, %d)" % (axis, -ndim, ndim))
    axis %= ndim
    n = x._value.shape[axis]
    if num is not None and num != n:
        raise ValueError("Cannot infer argument `num` from shape %s" % (x.shape,))
    if n == 0:
        return []
    return list(_unpack(x, num=n, axis=axis))


@register_gradient("Unpack")
def _unpack_grad(op, *dys):
    return (_pack(*dys, axis=op.attrs["axis"]),)


# -- where --------------------------------------------------------------------------------------
@register_op("SelectV2", same_dtype=False)
def _select(cond, x, y):
    broadcast_shape(broadcast_shape(cond.shape, x.shape, "SelectV2"), y.shape, "SelectV2")
    if x.dtype != y.dtype:
        raise op_error("cannot compute SelectV2 as input #2(zero-based) was expected to be a %s "
                       "tensor but is a %s tensor" % (_dt.from_numpy(x.dtype)._short,
                                                      _dt.from_numpy(y.dtype)._short),
                       "SelectV2")
    return np.where(cond, x, y)


def where(condition, x=None, y=None, name=None):
    """tf.where: elementwise select, or (with only a condition) the indices of True values."""
    if x is None and y is None:
        c = convert_to_tensor(condition)
        return wrap(np.argwhere(c._value).astype(np.int64), _dt.int64)
    if x is None or y is None:
        raise ValueError("x and y must both be non-None or both be None.")
    cond = convert_to_tensor(condition)
    if cond.dtype is not _dt.bool:
        raise op_error("cannot compute SelectV2 as input #0(zero-based) was expected to be a "
                       "bool tensor but is a %s tensor" % cond.dtype._short, "SelectV2")
    if not isinstance(x, (Tensor, Variable)) and isinstance(y, (Tensor, Variable)):
        x = convert_to_tensor(x, dtype_hint=y.dtype)
    x = convert_to_tensor(x)
    if not isinstance(y, (Tensor, Variable)):
        y = convert_to_tensor(y, dtype_hint=x.dtype)
    return _select(cond, x, y)


@register_gradient("SelectV2")
def _select_grad(op, dy):
    """dx = dy where cond else 0; dy = dy where not cond else 0 (each summed to its shape)."""
    cond, x, y = op.inputs
    zero = zeros_like(dy)
    gx = _math.sum_to_shape(_select(cond, dy, zero), x.shape._dims) if op.needs_grad[1] else None
    gy = _math.sum_to_shape(_select(cond, zero, dy), y.shape._dims) if op.needs_grad[2] else None
    return None, gx, gy


not_differentiable("Greater")


# -- indexing (TF_SEMANTICS.md section 2.8) ---------------------------------------------------
def _index_key(key, shape):
    """Checks an index against `shape` and converts tensors in it to numpy values.

    Ints, slices, `...`, None/tf.newaxis, 0-d int tensors and boolean masks are accepted; a
    list is refused (TensorFlow does not fancy-index: tf.gather does that)."""
    if not isinstance(key, tuple):
        key = (key,)
    out = []
    for k in key:
        if isinstance(k, (Tensor, Variable)):
            v = k._value
            if v.dtype == np.bool_:
                out.append(v)
                continue
            if v.ndim != 0 or v.dtype.kind not in "iu":
                raise op_error("Only integers, slices, ellipsis, tf.newaxis, scalar int tensors "
                               "and boolean masks are valid indices, got a %s tensor of shape "
                               "%s. Use tf.gather to pick several entries."
                               % (k.dtype.name, k.shape), "StridedSlice", TypeError)
            out.append(int(v))
        elif isinstance(k, (list, np.ndarray)) and not (isinstance(k, np.ndarray)
                                                        and k.dtype == np.bool_):
            raise op_error("Index out of range using input dim %d; input has only %d dims. A "
                           "list index is not fancy indexing in TensorFlow: use "
                           "tf.gather(t, %s) to pick entries."
                           % (len(shape) + 1, len(shape), list(np.asarray(k).tolist())),
                           "StridedSlice")
        elif k is None or k is Ellipsis or isinstance(k, (slice, np.ndarray)):
            out.append(k)
        elif isinstance(k, (int, np.integer)) and not isinstance(k, bool):
            out.append(int(k))
        else:
            raise TypeError("Only integers, slices (`:`), ellipsis (`...`), tf.newaxis (`None`) "
                            "and scalar tf.int32/tf.int64 tensors are valid indices, got %r"
                            % (k,))
    # Check integer indices against their dimensions (TF's error, not numpy's IndexError).
    consumed = sum(1 if not isinstance(k, np.ndarray) else k.ndim
                   for k in out if k is not None and k is not Ellipsis)
    if consumed > len(shape):
        raise op_error("Index out of range using input dim %d; input has only %d dims"
                       % (consumed - 1, len(shape)), "StridedSlice")
    dim = 0
    for k in out:
        if k is None:
            continue
        if k is Ellipsis:
            dim += len(shape) - consumed
            continue
        if isinstance(k, int) and not -shape[dim] <= k < shape[dim]:
            raise op_error("slice index %d of dimension %d out of bounds." % (k, dim),
                           "StridedSlice")
        dim += k.ndim if isinstance(k, np.ndarray) else 1
    return tuple(out)


@register_op("StridedSlice", same_dtype=False)
def _strided_slice(x, key):
    return contiguous(x[key])


def getitem(tensor, key):
    """`tensor[key]`: a copy of the selected part; gradients flow back into that part."""
    x = convert_to_tensor(tensor)
    return _strided_slice(x, key=_index_key(key, x._value.shape))


@register_gradient("StridedSlice")
def _strided_slice_grad(op, dy):
    return (_strided_slice_grad_op(dy, shape=op.inputs[0].shape._dims, key=op.attrs["key"]),)


@register_op("StridedSliceGrad", same_dtype=False)
def _strided_slice_grad_op(dy, shape, key):
    out = np.zeros(shape, dtype=dy.dtype)
    out[key] = dy
    return out


@register_gradient("StridedSliceGrad")
def _strided_slice_grad_grad(op, g):
    return (_strided_slice(g, key=op.attrs["key"]),)

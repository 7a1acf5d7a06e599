"""Creation, shape and indexing ops: each forward beside its gradient.

Imports the registry, the framework and microtf.ops._common; math_ops is reached as a module at
call time (the two modules use each other's ops in gradients).
"""
import builtins

import numpy as np

from ..eager.registry import convert_to_tensor, not_differentiable, register_gradient, register_op
from ..framework import dtypes as _dt
from ..framework.errors import UnimplementedError
from ..framework.tensor import Tensor, contiguous, wrap
from ..framework.variable import Variable
from . import math_ops as _math
from ._common import FLOATS, as_shape_tuple, broadcast_shape, check_alloc, dims_text, op_error

_pyrange = builtins.range  # this module defines tf.range

__all__ = ["zeros", "ones", "zeros_like", "ones_like", "fill", "eye", "shape", "rank", "size",
           "identity", "stop_gradient", "cast", "reshape", "broadcast_to", "stack", "unstack",
           "where", "range", "linspace", "transpose", "expand_dims", "squeeze", "concat",
           "split", "tile", "one_hot", "gather", "boolean_mask"]


# -- creation (constants: nothing to record) ---------------------------------------------------


def zeros(shape, dtype=_dt.float32, name=None):
    dtype = _dt.as_dtype(dtype)
    return wrap(np.zeros(check_alloc(as_shape_tuple(shape), dtype._np, "Fill"), dtype=dtype._np),
                dtype)


def ones(shape, dtype=_dt.float32, name=None):
    dtype = _dt.as_dtype(dtype)
    return wrap(np.ones(check_alloc(as_shape_tuple(shape), dtype._np, "Fill"), dtype=dtype._np),
                dtype)


def _like(x, dtype, fill):
    if not isinstance(x, (Tensor, Variable)):
        x = convert_to_tensor(x)
    dtype = x._dtype if dtype is None else _dt.as_dtype(dtype)
    out = np.empty(x._value.shape, dtype=dtype._np)
    out.fill(fill)  # np.full is Python code around these two C calls
    return wrap(out, dtype)


def zeros_like(input, dtype=None, name=None):  # noqa: A002 - TensorFlow's argument name
    return _like(input, dtype, 0)


def ones_like(input, dtype=None, name=None):  # noqa: A002
    return _like(input, dtype, 1)


def fill(dims, value, name=None):
    value = convert_to_tensor(value)
    dims = check_alloc(as_shape_tuple(dims), value._value.dtype, "Fill")
    return wrap(np.full(dims, value._value, dtype=value._value.dtype), value.dtype)


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
    if x.dtype.kind in "biu" and DstT is not _dt.float16:  # exact or rounded, never a warning
        return x.astype(DstT._np)
    # nan/inf to int, float64 to float32, a large int to float16: IEEE results, no warnings
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
    return (reshape(dy, op.inputs[0]._value.shape),)


@register_op("BroadcastTo", same_dtype=False)
def _broadcast_to(x, shape):
    out = broadcast_shape(x.shape, shape, "BroadcastTo")
    if out != shape:
        raise op_error("Unable to broadcast tensor of shape %s to tensor of shape %s"
                       % (dims_text(x.shape), dims_text(shape)), "BroadcastTo")
    if x.size == 1:  # one value repeated (a reduction's gradient): two C calls
        out = np.empty(shape, dtype=x.dtype)
        out.fill(x.reshape(())[()])
        return out
    return contiguous(np.broadcast_to(x, shape))


def broadcast_to(input, shape, name=None):  # noqa: A002
    return _broadcast_to(input, shape=as_shape_tuple(shape))


@register_gradient("BroadcastTo")
def _broadcast_to_grad(op, dy):
    return (_math.sum_to_shape(dy, op.inputs[0]._value.shape),)


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
    return tuple(contiguous(np.take(x, i, axis=axis)) for i in _pyrange(num))


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
    gx = _math.sum_to_shape(_select(cond, dy, zero), x._value.shape) if op.needs_grad[1] else None
    gy = _math.sum_to_shape(_select(cond, zero, dy), y._value.shape) if op.needs_grad[2] else None
    return None, gx, gy



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
                           % (len(shape), len(shape), list(np.asarray(k).tolist())),
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
        if isinstance(k, np.ndarray) and k.shape != tuple(shape[dim:dim + k.ndim]):
            # TF routes masks through tf.boolean_mask, whose shape check is a ValueError.
            raise ValueError("Shapes %s and %s are incompatible: a boolean mask must have the "
                             "shape of the dimensions it indexes"
                             % (tuple(shape[dim:dim + k.ndim]), k.shape))
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
    return (_strided_slice_grad_op(dy, shape=op.inputs[0]._value.shape, key=op.attrs["key"]),)


@register_op("StridedSliceGrad", same_dtype=False)
def _strided_slice_grad_op(dy, shape, key):
    out = np.zeros(shape, dtype=dy.dtype)
    out[key] = dy
    return out


@register_gradient("StridedSliceGrad")
def _strided_slice_grad_grad(op, g):
    return (_strided_slice(g, key=op.attrs["key"]),)


def boolean_mask(tensor, mask, axis=None, name="boolean_mask"):
    """tf.boolean_mask: the entries of `tensor` where `mask` is True; mask covers the dimensions
    axis .. axis + mask.ndim - 1. Gradients flow back into the selected entries."""
    x = convert_to_tensor(tensor)
    m = np.asarray(convert_to_tensor(mask)._value)
    if m.dtype != np.bool_:
        raise TypeError("tf.boolean_mask needs a bool mask, got %s; compare first, e.g. "
                        "tf.boolean_mask(t, t > 0)." % _dt.from_numpy(m.dtype).name)
    if m.ndim == 0:
        raise ValueError("mask cannot be scalar.")
    axis = 0 if axis is None else int(axis) % max(x.ndim, 1)
    return getitem(x, (slice(None),) * axis + (m,))


# -- sequences: range, linspace ---------------------------------------------------------------
def range(start, limit=None, delta=1, dtype=None, name="range"):  # noqa: A001 - TF's name
    """tf.range: start, start + delta, ... up to (not including) limit; int32 for Python ints,
    float32 for floats (the widest argument dtype wins). Not differentiable."""
    if limit is None:
        start, limit = 0, start
    args = [convert_to_tensor(a) for a in (start, limit, delta)]
    if dtype is None:
        order = [_dt.int32, _dt.int64, _dt.float32, _dt.float64]
        dtype = max((a.dtype for a in args), key=lambda d: order.index(d) if d in order else 0)
    dtype = _dt.as_dtype(dtype)
    start, limit, delta = (a._value.item() for a in args)
    if delta == 0:
        raise op_error("Requires delta != 0: %s" % delta, "Range")
    if delta > 0 and start > limit:
        raise op_error("Requires start <= limit when delta > 0: %s/%s" % (start, limit), "Range")
    if delta < 0 and start < limit:
        raise op_error("Requires start >= limit when delta < 0: %s/%s" % (start, limit), "Range")
    return wrap(np.arange(start, limit, delta).astype(dtype._np), dtype)


@register_op("LinSpace", dtypes=FLOATS)
def _linspace(start, stop, num, axis):
    return contiguous(np.linspace(start, stop, num, axis=axis, dtype=start.dtype))


def linspace(start, stop, num, name=None, axis=0):
    """tf.linspace: `num` evenly spaced values from start to stop, both included (floats)."""
    num = int(getattr(num, "_value", num))
    if num < 0:
        raise op_error("Requires num >= 0: %d" % num, "LinSpace")
    start = convert_to_tensor(start)
    rank = len(broadcast_shape(start._value.shape, np.shape(getattr(stop, "_value", stop)),
                               "LinSpace"))
    if not -rank - 1 <= axis <= rank:
        raise op_error("Expected axis in the range [%d, %d], but got %d" % (-rank - 1, rank, axis),
                       "LinSpace")
    return _linspace(start, stop, num=num, axis=axis % (rank + 1))


@register_gradient("LinSpace")
def _linspace_grad(op, dy):
    """out_i = start + t_i (stop - start), t_i = i / (num - 1): dstart = sum_i dy_i (1 - t_i),
    dstop = sum_i dy_i t_i (summed to each input's shape)."""
    from . import reduction_ops as _red
    start, stop = op.inputs
    num, axis = op.attrs["num"], op.attrs["axis"]
    t = np.linspace(0, 1, num) if num > 1 else np.zeros(num)
    t_shape = [1] * dy.ndim
    t_shape[axis] = num
    t = wrap(t.reshape(t_shape).astype(dy.dtype._np), dy.dtype)
    gstop = _red.reduce_sum(_math.multiply(dy, t), axis)
    gstart = _math.subtract(_red.reduce_sum(dy, axis), gstop)
    return (_math.sum_to_shape(gstart, start._value.shape),
            _math.sum_to_shape(gstop, stop._value.shape))


# -- transpose, expand_dims, squeeze ------------------------------------------------------------
@register_op("Transpose", same_dtype=False)
def _transpose(x, perm):
    n = x.ndim
    if len(perm) != n:
        raise op_error("transpose expects a vector of size %d. But input(1) is a vector of size "
                       "%d" % (n, len(perm)), "Transpose")
    for d in perm:
        if not 0 <= d < n:
            raise op_error("%d is out of range [0 .. %d)" % (d, n), "Transpose")
    for i in _pyrange(n):
        if i not in perm:
            raise op_error("%d is missing from {%s}." % (i, ",".join(map(str, perm))),
                           "Transpose")
    return contiguous(np.transpose(x, perm))


def transpose(a, perm=None, conjugate=False, name="transpose"):
    """tf.transpose: permutes the axes (reverses them when perm is None)."""
    a = convert_to_tensor(a)
    perm = tuple(_pyrange(a.ndim))[::-1] if perm is None else as_shape_tuple(perm)
    return _transpose(a, perm=perm)


@register_gradient("Transpose")
def _transpose_grad(op, dy):
    """dx = transpose(dy, inverse permutation)."""
    return (_transpose(dy, perm=tuple(int(i) for i in np.argsort(op.attrs["perm"]))),)


def expand_dims(input, axis, name=None):  # noqa: A002
    """tf.expand_dims: inserts a dimension of size 1 at `axis` (in [-rank-1, rank])."""
    x = convert_to_tensor(input)
    axis = int(getattr(axis, "_value", axis))
    n = x.ndim
    if not -n - 1 <= axis <= n:
        raise op_error("Tried to expand dim index %d for tensor with %d dimensions." % (axis, n),
                       "ExpandDims")
    axis %= n + 1
    dims = x._value.shape
    return _reshape(x, shape=dims[:axis] + (1,) + dims[axis:])


def squeeze(input, axis=None, name=None):  # noqa: A002
    """tf.squeeze: removes dimensions of size 1 (all of them, or those in `axis`)."""
    x = convert_to_tensor(input)
    dims = x._value.shape
    n = len(dims)
    if axis is None:
        axes = [i for i, d in enumerate(dims) if d == 1]
    else:
        axes = [int(a) for a in (axis if isinstance(axis, (list, tuple)) else [axis])]
        for a in axes:
            if not -n <= a < n:
                raise op_error("Tried to squeeze dim index %d for tensor with %d dimensions."
                               % (a, n), "Squeeze")
            if dims[a] != 1:
                raise op_error("Can not squeeze dim[%d], expected a dimension of 1, got %d"
                               % (a % n, dims[a]), "Squeeze")
        axes = [a % n for a in axes]
    return _reshape(x, shape=tuple(d for i, d in enumerate(dims) if i not in axes))


# -- concat, split, tile ------------------------------------------------------------------------
@register_op("ConcatV2")
def _concat(*values, axis):
    first = values[0].shape
    n = len(first)
    if n == 0:
        raise op_error("ConcatOp : Can't concatenate scalars (use tf.stack instead)", "ConcatV2")
    if not -n <= axis < n:
        raise op_error("ConcatOp : Expected concatenating dimensions in the range [%d, %d), but "
                       "got %d" % (-n, n, axis), "ConcatV2")
    axis %= n
    for i, v in enumerate(values[1:], 1):
        if v.ndim != n:
            raise op_error("ConcatOp : Ranks of all input tensors should match: shape[0] = %s "
                           "vs. shape[%d] = %s" % (dims_text(first), i, dims_text(v.shape)),
                           "ConcatV2")
        for d in _pyrange(n):
            if d != axis and v.shape[d] != first[d]:
                raise op_error("ConcatOp : Dimension %d in both shapes must be equal: shape[0] = "
                               "%s vs. shape[%d] = %s" % (d, dims_text(first), i,
                                                          dims_text(v.shape)), "ConcatV2")
    return np.concatenate(values, axis=axis)


def concat(values, axis, name="concat"):
    """tf.concat: joins tensors along an existing axis (tf.stack makes a new one)."""
    values = list(values)
    if not values:
        raise ValueError("tf.concat needs at least one tensor; got an empty list.")
    return _concat(*values, axis=int(getattr(axis, "_value", axis)))


@register_gradient("ConcatV2")
def _concat_grad(op, dy):
    """dy split back into pieces of the inputs' sizes along the axis."""
    axis = op.attrs["axis"] % dy.ndim
    return _split(dy, sizes=tuple(v._value.shape[axis] for v in op.inputs), axis=axis)


@register_op("SplitV", same_dtype=False)
def _split(x, sizes, axis):
    cuts = np.cumsum(sizes)[:-1]
    return tuple(contiguous(p) for p in np.split(x, cuts, axis=axis))


register_gradient("SplitV")(lambda op, *dys: (_concat(*dys, axis=op.attrs["axis"]),))


def split(value, num_or_size_splits, axis=0, num=None, name="split"):
    """tf.split: a list of pieces along `axis`: `n` equal ones, or pieces of the given sizes
    (one size may be -1: the rest)."""
    x = convert_to_tensor(value)
    n = x.ndim
    axis = int(getattr(axis, "_value", axis))
    if not -n <= axis < n:
        raise op_error("-%d <= split_dim < %d, got %d" % (n, n, axis), "SplitV")
    axis %= n
    size = x._value.shape[axis]
    spec = getattr(num_or_size_splits, "_value", num_or_size_splits)
    if np.ndim(spec) == 0:
        k = int(spec)
        if k <= 0 or size % k:
            raise op_error("Number of ways to split should evenly divide the split dimension, "
                           "but got split_dim %d (size = %d) and num_split %d" % (axis, size, k),
                           "Split")
        sizes = (size // k,) * k
    else:
        sizes = [int(s) for s in np.reshape(spec, -1)]
        if sizes.count(-1) > 1:
            raise op_error("Only one dimensions can have a value of -1. Second one found at "
                           "dimension %d" % [i for i, s in enumerate(sizes) if s == -1][1],
                           "SplitV")
        known = sum(s for s in sizes if s != -1)
        if -1 in sizes and known <= size:
            sizes[sizes.index(-1)] = size - known
        if sum(sizes) != size or min(sizes, default=0) < 0:
            raise op_error("Determined shape must either match input shape along split_dim "
                           "exactly if fully specified, or be less than the size of the input "
                           "along split_dim if not fully specified.  Got: %d" % known, "SplitV")
        sizes = tuple(sizes)
    return list(_split(x, sizes=sizes, axis=axis))


@register_op("Tile", same_dtype=False)
def _tile(x, multiples):
    if len(multiples) != x.ndim:
        raise op_error("Expected multiples argument to be a vector of length %d but got length "
                       "%d" % (x.ndim, len(multiples)), "Tile")
    for i, m in enumerate(multiples):
        if m < 0:
            raise op_error("Expected multiples[%d] >= 0, but got %d" % (i, m), "Tile")
    return contiguous(np.tile(x, multiples))


def tile(input, multiples, name=None):  # noqa: A002
    """tf.tile: repeats the whole tensor multiples[i] times along axis i."""
    return _tile(input, multiples=as_shape_tuple(multiples))


@register_gradient("Tile")
def _tile_grad(op, dy):
    """dx = the sum of the tiles of dy: view dy as (m0, d0, m1, d1, ...), sum the m axes."""
    from . import reduction_ops as _red
    dims = op.inputs[0]._value.shape
    mults = op.attrs["multiples"]
    split_shape = tuple(v for pair in zip(mults, dims) for v in pair)
    return (_red.reduce_sum(_reshape(dy, shape=split_shape),
                            tuple(_pyrange(0, 2 * len(dims), 2))),)


# -- one_hot, gather ----------------------------------------------------------------------------
@register_op("OneHot", same_dtype=False)
def _one_hot(indices, on_value, off_value, depth, axis):
    hot = indices[..., None] == np.arange(depth)  # out-of-range (and negative) rows stay off
    out = np.where(hot, on_value, off_value).astype(on_value.dtype)
    return contiguous(np.moveaxis(out, -1, axis))


def one_hot(indices, depth, on_value=None, off_value=None, axis=None, dtype=None, name=None):
    """tf.one_hot: a new axis of length `depth` holding on_value at each index, off_value
    elsewhere (float32 1/0 by default). Indices outside [0, depth) give all-off rows."""
    indices = convert_to_tensor(indices)
    if indices.dtype not in (_dt.uint8, _dt.int8, _dt.int32, _dt.int64):
        raise op_error("Value for attr 'TI' of %s is not in the list of allowed values: uint8, "
                       "int8, int32, int64\nHint: one_hot needs integer class ids; use "
                       "tf.cast(indices, tf.int32)." % indices.dtype.name, "OneHot")
    depth = int(getattr(depth, "_value", depth))
    if depth < 0:
        raise op_error("depth must be non-negative, got: %d" % depth, "OneHot")
    given = [v for v in (on_value, off_value) if v is not None]
    if dtype is None:
        dtype = convert_to_tensor(given[0]).dtype if given else _dt.float32
    dtype = _dt.as_dtype(dtype)
    for label, v in (("on_value", on_value), ("off_value", off_value)):
        if isinstance(v, (Tensor, Variable)) and v.dtype is not dtype:
            raise TypeError("dtype %s of %s does not match dtype parameter %s"
                            % (v.dtype.name, label, dtype.name))
    on = convert_to_tensor(1 if on_value is None else on_value, dtype=dtype)
    off = convert_to_tensor(0 if off_value is None else off_value, dtype=dtype)
    n = indices.ndim
    axis = -1 if axis is None else int(axis)
    if not (axis == -1 or 0 <= axis <= n):
        raise op_error("Expected axis to be -1 or between [0, %d).  But received: %d"
                       % (n + 1, axis), "OneHot")
    return _one_hot(indices, on, off, depth=depth, axis=axis % (n + 1))


not_differentiable("OneHot")


def _batched(params, indices, batch_dims):
    """params and indices with their batch_dims leading axes flattened into one (size 1 if
    batch_dims is 0), so that gathering is a loop over that axis."""
    nb = int(np.prod(indices.shape[:batch_dims], dtype=np.int64))
    return (params.reshape((nb,) + params.shape[batch_dims:]),
            indices.reshape((nb,) + indices.shape[batch_dims:]))


@register_op("GatherV2", same_dtype=False)
def _gather(params, indices, axis, batch_dims):
    n = params.shape[axis]
    bad = (indices < 0) | (indices >= n)
    if bad.any():
        pos = tuple(np.argwhere(bad)[0])
        where_text = "[%s]" % ",".join(map(str, pos)) if pos else ""
        raise op_error("indices%s = %d is not in [0, %d)" % (where_text, indices[pos], n),
                       "GatherV2")
    p, idx = _batched(params, indices, batch_dims)
    out_shape = params.shape[:axis] + indices.shape[batch_dims:] + params.shape[axis + 1:]
    out = np.empty((p.shape[0],) + out_shape[batch_dims:], dtype=params.dtype)
    for b in _pyrange(p.shape[0]):
        out[b] = np.take(p[b], idx[b], axis=axis - batch_dims)
    return out.reshape(out_shape)


def gather(params, indices, validate_indices=None, axis=None, batch_dims=0, name=None):
    """tf.gather: the slices params[..., indices, ...] along `axis` (default batch_dims);
    out-of-range indices raise InvalidArgumentError."""
    params = convert_to_tensor(params)
    indices = convert_to_tensor(indices)
    if indices.dtype not in (_dt.int16, _dt.int32, _dt.int64):
        raise op_error("Value for attr 'Tindices' of %s is not in the list of allowed values: "
                       "int16, int32, int64" % indices.dtype.name, "GatherV2")
    rank, irank = params.ndim, indices.ndim
    batch_dims = int(batch_dims)
    if batch_dims < 0:
        batch_dims += irank
    axis = batch_dims if axis is None else int(getattr(axis, "_value", axis))
    if not -rank <= axis < rank:
        raise op_error("Expected axis in the range [%d, %d), but got %d" % (-rank, rank, axis),
                       "GatherV2")
    axis %= rank
    if not 0 <= batch_dims <= min(axis, irank):
        raise op_error("batch_dims (%d) must be in [0, min(axis = %d, rank(indices) = %d)]"
                       % (batch_dims, axis, irank), "GatherV2")
    if params._value.shape[:batch_dims] != indices._value.shape[:batch_dims]:
        raise op_error("params.shape[:%d] = %s must equal indices.shape[:%d] = %s (the batch "
                       "dimensions)" % (batch_dims, dims_text(params.shape[:batch_dims]),
                                        batch_dims, dims_text(indices.shape[:batch_dims])),
                       "GatherV2")
    return _gather(params, indices, axis=axis, batch_dims=batch_dims)


@register_gradient("GatherV2")
def _gather_grad(op, dy):
    """dparams = dy scatter-added into zeros of params' shape (repeated indices accumulate)."""
    params, indices = op.inputs
    return (_gather_grad_op(dy, indices, shape=params._value.shape, **op.attrs), None)


@register_op("GatherGrad", same_dtype=False)
def _gather_grad_op(dy, indices, shape, axis, batch_dims):
    out = np.zeros(shape, dtype=dy.dtype)
    o, idx = _batched(out, indices, batch_dims)  # o is a view: adding into it fills out
    d = dy.reshape((o.shape[0],) + dy.shape[batch_dims:])
    lead = (slice(None),) * (axis - batch_dims)
    for b in _pyrange(o.shape[0]):
        np.add.at(o[b], lead + (idx[b],), d[b])
    return out


@register_gradient("GatherGrad")
def _gather_grad_grad(op, g):
    """GatherGrad is linear in dy, and its adjoint is the gather itself."""
    return (_gather(g, op.inputs[1], axis=op.attrs["axis"], batch_dims=op.attrs["batch_dims"]),
            None)

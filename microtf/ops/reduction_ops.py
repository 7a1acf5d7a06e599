"""Reductions (reduce_sum, reduce_mean, ...), argmax/argmin and norm: forward beside gradient.

Imports the kernels, the registry, the framework, microtf.ops._common and (as modules)
array_ops and math_ops, whose ops the gradients are written with.

Design: each reduction is one registered op whose attrs are the normalized axes (a sorted tuple
of non-negative ints) and keepdims; the public function normalizes `axis` with TensorFlow's
error for out-of-range axes. Gradients first give dy the kept-dims shape, then broadcast it back.
"""
import numpy as np

from .. import _kernels as K
from ..eager.registry import convert_to_tensor, not_differentiable, register_gradient, register_op
from ..framework import dtypes as _dt
from ..framework.tensor import contiguous, wrap
from . import array_ops as _array
from . import math_ops as _math
from ._common import NUMERIC, dims_text, normalize_axis, op_error

__all__ = ["reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "reduce_prod", "reduce_any",
           "reduce_all", "argmax", "argmin", "norm"]


def _axes(x, axis, op_name):
    """(tensor, normalized axes); a 0-d input has nothing to reduce, whatever the axis."""
    x = convert_to_tensor(x)
    axes = normalize_axis(axis, x.ndim, op_name)
    return x, (axes if x.ndim else ())


def _kept_shape(shape, axes):
    """The output shape with keepdims=True: reduced axes become 1."""
    return tuple(1 if i in axes else d for i, d in enumerate(shape))


def _count(shape, axes):
    n = 1
    for a in axes:
        n *= shape[a]
    return n


def _unreduce(dy, op):
    """dy (the gradient of a reduction's output) broadcast back to the input's shape."""
    shape = op.inputs[0]._value.shape
    if dy._value.ndim:  # a 0-d dy (a full reduction) broadcasts as it is
        dy = _array.reshape(dy, _kept_shape(shape, op.attrs["axis"]))
    return _array.broadcast_to(dy, shape)


def _constant_like(array, like):
    """A constant (a count, an exponent) as a tensor of `like`'s dtype."""
    return wrap(np.asarray(array, dtype=like.dtype._np), like.dtype)


# -- sum, mean, prod ----------------------------------------------------------------------------
_KERNEL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _sum_array(x, axis, keepdims):
    """np.sum(x, axis) in x's dtype. Floats summed over a leading run of axes (0, ..., k-1; a
    full sum is one: losses, bias rows) take csrc/'s sum_rows, which adds in numpy's order
    (pairwise for a full sum, row after row otherwise), so the bits are numpy's, ~3x faster than
    np.sum's generic reduction (a (256, 1024) float32 full sum: 14 us against 43 us)."""
    if axis and axis[-1] == len(axis) - 1 and x.dtype in _KERNEL_DTYPES:  # axis is sorted
        return K.sum_rows(x, np.empty(_kept_shape(x.shape, axis) if keepdims
                                      else x.shape[len(axis):], x.dtype))
    with np.errstate(over="ignore", invalid="ignore"):  # inf and inf - inf = nan, as IEEE says
        return np.sum(x, axis=axis, keepdims=keepdims, dtype=x.dtype)  # int32 stays int32


@register_op("Sum", dtypes=NUMERIC)
def _sum(x, axis, keepdims):
    return _sum_array(x, axis, keepdims)


def reduce_sum(input_tensor, axis=None, keepdims=False, name=None):
    """tf.reduce_sum: the sum over `axis` (all axes if None); an empty sum is 0."""
    x, axes = _axes(input_tensor, axis, "Sum")
    return _sum(x, axis=axes, keepdims=bool(keepdims))


@register_gradient("Sum")
def _sum_grad(op, dy):
    """dx = dy broadcast back over the reduced axes."""
    return (_unreduce(dy, op),)


@register_op("Mean", dtypes=NUMERIC)
def _mean(x, axis, keepdims):
    n = _count(x.shape, axis)
    if x.dtype.kind in "iu":
        # TF divides the integer sum by the count in the integer type: truncation toward 0.
        s = np.sum(x, axis=axis, keepdims=keepdims, dtype=np.int64)
        q = np.abs(s) // max(n, 1)
        return (np.sign(s) * q).astype(x.dtype)
    total = _sum_array(x, axis, keepdims)
    if n:  # a float sum divided by a positive count: no floating-point warning to silence
        return np.divide(total, x.dtype.type(n))
    with np.errstate(all="ignore"):  # the mean of nothing is nan (0 / 0)
        return np.divide(total, x.dtype.type(n))


def reduce_mean(input_tensor, axis=None, keepdims=False, name=None):
    """tf.reduce_mean: the mean over `axis`; integer tensors give a truncated integer mean."""
    x, axes = _axes(input_tensor, axis, "Mean")
    return _mean(x, axis=axes, keepdims=bool(keepdims))


@register_gradient("Mean")
def _mean_grad(op, dy):
    """dx = dy / n broadcast back, n the number of reduced elements."""
    n = _count(op.inputs[0]._value.shape, op.attrs["axis"])
    # Divided before broadcasting: the same values, n times fewer divisions.
    return (_unreduce(_math.divide(dy, _constant_like(max(n, 1), dy)), op),)


@register_op("Prod", dtypes=NUMERIC)
def _prod(x, axis, keepdims):
    with np.errstate(over="ignore", invalid="ignore"):
        return np.prod(x, axis=axis, keepdims=keepdims, dtype=x.dtype)


def reduce_prod(input_tensor, axis=None, keepdims=False, name=None):
    """tf.reduce_prod: the product over `axis`; an empty product is 1."""
    x, axes = _axes(input_tensor, axis, "Prod")
    return _prod(x, axis=axes, keepdims=bool(keepdims))


@register_gradient("Prod")
def _prod_grad(op, dy):
    """dx_i = dy * (product of the other elements of x_i's group); exact when x has zeros."""
    return (_math.multiply(_unreduce(dy, op), _prod_others(op.inputs[0], axis=op.attrs["axis"])),)


def _group_last(x, axis):
    """x with the axes in `axis` moved to the end and flattened into one: shape (..., n)."""
    rest = [i for i in range(x.ndim) if i not in axis]
    moved = np.transpose(x, rest + list(axis))
    return moved.reshape(moved.shape[:len(rest)] + (-1,)), rest


def _ungroup(y, x, axis, rest):
    """Undoes _group_last for an array of the grouped shape."""
    order = rest + list(axis)
    y = y.reshape(tuple(x.shape[i] for i in order))
    return contiguous(np.transpose(y, np.argsort(order)))


@register_op("ProdOthers", dtypes=NUMERIC)
def _prod_others(x, axis):
    """For each element, the product of the other elements of its group (the reduced axes):
    exclusive products from the left times from the right, so zeros need no division."""
    if x.size == 0:
        return np.zeros_like(x)
    g, rest = _group_last(x, axis)
    ones = np.ones(g.shape[:-1] + (1,), dtype=x.dtype)
    with np.errstate(over="ignore", invalid="ignore"):
        left = np.cumprod(np.concatenate([ones, g[..., :-1]], axis=-1), axis=-1)
        right = np.cumprod(np.concatenate([ones, g[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
        return _ungroup(left * right, x, axis, rest)


@register_gradient("ProdOthers")
def _prod_others_grad(op, g):
    """For p_i = prod_{k != i} x_k: dx_j = sum_{i != j} g_i p_i / x_j = (S - g_j p_j) / x_j with
    S = sum_i g_i p_i over the group. Second derivatives are exact where x_j != 0; at x_j == 0
    this gives 0 (TensorFlow's own cumprod-based gradient gives nan there)."""
    x, p = op.inputs[0], op.outputs[0]
    axis = op.attrs["axis"]
    gp = _math.multiply(g, p)
    total = _array.broadcast_to(reduce_sum(gp, axis, keepdims=True), x._value.shape)
    nonzero = _array.cast(_math.not_equal(x, 0), x.dtype)
    safe_x = _math.add(_math.multiply(x, nonzero), _math.subtract(1, nonzero))
    dx = _math.divide(_math.subtract(total, gp), safe_x)
    return (_math.multiply(dx, nonzero),)


# -- max, min ----------------------------------------------------------------------------------
def _extreme(x, axis, keepdims, fn, empty):
    if x.size == 0:
        # TF: the max of nothing is -inf for floats and the lowest value for ints (min: the top).
        fill = empty * np.inf if x.dtype.kind == "f" else getattr(np.iinfo(x.dtype),
                                                                  "min" if empty < 0 else "max")
        shape = (_kept_shape(x.shape, axis) if keepdims
                 else tuple(d for i, d in enumerate(x.shape) if i not in axis))
        return np.full(shape, fill, dtype=x.dtype)
    return fn(x, axis=axis, keepdims=keepdims)


@register_op("Max", dtypes=NUMERIC)
def _max(x, axis, keepdims):
    return _extreme(x, axis, keepdims, np.max, -1)


@register_op("Min", dtypes=NUMERIC)
def _min(x, axis, keepdims):
    return _extreme(x, axis, keepdims, np.min, 1)


def reduce_max(input_tensor, axis=None, keepdims=False, name=None):
    """tf.reduce_max: the largest element over `axis` (-inf, or the lowest int, if empty)."""
    x, axes = _axes(input_tensor, axis, "Max")
    return _max(x, axis=axes, keepdims=bool(keepdims))


def reduce_min(input_tensor, axis=None, keepdims=False, name=None):
    """tf.reduce_min: the smallest element over `axis` (inf, or the highest int, if empty)."""
    x, axes = _axes(input_tensor, axis, "Min")
    return _min(x, axis=axes, keepdims=bool(keepdims))


def _extreme_grad(op, dy):
    """dx = dy * [x == y] / (number of ties): tied extremes share the gradient evenly."""
    x, axis = op.inputs[0], op.attrs["axis"]
    y = _array.reshape(op.outputs[0], _kept_shape(x._value.shape, axis))
    hits = _array.cast(_math.equal(x, y), dy.dtype)  # not differentiable: a constant mask
    count = reduce_sum(hits, axis, keepdims=True)  # 0 only where y is nan: 0/0 = nan, as TF
    return (_math.multiply(_unreduce(dy, op), _math.divide(hits, count)),)


register_gradient("Max")(_extreme_grad)
register_gradient("Min")(_extreme_grad)


# -- any, all ----------------------------------------------------------------------------------
def _logical(input_tensor, axis, keepdims, fn, op_name):
    x, axes = _axes(input_tensor, axis, op_name)
    if x.dtype is not _dt.bool:
        raise op_error("cannot compute %s as input #0(zero-based) was expected to be a bool "
                       "tensor but is a %s tensor\nHint: compare first, e.g. "
                       "tf.reduce_any(x > 0)." % (op_name, x.dtype._short), op_name)
    return fn(x, axis=axes, keepdims=bool(keepdims))


@register_op("Any", same_dtype=False)
def _any(x, axis, keepdims):
    return np.any(x, axis=axis, keepdims=keepdims)


@register_op("All", same_dtype=False)
def _all(x, axis, keepdims):
    return np.all(x, axis=axis, keepdims=keepdims)


def reduce_any(input_tensor, axis=None, keepdims=False, name=None):
    """tf.reduce_any: logical or over `axis` (False if empty)."""
    return _logical(input_tensor, axis, keepdims, _any, "Any")


def reduce_all(input_tensor, axis=None, keepdims=False, name=None):
    """tf.reduce_all: logical and over `axis` (True if empty)."""
    return _logical(input_tensor, axis, keepdims, _all, "All")


not_differentiable("Any")
not_differentiable("All")


# -- argmax, argmin ----------------------------------------------------------------------------
def _arg(x, axis, output_type, fn, op_name):
    x = convert_to_tensor(x)
    if x.dtype not in NUMERIC:
        raise op_error("Value for attr 'T' of %s is not in the list of allowed values: %s"
                       % (x.dtype.name, ", ".join(d._short for d in NUMERIC)), op_name)
    axis = 0 if axis is None else int(np.asarray(getattr(axis, "_value", axis)))
    nd = x.ndim
    if not -nd <= axis < nd:
        raise op_error("Expected dimension in the range [%d, %d), but got %d" % (-nd, nd, axis),
                       op_name)
    axis %= nd
    if x.shape[axis] == 0:
        raise op_error("Reduction axis %d is empty in shape %s" % (axis, dims_text(x.shape)),
                       op_name)
    output_type = _dt.as_dtype(output_type)
    if output_type not in (_dt.int16, _dt.int32, _dt.int64):
        raise op_error("Value for attr 'output_type' of %s is not in the list of allowed values: "
                       "int16, int32, int64" % output_type.name, op_name)
    return fn(x, axis=axis, output_type=output_type)


@register_op("ArgMax", same_dtype=False)
def _argmax(x, axis, output_type):
    return np.argmax(x, axis=axis).astype(output_type._np)


@register_op("ArgMin", same_dtype=False)
def _argmin(x, axis, output_type):
    return np.argmin(x, axis=axis).astype(output_type._np)


def argmax(input, axis=None, output_type=_dt.int64, name=None):  # noqa: A002
    """tf.math.argmax: the index of the largest value along `axis` (default 0), as int64."""
    return _arg(input, axis, output_type, _argmax, "ArgMax")


def argmin(input, axis=None, output_type=_dt.int64, name=None):  # noqa: A002
    """tf.math.argmin: the index of the smallest value along `axis` (default 0), as int64."""
    return _arg(input, axis, output_type, _argmin, "ArgMin")


not_differentiable("ArgMax")
not_differentiable("ArgMin")


# -- norm --------------------------------------------------------------------------------------
def norm(tensor, ord="euclidean", axis=None, keepdims=None, name=None):  # noqa: A002
    """tf.norm: vector norms (ord 'euclidean'/2, 1, np.inf or any p > 0) over `axis` (an int,
    or None for the whole tensor as one vector); 'fro'/'euclidean' over a 2-tuple axis.

    Gradient: x / ||x|| for the 2-norm, sign(x) for 1, the argmax position(s) for inf. At the
    zero vector the 2-norm's gradient is nan, as in TensorFlow (d sqrt(s)/ds is inf at s=0)."""
    x = convert_to_tensor(tensor)
    if x.dtype not in (_dt.float32, _dt.float64):
        raise op_error("Value for attr 'T' of %s is not in the list of allowed values: float, "
                       "double\nHint: tf.norm needs floats; use tf.cast(x, tf.float32)."
                       % x.dtype.name, "Norm")
    is_matrix = isinstance(axis, (list, tuple)) and len(axis) == 2
    if isinstance(axis, (list, tuple)) and len(axis) not in (1, 2):
        raise ValueError("'axis' must be None, an integer, or a tuple of 2 unique integers, "
                         "got %r" % (axis,))
    supported = ("euclidean", "fro") if is_matrix else ("euclidean", "fro", 1, 2, np.inf)
    p = ord
    if not (p in supported or (not is_matrix and not isinstance(p, str) and p > 0)):
        kind = "matrix" if is_matrix else "vector"
        raise ValueError("'ord' must be a supported %s norm, got %r. Supported: %s"
                         % (kind, ord, ", ".join(map(str, supported))))
    if p == "fro" and not (is_matrix or axis is None):
        raise ValueError("'ord' must be a supported vector norm, got fro.")
    keepdims = bool(keepdims)
    if p in ("euclidean", "fro", 2):
        return _math.sqrt(reduce_sum(_math.multiply(x, x), axis, keepdims))
    if p == np.inf:
        return reduce_max(_math.abs(x), axis, keepdims)
    if p == 1:
        return reduce_sum(_math.abs(x), axis, keepdims)
    s = reduce_sum(_math.pow(_math.abs(x), _constant_like(p, x)), axis, keepdims)
    return _math.pow(s, _constant_like(1.0 / p, s))

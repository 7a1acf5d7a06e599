"""Arithmetic, matmul and sigmoid: each forward beside its gradient (a table of derivatives).

Imports the registry, the kernels and microtf.ops._common. Gradients are written with microtf ops
so that an outer tape records them (nested tapes give higher derivatives).
"""
import numpy as np

from .. import _kernels as K
from ..eager.registry import convert_inputs, register_gradient, register_op
from ..framework import dtypes as _dt
from ..framework.errors import InvalidArgumentError
from ._common import (FLOATS, NUMERIC, broadcast_shape, dims_text, is_row_of, op_error)
from ..framework.tensor import contiguous

__all__ = ["add", "subtract", "multiply", "divide", "truediv", "floordiv", "floormod", "mod",
           "pow", "negative", "log", "greater", "matmul", "sigmoid"]

_KERNEL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


# -- broadcasting gradients -------------------------------------------------------------------
@register_op("SumToShape", same_dtype=False)
def _sum_to_shape(dy, shape):
    """Sums dy over the axes along which an input of `shape` was broadcast."""
    if dy.shape == shape:
        return dy
    size = 1
    for d in shape:
        size *= d
    if dy.dtype in _KERNEL_DTYPES and size and is_row_of(shape, dy.shape):
        out = np.empty(shape, dtype=dy.dtype)
        K.sum_rows(dy, out)  # bias-row gradient in one pass
        return out
    lead = dy.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(i + lead for i, d in enumerate(shape)
                                      if d == 1 and dy.shape[i + lead] != 1)
    return contiguous(np.sum(dy, axis=axes).reshape(shape))


def sum_to_shape(dy, shape):
    """Unbroadcast: dy reduced to `shape` (identity when the shapes already agree)."""
    shape = tuple(shape)
    if dy.shape._dims == shape:
        return dy
    return _sum_to_shape(dy, shape=shape)


@register_gradient("SumToShape")
def _sum_to_shape_grad(op, dy):
    from .array_ops import broadcast_to
    return (broadcast_to(dy, op.inputs[0].shape._dims),)


def _binary_out(x, y, op_name):
    return np.empty(broadcast_shape(x.shape, y.shape, op_name), dtype=x.dtype)


# -- add, subtract, multiply, divide ----------------------------------------------------------
@register_op("AddV2", dtypes=NUMERIC + (_dt.string,), scalar_error=InvalidArgumentError)
def add(x, y):
    """x + y with broadcasting; same-shape, bias-row and scalar cases run in csrc/."""
    if x.dtype in _KERNEL_DTYPES:
        if x.shape == y.shape or is_row_of(y.shape, x.shape):
            out = np.empty(x.shape, dtype=x.dtype)
            K.add(x, y, out)
            return out
        if is_row_of(x.shape, y.shape):
            out = np.empty(y.shape, dtype=y.dtype)
            K.add(y, x, out)
            return out
    out = _binary_out(x, y, "AddV2")
    return np.add(x, y, out=out) if x.dtype != object else np.add(x, y)


@register_gradient("AddV2")
def _add_grad(op, dy):
    """dx = dy, dy = dy, each summed back to its input's shape."""
    x, y = op.inputs
    return (sum_to_shape(dy, x.shape._dims) if op.needs_grad[0] else None,
            sum_to_shape(dy, y.shape._dims) if op.needs_grad[1] else None)


@register_op("Sub", dtypes=NUMERIC)
def subtract(x, y):
    return np.subtract(x, y, out=_binary_out(x, y, "Sub"))


@register_gradient("Sub")
def _sub_grad(op, dy):
    """dx = dy, dy = -dy."""
    x, y = op.inputs
    return (sum_to_shape(dy, x.shape._dims) if op.needs_grad[0] else None,
            sum_to_shape(negative(dy), y.shape._dims) if op.needs_grad[1] else None)


@register_op("Mul", dtypes=NUMERIC + (_dt.bool,))
def multiply(x, y):
    return np.multiply(x, y, out=_binary_out(x, y, "Mul"))


@register_gradient("Mul")
def _mul_grad(op, dy):
    """dx = dy * y, dy = dy * x."""
    x, y = op.inputs
    return (sum_to_shape(multiply(dy, y), x.shape._dims) if op.needs_grad[0] else None,
            sum_to_shape(multiply(dy, x), y.shape._dims) if op.needs_grad[1] else None)


@register_op("RealDiv", dtypes=NUMERIC)
def _real_div(x, y):
    if x.dtype.kind in "iu":
        if np.any(y == 0):
            raise op_error("Integer division by zero", "RealDiv")
        return np.trunc(np.divide(x, y)).astype(x.dtype)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.divide(x, y, out=_binary_out(x, y, "RealDiv"))


@register_gradient("RealDiv")
def _real_div_grad(op, dy):
    """dx = dy / y, dy = -dy * x / y**2."""
    x, y = op.inputs
    gx = sum_to_shape(_real_div(dy, y), x.shape._dims) if op.needs_grad[0] else None
    gy = None
    if op.needs_grad[1]:
        gy = sum_to_shape(multiply(dy, _real_div(_real_div(negative(x), y), y)), y.shape._dims)
    return gx, gy


def divide(x, y, name=None):
    """tf.divide / the `/` operator: true division; ints become floats (int32 -> float64)."""
    from .array_ops import cast
    x, y = convert_inputs((x, y), _real_div.op_def)
    if x.dtype is not y.dtype:
        raise TypeError("`x` and `y` must have the same dtype, got %r != %r." % (x.dtype, y.dtype))
    if x.dtype.is_integer:
        target = _dt.float64 if x.dtype.size >= 4 else _dt.float32
        x, y = cast(x, target), cast(y, target)
    return _real_div(x, y)


truediv = divide


@register_op("FloorDiv", dtypes=NUMERIC)
def floordiv(x, y):
    if x.dtype.kind in "iu" and np.any(y == 0):
        raise op_error("Integer division by zero", "FloorDiv")
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.floor_divide(x, y, out=_binary_out(x, y, "FloorDiv"))


register_gradient("FloorDiv")(lambda op, dy: (None, None))


@register_op("FloorMod", dtypes=NUMERIC)
def floormod(x, y):
    if x.dtype.kind in "iu" and np.any(y == 0):
        raise op_error("Integer division by zero", "FloorMod")
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.mod(x, y, out=_binary_out(x, y, "FloorMod"))


@register_gradient("FloorMod")
def _floormod_grad(op, dy):
    """x mod y = x - floor(x/y)*y: dx = dy, dy = -dy * floor(x/y)."""
    x, y = op.inputs
    return (sum_to_shape(dy, x.shape._dims) if op.needs_grad[0] else None,
            sum_to_shape(multiply(dy, negative(floordiv(x, y))), y.shape._dims)
            if op.needs_grad[1] else None)


mod = floormod


@register_op("Pow", dtypes=NUMERIC)
def pow(x, y):  # noqa: A001 - TensorFlow's name
    if x.dtype.kind in "iu" and np.any(y < 0):
        raise op_error("Integers to negative integer powers are not allowed", "Pow")
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return np.power(x, y, out=_binary_out(x, y, "Pow"))


@register_gradient("Pow")
def _pow_grad(op, dy):
    """dx = dy * y * x**(y-1); dy = dy * x**y * log(x) (0 where x <= 0)."""
    from .array_ops import ones_like, where, zeros_like
    x, y = op.inputs
    gx = gy = None
    if op.needs_grad[0]:
        gx = sum_to_shape(multiply(dy, multiply(y, pow(x, subtract(y, 1)))), x.shape._dims)
    if op.needs_grad[1]:
        positive = greater(x, zeros_like(x))
        safe_x = where(positive, x, ones_like(x))
        log_x = where(positive, log(safe_x), zeros_like(x))
        gy = sum_to_shape(multiply(dy, multiply(op.outputs[0], log_x)), y.shape._dims)
    return gx, gy


# -- unary math used by the gradients above ---------------------------------------------------
@register_op("Neg", dtypes=NUMERIC)
def negative(x):
    return np.negative(x)


register_gradient("Neg")(lambda op, dy: (negative(dy),))


@register_op("Log", dtypes=FLOATS)
def log(x):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(x)


@register_gradient("Log")
def _log_grad(op, dy):
    """dx = dy / x."""
    return (_real_div(dy, op.inputs[0]),)


@register_op("Greater", dtypes=NUMERIC)
def greater(x, y):
    broadcast_shape(x.shape, y.shape, "Greater")
    return np.greater(x, y)


# -- matmul ------------------------------------------------------------------------------------
@register_op("MatMul", dtypes=NUMERIC)
def _matmul(a, b, transpose_a=False, transpose_b=False):
    """op(a) @ op(b); 2-D float products are one BLAS gemm call with transpose flags."""
    if a.ndim < 2 or b.ndim < 2:
        which = 0 if a.ndim < 2 else 1
        raise op_error("In[%d] ndims must be >= 2: %d\nHint: unlike numpy, tf.matmul needs "
                       "matrices; use tf.reshape(v, (1, -1)) or tf.expand_dims(v, 0) on a "
                       "vector, or tf.tensordot / tf.reduce_sum(x * y) for a dot product."
                       % (which, (a, b)[which].ndim), "MatMul")
    m, k = (a.shape[-1], a.shape[-2]) if transpose_a else a.shape[-2:]
    k2, n = (b.shape[-1], b.shape[-2]) if transpose_b else b.shape[-2:]
    if k != k2:
        raise op_error("Matrix size-incompatible: In[0]: %s, In[1]: %s"
                       % (dims_text(a.shape), dims_text(b.shape)), "MatMul")
    if a.ndim == 2 and b.ndim == 2:
        out = np.empty((m, n), dtype=a.dtype)
        if a.dtype in _KERNEL_DTYPES:
            K.matmul(a, b, out, transpose_a, transpose_b)
        else:
            np.matmul(a.T if transpose_a else a, b.T if transpose_b else b, out=out)
        return out
    batch = broadcast_shape(a.shape[:-2], b.shape[:-2], "BatchMatMulV2")
    at = np.swapaxes(a, -1, -2) if transpose_a else a
    bt = np.swapaxes(b, -1, -2) if transpose_b else b
    out = np.empty(batch + (m, n), dtype=a.dtype)
    return np.matmul(at, bt, out=out)


def matmul(a, b, transpose_a=False, transpose_b=False, adjoint_a=False, adjoint_b=False,
           a_is_sparse=False, b_is_sparse=False, output_type=None, name=None):
    """tf.matmul: matrix product of the last two axes, batch axes broadcast."""
    return _matmul(a, b, transpose_a=bool(transpose_a or adjoint_a),
                   transpose_b=bool(transpose_b or adjoint_b))


@register_gradient("MatMul")
def _matmul_grad(op, dy):
    """For c = a @ b: da = dy @ b^T, db = a^T @ dy; transposed inputs swap the roles.

    Each product is one gemm call with transpose flags: no transposed copies."""
    a, b = op.inputs
    ta, tb = op.attrs["transpose_a"], op.attrs["transpose_b"]
    da = db = None
    if op.needs_grad[0]:
        if not ta:
            da = _matmul(dy, b, transpose_a=False, transpose_b=not tb)
        else:
            da = _matmul(b, dy, transpose_a=tb, transpose_b=True)
        da = sum_to_shape(da, a.shape._dims)
    if op.needs_grad[1]:
        if not tb:
            db = _matmul(a, dy, transpose_a=not ta, transpose_b=False)
        else:
            db = _matmul(dy, a, transpose_a=True, transpose_b=ta)
        db = sum_to_shape(db, b.shape._dims)
    return da, db


# -- sigmoid -----------------------------------------------------------------------------------
@register_op("Sigmoid", dtypes=FLOATS)
def sigmoid(x):
    """y = 1 / (1 + exp(-x)), one numerically stable pass in csrc/."""
    out = np.empty(x.shape, dtype=x.dtype)
    K.sigmoid(x, out)
    return out


@register_gradient("Sigmoid")
def _sigmoid_grad(op, dy):
    """dx = dy * y * (1 - y), from the saved output y."""
    return (sigmoid_grad(op.outputs[0], dy),)


@register_op("SigmoidGrad", dtypes=FLOATS)
def sigmoid_grad(y, dy):
    """dy * y * (1 - y) in one pass (the backward kernel of Sigmoid)."""
    out = np.empty(y.shape, dtype=y.dtype)
    K.sigmoid_backward(y, dy, out)
    return out


@register_gradient("SigmoidGrad")
def _sigmoid_grad_grad(op, g):
    """For s = dy * y * (1 - y): ds/dy_in = g * dy * (1 - 2y); ds/d(dy) = g * y * (1 - y)."""
    y, dy = op.inputs
    gy = gdy = None
    if op.needs_grad[0]:
        gy = multiply(multiply(g, dy), subtract(1, multiply(2, y)))
    if op.needs_grad[1]:
        gdy = sigmoid_grad(y, g)
    return gy, gdy

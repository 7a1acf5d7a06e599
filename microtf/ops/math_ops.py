"""Elementwise math, comparisons, logical ops, matmul and sigmoid: each forward beside its gradient
(a table of derivatives).

Imports the registry, the kernels and microtf.ops._common; array_ops is reached as a module at
call time (the two modules use each other's ops in gradients). Gradients are written with microtf
ops so that an outer tape records them (nested tapes give higher derivatives).

Float forwards run under `_ieee` (np.errstate(all="ignore")): inf and nan are the IEEE answers
TensorFlow gives, and numpy's RuntimeWarnings about them would only be noise. The hot float ops
(add, subtract, multiply, divide, sigmoid, 2-D matmul) take csrc/ kernels that allocate their
output in C and raise no warnings, so only their numpy fallbacks pay for np.errstate (~0.5 us,
more than a whole (1, 3) add in the kernel).
"""
import functools

import numpy as np

from .. import _kernels as K
from ..eager.registry import (convert_to_tensor, not_differentiable, register_gradient,
                              register_op, tape_state)
from ..framework import dtypes as _dt
from ..framework.errors import InvalidArgumentError
from ..framework.tensor import Tensor, contiguous
from ..framework.variable import Variable
from . import array_ops as _array
from ._common import (FLOATS, NUMERIC, NUMERIC_BOOL, broadcast_shape, check_alloc, dims_text,
                      check_same_shape, is_row_of, op_error)

__all__ = ["add", "subtract", "multiply", "divide", "truediv", "floordiv", "floormod", "mod",
           "pow", "negative", "square", "sqrt", "exp", "log", "log1p", "abs", "sign",
           "reciprocal", "round", "tanh", "maximum", "minimum", "clip_by_value",
           "equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
           "logical_and", "logical_or", "logical_not", "logical_xor", "matmul", "sigmoid"]

_KERNEL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_ieee = np.errstate(all="ignore")  # decorator: IEEE results (inf, nan) without RuntimeWarnings
# Outputs of at most this many elements cannot hit check_alloc's errors: the kernel allocates them.
_SMALL_ALLOC = 1 << 24


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
        return K.sum_rows(dy, np.empty(shape, dtype=dy.dtype))  # bias-row gradient, one pass
    lead = dy.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(i + lead for i, d in enumerate(shape)
                                      if d == 1 and dy.shape[i + lead] != 1)
    with np.errstate(all="ignore"):
        return contiguous(np.sum(dy, axis=axes).reshape(shape))


def sum_to_shape(dy, shape):
    """Unbroadcast: dy reduced to `shape` (identity when the shapes already agree)."""
    shape = tuple(shape)
    if dy._value.shape == shape:
        return dy
    return _sum_to_shape(dy, shape=shape)


@register_gradient("SumToShape")
def _sum_to_shape_grad(op, dy):
    return (_array.broadcast_to(dy, op.inputs[0]._value.shape),)


def _binary_out(x, y, op_name):
    return np.empty(broadcast_shape(x.shape, y.shape, op_name), dtype=x.dtype)


def _numpy_binary(ufunc, x, y, op_name):
    """x OP y by numpy's ufunc with TensorFlow's broadcasting error and IEEE results."""
    out = _binary_out(x, y, op_name)
    with np.errstate(all="ignore"):
        return ufunc(x, y, out=out)


def _kernel_forward(code, rest):
    """The forward of a float binary op: csrc/'s kernel when both are float and one is the other
    repeated along leading axes (same shape, bias row, scalar) or holds one value per row of
    the other, else `rest(x, y)`. Compiled
    (K.binary_forward) so that the common case runs no Python frame; it carries rest's name
    and docstring, which the op's public function shows."""
    return functools.update_wrapper(K.binary_forward(code, rest), rest)


def _unbroadcast(op, gx, gy):
    """The two gradients of a broadcasting binary op, each summed back to its input's shape;
    gx/gy are callables so that work is skipped for inputs that need no gradient."""
    x, y = op.inputs
    return (sum_to_shape(gx(), x._value.shape) if op.needs_grad[0] else None,
            sum_to_shape(gy(), y._value.shape) if op.needs_grad[1] else None)


# -- add, subtract, multiply, divide ----------------------------------------------------------
def add(x, y):
    """x + y with broadcasting; same-shape, bias-row and scalar cases run in csrc/."""
    if x.dtype == object:  # strings: concatenation
        _binary_out(x, y, "AddV2")  # TF's broadcasting error
        return np.add(x, y)
    return _numpy_binary(np.add, x, y, "AddV2")


add = register_op("AddV2", _kernel_forward(K.BINARY_ADD, add), dtypes=NUMERIC + (_dt.string,),
                  scalar_error=InvalidArgumentError)


@register_gradient("AddV2")
def _add_grad(op, dy):
    """dx = dy, dy = dy, each summed back to its input's shape."""
    return _unbroadcast(op, lambda: dy, lambda: dy)


def subtract(x, y):
    """x - y with broadcasting."""
    return _numpy_binary(np.subtract, x, y, "Sub")


subtract = register_op("Sub", _kernel_forward(K.BINARY_SUBTRACT, subtract), dtypes=NUMERIC)


@register_gradient("Sub")
def _sub_grad(op, dy):
    """dx = dy, dy = -dy."""
    return _unbroadcast(op, lambda: dy, lambda: negative(dy))


def multiply(x, y):
    """x * y with broadcasting."""
    return _numpy_binary(np.multiply, x, y, "Mul")


multiply = register_op("Mul", _kernel_forward(K.BINARY_MULTIPLY, multiply),
                       dtypes=NUMERIC + (_dt.bool,))


@register_gradient("Mul")
def _mul_grad(op, dy):
    """dx = dy * y, dy = dy * x."""
    x, y = op.inputs
    return _unbroadcast(op, lambda: multiply(dy, y), lambda: multiply(dy, x))


def _check_int_divisor(x, y, op_name):
    if x.dtype.kind in "iu" and np.any(y == 0):
        raise op_error("Integer division by zero", op_name)


def _real_div(x, y):
    """x / y in floating point (`divide` casts integers first): x / 0 gives inf or nan."""
    return _numpy_binary(np.divide, x, y, "RealDiv")


_real_div = register_op("RealDiv", _kernel_forward(K.BINARY_DIVIDE, _real_div), dtypes=FLOATS)


@register_gradient("RealDiv")
def _real_div_grad(op, dy):
    """dx = dy / y, dy = -dy * x / y**2."""
    x, y = op.inputs
    return _unbroadcast(op, lambda: _real_div(dy, y),
                        lambda: multiply(dy, _real_div(_real_div(negative(x), y), y)))


def divide(x, y, name=None):
    """tf.divide / the `/` operator: true division; ints become floats (int32 -> float64).

    As TensorFlow, `y` is converted with x's dtype as a hint only, so `int_tensor / 1.5` gives
    a TypeError naming both dtypes rather than a conversion error. A non-tensor `x` beside a
    tensor `y` (the reflected `ndarray / tensor`) takes y's dtype the same way."""
    if not isinstance(x, (Tensor, Variable)) and isinstance(y, (Tensor, Variable)):
        x = convert_to_tensor(x, dtype_hint=y.dtype)
    else:
        x = convert_to_tensor(x)
    y = convert_to_tensor(y, dtype_hint=x.dtype)
    if x.dtype is not y.dtype:
        raise TypeError("`x` and `y` must have the same dtype, got %r != %r." % (x.dtype, y.dtype))
    if x.dtype.is_integer:
        target = _dt.float64 if x.dtype.size >= 4 else _dt.float32
        x, y = _array.cast(x, target), _array.cast(y, target)
    return _real_div(x, y)


truediv = divide


@register_op("FloorDiv", dtypes=NUMERIC)
@_ieee
def floordiv(x, y):
    """floor(x / y); integer division by zero is an error, float division gives inf/nan."""
    out = _binary_out(x, y, "FloorDiv")
    _check_int_divisor(x, y, "FloorDiv")
    return np.floor_divide(x, y, out=out)


register_gradient("FloorDiv")(lambda op, dy: (None, None))


@register_op("FloorMod", dtypes=NUMERIC)
@_ieee
def floormod(x, y):
    """x - floor(x / y) * y: the result has the sign of the divisor, as Python's %."""
    out = _binary_out(x, y, "FloorMod")
    _check_int_divisor(x, y, "FloorMod")
    return np.mod(x, y, out=out)


@register_gradient("FloorMod")
def _floormod_grad(op, dy):
    """x mod y = x - floor(x/y)*y: dx = dy, dy = -dy * floor(x/y)."""
    x, y = op.inputs
    return _unbroadcast(op, lambda: dy, lambda: multiply(dy, negative(floordiv(x, y))))


mod = floormod


@register_op("Pow", dtypes=NUMERIC)
def pow(x, y):  # noqa: A001 - TensorFlow's name
    """x ** y; integers to negative integer powers are an error (numpy's too, but a ValueError)."""
    if x.dtype.kind in "iu" and np.any(y < 0):
        raise op_error("Integers to negative integer powers are not allowed", "Pow")
    if _is_two(y):  # x**2 (the lab's loss): x*x, as exact
        return _square(x)
    out = _binary_out(x, y, "Pow")
    with np.errstate(all="ignore"):
        return np.power(x, y, out=out)


def _is_two(y):
    """Whether the exponent array y is the scalar 2 (x**2's shortcuts)."""
    return y.ndim == 0 and y == 2


def _square(x):
    """x * x: one kernel pass for floats (no errstate needed: the kernels never warn)."""
    if x.dtype in _KERNEL_DTYPES:
        out = K.binary(K.BINARY_MULTIPLY, x, x)
        if out is not None:
            return out
    with np.errstate(all="ignore"):
        return np.square(x)


@register_gradient("Pow")
def _pow_grad(op, dy):
    """dx = dy * y * x**(y-1) (so (x**2)'(0) = 0, (x**0.5)'(0) = inf);
    dy = dy * x**y * log(x), taken as 0 where x <= 0."""
    x, y = op.inputs

    def grad_y():
        positive = greater(x, 0)
        log_x = _array.where(positive, log(_array.where(positive, x, _array.ones_like(x))),
                             _array.zeros_like(x))
        return multiply(dy, multiply(op.outputs[0], log_x))

    def grad_x():
        # y * x**(y-1) with x**1 = x exactly, when nothing differentiates this gradient again
        # (as a function of y, y * x is not y * x**(y-1): an outer tape would see that).
        if _is_two(y._value) and not tape_state.tapes:
            return multiply(dy, multiply(y, x))
        return multiply(dy, multiply(y, pow(x, subtract(y, 1))))

    return _unbroadcast(op, grad_x, grad_y)


# -- maximum, minimum, clip_by_value ----------------------------------------------------------
@register_op("Maximum", dtypes=NUMERIC)
@_ieee
def maximum(x, y):
    """The larger of x and y elementwise (nan if either is nan)."""
    return np.maximum(x, y, out=_binary_out(x, y, "Maximum"))


@register_op("Minimum", dtypes=NUMERIC)
@_ieee
def minimum(x, y):
    """The smaller of x and y elementwise (nan if either is nan)."""
    return np.minimum(x, y, out=_binary_out(x, y, "Minimum"))


def _select_grad(op, dy, xmask):
    """dx = dy where xmask, dy = dy elsewhere: a tie gives the whole gradient to x (TF)."""
    zero = _array.zeros_like(dy)
    return _unbroadcast(op, lambda: _array.where(xmask, dy, zero),
                        lambda: _array.where(xmask, zero, dy))


@register_gradient("Maximum")
def _maximum_grad(op, dy):
    """dx = dy where x >= y, dy = dy where x < y."""
    return _select_grad(op, dy, greater_equal(*op.inputs))


@register_gradient("Minimum")
def _minimum_grad(op, dy):
    """dx = dy where x <= y, dy = dy where x > y."""
    return _select_grad(op, dy, less_equal(*op.inputs))


@register_op("ClipByValue", dtypes=NUMERIC)
@_ieee
def _clip_by_value(t, lo, hi):
    for bound in (lo, hi):
        if broadcast_shape(t.shape, bound.shape, "ClipByValue") != t.shape:
            raise ValueError("Shapes %s and %s are incompatible: clip_by_value's bounds must "
                             "broadcast to the shape of t, %s, not enlarge it."
                             % (bound.shape, t.shape, t.shape))
    # TensorFlow's order, minimum then maximum: when lo > hi every element becomes lo.
    return np.maximum(np.minimum(t, hi), lo)


def clip_by_value(t, clip_value_min, clip_value_max, name=None):
    """tf.clip_by_value: max(min(t, clip_value_max), clip_value_min), shaped like t."""
    return _clip_by_value(t, clip_value_min, clip_value_max)


@register_gradient("ClipByValue")
def _clip_by_value_grad(op, dy):
    """dt = dy where lo <= t <= hi; dlo = dy where t < lo; dhi = dy where t > hi."""
    t, lo, hi = op.inputs
    below, above = less(t, lo), greater(t, hi)
    zero = _array.zeros_like(dy)

    def passed(x, mask):
        return sum_to_shape(_array.where(mask, dy, zero), x._value.shape)

    need = op.needs_grad
    return (passed(t, logical_not(logical_or(below, above))) if need[0] else None,
            passed(lo, below) if need[1] else None,
            passed(hi, above) if need[2] else None)


# -- unary math --------------------------------------------------------------------------------
@register_op("Neg", dtypes=NUMERIC)
def negative(x):
    """-x."""
    return np.negative(x)


register_gradient("Neg")(lambda op, dy: (negative(dy),))


@register_op("Square", dtypes=NUMERIC)
def square(x):
    """x * x."""
    return _square(x)


@register_gradient("Square")
def _square_grad(op, dy):
    """dx = dy * 2x."""
    return (multiply(dy, multiply(op.inputs[0], 2)),)


@register_op("Sqrt", dtypes=FLOATS)
@_ieee
def sqrt(x):
    """The square root; nan for x < 0."""
    return np.sqrt(x)


@register_gradient("Sqrt")
def _sqrt_grad(op, dy):
    """dx = dy * 0.5 / y: inf at x = 0, as TensorFlow."""
    return (_real_div(multiply(dy, 0.5), op.outputs[0]),)


@register_op("Exp", dtypes=FLOATS)
@_ieee
def exp(x):
    """e ** x (inf on overflow)."""
    return np.exp(x)


register_gradient("Exp")(lambda op, dy: (multiply(dy, op.outputs[0]),))  # dx = dy * y


@register_op("Log", dtypes=FLOATS)
@_ieee
def log(x):
    """The natural logarithm: -inf at 0, nan below."""
    return np.log(x)


@register_gradient("Log")
def _log_grad(op, dy):
    """dx = dy / x."""
    return (_real_div(dy, op.inputs[0]),)


@register_op("Log1p", dtypes=FLOATS)
@_ieee
def log1p(x):
    """log(1 + x), accurate for small x."""
    return np.log1p(x)


@register_gradient("Log1p")
def _log1p_grad(op, dy):
    """dx = dy / (1 + x)."""
    return (_real_div(dy, add(op.inputs[0], 1)),)


@register_op("Abs", dtypes=NUMERIC)
def abs(x):  # noqa: A001 - TensorFlow's name
    """|x|."""
    return np.abs(x)


@register_gradient("Abs")
def _abs_grad(op, dy):
    """dx = dy * sign(x): 0 at x = 0, as TensorFlow."""
    return (multiply(dy, sign(op.inputs[0])),)


@register_op("Sign", dtypes=NUMERIC)
def sign(x):
    """-1, 0 or 1 by the sign of x (nan for nan)."""
    return np.sign(x)


register_gradient("Sign")(lambda op, dy: (_array.zeros_like(op.inputs[0]),))  # piecewise flat


@register_op("Reciprocal", dtypes=FLOATS)
@_ieee
def reciprocal(x):
    """1 / x (inf at 0)."""
    return np.reciprocal(x)


@register_gradient("Reciprocal")
def _reciprocal_grad(op, dy):
    """dx = -dy * y**2."""
    return (negative(multiply(dy, square(op.outputs[0]))),)


@register_op("Round", dtypes=NUMERIC)
def round(x):  # noqa: A001 - TensorFlow's name
    """Rounds half to even (banker's rounding): round(0.5) = 0, round(1.5) = 2."""
    return np.round(x)


not_differentiable("Round")


@register_op("Tanh", dtypes=FLOATS)
def tanh(x):
    """The hyperbolic tangent."""
    return np.tanh(x)


@register_gradient("Tanh")
def _tanh_grad(op, dy):
    """dx = dy * (1 - y**2), from the saved output y."""
    return (multiply(dy, subtract(1, square(op.outputs[0]))),)


# -- comparisons and logical ops (bool results, not differentiable) ---------------------------
def _elementwise(name, ufunc, doc, dtypes, check=None):
    """Registers a broadcasting elementwise op with no gradient, e.g. a comparison."""
    def forward(*xs):
        if check is not None:
            check(xs, name)
        if len(xs) == 2:
            broadcast_shape(xs[0].shape, xs[1].shape, name)
        return ufunc(*xs)

    forward.__name__ = forward.__qualname__ = ufunc.__name__
    forward.__doc__ = doc
    op = register_op(name, forward, dtypes=dtypes, same_dtype=dtypes is not None)
    not_differentiable(name)
    return op


_EQUALITY = NUMERIC_BOOL + (_dt.string,)
equal = _elementwise("Equal", np.equal, "x == y elementwise (bool).", _EQUALITY)
not_equal = _elementwise("NotEqual", np.not_equal, "x != y elementwise (bool).", _EQUALITY)
less = _elementwise("Less", np.less, "x < y elementwise (bool).", NUMERIC)
less_equal = _elementwise("LessEqual", np.less_equal, "x <= y elementwise (bool).", NUMERIC)
greater = _elementwise("Greater", np.greater, "x > y elementwise (bool).", NUMERIC)
greater_equal = _elementwise("GreaterEqual", np.greater_equal, "x >= y elementwise (bool).",
                             NUMERIC)


def _check_bool(xs, name):
    # The logical ops have no type attribute in TensorFlow: their error names the input.
    for i, x in enumerate(xs):
        if x.dtype != np.bool_:
            raise op_error("cannot compute %s as input #%d(zero-based) was expected to be a bool "
                           "tensor but is a %s tensor\nHint: logical ops take bool tensors; "
                           "compare first (x > 0) or use tf.cast(x, tf.bool)."
                           % (name, i, _dt.from_numpy(x.dtype)._short), name)


logical_and = _elementwise("LogicalAnd", np.logical_and, "x AND y elementwise (bool inputs).",
                           None, _check_bool)
logical_or = _elementwise("LogicalOr", np.logical_or, "x OR y elementwise (bool inputs).",
                          None, _check_bool)
logical_xor = _elementwise("LogicalXor", np.logical_xor, "x XOR y elementwise (bool inputs).",
                           None, _check_bool)
logical_not = _elementwise("LogicalNot", np.logical_not, "NOT x elementwise (bool input).",
                           None, _check_bool)


# -- matmul ------------------------------------------------------------------------------------
def _matmul_rest(a, b, transpose_a, transpose_b):
    """MatMul's forward beyond its common case (2-D float products of at most _SMALL_ALLOC
    elements, computed in C by K.matmul_forward): TensorFlow's errors, other dtypes, batches
    and large outputs."""
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
        out = np.empty(check_alloc((m, n), a.dtype, "MatMul"), dtype=a.dtype)
        if a.dtype in _KERNEL_DTYPES:
            return K.matmul(a, b, out, transpose_a, transpose_b)
        with np.errstate(all="ignore"):
            return np.matmul(a.T if transpose_a else a, b.T if transpose_b else b, out=out)
    batch = broadcast_shape(a.shape[:-2], b.shape[:-2], "BatchMatMulV2")
    at = np.swapaxes(a, -1, -2) if transpose_a else a
    bt = np.swapaxes(b, -1, -2) if transpose_b else b
    out = np.empty(check_alloc(batch + (m, n), a.dtype, "BatchMatMulV2"), dtype=a.dtype)
    with np.errstate(all="ignore"):
        return np.matmul(at, bt, out=out)


# The forward is compiled: a Python frame and Python checks cost more than a (1, 3) @ (3, 3) gemm.
_matmul = register_op("MatMul", K.matmul_forward(_matmul_rest, _SMALL_ALLOC), dtypes=NUMERIC)


def matmul(a, b, transpose_a=False, transpose_b=False, adjoint_a=False, adjoint_b=False,
           a_is_sparse=False, b_is_sparse=False, output_type=None, name=None):
    """tf.matmul: matrix product of the last two axes, batch axes broadcast."""
    if transpose_a or adjoint_a or transpose_b or adjoint_b:
        return _matmul(a, b, transpose_a=bool(transpose_a or adjoint_a),
                       transpose_b=bool(transpose_b or adjoint_b))
    # No keywords when there is nothing to transpose: passing attributes through the op call
    # costs ~0.2 us, a third of a tiny product. The tape then records no attrs (see the gradient).
    return _matmul(a, b)


@register_gradient("MatMul")
def _matmul_grad(op, dy):
    """For c = a @ b: da = dy @ b^T, db = a^T @ dy; transposed inputs swap the roles.

    Each product is one gemm call with transpose flags: no transposed copies."""
    a, b = op.inputs
    # tf.matmul passes the flags only when one is set; _matmul's defaults are False.
    ta, tb = op.attrs.get("transpose_a", False), op.attrs.get("transpose_b", False)
    da = db = None
    if op.needs_grad[0]:
        if not ta:
            da = _matmul(dy, b, transpose_a=False, transpose_b=not tb)
        else:
            da = _matmul(b, dy, transpose_a=tb, transpose_b=True)
        da = sum_to_shape(da, a._value.shape)
    if op.needs_grad[1]:
        if not tb:
            db = _matmul(a, dy, transpose_a=not ta, transpose_b=False)
        else:
            db = _matmul(dy, a, transpose_a=True, transpose_b=ta)
        db = sum_to_shape(db, b._value.shape)
    return da, db


# -- sigmoid -----------------------------------------------------------------------------------
@register_op("Sigmoid", dtypes=FLOATS)
def sigmoid(x):
    """y = 1 / (1 + exp(-x)), one numerically stable pass in csrc/."""
    return K.sigmoid(x)


@register_gradient("Sigmoid")
def _sigmoid_grad(op, dy):
    """dx = dy * y * (1 - y), from the saved output y."""
    return (sigmoid_grad(op.outputs[0], dy),)


@register_op("SigmoidGrad", dtypes=FLOATS)
def sigmoid_grad(y, dy):
    """dy * y * (1 - y) in one pass (the backward kernel of Sigmoid)."""
    check_same_shape(y, dy, "SigmoidGrad")
    return K.sigmoid_backward(y, dy)


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

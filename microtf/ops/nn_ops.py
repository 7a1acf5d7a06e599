"""Neural-network ops (tf.nn): activations, softmax and cross-entropies: forward beside gradient.

Imports the kernels, the registry, the framework, math_ops, array_ops and microtf.ops._common.
relu, its gradient and the softmax cross-entropies run Cython kernels (csrc/nn.pyx) for float32
and float64; bias_add and the fused bias + activation for Dense (bias_activation, and
fused_matmul: the gemm, then bias + activation in place on its output) run csrc/elementwise.pyx;
other forwards are numerically stable numpy (max-shifted exponentials, log1p(exp(-|x|))).
Gradients are written with microtf ops so that nested tapes give second derivatives. The softmax
cross-entropies return the loss and, as a second output kept for the gradient,
backprop = softmax - labels from the same pass.
"""
import numpy as np

from .. import _kernels as K
from ..eager.registry import (convert_inputs, convert_to_tensor, dtype_not_allowed,
                              register_gradient, register_op)
from ..framework import dtypes as _dt
from ..framework.errors import InvalidArgumentError
from ..framework.tensor import contiguous
from . import array_ops as _array
from . import math_ops as _math
from ._common import FLOATS, NUMERIC, check_same_shape, dims_text, op_error

__all__ = ["bias_add", "relu", "leaky_relu", "softplus", "softmax", "log_softmax",
           "sigmoid_cross_entropy_with_logits", "softmax_cross_entropy_with_logits",
           "sparse_softmax_cross_entropy_with_logits"]


# -- helpers -----------------------------------------------------------------------------------
def _check_axis(axis, ndim, op_name):
    """`axis` as a non-negative int, with TensorFlow's message for an out-of-range one."""
    axis = -1 if axis is None else int(axis)
    if ndim == 0:
        raise op_error("logits must have >= 1 dimension, got []", op_name)
    if not -ndim <= axis < ndim:
        raise op_error("`dim` must be in the range [%d, %d) where %d is the number of dimensions "
                       "in the input. Received: dim=%d" % (-ndim, ndim, ndim, axis), op_name)
    return axis % ndim


def _keep_shape(shape, axis):
    """`shape` with dimension `axis` set to 1 (a reduction that keeps dims)."""
    return tuple(1 if i == axis else d for i, d in enumerate(shape))


def _shifted_exp(x, axis):
    """(x - max, exp(x - max), sum of that exp) along `axis`: exp never overflows.

    A row holding +inf gives nan (inf - inf), as in TensorFlow; `initial` makes an empty axis
    reduce to -inf instead of raising."""
    with np.errstate(invalid="ignore", over="ignore"):
        shifted = x - np.max(x, axis=axis, keepdims=True, initial=-np.inf)
        e = np.exp(shifted)
    return shifted, e, np.sum(e, axis=axis, keepdims=True)


def _softmax_vjp(y, dy, axis):
    """dx = y * (dy - sum(dy * y, axis, keepdims)) for y = softmax(x), in microtf ops."""
    dot = _math.sum_to_shape(_math.multiply(dy, y), _keep_shape(y._value.shape, axis))
    return _math.multiply(y, _math.subtract(dy, dot))


def _expand(dloss, logits, axis):
    """The per-row loss gradient with a size-1 axis put back, to broadcast against logits."""
    return _array.reshape(dloss, _keep_shape(logits._value.shape, axis))


# -- relu ----------------------------------------------------------------------------------------
_KERNEL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


@register_op("Relu", dtypes=NUMERIC)
def relu(features):
    """max(features, 0); nan stays nan."""
    if features.dtype == np.float32:
        out = np.empty_like(features)
        K.relu_forward(features, out)  # 1.0-1.8x numpy (bench/test_nn_kernels.py)
        return out
    # float64: numpy's maximum is as fast (the kernel's 64-bit mask compare needs SSE4.2).
    return np.maximum(features, features.dtype.type(0))


@register_gradient("Relu")
def _relu_grad(op, dy):
    """dx = dy where y > 0 else 0 (so relu'(0) = 0, as TensorFlow)."""
    return (relu_grad(dy, op.outputs[0]),)


@register_op("ReluGrad", dtypes=NUMERIC)
def relu_grad(gradients, features):
    """gradients where features > 0, else 0."""
    check_same_shape(gradients, features, "ReluGrad")
    if gradients.dtype in _KERNEL_DTYPES:
        out = np.empty_like(gradients)
        K.relu_backward(features, gradients, out)  # one pass instead of compare + where
        return out
    return np.where(features > 0, gradients, gradients.dtype.type(0))


@register_gradient("ReluGrad")
def _relu_grad_grad(op, g):
    """ReluGrad is linear in `gradients` (d = relu_grad(g, x)); piecewise constant in x (0)."""
    return relu_grad(g, op.inputs[1]), None


# -- bias add fused with an activation ------------------------------------------------------------
_BIAS_ACTIVATIONS = ("linear", "relu", "sigmoid")


def _check_bias(value, bias, op_name):
    """TensorFlow's BiasAdd rules: value at least 2-D, bias 1-D of value's last dimension."""
    if value.ndim < 2:
        raise op_error("Input tensor must be at least 2D: %s" % dims_text(value.shape), op_name)
    if bias.ndim != 1:
        raise op_error("Biases must be 1D: %s" % dims_text(bias.shape), op_name)
    if bias.shape[0] != value.shape[-1]:
        raise op_error("Must provide as many biases as the last dimension of the input tensor: "
                       "%s vs. %s" % (dims_text(bias.shape), dims_text(value.shape)), op_name)


@register_op("BiasActivation", dtypes=FLOATS)
def _bias_activation(value, bias, activation):
    """act(value + bias) in one pass (csrc/): the bias row repeats along the leading axes."""
    _check_bias(value, bias, "BiasActivation")
    return K.bias_activation(value, bias, activation)


def bias_activation(value, bias, activation="linear", name=None):
    """Fused act(value + bias) for Dense layers, act one of "linear", "relu", "sigmoid": one
    pass forward, and one backward pass giving both the input and the bias gradients.

    Not a TensorFlow name (TensorFlow fuses these in its graph compiler); tf.nn.bias_add is the
    "linear" case. Results equal activation(tf.nn.bias_add(value, bias))."""
    if activation not in _BIAS_ACTIVATIONS:
        raise ValueError("bias_activation: activation must be one of %s, got %r"
                         % (", ".join(_BIAS_ACTIVATIONS), activation))
    return _bias_activation(value, bias, activation=activation)


@register_op("BiasAdd", dtypes=FLOATS)
def _bias_add(value, bias):
    """value + bias in one pass (csrc/); TensorFlow's shape rules and op name in errors."""
    _check_bias(value, bias, "BiasAdd")
    return K.bias_activation(value, bias, "linear")


def bias_add(value, bias, data_format=None, name=None):
    """tf.nn.bias_add: value + bias, bias a 1-D row of value's last dimension (channels last)."""
    if data_format not in (None, "NHWC", "N...C"):
        raise NotImplementedError("bias_add: only channels-last data (data_format None or "
                                  "'NHWC') is supported, got data_format=%r" % (data_format,))
    return _bias_add(value, bias)


@register_gradient("BiasAdd")
def _bias_add_grad(op, dy):
    """dvalue = dy, dbias = dy summed over the leading axes."""
    return dy, (_math.sum_to_shape(dy, op.inputs[1]._value.shape) if op.needs_grad[1] else None)


@register_gradient("BiasActivation")
def _bias_activation_grad(op, dy):
    """dz = dy * act'(z) from the saved output y (linear: 1; relu: y > 0; sigmoid: y (1 - y));
    dvalue = dz, dbias = dz summed over the leading axes: one pass (BiasActivationGrad)."""
    activation = op.attrs["activation"]
    if activation == "linear":  # dz is dy itself: no copy, only the row sums
        return _bias_add_grad(op, dy)
    return _bias_activation_grad_op(op.outputs[0], dy, activation=activation)


@register_op("BiasActivationGrad", dtypes=FLOATS)
def _bias_activation_grad_op(y, dy, activation):
    """(dz, dbias): dz = dy * act'(y) and its sums over the leading axes, in one pass."""
    check_same_shape(y, dy, "BiasActivationGrad")
    return K.bias_activation_backward(y, dy, activation, np.empty(y.shape[-1:], y.dtype))


@register_gradient("BiasActivationGrad")
def _bias_activation_grad_grad(op, gdz, gdb):
    """With g = gdz + gdb (the row sum's gradient broadcasts back): d(dy) = act'(y) * g, and
    d(y) = g * dy * (1 - 2y) for sigmoid (0 for linear and relu, piecewise linear in y)."""
    y, dy = op.inputs
    activation = op.attrs["activation"]
    g = _math.add(gdz, gdb)
    gy = gdy = None
    if op.needs_grad[1]:
        gdy = g if activation == "linear" else _bias_activation_grad_op(
            y, g, activation=activation)[0]
    if op.needs_grad[0] and activation == "sigmoid":
        gy = _math.multiply(_math.multiply(g, dy), _math.subtract(1, _math.multiply(2, y)))
    return gy, gdy


# -- matmul fused with the bias add and an activation (Dense) -------------------------------------
_matmul_forward = _math._matmul.op_def.forward  # MatMul's checks and gemm, without a tape entry


@register_op("_FusedMatMul", dtypes=FLOATS)
def _fused_matmul(a, b, bias, activation):
    """act(a @ b + bias) for matrices a and b: the gemm, then bias and activation in one pass
    over its output, in place. The product is never a tensor of its own, so no tape holds it:
    one (m, n) array less per Dense layer and step (TensorFlow's grappler fuses the same ops
    into _FusedMatMul)."""
    for i, m in enumerate((a, b)):
        if m.ndim != 2:
            raise op_error("In[%d] is not a matrix. Instead it has shape %s"
                           % (i, dims_text(m.shape)), "_FusedMatMul")
    y = _matmul_forward(a, b)
    _check_bias(y, bias, "_FusedMatMul")
    return K.bias_activation(y, bias, activation, y)


def fused_matmul(a, b, bias, activation="linear", name=None):
    """Fused act(a @ b + bias) for Dense layers, a and b 2-D, act one of "linear", "relu",
    "sigmoid"; backward: one pass for the activation's and the bias's gradients
    (BiasActivationGrad), then one gemm per needed matrix gradient, transposes as flags.

    Not a TensorFlow API name. Results equal activation(tf.nn.bias_add(tf.matmul(a, b), bias))."""
    if activation not in _BIAS_ACTIVATIONS:
        raise ValueError("fused_matmul: activation must be one of %s, got %r"
                         % (", ".join(_BIAS_ACTIVATIONS), activation))
    return _fused_matmul(a, b, bias, activation=activation)


@register_gradient("_FusedMatMul")
def _fused_matmul_grad(op, dy):
    """dz = dy * act'(y) and dbias = dz summed over rows, in one pass (BiasActivationGrad; for
    linear dz is dy itself); da = dz @ b^T, db = a^T @ dz."""
    a, b, bias = op.inputs
    need = op.needs_grad
    activation = op.attrs["activation"]
    if activation == "linear":
        dz = dy
        dbias = _math.sum_to_shape(dy, bias._value.shape) if need[2] else None
    else:
        dz, dbias = _bias_activation_grad_op(op.outputs[0], dy, activation=activation)
    return (_math._matmul(dz, b, transpose_a=False, transpose_b=True) if need[0] else None,
            _math._matmul(a, dz, transpose_a=True, transpose_b=False) if need[1] else None,
            dbias if need[2] else None)


# -- leaky relu ----------------------------------------------------------------------------------
@register_op("LeakyRelu", dtypes=FLOATS)
def _leaky_relu(features, alpha):
    return np.where(features > 0, features, features * features.dtype.type(alpha))


def leaky_relu(features, alpha=0.2, name=None):
    """features where features > 0, else alpha * features. Integer input is cast to float32,
    as TensorFlow does."""
    x = convert_to_tensor(features)
    if x.dtype.is_integer:
        x = _array.cast(x, _dt.float32)
    if isinstance(alpha, np.ndarray):
        alpha = alpha.item()
    return _leaky_relu(x, alpha=float(alpha))


@register_gradient("LeakyRelu")
def _leaky_relu_grad(op, dy):
    """dx = dy where x > 0 else alpha * dy (the slope at 0 is alpha, as TensorFlow)."""
    return (_leaky_relu_grad_op(dy, op.inputs[0], alpha=op.attrs["alpha"]),)


@register_op("LeakyReluGrad", dtypes=FLOATS)
def _leaky_relu_grad_op(gradients, features, alpha):
    check_same_shape(gradients, features, "LeakyReluGrad")
    return np.where(features > 0, gradients, gradients * gradients.dtype.type(alpha))


@register_gradient("LeakyReluGrad")
def _leaky_relu_grad_grad(op, g):
    """Linear in `gradients`; piecewise constant in features (no gradient)."""
    return _leaky_relu_grad_op(g, op.inputs[1], alpha=op.attrs["alpha"]), None


# -- softplus ------------------------------------------------------------------------------------
@register_op("Softplus", dtypes=FLOATS)
def softplus(features):
    """log(1 + exp(x)) computed as log1p(exp(-|x|)) + max(x, 0): exp never overflows."""
    x = features
    with np.errstate(invalid="ignore"):
        return np.log1p(np.exp(-np.abs(x))) + np.maximum(x, x.dtype.type(0))


@register_gradient("Softplus")
def _softplus_grad(op, dy):
    """dx = dy * sigmoid(x)."""
    return (_math.multiply(dy, _math.sigmoid(op.inputs[0])),)


# -- softmax, log_softmax ------------------------------------------------------------------------
@register_op("Softmax", dtypes=FLOATS)
def _softmax(logits, axis):
    if axis == logits.ndim - 1 and logits.dtype in _KERNEL_DTYPES:  # rows in csrc/nn.pyx
        return K.softmax_forward(logits, np.empty_like(logits), logits.shape[-1])
    _, e, total = _shifted_exp(logits, axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return e / total


def softmax(logits, axis=None, name=None):
    """exp(x) / sum(exp(x), axis), computed from x - max(x) so that nothing overflows."""
    x = convert_to_tensor(logits)
    return _softmax(x, axis=_check_axis(axis, x.ndim, "Softmax"))


@register_gradient("Softmax")
def _softmax_grad(op, dy):
    """dx = y * (dy - sum(dy * y, axis, keepdims))."""
    return (_softmax_vjp(op.outputs[0], dy, op.attrs["axis"]),)


@register_op("LogSoftmax", dtypes=FLOATS)
def _log_softmax(logits, axis):
    shifted, _, total = _shifted_exp(logits, axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return shifted - np.log(total)


def log_softmax(logits, axis=None, name=None):
    """x - log(sum(exp(x), axis)), computed from x - max(x) so that nothing overflows."""
    x = convert_to_tensor(logits)
    return _log_softmax(x, axis=_check_axis(axis, x.ndim, "LogSoftmax"))


@register_gradient("LogSoftmax")
def _log_softmax_grad(op, dy):
    """dx = dy - exp(y) * sum(dy, axis, keepdims), where exp(y) = softmax(x)."""
    x, axis = op.inputs[0], op.attrs["axis"]
    total = _math.sum_to_shape(dy, _keep_shape(x._value.shape, axis))
    return (_math.subtract(dy, _math.multiply(_softmax(x, axis=axis), total)),)


# -- sigmoid cross-entropy -----------------------------------------------------------------------
@register_op("SigmoidCrossEntropyWithLogits", dtypes=FLOATS)
def _sigmoid_xent(logits, labels):
    x, z = logits, labels
    with np.errstate(invalid="ignore", over="ignore"):
        return (np.maximum(x, x.dtype.type(0)) - x * z) + np.log1p(np.exp(-np.abs(x)))


def sigmoid_cross_entropy_with_logits(labels=None, logits=None, name=None):
    """Elementwise -z*log(sigmoid(x)) - (1-z)*log(1-sigmoid(x)) for labels z and logits x,
    computed stably as max(x, 0) - x*z + log1p(exp(-|x|))."""
    if labels is None or logits is None:
        raise ValueError("Both `labels` and `logits` must be provided for "
                         "sigmoid_cross_entropy_with_logits. Received: labels=%r and logits=%r"
                         % (labels, logits))
    x, z = convert_inputs((logits, labels), _sigmoid_xent.op_def)
    if x._value.shape != z._value.shape:
        raise ValueError("`logits` and `labels` must have the same shape, received (%s vs %s)."
                         % (x.shape, z.shape))
    return _sigmoid_xent(x, z)


@register_gradient("SigmoidCrossEntropyWithLogits")
def _sigmoid_xent_grad(op, dy):
    """dlogits = dy * (sigmoid(x) - z); dlabels = -dy * x."""
    x, z = op.inputs
    gx = _math.multiply(dy, _math.subtract(_math.sigmoid(x), z)) if op.needs_grad[0] else None
    gz = _math.negative(_math.multiply(dy, x)) if op.needs_grad[1] else None
    return gx, gz


# -- softmax cross-entropy -----------------------------------------------------------------------
@register_op("SoftmaxCrossEntropyWithLogits", dtypes=FLOATS)
def _softmax_xent(logits, labels, axis):
    """(loss, backprop): loss = sum(labels * (logsumexp(x) - x)) and backprop = softmax - labels,
    both from one pass over each row (csrc/nn.pyx), the class axis moved last first."""
    if logits.shape != labels.shape:
        raise op_error("logits and labels must be broadcastable: logits_size=%s labels_size=%s"
                       % (dims_text(logits.shape), dims_text(labels.shape)),
                       "SoftmaxCrossEntropyWithLogits")
    last = logits.ndim - 1
    if axis != last:
        logits = contiguous(np.moveaxis(logits, axis, -1))
        labels = contiguous(np.moveaxis(labels, axis, -1))
    loss = np.empty(logits.shape[:-1], dtype=logits.dtype)
    backprop = np.empty_like(logits)
    K.softmax_xent_forward(logits, labels, loss, backprop, logits.shape[-1])
    if axis != last:
        backprop = contiguous(np.moveaxis(backprop, -1, axis))
    return loss, backprop


def softmax_cross_entropy_with_logits(labels, logits, axis=-1, name=None):
    """Per-row -sum(labels * log_softmax(logits), axis): the loss has logits' shape without
    `axis`. labels must have logits' shape (each row a probability distribution)."""
    x, z = convert_inputs((logits, labels), _softmax_xent.op_def)
    axis = _check_axis(axis, x.ndim, "SoftmaxCrossEntropyWithLogits")
    return _softmax_xent(x, z, axis=axis)[0]


def _xent_logits_grad(op, dloss, dbackprop):
    """dlogits = dloss * backprop, plus (for second derivatives through backprop) the softmax
    vector-Jacobian product of dbackprop."""
    logits, axis = op.inputs[0], op.attrs["axis"]
    grad = _math.multiply(_expand(dloss, logits, axis), op.outputs[1])
    # The tape passes zeros for an unused backprop output: skip that term in plain training.
    if dbackprop._value.any():
        grad = _math.add(grad, _softmax_vjp(_softmax(logits, axis=axis), dbackprop, axis))
    return grad


@register_gradient("SoftmaxCrossEntropyWithLogits")
def _softmax_xent_grad(op, dloss, dbackprop):
    """dlogits = dloss * (softmax - labels); dlabels = -dloss * log_softmax(logits)
    (each plus the term from backprop = softmax - labels when that output is differentiated)."""
    logits, axis = op.inputs[0], op.attrs["axis"]
    gx = _xent_logits_grad(op, dloss, dbackprop) if op.needs_grad[0] else None
    gz = None
    if op.needs_grad[1]:
        gz = _math.multiply(_expand(dloss, logits, axis), _log_softmax(logits, axis=axis))
        gz = _math.negative(_math.add(gz, dbackprop))
    return gx, gz


# -- sparse softmax cross-entropy ----------------------------------------------------------------
@register_op("SparseSoftmaxCrossEntropyWithLogits", same_dtype=False)
def _sparse_softmax_xent(logits, labels, axis):
    """(loss, backprop): loss = logsumexp(x) - x[label] and backprop = softmax - one_hot(label),
    from one pass over each row (csrc/nn.pyx)."""
    n = logits.shape[-1]
    loss = np.empty(logits.shape[:-1], dtype=logits.dtype)
    backprop = np.empty_like(logits)
    labels64 = contiguous(labels.astype(np.int64, copy=False))
    bad = K.sparse_softmax_xent_forward(logits, labels64, loss, backprop, n)
    if bad >= 0:
        raise op_error("Received a label value of %d which is outside the valid range of [0, %d)."
                       "  Label values: %s" % (labels.flat[bad], n,
                                               " ".join(str(v) for v in labels.flat)),
                       "SparseSoftmaxCrossEntropyWithLogits")
    return loss, backprop


def _check_sparse_args(x, z):
    """TensorFlow's dtype and shape rules for the sparse cross-entropy's logits and labels."""
    name = "SparseSoftmaxCrossEntropyWithLogits"
    if x.dtype not in FLOATS:
        raise InvalidArgumentError(None, name, dtype_not_allowed(x.dtype, FLOATS, name))
    if z.dtype not in (_dt.int32, _dt.int64):
        raise op_error("Value for attr 'Tlabels' of %s is not in the list of allowed values: "
                       "int32, int64 ; NodeDef: {{node %s}}\nHint: sparse labels are class "
                       "indices; use tf.cast(labels, tf.int32), or "
                       "softmax_cross_entropy_with_logits for one-hot or probability labels."
                       % (z.dtype.name, name), name)
    if z.ndim != x.ndim - 1:
        raise ValueError("`labels.shape.rank` must equal `logits.shape.rank - 1`. Received: "
                         "labels.shape=%s of rank %d and logits.shape=%s of rank %d"
                         % (z.shape, z.ndim, x.shape, x.ndim))
    if z._value.shape != x._value.shape[:-1]:
        if x.ndim == 2:
            raise op_error("logits and labels must have the same first dimension, got logits "
                           "shape %s and labels shape %s"
                           % (dims_text(x._value.shape), dims_text(z._value.shape)), name)
        raise ValueError("`labels.shape` must equal `logits.shape` except for the last "
                         "dimension. Received: labels.shape=%s and logits.shape=%s"
                         % (z.shape, x.shape))


def sparse_softmax_cross_entropy_with_logits(labels=None, logits=None, name=None):
    """Per-row -log_softmax(logits)[label] for integer class labels of shape
    logits.shape[:-1]; a label outside [0, num_classes) raises InvalidArgumentError."""
    if labels is None or logits is None:
        raise ValueError("Both `labels` and `logits` must be provided for "
                         "sparse_softmax_cross_entropy_with_logits. Received: labels=%r and "
                         "logits=%r" % (labels, logits))
    x, z = convert_to_tensor(logits), convert_to_tensor(labels)
    _check_sparse_args(x, z)
    return _sparse_softmax_xent(x, z, axis=x.ndim - 1)[0]


@register_gradient("SparseSoftmaxCrossEntropyWithLogits")
def _sparse_softmax_xent_grad(op, dloss, dbackprop):
    """dlogits = dloss * (softmax - one_hot(labels)); labels get no gradient."""
    return _xent_logits_grad(op, dloss, dbackprop), None


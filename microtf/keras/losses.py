"""tf.keras.losses: cross-entropies and regression losses as functions (per-sample values) and
classes (reduced over the batch); imports microtf.ops and keras.backend.

Everything is built from microtf ops, so a GradientTape differentiates the losses. From logits
the cross-entropies call the fused, stable tf.nn ops; from probabilities they clip to
[eps, 1 - eps] and take logs, exactly as Keras 3 does (so a saturated softmax gives a large but
finite loss and a zero gradient instead of inf/nan).
"""
import warnings

from ..eager.registry import convert_to_tensor
from ..framework import dtypes
from ..ops import array_ops, math_ops, nn_ops, reduction_ops
from . import activations
from .backend import epsilon
from .naming import to_snake_case, unique_name

__all__ = ["Loss", "LossFunctionWrapper", "SparseCategoricalCrossentropy",
           "CategoricalCrossentropy", "BinaryCrossentropy", "MeanSquaredError",
           "MeanAbsoluteError", "sparse_categorical_crossentropy", "categorical_crossentropy",
           "binary_crossentropy", "mse", "MSE", "mae", "MAE", "get", "serialize", "deserialize"]


def _tensor(x, dtype=None):
    """x as a Tensor, cast to `dtype` if given (Keras's convert_to_tensor(x, dtype))."""
    t = convert_to_tensor(x)
    if dtype is not None and t.dtype is not dtypes.as_dtype(dtype):
        t = array_ops.cast(t, dtype)
    return t


def squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1=True):
    """Keras's rank matching: when ranks differ by one and the longer one ends in a size-1
    axis, drop that axis (or, for a rank-1 partner, add one to the partner)."""
    r1, r2 = x1.ndim, x2.ndim
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1 and expand_rank_1:
            x2 = array_ops.expand_dims(x2, -1)
        else:
            x1 = array_ops.squeeze(x1, -1)
    elif r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1 and expand_rank_1:
            x1 = array_ops.expand_dims(x1, -1)
        else:
            x2 = array_ops.squeeze(x2, -1)
    return x1, x2


def _check_same_shape(target, output, rank_too=True):
    """Keras's ValueErrors for cross-entropy arguments whose shapes differ."""
    t, o = target.shape, output.shape
    if rank_too and t.rank != o.rank:
        raise ValueError("Arguments `target` and `output` must have the same rank (ndim). "
                         "Received: target.shape=%s, output.shape=%s" % (t, o))
    if tuple(t) != tuple(o):
        raise ValueError("Arguments `target` and `output` must have the same shape. Received: "
                         "target.shape=%s, output.shape=%s" % (t, o))


# -- per-sample cross-entropies (Keras's backend level) --------------------------------------------
def _get_logits(output, from_logits, op_type, fn_name):
    """Keras 3's _get_logits (TensorFlow backend): an `output` made by the Keras softmax or
    sigmoid activation (or, in fit/evaluate's traced steps, by tf.nn.softmax / tf.sigmoid as an
    activation) is replaced by that activation's input, used as logits: the loss is then the
    fused, stable from-logits one, eagerly too (a GradientTape loop, a loss called by hand).
    As in Keras, any stored logits are used, whichever activation stored them."""
    logits = activations.stored_logits(output)
    if logits is None:
        return output, from_logits
    if from_logits:
        warnings.warn('"`%s` received `from_logits=True`, but the `output` argument was produced '
                      "by a %s activation and thus does not represent logits. Was this "
                      'intended?"' % (fn_name, op_type), UserWarning, stacklevel=4)
    return _tensor(logits, output.dtype), True


def _categorical(target, output, from_logits, axis):
    """-sum(target * log(p), axis) with p = softmax(logits) (fused, stable) or, from
    probabilities, p = clip(output / sum(output), eps, 1 - eps)."""
    if target.ndim < 1:
        raise ValueError("Arguments `target` and `output` must be at least rank 1. Received: "
                         "target.shape=%s, output.shape=%s" % (target.shape, output.shape))
    _check_same_shape(target, output)
    output, from_logits = _get_logits(output, from_logits, "Softmax", "categorical_crossentropy")
    if from_logits:
        return nn_ops.softmax_cross_entropy_with_logits(labels=target, logits=output, axis=axis)
    with_total = reduction_ops.reduce_sum(output, axis=axis, keepdims=True)
    p = math_ops.clip_by_value(math_ops.divide(output, with_total), epsilon(), 1 - epsilon())
    return math_ops.negative(reduction_ops.reduce_sum(
        math_ops.multiply(target, math_ops.log(p)), axis=axis))


def _sparse_categorical(target, output, from_logits, axis):
    """-log_softmax(logits)[target]; from probabilities the logits are log(clip(p, eps, 1-eps)),
    which (as in Keras) also renormalizes rows that do not sum to one."""
    if axis not in (-1, output.ndim - 1):
        raise ValueError("Only axis=-1 is currently supported. Received: axis=%s" % (axis,))
    output, from_logits = _get_logits(output, from_logits, "Softmax",
                                      "sparse_categorical_crossentropy")
    target = array_ops.cast(target, dtypes.int64)
    # Array shapes (tuples) in the checks: a TensorShape per check cost more than the checks.
    t_shape, o_shape = target._value.shape, output._value.shape
    if len(t_shape) == len(o_shape) and t_shape and t_shape[-1] == 1:
        target = array_ops.squeeze(target, -1)
        t_shape = t_shape[:-1]
    if output.ndim < 1:
        raise ValueError("Argument `output` must be at least rank 1. Received: output.shape=%s"
                         % (output.shape,))
    if target.ndim != output.ndim - 1:
        raise ValueError(
            "Argument `output` must have rank (ndim) `target.ndim - 1`. Received: "
            "target.shape=%s, output.shape=%s\nHint: sparse targets are class indices, one per "
            "sample; for one-hot targets use categorical_crossentropy."
            % (target.shape, output.shape))
    if t_shape != o_shape[:-1]:
        raise ValueError("Arguments `target` and `output` must have the same shape up until the"
                         " last dimension: target.shape=%s, output.shape=%s"
                         % (target.shape, output.shape))
    if not from_logits:
        output = math_ops.log(math_ops.clip_by_value(output, epsilon(), 1 - epsilon()))
    return nn_ops.sparse_softmax_cross_entropy_with_logits(labels=target, logits=output)


def _binary(target, output, from_logits):
    """Elementwise -(t log(p) + (1 - t) log(1 - p)): from logits the stable
    sigmoid_cross_entropy_with_logits, from probabilities p clipped to [eps, 1 - eps]."""
    _check_same_shape(target, output)
    output, from_logits = _get_logits(output, from_logits, "Sigmoid", "binary_crossentropy")
    if from_logits:
        return nn_ops.sigmoid_cross_entropy_with_logits(labels=target, logits=output)
    p = math_ops.clip_by_value(output, epsilon(), 1 - epsilon())
    bce = math_ops.add(math_ops.multiply(target, math_ops.log(p)),
                       math_ops.multiply(math_ops.subtract(1, target),
                                         math_ops.log(math_ops.subtract(1, p))))
    return math_ops.negative(bce)


# -- loss functions (per sample) -------------------------------------------------------------------
def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None,
                                    axis=-1):
    """Per-sample -log(p[y_true]) for integer class labels y_true of shape y_pred.shape[:-1]
    (or with a trailing 1). d/dlogits = softmax(logits) - one_hot(y_true)."""
    if ignore_class is not None:
        raise NotImplementedError("sparse_categorical_crossentropy(ignore_class=...) is not "
                                  "supported by microtf yet.")
    y_pred = _tensor(y_pred)
    return _sparse_categorical(_tensor(y_true), y_pred, from_logits, axis)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Per-sample -sum(y_true * log(p), axis) for one-hot (or probability) targets.
    d/dlogits = softmax(logits) * sum(y_true) - y_true."""
    if isinstance(axis, bool):
        raise ValueError("`axis` must be of type `int`. Received: axis=%r of type %s"
                         % (axis, type(axis)))
    y_pred = _tensor(y_pred)
    y_true = _tensor(y_true, y_pred.dtype)
    if y_pred.ndim and y_pred.shape[-1] == 1:
        warnings.warn("In loss categorical_crossentropy, expected y_pred.shape to be "
                      "(batch_size, num_classes) with num_classes > 1. Received: "
                      "y_pred.shape=%s. Consider using 'binary_crossentropy' if you only have "
                      "2 classes." % (y_pred.shape,), SyntaxWarning, stacklevel=2)
    if label_smoothing:
        classes = y_true.shape[-1]
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / classes
    return _categorical(y_true, y_pred, from_logits, axis)


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Mean over `axis` of -(y log(p) + (1 - y) log(1 - p)).
    d/dlogits = (sigmoid(logits) - y) / n."""
    y_pred = _tensor(y_pred)
    y_true = _tensor(y_true, y_pred.dtype)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    return reduction_ops.reduce_mean(_binary(y_true, y_pred, from_logits), axis=axis)


def mse(y_true, y_pred):
    """Per-sample mean((y_true - y_pred)^2, axis=-1). d/dy_pred = 2 (y_pred - y_true) / n."""
    y_pred = _tensor(y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(_tensor(y_true, y_pred.dtype), y_pred)
    return reduction_ops.reduce_mean(math_ops.square(math_ops.subtract(y_true, y_pred)), axis=-1)


def mae(y_true, y_pred):
    """Per-sample mean(|y_true - y_pred|, axis=-1). d/dy_pred = sign(y_pred - y_true) / n."""
    y_pred = _tensor(y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(_tensor(y_true, y_pred.dtype), y_pred)
    return reduction_ops.reduce_mean(math_ops.abs(math_ops.subtract(y_true, y_pred)), axis=-1)


MSE = mse
MAE = mae


def __getattr__(name):
    # Keras 3's tf.keras.losses keeps only the short names; say so instead of a bare error.
    short = {"mean_squared_error": ("mse", "MeanSquaredError"),
             "mean_absolute_error": ("mae", "MeanAbsoluteError")}
    if name in short:
        raise AttributeError(
            "module %r has no attribute %r (as in Keras 3's tf.keras). Hint: use "
            "tf.keras.losses.%s(y_true, y_pred) or tf.keras.losses.%s(); the string %r still "
            "works in model.compile(loss=...)." % (__name__, name, short[name][0],
                                                  short[name][1], name))
    raise AttributeError("module %r has no attribute %r" % (__name__, name))


# -- classes (reduced) ----------------------------------------------------------------------------
_REDUCTIONS = ("sum_over_batch_size", "sum", None, "none", "mean", "mean_with_sample_weight")


class Loss:
    """Base loss: __call__(y_true, y_pred, sample_weight=None) casts both to the loss dtype
    (float32), computes per-sample values with `call`, weights and reduces them
    ('sum_over_batch_size', the default, is the mean)."""

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        if reduction not in _REDUCTIONS:
            raise ValueError("Invalid value for argument `reduction`. Expected one of %s. "
                             "Received: reduction=%r" % (set(_REDUCTIONS), reduction))
        self.name = name or unique_name(to_snake_case(type(self).__name__))
        self.reduction = reduction
        self._dtype = dtypes.as_dtype(dtype or "float32")

    @property
    def dtype(self):
        """The name of the dtype the loss computes in ('float32')."""
        return self._dtype.name

    def __call__(self, y_true, y_pred, sample_weight=None):
        values = self.call(_tensor(y_true, self._dtype), _tensor(y_pred, self._dtype))
        if sample_weight is not None:
            weight = _tensor(sample_weight, values.dtype)
            values, weight = squeeze_or_expand_to_same_rank(values, weight)
            values = math_ops.multiply(values, weight)
        return _reduce(values, self.reduction, sample_weight)

    def call(self, y_true, y_pred):
        """Per-sample loss values (subclasses implement it)."""
        raise NotImplementedError

    def get_config(self):
        """The constructor arguments."""
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        """A loss from get_config()'s dict."""
        return cls(**config)

    def __repr__(self):
        return "<%s name=%s>" % (type(self).__name__, self.name)


def _reduce(values, reduction, sample_weight):
    """Keras's reduce_values: a scalar or an empty batch is returned as it is."""
    shape = values._value.shape
    if reduction in (None, "none") or shape == () or shape == (0,):
        return values
    if reduction == "sum_over_batch_size" and values._dtype.is_floating and values._value.size:
        # Keras's sum / count in one op: Mean computes exactly np.sum / n (the same rounding),
        # and its gradient is dy / n, so the tape walks one entry instead of two.
        return reduction_ops.reduce_mean(values)
    total = reduction_ops.reduce_sum(values)
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        divisor = reduction_ops.reduce_sum(_tensor(sample_weight, total.dtype))
        # divide_no_nan: an all-zero weight gives 0, not nan.
        return math_ops.divide(total, divisor) if divisor._value != 0 \
            else math_ops.multiply(total, 0)
    count = values._value.size
    return math_ops.divide(total, count) if count else total


class LossFunctionWrapper(Loss):
    """A loss class around a per-sample function (rank-matched arguments, extra kwargs)."""

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true, y_pred):
        """fn(y_true, y_pred, **kwargs) on rank-matched arguments."""
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
        return dict(super().get_config(), **self._fn_kwargs)


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Mean over the batch of sparse_categorical_crossentropy (integer labels)."""

    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size",
                 name="sparse_categorical_crossentropy", dtype=None):
        super().__init__(sparse_categorical_crossentropy, reduction=reduction, name=name,
                         dtype=dtype, from_logits=from_logits, ignore_class=ignore_class)
        self.from_logits = from_logits


class CategoricalCrossentropy(LossFunctionWrapper):
    """Mean over the batch of categorical_crossentropy (one-hot labels)."""

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_crossentropy", dtype=None):
        super().__init__(categorical_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits


class BinaryCrossentropy(LossFunctionWrapper):
    """Mean over the batch of binary_crossentropy (0/1 labels, one probability or logit each)."""

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="binary_crossentropy", dtype=None):
        super().__init__(binary_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits


class MeanSquaredError(LossFunctionWrapper):
    """Mean over the batch of mse."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error", dtype=None):
        super().__init__(mse, reduction=reduction, name=name, dtype=dtype)


class MeanAbsoluteError(LossFunctionWrapper):
    """Mean over the batch of mae."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error", dtype=None):
        super().__init__(mae, reduction=reduction, name=name, dtype=dtype)


_CLASSES = (SparseCategoricalCrossentropy, CategoricalCrossentropy, BinaryCrossentropy,
            MeanSquaredError, MeanAbsoluteError)
_FUNCTIONS = {"sparse_categorical_crossentropy": sparse_categorical_crossentropy,
              "categorical_crossentropy": categorical_crossentropy,
              "binary_crossentropy": binary_crossentropy,
              "mean_squared_error": mse, "mse": mse, "MSE": mse,
              "mean_absolute_error": mae, "mae": mae, "MAE": mae}


def serialize(loss):
    """{'class_name', 'config'} for a loss object, or the name of a loss function."""
    if isinstance(loss, Loss):
        return {"class_name": type(loss).__name__, "config": loss.get_config()}
    return getattr(loss, "__name__", loss)


def deserialize(config):
    """A loss from serialize()'s output."""
    if isinstance(config, dict):
        cls = {c.__name__: c for c in _CLASSES}.get(config.get("class_name"))
        if cls is None:
            raise ValueError("Could not interpret loss identifier: %r" % (config,))
        return cls.from_config(config.get("config", {}))
    return get(config)


def get(identifier):
    """A loss from a function or class name ('sparse_categorical_crossentropy', 'mse',
    'BinaryCrossentropy', ...), a serialized dict, or a callable (returned as it is)."""
    if identifier is None or (callable(identifier) and not isinstance(identifier, type)):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if isinstance(identifier, str):
        if identifier in _FUNCTIONS:
            return _FUNCTIONS[identifier]
        for cls in _CLASSES:
            if identifier == cls.__name__:
                return cls()
    known = sorted(_FUNCTIONS) + [cls.__name__ for cls in _CLASSES]
    raise ValueError("Could not interpret loss identifier: %r. Known losses: %s"
                     % (identifier, ", ".join(known)))


"""tf.keras.metrics: running means (Mean) and accuracies, Keras 3 style; imports microtf
framework/ops and keras.losses/variables.

Metrics are not differentiated, so they compute with numpy on the inputs' arrays and keep their
state in two float32 variables, `total` and `count`, as Keras does: result() = total / count
(0 before any update), the running mean that Keras's progress bar reports.
"""
import numpy as np

from ..eager.registry import convert_to_tensor
from ..framework import dtypes
from ..framework.tensor import wrap
from .losses import (BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy,
                     binary_crossentropy, categorical_crossentropy, mae, mse,
                     sparse_categorical_crossentropy, squeeze_or_expand_to_same_rank)
from .naming import to_snake_case, unique_name
from .variables import Variable

__all__ = ["Metric", "Mean", "MeanMetricWrapper", "Accuracy", "BinaryAccuracy",
           "CategoricalAccuracy", "SparseCategoricalAccuracy", "MeanSquaredError",
           "MeanAbsoluteError", "accuracy", "binary_accuracy", "categorical_accuracy",
           "sparse_categorical_accuracy", "get", "resolve_accuracy",
           # Keras exports the per-sample losses as metrics too.
           "binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy",
           "mean_squared_error", "mean_absolute_error"]

# keras.metrics keeps the long names that Keras 3 dropped from keras.losses.
mean_squared_error = mse
mean_absolute_error = mae
# Per-sample losses: a running mean of one of them is better when lower (EarlyStopping 'auto').
_LOSS_FUNCTIONS = (binary_crossentropy, categorical_crossentropy,
                   sparse_categorical_crossentropy, mse, mae)


def _array(x, dtype=np.float32):
    """x (Tensor, Variable, array, list) as an ndarray of `dtype`."""
    arr = np.asarray(x._value if hasattr(x, "_value") else x)
    return arr if arr.dtype == dtype else arr.astype(dtype)


def _argmax_last(a, what):
    if a.ndim == 0 or a.shape[-1] == 0:
        raise ValueError("Argument `%s` must have a non-empty last axis (one score per class). "
                         "Received: %s.shape=%s" % (what, what, a.shape))
    return np.argmax(a, axis=-1)


def _same_rank(y_true, y_pred):
    """Keras's squeeze_or_expand_to_same_rank on ndarrays."""
    t, p = squeeze_or_expand_to_same_rank(wrap(y_true), wrap(y_pred))
    return t._value, p._value


# -- per-sample metric functions -----------------------------------------------------------------
def accuracy(y_true, y_pred):
    """Per-sample mean over the last axis of (y_true == y_pred), as float32."""
    y_true, y_pred = _same_rank(_array(y_true), _array(y_pred))
    return wrap(np.mean(np.equal(y_true, y_pred), axis=-1, dtype=np.float32))


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """Per-sample mean over the last axis of (y_true == (y_pred > threshold))."""
    y_true, y_pred = _same_rank(_array(y_true), _array(y_pred))
    hits = np.equal(y_true, (y_pred > np.float32(threshold)).astype(np.float32))
    return wrap(np.mean(hits, axis=-1, dtype=np.float32))


def categorical_accuracy(y_true, y_pred):
    """Per-sample (argmax(y_true) == argmax(y_pred)) for one-hot labels."""
    hits = _argmax_last(_array(y_true), "y_true") == _argmax_last(_array(y_pred), "y_pred")
    return wrap(hits.astype(np.float32))


def sparse_categorical_accuracy(y_true, y_pred):
    """Per-sample (y_true == argmax(y_pred)) for integer labels (shape (n,) or (n, 1))."""
    y_true, y_pred = _array(y_true), _array(y_pred)
    shape = y_true.shape
    if y_true.ndim == y_pred.ndim and y_true.ndim and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    pred = _argmax_last(y_pred, "y_pred").astype(np.float32)
    if y_true.shape != pred.shape and y_true.size and pred.size:
        raise ValueError("Labels of shape %s do not match predictions of shape %s: expected "
                         "labels of shape %s (one class index per sample)."
                         % (shape, y_pred.shape, pred.shape))
    hits = np.equal(y_true, pred).astype(np.float32).reshape(y_true.shape)
    if hits.ndim > 1 and hits.shape[-1] == 1:
        hits = hits[..., 0]
    return wrap(hits)


# -- metric objects -------------------------------------------------------------------------------
class Metric:
    """Base metric: update_state(...) accumulates, result() reads, reset_state() clears;
    calling the metric updates it and returns the result. `_direction` ('up', 'down' or None)
    says which way is better, as in Keras 3: EarlyStopping(mode='auto') reads it."""

    _direction = None

    def __init__(self, name=None, dtype=None):
        self.name = name or unique_name(to_snake_case(type(self).__name__))
        self._dtype = dtypes.as_dtype(dtype or "float32")
        self._variables = []

    @property
    def dtype(self):
        """The name of the dtype the state is kept in ('float32')."""
        return self._dtype.name

    @property
    def variables(self):
        """The state variables, in creation order."""
        return list(self._variables)

    def add_variable(self, shape, initializer="zeros", dtype=None, name=None):
        """A non-trainable state variable (zeros) of this metric."""
        dtype = dtypes.as_dtype(dtype or self._dtype)
        var = Variable(np.zeros(shape, dtype=dtype._np), dtype=dtype, trainable=False,
                       name=name, path="%s/%s" % (self.name, name))
        self._variables.append(var)
        return var

    def reset_state(self):
        """Sets every state variable back to zero."""
        for v in self._variables:
            v.assign(np.zeros(v._value.shape, dtype=v._value.dtype))

    def update_state(self, *args, **kwargs):
        """Accumulates one batch (subclasses implement it)."""
        raise NotImplementedError

    def result(self):
        """The metric's current value as a scalar Tensor (subclasses implement it)."""
        raise NotImplementedError

    def __call__(self, *args, **kwargs):
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        """The constructor arguments."""
        return {"name": self.name, "dtype": self.dtype}

    def __repr__(self):
        return "<%s name=%s>" % (type(self).__name__, self.name)


def _accumulate(var, value):
    """var.assign_add(value) for a scalar state variable and a value of its dtype, without
    assign_add's conversion and checks (fit calls this twice per metric per step)."""
    var._set(np.asarray(var._value + value), False)


class Mean(Metric):
    """The (weighted) mean of every value seen: total / count. Values with more than one axis
    are first averaged per sample (axis 0 counts samples); sample_weight weights samples."""

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable((), name="total")
        self.count = self.add_variable((), name="count")

    def update_state(self, values, sample_weight=None):
        """total += sum(values * sample_weight); count += sum(sample_weight) (or the number of
        samples)."""
        kind = np.dtype(self._dtype._np).type
        values = _array(values, kind)
        if sample_weight is not None:
            weight = _array(sample_weight, kind)
            values, weight = _same_rank(values, weight)
            if values.ndim > weight.ndim:
                values = values.mean(axis=tuple(range(weight.ndim, values.ndim)))
            try:
                weight = np.broadcast_to(weight, values.shape)
            except ValueError:
                raise ValueError("sample_weight of shape %s cannot be broadcast to values of "
                                 "shape %s" % (weight.shape, values.shape)) from None
            values = values * weight
            if weight.ndim > 1:
                weight = weight.mean(axis=tuple(range(1, weight.ndim)))
            count = np.sum(weight, dtype=kind)
        else:
            count = kind(values.shape[0] if values.ndim else 1)
        if values.ndim > 1:
            values = values.mean(axis=tuple(range(1, values.ndim)))
        _accumulate(self.total, np.sum(values, dtype=kind))
        _accumulate(self.count, count)

    def result(self):
        """total / count, or 0 when nothing was counted (divide_no_nan)."""
        count = self.count._value
        with np.errstate(invalid="ignore", divide="ignore"):
            value = self.total._value / count if count != 0 else np.zeros((), count.dtype)
        return wrap(np.asarray(value, dtype=count.dtype))


class MeanMetricWrapper(Mean):
    """The running mean of a per-sample function fn(y_true, y_pred, **kwargs)."""

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(name=name or getattr(fn, "__name__", None), dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs
        if fn in _LOSS_FUNCTIONS:
            self._direction = "down"

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Adds fn(y_true, y_pred) per sample to the running mean."""
        values = self._fn(convert_to_tensor(y_true), convert_to_tensor(y_pred),
                          **self._fn_kwargs)
        super().update_state(values, sample_weight=sample_weight)

    def get_config(self):
        return dict(super().get_config(), **self._fn_kwargs)


class Accuracy(MeanMetricWrapper):
    """How often y_pred equals y_true exactly."""

    _direction = "up"

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(accuracy, name=name, dtype=dtype)


class BinaryAccuracy(MeanMetricWrapper):
    """How often (y_pred > threshold) equals the 0/1 label."""

    _direction = "up"

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(binary_accuracy, name=name, dtype=dtype, threshold=threshold)


class CategoricalAccuracy(MeanMetricWrapper):
    """How often argmax(y_pred) equals argmax of the one-hot label."""

    _direction = "up"

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name=name, dtype=dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often argmax(y_pred) equals the integer label."""

    _direction = "up"

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)


class MeanSquaredError(MeanMetricWrapper):
    """The running mean of mean((y_true - y_pred)^2, axis=-1)."""

    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(mse, name=name, dtype=dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    """The running mean of mean(|y_true - y_pred|, axis=-1)."""

    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(mae, name=name, dtype=dtype)


def resolve_accuracy(loss=None, y_true=None, y_pred=None, name="accuracy"):
    """The accuracy metric that model.compile(metrics=['accuracy']) stands for.

    Keras 3 decides from the shapes of the first batch: one output column -> BinaryAccuracy;
    labels of lower rank than the outputs, or (n, 1) labels with several output columns ->
    SparseCategoricalAccuracy; else CategoricalAccuracy. Without shapes the loss decides
    (binary / sparse categorical / categorical cross-entropy, as Keras 2 did)."""
    if y_true is not None and y_pred is not None:
        t, p = tuple(np.shape(y_true)), tuple(np.shape(y_pred))
        if p and p[-1] == 1:
            return BinaryAccuracy(name=name)
        if len(t) < len(p) or (t and t[-1] == 1 and p and p[-1] > 1):
            return SparseCategoricalAccuracy(name=name)
        return CategoricalAccuracy(name=name)
    loss_fn = getattr(loss, "fn", loss)
    if isinstance(loss, str):
        loss_fn = {"binary_crossentropy": binary_crossentropy,
                   "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
                   }.get(loss, loss)
    if isinstance(loss, BinaryCrossentropy) or loss_fn is binary_crossentropy:
        return BinaryAccuracy(name=name)
    if isinstance(loss, SparseCategoricalCrossentropy) or \
            loss_fn is sparse_categorical_crossentropy:
        return SparseCategoricalAccuracy(name=name)
    if isinstance(loss, CategoricalCrossentropy) or loss_fn is categorical_crossentropy or \
            loss_fn == "categorical_crossentropy":
        return CategoricalAccuracy(name=name)
    raise ValueError("Cannot tell which accuracy 'accuracy' means for loss %r without the "
                     "shapes of y_true and y_pred. Name it: 'binary_accuracy', "
                     "'categorical_accuracy' or 'sparse_categorical_accuracy'." % (loss,))


_CLASSES = (Mean, Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
            MeanSquaredError, MeanAbsoluteError)
_FUNCTIONS = {f.__name__: f for f in (binary_crossentropy, categorical_crossentropy,
                                      sparse_categorical_crossentropy)}


def get(identifier):
    """A metric object from a name ('sparse_categorical_accuracy', 'Mean', 'accuracy', ...),
    a Metric (returned as it is) or a per-sample function (wrapped in a running mean).
    'accuracy' gives the exact-match Accuracy: model.compile resolves it with
    resolve_accuracy instead."""
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if callable(identifier):
        return MeanMetricWrapper(identifier)
    if isinstance(identifier, str):
        for cls in _CLASSES:
            if identifier in (cls.__name__, to_snake_case(cls.__name__)):
                return cls()
        if identifier == "acc":
            return Accuracy(name="acc")
        # Keras's short aliases; the metric keeps the name given (the log key compile uses).
        short = {"mse": MeanSquaredError, "mae": MeanAbsoluteError}.get(identifier.lower())
        if short is not None:
            return short(name=identifier)
        if identifier in _FUNCTIONS:
            return MeanMetricWrapper(_FUNCTIONS[identifier], name=identifier)
    known = sorted({to_snake_case(c.__name__) for c in _CLASSES} | {c.__name__ for c in _CLASSES}
                   | set(_FUNCTIONS) | {"mse", "mae"})
    raise ValueError("Could not interpret metric identifier: %r. Known metrics: %s"
                     % (identifier, ", ".join(known)))

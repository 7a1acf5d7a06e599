"""Model.compile/fit/evaluate/predict and the batch steps (Keras 3's training API); imports
microtf's tape and framework, keras.callbacks and, lazily, keras optimizers/losses/metrics.

Speed matters here: a small model's step is dominated by Python overhead, so fit converts x and y
to float32 arrays once, slices batches as numpy views (no copies) and wraps them, resolves
everything (loss function, metrics, trainable variables) once per call, and computes per-batch
logs only when a callback needs them.
"""
import contextlib
import math
import reprlib

import numpy as np

from ..eager.tape import GradientTape
from ..framework.tensor import Tensor, wrap
from ..framework.variable import Variable as _TFVariable
from . import activations, callbacks as callbacks_module

__all__ = ["Trainer"]


def _to_array(data, label):
    """A model input as a C-contiguous float32 array (converted once per call)."""
    if isinstance(data, (Tensor, _TFVariable)):
        data = data._value
    if not isinstance(data, (np.ndarray, np.generic)):
        raise ValueError("Unrecognized data type: %s=%s (of type %s)\nHint: pass numpy arrays "
                         "or tensors, e.g. np.array(%s)."
                         % (label, reprlib.repr(data), type(data), label))
    if np.ndim(data) == 0:
        raise ValueError("Expected `%s` to have a batch axis, but received a scalar (shape ()). "
                         "Hint: use np.reshape(%s, (1, -1))." % (label, label))
    return np.asarray(data, dtype=np.float32, order="C")  # a copy only when needed


def _check_cardinality(x, y):
    if y is not None and len(x) != len(y):
        raise ValueError("Data cardinality is ambiguous. Make sure all arrays contain the same "
                         "number of samples.'x' sizes: %d\n'y' sizes: %d\n" % (len(x), len(y)))


def _check_positive(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError("Expected `%s` to be a positive integer. Received: %s=%r"
                         % (name, name, value))
    return int(value)


def _unsupported(**given):
    """Raises for arguments Keras has and microtf does not implement yet (rather than ignore)."""
    used = sorted(k for k, v in given.items() if v is not None)
    if used:
        raise NotImplementedError("microtf's Model does not support %s yet. Received: %s"
                                  % (", ".join("`%s`" % k for k in used),
                                     ", ".join("%s=%r" % (k, given[k]) for k in used)))


def _batches(n, batch_size):
    return [(i, min(i + batch_size, n)) for i in range(0, n, batch_size)] or [(0, 0)]


def _labels_fit(y_shape, out_shape, sparse):
    """Whether labels of y_shape can be compared with outputs of out_shape (batch axes aside)."""
    y, out = tuple(y_shape[1:]), tuple(out_shape[1:])
    if sparse:
        return y in (out[:-1], out[:-1] + (1,))
    return y == out or y + (1,) == out or y == out + (1,)


class _RunningMean:
    """The mean of per-batch values weighted by batch size, as Keras's loss tracker."""

    def __init__(self):
        self.total, self.count = 0.0, 0

    def add(self, value, n):
        self.total += value * n
        self.count += n

    def result(self):
        return self.total / self.count if self.count else 0.0


class Trainer:
    """The training API mixed into keras.Model."""

    compiled = False
    _run_eagerly = False
    stop_training = False
    optimizer = None

    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None,
                weighted_metrics=None, run_eagerly=False, steps_per_execution=1,
                jit_compile="auto", auto_scale_loss=True):
        """Sets the optimizer, the loss and the metrics (names or objects) that fit uses."""
        from . import losses, metrics as metrics_module, optimizers
        self.optimizer = optimizers.get(optimizer)
        self.loss = loss
        self._run_eagerly = bool(run_eagerly)
        self._loss_fn = None if loss is None else losses.get(loss)
        if self._loss_fn is not None and not isinstance(self._loss_fn, losses.Loss):
            # A function gives per-sample losses: Keras wraps it to take the batch mean.
            self._loss_fn = losses.LossFunctionWrapper(self._loss_fn)
        name = loss if isinstance(loss, str) else getattr(loss, "name", None) or getattr(
            loss, "__name__", "") or type(loss).__name__
        self._sparse_labels = "sparse" in name.lower()
        if isinstance(metrics, (str, dict)) or metrics is not None and not isinstance(
                metrics, (list, tuple)):
            raise ValueError("Expected `metrics` argument to be a list or tuple. Received: "
                             "metrics=%r" % (metrics,))
        self._metrics = []
        for m in metrics or []:
            # 'accuracy' is resolved from the first batch's shapes, as Keras 3 does.
            obj = None if m in ("accuracy", "acc") else metrics_module.get(m)
            self._metrics.append((m if isinstance(m, str) else obj.name, obj))
        self._loss_tracker = _RunningMean()
        self.compiled = True
        self.stop_training = False

    @property
    def metrics_names(self):
        return ["loss", "compile_metrics"] if self._metrics else ["loss"]

    def _check_compiled(self):
        if not self.compiled:
            raise ValueError("You must call `compile()` before using the model.")
        if self._loss_fn is None:
            raise ValueError("No loss to compute. Provide a `loss` argument in `compile()`.")

    def _check_targets(self, x, y):
        """Builds the model on one sample, checks that the labels fit its output, and picks
        the accuracy metric that 'accuracy' means for these shapes."""
        if not len(x):
            raise ValueError("Expected at least one sample to train or evaluate on, but received "
                             "x with shape %s." % (x.shape,))
        self._mark_data_build()
        out = self(wrap(x[:1]), training=False)
        if any(obj is None for _, obj in self._metrics):
            from .metrics import resolve_accuracy
            self._metrics = [(name, obj or resolve_accuracy(self.loss, y[:1], out, name=name))
                             for name, obj in self._metrics]
        if not _labels_fit(y.shape, tuple(out.shape), self._sparse_labels):
            kind = ("one integer class index per sample, shape %s or %s"
                    % ((None,) + tuple(out.shape[1:-1]), (None,) + tuple(out.shape[1:-1]) + (1,))
                    if self._sparse_labels else "shape %s" % ((None,) + tuple(out.shape[1:]),))
            hint = ("\nHint: one-hot labels go with loss='categorical_crossentropy'; "
                    "integer labels with 'sparse_categorical_crossentropy'."
                    if len(out.shape) == 2 and out.shape[-1] > 1 else "")
            raise ValueError("Labels of shape %s cannot be matched with the model output of "
                             "shape %s for loss %r: expected %s, received y with shape %s.%s"
                             % (y.shape, (None,) + tuple(out.shape[1:]), self.loss, kind,
                                y.shape, hint))

    def _mark_data_build(self):
        # Keras builds a model that fit/evaluate/predict meets unbuilt from its data pipeline,
        # whose batch size is free: summary() then shows None as the batch size.
        if not self.built:
            self._batch_is_none = True

    def _logs(self):
        """{metric: value, 'loss': value} as Python floats, keys sorted as Keras 3 logs."""
        logs = {name: float(m.result()) for name, m in self._metrics}
        logs["loss"] = self._loss_tracker.result()
        return dict(sorted(logs.items()))

    def reset_metrics(self):
        """Resets the loss tracker and the metrics (fit does it at each epoch, evaluate at its
        start; train_on_batch and test_on_batch do not, as in Keras 3)."""
        self._loss_tracker = _RunningMean()
        for _, m in self._metrics:
            if m is not None:  # None: 'accuracy' not resolved yet (no data seen)
                m.reset_state()

    def _step_scope(self):
        """Keras traces fit's and evaluate's steps unless run_eagerly: the losses then see
        through a softmax activation to its logits (activations.compiled_step)."""
        return contextlib.nullcontext() if self._run_eagerly else activations.compiled_step()

    def _train_step(self, xb, yb, variables):
        """One step: loss of a training-mode forward pass, gradients, an optimizer update."""
        with GradientTape() as tape, self._step_scope():
            y_pred = self(xb, training=True)
            loss = self._loss_fn(yb, y_pred)
        grads = tape.gradient(loss, variables)
        self.optimizer.apply_gradients(zip(grads, variables))
        for _, m in self._metrics:
            m.update_state(yb, y_pred)
        return float(loss._value)

    def _test_step(self, xb, yb):
        with self._step_scope():
            y_pred = self(xb, training=False)
            loss = self._loss_fn(yb, y_pred)
        for _, m in self._metrics:
            m.update_state(yb, y_pred)
        return float(loss._value)

    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1):
        """Trains for `epochs` epochs over (x, y) in shuffled batches; returns a History whose
        `history` maps 'loss', the metrics and their 'val_' versions to per-epoch floats."""
        self._check_compiled()
        _unsupported(class_weight=class_weight, sample_weight=sample_weight,
                     steps_per_epoch=steps_per_epoch, validation_steps=validation_steps,
                     validation_batch_size=validation_batch_size,
                     validation_freq=None if validation_freq == 1 else validation_freq)
        batch_size = _check_positive(32 if batch_size is None else batch_size, "batch_size")
        if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
            raise ValueError("Expected `epochs` to be a non-negative integer. Received: "
                             "epochs=%r" % (epochs,))
        x, y = _to_array(x, "x"), _to_array(y, "y")
        _check_cardinality(x, y)
        if not 0 <= validation_split < 1:
            raise ValueError("`validation_split` must be in [0, 1). Received: "
                             "validation_split=%r" % (validation_split,))
        val = None
        if validation_data is not None:
            vx, vy = validation_data[0], validation_data[1]
            val = (_to_array(vx, "validation_data x"), _to_array(vy, "validation_data y"))
            _check_cardinality(*val)
        elif validation_split:
            split = int(math.ceil(len(x) * (1 - validation_split)))  # Keras keeps the last part
            x, y, val = x[:split], y[:split], (x[split:], y[split:])
        self._check_targets(x, y)
        if val is not None:
            self._check_targets(*val)
        spans = _batches(len(x), batch_size)
        params = {"verbose": verbose, "epochs": epochs, "steps": len(spans)}
        verbose = 1 if verbose == "auto" else verbose
        cbs = callbacks_module.CallbackList(callbacks, self, params, add_history=True,
                                            add_progbar=bool(verbose))
        batch_logs = cbs.wants("on_train_batch_end")
        variables = self.trainable_variables
        self.stop_training = False
        cbs.on_train_begin()
        logs = {}
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            cbs.on_epoch_begin(epoch)
            xs, ys = x, y
            if shuffle:
                order = np.random.permutation(len(x))
                xs, ys = x[order], y[order]
            for step, (i, j) in enumerate(spans):
                cbs.batch("on_train_batch_begin", step)
                loss = self._train_step(wrap(xs[i:j]), wrap(ys[i:j]), variables)
                self._loss_tracker.add(loss, j - i)
                if batch_logs:
                    cbs.batch("on_train_batch_end", step, self._logs())
                if self.stop_training:
                    break
            logs = self._logs()
            if val is not None:
                val_logs = self._evaluate_arrays(val[0], val[1], batch_size, cbs)
                logs.update(("val_" + k, v) for k, v in val_logs.items())
            cbs.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        cbs.on_train_end(logs)
        return self.history

    def _evaluate_arrays(self, x, y, batch_size, cbs):
        """The loss and metrics over (x, y) in batches, with the on_test_* hooks."""
        self.reset_metrics()
        cbs.on_test_begin()
        batch_logs = cbs.wants("on_test_batch_end")
        for step, (i, j) in enumerate(_batches(len(x), batch_size)):
            cbs.batch("on_test_batch_begin", step)
            self._loss_tracker.add(self._test_step(wrap(x[i:j]), wrap(y[i:j])), j - i)
            if batch_logs:
                cbs.batch("on_test_batch_end", step, self._logs())
        logs = self._logs()
        cbs.on_test_end(logs)
        return logs

    def _results(self, logs, return_dict):
        """Keras's return value: the logs dict, a float (loss only), or [loss, *metrics]."""
        if return_dict:
            return logs
        if not self._metrics:
            return logs["loss"]
        return [logs["loss"]] + [logs[name] for name, _ in self._metrics]

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False):
        """The loss and metrics over (x, y): [loss, *metrics] as floats, or a dict."""
        self._check_compiled()
        _unsupported(sample_weight=sample_weight, steps=steps)
        batch_size = _check_positive(32 if batch_size is None else batch_size, "batch_size")
        x, y = _to_array(x, "x"), _to_array(y, "y")
        _check_cardinality(x, y)
        self._check_targets(x, y)
        params = {"verbose": verbose, "epochs": 1, "steps": len(_batches(len(x), batch_size))}
        cbs = callbacks_module.CallbackList(callbacks, self, params, add_history=False,
                                            add_progbar=verbose != 0)
        return self._results(self._evaluate_arrays(x, y, batch_size, cbs), return_dict)

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """The model's outputs for x, in batches, as one float32 numpy array."""
        _unsupported(steps=steps)
        batch_size = _check_positive(32 if batch_size is None else batch_size, "batch_size")
        x = _to_array(x, "x")
        spans = _batches(len(x), batch_size)
        params = {"verbose": verbose, "epochs": 1, "steps": len(spans)}
        cbs = callbacks_module.CallbackList(callbacks, self, params, add_history=False,
                                            add_progbar=verbose != 0)
        self._mark_data_build()
        cbs.on_predict_begin()
        outputs = []
        for step, (i, j) in enumerate(spans):
            cbs.batch("on_predict_batch_begin", step)
            outputs.append(self(wrap(x[i:j]), training=False)._value)
            cbs.batch("on_predict_batch_end", step, {"outputs": outputs[-1]})
        cbs.on_predict_end()
        return np.concatenate(outputs).astype(np.float32, copy=False)

    def _batch_arrays(self, x, y):
        self._check_compiled()
        x, y = _to_array(x, "x"), _to_array(y, "y")
        _check_cardinality(x, y)
        self._check_targets(x, y)
        return x, y

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None,
                       return_dict=False):
        """One training step on (x, y). As in Keras 3 the loss and metrics returned are running
        means since the last reset (fit, evaluate or model.reset_metrics()), not this batch's
        alone: call model.reset_metrics() first to see one batch's values."""
        _unsupported(sample_weight=sample_weight, class_weight=class_weight)
        x, y = self._batch_arrays(x, y)
        self._loss_tracker.add(self._train_step(wrap(x), wrap(y), self.trainable_variables),
                               len(x))
        return self._results(self._logs(), return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """The loss and metrics of (x, y) as one batch, without training (running means since
        the last reset, as train_on_batch)."""
        _unsupported(sample_weight=sample_weight)
        x, y = self._batch_arrays(x, y)
        self._loss_tracker.add(self._test_step(wrap(x), wrap(y)), len(x))
        return self._results(self._logs(), return_dict)

    def predict_on_batch(self, x):
        """The model's outputs for x as one batch, a float32 numpy array."""
        return self.predict(x, batch_size=max(len(_to_array(x, "x")), 1), verbose=0)

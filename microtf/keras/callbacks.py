"""keras.callbacks: hooks that fit/evaluate/predict call around epochs and batches (Keras 3's
Callback contract), History, EarlyStopping, TerminateOnNaN, LambdaCallback and the progress
logger; imports keras.progbar only.
"""
import math
import sys
import warnings

from .progbar import Progbar, is_dynamic

__all__ = ["Callback", "CallbackList", "History", "EarlyStopping", "TerminateOnNaN",
           "LambdaCallback", "ProgbarLogger"]

_BATCH_HOOKS = ("on_train_batch_begin", "on_train_batch_end", "on_test_batch_begin",
                "on_test_batch_end", "on_predict_batch_begin", "on_predict_batch_end")


class Callback:
    """Base class: override the hooks you need. `self.model` and `self.params` ({'verbose',
    'epochs', 'steps'}) are set before training starts; `logs` are dicts of Python floats."""

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None): pass
    def on_train_end(self, logs=None): pass
    def on_epoch_begin(self, epoch, logs=None): pass
    def on_epoch_end(self, epoch, logs=None): pass
    def on_batch_begin(self, batch, logs=None): pass
    def on_batch_end(self, batch, logs=None): pass

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs)  # Keras's older name for the training batch hooks

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs)

    def on_test_begin(self, logs=None): pass
    def on_test_end(self, logs=None): pass
    def on_test_batch_begin(self, batch, logs=None): pass
    def on_test_batch_end(self, batch, logs=None): pass
    def on_predict_begin(self, logs=None): pass
    def on_predict_end(self, logs=None): pass
    def on_predict_batch_begin(self, batch, logs=None): pass
    def on_predict_batch_end(self, batch, logs=None): pass

    def _wants(self, hook):
        """Whether this callback overrides `hook`: batch hooks are only called (and batch logs
        only computed) for callbacks that need them, which keeps small-batch training fast."""
        if hook.startswith("on_train_batch") and self._wants(hook.replace("train_", "")):
            return True
        return getattr(type(self), hook) is not getattr(Callback, hook)


class CallbackList:
    """The callbacks of one fit/evaluate/predict call: the user's, then History and the progress
    logger (Keras's order). Batch hooks go only to the callbacks that override them."""

    def __init__(self, callbacks, model, params, add_history=True, add_progbar=False):
        self.callbacks = list(callbacks or [])
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise ValueError("Expected callbacks to be instances of "
                                 "`tf.keras.callbacks.Callback`. Received: %r (of type %s)"
                                 % (cb, type(cb)))
        if add_history and not any(isinstance(cb, History) for cb in self.callbacks):
            self.callbacks.append(History())
        if add_progbar and not any(isinstance(cb, ProgbarLogger) for cb in self.callbacks):
            self.callbacks.append(ProgbarLogger())
        for cb in self.callbacks:
            cb.set_model(model)
            cb.set_params(params)
        self._batch = {hook: [getattr(cb, hook) for cb in self.callbacks if cb._wants(hook)]
                       for hook in _BATCH_HOOKS}

    def wants(self, hook):
        return bool(self._batch[hook])

    def batch(self, hook, batch, logs=None):
        for fn in self._batch[hook]:
            fn(batch, logs)

    def __getattr__(self, hook):
        # on_train_begin, on_epoch_end, ...: call every callback's hook in order.
        if not hook.startswith("on_"):
            raise AttributeError(hook)

        def call(*args):
            for cb in self.callbacks:
                getattr(cb, hook)(*args)
        return call


class History(Callback):
    """Records the epoch logs: `history` maps each key ('loss', 'accuracy', 'val_loss', ...) to
    a list of Python floats, `epoch` lists the epoch indices; fit returns it (model.history)."""

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []
        self.model.history = self

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        self.model.history = self


class EarlyStopping(Callback):
    """Stops training when `monitor` has not improved by more than `min_delta` for `patience`
    epochs; with restore_best_weights, puts back the weights of the best epoch at the end.

    mode='auto' decides at the first epoch's end, as Keras: 'loss' and the metrics that go down
    are minimized, accuracies maximized; other names need mode='min' or mode='max'."""

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        super().__init__()
        if mode not in ("auto", "min", "max"):
            warnings.warn("EarlyStopping mode %s is unknown, fallback to auto mode." % mode,
                          stacklevel=2)
            mode = "auto"
        self.monitor, self.patience, self.verbose, self.mode = monitor, patience, verbose, mode
        self.baseline, self.restore_best_weights = baseline, restore_best_weights
        self.start_from_epoch, self.min_delta = start_from_epoch, abs(min_delta)
        self.wait = self.stopped_epoch = self.best_epoch = 0
        self.best_weights, self._maximize = None, None

    def _set_direction(self):
        """Resolves mode='auto' from the metric (Keras keeps `best` across fit calls too)."""
        if self.mode != "auto":
            self._maximize = self.mode == "max"
        else:
            name = self.monitor[4:] if self.monitor.startswith("val_") else self.monitor
            metric = dict(getattr(self.model, "_metrics", [])).get(name)
            direction = getattr(metric, "_direction", None)
            if direction is not None:
                self._maximize = direction == "up"
            elif name == "loss" or "error" in name or name in ("mse", "mae"):
                self._maximize = False
            elif "acc" in name:
                self._maximize = True
            else:
                raise ValueError("EarlyStopping callback received monitor=%s but microtf isn't "
                                 "able to automatically determine whether that metric should be "
                                 "maximized or minimized. Pass `mode='max'` in order to do early "
                                 "stopping based on the highest metric value, or pass "
                                 "`mode='min'` in order to use the lowest value." % self.monitor)
        if not self._maximize:
            self.min_delta = -self.min_delta
        self.best = -math.inf if self._maximize else math.inf

    def _better(self, value, reference):
        moved = value - self.min_delta
        return moved > reference if self._maximize else moved < reference

    def on_train_begin(self, logs=None):
        self.wait, self.stopped_epoch, self.best_epoch, self.best_weights = 0, 0, 0, None

    def on_epoch_end(self, epoch, logs=None):
        if self._maximize is None:
            self._set_direction()
        current = (logs or {}).get(self.monitor)
        if current is None:
            warnings.warn("Early stopping conditioned on metric `%s` which is not available. "
                          "Available metrics are: %s" % (self.monitor, ",".join(logs or {})),
                          stacklevel=2)
            return
        if epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights, self.best_epoch = self.model.get_weights(), epoch
        self.wait += 1
        if self._better(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._better(current, self.baseline):
                self.wait = 0  # only a new best that also beats the baseline restarts patience
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print("Epoch %d: early stopping" % (self.stopped_epoch + 1))
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print("Restoring model weights from the end of the best epoch: %d."
                      % (self.best_epoch + 1))
            self.model.set_weights(self.best_weights)


class TerminateOnNaN(Callback):
    """Stops training after the first batch whose loss is NaN or infinite."""

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            print("Batch %d: Invalid loss, terminating training" % batch)
            self.model.stop_training = True


class LambdaCallback(Callback):
    """A callback from functions: LambdaCallback(on_epoch_end=lambda epoch, logs: ...)."""

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None,
                 on_train_end=None, on_train_batch_begin=None, on_train_batch_end=None,
                 **kwargs):
        super().__init__()
        given = dict(on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end,
                     on_train_begin=on_train_begin, on_train_end=on_train_end,
                     on_train_batch_begin=on_train_batch_begin or kwargs.pop("on_batch_begin",
                                                                             None),
                     on_train_batch_end=on_train_batch_end or kwargs.pop("on_batch_end", None))
        for hook, fn in list(given.items()) + list(kwargs.items()):
            if not hasattr(Callback, hook) or not hook.startswith("on_"):
                raise TypeError("LambdaCallback got an unknown hook %r" % hook)
            if fn is not None:
                setattr(self, hook, fn)

    def _wants(self, hook):
        return hook in vars(self)


class ProgbarLogger(Callback):
    """Prints Keras's progress bar (verbose=1) or one line per epoch (verbose=2); see progbar.

    Inside fit, the validation pass prints nothing of its own: its values join the epoch line."""

    def __init__(self):
        super().__init__()
        self.progbar = None
        self._in_fit = False
        self._dynamic = is_dynamic(sys.stdout)

    def _verbose(self):
        verbose = self.params.get("verbose", 1)
        return 1 if verbose == "auto" else verbose

    def _wants(self, hook):
        # Without a terminal only the final lines are printed: batch logs are not needed, only
        # the time at which step 1 ended (Keras leaves the first step out of the ms/step).
        if self._verbose() != 1:
            return False
        return hook.endswith("_end") if self._dynamic else hook.endswith("_begin")

    def _step_begins(self, batch, logs=None):
        if batch == 1 and self.progbar is not None:
            self.progbar.first_step_done()

    on_train_batch_begin = on_test_batch_begin = on_predict_batch_begin = _step_begins

    def _start(self):
        self.progbar = Progbar(self.params.get("steps") or 0, verbose=self._verbose())

    def on_train_begin(self, logs=None):
        self._in_fit = True

    def on_train_end(self, logs=None):
        self._in_fit = False

    def on_epoch_begin(self, epoch, logs=None):
        if self._verbose() and self.params.get("epochs", 1) > 1:
            print("Epoch %d/%d" % (epoch + 1, self.params["epochs"]))
        self._start()

    def on_epoch_end(self, epoch, logs=None):
        self.progbar.update(self.progbar.target, logs, finalize=True)

    def on_train_batch_end(self, batch, logs=None):
        self.progbar.update(batch + 1, logs, finalize=False)

    def on_test_begin(self, logs=None):
        if not self._in_fit:
            self._start()

    def on_test_batch_end(self, batch, logs=None):
        if not self._in_fit:
            self.progbar.update(batch + 1, logs, finalize=False)

    def on_test_end(self, logs=None):
        if not self._in_fit:
            self.progbar.update(self.progbar.target, logs, finalize=True)

    on_predict_begin = on_test_begin

    def on_predict_batch_end(self, batch, logs=None):
        self.progbar.update(batch + 1, None, finalize=False)

    def on_predict_end(self, logs=None):
        self.progbar.update(self.progbar.target, None, finalize=True)

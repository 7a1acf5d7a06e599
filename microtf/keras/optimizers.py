"""tf.keras.optimizers: SGD, Adam, RMSprop, Adagrad with Keras 3's update rules; imports
framework, ops._common (error text) and keras.variables/naming.

Design: an update reads each variable's storage array, computes the new value (and the new
optimizer state) with numpy in the variable's dtype, as Keras does, and hands the fresh arrays
to the variables. Variables replace their storage on assignment, so a tensor read from a
variable before the step (and held by a tape) keeps its old value. Nothing is recorded on tapes:
an optimizer step is not differentiable, as in TensorFlow.
"""
import math
import warnings

import numpy as np

from ..framework import dtypes
from ..framework.tensor import Tensor, contiguous
from ..framework.variable import Variable as _TFVariable
from ..ops._common import dims_text, op_error
from .naming import to_snake_case, unique_name
from .variables import Variable

from .. import _kernels  # one-pass Adam and momentum updates (csrc/optim.pyx)

_KERNEL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))

__all__ = ["Optimizer", "SGD", "Adam", "RMSprop", "Adagrad", "get", "serialize",
           "deserialize"]


def _check_learning_rate(value):
    """Keras 3 wants a Python float (or a callable); microtf also refuses negative and
    non-finite rates, which would silently ruin training."""
    if callable(value) and not isinstance(value, _TFVariable):
        return value
    if isinstance(value, bool) or not isinstance(value, float):
        raise ValueError(
            "Argument `learning_rate` should be float, or an instance of LearningRateSchedule, "
            "or a callable (that takes in the current iteration value and returns the "
            "corresponding learning rate value). Received instead: learning_rate=%r\n"
            "Hint: write the rate as a float, e.g. learning_rate=%r." % (value, _as_float(value)))
    if not math.isfinite(value) or value < 0:
        raise ValueError("Argument `learning_rate` must be a finite float >= 0. Received: "
                         "learning_rate=%r" % (value,))
    return value


def _as_float(value):
    try:
        return float(np.asarray(value))
    except (TypeError, ValueError):
        return 0.001


def _gradient_array(grad, var, index):
    """The gradient as an ndarray in the variable's dtype (Keras casts it), shape-checked with
    TensorFlow's AssignSubVariableOp error."""
    arr = grad._value if type(grad) is Tensor else np.asarray(getattr(grad, "_value", grad))
    if arr.dtype != var._value.dtype:
        arr = arr.astype(var._value.dtype)
    if arr.shape != var._value.shape:
        raise op_error(
            "Cannot update variable with shape %s using a Tensor with shape %s, shapes must be "
            "equal. (Hint: gradient %d was paired with variable %r; gradients and variables pair "
            "up in order, as in zip(tape.gradient(loss, vars), vars).)"
            % (dims_text(var._value.shape), dims_text(arr.shape), index, var.name),
            "AssignSubVariableOp")
    return contiguous(arr)  # the update kernels take C-contiguous arrays


_UNSUPPORTED = ("weight_decay", "clipnorm", "clipvalue", "global_clipnorm", "use_ema",
                "ema_overwrite_frequency", "loss_scale_factor", "gradient_accumulation_steps")


def _store(var, arr):
    """Hands a freshly computed array of the variable's shape and dtype to the variable (what
    assign does, without its copy: nobody else holds `arr`)."""
    var._set(arr, False)


class Optimizer:
    """Base optimizer: apply_gradients / apply, iterations, a settable learning_rate, and
    per-variable state ("slots") built on the first apply. Subclasses list their slots in
    `_slot_specs` and compute one variable's update in `_step`."""

    def __init__(self, learning_rate, name=None, **kwargs):
        for key in _UNSUPPORTED:
            if key in kwargs and kwargs[key] in (None, False):
                del kwargs[key]  # Keras's defaults: accepted, nothing to do
            elif key in kwargs:
                raise ValueError("Argument `%s` is not supported by microtf's optimizers yet. "
                                 "Received: %s=%r" % (key, key, kwargs[key]))
        if kwargs:
            raise ValueError("Argument(s) not recognized: %s" % kwargs)
        self.name = unique_name(to_snake_case(type(self).__name__)) if name is None else name
        self._iterations = Variable(np.int64(0), dtype=dtypes.int64, trainable=False,
                                    name="iteration", path="%s/iteration" % self.name)
        learning_rate = _check_learning_rate(learning_rate)
        if callable(learning_rate):
            self._learning_rate = learning_rate
        else:
            self._learning_rate = Variable(np.float32(learning_rate), dtype=dtypes.float32,
                                           trainable=False, name="learning_rate",
                                           path="%s/learning_rate" % self.name)
        self.built = False
        self._trainable_variables = []
        self._index = {}
        self._slots = {}

    # -- state ----------------------------------------------------------------------------------
    @property
    def iterations(self):
        """The int64 Variable counting applied steps."""
        return self._iterations

    @property
    def learning_rate(self):
        """The float32 learning-rate Variable (or the callable's current value)."""
        if isinstance(self._learning_rate, Variable):
            return self._learning_rate
        return self._learning_rate()

    @learning_rate.setter
    def learning_rate(self, value):
        if callable(value) and not isinstance(value, _TFVariable):
            self._learning_rate = value
            return
        rate = _as_float(value) if not isinstance(value, str) else value
        if not isinstance(rate, float) or not math.isfinite(rate) or rate < 0:
            raise ValueError("Argument `learning_rate` must be a finite float >= 0. Received: "
                             "learning_rate=%r" % (value,))
        if isinstance(self._learning_rate, Variable):
            self._learning_rate.assign(np.float32(rate))
        else:
            self._learning_rate = Variable(np.float32(rate), dtype=dtypes.float32,
                                           trainable=False, name="learning_rate",
                                           path="%s/learning_rate" % self.name)

    def _current_learning_rate(self):
        if isinstance(self._learning_rate, Variable):
            return self._learning_rate._value[()]
        return np.float32(_as_float(self._learning_rate()))

    @property
    def variables(self):
        """iterations, learning_rate, then each slot kind for every variable (Keras's order)."""
        out = [self._iterations]
        if isinstance(self._learning_rate, Variable):
            out.append(self._learning_rate)
        for slot in self._slots.values():
            out.extend(slot)
        return out

    def _slot_specs(self):
        """(name, initial value) of each per-variable state array."""
        return ()

    def add_variable_from_reference(self, reference_variable, name=None, initializer=0.0):
        """A non-trainable state variable shaped and typed like `reference_variable`."""
        base = getattr(reference_variable, "path", None)
        base = (base or reference_variable.name).replace("/", "_").replace(":", "_")
        value = np.full(reference_variable._value.shape, initializer,
                        dtype=reference_variable._value.dtype)
        return Variable(value, dtype=reference_variable.dtype, trainable=False,
                        name="%s_%s" % (base, name or "var"),
                        path="%s/%s_%s" % (self.name, base, name or "var"))

    def build(self, var_list):
        """Creates the optimizer state for `var_list` (once); later applies must use only
        these variables."""
        if self.built:
            return
        var_list = list(var_list)
        self._index = {id(v): i for i, v in enumerate(var_list)}
        self._trainable_variables = var_list
        self._slots = {name: [self.add_variable_from_reference(v, name, init) for v in var_list]
                       for name, init in self._slot_specs()}
        self.built = True

    # -- applying -------------------------------------------------------------------------------
    def apply_gradients(self, grads_and_vars):
        """Applies one step from (gradient, variable) pairs (a zip or a list); returns the
        iterations variable."""
        pairs = list(grads_and_vars)
        if not pairs:
            raise ValueError("`apply_gradients` received no (gradient, variable) pairs.")
        grads, variables = zip(*pairs)
        self.apply(grads, variables)
        return self._iterations

    def apply(self, grads, trainable_variables=None):
        """Applies one step: grads pair up in order with `trainable_variables` (or with the
        variables the optimizer was built with). None gradients are skipped with a warning."""
        grads = list(grads)
        if not grads:
            return
        if trainable_variables is None:
            if not self.built:
                raise ValueError("When passing `grads` without `variables`, the optimizer must "
                                 "already be built on a list of variables. Call "
                                 "`optimizer.build(trainable_variables)` first. ")
            if len(grads) != len(self._trainable_variables):
                raise ValueError(
                    "When passing `grads` as a list of gradient tensors, the gradients must "
                    "match `optimizer.variables` one-to-on. Received a list of %d gradients, "
                    "but the optimizer is tracking %d trainable variables."
                    % (len(grads), len(self._trainable_variables)))
            variables = self._trainable_variables
        else:
            variables = list(trainable_variables)
            if not self.built:
                self.build(variables)
            index = self._index
            for v in variables:
                if id(v) not in index:
                    raise ValueError(
                        "Unknown variable: %r. This optimizer can only be called for the "
                        "variables it was originally built with. When working with a new set "
                        "of variables, you should recreate a new optimizer instance." % (v,))
        pairs = [(g, v) for g, v in zip(grads, variables) if g is not None]
        if not pairs:
            raise ValueError("No gradients provided for any variable.")
        if len(pairs) < len(grads):
            missing = [v.name for g, v in zip(grads, variables) if g is None]
            warnings.warn("Gradients do not exist for variables %s when minimizing the loss. If "
                          "using `model.compile()`, did you forget to provide a `loss` argument?"
                          % missing, UserWarning, stacklevel=3)
        # Check every gradient before changing anything, so a bad one leaves all untouched.
        arrays = [_gradient_array(g, v, i) for i, (g, v) in enumerate(pairs)]
        lr = self._current_learning_rate()
        step = int(self._iterations._value) + 1
        slots, index, update = self._slots, self._index, self._step
        # Non-finite gradients give IEEE results (inf/nan weights) as in TF, no warnings. One
        # errstate for all variables: entering it costs as much as a small model's update.
        with np.errstate(all="ignore"):
            for g, (_, var) in zip(arrays, pairs):
                i = index[id(var)]
                w = var._value
                kind = w.dtype.type
                state = {name: slot[i]._value for name, slot in slots.items()} if slots else {}
                new_value, new_state = update(g, w, state, kind(lr), step, kind)
                for name, arr in new_state.items():
                    _store(slots[name][i], arr)
                _store(var, new_value)
        for _, var in pairs:
            if var.constraint is not None:
                var.assign(var.constraint(var))
        _store(self._iterations, np.array(step, dtype=np.int64))  # assign_add without its checks

    def _step(self, g, w, state, lr, step, kind):
        """(new value, {slot: new state}) for one variable; all arrays in the variable's
        dtype `kind`; `step` counts from 1."""
        raise NotImplementedError

    def get_config(self):
        """The constructor arguments (learning_rate as a Python float)."""
        lr = self._learning_rate
        return {"name": self.name,
                "learning_rate": float(lr._value) if isinstance(lr, Variable) else lr}

    @classmethod
    def from_config(cls, config):
        """An optimizer from get_config()'s dict."""
        return cls(**config)

    def __repr__(self):
        return "<%s name=%s, built=%s>" % (type(self).__name__, self.name, self.built)


class SGD(Optimizer):
    """Gradient descent: w -= lr * g; with momentum m = momentum * m - lr * g, then w += m
    (nesterov: w += momentum * m - lr * g)."""

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, name="SGD", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        if isinstance(momentum, bool) or not isinstance(momentum, float) or \
                not 0 <= momentum <= 1:
            raise ValueError("`momentum` must be a float between [0, 1]. Received: momentum=%r"
                             % (momentum,))
        self.momentum = momentum
        self.nesterov = bool(nesterov)

    def _slot_specs(self):
        return (("momentum", 0.0),) if self.momentum != 0 else ()

    def _step(self, g, w, state, lr, step, kind):
        if self.momentum == 0:
            if w.dtype in _KERNEL_DTYPES:
                return _kernels.sgd_update(w, g, lr), {}
            return w - g * lr, {}
        mom = kind(self.momentum)
        if w.dtype in _KERNEL_DTYPES:
            w, m = _kernels.sgd_momentum_update(w, g, state["momentum"], lr, mom, self.nesterov)
            return w, {"momentum": m}
        m = state["momentum"] * mom - g * lr
        if self.nesterov:
            return w + (m * mom - g * lr), {"momentum": m}
        return w + m, {"momentum": m}

    def get_config(self):
        return dict(super().get_config(), momentum=self.momentum, nesterov=self.nesterov)


class Adam(Optimizer):
    """Adam: m += (g - m)(1 - b1); v += (g^2 - v)(1 - b2);
    w -= lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps) (amsgrad: v -> max over steps)."""

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, name="adam", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon
        self.amsgrad = bool(amsgrad)

    def _slot_specs(self):
        specs = (("momentum", 0.0), ("velocity", 0.0))
        return specs + ((("velocity_hat", 0.0),) if self.amsgrad else ())

    def _step(self, g, w, state, lr, step, kind):
        one, t = kind(1), kind(step)
        alpha = lr * np.sqrt(one - kind(self.beta_2) ** t) / (one - kind(self.beta_1) ** t)
        if not self.amsgrad and w.dtype in _KERNEL_DTYPES:
            # One pass, bitwise the numpy formulas below (same dtype, same order, no FMA).
            w, m, v = _kernels.adam_update(w, g, state["momentum"], state["velocity"], alpha,
                                           kind(1 - self.beta_1), kind(1 - self.beta_2),
                                           kind(self.epsilon))
            return w, {"momentum": m, "velocity": v}
        m = g - state["momentum"]
        m *= kind(1 - self.beta_1)
        m += state["momentum"]
        v = np.square(g)
        v -= state["velocity"]
        v *= kind(1 - self.beta_2)
        v += state["velocity"]
        new = {"momentum": m, "velocity": v}
        if self.amsgrad:
            v = new["velocity_hat"] = np.maximum(state["velocity_hat"], v)
        denom = np.sqrt(v)
        denom += kind(self.epsilon)
        return w - (m * alpha) / denom, new

    def get_config(self):
        return dict(super().get_config(), beta_1=self.beta_1, beta_2=self.beta_2,
                    epsilon=self.epsilon, amsgrad=self.amsgrad)


class RMSprop(Optimizer):
    """RMSprop: v = rho v + (1 - rho) g^2; step = lr g / sqrt(v + eps) (centered: a = rho a +
    (1 - rho) g and sqrt(v - a^2 + eps)); with momentum m = momentum m + step, w -= m;
    else w -= step."""

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False,
                 name="rmsprop", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.rho, self.momentum, self.epsilon = rho, momentum, epsilon
        self.centered = bool(centered)

    def _slot_specs(self):
        specs = (("velocity", 0.0),)
        if self.momentum > 0:
            specs += (("momentum", 0.0),)
        if self.centered:
            specs += (("average_gradient", 0.0),)
        return specs

    def _step(self, g, w, state, lr, step, kind):
        rho, rest = kind(self.rho), kind(1 - self.rho)
        v = rho * state["velocity"] + rest * np.square(g)
        new = {"velocity": v}
        if self.centered:
            a = new["average_gradient"] = rho * state["average_gradient"] + rest * g
            denom = v - np.square(a) + kind(self.epsilon)
        else:
            denom = v + kind(self.epsilon)
        increment = (lr * g) / np.sqrt(denom)
        if self.momentum > 0:
            m = new["momentum"] = kind(self.momentum) * state["momentum"] + increment
            return w - m, new
        return w - increment, new

    def get_config(self):
        return dict(super().get_config(), rho=self.rho, momentum=self.momentum,
                    epsilon=self.epsilon, centered=self.centered)


class Adagrad(Optimizer):
    """Adagrad: acc += g^2; w -= lr g / sqrt(acc + eps), acc starting at
    initial_accumulator_value."""

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
                 name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.initial_accumulator_value, self.epsilon = initial_accumulator_value, epsilon

    def _slot_specs(self):
        return (("accumulator", self.initial_accumulator_value),)

    def _step(self, g, w, state, lr, step, kind):
        acc = state["accumulator"] + np.square(g)
        return w - (lr * g) / np.sqrt(acc + kind(self.epsilon)), {"accumulator": acc}

    def get_config(self):
        return dict(super().get_config(),
                    initial_accumulator_value=self.initial_accumulator_value,
                    epsilon=self.epsilon)


_BY_NAME = {cls.__name__.lower(): cls for cls in (SGD, Adam, RMSprop, Adagrad)}


def serialize(optimizer):
    """{'class_name': ..., 'config': ...} for an optimizer."""
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}


def deserialize(config):
    """An optimizer from serialize()'s dict."""
    name = config["class_name"]
    if name.lower() not in _BY_NAME:
        get(name)  # raises the error listing the known names
    return _BY_NAME[name.lower()].from_config(config.get("config", {}))


def get(identifier):
    """An optimizer from a name ('adam', 'SGD', ...), a serialized dict, or an instance."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        cls = _BY_NAME.get(identifier.lower())
        if cls is None:
            raise ValueError("Could not interpret optimizer identifier: %r. Known optimizers: "
                             "%s" % (identifier, ", ".join(repr(n) for n in sorted(_BY_NAME))))
        return cls()
    raise ValueError("Could not interpret optimizer identifier: %r" % (identifier,))

"""keras.layers.Layer: weights, lazy build, sub-layer tracking (Keras 3's contract, kept small).

Imports microtf ops and the keras initializers/variables. The contract, as in Keras 3:
`__init__` stores configuration, `build(input_shape)` creates weights with `add_weight`, `call`
computes; `layer(x)` builds on first use from x's shape (a tuple) and then calls.
"""
import functools
import inspect
import threading
import warnings

import numpy as np

from ... import ops as _ops
from ...eager.registry import convert_to_tensor
from ...framework import dtypes as _dt
from ...framework.tensor import Tensor
from ...framework.variable import Variable as _TFVariable
from .. import initializers
from ..naming import to_snake_case, unique_name
from ..variables import Variable

__all__ = ["Layer"]


class InputShapeWarning(DeprecationWarning, UserWarning):
    """`input_shape=` on a layer: a UserWarning in Keras 3 and a deprecation (use Input)."""


def _user_stacklevel():
    """The stacklevel of the first frame outside microtf, so the warning points at user code."""
    frame, level = inspect.currentframe().f_back, 1
    while frame is not None and frame.f_globals.get("__name__", "").startswith("microtf."):
        frame, level = frame.f_back, level + 1
    return level

class _CallContext(threading.local):
    """Per thread: the names of the layers whose __call__ is running (they prefix weight paths,
    "sequential/dense/kernel") and the `training` value that outer calls pass down."""

    def __init__(self):
        self.scope = []
        self.training = []


_context = _CallContext()

# Bumped by every attribute assignment on any layer, every add_weight and every in-place change
# of a list or dict held by a layer: a layer's cached `weights` list is valid while the count it
# was computed at is current. Global (not per layer) because a change in a sub-layer changes the
# weights of every layer above it. Bumped AFTER each change and read BEFORE each walk, so a walk
# that raced a change (another thread) is cached under a count the change's bump then retires.
_generation = [0]


def _changed():
    _generation[0] += 1


def _mutator(method):
    """A list/dict method that also invalidates the layers' weight caches."""
    @functools.wraps(method)
    def mutate(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        finally:
            _changed()
    return mutate


class _TrackedList(list):
    """A list assigned to a layer attribute (Keras 3 wraps them too): appending a layer or a
    variable to it later is seen by `weights`."""


class _TrackedDict(dict):
    """A dict assigned to a layer attribute; changes are seen by `weights`."""


for _cls, _names in ((_TrackedList, ("append", "extend", "insert", "pop", "remove", "clear",
                                     "sort", "reverse", "__setitem__", "__delitem__", "__iadd__",
                                     "__imul__")),
                     (_TrackedDict, ("__setitem__", "__delitem__", "pop", "popitem", "clear",
                                     "update", "setdefault", "__ior__"))):
    for _name in _names:
        setattr(_cls, _name, _mutator(getattr(_cls.__mro__[1], _name)))


def _is_tensor_like(x):
    return x is None or isinstance(x, (Tensor, _TFVariable, np.ndarray, np.generic))


def _flatten(x):
    if isinstance(x, (list, tuple)):
        return [leaf for item in x for leaf in _flatten(item)]
    if isinstance(x, dict):
        return [leaf for item in x.values() for leaf in _flatten(item)]
    return [x]


def _map(fn, x):
    if isinstance(x, (list, tuple)):
        return type(x)(_map(fn, item) for item in x)
    if isinstance(x, dict):
        return {k: _map(fn, v) for k, v in x.items()}
    return fn(x)


def _shape_of(x):
    """The build shape of an input: a tuple for a tensor, the same structure for nested ones."""
    if isinstance(x, (list, tuple)):
        return [_shape_of(item) for item in x]
    if isinstance(x, dict):
        return {k: _shape_of(v) for k, v in x.items()}
    return tuple(x.shape) if x is not None else None


def _describe(value):
    if isinstance(value, (Tensor, _TFVariable)):
        return "tf.Tensor(shape=%s, dtype=%s)" % (tuple(value.shape), value.dtype.name)
    return repr(value)


@functools.lru_cache(maxsize=None)
def _call_params(call):
    """(parameter names, takes **kwargs) of a layer class's `call` function."""
    params = inspect.signature(call).parameters
    var_kw = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    return tuple(params), var_kw


class Layer:
    """The base class of layers and models (keras.layers.Layer)."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        build = cls.__dict__.get("build")
        if build is not None and not getattr(build, "_marks_built", False):
            # An explicit `layer.build(shape)` marks the layer built, as Keras's build wrapper.
            @functools.wraps(build)
            def build_and_mark(self, *args, **kw):
                out = build(self, *args, **kw)
                self.built = True
                return out

            build_and_mark._marks_built = True
            cls.build = build_and_mark

    def __init__(self, name=None, trainable=True, dtype=None, autocast=True, **kwargs):
        input_shape = kwargs.pop("input_shape", None)
        input_dim = kwargs.pop("input_dim", None)
        batch_input_shape = kwargs.pop("batch_input_shape", None)
        if kwargs:
            raise ValueError("Unrecognized keyword arguments passed to %s: %r"
                             % (type(self).__name__, kwargs))
        if input_shape is not None or input_dim is not None or batch_input_shape is not None:
            warnings.warn("Do not pass an `input_shape`/`input_dim`/`batch_input_shape` argument "
                          "to a layer (Keras 3 dropped it). When using Sequential models, prefer "
                          "using an `Input(shape)` object as the first layer in the model "
                          "instead: Sequential([tf.keras.Input(shape=(4,)), Dense(3)]).",
                          InputShapeWarning, stacklevel=_user_stacklevel())
            if batch_input_shape is None:
                shape = (input_dim,) if input_dim is not None else tuple(input_shape)
                batch_input_shape = (None,) + shape
        self._batch_input_shape = batch_input_shape
        self.name = unique_name(to_snake_case(type(self).__name__)) if name is None else name
        self._dtype = _dt.float32 if dtype is None else _dt.as_dtype(dtype)
        self._trainable = bool(trainable)
        self.autocast = autocast
        self.built = False
        self._own_trainable = []       # weights made with trainable=True, creation order
        self._own_non_trainable = []
        self._initialized = True

    def __setattr__(self, name, value):
        if type(value) is list:
            value = _TrackedList(value)
        elif type(value) is dict:
            value = _TrackedDict(value)
        object.__setattr__(self, name, value)
        _changed()

    def __delattr__(self, name):
        object.__delattr__(self, name)
        _changed()

    def _check_initialized(self):
        if not self.__dict__.get("_initialized"):
            raise RuntimeError("In layer '%s', you forgot to call `super().__init__()` as the "
                               "first statement in the `__init__()` method. Go add it!"
                               % type(self).__name__)

    # -- dtypes ---------------------------------------------------------------------------------
    @property
    def dtype(self):
        """The dtype of the layer's weights, as a string ("float32")."""
        return self._dtype.name

    compute_dtype = variable_dtype = dtype

    # -- weights --------------------------------------------------------------------------------
    def add_weight(self, *args, shape=None, initializer=None, dtype=None, trainable=True,
                   autocast=True, regularizer=None, constraint=None, aggregation="none",
                   overwrite_with_gradient=False, name=None):
        """Creates a weight (a keras Variable) and tracks it.

        Keras 3 form: add_weight(shape=..., initializer=..., name=...). The older form of the
        labs, add_weight("weight", shape=[d, n]) (name first, as Keras 2), is accepted too.
        The initializer defaults to glorot_uniform for float weights, zeros otherwise.
        """
        self._check_initialized()
        given = dict(shape=shape, initializer=initializer, dtype=dtype, trainable=trainable,
                     regularizer=regularizer, constraint=constraint, name=name)
        if args:
            order = (("name", "shape", "dtype", "initializer", "regularizer", "trainable",
                      "constraint") if isinstance(args[0], str) else
                     ("shape", "initializer", "dtype", "trainable", "autocast", "regularizer",
                      "constraint", "aggregation", "overwrite_with_gradient", "name"))
            if len(args) > len(order):
                raise TypeError("add_weight() takes at most %d positional arguments (%d given)"
                                % (len(order), len(args)))
            for key, value in zip(order, args):
                if key != "trainable" and given.get(key) is not None:
                    raise TypeError("add_weight() got multiple values for argument %r" % key)
                given[key] = value
        shape = () if given["shape"] is None else given["shape"]
        shape = tuple(shape.as_list() if hasattr(shape, "as_list") else shape)
        if any(d is None or int(d) < 0 for d in shape):
            raise ValueError("Shapes used to initialize variables must be fully-defined (no "
                             "`None` dimensions). Received: shape=%s for variable path='%s'"
                             % (shape, self._path(given["name"] or "variable")))
        shape = tuple(int(d) for d in shape)
        dtype = self._dtype if given["dtype"] is None else _dt.as_dtype(given["dtype"])
        init = given["initializer"]
        if init is None:
            init = "glorot_uniform" if dtype.is_floating else "zeros"
        init = initializers.get(init)
        name = given["name"] or unique_name("variable")
        value = convert_to_tensor(init(shape, dtype=dtype))
        if tuple(value.shape) != shape:
            raise ValueError("The initializer returned a value of shape %s for weight '%s' of "
                             "shape %s." % (tuple(value.shape), name, shape))
        if value.dtype is not dtype:
            value = _ops.cast(value, dtype)
        trainable = bool(given["trainable"])
        var = Variable(value, dtype=dtype, trainable=trainable and self._trainable, name=name,
                       path=self._path(name))
        var._constraint = given["constraint"]
        var.regularizer = given["regularizer"]
        (self._own_trainable if trainable else self._own_non_trainable).append(var)
        _changed()
        return var

    def _path(self, name):
        scope = list(_context.scope)
        if not scope or scope[-1] != self.name:
            scope.append(self.name)
        return "/".join(scope + [name])

    def _tracked(self):
        """Sub-layers and directly assigned keras Variables, in attribute order (also inside
        lists, tuples and dicts), found by walking the instance's attributes."""
        layers, variables, seen = [], [], {id(self)}
        # An explicit stack, not a recursive closure: a nested function that calls itself is a
        # reference cycle, and this runs on every call and trainable_variables lookup, so each
        # training step would leave garbage for the cycle collector. Pushed reversed so that
        # items pop in attribute order.
        stack = [v for k, v in vars(self).items() if k != "_weights_cache"][::-1]
        while stack:
            value = stack.pop()
            if isinstance(value, Layer):
                if id(value) not in seen:
                    seen.add(id(value))
                    layers.append(value)
            elif isinstance(value, Variable):
                variables.append(value)
            elif isinstance(value, (list, tuple)):
                stack.extend(value[::-1])
            elif isinstance(value, dict):
                stack.extend(list(value.values())[::-1])
        return layers, variables

    @property
    def _sublayers(self):
        return self._tracked()[0]

    @property
    def weights(self):
        """All weights: this layer's trainable ones, then its non-trainable ones (creation
        order), then those of its sub-layers."""
        self._check_initialized()
        # Cached: a training loop reads trainable_variables every step, and the attribute walk
        # cost more than the optimizer update on small models.
        cached = self.__dict__.get("_weights_cache")
        if cached is not None and cached[0] == _generation[0]:
            return list(cached[1])
        generation = _generation[0]
        out = self._walk_weights()
        # Stored without __setattr__: caching must not invalidate the caches.
        self.__dict__["_weights_cache"] = (generation, tuple(out))
        return out

    def _walk_weights(self):
        layers, assigned = self._tracked()
        out, seen = [], set()
        own = self._own_trainable + self._own_non_trainable + assigned
        for w in own + [w for layer in layers for w in layer.weights]:
            if id(w) not in seen:
                seen.add(id(w))
                out.append(w)
        return out

    @property
    def trainable_weights(self):
        return [w for w in self.weights if w.trainable] if self._trainable else []

    @property
    def non_trainable_weights(self):
        return [w for w in self.weights if not w.trainable] if self._trainable else self.weights

    variables = weights
    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        """Freezing a layer makes its weights (and its sub-layers') non-trainable."""
        value = bool(value)
        self._trainable = value
        for w in self._own_trainable:
            w.trainable = value
        for layer in self._sublayers:
            layer.trainable = value

    def get_weights(self):
        """The weights' values as numpy arrays (copies), in `weights` order."""
        return [np.array(w._value) for w in self.weights]

    def set_weights(self, weights):
        """Assigns numpy arrays to the weights, in `weights` order; shapes must match."""
        own = self.weights
        if len(weights) != len(own):
            raise ValueError("You called `set_weights(weights)` on layer '%s' with a weight list "
                             "of length %d, but the layer was expecting %d weights."
                             % (self.name, len(weights), len(own)))
        values = [np.asarray(getattr(v, "_value", v)) for v in weights]
        for w, v in zip(own, values):
            if tuple(w.shape) != v.shape:
                raise ValueError("Layer %s weight shape %s is not compatible with provided weight "
                                 "shape %s." % (self.name, tuple(w.shape), v.shape))
        for w, v in zip(own, values):
            w.assign(v.astype(w.dtype._np))

    def count_params(self):
        """The number of scalars in all weights; the layer must be built."""
        if not self.built:
            raise ValueError("You tried to call `count_params` on layer '%s', but the layer isn't "
                             "built. You can build it manually via: `%s.build(batch_input_shape)`."
                             % (self.name, self.name))
        return int(sum(np.prod(w.shape, dtype=np.int64) for w in self.weights))

    # -- building and calling -------------------------------------------------------------------
    def build(self, input_shape=None):
        """Creates the weights; the default has none to create."""
        self.built = True

    build._builds_by_calling = False

    def call(self, *args, **kwargs):
        raise NotImplementedError("Layer %s does not have a `call()` method implemented."
                                  % type(self).__name__)

    def _convert_input(self, x):
        """numpy -> Tensor; floating tensors cast to the layer's dtype (Keras autocast)."""
        if isinstance(x, (np.ndarray, np.generic)):
            x = convert_to_tensor(x)
        if (self.autocast and isinstance(x, Tensor) and x._dtype is not self._dtype
                and x._dtype.is_floating and self._dtype.is_floating):
            x = _ops.cast(x, self._dtype)
        return x

    def _check_inputs(self, inputs):
        """Hook for layers that validate their input before building (Dense: its rank)."""

    def _convert_arg(self, arg):
        """A positional argument: tensors (possibly nested) converted, anything else refused."""
        if type(arg) is Tensor:  # the common case, without the structure walk
            return self._convert_input(arg)
        if not all(_is_tensor_like(leaf) for leaf in _flatten(arg)):
            hint = ("convert data to a tensor first, e.g. layer(tf.constant(%r))" % (arg,)
                    if isinstance(arg, (list, tuple)) else
                    "pass options by name, e.g. model(x, training=True)")
            raise ValueError(
                "Only input tensors may be passed as positional arguments. The following "
                "argument value should be passed as a keyword argument: %r (of type %s)\n"
                "Hint: %s." % (arg, type(arg), hint))
        return _map(self._convert_input, arg)

    def __call__(self, *args, **kwargs):
        self._check_initialized()
        args = tuple([self._convert_arg(a) for a in args])
        kwargs = {k: _map(self._convert_input, v) if _is_tensor_like(v) else v
                  for k, v in kwargs.items()}
        params, var_kw = _call_params(type(self).call)
        training = kwargs.pop("training", None)
        if training is None and _context.training:
            training = _context.training[-1]
        if training is not None and ("training" in params or var_kw):
            kwargs["training"] = training
        first = args[0] if args else next(iter(kwargs.values()), None)
        self._check_inputs(first)
        _context.scope.append(self.name)
        _context.training.append(training)
        try:
            building = not self.built
            if building and not getattr(type(self).build, "_builds_by_calling", False):
                self.build(_shape_of(first))
            out = self.call(*args, **kwargs)
            if building:
                # The output shape at build time is what summary() shows (Keras does the same).
                self._build_output_shape = _shape_of(out)
        except Exception as e:
            self._annotate(e, args, kwargs)
            raise
        finally:
            _context.scope.pop()
            _context.training.pop()
        if not self.built:
            self.built = True  # only once: an attribute change invalidates the weight caches
        return out

    def _annotate(self, error, args, kwargs):
        """Adds Keras's context (which call failed, with what arguments) to the innermost
        layer's exception, as a note: the exception keeps its class and message."""
        if not hasattr(error, "add_note") or getattr(error, "_keras_noted", False):
            return
        error._keras_noted = True
        call = "%s.call()" % type(self).__name__
        try:
            bound = inspect.signature(self.call).bind(*args, **kwargs).arguments.items()
        except TypeError:
            bound = [("arg%d" % i, a) for i, a in enumerate(args)] + list(kwargs.items())
        received = "\n".join("  \u2022 %s=%s" % (k, _describe(v)) for k, v in bound)
        error.add_note("Exception encountered when calling %s.\nArguments received by %s:\n%s"
                       % (call, call, received))

    def _build_by_running(self, input_shape):
        """Builds a model by calling it on zeros of `input_shape` (None dimensions become 1)."""
        if input_shape is None:
            raise ValueError("You must provide an `input_shape` argument.")
        dims = input_shape.as_list() if hasattr(input_shape, "as_list") else list(input_shape)
        self._batch_is_none = bool(dims) and dims[0] is None  # summary shows None, as Keras
        self(_ops.zeros([1 if d is None else int(d) for d in dims], self._dtype))

    # -- configuration --------------------------------------------------------------------------
    def get_config(self):
        """The constructor arguments that rebuild this layer (without its weights)."""
        return {"name": self.name, "trainable": self._trainable, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return "<%s name=%s, built=%s>" % (type(self).__name__, self.name, self.built)

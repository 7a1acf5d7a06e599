"""keras.initializers: the functions that fill new weights; imports microtf.random and framework.

Each random initializer built with seed=None draws its seed once, at construction, as Keras 3
does (TF_SEMANTICS.md section 2.14 C), from a stream that `tf.random.set_seed` restarts, then
fills weights with TensorFlow's stateless ops seeded [seed, 0]: Keras's exact values, the same
on every call of the same object.
"""
import math

import numpy as np

from .. import random as _random
from ..framework import dtypes as _dt
from ..framework.tensor import wrap
from ..ops._common import as_shape_tuple

__all__ = ["Initializer", "Zeros", "Ones", "Constant", "RandomNormal", "RandomUniform",
           "TruncatedNormal", "VarianceScaling", "GlorotUniform", "GlorotNormal", "HeNormal",
           "HeUniform", "get", "serialize"]

# Keras 3's standard deviation of a unit normal truncated at +-2 stddev: dividing by it makes the
# truncated distribution's variance the one asked for.
_TRUNCATED_STDDEV = 0.87962566103423978
_KERAS_SEED_MOD = 2**31 - 2  # tf.int32.max - 1


def _dtype(dtype):
    return _dt.float32 if dtype is None else _dt.as_dtype(dtype)


def _cast(value, dtype):
    # Keras casts each bound to the dtype before the op (tf.cast(minval, dtype)).
    return np.asarray(value, dtype=dtype._np)


def _tensor(array, dtype):
    return wrap(np.array(array, dtype=dtype._np, order="C"), dtype)


class Initializer:
    """Base class: `init(shape, dtype=None)` returns a Tensor of that shape (float32 default)."""

    def __call__(self, shape, dtype=None):
        raise NotImplementedError("Initializer subclasses implement __call__(shape, dtype).")

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        args = ", ".join("%s=%r" % kv for kv in self.get_config().items())
        return "<%s(%s)>" % (type(self).__name__, args)


class Constant(Initializer):
    """Every element equal to `value`."""

    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, dtype=None):
        dtype = _dtype(dtype)
        return _tensor(np.full(as_shape_tuple(shape), self.value), dtype)

    def get_config(self):
        return {"value": self.value}


class Zeros(Constant):
    """All zeros."""

    def __init__(self):
        super().__init__(0)

    def get_config(self):
        return {}


class Ones(Constant):
    """All ones."""

    def __init__(self):
        super().__init__(1)

    def get_config(self):
        return {}


class _Seeded(Initializer):
    """An initializer with a seed fixed at construction (drawn when none is given)."""

    def __init__(self, seed=None):
        if seed is not None and not isinstance(seed, (int, np.integer)):
            raise ValueError("`seed` argument should be an instance of `keras.random."
                             "SeedGenerator()` or an integer. Received: seed=%r" % (seed,))
        self._init_seed = seed
        self.seed = _random._initializer_seed() if seed is None else int(seed)

    def _seed_pair(self):
        # Keras 3 runs a stateless op seeded [seed, 0], the seed reduced as its TensorFlow
        # backend does (floormod by int32 max - 1): the same numbers on every call.
        return [self.seed % _KERAS_SEED_MOD, 0]

    def _uniform(self, shape, minval, maxval, dtype):
        return _random.stateless_uniform(shape, self._seed_pair(), _cast(minval, dtype),
                                         _cast(maxval, dtype), dtype)

    def _normal(self, shape, mean, stddev, dtype, truncated=False):
        op = _random.stateless_truncated_normal if truncated else _random.stateless_normal
        return op(shape, self._seed_pair(), _cast(mean, dtype), _cast(stddev, dtype), dtype)

    def get_config(self):
        return {"seed": self._init_seed}


class RandomNormal(_Seeded):
    """Samples of N(mean, stddev**2)."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev = mean, stddev
        super().__init__(seed)

    def __call__(self, shape, dtype=None):
        return self._normal(as_shape_tuple(shape), self.mean, self.stddev, _dtype(dtype))

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self._init_seed}


class TruncatedNormal(RandomNormal):
    """Normal samples, those beyond 2 stddev from the mean drawn again."""

    def __call__(self, shape, dtype=None):
        return self._normal(as_shape_tuple(shape), self.mean, self.stddev, _dtype(dtype),
                            truncated=True)


class RandomUniform(_Seeded):
    """Samples uniform in [minval, maxval)."""

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval, self.maxval = minval, maxval
        super().__init__(seed)

    def __call__(self, shape, dtype=None):
        return self._uniform(as_shape_tuple(shape), self.minval, self.maxval, _dtype(dtype))

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self._init_seed}


def compute_fans(shape):
    """(fan_in, fan_out) as Keras computes them: the last two axes of a matrix, each times the
    receptive field (product of the leading axes) for convolution kernels."""
    shape = as_shape_tuple(shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


class VarianceScaling(_Seeded):
    """Samples with variance scale / n, n = fan_in, fan_out or their mean (mode).

    distribution "uniform": limit sqrt(3 * scale / n); "untruncated_normal": stddev
    sqrt(scale / n); "truncated_normal": that stddev / 0.8796..., cut at 2 stddev by redrawing.
    """

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        if scale <= 0.0:
            raise ValueError("Argument `scale` must be positive float. Received: scale=%r"
                             % (scale,))
        modes = ("fan_in", "fan_out", "fan_avg")
        if mode not in modes:
            raise ValueError("Invalid `mode` argument: expected one of %s. Received: mode=%r"
                             % (modes, mode))
        dists = ("uniform", "truncated_normal", "untruncated_normal")
        if distribution not in dists:
            raise ValueError("Invalid `distribution` argument: expected one of %s. Received: "
                             "distribution=%r" % (dists, distribution))
        self.scale, self.mode, self.distribution = scale, mode, distribution
        super().__init__(seed)

    def __call__(self, shape, dtype=None):
        dtype = _dtype(dtype)
        shape = as_shape_tuple(shape)
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        scale = self.scale / max(1.0, n)
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * scale)
            return self._uniform(shape, -limit, limit, dtype)
        if self.distribution == "truncated_normal":
            return self._normal(shape, 0.0, math.sqrt(scale) / _TRUNCATED_STDDEV, dtype,
                                truncated=True)
        return self._normal(shape, 0.0, math.sqrt(scale), dtype)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                "seed": self._init_seed}


def _preset(name, scale, mode, distribution, doc):
    """A VarianceScaling subclass with fixed arguments (GlorotUniform, HeNormal, ...)."""
    def __init__(self, seed=None):
        VarianceScaling.__init__(self, scale, mode, distribution, seed)

    def get_config(self):
        return {"seed": self._init_seed}

    return type(name, (VarianceScaling,), {"__init__": __init__, "get_config": get_config,
                                           "__doc__": doc})


GlorotUniform = _preset("GlorotUniform", 1.0, "fan_avg", "uniform",
                        "Uniform in +-sqrt(6 / (fan_in + fan_out)).")
GlorotNormal = _preset("GlorotNormal", 1.0, "fan_avg", "truncated_normal",
                       "Truncated normal, stddev sqrt(2 / (fan_in + fan_out)).")
HeNormal = _preset("HeNormal", 2.0, "fan_in", "truncated_normal",
                   "Truncated normal, stddev sqrt(2 / fan_in).")
HeUniform = _preset("HeUniform", 2.0, "fan_in", "uniform", "Uniform in +-sqrt(6 / fan_in).")

_CLASSES = {cls.__name__: cls for cls in (Zeros, Ones, Constant, RandomNormal, RandomUniform,
                                          TruncatedNormal, VarianceScaling, GlorotUniform,
                                          GlorotNormal, HeNormal, HeUniform)}
_ALIASES = {"zeros": Zeros, "ones": Ones, "constant": Constant, "random_normal": RandomNormal,
            "random_uniform": RandomUniform, "truncated_normal": TruncatedNormal,
            "variance_scaling": VarianceScaling, "glorot_uniform": GlorotUniform,
            "glorot_normal": GlorotNormal, "he_normal": HeNormal, "he_uniform": HeUniform}

# Functional aliases, as keras.initializers offers them (each call builds a new initializer).
zeros, ones, constant = Zeros, Ones, Constant
random_normal, random_uniform, truncated_normal = RandomNormal, RandomUniform, TruncatedNormal
glorot_uniform, glorot_normal, he_normal, he_uniform = GlorotUniform, GlorotNormal, HeNormal, \
    HeUniform


def get(identifier):
    """An initializer from a name ("glorot_uniform" or "GlorotUniform"), a config dict, a class,
    an instance or any callable(shape, dtype); None gives None."""
    if identifier is None or isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, str):
        return _lookup(identifier)()
    if isinstance(identifier, dict) and "class_name" in identifier:
        return _lookup(identifier["class_name"]).from_config(identifier.get("config") or {})
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError("Could not interpret initializer identifier: %r" % (identifier,))


def _lookup(name):
    cls = _ALIASES.get(name) or _CLASSES.get(name)
    if cls is None:
        raise ValueError("Could not interpret initializer identifier: %r\nHint: known names are "
                         "%s." % (name, ", ".join(sorted(_ALIASES))))
    return cls


def serialize(initializer):
    """{'class_name': ..., 'config': ...} for an initializer object (a function: its name)."""
    if not isinstance(initializer, Initializer):
        return getattr(initializer, "__name__", repr(initializer))
    return {"class_name": type(initializer).__name__, "config": initializer.get_config()}

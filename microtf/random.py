"""tf.random: seeded random tensors behind one small generator interface; imports framework/ops.

Seeding follows TensorFlow's stateful ops (TF_SEMANTICS.md section 2.14 D): `set_seed(s)` starts
a `random.Random(s)` stream, and every op call without its own seed draws its op seed from it, so
the sequence of calls after `set_seed(s)` is reproducible and `set_seed(s)` restarts it. An op
seed given explicitly is used with the global seed (TensorFlow's default 87654321 when none was
set); repeated calls with the same op seed continue one stream instead of repeating numbers, as in
TensorFlow's eager mode. Without any seed, numbers differ per run.

All bits come from `_Generator` (numpy's Philox keyed by the seeds): the one place a later change
swaps for TensorFlow's exact Philox streams.
"""
import random as _pyrandom

import numpy as np

from .framework import dtypes as _dt
from .framework.tensor import wrap
from .ops._common import FLOATS, as_shape_tuple, op_error

__all__ = ["set_seed", "normal", "uniform", "truncated_normal"]

_DEFAULT_GLOBAL_SEED = 87654321  # TensorFlow's DEFAULT_GRAPH_SEED, used when only an op seed is
_MAX_OP_SEED = 2**31 - 1
_MASK64 = 2**64 - 1


class _Generator:
    """Random arrays from one 128-bit key: the whole interface to the bit generator."""

    __slots__ = ("_rng",)

    def __init__(self, key, counter=0):
        seed_a, seed_b = (int(k) & _MASK64 for k in key)
        self._rng = np.random.Generator(np.random.Philox(key=seed_a | (seed_b << 64),
                                                         counter=[0, 0, counter & _MASK64, 0]))

    def uniform(self, shape, np_dtype):
        """Floats in [0, 1), drawn in float64 unless the dtype is float32."""
        kind = np.float32 if np_dtype == np.float32 else np.float64
        return self._rng.random(shape, dtype=kind).astype(np_dtype, copy=False)

    def integers(self, shape, low, high, np_dtype):
        """Integers in [low, high)."""
        return self._rng.integers(low, high, size=shape, dtype=np_dtype)

    def normal(self, shape, np_dtype):
        """Standard normal samples."""
        kind = np.float32 if np_dtype == np.float32 else np.float64
        return self._rng.standard_normal(shape, dtype=kind).astype(np_dtype, copy=False)

    def truncated_normal(self, shape, np_dtype):
        """Standard normal samples, those beyond 2 standard deviations drawn again (as TF)."""
        out = self._rng.standard_normal(shape)
        bad = np.abs(out) > 2.0
        while bad.any():
            out[bad] = self._rng.standard_normal(int(bad.sum()))
            bad = np.abs(out) > 2.0
        return out.astype(np_dtype)


class _State:
    """The global seed, the op-seed stream it starts, and per-(global, op seed) call counts."""

    def __init__(self):
        self.global_seed = None
        self.op_seeds = _pyrandom.Random()
        self.calls = {}
        # Keras initializers draw their seeds at construction from this stream (section 2.14 C);
        # private, so that seeding microtf never disturbs the user's `random` module.
        self.initializer_seeds = _pyrandom.Random()


_state = _State()


def set_seed(seed):
    """tf.random.set_seed: makes the following random ops (and Keras initializers) reproducible.

    seed: an int, or None to go back to numbers that differ per run.
    """
    if seed is not None:
        try:
            seed = int(seed)
        except (TypeError, ValueError):
            raise TypeError("tf.random.set_seed expects an integer seed, got %r (of type %s)"
                            % (seed, type(seed).__name__)) from None
    _state.global_seed = seed
    _state.op_seeds = _pyrandom.Random(seed)
    _state.calls = {}
    _state.initializer_seeds = _pyrandom.Random(seed)


def _generator(seed):
    """The generator for one op call: keyed by (global seed, op seed) and a call counter."""
    if seed is None:
        if _state.global_seed is None:
            return _Generator((_pyrandom.SystemRandom().getrandbits(64),
                               _pyrandom.SystemRandom().getrandbits(64)))
        key = (_state.global_seed, _state.op_seeds.randint(0, _MAX_OP_SEED))
    else:
        glob = _DEFAULT_GLOBAL_SEED if _state.global_seed is None else _state.global_seed
        key = (glob, int(seed))
    count = _state.calls.get(key, 0)
    _state.calls[key] = count + 1
    return _Generator(key, count)


def _initializer_seed():
    """A seed for a Keras initializer built with seed=None: randint(1, 1e9), as Keras 3."""
    return _state.initializer_seeds.randint(1, int(1e9))


def _shape(shape, op_name):
    dims = as_shape_tuple(shape)
    if any(d < 0 for d in dims):
        raise op_error("Shape %s has a negative dimension; random shapes need sizes >= 0"
                       % (list(dims),), op_name)
    return dims


def _float_dtype(dtype, op_name):
    dtype = _dt.as_dtype(dtype)
    if dtype not in FLOATS + (_dt.float16,):
        raise TypeError("Value passed to parameter 'dtype' has DataType %s not in list of allowed "
                        "values: float16, float32, float64 (in %s)\nHint: draw floats and "
                        "tf.cast them, or use tf.random.uniform with an integer dtype and maxval."
                        % (dtype.name, op_name))
    return dtype


def _scaled(sample, scale, shift, dtype, op_name):
    """sample * scale + shift in the output dtype (float16 computed in float32)."""
    work = np.float32 if dtype is _dt.float16 else dtype._np
    scale = np.asarray(getattr(scale, "_value", scale), dtype=work)
    shift = np.asarray(getattr(shift, "_value", shift), dtype=work)
    try:
        out = np.broadcast_to(sample.astype(work) * scale + shift, sample.shape)
    except ValueError:
        raise op_error("Parameters of shapes %s and %s do not broadcast to the output shape %s"
                       % (scale.shape, shift.shape, sample.shape), op_name) from None
    return wrap(np.array(out, dtype=dtype._np, order="C"), dtype)


def normal(shape, mean=0.0, stddev=1.0, dtype=_dt.float32, seed=None, name=None):
    """tf.random.normal: samples of N(mean, stddev**2) with the given shape."""
    dtype = _float_dtype(dtype, "RandomStandardNormal")
    dims = _shape(shape, "RandomStandardNormal")
    sample = _generator(seed).normal(dims, np.float64 if dtype is _dt.float64 else np.float32)
    return _scaled(sample, stddev, mean, dtype, "RandomStandardNormal")


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=_dt.float32, seed=None, name=None):
    """tf.random.truncated_normal: normal samples redrawn until within 2 stddev of the mean."""
    dtype = _float_dtype(dtype, "TruncatedNormal")
    dims = _shape(shape, "TruncatedNormal")
    sample = _generator(seed).truncated_normal(dims, np.float64)
    return _scaled(sample, stddev, mean, dtype, "TruncatedNormal")


def uniform(shape, minval=0, maxval=None, dtype=_dt.float32, seed=None, name=None):
    """tf.random.uniform: floats in [minval, maxval) (maxval defaults to 1), or integers in
    [minval, maxval) for int32/int64, where maxval is required."""
    dtype = _dt.as_dtype(dtype)
    if dtype not in (_dt.float16, _dt.float32, _dt.float64, _dt.int32, _dt.int64):
        raise ValueError("Argument `dtype` got invalid value %r. Accepted dtypes are (tf.float16,"
                         " tf.float32, tf.float64, tf.int32, tf.int64)." % (dtype,))
    dims = _shape(shape, "RandomUniform")
    if dtype.is_integer:
        if maxval is None:
            raise ValueError("Must specify maxval for integer dtype %r\nHint: integers are drawn "
                             "from [minval, maxval); pass maxval=..., or use dtype=tf.float32."
                             % (dtype,))
        low, high = int(getattr(minval, "_value", minval)), int(getattr(maxval, "_value", maxval))
        if low >= high:
            raise op_error("Need minval < maxval: %d >= %d" % (low, high), "RandomUniformInt")
        return wrap(_generator(seed).integers(dims, low, high, dtype._np), dtype)
    maxval = 1 if maxval is None else maxval
    sample = _generator(seed).uniform(dims, np.float64 if dtype is _dt.float64 else np.float32)
    low = np.asarray(getattr(minval, "_value", minval), dtype=np.float64)
    high = np.asarray(getattr(maxval, "_value", maxval), dtype=np.float64)
    return _scaled(sample, high - low, low, dtype, "RandomUniform")

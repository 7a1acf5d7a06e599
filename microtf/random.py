"""tf.random: TensorFlow's exact random streams (Philox4x32-10, csrc/philox.pyx); imports
framework, ops and the kernels.

All bits come from `_Generator`, one Philox stream (a 64-bit key and a 128-bit counter), used the
way TensorFlow 2.21 uses it (TF_SEMANTICS.md section 2.14):

- Stateful ops (`normal`, `uniform`, `truncated_normal`, `shuffle`, `categorical`) take seeds as
  `random_seed.get_seed` gives them: after `set_seed(g)` each call without `seed=` draws its op
  seed from `random.Random(g)`; an explicit op seed pairs with the global seed (87654321 when none
  was set). The pair keys a stream as TensorFlow's kernels do (key = global seed, counter =
  op seed << 64), and each (op, dtype, seeds) "kernel" keeps its stream between calls and
  reserves counters as GuardedPhiloxRandom does, so repeating `seed=` continues, as in TF eager.
- Stateless ops (`stateless_uniform`, `stateless_normal`, `stateless_truncated_normal`) scramble
  the seed pair into a key and counter (GenerateKey in TF's stateless_random_ops.cc).
- Keras initializers draw their integer seeds from a private stream that `set_seed` restarts, a
  microtf addition that makes `tf.random.set_seed` alone enough for reproducible layers.
Without any seed, numbers differ per run.
"""
import random as _pyrandom
import threading

import numpy as np

from . import _kernels
from .eager.registry import convert_to_tensor
from .framework import dtypes as _dt
from .framework.tensor import wrap
from .ops._common import FLOATS, as_shape_tuple, check_alloc, op_error

__all__ = ["set_seed", "normal", "uniform", "truncated_normal", "shuffle", "categorical",
           "stateless_uniform", "stateless_normal", "stateless_truncated_normal"]

_DEFAULT_GLOBAL_SEED = 87654321  # TensorFlow's DEFAULT_GRAPH_SEED, used when only an op seed is
_MAXINT32 = 2**31 - 1            # given; seeds are reduced modulo this (random_seed._truncate_seed)
_MASK32 = 2**32 - 1
_MASK64 = 2**64 - 1
_MASK128 = 2**128 - 1
_STATELESS_KEY = 0x02461E29_3EC8F720  # GenerateKey's fixed key words (k1, k0)
_RESERVED_PER_OUTPUT = 256  # counters TF reserves per output of a stateful op (FillPhiloxRandom)


class _Generator:
    """One Philox4x32-10 stream: key = k0 | k1 << 32, counter a 128-bit integer.

    Each method fills from the current counter without moving it; `reserve` moves it, as
    TensorFlow's GuardedPhiloxRandom does for stateful kernels.
    """

    __slots__ = ("key", "counter")

    def __init__(self, key, counter=0):
        self.key = int(key) & _MASK64
        self.counter = int(counter) & _MASK128

    @classmethod
    def from_seeds(cls, seed, seed2):
        """PhiloxRandom(seed, seed2): the key from the first seed, counter words 2-3 from the
        second (how stateful kernels start from their `seed` and `seed2` attributes)."""
        return cls(seed, (int(seed2) & _MASK64) << 64)

    @classmethod
    def stateless(cls, s0, s1):
        """The scramble of stateless ops: philox([s0, s1], fixed key) gives key and counter."""
        mix = cls(_STATELESS_KEY, (s0 & _MASK64) | (s1 & _MASK64) << 64).uint32(4)
        m = [int(x) for x in mix]
        return cls(m[0] | m[1] << 32, (m[2] | m[3] << 32) << 64)

    def _args(self):
        return self.key, self.counter & _MASK64, self.counter >> 64

    def reserve(self, blocks):
        """A copy at the current counter; this stream then skips `blocks` 128-bit counters."""
        out = _Generator(self.key, self.counter)
        self.counter = (self.counter + int(blocks)) & _MASK128
        return out

    def uint32(self, n):
        """n raw words: 4 per counter, in order."""
        out = np.empty(n, np.uint32)
        _kernels.philox_uint32(*self._args(), out)
        return out

    def uniform(self, shape, np_dtype):
        """[0, 1) with TensorFlow's bit transforms (float16 from 10 bits of each word)."""
        if np_dtype == np.float16:
            bits = (self.uint32(int(np.prod(shape))) & 0x3FF) | 0x3C00
            return (bits.astype(np.uint16).view(np.float16) - np.float16(1)).reshape(shape)
        out = np.empty(shape, np_dtype)
        _kernels.philox_uniform(*self._args(), out)
        return out

    def _float_fill(self, kernel, shape, np_dtype):
        # float16 samples are float32 samples rounded, as TF converts after Box-Muller
        out = np.empty(shape, np.float64 if np_dtype == np.float64 else np.float32)
        kernel(*self._args(), out)
        return out.astype(np_dtype, copy=False)

    def normal(self, shape, np_dtype):
        """Standard normal samples (Box-Muller on pairs, as TensorFlow)."""
        return self._float_fill(_kernels.philox_normal, shape, np_dtype)

    def truncated_normal(self, shape, np_dtype):
        """Standard normal samples inside (-2, 2), rejected and redrawn as TensorFlow does."""
        return self._float_fill(_kernels.philox_truncated_normal, shape, np_dtype)

    def integers(self, shape, low, high, np_dtype):
        """Integers in [low, high): low + word % (high - low) (TF's UniformDistribution; int64
        takes a word pair lo | hi << 32 per value). Wraparound arithmetic in unsigned ints."""
        n = int(np.prod(shape))
        if np_dtype == np.int64:
            words = self.uint32(2 * n).astype(np.uint64)
            bits = words[0::2] | (words[1::2] << np.uint64(32))
            span = np.uint64((high - low) & _MASK64)
            out = (bits % span + np.uint64(low & _MASK64)).view(np.int64)
        else:
            span = np.uint32((high - low) & _MASK32)
            out = (self.uint32(n) % span + np.uint32(low & _MASK32)).view(np.int32)
        return out.reshape(shape)

    def full_integers(self, shape, np_dtype):
        """Integers over the dtype's whole range (stateless_uniform with no bounds)."""
        n = int(np.prod(shape))
        if np_dtype == np.int64:
            words = self.uint32(2 * n).astype(np.uint64)
            return (words[0::2] | (words[1::2] << np.uint64(32))).view(np_dtype).reshape(shape)
        return self.uint32(n).view(np_dtype).reshape(shape)

    def doubles(self, n):
        """n doubles in [0, 1) from successive word pairs (TF's SimplePhilox::RandDouble)."""
        words = self.uint32(2 * n).astype(np.uint64)
        bits = ((words[0::2] & 0xFFFFF) << np.uint64(32)) | words[1::2] | 0x3FF0000000000000
        return bits.view(np.float64) - 1.0

    def permutation(self, n):
        """TensorFlow's RandomShuffle order of range(n)."""
        out = np.empty(n, np.int64)
        _kernels.philox_permutation(*self._args(), out)
        return out


class _State:
    """The global seed, the op-seed stream it starts, and the streams of seeded "kernels"."""

    def __init__(self):
        self.global_seed = None
        self.op_seeds = _pyrandom.Random()
        self.kernels = {}
        # Seeded kernels' streams are shared by threads: reserving counters is read-then-write,
        # so it holds this lock (TensorFlow's GuardedPhiloxRandom holds a mutex there too).
        self.kernels_lock = threading.Lock()
        # Keras initializers draw their seeds at construction from this stream (section 2.14 C);
        # private, so that seeding microtf never disturbs the user's `random` module.
        self.initializer_seeds = _pyrandom.Random()


_state = _State()


def set_seed(seed):
    """tf.random.set_seed: makes the following random ops (and Keras initializers) reproducible.

    seed: an int, or None to go back to numbers that differ per run. Restarts the op-seed
    sequence and every seeded op's stream, as TensorFlow clears its kernel cache.
    """
    if seed is not None:
        try:
            seed = int(seed)
        except (TypeError, ValueError):
            raise TypeError("tf.random.set_seed expects an integer seed, got %r (of type %s)"
                            % (seed, type(seed).__name__)) from None
    _state.global_seed = seed
    _state.op_seeds = _pyrandom.Random(seed)
    _state.kernels = {}
    _state.initializer_seeds = _pyrandom.Random(seed)


def _get_seed(op_seed):
    """(seed, seed2) as TensorFlow's random_seed.get_seed, or None when nothing is seeded."""
    if _state.global_seed is not None:
        if op_seed is None:
            op_seed = _state.op_seeds.randint(0, _MAXINT32)
        seeds = (_state.global_seed % _MAXINT32, int(op_seed) % _MAXINT32)
    elif op_seed is not None:
        seeds = (_DEFAULT_GLOBAL_SEED, int(op_seed) % _MAXINT32)
    else:
        return None
    return (0, _MAXINT32) if seeds == (0, 0) else seeds  # (0, 0) would mean "unseeded" in C++


def _stream(op_name, dtype, seeds, blocks, explicit):
    """The stream for one stateful op call, `blocks` counters reserved on its kernel's stream.

    `seeds` come from _get_seed, called where TensorFlow's Python wrapper calls get_seed (before
    the kernel checks its inputs, so a failing call still uses up an op seed, as in TF). A
    kernel given an explicit op seed keeps its stream, keyed as TensorFlow caches kernels (op,
    dtype, seeds); unseeded calls get a stream from the system's entropy.
    """
    if seeds is None:
        sysrand = _pyrandom.SystemRandom()
        return _Generator(sysrand.getrandbits(64), sysrand.getrandbits(128))
    if not explicit:
        # a drawn op seed is new at (almost) every call: caching its kernel would only grow
        # memory over a training loop
        return _Generator.from_seeds(*seeds)
    with _state.kernels_lock:
        kernel = _state.kernels.get((op_name, dtype, seeds))
        if kernel is None:
            kernel = _state.kernels[(op_name, dtype, seeds)] = _Generator.from_seeds(*seeds)
        return kernel.reserve(blocks)


def _initializer_seed():
    """A seed for a Keras initializer built with seed=None: randint(1, 1e9), as Keras 3."""
    return _state.initializer_seeds.randint(1, int(1e9))


def _shape(shape, dtype, op_name):
    """The output shape, checked before anything is drawn or allocated (a huge one would reach
    numpy's bare 'array is too big' ValueError, or overflow the counter arithmetic)."""
    dims = as_shape_tuple(shape)
    if any(d < 0 for d in dims):
        raise op_error("Shape %s has a negative dimension; random shapes need sizes >= 0"
                       % (list(dims),), op_name)
    return check_alloc(dims, dtype._np, op_name)


def _float_dtype(dtype, op_name):
    dtype = _dt.as_dtype(dtype)
    if dtype not in FLOATS + (_dt.float16,):
        raise TypeError("Value passed to parameter 'dtype' has DataType %s not in list of allowed "
                        "values: float16, float32, float64 (in %s)\nHint: draw floats and "
                        "tf.cast them, or use tf.random.uniform with an integer dtype and maxval."
                        % (dtype.name, op_name))
    return dtype


def _value(x):
    return getattr(x, "_value", x)


def _scaled(sample, scale, shift, dtype, op_name):
    """sample * scale + shift, computed in the output dtype as TensorFlow's Python wrappers do;
    `sample` is a fresh array, updated in place (skipping a multiply by 1 or an add of 0, which
    change no value that the distributions produce)."""
    scale = np.asarray(_value(scale), dtype=dtype._np)
    shift = np.asarray(_value(shift), dtype=dtype._np)
    with np.errstate(all="ignore"):  # inf/nan parameters give IEEE results, as in TF
        if scale.ndim == 0 and shift.ndim == 0:
            if scale != 1:
                np.multiply(sample, scale, out=sample)
            if shift != 0:
                np.add(sample, shift, out=sample)
            return wrap(sample, dtype)
        try:
            out = np.broadcast_to(sample * scale + shift, sample.shape)
        except ValueError:
            raise op_error("Parameters of shapes %s and %s do not broadcast to the output shape "
                           "%s" % (scale.shape, shift.shape, sample.shape), op_name) from None
    return wrap(np.array(out, dtype=dtype._np, order="C"), dtype)


def _int_bounds(minval, maxval, dtype, op_name):
    """Scalar integer bounds with lo < hi, checked as TensorFlow's RandomUniformInt kernel."""
    bounds = []
    for name, v in (("minval", minval), ("maxval", maxval)):
        arr = np.asarray(_value(v))
        if arr.ndim:
            raise op_error("%s must be 0-D, got shape %s" % (name, list(arr.shape)), op_name)
        bounds.append(int(arr.astype(dtype._np)))
    low, high = bounds
    if low >= high:
        raise op_error("Need minval < maxval, got %d >= %d" % (low, high), op_name)
    return low, high


def normal(shape, mean=0.0, stddev=1.0, dtype=_dt.float32, seed=None, name=None):
    """tf.random.normal: samples of N(mean, stddev**2), TensorFlow's exact values when seeded."""
    dtype = _float_dtype(dtype, "RandomStandardNormal")
    seeds = _get_seed(seed)
    dims = _shape(shape, dtype, "RandomStandardNormal")
    n = int(np.prod(dims))
    gen = _stream("RandomStandardNormal", dtype, seeds, n * _RESERVED_PER_OUTPUT,
                  seed is not None)
    return _scaled(gen.normal(dims, dtype._np), stddev, mean, dtype, "RandomStandardNormal")


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=_dt.float32, seed=None, name=None):
    """tf.random.truncated_normal: normal samples redrawn until within 2 stddev of the mean."""
    dtype = _float_dtype(dtype, "TruncatedNormal")
    seeds = _get_seed(seed)
    dims = _shape(shape, dtype, "TruncatedNormal")
    n = int(np.prod(dims))
    gen = _stream("TruncatedNormal", dtype, seeds, n * _RESERVED_PER_OUTPUT,
                  seed is not None)
    return _scaled(gen.truncated_normal(dims, dtype._np), stddev, mean, dtype, "TruncatedNormal")


def _uniform_dtype(dtype, allowed):
    dtype = _dt.as_dtype(dtype)
    if dtype not in allowed:
        raise ValueError("Argument `dtype` got invalid value %r. Accepted dtypes are (%s)."
                         % (dtype, ", ".join(repr(d) for d in allowed)))
    return dtype


def uniform(shape, minval=0, maxval=None, dtype=_dt.float32, seed=None, name=None):
    """tf.random.uniform: floats in [minval, maxval) (maxval defaults to 1), or integers in
    [minval, maxval) for int32/int64, where maxval is required."""
    dtype = _uniform_dtype(dtype, (_dt.float16, _dt.float32, _dt.float64, _dt.int32, _dt.int64))
    if dtype.is_integer and maxval is None:
        raise ValueError("Must specify maxval for integer dtype %r\nHint: integers are drawn "
                         "from [minval, maxval); pass maxval=..., or use dtype=tf.float32."
                         % (dtype,))
    seeds = _get_seed(seed)
    dims = _shape(shape, dtype, "RandomUniform")
    n = int(np.prod(dims))
    if dtype.is_integer:
        low, high = _int_bounds(minval, maxval, dtype, "RandomUniformInt")
        gen = _stream("RandomUniformInt", dtype, seeds, n * _RESERVED_PER_OUTPUT,
                      seed is not None)
        return wrap(gen.integers(dims, low, high, dtype._np), dtype)
    maxval = 1 if maxval is None else maxval
    gen = _stream("RandomUniform", dtype, seeds, n * _RESERVED_PER_OUTPUT,
                  seed is not None)
    return _bounded(gen.uniform(dims, dtype._np), minval, maxval, dtype, "RandomUniform")


def _bounded(sample, minval, maxval, dtype, op_name):
    """u * (maxval - minval) + minval in the dtype (TF skips the multiply-add for 0 and 1)."""
    low = np.asarray(_value(minval), dtype=dtype._np)
    high = np.asarray(_value(maxval), dtype=dtype._np)
    with np.errstate(all="ignore"):
        return _scaled(sample, high - low, low, dtype, op_name)


def shuffle(value, seed=None, name=None):
    """tf.random.shuffle: `value` with its first dimension in a random order."""
    value = convert_to_tensor(value)
    arr = value._value
    seeds = _get_seed(seed)  # drawn even when nothing moves, as in TF
    if arr.size <= 1 or arr.shape[0] <= 1:
        return wrap(arr.copy(), value._dtype)
    size = arr.shape[0]
    gen = _stream("RandomShuffle", value._dtype, seeds, (size - 1 + 3) // 4,
                  seed is not None)
    return wrap(arr[gen.permutation(size)], value._dtype)  # fancy indexing copies, C order


def categorical(logits, num_samples, dtype=None, seed=None, name=None):
    """tf.random.categorical: `num_samples` class indices per row of `logits` ([batch, classes],
    unnormalized log-probabilities), by inverse CDF as TensorFlow's CPU kernel.

    Rows draw from one stream in order, as TF does when the batch runs in one shard (small
    batches; TF splits large ones over threads, which changes its numbers).
    """
    out_dtype = _dt.int64 if dtype is None else _dt.as_dtype(dtype)
    if out_dtype not in (_dt.int32, _dt.int64):
        raise ValueError("Argument `dtype` got invalid value %r. Accepted dtypes are "
                         "(tf.int32, tf.int64)." % (out_dtype,))
    logits = convert_to_tensor(logits)
    seeds = _get_seed(seed)
    x = logits._value
    if x.ndim != 2:
        raise op_error("logits should be a matrix, got shape %s\nHint: pass a batch of rows, "
                       "e.g. logits[tf.newaxis, :] or [logits]." % (list(x.shape),),
                       "Multinomial")
    num_samples = int(_value(num_samples))
    if num_samples < 0:
        raise op_error("num_samples should be nonnegative, got %d" % num_samples, "Multinomial")
    batch, classes = x.shape
    if classes <= 0:
        raise op_error("num_classes should be positive, got %d" % classes, "Multinomial")
    if batch * num_samples == 0:
        return wrap(np.zeros((batch, num_samples), out_dtype._np), out_dtype)
    per_row = (num_samples + 3) // 4 * 4 * 2  # TF reserves doubles as 2 samples each
    gen = _stream("Multinomial", logits._dtype, seeds, batch * per_row * _RESERVED_PER_OUTPUT,
                  seed is not None)
    u = gen.doubles(batch * num_samples).reshape(batch, num_samples)
    out = np.empty((batch, num_samples), out_dtype._np)
    finite = np.isfinite(x)
    with np.errstate(all="ignore"):
        top = np.where(finite, x, -np.inf).max(axis=1, keepdims=True).astype(np.float64)
        top[~np.isfinite(top)] = np.finfo(np.float64).min  # TF starts its max at lowest()
        # unnormalized CDF over the finite logits only, summed left to right as TF does
        cdf = np.cumsum(np.where(finite, np.exp(x.astype(np.float64) - top), 0.0), axis=1)
    for b in range(batch):
        out[b] = np.searchsorted(cdf[b], u[b] * cdf[b, -1], side="right")
    return wrap(out, out_dtype)


def _stateless_seed(seed, op_name):
    """The (key, counter) stream of a stateless op from its seed pair [s0, s1]."""
    arr = np.asarray(_value(seed))
    if arr.dtype.kind not in "iu":
        raise op_error("seed must be an integer tensor (int32 or int64), got %s\nHint: write "
                       "seed=[1, 2] with Python ints." % (arr.dtype,), op_name)
    if arr.shape != (2,):
        raise op_error("seed must have shape [2], not %s" % (list(arr.shape),), op_name)
    # int32/int64 seeds widen to 64 bits with their sign, as TF's GenerateKey reads them
    return _Generator.stateless(int(arr[0]), int(arr[1]))


def stateless_uniform(shape, seed, minval=0, maxval=None, dtype=_dt.float32, name=None,
                      alg="auto_select"):
    """tf.random.stateless_uniform: the same values for the same seed pair [s0, s1]; floats in
    [minval, maxval) (maxval defaults to 1); integers need both bounds or neither (full range)."""
    dtype = _uniform_dtype(dtype, (_dt.float16, _dt.float32, _dt.float64, _dt.int32, _dt.int64))
    dims = _shape(shape, dtype, "StatelessRandomUniformV2")
    gen = _stateless_seed(seed, "StatelessRandomGetKeyCounter")
    if dtype.is_integer:
        if (minval is None) != (maxval is None):
            raise ValueError("For integer `dtype` argument %r, argument `minval` and `maxval` "
                             "must be both None or not None. Got `minval`=%r and `maxval`=%r."
                             % (dtype, minval, maxval))
        if minval is None:
            return wrap(gen.full_integers(dims, dtype._np), dtype)
        low, high = _int_bounds(minval, maxval, dtype, "StatelessRandomUniformIntV2")
        return wrap(gen.integers(dims, low, high, dtype._np), dtype)
    maxval = 1 if maxval is None else maxval
    return _bounded(gen.uniform(dims, dtype._np), minval, maxval, dtype,
                    "StatelessRandomUniformV2")


def stateless_normal(shape, seed, mean=0.0, stddev=1.0, dtype=_dt.float32, name=None,
                     alg="auto_select"):
    """tf.random.stateless_normal: N(mean, stddev**2), the same values for the same seed pair."""
    dtype = _float_dtype(dtype, "StatelessRandomNormalV2")
    dims = _shape(shape, dtype, "StatelessRandomNormalV2")
    gen = _stateless_seed(seed, "StatelessRandomGetKeyCounter")
    return _scaled(gen.normal(dims, dtype._np), stddev, mean, dtype, "StatelessRandomNormalV2")


def stateless_truncated_normal(shape, seed, mean=0.0, stddev=1.0, dtype=_dt.float32, name=None,
                               alg="auto_select"):
    """tf.random.stateless_truncated_normal: normal samples within 2 stddev, seeded by a pair."""
    dtype = _float_dtype(dtype, "StatelessTruncatedNormalV2")
    dims = _shape(shape, dtype, "StatelessTruncatedNormalV2")
    gen = _stateless_seed(seed, "StatelessRandomGetKeyCounter")
    return _scaled(gen.truncated_normal(dims, dtype._np), stddev, mean, dtype,
                   "StatelessTruncatedNormalV2")

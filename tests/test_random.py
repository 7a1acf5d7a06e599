"""tf.random: seeding, shapes, dtypes, distributions and errors (numpy statistics as oracle),
and TensorFlow's exact streams (values recorded on TensorFlow 2.21 where stated)."""
import importlib.util
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import microtf as tf
from microtf import random as mrandom


@pytest.fixture(autouse=True)
def _unseeded():
    yield
    tf.random.set_seed(None)  # later tests must not inherit a seed


def _draws():
    return [tf.random.normal([3]).numpy(), tf.random.uniform([2, 2]).numpy(),
            tf.random.uniform([4], maxval=100, dtype=tf.int64).numpy(),
            tf.random.truncated_normal([5]).numpy()]


def test_set_seed_makes_call_sequence_reproducible():
    tf.random.set_seed(7)
    first = _draws()
    tf.random.set_seed(7)
    again = _draws()
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    # successive calls differ from one another
    assert not np.array_equal(first[0], tf.random.normal([3]).numpy())


def test_different_seeds_differ():
    tf.random.set_seed(1)
    a = tf.random.normal([8]).numpy()
    tf.random.set_seed(2)
    b = tf.random.normal([8]).numpy()
    assert not np.array_equal(a, b)


def test_unseeded_differs_between_calls_and_resets():
    a, b = tf.random.normal([8]).numpy(), tf.random.normal([8]).numpy()
    assert not np.array_equal(a, b)
    tf.random.set_seed(3)
    c = tf.random.normal([8]).numpy()
    tf.random.set_seed(None)
    assert not np.array_equal(c, tf.random.normal([8]).numpy())


def test_unseeded_differs_between_processes():
    import subprocess
    import sys
    code = "import microtf as tf; print(tf.random.normal([4]).numpy().tolist())"
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True).stdout for _ in range(2)}
    assert len(outs) == 2


def test_op_seed_continues_its_stream_and_restarts_with_set_seed():
    tf.random.set_seed(5)
    a = tf.random.uniform([4], seed=9).numpy()
    b = tf.random.uniform([4], seed=9).numpy()
    assert not np.array_equal(a, b)  # TF eager: same op seed, next numbers
    tf.random.set_seed(5)
    np.testing.assert_array_equal(a, tf.random.uniform([4], seed=9).numpy())


def test_op_seed_without_global_seed_is_reproducible_across_set_seed_none():
    tf.random.set_seed(None)
    a = tf.random.normal([3], seed=4).numpy()
    tf.random.set_seed(None)
    np.testing.assert_array_equal(a, tf.random.normal([3], seed=4).numpy())


def test_set_seed_does_not_touch_python_random():
    random.seed(123)
    expected = random.random()
    random.seed(123)
    tf.random.set_seed(1)
    tf.random.normal([2])
    assert random.random() == expected


@pytest.mark.parametrize("shape", [[], [0], [1, 1], [3, 5], (2, 0, 3), np.array([2, 3])])
@pytest.mark.parametrize("fn", [tf.random.normal, tf.random.uniform, tf.random.truncated_normal])
def test_shapes(fn, shape):
    out = fn(shape)
    assert tuple(out.shape) == tuple(np.asarray(shape, dtype=np.int64).reshape(-1))
    assert out.dtype is tf.float32


def test_shape_from_tensor_and_tensorshape():
    assert tuple(tf.random.normal(tf.constant([2, 3])).shape) == (2, 3)
    assert tuple(tf.random.uniform(tf.TensorShape([4])).shape) == (4,)


@pytest.mark.parametrize("dtype", [tf.float16, tf.float32, tf.float64])
@pytest.mark.parametrize("fn", [tf.random.normal, tf.random.uniform, tf.random.truncated_normal])
def test_float_dtypes(fn, dtype):
    out = fn([7], dtype=dtype)
    assert out.dtype is dtype and out.numpy().dtype == dtype.as_numpy_dtype


@pytest.mark.parametrize("dtype", [tf.float32, tf.float64])
def test_normal_moments(dtype):
    tf.random.set_seed(0)
    x = tf.random.normal([200000], mean=2.0, stddev=3.0, dtype=dtype).numpy().astype(np.float64)
    assert abs(x.mean() - 2.0) < 0.03 and abs(x.std() - 3.0) < 0.03


def test_normal_mean_stddev_broadcast():
    tf.random.set_seed(0)
    x = tf.random.normal([20000, 2], mean=[0.0, 100.0], stddev=[1.0, 0.01]).numpy()
    np.testing.assert_allclose(x.mean(axis=0), [0, 100], atol=0.05)
    np.testing.assert_allclose(x.std(axis=0), [1, 0.01], rtol=0.05)


@pytest.mark.parametrize("dtype", [tf.float32, tf.float64])
def test_uniform_range_and_moments(dtype):
    tf.random.set_seed(0)
    x = tf.random.uniform([100000], minval=-2, maxval=3, dtype=dtype).numpy()
    assert x.min() >= -2 and x.max() < 3
    assert abs(x.mean() - 0.5) < 0.03 and abs(x.var() - 25 / 12) < 0.05


def test_uniform_default_is_unit_interval():
    x = tf.random.uniform([10000]).numpy()
    assert x.min() >= 0 and x.max() < 1 and 0.45 < x.mean() < 0.55


def test_truncated_normal_within_two_stddev():
    tf.random.set_seed(0)
    x = tf.random.truncated_normal([100000], mean=1.0, stddev=2.0).numpy()
    assert x.min() >= -3 and x.max() <= 5
    # a unit normal cut at +-2 has standard deviation 0.8796
    assert abs(x.std() / 2.0 - 0.87962566) < 0.01 and abs(x.mean() - 1.0) < 0.02


@pytest.mark.parametrize("dtype", [tf.int32, tf.int64])
def test_uniform_int(dtype):
    tf.random.set_seed(0)
    x = tf.random.uniform([20000], minval=-3, maxval=4, dtype=dtype)
    assert x.dtype is dtype
    values = x.numpy()
    assert set(np.unique(values).tolist()) == set(range(-3, 4))


@pytest.mark.parametrize("dtype", [tf.int32, tf.int64])
def test_uniform_int_needs_maxval(dtype):
    with pytest.raises(ValueError, match="Must specify maxval for integer dtype tf.%s"
                       % dtype.name):
        tf.random.uniform([2], dtype=dtype)


def test_uniform_int_empty_range():
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"Need minval < maxval, got 5 >= 5"):
        tf.random.uniform([2], minval=5, maxval=5, dtype=tf.int32)


def test_uniform_bad_dtype():
    with pytest.raises(ValueError, match="Argument `dtype` got invalid value tf.bool"):
        tf.random.uniform([2], dtype=tf.bool)


def test_normal_int_dtype_rejected():
    with pytest.raises(TypeError, match="DataType int32 not in list of allowed values"):
        tf.random.normal([2], dtype=tf.int32)


def test_negative_shape_rejected():
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"\[2, -1\].*\[Op:RandomStandard"):
        tf.random.normal([2, -1])


def test_mean_shape_mismatch_is_invalid_argument():
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"do not broadcast.*\(3,\)"):
        tf.random.normal([3], mean=[1.0, 2.0])


def test_set_seed_rejects_non_integers():
    with pytest.raises(TypeError, match="integer seed"):
        tf.random.set_seed("abc")


def test_initializer_seed_stream_restarts_with_set_seed():
    tf.random.set_seed(1)
    first = [mrandom._initializer_seed() for _ in range(2)]
    tf.random.set_seed(1)
    assert [mrandom._initializer_seed() for _ in range(2)] == first
    # Keras 3's seeds after random.seed(1) (TF_SEMANTICS.md section 2.14 C)
    assert first == [144272510, 611178003]


def test_generator_is_deterministic_per_key():
    a = mrandom._Generator.from_seeds(3, 4).uniform((5,), np.float32)
    b = mrandom._Generator.from_seeds(3, 4).uniform((5,), np.float32)
    c = mrandom._Generator.from_seeds(3, 5).uniform((5,), np.float32)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


# -- TensorFlow's exact streams (TF_SEMANTICS.md section 2.14) ---------------------------------

GOLDEN = Path(__file__).resolve().parents[2] / "shared" / "golden"


def _op_seed_after(global_seed, calls=1):
    """The op seed of the calls-th random op after set_seed (TF's internal_operation_seed)."""
    rng = random.Random(global_seed)
    return [rng.randint(0, 2**31 - 1) for _ in range(calls)][-1]


def test_normal_after_set_seed_is_tensorflows():
    # recorded on TensorFlow 2.21 (TF_SEMANTICS.md 2.14 D; the lab's "Initializing x")
    tf.random.set_seed(1)
    np.testing.assert_allclose(tf.random.normal([2]).numpy(), [-1.1012203, 1.5457517],
                               rtol=0, atol=1e-6)
    tf.random.set_seed(1)
    x = tf.Variable([tf.random.normal([1])])
    np.testing.assert_allclose(x.numpy(), [[-1.1012203]], atol=1e-6)


def test_stateful_ops_use_key_global_seed_and_counter_op_seed():
    tf.random.set_seed(3)
    got = [tf.random.uniform([5]).numpy(), tf.random.normal([3], dtype=tf.float64).numpy()]
    gen = [mrandom._Generator(3, _op_seed_after(3, k) << 64) for k in (1, 2)]
    np.testing.assert_array_equal(got[0], gen[0].uniform((5,), np.float32))
    np.testing.assert_array_equal(got[1], gen[1].normal((3,), np.float64))


def test_repeated_op_seed_continues_256_counters_per_output():
    # TF's stateful kernels reserve 256 counters per output (GuardedPhiloxRandom)
    tf.random.set_seed(5)
    tf.random.uniform([4], seed=9)
    second = tf.random.uniform([3], seed=9).numpy()
    ref = mrandom._Generator(5, (9 << 64) + 4 * 256).uniform((3,), np.float32)
    np.testing.assert_array_equal(second, ref)
    # a different op (or dtype) with the same seeds is another kernel: it starts afresh
    np.testing.assert_array_equal(tf.random.normal([2], seed=9).numpy(),
                                  mrandom._Generator(5, 9 << 64).normal((2,), np.float32))


def test_op_seed_alone_pairs_with_default_global_seed():
    got = tf.random.uniform([3], seed=4).numpy()
    np.testing.assert_array_equal(got, mrandom._Generator(87654321, 4 << 64).uniform(
        (3,), np.float32))


def test_seeds_are_truncated_like_tensorflow():
    # random_seed.get_seed: seeds modulo 2**31 - 1, and (0, 0) becomes (0, 2**31 - 1)
    tf.random.set_seed(2**31 - 1 + 7)
    a = tf.random.uniform([2], seed=2**31 + 1).numpy()
    np.testing.assert_array_equal(a, mrandom._Generator(7, 2 << 64).uniform((2,), np.float32))
    tf.random.set_seed(0)
    b = tf.random.uniform([2], seed=0).numpy()
    np.testing.assert_array_equal(b, mrandom._Generator(0, (2**31 - 1) << 64).uniform(
        (2,), np.float32))


def test_uniform_scaling_is_done_in_the_dtype():
    tf.random.set_seed(2)
    got = tf.random.uniform([6], minval=-3.0, maxval=5.0).numpy()
    u = mrandom._Generator(2, _op_seed_after(2) << 64).uniform((6,), np.float32)
    np.testing.assert_array_equal(got, u * np.float32(8.0) + np.float32(-3.0))


@pytest.mark.parametrize("dtype, low, high", [(tf.int32, -3, 4), (tf.int64, -2**40, 2**40 + 5),
                                              (tf.int32, -2**31, 2**31 - 1)])
def test_uniform_int_is_word_modulo_range(dtype, low, high):
    tf.random.set_seed(4)
    got = tf.random.uniform([9], minval=low, maxval=high, dtype=dtype).numpy()
    gen = mrandom._Generator(4, _op_seed_after(4) << 64)
    if dtype is tf.int32:
        ref = [low + int(w) % (high - low) for w in gen.uint32(9)]
    else:
        w = [int(x) for x in gen.uint32(18)]
        ref = [low + (w[2 * i] | w[2 * i + 1] << 32) % (high - low) for i in range(9)]
    assert got.tolist() == ref and got.dtype == dtype.as_numpy_dtype


def test_uniform_int_bounds_must_be_scalars():
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"maxval must be 0-D, got shape "
                       r"\[2\] \[Op:RandomUniformInt\]"):
        tf.random.uniform([2], maxval=[3, 4], dtype=tf.int32)


def test_float16_uniform_uses_ten_bits_per_word():
    tf.random.set_seed(6)
    got = tf.random.uniform([5], dtype=tf.float16).numpy()
    words = mrandom._Generator(6, _op_seed_after(6) << 64).uint32(5)
    np.testing.assert_array_equal(got, ((words & 0x3FF) / 1024.0).astype(np.float16))


@pytest.mark.parametrize("value", [[10, 20, 30, 40, 50], [[1, 2], [3, 4], [5, 6]]])
def test_shuffle_is_tensorflows_permutation(value):
    tf.random.set_seed(8)
    got = tf.random.shuffle(tf.constant(value)).numpy()
    words = mrandom._Generator(8, _op_seed_after(8) << 64).uint32(len(value) - 1)
    order = list(range(len(value)))
    for i in range(len(value) - 1):
        j = i + int(words[i]) % (len(value) - i)
        order[i], order[j] = order[j], order[i]
    np.testing.assert_array_equal(got, np.array(value)[order])


@pytest.mark.parametrize("value", [5.0, [7], [[1, 2]], np.zeros((0, 3))])
def test_shuffle_small_inputs_unchanged(value):
    out = tf.random.shuffle(tf.constant(value))
    np.testing.assert_array_equal(out.numpy(), np.asarray(value, dtype=out.numpy().dtype))


def test_categorical_is_inverse_cdf_on_doubles():
    logits = np.log([[0.2, 0.3, 0.5], [0.7, 0.1, 0.2]]).astype(np.float32)
    tf.random.set_seed(9)
    got = tf.random.categorical(logits, 6).numpy()
    u = mrandom._Generator(9, _op_seed_after(9) << 64).doubles(12).reshape(2, 6)
    p = np.exp(logits.astype(np.float64) - logits.max(axis=1, keepdims=True))
    cdf = np.cumsum(p, axis=1)
    ref = [[int(np.sum(cdf[b] <= u[b, j] * cdf[b, -1])) for j in range(6)] for b in range(2)]
    assert got.tolist() == ref and got.dtype == np.int64


def test_categorical_frequencies_and_masked_classes():
    tf.random.set_seed(0)
    got = tf.random.categorical([[0.0, np.log(3.0), -np.inf]], 40000, dtype=tf.int32).numpy()
    assert got.dtype == np.int32 and set(np.unique(got).tolist()) == {0, 1}
    assert abs((got == 1).mean() - 0.75) < 0.01


def test_categorical_errors():
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"logits should be a matrix, got "
                       r"shape \[3\](.|\n)*\[Op:Multinomial\]"):
        tf.random.categorical([0.0, 1.0, 2.0], 1)
    with pytest.raises(tf.errors.InvalidArgumentError, match="num_samples should be nonnegative"):
        tf.random.categorical([[0.0, 1.0]], -1)
    with pytest.raises(ValueError, match="Argument `dtype` got invalid value tf.float32"):
        tf.random.categorical([[0.0, 1.0]], 1, dtype=tf.float32)
    assert tf.random.categorical([[0.0, 1.0]], 0).shape == (1, 0)


# -- stateless ops -----------------------------------------------------------------------------

def _lab_layer(glorot):
    """The lab's OurDenseLayer(3) on [[1, 2]] with weights from two GlorotUniform seeds."""
    w = glorot((2, 3)).numpy().astype(np.float64)
    b = glorot((1, 3)).numpy().astype(np.float64)
    return 1 / (1 + np.exp(-(np.array([[1.0, 2.0]]) @ w + b)))


def test_stateless_uniform_gives_tensorflows_layer_output():
    # TensorFlow 2.21 printed [[0.27064407 0.18269512 0.50374055]] (golden/seed_lab1.tensorflow
    # .txt) for weights glorot-uniform seeded [144272510, 0] and [611178003, 0] (section 2.14 C)
    def glorot(shape):
        limit = np.sqrt(6.0 / (shape[0] + shape[1]))
        seed = {(2, 3): 144272510, (1, 3): 611178003}[shape]
        return tf.random.stateless_uniform(shape, [seed, 0], -limit, limit)
    np.testing.assert_allclose(_lab_layer(glorot), [[0.27064407, 0.18269512, 0.50374055]],
                               rtol=0, atol=1e-7)


def test_initializers_after_set_seed_give_the_lab_output():
    tf.random.set_seed(1)
    out = _lab_layer(lambda shape: tf.keras.initializers.GlorotUniform()(shape))
    np.testing.assert_allclose(out, [[0.27064407, 0.18269512, 0.50374055]], rtol=0, atol=1e-7)


def test_keras_set_random_seed_matches_tf_set_seed():
    state = random.getstate()
    try:
        tf.keras.utils.set_random_seed(1)
        a = tf.keras.layers.Dense(3)
        a.build((1, 2))
        tf.random.set_seed(1)
        b = tf.keras.layers.Dense(3)
        b.build((1, 2))
        np.testing.assert_array_equal(a.kernel.numpy(), b.kernel.numpy())
    finally:
        random.setstate(state)


@pytest.mark.parametrize("dtype", [tf.float32, tf.float64])
def test_stateless_uniform_is_the_scrambled_stream(dtype):
    seed = [1, 2]
    # GenerateKey: philox([s0 lo, s0 hi, s1 lo, s1 hi], [0x3ec8f720, 0x02461e29])
    mix = [int(w) for w in mrandom._Generator(0x02461E29 << 32 | 0x3EC8F720,
                                              1 | 2 << 64).uint32(4)]
    gen = mrandom._Generator(mix[0] | mix[1] << 32, (mix[2] | mix[3] << 32) << 64)
    got = tf.random.stateless_uniform([7], seed, dtype=dtype).numpy()
    np.testing.assert_array_equal(got, gen.uniform((7,), dtype.as_numpy_dtype))
    again = tf.random.stateless_uniform([7], tf.constant(seed), dtype=dtype).numpy()
    np.testing.assert_array_equal(got, again)


def test_stateless_seed_sign_extends():
    a = tf.random.stateless_uniform([3], [-1, 5]).numpy()
    b = mrandom._Generator.stateless(2**64 - 1, 5).uniform((3,), np.float32)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, tf.random.stateless_uniform([3], [2**32 - 1, 5]).numpy())


@pytest.mark.parametrize("fn", [tf.random.stateless_normal, tf.random.stateless_truncated_normal,
                                tf.random.stateless_uniform])
@pytest.mark.parametrize("shape", [[], [0], [1, 1], [3, 5]])
def test_stateless_shapes_and_determinism(fn, shape):
    a, b = fn(shape, seed=[4, 5]), fn(shape, seed=[4, 5])
    assert tuple(a.shape) == tuple(shape) and a.dtype is tf.float32
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_stateless_normal_moments_and_parameters():
    x = tf.random.stateless_normal([100000], [7, 8], mean=2.0, stddev=3.0,
                                   dtype=tf.float64).numpy()
    assert abs(x.mean() - 2) < 0.03 and abs(x.std() - 3) < 0.03
    t = tf.random.stateless_truncated_normal([100000], [7, 8], mean=1.0, stddev=2.0).numpy()
    assert t.min() > -3 and t.max() < 5 and abs(t.std() / 2 - 0.87962566) < 0.01
    z = tf.random.stateless_normal([4], [7, 8]).numpy()
    np.testing.assert_allclose(tf.random.stateless_normal([4], [7, 8], 1.0, 2.0).numpy(),
                               z * 2 + 1, rtol=1e-6)


def test_stateless_uniform_ints():
    x = tf.random.stateless_uniform([5000], [1, 1], minval=-2, maxval=3, dtype=tf.int64).numpy()
    assert x.dtype == np.int64 and set(np.unique(x).tolist()) == {-2, -1, 0, 1, 2}
    full = tf.random.stateless_uniform([4], [1, 1], minval=None, maxval=None, dtype=tf.int32)
    assert full.dtype is tf.int32
    with pytest.raises(ValueError, match="must be both None or not None"):
        tf.random.stateless_uniform([2], [1, 1], dtype=tf.int32)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"Need minval < maxval, got 3 >= "
                       r"3 \[Op:StatelessRandomUniformIntV2\]"):
        tf.random.stateless_uniform([2], [1, 1], minval=3, maxval=3, dtype=tf.int32)


@pytest.mark.parametrize("seed, match", [([1, 2, 3], r"seed must have shape \[2\], not \[3\]"),
                                         (5, r"seed must have shape \[2\], not \[\]"),
                                         ([1.5, 2.0], "seed must be an integer tensor")])
def test_stateless_bad_seed(seed, match):
    with pytest.raises(tf.errors.InvalidArgumentError, match=match):
        tf.random.stateless_normal([2], seed)


# -- Keras initializers use the stateless ops seeded [seed, 0] ---------------------------------

@pytest.mark.parametrize("init, op", [
    (lambda: tf.keras.initializers.RandomUniform(-0.5, 0.25, seed=11),
     lambda: tf.random.stateless_uniform((4, 3), [11, 0], -0.5, 0.25)),
    (lambda: tf.keras.initializers.RandomNormal(0.5, 2.0, seed=11),
     lambda: tf.random.stateless_normal((4, 3), [11, 0], 0.5, 2.0)),
    (lambda: tf.keras.initializers.TruncatedNormal(0.0, 0.1, seed=11),
     lambda: tf.random.stateless_truncated_normal((4, 3), [11, 0], 0.0, 0.1)),
    (lambda: tf.keras.initializers.GlorotUniform(seed=11),
     lambda: tf.random.stateless_uniform((4, 3), [11, 0], -np.sqrt(6 / 7), np.sqrt(6 / 7))),
    (lambda: tf.keras.initializers.HeNormal(seed=11),
     lambda: tf.random.stateless_truncated_normal((4, 3), [11, 0], 0.0,
                                                  np.sqrt(2 / 4) / 0.87962566103423978)),
    (lambda: tf.keras.initializers.VarianceScaling(2.0, "fan_out", "untruncated_normal", seed=11),
     lambda: tf.random.stateless_normal((4, 3), [11, 0], 0.0, np.sqrt(2 / 3))),
])
def test_initializers_are_stateless_ops(init, op):
    fill = init()
    np.testing.assert_array_equal(fill((4, 3)).numpy(), op().numpy())
    np.testing.assert_array_equal(fill((4, 3)).numpy(), op().numpy())  # same on every call


def test_initializer_float64():
    out = tf.keras.initializers.GlorotUniform(seed=3)((2, 2), dtype=tf.float64)
    ref = tf.random.stateless_uniform((2, 2), [3, 0], -np.sqrt(1.5), np.sqrt(1.5), tf.float64)
    assert out.dtype is tf.float64
    np.testing.assert_array_equal(out.numpy(), ref.numpy())


# -- the seed document's lab, end to end -------------------------------------------------------

def _run_golden(tmp_path):
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, str(GOLDEN / "seed_lab1.py"), "microtf"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()


def _numbers(line):
    return [float(x) for x in re.findall(r"-?\d+\.\d*(?:e[-+]?\d+)?", line)]


@pytest.mark.skipif(not GOLDEN.is_dir(), reason="shared/golden not found beside the repository")
@pytest.mark.skipif(importlib.util.find_spec("matplotlib") is None, reason="needs matplotlib")
def test_seed_lab_prints_tensorflows_numbers(tmp_path):
    """golden/seed_lab1.tensorflow.txt was recorded on TensorFlow 2.21 (TF_SEMANTICS.md 2.15)."""
    golden = (GOLDEN / "seed_lab1.tensorflow.txt").read_text().splitlines()
    out = _run_golden(tmp_path)
    assert len(out) == len(golden)
    for got, want in zip(out, golden):
        np.testing.assert_allclose(_numbers(got), _numbers(want), rtol=0, atol=1e-6,
                                   err_msg="%r vs TensorFlow's %r" % (got, want))


def test_layer_output_same_in_two_processes():
    code = ("import microtf as tf\n"
            "tf.random.set_seed(1)\n"
            "init = tf.keras.initializers.GlorotUniform()\n"
            "w, b = init((2, 3)), tf.keras.initializers.GlorotUniform()((1, 3))\n"
            "print(tf.sigmoid(tf.matmul(tf.constant([[1.0, 2.0]]), w) + b).numpy().tolist())\n")
    env = dict(os.environ)
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                           check=True).stdout for _ in range(2)}
    assert len(outs) == 1
    np.testing.assert_allclose(eval(outs.pop())[0], [0.27064407, 0.1826951, 0.50374055],
                               atol=1e-7)


@pytest.mark.parametrize("dtype", [tf.float32, tf.float64])
def test_extreme_parameters_give_ieee_results(dtype):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning may leak
        assert np.isposinf(tf.random.normal([5], mean=np.inf, dtype=dtype).numpy()).all()
        assert np.isnan(tf.random.stateless_normal([5], [1, 2], stddev=np.nan,
                                                   dtype=dtype).numpy()).all()
        np.testing.assert_array_equal(tf.random.normal([3], mean=2.5, stddev=0.0,
                                                       dtype=dtype).numpy(), [2.5] * 3)
        tiny = np.finfo(dtype.as_numpy_dtype).smallest_subnormal
        x = tf.random.uniform([1000], maxval=tiny * 8, dtype=dtype).numpy()
        # u * maxval rounds to the nearest subnormal, so maxval itself can occur (as in TF)
        assert x.min() >= 0 and x.max() <= tiny * 8 and len(np.unique(x)) > 4
        huge = tf.random.uniform([4], minval=-1e30, maxval=1e30, dtype=dtype).numpy()
        assert np.isfinite(huge).all() and np.abs(huge).max() <= 1e30


def test_categorical_all_masked_row_gives_num_classes():
    # TF's CPU kernel finds no class above 0 in an all-zero CDF: index num_classes
    out = tf.random.categorical([[-np.inf, -np.inf]], 3).numpy()
    assert out.tolist() == [[2, 2, 2]]


def test_failing_call_still_uses_an_op_seed_as_tensorflow():
    # TF's Python wrapper draws the op seed before the kernel rejects the input
    tf.random.set_seed(1)
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.random.uniform([2], minval=3, maxval=3, dtype=tf.int32)
    after_error = tf.random.normal([2]).numpy()
    tf.random.set_seed(1)
    tf.random.normal([1])
    np.testing.assert_array_equal(after_error, tf.random.normal([2]).numpy())


def test_drawn_op_seeds_keep_no_state():
    tf.random.set_seed(1)
    for _ in range(50):
        tf.random.uniform([2])
    assert mrandom._state.kernels == {}
    tf.random.uniform([2], seed=3)
    assert len(mrandom._state.kernels) == 1

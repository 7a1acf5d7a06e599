"""tf.random: seeding, shapes, dtypes, distributions and errors (numpy statistics as oracle)."""
import random

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

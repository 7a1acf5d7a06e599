"""microtf's kernel-backed ops against numpy doing the same work, in the same run.

    python -m pytest bench                      # all groups
    python -m pytest bench -k sigmoid           # one family

Each benchmark group holds one piece of work done by microtf and by numpy; pytest-benchmark's
table prints, in parentheses, each row's time as a ratio to the fastest row of its group.
"""
import numpy as np
import pytest

import microtf as tf
from microtf.ops import math_ops

DTYPES = [np.float32, np.float64]


def _rand(shape, dtype, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _name(dtype):
    return np.dtype(dtype).name


# -- matmul ------------------------------------------------------------------------------------
MATMUL_SIZES = [(1, 2, 3), (64, 64, 64), (256, 256, 256), (1024, 1024, 1024)]


@pytest.mark.parametrize("dtype", DTYPES, ids=_name)
@pytest.mark.parametrize("m,k,n", MATMUL_SIZES, ids=lambda v: str(v))
@pytest.mark.parametrize("impl", ["microtf", "numpy"])
def test_matmul_forward(benchmark, impl, m, k, n, dtype):
    benchmark.group = "matmul forward %dx%d@%dx%d %s" % (m, k, k, n, _name(dtype))
    a, b = _rand((m, k), dtype), _rand((k, n), dtype, 1)
    if impl == "microtf":
        ta, tb = tf.constant(a), tf.constant(b)
        benchmark(tf.matmul, ta, tb)
    else:
        benchmark(np.matmul, a, b)


@pytest.mark.parametrize("dtype", DTYPES, ids=_name)
@pytest.mark.parametrize("m,k,n", MATMUL_SIZES[1:3], ids=lambda v: str(v))
@pytest.mark.parametrize("impl", ["microtf", "numpy"])
def test_matmul_forward_backward(benchmark, impl, m, k, n, dtype):
    """c = a @ b, then da = dy @ b^T and db = a^T @ dy."""
    benchmark.group = "matmul fwd+bwd %dx%d@%dx%d %s" % (m, k, k, n, _name(dtype))
    a, b = _rand((m, k), dtype), _rand((k, n), dtype, 1)
    if impl == "microtf":
        ta, tb = tf.constant(a), tf.constant(b)

        def step():
            with tf.GradientTape() as tape:
                tape.watch(ta)
                tape.watch(tb)
                c = tf.matmul(ta, tb)
            return tape.gradient(c, [ta, tb])
    else:
        def step():
            c = a @ b
            dy = np.ones_like(c)
            return dy @ b.T, a.T @ dy
    benchmark(step)


# -- add ---------------------------------------------------------------------------------------
ADD_CASES = {"same (1,3)": ((1, 3), (1, 3)), "same (512,512)": ((512, 512), (512, 512)),
             "bias row (256,1024)+(1024,)": ((256, 1024), (1024,))}


@pytest.mark.parametrize("dtype", DTYPES, ids=_name)
@pytest.mark.parametrize("case", list(ADD_CASES))
@pytest.mark.parametrize("impl", ["microtf", "numpy"])
def test_add_forward(benchmark, impl, case, dtype):
    benchmark.group = "add %s %s" % (case, _name(dtype))
    xs, ys = ADD_CASES[case]
    x, y = _rand(xs, dtype), _rand(ys, dtype, 1)
    if impl == "microtf":
        benchmark(tf.add, tf.constant(x), tf.constant(y))
    else:
        benchmark(np.add, x, y)


@pytest.mark.parametrize("dtype", DTYPES, ids=_name)
@pytest.mark.parametrize("impl", ["microtf", "numpy"])
def test_add_backward_bias_row(benchmark, impl, dtype):
    """The bias gradient of a bias-row add: dy (256,1024) summed over rows."""
    benchmark.group = "add backward bias row (256,1024)->(1024,) %s" % _name(dtype)
    dy = _rand((256, 1024), dtype)
    if impl == "microtf":
        benchmark(math_ops.sum_to_shape, tf.constant(dy), (1024,))
    else:
        benchmark(np.sum, dy, axis=0)


# -- sigmoid -----------------------------------------------------------------------------------
SIGMOID_SIZES = [10 ** 4, 10 ** 6]


def _expit():
    from scipy.special import expit
    return expit


@pytest.mark.parametrize("size", SIGMOID_SIZES)
@pytest.mark.parametrize("impl", ["microtf", "numpy 1/(1+exp(-x))", "scipy expit"])
def test_sigmoid_forward(benchmark, impl, size):
    benchmark.group = "sigmoid forward %d float32" % size
    x = _rand((size,), np.float32)
    if impl == "microtf":
        benchmark(tf.sigmoid, tf.constant(x))
    elif impl == "scipy expit":
        benchmark(_expit(), x)
    else:
        benchmark(lambda: 1 / (1 + np.exp(-x)))


@pytest.mark.parametrize("size", SIGMOID_SIZES)
@pytest.mark.parametrize("impl", ["microtf", "numpy"])
def test_sigmoid_backward(benchmark, impl, size):
    """dx = dy * y * (1 - y) from the saved output y."""
    benchmark.group = "sigmoid backward %d float32" % size
    y = 1 / (1 + np.exp(-_rand((size,), np.float32)))
    dy = _rand((size,), np.float32, 1)
    if impl == "microtf":
        benchmark(math_ops.sigmoid_grad, tf.constant(y), tf.constant(dy))
    else:
        benchmark(lambda: dy * y * (1 - y))

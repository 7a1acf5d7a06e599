"""tf.random (Philox4x32-10, csrc/philox.pyx) against numpy's default generator, same run.

    python -m pytest bench/test_random.py

Each group fills one 10**7-element tensor; pytest-benchmark prints, in parentheses, each row's
time as a ratio to the fastest row of its group. microtf computes TensorFlow's exact stream
(10 Philox rounds per 4 words, on two threads above 2**18 elements); numpy uses PCG64.
"""
import numpy as np
import pytest

import microtf as tf
from microtf._kernels import philox_uniform

N = 10**7


@pytest.mark.parametrize("impl", ["microtf", "microtf kernel", "numpy"])
def test_uniform_float32(benchmark, impl):
    benchmark.group = "uniform float32 %d" % N
    tf.random.set_seed(1)
    if impl == "microtf":
        benchmark(tf.random.uniform, [N])
    elif impl == "microtf kernel":
        out = np.empty(N, np.float32)
        benchmark(philox_uniform, 1, 0, 1, out)
    else:
        rng = np.random.default_rng()
        benchmark(rng.random, N, dtype=np.float32)


@pytest.mark.parametrize("impl", ["microtf", "numpy"])
def test_normal_float32(benchmark, impl):
    benchmark.group = "normal float32 %d" % N
    tf.random.set_seed(1)
    if impl == "microtf":
        benchmark(tf.random.normal, [N])
    else:
        rng = np.random.default_rng()
        benchmark(rng.standard_normal, N, dtype=np.float32)


@pytest.mark.parametrize("impl", ["microtf", "numpy"])
def test_stateless_uniform_float64(benchmark, impl):
    benchmark.group = "uniform float64 %d" % N
    if impl == "microtf":
        benchmark(tf.random.stateless_uniform, [N], seed=[1, 2], dtype=tf.float64)
    else:
        rng = np.random.default_rng()
        benchmark(rng.random, N)

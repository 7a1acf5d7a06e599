"""csrc/nn.pyx kernels against the numpy formulas they replaced, measured in the same run.

    python -m pytest bench/test_nn_kernels.py             # every group
    python -m pytest bench/test_nn_kernels.py -k xent     # the cross-entropies only

Each group holds one piece of work done by the kernel-backed op forward (on numpy arrays, as the
registry calls it) and by the numpy composition nn_ops used before the kernels (kept below as
the baseline); pytest-benchmark prints each row's time as a ratio to the fastest of its group.
"""
import numpy as np
import pytest

from microtf.ops import nn_ops

DTYPES = [np.float32, np.float64]
RELU_SHAPES = [(32, 128), (256, 1024), (1024, 1024)]
XENT_SHAPES = [(32, 10), (256, 100), (1024, 1000)]


def _name(dtype):
    return np.dtype(dtype).name


def _rand(shape, dtype, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


# -- the numpy baselines (nn_ops before csrc/nn.pyx) ---------------------------------------------
def numpy_relu(x):
    return np.maximum(x, x.dtype.type(0))


def numpy_relu_grad(dy, y):
    return np.where(y > 0, dy, dy.dtype.type(0))


def _numpy_shifted_exp(x):
    with np.errstate(invalid="ignore", over="ignore"):
        shifted = x - np.max(x, axis=-1, keepdims=True, initial=-np.inf)
        e = np.exp(shifted)
    return shifted, e, np.sum(e, axis=-1, keepdims=True)


def numpy_softmax_xent(logits, labels):
    shifted, e, total = _numpy_shifted_exp(logits)
    with np.errstate(invalid="ignore", divide="ignore"):
        loss = np.sum(labels * (np.log(total) - shifted), axis=-1)
        backprop = e / total - labels
    return loss, backprop


def numpy_sparse_softmax_xent(logits, labels):
    n = logits.shape[-1]
    if ((labels < 0) | (labels >= n)).any():
        raise ValueError("label out of range")
    idx = labels[..., None].astype(np.intp)
    shifted, e, total = _numpy_shifted_exp(logits)
    with np.errstate(invalid="ignore", divide="ignore"):
        loss = (np.log(total) - np.take_along_axis(shifted, idx, axis=-1))[..., 0]
        backprop = e / total
    np.put_along_axis(backprop, idx, np.take_along_axis(backprop, idx, axis=-1) - 1, axis=-1)
    return loss, backprop


def _forward(public_op):
    """The registered forward on ndarrays: the kernel plus its output allocation."""
    return public_op.op_def.forward


# -- relu -------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES, ids=_name)
@pytest.mark.parametrize("shape", RELU_SHAPES, ids=str)
@pytest.mark.parametrize("impl", ["kernel", "numpy"])
def test_relu_forward(benchmark, impl, shape, dtype):
    benchmark.group = "relu forward %s %s" % (shape, _name(dtype))
    x = _rand(shape, dtype)
    fn = _forward(nn_ops.relu) if impl == "kernel" else numpy_relu
    np.testing.assert_array_equal(benchmark(fn, x), numpy_relu(x))


@pytest.mark.parametrize("dtype", DTYPES, ids=_name)
@pytest.mark.parametrize("shape", RELU_SHAPES, ids=str)
@pytest.mark.parametrize("impl", ["kernel", "numpy"])
def test_relu_backward(benchmark, impl, shape, dtype):
    benchmark.group = "relu backward %s %s" % (shape, _name(dtype))
    y, dy = numpy_relu(_rand(shape, dtype)), _rand(shape, dtype, 1)
    fn = _forward(nn_ops.relu_grad) if impl == "kernel" else numpy_relu_grad
    np.testing.assert_array_equal(benchmark(fn, dy, y), numpy_relu_grad(dy, y))


# -- softmax cross-entropies --------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES, ids=_name)
@pytest.mark.parametrize("shape", XENT_SHAPES, ids=str)
@pytest.mark.parametrize("impl", ["kernel", "numpy"])
def test_softmax_xent(benchmark, impl, shape, dtype):
    benchmark.group = "softmax xent %s %s" % (shape, _name(dtype))
    logits = _rand(shape, dtype)
    labels = np.random.default_rng(1).dirichlet(np.ones(shape[-1]), shape[0]).astype(dtype)
    if impl == "kernel":
        loss, _ = benchmark(_forward(nn_ops._softmax_xent), logits, labels, axis=1)
    else:
        loss, _ = benchmark(numpy_softmax_xent, logits, labels)
    np.testing.assert_allclose(loss, numpy_softmax_xent(logits, labels)[0], rtol=1e-4)


@pytest.mark.parametrize("dtype", DTYPES, ids=_name)
@pytest.mark.parametrize("shape", XENT_SHAPES, ids=str)
@pytest.mark.parametrize("impl", ["kernel", "numpy"])
def test_sparse_softmax_xent(benchmark, impl, shape, dtype):
    benchmark.group = "sparse softmax xent %s %s" % (shape, _name(dtype))
    logits = _rand(shape, dtype)
    labels = np.random.default_rng(1).integers(0, shape[-1], shape[0]).astype(np.int32)
    if impl == "kernel":
        loss, _ = benchmark(_forward(nn_ops._sparse_softmax_xent), logits, labels, axis=1)
    else:
        loss, _ = benchmark(numpy_sparse_softmax_xent, logits, labels)
    np.testing.assert_allclose(loss, numpy_sparse_softmax_xent(logits, labels)[0], rtol=1e-4)

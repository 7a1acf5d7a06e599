"""Issue 5's framework comparisons: TensorFlow and PyTorch doing the work of targets 1-3 (the
lab's SGD loop, tiny ops, a Dense layer's forward and backward), in groups of their own beside
microtf and numpy. Each framework is skipped when it is not installed (neither is needed).

    python -m pytest bench/test_peers.py
"""
import numpy as np
import pytest

import microtf
from microtf import bench

X0 = np.array([0.5], np.float32)
FRAMEWORKS = ["microtf", "tensorflow", "torch", "numpy"]


def _module(name):
    return microtf if name == "microtf" else pytest.importorskip(name)


def torch_sgd(torch, x0, steps=500, learning_rate=1e-2, x_f=4):
    """The lab's loop in PyTorch: autograd.grad for the tape, an in-place update for assign."""
    x = torch.tensor(np.array([x0]), requires_grad=True)
    history = []
    for _ in range(steps):
        loss = torch.pow(x - x_f, 2)
        (grad,) = torch.autograd.grad(loss.sum(), x)  # tape.gradient sums a non-scalar target
        with torch.no_grad():
            x -= learning_rate * grad
        history.append(x.detach().numpy()[0].copy())
    return history


def torch_dense_step(torch, batch, width=1024, dtype=np.float32):
    x = torch.from_numpy(bench._rand((batch, width), dtype))
    w = torch.from_numpy(bench._rand((width, width), dtype, 1, width ** -0.5)).requires_grad_()
    b = torch.zeros(width, dtype=w.dtype, requires_grad=True)

    def step():
        loss = torch.sigmoid(x @ w + b).sum()
        return loss, torch.autograd.grad(loss, [w, b])
    return step


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_peer_lab_sgd(benchmark, framework):
    benchmark.group = "peers: 1 lab SGD loop, 500 steps"
    if framework == "numpy":
        benchmark(bench.numpy_sgd, X0)
    elif framework == "torch":
        benchmark(torch_sgd, _module("torch"), X0)
    else:
        tf = _module(framework)
        benchmark(bench.lab_sgd, tf, tf.constant(X0))


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_peer_dense(benchmark, framework, dtype):
    benchmark.group = "peers: 3 Dense 256x1024 @ 1024x1024 fwd+bwd %s" % np.dtype(dtype).name
    if framework == "torch":
        benchmark(torch_dense_step(_module("torch"), 256, dtype=dtype))
    else:
        ours, ref = bench.dense_pair(256, dtype=dtype, tf=_module(
            "microtf" if framework == "numpy" else framework))
        benchmark(ref if framework == "numpy" else ours)


@pytest.mark.parametrize("taped", [False, True], ids=["no tape", "recording"])
@pytest.mark.parametrize("op", ["add", "multiply", "matmul", "sigmoid"])
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_peer_tiny_op(benchmark, framework, op, taped):
    """Shape (1,3); matmul is (1,3)@(3,3). Recording: inputs watched (TF) or requiring grad."""
    benchmark.group = "peers: 2 %s (1,3), %s" % (op, "recording" if taped else "no tape")
    x, y = bench._rand((1, 3)), bench._rand((3, 3) if op == "matmul" else (1, 3), seed=1)
    if framework == "numpy":
        fn = {"add": np.add, "multiply": np.multiply, "matmul": np.matmul,
              "sigmoid": lambda a, b: bench._numpy_sigmoid(a)}[op]
        benchmark(fn, x, y)
        return
    mod = _module(framework)
    if framework == "torch":
        tx, ty = (mod.tensor(a, requires_grad=taped) for a in (x, y))
        fn = {"add": mod.add, "multiply": mod.mul, "matmul": mod.matmul,
              "sigmoid": lambda a, b: mod.sigmoid(a)}[op]
        benchmark(fn, tx, ty)
        return
    tx, ty = mod.constant(x), mod.constant(y)
    fn = {"add": mod.add, "multiply": mod.multiply, "matmul": mod.matmul,
          "sigmoid": lambda a, b: mod.sigmoid(a)}[op]
    if not taped:
        benchmark(fn, tx, ty)
        return
    with mod.GradientTape() as tape:
        tape.watch(tx)
        tape.watch(ty)
        benchmark.pedantic(fn, (tx, ty), rounds=50, iterations=200, warmup_rounds=1)

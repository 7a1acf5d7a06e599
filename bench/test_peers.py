"""Issue 5's framework comparisons: TensorFlow and PyTorch doing the work of targets 1-4 (the
lab's SGD loop, tiny ops, a Dense layer's forward and backward, an epoch of the digits MLP), in
groups of their own beside microtf and numpy. Each framework is skipped when it is not installed
(neither is needed); target 4 also needs scikit-learn (the bundled digits set).

    python -m pytest bench/test_peers.py

Threads: one each, as `python -m microtf bench` does by default. BLAS (numpy's and scipy's
OpenBLAS, so numpy and microtf) is limited to 1 thread with threadpoolctl where it is installed,
PyTorch gets torch.set_num_threads(1) and TensorFlow 1 intra-op and 1 inter-op thread. Target 4
also runs PyTorch once with its default thread count ("torch default threads").
"""
import functools

import numpy as np
import pytest

import microtf
from microtf import bench

X0 = np.array([0.5], np.float32)
FRAMEWORKS = ["microtf", "tensorflow", "torch", "numpy"]
THREADS = 1
_TORCH_DEFAULT_THREADS = {}


@functools.lru_cache(maxsize=None)
def _imported(name):
    """Imports a peer once and gives it THREADS threads (None when it is not installed)."""
    try:
        mod = __import__(name)
    except ImportError:
        return None
    if name == "torch":
        _TORCH_DEFAULT_THREADS["torch"] = mod.get_num_threads()
        mod.set_num_threads(THREADS)
    elif name == "tensorflow":
        try:
            mod.config.threading.set_intra_op_parallelism_threads(THREADS)
            mod.config.threading.set_inter_op_parallelism_threads(THREADS)
        except RuntimeError:  # TensorFlow's runtime was already started by someone else
            pass
    return mod


def _module(name):
    if name == "microtf":
        return microtf
    mod = _imported(name)
    if mod is None:
        pytest.skip("could not import %r" % name)
    return mod


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=THREADS, user_api="blas"):
        yield


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


# -- 4: an epoch of the digits MLP ---------------------------------------------------------------
DIGITS = ["microtf", "microtf fit", "tensorflow", "tensorflow fit", "torch",
          "torch default threads", "numpy"]


@functools.lru_cache(maxsize=None)
def _digits_data():
    """All 1797 digits (train and test, as microtf/bench.py's target 4) and the initial weights
    [W1, b1, W2, b2] of microtf's 64-128-10 model, which every framework starts from."""
    from microtf.examples import train_digits as digits
    x_train, y_train, x_test, y_test = digits.load_data()
    microtf.keras.utils.set_random_seed(0)
    weights = digits.build_model(hidden=bench.DIGITS_HIDDEN).get_weights()
    return (np.concatenate([x_train, x_test]), np.concatenate([y_train, y_test]),
            [np.array(w) for w in weights])


def keras_tape_epoch(tf, model, optimizer, loss_fn, x, y, order, batch_size=bench.DIGITS_BATCH):
    """One epoch as train_digits.tape_epoch writes it, with `tf` the module (microtf or
    TensorFlow): forward under a tape, gradient, apply_gradients."""
    for start in range(0, len(order), batch_size):
        idx = order[start:start + batch_size]
        with tf.GradientTape() as tape:
            loss = loss_fn(y[idx], model(x[idx], training=True))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))


def keras_digits_epoch(tf, fit):
    """An epoch of Sequential([Dense(128, relu), Dense(10, softmax)]), SGD, sparse
    cross-entropy on the probabilities: model.fit(verbose=0) or the GradientTape loop."""
    x, y, weights = _digits_data()
    model = tf.keras.Sequential([
        tf.keras.Input((x.shape[1],)),
        tf.keras.layers.Dense(bench.DIGITS_HIDDEN, activation="relu"),
        tf.keras.layers.Dense(10, activation="softmax")])
    model.set_weights(weights)
    optimizer = tf.keras.optimizers.SGD(learning_rate=bench.DIGITS_LR)
    if fit:
        model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
        return lambda: model.fit(x, y, batch_size=bench.DIGITS_BATCH, epochs=1, verbose=0)
    loss_fn, rng = tf.keras.losses.SparseCategoricalCrossentropy(), np.random.default_rng(0)
    return lambda: keras_tape_epoch(tf, model, optimizer, loss_fn, x, y, rng.permutation(len(x)))


def torch_digits_epoch(torch):
    """The same network in PyTorch: nn.Linear layers, F.cross_entropy on the logits (the softmax
    folded into the loss), torch.optim.SGD, autograd for the tape."""
    x, y, (w1, b1, w2, b2) = _digits_data()
    model = torch.nn.Sequential(torch.nn.Linear(x.shape[1], bench.DIGITS_HIDDEN),
                                torch.nn.ReLU(), torch.nn.Linear(bench.DIGITS_HIDDEN, 10))
    with torch.no_grad():  # nn.Linear keeps its weight as (out, in): Keras's kernel transposed
        for layer, w, b in ((model[0], w1, b1), (model[2], w2, b2)):
            layer.weight.copy_(torch.from_numpy(w.T.copy()))
            layer.bias.copy_(torch.from_numpy(b))
    optimizer = torch.optim.SGD(model.parameters(), lr=bench.DIGITS_LR)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))  # cross_entropy: int64
    rng = np.random.default_rng(0)

    def epoch():
        order = torch.from_numpy(rng.permutation(len(x)))
        for start in range(0, len(order), bench.DIGITS_BATCH):
            idx = order[start:start + bench.DIGITS_BATCH]
            loss = torch.nn.functional.cross_entropy(model(tx[idx]), ty[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return epoch


def numpy_digits_epoch():
    from microtf.examples import train_digits as digits
    x, y, weights = _digits_data()
    net, rng = digits.NumpyMLP(weights, "sgd", bench.DIGITS_LR), np.random.default_rng(0)
    return lambda: net.epoch(x, y, bench.DIGITS_BATCH, rng.permutation(len(x)))


@pytest.mark.parametrize("framework", DIGITS)
def test_peer_digits_epoch(benchmark, framework):
    """One epoch (1797 digits, batch 64, SGD lr 0.01) of the 64-128 relu-10 softmax MLP, from the
    same initial weights; one untimed epoch first (TensorFlow's fit traces its step then)."""
    benchmark.group = "peers: 4 digits epoch 64-128-10, batch 64, SGD"
    pytest.importorskip("sklearn")
    name = framework.split()[0]
    if name == "numpy":
        epoch = numpy_digits_epoch()
    elif name == "torch":
        epoch = torch_digits_epoch(_module("torch"))
    else:
        epoch = keras_digits_epoch(_module(name), fit=framework.endswith(" fit"))
    if framework != "torch default threads":
        epoch()
        benchmark(epoch)
        return
    torch = _module("torch")
    torch.set_num_threads(_TORCH_DEFAULT_THREADS["torch"])
    try:
        epoch()
        benchmark(epoch)
    finally:
        torch.set_num_threads(THREADS)

"""Issue 5 target 4: one epoch of the digits MLP (64-128 relu-10 softmax, sparse cross-entropy,
batch 64, SGD) with model.fit(verbose=0), with a GradientTape loop, and written by hand in numpy,
measured in the same run (targets: tape <= 1.5x numpy, fit <= 2.0x).

    python -m pytest bench/test_digits.py

pytest-benchmark prints each row's time and its ratio to the fastest of the group (numpy).
Needs scikit-learn (the bundled digits set).
"""
import numpy as np
import pytest

pytest.importorskip("sklearn")

import microtf as tf  # noqa: E402
from microtf.examples import train_digits as digits  # noqa: E402

HIDDEN, BATCH, LR = 128, 64, 0.01  # SGD's default learning rate
GROUP = "digits epoch: 64-128-10 MLP, batch 64, SGD"


@pytest.fixture(scope="module")
def data():
    """All 1797 digits (train + test), standardized, float32."""
    x_train, y_train, x_test, y_test = digits.load_data()
    return np.concatenate([x_train, x_test]), np.concatenate([y_train, y_test])


def _model():
    tf.keras.utils.set_random_seed(0)
    return digits.build_model(hidden=HIDDEN)


def test_digits_epoch_fit(benchmark, data):
    x, y = data
    model = _model()
    model.compile(optimizer=digits.make_optimizer("sgd", LR),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)  # warm-up: build the optimizer
    benchmark.group = GROUP
    benchmark(model.fit, x, y, batch_size=BATCH, epochs=1, verbose=0)


def test_digits_epoch_gradient_tape(benchmark, data):
    x, y = data
    model, rng = _model(), np.random.default_rng(0)
    opt, loss_fn = digits.make_optimizer("sgd", LR), tf.keras.losses.SparseCategoricalCrossentropy()
    benchmark.group = GROUP
    benchmark(lambda: digits.tape_epoch(model, opt, loss_fn, x, y, BATCH,
                                        rng.permutation(len(x))))


def test_digits_epoch_numpy_by_hand(benchmark, data):
    x, y = data
    net, rng = digits.NumpyMLP(_model().get_weights(), "sgd", LR), np.random.default_rng(0)
    benchmark.group = GROUP
    benchmark(lambda: net.epoch(x, y, BATCH, rng.permutation(len(x))))

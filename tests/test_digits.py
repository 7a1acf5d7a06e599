"""The digits example (issue 3 item 10) run in-process with its own settings, its output against
Keras's formats, the numpy network against the tape; and the Keras loose ends it relies on:
metrics by short names with a direction, save_weights(overwrite=...), tf.keras.saving."""
import contextlib
import io
import os
import re
import sys

import numpy as np
import pytest

pytest.importorskip("sklearn")

import microtf as tf  # noqa: E402
from microtf import __main__ as cli  # noqa: E402
from microtf.examples import train_digits as digits  # noqa: E402
from microtf.keras import callbacks, metrics  # noqa: E402

EPOCHS = 20  # the example's default: the accuracy bound must hold with what users run


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    """One run of the example (all three trainings) in a fresh folder; (result, stdout, dir)."""
    folder, out, cwd = tmp_path_factory.mktemp("digits"), io.StringIO(), os.getcwd()
    os.chdir(folder)
    try:
        with contextlib.redirect_stdout(out):
            result = digits.run(epochs=EPOCHS)
    finally:
        os.chdir(cwd)
    return result, out.getvalue(), folder


@pytest.mark.parametrize("key", ["fit_accuracy", "tape_accuracy", "numpy_accuracy"])
def test_digits_test_accuracy_at_least_096(example, key):
    assert example[0][key] >= 0.96


def test_digits_summary_looks_like_keras(example):
    out = example[1]
    assert 'Model: "digits_mlp"' in out
    assert re.search(r"┃ Layer \(type\) +┃ Output Shape +┃ +Param # ┃", out)
    assert re.search(r"│ hidden \(Dense\) +│ \(None, 64\) +│ +4,160 │", out)
    assert re.search(r"│ output \(Dense\) +│ \(None, 10\) +│ +650 │", out)
    assert " Total params: 4,810 (18.79 KB)" in out
    assert " Non-trainable params: 0 (0.00 B)" in out


def test_digits_progress_lines_look_like_keras(example):
    lines = example[1].splitlines()
    epochs = [line for line in lines if line.startswith("Epoch ")]
    assert epochs == ["Epoch %d/%d" % (i, EPOCHS) for i in range(1, EPOCHS + 1)]
    # Not a terminal: one finished bar per epoch, Keras 3's text.
    bar = re.compile(r"^45/45 ━{20} \d+s \d+(ms|us)/step - accuracy: \d\.\d{4} - loss: \d\.\d{4}$")
    assert sum(bool(bar.match(line)) for line in lines) == EPOCHS
    hist = example[0]["history"].history
    assert sorted(hist) == ["accuracy", "loss"] and len(hist["loss"]) == EPOCHS
    assert hist["loss"][-1] < hist["loss"][0] and hist["accuracy"][-1] > 0.96


def test_digits_prints_accuracies_and_epoch_times(example):
    result, out, _ = example
    for label in ("fit: test accuracy", "GradientTape loop: test accuracy",
                  "numpy by hand: test accuracy"):
        assert re.search(label + r" 0\.9\d{3}", out)
    ms = result["epoch_ms"]
    assert sorted(ms) == ["fit", "numpy", "tape"] and all(v > 0 for v in ms.values())
    assert re.search(r"model\.fit +\d+\.\d\d ms  \(%.2fx numpy\)" % (ms["fit"] / ms["numpy"]), out)


def test_digits_plot_written(example):
    pytest.importorskip("matplotlib")
    result, out, folder = example
    path = folder / "digits_history.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Saved the loss/accuracy curves to %s" % path in out


def test_digits_without_matplotlib_says_how_to_get_it(example, capsys, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib` fail
    monkeypatch.chdir(tmp_path)
    assert digits.save_plot(example[0]["history"], "curves.png") is None
    assert 'pip install "microtf[examples]"' in capsys.readouterr().out
    assert not (tmp_path / "curves.png").exists()


def test_digits_without_sklearn_says_how_to_get_it(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r'pip install "microtf\[examples\]"'):
        digits.load_data()
    assert cli.main(["digits", "--epochs", "1"]) == 1
    assert "scikit-learn" in capsys.readouterr().err


def test_digits_data_split_and_standardized():
    x_train, y_train, x_test, y_test = digits.load_data()
    assert x_train.shape == (1437, 64) and x_test.shape == (360, 64)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int32
    assert np.bincount(y_test).min() >= 35  # stratified: every class in the test set
    np.testing.assert_allclose(x_train.mean(axis=0), 0, atol=1e-5)  # scaler fitted on train
    assert not np.allclose(x_test.mean(axis=0), 0, atol=1e-3)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_digits_numpy_network_matches_tape(optimizer):
    """Three steps of the hand-written network equal three apply_gradients steps of the model:
    the timing comparison compares the same work."""
    x, y = digits.load_data()[:2]
    tf.keras.utils.set_random_seed(1)
    model = digits.build_model()
    net = digits.NumpyMLP(model.get_weights(), optimizer, learning_rate=0.05)
    opt = digits.make_optimizer(optimizer, 0.05)
    loss_fn = tf.keras.losses.SparseCategoricalCrossentropy()
    order = np.arange(96)
    digits.tape_epoch(model, opt, loss_fn, x, y, 32, order)
    net.epoch(x, y, 32, order)
    for got, want in zip(model.get_weights(), net.params):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_cli_digits(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["digits", "--epochs", "2", "--plot", ""]) == 0
    out = capsys.readouterr().out
    assert "Epoch 2/2" in out and "numpy by hand" in out
    assert not list(tmp_path.iterdir())  # --plot '' writes nothing


# -- loose ends of issue 3 ------------------------------------------------------------------------
@pytest.mark.parametrize("name, cls", [("mae", metrics.MeanAbsoluteError),
                                       ("mean_absolute_error", metrics.MeanAbsoluteError),
                                       ("mse", metrics.MeanSquaredError),
                                       ("mean_squared_error", metrics.MeanSquaredError)])
def test_metrics_get_regression_names(name, cls):
    m = metrics.get(name)
    assert isinstance(m, cls) and m.name == name and m._direction == "down"
    y_true, y_pred = np.array([[1.0, 2.0], [0.0, 0.0]]), np.array([[2.0, 4.0], [0.0, -3.0]])
    m.update_state(y_true, y_pred)
    diff = y_pred - y_true
    want = np.mean(np.abs(diff) if cls is metrics.MeanAbsoluteError else diff ** 2)
    assert m.result().numpy() == pytest.approx(want)


def test_metric_directions():
    assert metrics.get("sparse_categorical_accuracy")._direction == "up"
    assert metrics.get("sparse_categorical_crossentropy")._direction == "down"
    assert metrics.get(tf.keras.losses.mae)._direction == "down"
    assert metrics.Mean()._direction is None
    assert metrics.get(lambda t, p: p)._direction is None


def test_compile_metrics_mae_logged_and_early_stopping_minimizes_it():
    x = np.linspace(-1, 1, 40, dtype=np.float32).reshape(20, 2)
    y = x.sum(axis=1, keepdims=True)
    model = tf.keras.Sequential([tf.keras.Input((2,)), tf.keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    # 'mae' has no 'error' in its name: only the metric's direction tells 'auto' to minimize.
    stop = callbacks.EarlyStopping(monitor="mae", patience=0)
    hist = model.fit(x, y, epochs=3, batch_size=5, verbose=0, callbacks=[stop])
    assert sorted(hist.history) == ["loss", "mae"] and stop._maximize is False
    assert stop.best == pytest.approx(min(hist.history["mae"]))


def test_save_weights_overwrite_false_asks(tmp_path, monkeypatch):
    model = tf.keras.Sequential([tf.keras.Input((2,)), tf.keras.layers.Dense(1)])
    path = tmp_path / "m.weights.npz"
    path.write_bytes(b"old")
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    model.save_weights(str(path), overwrite=False)
    assert path.read_bytes() == b"old"  # declined: the file is left alone
    model.save_weights(str(path))
    assert path.read_bytes() != b"old"


def test_keras_saving_module_exposed(tmp_path):
    model = tf.keras.Sequential([tf.keras.Input((2,)), tf.keras.layers.Dense(3)])
    path = str(tmp_path / "m.weights.npz")
    tf.keras.saving.save_weights(model, path)
    other = tf.keras.Sequential([tf.keras.Input((2,)), tf.keras.layers.Dense(3)])
    tf.keras.saving.load_weights(other, path)
    for a, b in zip(model.get_weights(), other.get_weights()):
        np.testing.assert_array_equal(a, b)

"""Interrupts and crashes: Ctrl-C during fit, a save killed by SIGKILL, loads of bad files."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import microtf as tf

Dense = tf.keras.layers.Dense
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _model(seed=0):
    tf.keras.utils.set_random_seed(seed)
    model = tf.keras.Sequential([Dense(8, activation="relu"), Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    model(np.zeros((1, 3), np.float32))
    return model


def _data(n=64):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 3)).astype(np.float32)
    return x, x.sum(axis=1, keepdims=True)


def _weights(model):
    return [w.numpy().copy() for w in model.weights]


class _CtrlC(tf.keras.callbacks.Callback):
    """Raises KeyboardInterrupt at the given training batch, as SIGINT would mid-epoch."""

    def __init__(self, at):
        super().__init__()
        self.at, self.seen = at, 0

    def on_train_batch_end(self, batch, logs=None):
        self.seen += 1
        if self.seen == self.at:
            raise KeyboardInterrupt


@pytest.mark.parametrize("at", [1, 5, 9])
def test_faults_ctrl_c_in_fit_propagates_and_model_stays_usable(at):
    model = _model()
    x, y = _data()
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, batch_size=16, epochs=3, verbose=0, callbacks=[_CtrlC(at)])
    assert all(np.isfinite(w).all() for w in _weights(model))
    history = model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    assert np.isfinite(model.evaluate(x, y, verbose=0))
    assert model.predict(x, verbose=0).shape == (64, 1)


def test_faults_sigint_to_a_child_running_fit_raises_keyboard_interrupt(tmp_path):
    """A real Ctrl-C (SIGINT) delivered to a process inside fit: KeyboardInterrupt comes out of
    fit, the weights are finite and the model still trains."""
    script = textwrap.dedent("""
        import sys, numpy as np, microtf as tf
        model = tf.keras.Sequential([tf.keras.layers.Dense(32, activation="relu"),
                                     tf.keras.layers.Dense(1)])
        model.compile(optimizer="adam", loss="mse")
        x = np.random.default_rng(0).standard_normal((4096, 16)).astype(np.float32)
        y = x.sum(axis=1, keepdims=True)
        class Ready(tf.keras.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                if batch == 0 and not getattr(self, "said", False):
                    self.said = True
                    print("ready", flush=True)
        try:
            model.fit(x, y, batch_size=8, epochs=1000, verbose=0, callbacks=[Ready()])
        except KeyboardInterrupt:
            ok = all(np.isfinite(w.numpy()).all() for w in model.weights)
            model.fit(x[:64], y[:64], batch_size=16, epochs=1, verbose=0)
            print("interrupted", ok, flush=True)
            sys.exit(0)
        sys.exit(3)
    """)
    env = dict(os.environ, PYTHONPATH=REPO)
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert child.stdout.readline().strip() == "ready"
        time.sleep(0.2)
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=60)
    finally:
        child.kill()
    assert child.returncode == 0, err
    assert out.strip() == "interrupted True"


_SLOW_SAVE = textwrap.dedent("""
    import sys, time, numpy as np, microtf as tf
    from microtf.keras import saving
    path, fmt = sys.argv[1], sys.argv[2]
    model = tf.keras.Sequential([tf.keras.layers.Dense(8), tf.keras.layers.Dense(1)])
    model(np.zeros((1, 3), np.float32))
    for w in model.weights:
        w.assign(np.full(w.shape, 7.0, np.float32))
    if fmt == "npz":
        real = np.savez
        def slow_savez(f, **arrays):
            f.write(b"PK")  # a partial file on disk, then hang until killed
            f.flush()
            print("writing", flush=True)
            time.sleep(60)
            real(f, **arrays)
        saving.np.savez = slow_savez
    else:
        import h5py
        real = h5py.Group.__setitem__
        def slow_setitem(self, key, value):
            real(self, key, value)
            self.file.flush()
            print("writing", flush=True)
            time.sleep(60)
        h5py.Group.__setitem__ = slow_setitem
    model.save_weights(path)
""")


@pytest.mark.parametrize("suffix", [".npz", ".weights.h5"])
def test_faults_save_killed_mid_write_leaves_the_previous_file_loadable(tmp_path, suffix):
    if suffix.endswith("h5"):
        pytest.importorskip("h5py")
    path = str(tmp_path / ("model" + suffix))
    model = _model()
    model.save_weights(path)
    before = _weights(model)
    env = dict(os.environ, PYTHONPATH=REPO)
    child = subprocess.Popen([sys.executable, "-c", _SLOW_SAVE, path, suffix.split(".")[-1]],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert child.stdout.readline().strip() == "writing", child.stderr.read()
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        child.kill()
    assert child.returncode == -signal.SIGKILL
    # The half-written temporary file is left behind (nobody could clean up after SIGKILL) but
    # the target is the old, complete file.
    assert any(name.startswith(".tmp-") for name in os.listdir(tmp_path))
    fresh = _model(seed=1)
    fresh.load_weights(path)
    for w, b in zip(_weights(fresh), before):
        np.testing.assert_array_equal(w, b)


def _truncate(path):
    data = open(path, "rb").read()
    with open(path, "wb") as f:
        f.write(data[: len(data) // 2])


def _foreign(path):
    with open(path, "wb") as f:
        f.write(b"these are not weights\n" * 10)


def _mismatched(path):
    other = tf.keras.Sequential([Dense(5, activation="relu"), Dense(1)])
    other(np.zeros((1, 3), np.float32))
    other.save_weights(path)


def _fewer_layers(path):
    other = tf.keras.Sequential([Dense(1)])
    other(np.zeros((1, 3), np.float32))
    other.save_weights(path)


@pytest.mark.parametrize("suffix", [".npz", ".weights.h5"])
@pytest.mark.parametrize("spoil, error, pattern", [
    (_truncate, (OSError, ValueError), r"Cannot read weights from .*(complete|truncated)"),
    (_foreign, (OSError, ValueError), r"Cannot read weights from"),
    (_mismatched, ValueError, r"shape \(3, 8\).*\(3, 5\)|\(3, 5\).*\(3, 8\)"),
    (_fewer_layers, ValueError, r"expected shape \(3, 8\), received shape \(3, 1\)"),
])
def test_faults_load_of_a_bad_file_raises_and_changes_nothing(tmp_path, suffix, spoil, error,
                                                             pattern):
    if suffix.endswith("h5"):
        pytest.importorskip("h5py")
    path = str(tmp_path / ("model" + suffix))
    model = _model()
    model.save_weights(path)
    spoil(path)
    before = _weights(model)
    with pytest.raises(error, match=pattern):
        model.load_weights(path)
    for w, b in zip(_weights(model), before):
        np.testing.assert_array_equal(w, b)
    x, y = _data(16)
    model.fit(x, y, epochs=1, verbose=0)  # still trains

"""keras.saving: Keras 3's .weights.h5 layout, .npz, atomic saves, checked loads."""
import os
import sys

import numpy as np
import pytest

import microtf as tf
from microtf.keras import saving

Dense = tf.keras.layers.Dense


def _built(model, width=4, dtype=np.float32):
    model(np.zeros((1, width), dtype))
    return model


def _mlp(units=(3, 2), dtype=None, width=4):
    return _built(tf.keras.Sequential([Dense(u, activation="relu" if i == 0 else None,
                                             dtype=dtype) for i, u in enumerate(units)]),
                  width, np.float64 if dtype == "float64" else np.float32)


class _Net(tf.keras.Model):
    """A subclassed model: a layer attribute, a list of layers, and a later attribute."""

    def __init__(self):
        super().__init__()
        self.hidden = Dense(3)
        self.blocks = [Dense(2), Dense(2, use_bias=False)]
        self.out = Dense(1)

    def call(self, x):
        x = self.hidden(x)
        for block in self.blocks:
            x = block(x)
        return self.out(x)


class _StubOptimizer:
    """Stands in for a keras optimizer: saved because it has apply_gradients and variables."""

    name = "adam"

    def __init__(self):
        self.variables = [tf.Variable(np.int64(7)), tf.Variable(np.ones(3, np.float32))]

    def apply_gradients(self, grads_and_vars):
        raise NotImplementedError


def _h5_tree(path):
    """{h5 path: (shape, dtype) for datasets, attrs dict for groups}."""
    h5py = pytest.importorskip("h5py")
    tree = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, obj: tree.__setitem__(
            name, (obj.shape, obj.dtype) if isinstance(obj, h5py.Dataset) else dict(obj.attrs)))
        tree["/"] = dict(f.attrs)
    return tree


def _same(a, b):
    return all(x.dtype == y.dtype and x.tobytes() == y.tobytes() for x, y in zip(a, b))


# -- layout ---------------------------------------------------------------------------------------
def test_saving_sequential_h5_layout_is_keras3(tmp_path):
    pytest.importorskip("h5py")
    model = _mlp()
    path = tmp_path / "m.weights.h5"
    saving.save_weights(model, path)
    f32 = np.dtype(np.float32)
    assert _h5_tree(path) == {
        "/": {},
        "vars": {"name": model.name},
        "layers": {},
        "layers/dense": {},
        "layers/dense/vars": {"name": model.layers[0].name},
        "layers/dense/vars/0": ((4, 3), f32),
        "layers/dense/vars/1": ((3,), f32),
        "layers/dense_1": {},
        "layers/dense_1/vars": {"name": model.layers[1].name},
        "layers/dense_1/vars/0": ((3, 2), f32),
        "layers/dense_1/vars/1": ((2,), f32),
    }


def test_saving_paths_use_class_names_not_layer_names(tmp_path):
    pytest.importorskip("h5py")
    model = _built(tf.keras.Sequential([Dense(3, name="first"), Dense(2, name="second")]))
    saving.save_weights(model, tmp_path / "m.weights.h5")
    tree = _h5_tree(tmp_path / "m.weights.h5")
    assert "layers/dense/vars/0" in tree and "layers/dense_1/vars/1" in tree
    assert tree["layers/dense/vars"] == {"name": "first"}


def test_saving_subclassed_and_nested_paths():
    paths = [p for p, _, _ in saving._entries(_built(_Net()))]
    # Attributes in sorted order; `layers` (the Model property) reaches `out` last, numbered
    # within that list: hidden=dense, blocks=dense_1/_2, out=dense_3 (Keras's _walk_saveable).
    assert paths == ["", "blocks/dense", "blocks/dense_1", "hidden", "layers/dense_3"]
    inner = tf.keras.Sequential([Dense(3), Dense(3)])
    outer = _built(tf.keras.Sequential([inner, Dense(1)]))
    assert [p for p, _, _ in saving._entries(outer)] == [
        "", "layers/sequential", "layers/sequential/layers/dense",
        "layers/sequential/layers/dense_1", "layers/dense"]


def test_saving_optimizer_state_goes_to_optimizer_vars(tmp_path):
    pytest.importorskip("h5py")
    model = _mlp()
    model.optimizer = _StubOptimizer()
    saving.save_weights(model, tmp_path / "m.weights.h5")
    tree = _h5_tree(tmp_path / "m.weights.h5")
    assert tree["optimizer/vars"] == {"name": "adam"}
    assert tree["optimizer/vars/0"] == ((), np.dtype(np.int64))
    assert tree["optimizer/vars/1"] == ((3,), np.dtype(np.float32))


def _with_adam(model, step=0.0):
    """Attaches a built Adam whose state is filled with recognizable values."""
    model.optimizer = tf.keras.optimizers.Adam()
    model.optimizer.build(model.trainable_variables)
    for i, v in enumerate(model.optimizer.variables):
        v.assign(np.full(v.shape, i + step, v.dtype._np))
    return model


def test_saving_optimizer_state_round_trips_and_a_fresh_optimizer_warns(tmp_path):
    path = tmp_path / "m.npz"
    model = _with_adam(_mlp(), step=0.5)
    saving.save_weights(model, path)
    assert len(model.optimizer.variables) == 2 + 2 * 4  # iterations, lr, momentums, velocities
    other = _with_adam(_mlp())
    saving.load_weights(other, path)
    assert _same([np.array(v.numpy()) for v in other.optimizer.variables],
                 [np.array(v.numpy()) for v in model.optimizer.variables])
    fresh = _mlp()
    fresh.optimizer = tf.keras.optimizers.Adam()
    # As Keras: the model's weights load; the unbuilt optimizer is skipped with a warning.
    with pytest.warns(UserWarning, match=r"Skipping variable loading for optimizer 'adam', "
                                         r"because it has 2 variables whereas the saved "
                                         r"optimizer has 10 variables\. This is likely"):
        saving.load_weights(fresh, path)
    assert _same(fresh.get_weights(), model.get_weights())


# -- round trips ----------------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".weights.h5", ".npz"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_saving_round_trip_is_bit_exact(tmp_path, suffix, dtype):
    if suffix.endswith("h5"):
        pytest.importorskip("h5py")
    model = _mlp((5, 3), dtype=dtype)
    weights = model.get_weights()
    np_dtype = np.dtype(dtype)
    # Extreme values survive too: inf, nan (its payload), the smallest subnormal, the largest.
    weights[1] = np.array([np.inf, -np.inf, np.nan, np.finfo(np_dtype).smallest_subnormal,
                           np.finfo(np_dtype).max], np_dtype)
    model.set_weights(weights)
    path = tmp_path / ("m" + suffix)
    saving.save_weights(model, path)
    other = _mlp((5, 3), dtype=dtype)
    assert not _same(other.get_weights(), weights)
    saving.load_weights(other, str(path))
    assert _same(other.get_weights(), weights)


@pytest.mark.parametrize("suffix", [".weights.h5", ".npz"])
def test_saving_subclassed_round_trip(tmp_path, suffix):
    if suffix.endswith("h5"):
        pytest.importorskip("h5py")
    model, other = _built(_Net()), _built(_Net())
    saving.save_weights(model, tmp_path / ("m" + suffix))
    saving.load_weights(other, tmp_path / ("m" + suffix))
    assert _same(other.get_weights(), model.get_weights())


def test_saving_loads_a_file_laid_out_by_keras(tmp_path):
    """A file written with h5py by hand in Keras 3's layout (older Keras: no name attributes),
    with groups microtf has no use for (metric state), loads; float64 data is cast."""
    h5py = pytest.importorskip("h5py")
    rng = np.random.default_rng(0)
    values = [rng.standard_normal(s) for s in [(4, 3), (3,), (3, 2), (2,)]]
    path = tmp_path / "keras.weights.h5"
    with h5py.File(path, "w") as f:
        f.create_group("vars")
        for i, layer in enumerate(["dense", "dense_1"]):
            group = f.create_group("layers/%s/vars" % layer)
            group["0"], group["1"] = values[2 * i].astype(np.float32), values[2 * i + 1]
        f.create_group("compile_metrics/vars")["0"] = np.float32(3.0)
    model = _mlp()
    saving.load_weights(model, path)
    for got, want in zip(model.get_weights(), values):
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, want.astype(np.float32))


class _Identity(tf.keras.layers.Layer):
    def call(self, x):
        return x


def test_saving_pathlib_and_model_without_weights(tmp_path):
    model = _built(tf.keras.Sequential([_Identity()]))
    saving.save_weights(model, tmp_path / "empty.npz")
    saving.load_weights(model, tmp_path / "empty.npz")


# -- bad input ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["m.h5", "m.weights.hdf5", "weights.h5", "m.keras"])
def test_saving_requires_the_weights_h5_suffix(tmp_path, name):
    path = str(tmp_path / name)
    with pytest.raises(ValueError, match=r"The filename must end in `\.weights\.h5`\. "
                                         r"Received: filepath=%s" % path):
        saving.save_weights(_mlp(), path)
    assert not os.path.exists(path)
    with pytest.raises(ValueError, match="File format not supported: filepath="):
        saving.load_weights(_mlp(), path)


def test_saving_unbuilt_model_raises(tmp_path):
    model = tf.keras.Sequential([Dense(2)])
    with pytest.raises(ValueError, match="has not yet been built"):
        saving.save_weights(model, tmp_path / "m.npz")
    saving.save_weights(_mlp(), tmp_path / "m.npz")
    with pytest.raises(ValueError, match="never built"):
        saving.load_weights(model, tmp_path / "m.npz")


def test_saving_missing_file_raises(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.npz"):
        saving.load_weights(_mlp(), tmp_path / "nope.npz")


def test_saving_without_h5py_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "h5py", None)  # makes `import h5py` raise ImportError
    model = _mlp()
    for call in (lambda: saving.save_weights(model, tmp_path / "m.weights.h5"),
                 lambda: saving.load_weights(model, tmp_path / "m.weights.h5")):
        with pytest.raises(ImportError, match=r'pip install "microtf\[h5\]"'):
            call()
    assert os.listdir(tmp_path) == []
    saving.save_weights(model, tmp_path / "m.npz")  # .npz needs numpy only
    saving.load_weights(model, tmp_path / "m.npz")


@pytest.mark.parametrize("suffix", [".weights.h5", ".npz"])
def test_saving_shape_mismatch_names_layer_variable_shapes_and_changes_nothing(tmp_path, suffix):
    if suffix.endswith("h5"):
        pytest.importorskip("h5py")
    path = tmp_path / ("m" + suffix)
    saving.save_weights(_mlp((3, 2)), path)
    # The first layer fits; the second does not: nothing may be assigned, not even the first.
    model = _mlp((3, 5))
    before = model.get_weights()
    with pytest.raises(ValueError) as info:
        saving.load_weights(model, path)
    message = str(info.value)
    for part in (model.layers[1].name, "'kernel'", "expected shape (3, 5)",
                 "received shape (3, 2)", "layers/dense_1/vars"):
        assert part in message
    assert _same(model.get_weights(), before)


def test_saving_variable_count_mismatch(tmp_path):
    path = tmp_path / "m.npz"
    saving.save_weights(_mlp(), path)
    model = _built(tf.keras.Sequential([Dense(3), Dense(2, use_bias=False)]))
    before = model.get_weights()
    with pytest.raises(ValueError, match=r"'%s' .*expected 1 variables, but received 2 "
                                         r"variables.*\['kernel'\]" % model.layers[1].name):
        saving.load_weights(model, path)
    assert _same(model.get_weights(), before)


@pytest.mark.parametrize("suffix,error", [(".weights.h5", OSError), (".npz", ValueError)])
def test_saving_truncated_or_foreign_file_raises_and_changes_nothing(tmp_path, suffix, error):
    if suffix.endswith("h5"):
        pytest.importorskip("h5py")
    path = tmp_path / ("m" + suffix)
    saving.save_weights(_mlp(), path)
    data = path.read_bytes()
    model = _mlp()
    before = model.get_weights()
    for content in (data[:len(data) // 2], b"not a weights file\n"):
        path.write_bytes(content)
        with pytest.raises(error, match="Cannot read weights from"):
            saving.load_weights(model, path)
        assert _same(model.get_weights(), before)


def test_saving_foreign_hdf5_file_raises(tmp_path):
    h5py = pytest.importorskip("h5py")
    path = tmp_path / "other.weights.h5"
    with h5py.File(path, "w") as f:
        f["data"] = np.arange(3)
    with pytest.raises(ValueError, match="expected 2 variables, but received 0"):
        saving.load_weights(_mlp(), path)


# -- atomic saves ---------------------------------------------------------------------------------
@pytest.mark.parametrize("suffix,writer", [(".weights.h5", "_write_h5"), (".npz", "_write_npz")])
def test_saving_is_atomic_when_the_write_fails_midway(tmp_path, monkeypatch, suffix, writer):
    if suffix.endswith("h5"):
        pytest.importorskip("h5py")
    path = tmp_path / ("m" + suffix)
    model = _mlp()
    saving.save_weights(model, path)
    saved = model.get_weights()
    model.set_weights([w + 1 for w in saved])

    def crash(tmp, entries):
        with open(tmp, "wb") as f:
            f.write(b"\x89HDF\r\n partial")
        raise KeyboardInterrupt("killed mid-save")

    monkeypatch.setattr(saving, writer, crash)
    with pytest.raises(KeyboardInterrupt):
        saving.save_weights(model, path)
    assert os.listdir(tmp_path) == [path.name]  # no temporary file left behind
    monkeypatch.undo()
    saving.load_weights(model, path)
    assert _same(model.get_weights(), saved)


def test_saving_new_file_is_world_readable_and_keeps_an_old_mode(tmp_path):
    path = tmp_path / "m.npz"
    saving.save_weights(_mlp(), path)
    assert os.stat(path).st_mode & 0o777 == 0o644
    os.chmod(path, 0o600)
    saving.save_weights(_mlp(), path)
    assert os.stat(path).st_mode & 0o777 == 0o600


@pytest.mark.parametrize("answer,replaced", [("n", False), ("y", True)])
def test_saving_overwrite_false_asks(tmp_path, monkeypatch, answer, replaced):
    path = tmp_path / "m.npz"
    first, second = _mlp(), _mlp()
    saving.save_weights(first, path)
    monkeypatch.setattr("builtins.input", lambda prompt: answer)
    saving.save_weights(second, path, overwrite=False)
    probe = _mlp()
    saving.load_weights(probe, path)
    assert _same(probe.get_weights(), (second if replaced else first).get_weights())

"""keras.saving: save_weights / load_weights in Keras 3's `.weights.h5` layout, or `.npz`.

Imports keras.layers (Layer, for the walk) and numpy; h5py only when an `.h5` file is used.

File layout (Keras 3's `saving_lib.save_weights_only`, mirrored so files move both ways):

- Objects holding state ("saveables": layers, models, an optimizer) are visited depth-first from
  the model. Each visited object gets an HDF5 group `<path>/vars` (the model itself: the root
  group `vars`) holding its *own* variables as datasets named "0", "1", ... in creation order,
  trainable ones first (Layer.save_own_variables); sub-layers' variables live in their own groups.
  The `vars` group carries one attribute, `name` (the object's `.name`), as current Keras 3
  writes (earlier 3.x releases wrote none; readers ignore it). The root carries no attributes.
- Paths: Sequential (and Functional) models first visit `model.layers` as a container; then every
  object walks `sorted(dir(obj))` with private names last, skipping dunders and the names every
  base Layer has. An attribute holding a saveable adds `<attr>`; an attribute holding a list,
  tuple or dict of saveables adds `<attr>/<snake_case class name>[_<n>]` (`dense`, `dense_1`,
  numbered per class within that container, never from `layer.name`, so two instances of one
  architecture match). An object already visited is skipped: it is stored once, at its first
  path. Examples: `Sequential([Dense, Dense])` -> `vars`, `layers/dense/vars/{0,1}`,
  `layers/dense_1/vars/{0,1}`; a subclassed Model with `self.hidden = Dense(..)` ->
  `hidden/vars/0`; a compiled model adds `optimizer/vars/<i>` (its `variables` in order).
- Loading looks up the same paths and ignores groups it does not need (Keras does too).

How this was checked: Keras cannot run here. The layout was read from Keras 3's source,
keras/src/saving/saving_lib.py (H5IOStore/H5Entry, `_save_state`, `_walk_saveable`,
`_save_container_state`, `get_attr_skiplist`; an older and a current version),
keras/src/saving/saving_api.py (suffix check and message), keras/src/metrics/metric.py and the
optimizer's load_own_variables, in the keras-team/keras repository. tests/test_saving.py
asserts the group names, dataset names, dtypes and `name` attributes this description implies,
and loads a file laid out by hand with h5py in Keras's layout.

Metrics and losses hold no saved state: Keras's Metric and Loss define no save_own_variables,
so a compiled model's file holds its layers and optimizer only, as microtf writes it.
An optimizer whose variable count differs from the file's (typically a fresh, unbuilt one) is
skipped with Keras's UserWarning instead of an error, so weights still load.

microtf's `.npz` form stores the same arrays under keys `<path>/vars/<i>` (`vars/<i>` for the
model's own), needing nothing but numpy.
"""
import os
import tempfile
import warnings
import zipfile

import numpy as np

from .layers.layer import Layer
from .naming import to_snake_case

__all__ = ["save_weights", "load_weights"]

_H5_SUFFIX = ".weights.h5"
_NPZ_SUFFIX = ".npz"


def _h5py():
    try:
        import h5py
    except ImportError:
        raise ImportError('Saving or loading `.weights.h5` files needs h5py: pip install '
                          '"microtf[h5]" (or pip install h5py). Without it, save to a `.npz` '
                          'path instead, e.g. model.save_weights("model.npz").') from None
    return h5py


# -- the walk (Keras's _save_state order) ---------------------------------------------------------
def _is_saveable(obj):
    """Layers and models, and optimizers (anything with `variables` and `apply_gradients`)."""
    return isinstance(obj, Layer) or (hasattr(type(obj), "apply_gradients")
                                      and hasattr(obj, "variables"))


def _own_variables(obj):
    """What Keras's save_own_variables writes: a layer's own weights, trainable ones first (not
    those of its sub-layers); an optimizer's `variables`."""
    if not isinstance(obj, Layer):
        return list(obj.variables)
    out, seen = [], set()
    for v in obj._own_trainable + obj._own_non_trainable + obj._tracked()[1]:
        if id(v) not in seen:
            seen.add(id(v))
            out.append(v)
    return out


def _name_key(name):
    # Keras visits private attributes after public ones.
    return "~" + name if name.startswith("_") else name


# What every base Layer has: Keras's skip list (dir(Layer())) for the attribute walk.
_SKIP = frozenset(dir(Layer)) | {"_functional"}


def _children(obj):
    """(attribute name, value) pairs in Keras's visiting order."""
    if any(cls.__name__ == "Sequential" for cls in type(obj).__mro__):
        # Keras visits a Sequential's layers first, so a subclass's extra attributes come after.
        yield "layers", obj.layers
    skip = _SKIP if isinstance(obj, Layer) else frozenset(dir(type(obj))) - {"variables"}
    for attr in sorted(dir(obj), key=_name_key):
        if attr.startswith("__") or attr in skip:
            continue
        try:
            value = getattr(obj, attr)
        except Exception:  # a property that cannot be read now holds no state to save
            continue
        yield attr, value


def _entries(model):
    """[(path, saveable, own variables)] for every saveable reachable from `model`."""
    out, visited = [], set()

    def visit(obj, path):
        if id(obj) in visited:
            return
        visited.add(id(obj))
        out.append((path, obj, _own_variables(obj)))
        for attr, value in _children(obj):
            child_path = attr if not path else path + "/" + attr
            if _is_saveable(value):
                visit(value, child_path)
            elif isinstance(value, (list, tuple, dict, set)):
                used = {}
                for item in (value.values() if isinstance(value, dict) else value):
                    if not _is_saveable(item):
                        continue
                    # Named by class, counted within the container (never by layer.name).
                    name = to_snake_case(type(item).__name__)
                    used[name] = used.get(name, -1) + 1
                    visit(item, child_path + "/" + (name if used[name] == 0 else
                                                    "%s_%d" % (name, used[name])))

    visit(model, "")
    return out


def _group(path):
    return path + "/vars" if path else "vars"


# -- writers and readers --------------------------------------------------------------------------
def _write_h5(path, entries):
    """One `<path>/vars` group per saveable (named by attribute `name`), datasets "0", "1", ..."""
    with _h5py().File(path, "w") as f:
        for where, obj, variables in entries:
            group = f.create_group(_group(where))
            if isinstance(getattr(obj, "name", None), str):
                group.attrs["name"] = obj.name
            for i, v in enumerate(variables):
                group[str(i)] = np.asarray(v.numpy())


def _write_npz(path, entries):
    arrays = {"%s/%d" % (_group(where), i): np.asarray(v.numpy())
              for where, _, variables in entries for i, v in enumerate(variables)}
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def _read_h5(filepath, entries):
    h5py = _h5py()
    try:
        f = h5py.File(filepath, "r")
    except OSError as e:
        raise OSError("Cannot read weights from %r: it is not a complete HDF5 file (truncated, or "
                      "not written by save_weights). %s" % (str(filepath), e)) from None
    with f:
        out = []
        for where, _, _ in entries:
            group = f.get(_group(where))
            if group is None or not isinstance(group, h5py.Group):
                out.append({})
                continue
            out.append({k: np.array(group[k]) for k in group.keys()
                        if isinstance(group[k], h5py.Dataset)})
        return out


def _read_npz(filepath, entries):
    try:
        with np.load(filepath, allow_pickle=False) as data:
            stored = {k: data[k] for k in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise ValueError("Cannot read weights from %r: it is not a complete .npz file written by "
                         "save_weights (%s)." % (str(filepath), e)) from None
    out = []
    for where, _, _ in entries:
        prefix = _group(where) + "/"
        out.append({k[len(prefix):]: v for k, v in stored.items()
                    if k.startswith(prefix) and "/" not in k[len(prefix):]})
    return out


def _format(filepath, saving):
    """`.weights.h5` or `.npz`; any other name raises ValueError as Keras does."""
    name = os.fspath(filepath)
    if name.endswith(_H5_SUFFIX):
        return "h5"
    if name.endswith(_NPZ_SUFFIX):
        return "npz"
    if saving:
        raise ValueError("The filename must end in `.weights.h5`. Received: filepath=%s\n"
                         "Hint: microtf also saves to `.npz` (no h5py needed)." % name)
    raise ValueError("File format not supported: filepath=%s. microtf loads `.weights.h5` files "
                     "(Keras 3's layout) and `.npz` files written by save_weights." % name)


def _atomic_write(filepath, write):
    """write(temp_path) into a temporary file beside `filepath`, fsync it, then os.replace: a
    crash or an exception mid-save leaves any old file intact."""
    folder = os.path.dirname(os.path.abspath(filepath))
    # A hidden name ending in the real suffix: readers of the folder never mistake it for weights.
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix="-" + os.path.basename(filepath),
                               dir=folder)
    os.close(fd)
    try:
        write(tmp)
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        # mkstemp makes 0600 files; keep the old file's mode, else the usual 0644.
        old = os.stat(filepath).st_mode & 0o777 if os.path.exists(filepath) else 0o644
        os.chmod(tmp, old)
        os.replace(tmp, filepath)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _ask_to_overwrite(filepath):
    """Keras's interactive prompt for overwrite=False on an existing file."""
    answer = input("[WARNING] %s already exists - overwrite? [y/n]" % filepath).strip().lower()
    while answer not in ("y", "n"):
        answer = input('Enter "y" (overwrite) or "n" (cancel).').strip().lower()
    if answer == "y":
        print("[TIP] Next time specify overwrite=True!")
    return answer == "y"


# -- public API -----------------------------------------------------------------------------------
def save_weights(model, filepath, overwrite=True):
    """Writes every weight of `model` (and of its optimizer, if any) to `filepath`, which must end
    in `.weights.h5` (Keras 3's HDF5 layout, needs h5py) or `.npz` (numpy only). Atomic: the file
    is written beside the target and renamed over it."""
    fmt = _format(filepath, saving=True)
    if not model.built:
        raise ValueError("You are saving a model that has not yet been built. Try building the "
                         "model first by calling it on some data or by using `build()`.")
    if fmt == "h5":
        _h5py()  # fail before touching the file system
    filepath = os.fspath(filepath)
    if os.path.exists(filepath) and not overwrite and not _ask_to_overwrite(filepath):
        return
    entries = _entries(model)
    writer = _write_h5 if fmt == "h5" else _write_npz
    _atomic_write(filepath, lambda tmp: writer(tmp, entries))


def _where(path, obj):
    kind = "Layer" if isinstance(obj, Layer) else type(obj).__name__
    return "%s '%s' (at '%s' in the file)" % (kind, getattr(obj, "name", "?"), _group(path))


def load_weights(model, filepath):
    """Reads weights written by save_weights (or by Keras 3's `model.save_weights`) into
    `model`, which must have the same architecture and be built. Every count and shape is
    checked before anything is assigned: on any error the model is unchanged."""
    fmt = _format(filepath, saving=False)
    if fmt == "h5":
        _h5py()
    filepath = os.fspath(filepath)
    if not os.path.exists(filepath):
        raise FileNotFoundError("No weights file at %r." % filepath)
    if not model.built:
        raise ValueError("Model '%s' was never built and thus it doesn't have any variables to "
                         "load weights into. Build it first: call it on some data or use "
                         "`model.build(input_shape)`." % model.name)
    entries = _entries(model)
    stored = (_read_h5 if fmt == "h5" else _read_npz)(filepath, entries)
    plan = []
    for (path, obj, variables), values in zip(entries, stored):
        if not isinstance(obj, Layer) and len(values) != len(variables):
            # Keras's optimizer only warns: a fresh (unbuilt) optimizer keeps its new state.
            warnings.warn("Skipping variable loading for optimizer '%s', because it has %d "
                          "variables whereas the saved optimizer has %d variables. %s"
                          % (obj.name, len(variables), len(values),
                             "" if getattr(obj, "built", True) else "This is likely because "
                             "the optimizer has not been called/built yet."),
                          UserWarning, stacklevel=2)
            continue
        if set(values) != {str(i) for i in range(len(variables))}:
            raise ValueError("%s expected %d variables, but received %d variables during loading. "
                             "Expected: %s. Received: %s (from %s)."
                             % (_where(path, obj), len(variables), len(values),
                                [v.name for v in variables], sorted(values), filepath))
        for i, v in enumerate(variables):
            value = values[str(i)]
            if tuple(value.shape) != tuple(v.shape):
                raise ValueError("%s: variable '%s' expected shape %s, received shape %s (dataset "
                                 "%s/%d of %s). Is the model built with the same layer sizes?"
                                 % (_where(path, obj), v.name, tuple(v.shape), value.shape,
                                    _group(path), i, filepath))
            if not (np.issubdtype(value.dtype, np.number) or value.dtype == np.bool_):
                raise ValueError("%s: variable '%s' received non-numeric data of dtype %s."
                                 % (_where(path, obj), v.name, value.dtype))
            plan.append((v, value))
    for v, value in plan:
        v.assign(value.astype(v.dtype._np, copy=False))

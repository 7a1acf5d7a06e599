"""Automatic names for layers and weights (dense, dense_1, ...); imports nothing."""
import re

_counts = {}


def unique_name(base):
    """base, base_1, base_2, ... : one counter per base name for the whole process (Keras)."""
    n = _counts.get(base, 0)
    _counts[base] = n + 1
    return base if n == 0 else "%s_%d" % (base, n)


def reset():
    """Forgets every counter: the next `dense` is `dense` again (keras.backend.clear_session)."""
    _counts.clear()


def to_snake_case(name):
    """OurDenseLayer -> our_dense_layer."""
    name = re.sub(r"(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()

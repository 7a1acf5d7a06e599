"""The op registry, recording and GradientTape (imports microtf.framework only)."""
from . import registry, tape  # noqa: F401 - importing tape wires the registry to its state

"""tf.test: TensorFlow's testing helpers that microtf supports (imports microtf.testing only).

compute_gradient(f, x, delta=None) returns (theoretical, numerical): per argument of f, a 2-D
array of shape (y.size, x[i].size). microtf.testing.check_gradients is the stricter checker
(float64 differences, random directions for large inputs, second order).
"""
from .testing import compute_gradient

__all__ = ["compute_gradient", "is_built_with_cuda", "is_gpu_available"]


def is_built_with_cuda():
    """False: microtf runs on the CPU only."""
    return False


def is_gpu_available(cuda_only=False, min_cuda_compute_capability=None):
    """False: microtf runs on the CPU only."""
    return False

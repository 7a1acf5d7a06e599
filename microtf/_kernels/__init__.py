"""Compiled Cython kernels (built from csrc/); re-exports them and imports nothing of microtf.

Every kernel takes C-contiguous float32/float64 arrays, outputs last, and returns its
output(s); most allocate the output in C when `out` is None (cheaper than np.empty from Python
for tiny tensors). See csrc/*.pyx for the exact contracts.
"""

try:
    from microtf._kernels.elementwise import (add, bias_activation, bias_activation_backward,
                                              binary, divide, multiply, sigmoid,
                                              sigmoid_backward, subtract, sum_rows)
    from microtf._kernels.linalg import matmul
    from microtf._kernels.philox import (philox_normal, philox_permutation,
                                         philox_truncated_normal, philox_uint32, philox_uniform)
    from microtf._kernels.nn import (relu_backward, relu_forward, softmax_xent_forward,
                                     sparse_softmax_xent_forward)
    from microtf._kernels.optim import adam_update, sgd_momentum_update
except ImportError as exc:  # pragma: no cover - depends on the build
    raise ImportError(
        "microtf's Cython kernels (microtf._kernels) are not built. From the repository root run\n"
        "    pip install -e .\n"
        "or\n"
        "    python setup.py build_ext --inplace\n"
        f"(original error: {exc})"
    ) from exc

__all__ = ["add", "subtract", "multiply", "divide", "binary", "matmul", "sigmoid",
           "sigmoid_backward", "sum_rows", "bias_activation", "bias_activation_backward",
           "relu_forward", "relu_backward", "softmax_xent_forward", "sparse_softmax_xent_forward",
           "philox_uint32", "philox_uniform", "philox_normal", "philox_truncated_normal",
           "philox_permutation", "adam_update", "sgd_momentum_update"]

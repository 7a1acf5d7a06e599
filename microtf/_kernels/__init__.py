"""Compiled Cython kernels (built from csrc/); re-exports them and imports nothing of microtf.

Every kernel takes C-contiguous float32/float64 arrays, outputs last, and returns its
output(s); most allocate the output in C when `out` is None (cheaper than np.empty from Python
for tiny tensors). See csrc/*.pyx for the exact contracts.
"""

try:
    from microtf._kernels.elementwise import (BINARY_ADD, BINARY_DIVIDE, BINARY_MULTIPLY,
                                              BINARY_SUBTRACT, add, bias_activation,
                                              bias_activation_backward, binary,
                                              binary_forward, divide,
                                              multiply, sigmoid, sigmoid_backward, subtract,
                                              sum_rows)
    from microtf._kernels.linalg import matmul, matmul_forward
    from microtf._kernels.philox import (philox_normal, philox_permutation,
                                         philox_truncated_normal, philox_uint32, philox_uniform)
    from microtf._kernels.nn import (relu_backward, relu_forward, softmax_forward,
                                     softmax_xent_forward, sparse_softmax_xent_forward)
    from microtf._kernels.optim import adam_update, sgd_momentum_update, sgd_update
except ImportError as exc:  # pragma: no cover - depends on the build
    import os as _os
    _checkout = _os.path.dirname(_os.path.dirname(_os.path.dirname(_os.path.abspath(__file__))))
    raise ImportError(
        "microtf's Cython kernels (microtf._kernels) are not built in %s.\n"
        "Build them in place from that folder with\n"
        "    pip install -e .\n"
        "(or: python setup.py build_ext --inplace). If you installed microtf with a plain\n"
        "`pip install .`, this unbuilt source folder is shadowing it because Python puts the\n"
        "current directory first on sys.path: run Python from another folder.\n"
        "(original error: %s)" % (_checkout, exc)
    ) from exc

__all__ = ["add", "subtract", "multiply", "divide", "binary", "binary_forward", "BINARY_ADD",
           "BINARY_SUBTRACT", "BINARY_MULTIPLY", "BINARY_DIVIDE", "matmul", "matmul_forward",
           "sigmoid", "sigmoid_backward", "sum_rows", "bias_activation", "bias_activation_backward",
           "relu_forward", "relu_backward", "softmax_forward", "softmax_xent_forward",
           "sparse_softmax_xent_forward",
           "philox_uint32", "philox_uniform", "philox_normal", "philox_truncated_normal",
           "philox_permutation", "adam_update", "sgd_momentum_update", "sgd_update"]

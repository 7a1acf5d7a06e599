"""Issue 5, targets 1, 2, 3, 5 and 8: the lab's SGD loop, tiny ops with and without a tape, a
Dense layer's forward and backward, kernels (matmul, sigmoid, bias-row add) and Dense scaling with
the batch size, each against the same work by hand in numpy (see conftest.py; the workloads are in
microtf/bench.py). Digits (4) and memory (6) are in test_digits.py, import time (7) in
test_import.py, other frameworks in test_peers.py."""
import pytest

from conftest import run_side

TARGETS = ("1", "2", "3", "5", "8")


@pytest.mark.parametrize("side", ["microtf", "reference"])
def test_target(benchmark, case, side):
    run_side(benchmark, case, side)

"""Issue 5, targets 4 and 6: one epoch of the digits MLP (64-128 relu-10 softmax, sparse
cross-entropy, batch 64, SGD) with a GradientTape loop and with model.fit(verbose=0), each against
the network written by hand in numpy (microtf.examples.train_digits.NumpyMLP); and the peak memory
of that training against the numpy version's, in fresh processes.

    python -m pytest bench/test_digits.py -s       # -s shows the memory ratio

Needs scikit-learn (the bundled digits set).
"""
import pytest

from conftest import run_side
from microtf import bench

pytest.importorskip("sklearn")

TARGETS = ("4",)


@pytest.mark.parametrize("side", ["microtf", "reference"])
def test_target(benchmark, case, side):
    run_side(benchmark, case, side)


def test_digits_peak_memory(request):
    """Prints the peak RSS ratio (goal <= 1.3x) and what training added after the data was
    loaded; asserts only that they were measured."""
    rows = bench.memory_rows(epochs=3 if request.config.getoption("--bench-full") else 1)
    for row in rows:
        print("\ntarget 6: %s: microtf %.1f MB, numpy %.1f MB, ratio %s"
              % (row["name"], row["microtf"], row["reference"], bench._fmt_ratio(row)))
    assert rows and all(row["microtf"] > 0 and row["reference"] > 0 for row in rows
                        if row["goal"] is not None)

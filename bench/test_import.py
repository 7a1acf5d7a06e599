"""Issue 5, target 7: wall time of `python -c "import microtf"` (goal <= 0.5 s), with
`python -c "import numpy"` beside it for scale; medians of interleaved fresh processes.

    python -m pytest bench/test_import.py -s
"""
from microtf import bench


def test_import_time(request):
    """Prints the medians; asserts only that they were measured (timing is not a pass/fail)."""
    (row,) = bench.import_rows(repeats=15 if request.config.getoption("--bench-full") else 5)
    print("\ntarget 7: import microtf %.3f s, import numpy %.3f s (ratio %.2fx; goal <= 0.5 s)"
          % (row["microtf"], row["reference"], row["ratio"]))
    assert row["microtf"] > 0 and row["reference"] > 0

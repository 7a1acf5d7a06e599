"""bench/: issue 5's targets as pytest-benchmark groups (the cases of microtf/bench.py, which
`python -m microtf bench` times interleaved), plus kernel and random-number groups.

    python -m pytest bench                       # every group, quick sizes
    python -m pytest bench --bench-full          # also matmul 2048, sigmoid 1e7, batch 4096
    python -m pytest bench -k "target5 and sigmoid"

A test taking `case` runs once per case of the module's TARGETS and per side (microtf, then the
numpy reference); each pair shares a group, so pytest-benchmark's table prints both rows and, in
parentheses, their ratio to the faster one.
"""

from microtf import bench


def pytest_addoption(parser):
    parser.addoption("--bench-full", action="store_true",
                     help="run the full sizes of python -m microtf bench (slower)")


def pytest_generate_tests(metafunc):
    if "case" in metafunc.fixturenames:
        quick = not metafunc.config.getoption("--bench-full")
        found = bench.cases(getattr(metafunc.module, "TARGETS"), quick=quick)
        metafunc.parametrize("case", found, ids=["target%s %s" % (c.target, c.name)
                                                 for c in found])


def run_side(benchmark, case, side):
    """Benchmarks one side of a case in its group; a taped case runs under its tape, in bounded
    rounds so that the tape's record stays small."""
    benchmark.group = case.title + " (goal: ratio <= %.2f)" % case.goal if case.goal else case.title
    benchmark.extra_info.update(target=case.target, side=side, goal=case.goal)
    if side == "reference":
        return benchmark(case.ref)
    if case.around is None:
        return benchmark(case.fn)
    with case.around():
        return benchmark.pedantic(case.fn, rounds=50, iterations=200, warmup_rounds=1)

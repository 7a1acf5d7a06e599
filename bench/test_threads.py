"""The kernels release the GIL: two threads sharing a fixed amount of kernel work finish sooner
than one thread doing all of it.

    python -m pytest bench/test_threads.py            # tables, plus the speedup line per op

Each group runs the same total work (WORK calls of the op) as 1 thread x WORK calls and as
2 threads x WORK/2 calls; pytest-benchmark prints both rows with their ratio. On a 2-core
machine a kernel that holds the GIL shows ~1.0x, one that releases it up to ~2x; a kernel bound
by memory bandwidth (large float32 sigmoid) also stays near 1x, so sizes fit in cache.

matmul is scipy's OpenBLAS, which may start threads of its own: then one Python thread already
uses every core and two can oversubscribe them, so the ratio says little about the GIL. Run
`OPENBLAS_NUM_THREADS=1 python -m pytest bench/test_threads.py` to see the GIL release alone.
On a shared machine run it a few times: other processes' load moves both rows.
"""
import threading
import time

import numpy as np
import pytest

import microtf as tf

WORK = 64
OPS = {
    "sigmoid float64 1e5": (tf.sigmoid, lambda rng: (rng.standard_normal(100_000),)),
    "relu float32 1e6": (tf.nn.relu, lambda rng: (rng.standard_normal(1_000_000, np.float32),)),
    "matmul float32 128": (tf.matmul, lambda rng: (rng.standard_normal((128, 128), np.float32),
                                                   rng.standard_normal((128, 128), np.float32))),
}


def _inputs(name):
    fn, make = OPS[name]
    return fn, [tf.constant(a) for a in make(np.random.default_rng(0))]


def _run(fn, args, threads):
    def worker():
        for _ in range(WORK // threads):
            fn(*args)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("name", sorted(OPS))
def test_threads_overlap(benchmark, name, threads):
    benchmark.group = "threads %s x%d" % (name, WORK)
    fn, args = _inputs(name)
    benchmark.pedantic(_run, args=(fn, args, threads), rounds=5, warmup_rounds=1)


@pytest.mark.parametrize("name", sorted(OPS))
def test_threads_speedup(name, capsys):
    """Prints the 2-thread speedup (best of 5 each, interleaved so that load drifts hit both)."""
    fn, args = _inputs(name)
    best = {1: np.inf, 2: np.inf}
    for _ in range(5):
        for threads in (1, 2):
            t0 = time.perf_counter()
            _run(fn, args, threads)
            best[threads] = min(best[threads], time.perf_counter() - t0)
    with capsys.disabled():
        print("\n%s: 1 thread %.1f ms, 2 threads %.1f ms, speedup %.2fx"
              % (name, best[1] * 1e3, best[2] * 1e3, best[1] / best[2]))
    if not name.startswith("matmul"):  # our kernels: never slower, no lock convoy around them
        assert best[2] < best[1] * 1.25

"""`python -m microtf bench`: issue 5's performance targets, each measured as microtf against the
same work written by hand in numpy, in one process, and written as a Markdown table (DIR/bench.md,
also printed), the raw numbers (DIR/bench.json) and a chart of the ratios against their goals
(DIR/bench.png, with matplotlib).

    python -m microtf bench [--quick] [--out DIR] [--threads N] [--targets 1,2,5]

Method: both sides of a comparison run in the same process, interleaved (microtf, numpy, numpy,
microtf, ...), each sample long enough for the clock (many calls of a tiny op), and the table gives
medians and their ratio, so that load from other processes hits both sides alike. BLAS threads are
set to the same number for numpy's and scipy's OpenBLAS (threadpoolctl), so neither side gets more
cores (one each by default). Peak memory (target 6) and import time (target 7) are measured in
fresh subprocesses.

The workloads live here, not in bench/, so that an installed package can run them; bench/ wraps the
same cases as pytest-benchmark groups. threadpoolctl, scipy, scikit-learn and matplotlib are
imported only where needed.
"""
import argparse
import contextlib
import inspect
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import numpy as np

import microtf as tf
from microtf.ops import math_ops


class Case:
    """One comparison: `fn` (microtf) against `ref` (the same work by hand), both without
    arguments. `goal` is the largest time ratio fn/ref that meets the target (None: no target,
    shown for information); `around`, if given, makes a context entered around every timed sample
    of `fn` (an active tape, outside the timing); `ref_name` labels the reference."""

    def __init__(self, target, name, fn, ref, goal=None, around=None, ref_name="numpy"):
        self.target, self.name, self.fn, self.ref = target, name, fn, ref
        self.goal, self.around, self.ref_name = goal, around, ref_name

    @property
    def title(self):
        return "%s %s" % (self.target, self.name)


def _rand(shape, dtype=np.float32, seed=0, scale=1.0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(dtype)


@contextlib.contextmanager
def _recording(*tensors):
    """An active tape watching `tensors`, so that every op on them is recorded."""
    with tf.GradientTape() as tape:
        for t in tensors:
            tape.watch(t)
        yield


# -- 1: the lab's SGD loop ----------------------------------------------------------------------
def lab_sgd(tf, x0, steps=500, learning_rate=1e-2, x_f=4):
    """MIT 6.S191 Lab 1's loop as the lab writes it (without its prints); `tf` is the module, so
    that the same code runs on microtf and on TensorFlow."""
    x = tf.Variable([x0])
    history = []
    for _ in range(steps):
        with tf.GradientTape() as tape:
            loss = tf.pow(x - x_f, 2)
        grad = tape.gradient(loss, x)
        x.assign(x - learning_rate * grad)
        history.append(x.numpy()[0])
    return history


def numpy_sgd(x0, steps=500, learning_rate=1e-2, x_f=4):
    """The same loop in numpy with the analytic gradient d(x - x_f)^2/dx = 2 (x - x_f)."""
    x = np.array([x0], np.float32)
    history = []
    for _ in range(steps):
        x = x - np.float32(learning_rate) * (np.float32(2) * (x - np.float32(x_f)))
        history.append(x[0].copy())
    return history


def _lab_cases(quick):
    x0 = np.array([0.5], np.float32)
    return [Case("1", "lab SGD loop, 500 steps", lambda: lab_sgd(tf, tf.constant(x0)),
                 lambda: numpy_sgd(x0), goal=2.0)]


# -- 2: tiny tensors -----------------------------------------------------------------------------
def op_case(target, name, op, ref, arrays, goal, ref_name="numpy", taped=False):
    """`op` on the arrays as constants against `ref` on the same memory (the constants'
    storage: a gemm's speed depends on its operands' 64-byte alignment by up to 10% at 64^3, so
    separate copies would compare allocation luck); `taped`: under an active tape watching the
    constants."""
    tensors = [tf.constant(a) for a in arrays]
    arrays = [getattr(t, "_value", a) for t, a in zip(tensors, arrays)]  # read only by `ref`
    return Case(target, name, lambda: op(*tensors), lambda: ref(*arrays), goal,
                around=(lambda: _recording(*tensors)) if taped else None, ref_name=ref_name)


def _numpy_sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _tiny_cases(quick):
    x, y, w = _rand((1, 3)), _rand((1, 3), seed=1), _rand((3, 3), seed=2)
    ops = [("add (1,3)+(1,3)", tf.add, np.add, (x, y)),
           ("multiply (1,3)*(1,3)", tf.multiply, np.multiply, (x, y)),
           ("matmul (1,3)@(3,3)", tf.matmul, np.matmul, (x, w)),
           ("sigmoid (1,3)", tf.sigmoid, _numpy_sigmoid, (x,))]
    return [op_case("2", name + (", tape recording" if taped else ""), op, ref, arrays,
                    goal=5.0 if taped else 3.0, taped=taped)
            for taped in (False, True) for name, op, ref, arrays in ops]


# -- 3 and 8: a Dense layer's forward and backward ---------------------------------------------
def dense_pair(batch, width=1024, dtype=np.float32, tf=tf):
    """(microtf step, numpy step): sigmoid(x @ W + b) summed, gradients for W and b; `tf` is
    the module of the first (microtf, or TensorFlow in bench/test_peers.py)."""
    x = _rand((batch, width), dtype)
    w, b = _rand((width, width), dtype, 1, width ** -0.5), np.zeros(width, dtype)
    tx, tw, tb = tf.constant(x), tf.Variable(w), tf.Variable(b)

    def microtf_step():
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.sigmoid(tf.matmul(tx, tw) + tb))
        return loss, tape.gradient(loss, [tw, tb])

    def numpy_step():
        """dz = dloss/dy * y (1 - y) with dloss/dy = 1; dW = x^T dz, db = sum of dz's rows."""
        y = 1 / (1 + np.exp(-(x @ w + b)))
        dz = y * (1 - y)
        return y.sum(), (x.T @ dz, dz.sum(axis=0))
    return microtf_step, numpy_step


def _dense_cases(quick):
    cases = [Case("3", "Dense 256x1024 @ 1024x1024 fwd+bwd %s" % np.dtype(dt).name,
                  *dense_pair(256, dtype=dt), goal=1.0) for dt in (np.float32, np.float64)]
    layer = tf.keras.layers.Dense(1024, activation="sigmoid")
    x = tf.constant(_rand((256, 1024)))
    layer(x)

    def layer_step():
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(layer(x))
        return tape.gradient(loss, layer.trainable_variables)
    cases.append(Case("3", "keras Dense layer, same work, float32", layer_step,
                      dense_pair(256)[1], goal=1.0))
    return cases


SCALING_BATCHES = [32, 64, 128, 256, 512, 1024, 2048, 4096]


def _scaling_cases(quick):
    batches = SCALING_BATCHES[:5] if quick else SCALING_BATCHES
    return [Case("8", "Dense step batch %d" % n, *dense_pair(n)) for n in batches]


# -- 4: the digits MLP ---------------------------------------------------------------------------
DIGITS_HIDDEN, DIGITS_BATCH, DIGITS_LR = 128, 64, 0.01


def _digits_cases(quick):
    try:
        from .examples import train_digits as digits
        x_train, y_train, x_test, y_test = digits.load_data()
    except ImportError:
        print("target 4: skipped (needs scikit-learn)", file=sys.stderr)
        return []
    x, y = np.concatenate([x_train, x_test]), np.concatenate([y_train, y_test])
    tf.keras.utils.set_random_seed(0)
    fit_model, tape_model = (digits.build_model(hidden=DIGITS_HIDDEN) for _ in range(2))
    fit_model.compile(optimizer=digits.make_optimizer("sgd", DIGITS_LR),
                      loss="sparse_categorical_crossentropy")
    opt = digits.make_optimizer("sgd", DIGITS_LR)
    loss_fn = tf.keras.losses.SparseCategoricalCrossentropy()
    net = digits.NumpyMLP(tape_model.get_weights(), "sgd", DIGITS_LR)
    rng = np.random.default_rng(0)

    def fit_epoch():
        fit_model.fit(x, y, batch_size=DIGITS_BATCH, epochs=1, verbose=0)

    def tape_epoch():
        digits.tape_epoch(tape_model, opt, loss_fn, x, y, DIGITS_BATCH, rng.permutation(len(x)))

    def numpy_epoch():
        net.epoch(x, y, DIGITS_BATCH, rng.permutation(len(x)))
    name = "digits epoch 64-128-10, batch 64, SGD: "
    return [Case("4", name + "GradientTape loop", tape_epoch, numpy_epoch, goal=1.5),
            Case("4", name + "model.fit(verbose=0)", fit_epoch, numpy_epoch, goal=2.0)]


# -- 5: kernels ----------------------------------------------------------------------------------
def _kernel_cases(quick):
    from scipy.special import expit
    cases = [op_case("5", "matmul %d^3 %s" % (n, np.dtype(dt).name), tf.matmul, np.matmul,
                     (_rand((n, n), dt), _rand((n, n), dt, 1)), goal=1 / 0.95)
             for n in ([64, 256, 1024] if quick else [64, 128, 256, 512, 1024, 2048])
             for dt in (np.float32, np.float64)]
    cases.append(op_case("5", "matmul (1,2)@(2,3) float32", tf.matmul, np.matmul,
                         (_rand((1, 2)), _rand((2, 3), seed=1)), goal=1.2))
    for n in ([10 ** 4, 10 ** 6] if quick else [10 ** 4, 10 ** 5, 10 ** 6, 10 ** 7]):
        x, dy = _rand((n,)), _rand((n,), seed=1)
        size = "1e%d float32" % round(np.log10(n))
        cases += [
            op_case("5", "sigmoid forward " + size, tf.sigmoid, _numpy_sigmoid, (x,), goal=1 / 3,
                    ref_name="1/(1+exp(-x))"),
            op_case("5", "sigmoid forward %s vs expit" % size, tf.sigmoid, expit, (x,), goal=1.0,
                    ref_name="scipy expit"),
            op_case("5", "sigmoid backward " + size, math_ops.sigmoid_grad,
                    lambda y, dy: dy * y * (1 - y), (expit(x), dy), goal=1 / 1.5)]
    for dt in (np.float32, np.float64):
        x, b = _rand((256, 1024), dt), _rand((1024,), dt, 1)
        if hasattr(tf.nn, "bias_add"):  # the one-pass kernel, where this microtf has it
            cases.append(op_case("5", "tf.nn.bias_add (256,1024)+(1024,) " + np.dtype(dt).name,
                                 tf.nn.bias_add, np.add, (x, b), goal=1.0))
        cases += [op_case("5", "bias-row add (256,1024)+(1024,) " + np.dtype(dt).name, tf.add,
                          np.add, (x, b), goal=1.0),
                  op_case("5", "bias-row add backward (256,1024)->(1024,) " + np.dtype(dt).name,
                          lambda t: math_ops.sum_to_shape(t, (1024,)),
                          lambda a: a.sum(axis=0), (x,), goal=1.0)]
    return cases


TIMED = {"1": _lab_cases, "2": _tiny_cases, "3": _dense_cases, "4": _digits_cases,
         "5": _kernel_cases, "8": _scaling_cases}


def cases(targets=("1", "2", "3", "4", "5", "8"), quick=False):
    """The timed comparisons of the given targets, in order (bench/ parametrizes over these)."""
    return [c for t in targets if t in TIMED for c in TIMED[t](quick)]


# -- timing ------------------------------------------------------------------------------------
def _sample(fn, calls, around):
    with around() if around else contextlib.nullcontext():
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        return (time.perf_counter() - start) / calls


def compare(case, budget, sample_time=2e-3, min_repeats=5, max_repeats=1000):
    """(median seconds per call of case.fn, of case.ref): interleaved samples, each of enough
    calls to last about `sample_time`, as many as `budget` seconds allow (at least min_repeats)."""
    sides = [(case.fn, case.around), (case.ref, None)]
    calls = []
    for fn, around in sides:
        _sample(fn, 1, around)  # warm-up: first-call allocations, lazy imports, caches
        once = _sample(fn, 1, around)
        calls.append(max(1, int(sample_time / max(once, 1e-9))))
    per_repeat = sum(_sample(fn, n, around) * n for (fn, around), n in zip(sides, calls))
    repeats = int(min(max_repeats, max(min_repeats, budget / max(per_repeat, 1e-9))))
    times = ([], [])
    for r in range(repeats):
        order = (0, 1) if r % 2 == 0 else (1, 0)  # alternate who runs first
        for i in order:
            times[i].append(_sample(sides[i][0], calls[i], sides[i][1]))
    return statistics.median(times[0]), statistics.median(times[1])


def _row(target, name, value, ref, unit="s", goal=None, ref_name="numpy", limit=None):
    """A table row; `goal` bounds the ratio value/ref, `limit` bounds value itself."""
    ratio = value / ref if ref else float("nan")
    met = None
    if goal is not None:
        met = bool(ratio <= goal)
    elif limit is not None:
        met = bool(value <= limit)
    return {"target": target, "name": name, "microtf": value, "reference": ref,
            "ref_name": ref_name, "unit": unit, "ratio": ratio, "goal": goal, "limit": limit,
            "met": met}


def _timed_rows(targets, quick, budget):
    rows = []
    for case in cases(targets, quick):
        value, ref = compare(case, budget)
        rows.append(_row(case.target, case.name, value, ref, goal=case.goal,
                         ref_name=case.ref_name))
        print("  %-60s %s" % (case.title[:60], _fmt_ratio(rows[-1])), file=sys.stderr)
    scaling = [r for r in rows if r["target"] == "8"]
    if len(scaling) > 1:
        # Linear growth keeps the time per sample flat: compare the largest batch's with the
        # smallest's (1.0 = linear, below = the fixed per-step overhead is being amortized).
        n0, n1 = (int(r["name"].rsplit(" ", 1)[1]) for r in (scaling[0], scaling[-1]))
        grow = [scaling[-1][k] / scaling[0][k] * n0 / n1 for k in ("microtf", "reference")]
        rows.append(_row("8", "time per sample, batch %d vs %d" % (n1, n0), grow[0], grow[1],
                         unit="x", goal=None, limit=1.0))
    return rows


# -- 6 and 7: subprocesses -----------------------------------------------------------------------
def _child_env():
    """The environment of a child: this microtf first on the path, so that a checkout being
    measured (PYTHONPATH) is the one the child imports."""
    env = dict(os.environ)
    root = os.path.dirname(os.path.dirname(os.path.abspath(tf.__file__)))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return env


def _run_child(code):
    out = subprocess.run([sys.executable, "-c", code], env=_child_env(), check=True,
                         capture_output=True, text=True)
    return out.stdout


# Memory in kB: VmHWM (peak) belongs to this process's memory map, reset at exec; ru_maxrss (the
# fallback off Linux) can carry over the parent's peak from before the fork.
_VM = """
def _vm(key):
    try:
        with open("/proc/self/status") as f:
            return int(next(ln.split()[1] for ln in f if ln.startswith(key)))
    except OSError:
        import resource
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
def _loaded_rss():
    # RSS once the data is loaded; resets the peak (clear_refs 5) where Linux allows, so that
    # the final VmHWM is training's own peak.
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass
    return _vm("VmRSS")
"""
_PEAK = "\nprint(_vm('VmHWM'), _loaded)\n"
_MICROTF_DIGITS = """
from microtf.examples import train_digits as d
x, y, _, _ = d.load_data()
_loaded = _loaded_rss()
model = d.build_model(hidden=%(hidden)d)
if %(fit)r:
    model.compile(optimizer=d.make_optimizer("sgd", %(lr)r),
                  loss="sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=%(batch)d, epochs=%(epochs)d, verbose=0)
else:
    import numpy as np, microtf as tf
    opt, rng = d.make_optimizer("sgd", %(lr)r), np.random.default_rng(0)
    loss_fn = tf.keras.losses.SparseCategoricalCrossentropy()
    for _ in range(%(epochs)d):
        d.tape_epoch(model, opt, loss_fn, x, y, %(batch)d, rng.permutation(len(x)))
"""
# The numpy side runs train_digits' own load_data and NumpyMLP, given as source, so that the
# child imports numpy and scikit-learn but not microtf (whose import is part of its footprint).
_NUMPY_DIGITS = """
import numpy as np
%(source)s
x, y, _, _ = load_data()
_loaded = _loaded_rss()
rng = np.random.default_rng(0)
def glorot(fan_in, fan_out):
    limit = (6 / (fan_in + fan_out)) ** 0.5
    return rng.uniform(-limit, limit, (fan_in, fan_out)).astype(np.float32)
net = NumpyMLP([glorot(64, %(hidden)d), np.zeros(%(hidden)d, np.float32), glorot(%(hidden)d, 10),
                np.zeros(10, np.float32)], "sgd", %(lr)r)
for _ in range(%(epochs)d):
    net.epoch(x, y, %(batch)d, rng.permutation(len(x)))
"""


def memory_rows(epochs=3):
    """Target 6: peak RSS (MB) of digits training in fresh processes, microtf vs numpy."""
    try:
        from .examples import train_digits as digits
        import sklearn  # noqa: F401
    except ImportError:
        print("target 6: skipped (needs scikit-learn)", file=sys.stderr)
        return []
    params = dict(hidden=DIGITS_HIDDEN, batch=DIGITS_BATCH, lr=DIGITS_LR, epochs=epochs)
    source = inspect.getsource(digits.load_data) + "\n" + inspect.getsource(digits.NumpyMLP)

    def peak_and_growth(code):
        """(peak RSS, its growth after the data was loaded: what training added), in MB."""
        peak, loaded = map(int, _run_child(_VM + code + _PEAK).split())
        return peak / 1024, (peak - loaded) / 1024
    numpy_peak, numpy_growth = peak_and_growth(_NUMPY_DIGITS % dict(params, source=source))
    rows = []
    for fit, how in ((True, "model.fit"), (False, "GradientTape loop")):
        peak, growth = peak_and_growth(_MICROTF_DIGITS % dict(params, fit=fit))
        name = "digits training, %d epoch(s), %s" % (epochs, how)
        rows += [_row("6", "peak RSS, " + name, peak, numpy_peak, unit="MB", goal=1.3),
                 _row("6", "peak RSS growth after loading the data, " + name, growth,
                      numpy_growth, unit="MB")]
    return rows


def import_rows(repeats=7):
    """Target 7: wall time of `python -c "import microtf"` (and of numpy's, for scale)."""
    times = {"microtf": [], "numpy": []}
    for r in range(repeats):
        for module in (("microtf", "numpy") if r % 2 == 0 else ("numpy", "microtf")):
            start = time.perf_counter()
            _run_child("import " + module)
            times[module].append(time.perf_counter() - start)
    return [_row("7", 'python -c "import microtf"', statistics.median(times["microtf"]),
                 statistics.median(times["numpy"]), ref_name="import numpy", limit=0.5)]


# -- report --------------------------------------------------------------------------------------
def _fmt_value(value, unit):
    if unit == "MB":
        return "%.3g MB" % value
    if unit == "x":
        return "%.2f" % value
    for scale, suffix in ((1, "s"), (1e-3, "ms")):
        if value >= scale:
            return "%.3g %s" % (value / scale, suffix)
    return "%.3g µs" % (value * 1e6)


def _fmt_goal(row):
    if row["goal"] is not None:
        return "≤ %.2fx" % row["goal"]
    if row["limit"] is not None:
        return "≤ %s" % _fmt_value(row["limit"], row["unit"])
    return "—"


def _fmt_ratio(row):
    met = {True: "yes", False: "**no**", None: "—"}[row["met"]]
    return "%.2fx (goal %s: %s)" % (row["ratio"], _fmt_goal(row), met)


def _blas_info(threads):
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "BLAS threads not limited (threadpoolctl is not installed)"
    libs = ["%s %s %s (%s)" % (i["internal_api"], i["version"], i.get("architecture"),
                               os.path.basename(i["filepath"]).split("-")[0])
            for i in threadpool_info() if i["user_api"] == "blas"]
    return "BLAS: %s; %d thread(s) each" % (", ".join(libs) or "none found", threads)


def machine(threads):
    """One line each: CPU, Python/numpy, BLAS, microtf's version and git commit."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        with open("/proc/cpuinfo") as f:
            cpu = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")),
                       cpu)
    env = ", ".join("%s=%s" % (k, os.environ[k]) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
                    if k in os.environ)
    root = os.path.dirname(os.path.dirname(os.path.abspath(tf.__file__)))
    try:
        commit = subprocess.run(["git", "-C", root, "describe", "--always", "--dirty", "--tags"],
                                capture_output=True, text=True, timeout=10).stdout.strip()
    except OSError:
        commit = ""
    return ["CPU: %s, %d cores" % (cpu, os.cpu_count() or 1),
            "Python %s, numpy %s; %s%s" % (platform.python_version(), np.__version__,
                                           _blas_info(threads), "; " + env if env else ""),
            "microtf %s%s, %s" % (getattr(tf, "__version__", "?"),
                                  " (git %s)" % commit if commit else "",
                                  time.strftime("%Y-%m-%d %H:%M"))]


def markdown(rows, command, machine_lines):
    """The table: one row per comparison; ratio = microtf / reference (lower is better)."""
    lines = ["# microtf benchmarks (issue 5 targets)", "",
             "Command: `%s`  " % command] + ["%s  " % ln for ln in machine_lines] + [
        "", "Ratio = microtf / reference, medians of interleaved runs in one process (lower is "
        "better); the goal is the largest ratio that meets the target.", "",
        "| target | benchmark | microtf | reference | ratio | goal | met |",
        "|---|---|---:|---:|---:|---:|:---:|"]
    for r in rows:
        ref = "%s (%s)" % (_fmt_value(r["reference"], r["unit"]), r["ref_name"])
        met = {True: "yes", False: "**no**", None: "—"}[r["met"]]
        lines.append("| %s | %s | %s | %s | %.2fx | %s | %s |" % (
            r["target"], r["name"], _fmt_value(r["microtf"], r["unit"]), ref, r["ratio"],
            _fmt_goal(r), met))
    return "\n".join(lines) + "\n"


def chart(rows, path):
    """Ratios against goals (log scale) and, if measured, the Dense step time against batch size;
    returns the path, or None without matplotlib."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    # (label, plotted ratio, goal, met): a bound on the value itself (import time, growth) is
    # drawn as value / bound against 1.
    ratios = [("%s %s" % (r["target"], r["name"]), r["ratio"], r["goal"], r["met"])
              for r in rows if r["goal"] is not None]
    ratios += [("%s %s (/ %s)" % (r["target"], r["name"], _fmt_value(r["limit"], r["unit"])),
                r["microtf"] / r["limit"], 1.0, r["met"]) for r in rows if r["limit"]]
    ratios.sort(key=lambda r: r[0][0])
    scaling = [r for r in rows if r["target"] == "8" and r["unit"] == "s"]
    fig, axes = plt.subplots(1, 2 if scaling else 1, squeeze=False,
                             figsize=(14 if scaling else 9, 0.28 * len(ratios) + 1.5))
    ax = axes[0][0]
    pos = np.arange(len(ratios))[::-1]
    ax.barh(pos, [r[1] for r in ratios], color=["tab:green" if r[3] else "tab:red" for r in ratios])
    ax.scatter([r[2] for r in ratios], pos, marker="|", s=200, color="k", label="goal")
    ax.set_yticks(pos, [r[0] for r in ratios], fontsize=7)
    ax.set_xscale("log")
    ax.set_xlabel("time (or memory) ratio, microtf / reference (lower is better)")
    ax.legend(loc="lower right")
    if scaling:
        ax = axes[0][1]
        batches = [int(r["name"].rsplit(" ", 1)[1]) for r in scaling]
        for key, label in (("microtf", "microtf"), ("reference", "numpy by hand")):
            ax.loglog(batches, [r[key] * 1e3 for r in scaling], "o-", label=label)
        first = scaling[0]["microtf"] * 1e3
        ax.loglog(batches, [first * b / batches[0] for b in batches], "k:", label="linear")
        ax.set_xlabel("batch size")
        ax.set_ylabel("Dense 1024->1024 fwd+bwd step (ms)")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110, bbox_inches="tight")  # long labels stay whole
    plt.close(fig)
    return path


def _blas_limits(threads):
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=threads, user_api="blas")


def run(targets=("1", "2", "3", "4", "5", "6", "7", "8"), quick=False, threads=None,
        budget=None):
    """The rows of every requested target (see the module docstring for the method)."""
    threads = threads or 1
    budget = budget if budget is not None else (0.25 if quick else 1.5)
    rows = []
    with _blas_limits(threads):
        rows += _timed_rows(targets, quick, budget)
    if "6" in targets:
        rows += memory_rows(epochs=1 if quick else 3)
    if "7" in targets:
        rows += import_rows(repeats=3 if quick else 9)
    order = "12345678"
    return sorted(rows, key=lambda r: order.index(r["target"])), threads


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m microtf bench",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="fewer repeats and smaller sizes (under a minute)")
    parser.add_argument("--out", default=".", help="directory for bench.md/.json/.png")
    parser.add_argument("--threads", type=int, default=1, help=(
        "BLAS threads, the same for numpy and microtf (default 1: on a loaded shared machine "
        "multi-threaded BLAS timings swing by 10-100x; give the core count to measure it)"))
    parser.add_argument("--targets", default="1,2,3,4,5,6,7,8",
                        help="comma-separated issue 5 targets to run (default: all)")
    parser.add_argument("--budget", type=float, default=None, help=argparse.SUPPRESS)
    # Called with argv by `python -m microtf bench`; without, as `python -m microtf.bench`.
    prog = "python -m microtf.bench" if argv is None else "python -m microtf bench"
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    targets = tuple(t.strip() for t in args.targets.split(",") if t.strip())
    unknown = [t for t in targets if t not in "12345678" or len(t) != 1]
    if unknown:
        parser.error("unknown target(s) %s: choose from 1-8" % ", ".join(unknown))
    command = " ".join([prog] + argv)
    rows, threads = run(targets, args.quick, args.threads, args.budget)
    about = machine(threads)
    text = markdown(rows, command, about)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "bench.md"), "w", encoding="utf-8") as f:
        f.write(text)
    with open(os.path.join(args.out, "bench.json"), "w", encoding="utf-8") as f:
        json.dump({"command": command, "machine": about, "rows": rows}, f, indent=1)
    print(text)
    png = chart(rows, os.path.join(args.out, "bench.png"))
    print("Wrote %s" % os.path.join(args.out, "bench.md") + (
        " and %s" % png if png else "; no chart (pip install matplotlib)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())

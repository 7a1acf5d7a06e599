"""`python -m microtf bench` (microtf/bench.py): a tiny run end to end, the table's verdicts, and
that each microtf workload computes what its numpy reference computes (else a ratio means
nothing)."""
import json

import numpy as np
import pytest

from microtf import bench


def test_bench_cli_tiny_run_writes_table_json_and_chart(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    assert bench.main(["--quick", "--targets", "2", "--budget", "0", "--out", str(tmp_path)]) == 0
    text = (tmp_path / "bench.md").read_text(encoding="utf-8")
    assert text in capsys.readouterr().out
    assert "Command: `python -m microtf bench --quick --targets 2" in text
    assert "CPU: " in text and "numpy %s" % np.__version__ in text
    rows = [ln for ln in text.splitlines() if ln.startswith("| 2 |")]
    assert len(rows) == 8 and sum("tape recording" in r for r in rows) == 4
    data = json.loads((tmp_path / "bench.json").read_text(encoding="utf-8"))
    assert [r["goal"] for r in data["rows"]] == [3.0] * 4 + [5.0] * 4
    assert all(r["microtf"] > 0 and r["reference"] > 0 for r in data["rows"])
    assert (tmp_path / "bench.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bench_cli_rejects_unknown_target(capsys):
    with pytest.raises(SystemExit) as info:
        bench.main(["--targets", "2,9"])
    assert info.value.code == 2
    assert "unknown target(s) 9" in capsys.readouterr().err


@pytest.mark.parametrize("value,ref,goal,limit,met", [
    (2.0, 1.0, 2.0, None, True), (2.1, 1.0, 2.0, None, False),  # a time ratio bound
    (0.4, 1.0, None, 0.5, True), (0.6, 0.1, None, 0.5, False),  # an absolute bound (import)
    (5.0, 1.0, None, None, None)])                               # for information only
def test_bench_row_verdict(value, ref, goal, limit, met):
    row = bench._row("1", "x", value, ref, goal=goal, limit=limit)
    assert row["ratio"] == pytest.approx(value / ref) and row["met"] is met
    line = bench.markdown([row], "cmd", ["machine"]).splitlines()[-1]
    assert line.endswith({True: "| yes |", False: "| **no** |", None: "| — |"}[met])


@pytest.mark.parametrize("value,unit,text", [(2.5e-6, "s", "2.5 µs"), (0.0123, "s", "12.3 ms"),
                                             (1.5, "s", "1.5 s"), (129.4, "MB", "129 MB")])
def test_bench_format_value(value, unit, text):
    assert bench._fmt_value(value, unit) == text


def test_bench_compare_interleaves_and_takes_medians():
    calls = []
    case = bench.Case("2", "t", lambda: calls.append("a"), lambda: calls.append("b"))
    fast, slow = bench.compare(case, budget=0, sample_time=0, min_repeats=5)
    assert fast > 0 and slow > 0
    # One call per sample (sample_time=0): warm-up and calibration, one timed round to size the
    # repeats, then five repeats that alternate which side runs first.
    assert "".join(calls) == "aabb" + "ab" + "ab" "ba" "ab" "ba" "ab"


def test_bench_lab_sgd_matches_numpy_loop():
    import microtf as tf
    x0 = np.array([0.5], np.float32)
    ours, ref = bench.lab_sgd(tf, tf.constant(x0), steps=50), bench.numpy_sgd(x0, steps=50)
    np.testing.assert_allclose(np.array(ours), np.array(ref), rtol=1e-6)
    assert abs(float(ours[-1][0]) - 4) < abs(0.5 - 4)  # it does descend towards x_f


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bench_dense_pair_same_loss_and_gradients(dtype):
    ours, ref = bench.dense_pair(5, width=7, dtype=dtype)
    (loss, grads), (ref_loss, ref_grads) = ours(), ref()
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(loss.numpy(), ref_loss, rtol=tol)
    for g, r in zip(grads, ref_grads):
        assert g.numpy().dtype == dtype
        np.testing.assert_allclose(g.numpy(), r, rtol=tol, atol=tol)


def test_bench_tiny_and_kernel_cases_agree_with_numpy():
    for case in bench.cases(("2", "5"), quick=True):
        if "matmul 1024" in case.name or "1e6" in case.name:
            continue  # same code path as the smaller sizes; keeps this test fast
        np.testing.assert_allclose(np.asarray(case.fn()), case.ref(), rtol=2e-5, atol=1e-5,
                                   err_msg=case.title)

"""The Lab 1 demo (microtf.examples.lab1_intro, `python -m microtf`) and the seed's golden lab
script: what they print, and that SGD ends at x_f = 4."""
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from microtf import __main__ as cli
from microtf.examples import lab1_intro

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT.parent / "shared" / "golden"
HAS_MPL = importlib.util.find_spec("matplotlib") is not None


def _run_demo(capsys, monkeypatch, tmp_path, argv=()):
    monkeypatch.chdir(tmp_path)
    assert cli.main(list(argv)) == 0
    return capsys.readouterr().out.splitlines()


def _matrix(line):
    return [np.array(m.split(), dtype=np.float64) for m in re.findall(r"\[\[([^\]]*)\]\]", line)]


def test_demo_prints_the_lab_results(capsys, monkeypatch, tmp_path):
    out = _run_demo(capsys, monkeypatch, tmp_path)
    assert "tf.Tensor(76, shape=(), dtype=int32) tf.Tensor(76, shape=(), dtype=int32)" in out
    assert "tf.Tensor(6.0, shape=(), dtype=float32)" in out
    i = out.index("tf.Tensor(6.0, shape=(), dtype=float32)")
    layer, seq, sub, ident = out[i + 1:i + 5]
    for line in (layer, seq, sub):
        (values,) = _matrix(line)
        assert values.shape == (3,) and ((values > 0) & (values < 1)).all()  # sigmoid outputs
    dense_out, identity = _matrix(ident)
    assert dense_out.shape == (3,) and identity.tolist() == [1.0, 2.0]
    assert out[i + 5] == "6.0"
    assert out[i + 6].startswith("Initializing x = [[")
    final = re.fullmatch(r"final x = \[(.*)\]", out[i + 7])
    assert final and abs(float(final.group(1)) - 4.0) < 1e-3


@pytest.mark.skipif(not GOLDEN.is_dir(), reason="shared/golden not found beside the repository")
def test_demo_tensor_lines_match_tensorflow_transcript(capsys, monkeypatch, tmp_path):
    out = _run_demo(capsys, monkeypatch, tmp_path)
    golden = (GOLDEN / "seed_lab1.tensorflow.txt").read_text().splitlines()
    # the first eight lines do not depend on random numbers
    assert out[:8] == golden[:8]


def test_demo_is_reproducible(capsys, monkeypatch, tmp_path):
    first = _run_demo(capsys, monkeypatch, tmp_path)
    again = _run_demo(capsys, monkeypatch, tmp_path)
    assert [line for line in first if "saved" not in line] == \
        [line for line in again if "saved" not in line]


@pytest.mark.skipif(not HAS_MPL, reason="matplotlib not installed")
def test_demo_saves_plot(capsys, monkeypatch, tmp_path):
    out = _run_demo(capsys, monkeypatch, tmp_path, ["lab1"])
    png = tmp_path / "lab1_sgd.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "SGD plot saved to %s" % png in out


def test_demo_without_matplotlib_says_how_to_get_it(capsys, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib` fail
    monkeypatch.chdir(tmp_path)
    assert lab1_intro.plot([1.0, 2.0]) is None
    assert 'pip install "microtf[plot]"' in capsys.readouterr().out
    assert not (tmp_path / "lab1_sgd.png").exists()


def test_cli_bench_dispatches_to_the_runner(monkeypatch):
    import microtf.bench
    seen = []
    monkeypatch.setattr(microtf.bench, "main", lambda argv: seen.append(argv) or 0)
    assert cli.main(["bench", "--quick"]) == 0
    assert seen == [["--quick"]]


def test_cli_unknown_command(capsys):
    assert cli.main(["nope"]) == 2
    assert "usage: python -m microtf" in capsys.readouterr().err


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def test_python_m_microtf_runs(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "microtf"], cwd=tmp_path, env=_env(),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "final x = [" in proc.stdout and "Traceback" not in proc.stderr


@pytest.mark.skipif(not HAS_MPL, reason="matplotlib not installed (the golden script needs it)")
@pytest.mark.skipif(not GOLDEN.is_dir(), reason="shared/golden not found beside the repository")
def test_golden_seed_lab_runs_unchanged(tmp_path):
    proc = subprocess.run([sys.executable, str(GOLDEN / "seed_lab1.py"), "microtf"],
                          cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert "tf.Tensor(76, shape=(), dtype=int32) tf.Tensor(76, shape=(), dtype=int32)" in lines
    final = float(re.fullmatch(r"final x = \[(.*)\]", lines[-1]).group(1))
    assert abs(final - 4.0) < 1e-3
    assert (tmp_path / "seed_lab1_sgd.png").exists()

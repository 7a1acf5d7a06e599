"""keras.utils.plot_history: curves from a History or a dict, on the Agg backend."""
import sys

import numpy as np
import pytest

from microtf.keras import utils

LOGS = {"accuracy": [0.5, 0.7, 0.9], "loss": [0.9, 0.5, 0.2],
        "val_accuracy": [0.4, 0.6, 0.8], "val_loss": [1.0, 0.6, float("nan")]}


class _History:
    """What fit returns: `.history` (a dict of per-epoch floats) and `.epoch`."""

    def __init__(self, history):
        self.history, self.epoch = history, list(range(len(next(iter(history.values())))))


@pytest.fixture
def plt(monkeypatch):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    shown = []
    monkeypatch.setattr(plt, "show", lambda *a, **k: shown.append(1))
    yield plt
    assert not shown, "plot_history must never call plt.show()"
    plt.close("all")


def _curves(fig):
    """{panel title: {label: y values}}."""
    return {ax.get_title(): {line.get_label(): list(line.get_ydata()) for line in ax.get_lines()}
            for ax in fig.axes}


@pytest.mark.parametrize("source", [LOGS, _History(LOGS)])
def test_plot_history_draws_loss_first_with_val_curves(plt, source):
    fig = utils.plot_history(source)
    assert isinstance(fig, plt.Figure)
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]
    curves = _curves(fig)
    assert curves["accuracy"] == {"accuracy": LOGS["accuracy"],
                                  "val_accuracy": LOGS["val_accuracy"]}
    np.testing.assert_array_equal(curves["loss"]["val_loss"], LOGS["val_loss"])  # nan kept
    assert list(fig.axes[0].get_lines()[0].get_xdata()) == [1, 2, 3]
    assert fig.axes[0].get_xlabel() == "epoch"
    assert all(t == int(t) for t in fig.axes[0].get_xticks())


def test_plot_history_selected_metrics_and_no_val(plt):
    fig = utils.plot_history({"loss": [1.0, 0.5], "mae": [2.0, 1.0]}, metrics="mae")
    assert _curves(fig) == {"mae": {"mae": [2.0, 1.0]}}
    fig = utils.plot_history(LOGS, metrics=["accuracy", "loss"])
    assert [ax.get_title() for ax in fig.axes] == ["accuracy", "loss"]


def test_plot_history_writes_a_png(plt, tmp_path):
    utils.plot_history(_History(LOGS)).savefig(tmp_path / "curves.png")
    assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("history,metrics,match", [
    ({}, None, "at least one metric"),
    ([0.1, 0.2], None, "History returned by model.fit"),
    (LOGS, ["acc"], r"Unknown metric\(s\) \['acc'\].*Available: \['accuracy', 'loss'"),
    (LOGS, [], "Unknown metric"),
])
def test_plot_history_bad_input(history, metrics, match):
    with pytest.raises(ValueError, match=match):
        utils.plot_history(history, metrics)


def test_plot_history_without_matplotlib_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r'pip install "microtf\[plot\]"'):
        utils.plot_history(LOGS)

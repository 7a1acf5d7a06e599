"""keras.utils: seeding helper and plot_history; imports microtf.random (matplotlib lazily)."""
import random as _pyrandom

import numpy as np

from .. import random as _random

__all__ = ["plot_history", "set_random_seed"]


def set_random_seed(seed):
    """Seeds Python's `random`, numpy's global generator and tf.random (layer initializers
    included), as keras.utils.set_random_seed does."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError("Expected `seed` argument to be an integer. Received: seed=%r (of type "
                         "%s)" % (seed, type(seed)))
    _pyrandom.seed(int(seed))
    np.random.seed(int(seed))
    _random.set_seed(int(seed))


def plot_history(history, metrics=None):
    """Draws the curves of a `fit` History (or its `.history` dict): one panel per metric, loss
    first, each with its `val_` curve when there is one. Returns the matplotlib Figure; never
    calls `plt.show()` (call it yourself in a script; notebooks show the figure by themselves).

    `metrics`: the names to draw (e.g. ["loss", "accuracy"]); by default every key that is not a
    `val_` key. matplotlib is optional: pip install "microtf[plot]".
    """
    logs = getattr(history, "history", history)
    if not isinstance(logs, dict) or not logs:
        raise ValueError("plot_history expects a History returned by model.fit(...) or its "
                         "`.history` dict with at least one metric. Received: %r" % (history,))
    available = [k for k in logs if not k.startswith("val_")] or list(logs)
    if metrics is None:
        # Loss first, as learners look at it first; the rest keep fit's order.
        metrics = sorted(available, key=lambda k: k != "loss")
    elif isinstance(metrics, str):
        metrics = [metrics]
    unknown = [m for m in metrics if m not in logs]
    if unknown or not metrics:
        raise ValueError("Unknown metric(s) %s for plot_history. Available: %s"
                         % (unknown or metrics, sorted(logs)))
    try:
        import matplotlib.pyplot as plt  # lazily: matplotlib is an optional extra
        from matplotlib.ticker import MaxNLocator
    except ImportError:
        raise ImportError('plot_history needs matplotlib: pip install "microtf[plot]" (or pip '
                          "install matplotlib).") from None
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.5 * len(metrics), 3.5), squeeze=False)
    for ax, name in zip(axes[0], metrics):
        for key in (name, "val_" + name):
            if key in logs:
                values = [float(v) for v in logs[key]]
                ax.plot(range(1, len(values) + 1), values, marker="o", markersize=3, label=key)
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # no epoch 1.25
        ax.grid(True, alpha=0.3)
        ax.legend()
    fig.tight_layout()
    return fig

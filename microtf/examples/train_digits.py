"""Handwritten digits (scikit-learn's bundled 8x8 set) classified by a small Keras network, trained
three ways from the same initial weights: `model.fit`, an explicit GradientTape loop, and the same
network written by hand in numpy (forward, analytic backward, Adam). Prints the summary, the
progress bar, the three test accuracies and the median epoch time of each.

    python -m microtf digits          (or: python examples/train_digits.py)

Needs scikit-learn (pip install "microtf[examples]"); saves the loss/accuracy curves as
digits_history.png when matplotlib is installed.
"""
import argparse
import os
import sys
import time

import numpy as np

import microtf as tf


# -- data -----------------------------------------------------------------------------------------
def load_data(seed=0, test_size=0.2):
    """(x_train, y_train, x_test, y_test): 1797 8x8 digits as 64 float32 features, an 80/20
    stratified split, standardized with the training set's mean and std only (no test leakage)."""
    try:
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split
    except ImportError:
        raise ImportError('The digits example needs scikit-learn: pip install "microtf[examples]" '
                          "(or pip install scikit-learn).") from None
    x, y = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=test_size, random_state=seed, stratify=y)
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)
    std[std == 0] = 1.0  # the always-blank corner pixels: leave them at 0 instead of 0/0
    x_train = ((x_train - mean) / std).astype(np.float32)
    x_test = ((x_test - mean) / std).astype(np.float32)
    return x_train, y_train.astype(np.int32), x_test, y_test.astype(np.int32)


def build_model(hidden=64, classes=10, features=64):
    """Sequential([Dense(hidden, 'relu'), Dense(classes, 'softmax')]), built for `features`.
    Named, so that the summary reads the same however many models were made before."""
    return tf.keras.Sequential([
        tf.keras.Input((features,)),
        tf.keras.layers.Dense(hidden, activation="relu", name="hidden"),
        tf.keras.layers.Dense(classes, activation="softmax", name="output"),
    ], name="digits_mlp")


def make_optimizer(name, learning_rate):
    """Adam or SGD, the two optimizers the example and the benchmark use."""
    cls = {"adam": tf.keras.optimizers.Adam, "sgd": tf.keras.optimizers.SGD}[name]
    return cls(learning_rate=learning_rate)


def _accuracy(probs, labels):
    return float(np.mean(np.argmax(probs, axis=-1) == labels))


class EpochTimer(tf.keras.callbacks.Callback):
    """Records the wall time of every epoch of `fit` (seconds)."""

    def __init__(self):
        super().__init__()
        self.times = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter() - self._start)


# -- the three trainings ---------------------------------------------------------------------------
def train_fit(model, data, epochs, batch_size, optimizer="adam", learning_rate=1e-3, verbose=1):
    """compile + fit; returns (history, test accuracy, epoch times)."""
    x_train, y_train, x_test, y_test = data
    model.compile(optimizer=make_optimizer(optimizer, learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    timer = EpochTimer()
    history = model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, verbose=verbose,
                        callbacks=[timer])
    return history, _accuracy(model.predict(x_test, verbose=0), y_test), timer.times


def tape_epoch(model, optimizer, loss_fn, x, y, batch_size, order):
    """One epoch of the explicit loop: forward under a tape, gradient, apply_gradients."""
    for start in range(0, len(order), batch_size):
        idx = order[start:start + batch_size]
        with tf.GradientTape() as tape:
            loss = loss_fn(y[idx], model(x[idx], training=True))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))


def train_tape(model, data, epochs, batch_size, optimizer="adam", learning_rate=1e-3, seed=0):
    """The same training written as a GradientTape loop; returns (test accuracy, epoch times)."""
    x_train, y_train, x_test, y_test = data
    opt = make_optimizer(optimizer, learning_rate)
    loss_fn = tf.keras.losses.SparseCategoricalCrossentropy()
    rng, times = np.random.default_rng(seed), []
    for _ in range(epochs):
        start = time.perf_counter()
        tape_epoch(model, opt, loss_fn, x_train, y_train, batch_size,
                   rng.permutation(len(x_train)))
        times.append(time.perf_counter() - start)
    return _accuracy(model(x_test).numpy(), y_test), times


class NumpyMLP:
    """relu-softmax MLP by hand: forward, analytic backward, Keras's SGD and Adam updates."""

    def __init__(self, weights, optimizer="adam", learning_rate=1e-3):
        self.params = [np.array(w) for w in weights]  # [W1, b1, W2, b2]
        self.optimizer, self.lr, self.t = optimizer, learning_rate, 0
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]

    def predict(self, x):
        w1, b1, w2, b2 = self.params
        h = np.maximum(x @ w1 + b1, 0)
        z = h @ w2 + b2
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return h, e / e.sum(axis=1, keepdims=True)

    def step(self, x, y):
        """Mean cross-entropy over the batch: dz = (softmax - onehot) / n, then the chain rule."""
        w1, b1, w2, b2 = self.params
        h, p = self.predict(x)
        dz = p
        dz[np.arange(len(y)), y] -= 1
        dz /= len(y)
        dh = (dz @ w2.T) * (h > 0)
        grads = [x.T @ dh, dh.sum(axis=0), h.T @ dz, dz.sum(axis=0)]
        if self.optimizer == "sgd":
            for p_, g in zip(self.params, grads):
                p_ -= self.lr * g
            return
        # Keras 3's Adam: moments by lerp, bias correction folded into the step size.
        self.t += 1
        b1_, b2_, eps = 0.9, 0.999, 1e-7
        # A Python float, so that float32 weights stay float32 (numpy 2 promotes np.float64).
        lr_t = self.lr * (1 - b2_ ** self.t) ** 0.5 / (1 - b1_ ** self.t)
        for p_, g, m, v in zip(self.params, grads, self.m, self.v):
            m += (g - m) * (1 - b1_)
            v += (g * g - v) * (1 - b2_)
            p_ -= lr_t * m / (np.sqrt(v) + eps)

    def epoch(self, x, y, batch_size, order):
        """One pass over the data in the given order."""
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            self.step(x[idx], y[idx])


def train_numpy(weights, data, epochs, batch_size, optimizer="adam", learning_rate=1e-3, seed=0):
    """The same network and training in plain numpy; returns (test accuracy, epoch times)."""
    x_train, y_train, x_test, y_test = data
    net, rng, times = NumpyMLP(weights, optimizer, learning_rate), np.random.default_rng(seed), []
    for _ in range(epochs):
        start = time.perf_counter()
        net.epoch(x_train, y_train, batch_size, rng.permutation(len(x_train)))
        times.append(time.perf_counter() - start)
    return _accuracy(net.predict(x_test)[1], y_test), times


# -- the example -----------------------------------------------------------------------------------
def save_plot(history, path):
    """Saves the curves with plot_history; returns the path, or None without matplotlib."""
    try:
        import matplotlib
    except ImportError:
        print('(matplotlib is not installed: pip install "microtf[examples]" or pip install '
              "matplotlib to get the loss/accuracy plot)")
        return None
    matplotlib.use("Agg")  # a file only: no window, works without a display
    import matplotlib.pyplot as plt
    fig = tf.keras.utils.plot_history(history)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    print("Saved the loss/accuracy curves to %s" % os.path.abspath(path))
    return path


def run(epochs=20, batch_size=32, seed=0, plot_path="digits_history.png", verbose=1):
    """Runs the whole example; returns a dict of accuracies and median epoch times (ms)."""
    data = load_data(seed)
    tf.keras.utils.set_random_seed(seed)
    model = build_model()
    initial = model.get_weights()  # the three trainings start from these same weights
    model.summary()
    history, fit_acc, fit_times = train_fit(model, data, epochs, batch_size, verbose=verbose)
    print("fit: test accuracy %.4f" % fit_acc)
    plot = save_plot(history, plot_path) if plot_path else None

    model = build_model()
    model.set_weights(initial)
    tape_acc, tape_times = train_tape(model, data, epochs, batch_size, seed=seed)
    print("GradientTape loop: test accuracy %.4f" % tape_acc)
    numpy_acc, numpy_times = train_numpy(initial, data, epochs, batch_size, seed=seed)
    print("numpy by hand: test accuracy %.4f" % numpy_acc)

    ms = {k: 1e3 * float(np.median(t)) for k, t in
          (("fit", fit_times), ("tape", tape_times), ("numpy", numpy_times))}
    print("Median epoch time (%d epochs, %d samples, batch %d):"
          % (epochs, len(data[0]), batch_size))
    for key, label in (("fit", "model.fit"), ("tape", "GradientTape loop"),
                       ("numpy", "numpy by hand")):
        print("  %-18s %7.2f ms  (%.2fx numpy)" % (label, ms[key], ms[key] / ms["numpy"]))
    return {"fit_accuracy": fit_acc, "tape_accuracy": tape_acc, "numpy_accuracy": numpy_acc,
            "epoch_ms": ms, "history": history, "plot": plot}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m microtf digits", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", default="digits_history.png",
                        help="where to save the curves ('' to skip)")
    args = parser.parse_args(argv)
    try:
        run(args.epochs, args.batch_size, args.seed, args.plot)
    except ImportError as e:
        print(e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

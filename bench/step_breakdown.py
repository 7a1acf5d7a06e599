"""Where a training step's time goes: issue 5's targets 1 and 4 split into their parts, each beside
the same part written by hand in numpy (best of several repeats, one process, 1 BLAS thread).

    python bench/step_breakdown.py          # both tables, a few seconds

The lab's SGD step is the tape context, the forward (x - 4)**2, gradient, the update and the
history read; the digits step (64-128 relu-10 softmax, batch 64, SGD) is the Keras forward, the
loss, what recording adds, gradient and apply_gradients. The numpy column is the analytic
equivalent of each part; a dash where numpy has no such part.
"""
import time

import numpy as np

import microtf as tf
from microtf.examples import train_digits as digits


def best(fn, number=200, repeat=15):
    """Seconds per call: the fastest of `repeat` runs of `number` calls (load only slows)."""
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - start) / number)
    return min(times)


def _tapes(make, n):
    """n (tape, loss) pairs recorded ahead, so that `gradient` can be timed alone."""
    return [make() for _ in range(n)]


def sgd_rows():
    x = tf.Variable([[1.0]])
    g = tf.constant([[0.5]])
    xn = np.array([[1.0]], np.float32)

    def tape_only():
        with tf.GradientTape():
            pass

    def forward():
        with tf.GradientTape():
            (x - 4) ** 2

    def record():
        with tf.GradientTape() as tape:
            loss = (x - 4) ** 2
        return tape, loss

    def update():
        x.assign(x - 1e-2 * g)

    def np_grad():
        return 2 * (xn - 4)

    gn = np_grad()

    def np_update():
        return xn - np.float32(1e-2) * gn

    pending = []

    def gradient():
        tape, loss = pending.pop()
        tape.gradient(loss, x)

    pending.extend(_tapes(record, 200 * 16))
    return [("GradientTape context", best(tape_only), None),
            ("forward (x - 4)**2 under the tape", best(forward), None),
            ("gradient", best(gradient), best(np_grad)),
            ("update x.assign(x - lr * grad)", best(update), best(np_update)),
            ("history x.numpy()[0]", best(lambda: x.numpy()[0]), best(lambda: xn[0]))]


def digits_rows():
    rng = np.random.default_rng(0)
    xb = rng.standard_normal((64, 64)).astype(np.float32)
    yb = rng.integers(0, 10, 64)
    model = digits.build_model(hidden=128)
    net = digits.NumpyMLP(model.get_weights(), "sgd", 0.01)
    loss_fn = tf.keras.losses.SparseCategoricalCrossentropy()
    opt = digits.make_optimizer("sgd", 0.01)
    variables = model.trainable_variables
    probs = model(xb)
    grads = [tf.zeros_like(v) for v in variables]
    _, _, w2, _ = net.params
    h, p = net.predict(xb)

    def np_loss():
        return -np.log(p[np.arange(64), yb]).mean()

    def np_backward():
        dz = p.copy()
        dz[np.arange(64), yb] -= 1
        dz /= 64
        dh = (dz @ w2.T) * (h > 0)
        return [xb.T @ dh, dh.sum(axis=0), h.T @ dz, dz.sum(axis=0)]

    weights, grads_np = [w.copy() for w in net.params], np_backward()

    def np_apply():
        for w, g in zip(weights, grads_np):
            w -= 0.01 * g

    def untaped():
        loss_fn(yb, model(xb, training=True))

    def record():
        with tf.GradientTape() as tape:
            loss = loss_fn(yb, model(xb, training=True))
        return tape, loss

    pending = []

    def gradient():
        tape, loss = pending.pop()
        tape.gradient(loss, variables)

    pending.extend(_tapes(record, 50 * 16))
    step_np = best(lambda: net.step(xb, yb), 50)

    def step():
        tape, loss = record()
        opt.apply_gradients(zip(tape.gradient(loss, variables), variables))

    forward_np = best(lambda: net.predict(xb), 50)
    return [("forward model(x) (numpy: predict)", best(lambda: model(xb, training=True), 50),
             forward_np),
            ("loss on the softmax output", best(lambda: loss_fn(yb, probs), 50), best(np_loss)),
            ("recording (taped minus untaped forward+loss)",
             max(best(record, 50) - best(untaped, 50), 0.0), None),
            ("gradient (numpy: analytic backward)", best(gradient, 50), best(np_backward, 50)),
            ("apply_gradients, SGD (numpy: in-place updates)",
             best(lambda: opt.apply_gradients(zip(grads, variables)), 50), best(np_apply, 50)),
            ("whole step", best(step, 50), step_np)]


def _table(title, rows):
    print("\n%s\n\n| part | microtf | numpy | ratio |\n|---|---:|---:|---:|" % title)
    for name, mine, ref in rows:
        ratio = "%.2fx" % (mine / ref) if ref else "—"
        ref_text = "%.2f µs" % (ref * 1e6) if ref else "—"
        print("| %s | %.2f µs | %s | %s |" % (name, mine * 1e6, ref_text, ratio))


def main():
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(1)  # numpy's and scipy's OpenBLAS alike, as the bench does
    except ImportError:
        pass
    _table("Target 1: one step of the lab's SGD loop", sgd_rows())
    _table("Target 4: one digits training step (batch 64)", digits_rows())


if __name__ == "__main__":
    main()

"""Threads: tapes are thread-local; models trained on 8 threads match single-thread results."""
import threading

import numpy as np

import microtf as tf

THREADS = 8


def _run_threads(target, n=THREADS):
    """Runs target(i) on n threads started together; re-raises the first failure."""
    barrier = threading.Barrier(n)
    results, errors = [None] * n, []

    def run(i):
        try:
            barrier.wait(timeout=30)
            results[i] = target(i)
        except BaseException as e:  # reported below; a failing thread must not hang the others
            errors.append(e)
            barrier.abort()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    if errors:
        raise errors[0]
    return results


def _data(i):
    rng = np.random.default_rng(100 + i)
    x = rng.standard_normal((32, 5)).astype(np.float32)
    return x, np.tanh(x @ rng.standard_normal((5, 1)).astype(np.float32))


def _model(i):
    """A model whose initial weights depend only on i (not on a shared random stream)."""
    model = tf.keras.Sequential([tf.keras.layers.Dense(16, activation="sigmoid"),
                                 tf.keras.layers.Dense(1)])
    model(np.zeros((1, 5), np.float32))
    rng = np.random.default_rng(i)
    for w in model.weights:
        w.assign(rng.standard_normal(w.shape).astype(np.float32) * 0.3)
    return model


def _train_with_tape(i, steps=60):
    model, (x, y) = _model(i), _data(i)
    optimizer = tf.keras.optimizers.Adam(0.01)
    losses = []
    for _ in range(steps):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(model(x) - y))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        losses.append(float(loss))
    return losses, [w.numpy() for w in model.weights]


def _train_with_fit(i):
    model, (x, y) = _model(i), _data(i)
    model.compile(optimizer=tf.keras.optimizers.SGD(0.1), loss="mse")
    history = model.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0)
    return history.history["loss"], [w.numpy() for w in model.weights]


def _assert_identical(threaded, serial):
    for i, ((losses, weights), (losses1, weights1)) in enumerate(zip(threaded, serial)):
        assert losses == losses1, "thread %d: losses differ from the single-thread run" % i
        for w, w1 in zip(weights, weights1):
            np.testing.assert_array_equal(w, w1, err_msg="thread %d" % i)


def test_threads_eight_tape_loops_equal_the_single_thread_results():
    serial = [_train_with_tape(i) for i in range(THREADS)]
    _assert_identical(_run_threads(_train_with_tape), serial)
    assert len({tuple(losses) for losses, _ in serial}) == THREADS  # eight different problems


def test_threads_eight_fits_equal_the_single_thread_results():
    serial = [_train_with_fit(i) for i in range(THREADS)]
    _assert_identical(_run_threads(_train_with_fit), serial)


def test_threads_an_op_on_another_thread_is_not_recorded():
    """The main thread's open tape sees only the main thread's ops; the other thread's own tape
    sees only its own."""
    x = tf.constant([1.0, 2.0])
    box = {}

    def other():
        y = x * 100.0  # under the main thread's open tape, on this thread
        with tf.GradientTape() as tape:
            tape.watch(x)
            z = tf.reduce_sum(x * x)
        box["y"], box["dz"] = y, tape.gradient(z, x)

    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        mine = tf.reduce_sum(x * 3.0)
        t = threading.Thread(target=other)
        t.start()
        t.join()
    assert tape.gradient(box["y"], x) is None
    np.testing.assert_array_equal(tape.gradient(mine, x).numpy(), [3.0, 3.0])
    np.testing.assert_array_equal(box["dz"].numpy(), [2.0, 4.0])


def test_threads_tapes_opened_concurrently_stay_separate():
    """Eight threads each hold a tape open across a barrier, so all eight are open together;
    each gradient is its own thread's."""
    barrier = threading.Barrier(THREADS)

    def work(i):
        x = tf.constant(float(i))
        with tf.GradientTape() as tape:
            tape.watch(x)
            barrier.wait(timeout=30)
            y = x * x * float(i + 1)
            barrier.wait(timeout=30)
        return float(tape.gradient(y, x))

    got = _run_threads(work)
    assert got == [2.0 * i * (i + 1) for i in range(THREADS)]

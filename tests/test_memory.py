"""Memory: long training loops do not grow RSS or traced Python memory; a step leaves no cycles."""
import gc
import os
import time
import tracemalloc

import numpy as np
import pytest

import microtf as tf

STEPS = 10_000
WARMUP = 500
TRACED = 2_000


def _rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _setup():
    tf.keras.utils.set_random_seed(0)
    model = tf.keras.Sequential([tf.keras.layers.Dense(16, activation="relu"),
                                 tf.keras.layers.Dense(1)])
    optimizer = tf.keras.optimizers.Adam(1e-3)
    rng = np.random.default_rng(0)
    x = tf.constant(rng.standard_normal((32, 8)).astype(np.float32))
    y = tf.reduce_sum(x, axis=1, keepdims=True)

    def step():
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(model(x) - y))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    return model, step


def test_memory_10000_training_steps_do_not_grow_rss_or_traced_memory():
    """RSS over all 10,000 steps; tracemalloc (which makes each step ~8x slower) over the last
    TRACED of them, against the same 1 MB budget."""
    model, step = _setup()
    for _ in range(WARMUP):
        step()
    gc.collect()
    rss0 = _rss_bytes()
    t0 = time.perf_counter()
    for _ in range(STEPS - TRACED):
        step()
    tracemalloc.start()
    try:
        traced0 = tracemalloc.get_traced_memory()[0]
        for _ in range(TRACED):
            loss = step()
        gc.collect()
        traced = tracemalloc.get_traced_memory()[0] - traced0
    finally:
        tracemalloc.stop()
    elapsed = time.perf_counter() - t0
    rss = _rss_bytes() - rss0
    print("%d steps in %.1f s: RSS %+.2f MB; last %d traced: %+.1f kB"
          % (STEPS, elapsed, rss / 2**20, TRACED, traced / 2**10))
    assert float(loss) < 1.0  # it did train
    assert rss < 5 * 2**20, "RSS grew by %.2f MB over %d steps" % (rss / 2**20, STEPS)
    assert traced < 2**20, "traced memory grew by %.1f kB over %d steps" % (traced / 2**10,
                                                                            TRACED)


def test_memory_a_training_step_creates_no_reference_cycles():
    """Intermediates are freed by reference counting alone after gradient()."""
    _, step = _setup()
    step()
    np.testing.assert_no_gc_cycles(step)


def test_memory_a_leak_would_be_detected():
    """The measurement is sensitive enough: keeping every loss (a 1-element tensor, ~100 B of
    Python objects each) over the same loop shows up in the traced figure."""
    _, step = _setup()
    step()
    kept = []
    tracemalloc.start()
    try:
        traced0 = tracemalloc.get_traced_memory()[0]
        for _ in range(300):
            kept.append(step())
        traced = tracemalloc.get_traced_memory()[0] - traced0
    finally:
        tracemalloc.stop()
    assert traced > 100 * len(kept)


@pytest.mark.parametrize("persistent", [False, True])
def test_memory_tape_intermediates_freed_without_gc(persistent):
    import weakref

    x = tf.constant(np.ones((4, 4), np.float32))
    with tf.GradientTape(persistent=persistent) as tape:
        tape.watch(x)
        mid = tf.sigmoid(x)
        y = tf.reduce_sum(mid * mid)
    ref = weakref.ref(mid)
    del mid
    gc.disable()
    try:
        tape.gradient(y, x)
        if persistent:
            assert ref() is not None  # a persistent tape keeps what later gradients need
            del tape
        else:
            del tape
        assert ref() is None
    finally:
        gc.enable()


@pytest.mark.parametrize("call", ["train_on_batch", "fit", "evaluate", "predict"])
def test_memory_keras_loops_create_no_reference_cycles(call):
    model = tf.keras.Sequential([tf.keras.layers.Dense(4, activation="relu"),
                                 tf.keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    x, y = np.ones((8, 3), np.float32), np.ones((8, 1), np.float32)
    run = {"train_on_batch": lambda: model.train_on_batch(x, y),
           "fit": lambda: model.fit(x, y, batch_size=4, epochs=2, verbose=0),
           "evaluate": lambda: model.evaluate(x, y, verbose=0),
           "predict": lambda: model.predict(x, verbose=0)}[call]
    model.fit(x, y, verbose=0)  # builds weights, optimizer slots and metrics first
    run()
    np.testing.assert_no_gc_cycles(run)

"""GradientTape (section 2.10): watching, structure, higher order, misuse, threads, memory."""
import gc
import re
import threading
import time
import weakref

import numpy as np
import pytest

import microtf as tf
from microtf.testing import check_gradients


def _grad(fn, x, **tape_kwargs):
    """d fn(x) / dx with a fresh tape (x a Variable or a watched tensor)."""
    with tf.GradientTape(**tape_kwargs) as tape:
        tape.watch(x)
        y = fn(x)
    return tape.gradient(y, x)


# -- what is watched -----------------------------------------------------------------------------
def test_trainable_variables_are_watched_automatically():
    x = tf.Variable(3.)
    with tf.GradientTape() as tape:
        y = x * x
    g = tape.gradient(y, x)
    assert isinstance(g, tf.Tensor) and g.dtype is tf.float32 and g.numpy() == 6.
    watched = tape.watched_variables()
    assert type(watched) is tuple and len(watched) == 1 and watched[0] is x


def test_constants_need_watch():
    c = tf.constant(3.)
    with tf.GradientTape() as tape:
        y = c * c
    assert tape.gradient(y, c) is None
    with tf.GradientTape() as tape:
        tape.watch(c)
        y = c * c
    assert tape.gradient(y, c).numpy() == 6.


def test_non_trainable_variable_gives_none():
    v = tf.Variable(3., trainable=False)
    with tf.GradientTape() as tape:
        y = v * v
    assert tape.gradient(y, v) is None
    assert tape.watched_variables() == ()


def test_unconnected_sources():
    x, u = tf.Variable(3.), tf.Variable([1., 2.])
    with tf.GradientTape(persistent=True) as tape:
        y = x * x
    assert tape.gradient(y, u) is None
    for mode in (tf.UnconnectedGradients.ZERO, "zero"):
        g = tape.gradient(y, u, unconnected_gradients=mode)
        assert g.dtype is tf.float32
        np.testing.assert_array_equal(g.numpy(), [0., 0.])
    assert tape.gradient(y, u, unconnected_gradients="none") is None


def test_watch_accessed_variables_false():
    x, u = tf.Variable(3.), tf.Variable(2.)
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(u)
        y = x * u
    watched = tape.watched_variables()
    assert type(watched) is tuple and len(watched) == 1 and watched[0] is u
    gx, gu = tape.gradient(y, [x, u])
    assert gx is None and gu.numpy() == 3.


def test_watch_rejects_non_tensors():
    with tf.GradientTape() as tape:
        with pytest.raises(ValueError, match="not tf.Tensor or tf.Variable"):
            tape.watch(3.0)


# -- non-persistent and persistent tapes --------------------------------------------------------
_ONE_SET = ("A non-persistent GradientTape can only be used to compute one set of gradients "
            "(or jacobians)")


def test_second_gradient_call_raises():
    x = tf.Variable(3.)
    with tf.GradientTape() as tape:
        y = x * x
    tape.gradient(y, x)
    with pytest.raises(RuntimeError, match="^" + re.escape(_ONE_SET)):
        tape.gradient(y, x)
    with pytest.raises(RuntimeError, match="one set of gradients"):
        tape.jacobian(y, x)


def test_gradient_on_tape_never_entered():
    x = tf.Variable(3.)
    tape = tf.GradientTape()
    assert tape.gradient(x * x, x) is None
    with pytest.raises(RuntimeError, match="one set of gradients"):
        tape.gradient(x * x, x)


def test_gradient_inside_with_block():
    x = tf.Variable(3.)
    with tf.GradientTape() as tape:
        y = x * x
        g = tape.gradient(y, x)
        with pytest.raises(RuntimeError, match="one set of gradients"):
            tape.gradient(y, x)
    assert g.numpy() == 6.


def test_persistent_tape():
    x = tf.Variable(3.)
    with tf.GradientTape(persistent=True) as tape:
        y = x * x
        z = y * x
    assert tape.gradient(y, x).numpy() == 6.
    assert tape.gradient(z, x).numpy() == 27.
    assert tape.gradient(z, y).numpy() == 3.
    del tape


def test_tape_reentry_refused():
    tape = tf.GradientTape()
    with tape:
        with pytest.raises(ValueError, match="re-enter"):
            tape.__enter__()


# -- structure of sources and targets -----------------------------------------------------------
def test_sources_keep_structure():
    a, b, c = tf.Variable(1.), tf.Variable(2.), tf.Variable(5.)
    with tf.GradientTape(persistent=True) as tape:
        y = a * b
    d = tape.gradient(y, {"a": a, "b": b, "c": c})
    assert set(d) == {"a", "b", "c"} and d["c"] is None
    assert d["a"].numpy() == 2. and d["b"].numpy() == 1.
    nested = tape.gradient(y, [a, (b, [c]), {"x": a}])
    assert isinstance(nested, list) and isinstance(nested[1], tuple)
    assert nested[0].numpy() == 2. and nested[1][0].numpy() == 1. and nested[1][1] == [None]
    assert nested[2]["x"].numpy() == 2.
    single = tape.gradient(y, a)
    assert isinstance(single, tf.Tensor)


def test_duplicate_sources_each_filled():
    x = tf.Variable(3.)
    with tf.GradientTape() as tape:
        y = x * x
    g1, g2 = tape.gradient(y, [x, x])
    assert g1.numpy() == 6. and g2.numpy() == 6.


def test_list_targets_are_summed():
    x = tf.Variable(3.)
    with tf.GradientTape() as tape:
        y = x * x
        w = y * y
    assert tape.gradient([y, w], x).numpy() == 6. + 108.


def test_non_scalar_target_sums():
    v = tf.Variable([1., 2., 3.])
    with tf.GradientTape() as tape:
        y = v * v
    np.testing.assert_array_equal(tape.gradient(y, v).numpy(), [2., 4., 6.])


def test_output_gradients_weight_the_vjp():
    v = tf.Variable([1., 2., 3.])
    with tf.GradientTape() as tape:
        y = v * v
    g = tape.gradient(y, v, output_gradients=tf.constant([1., 0., 2.]))
    np.testing.assert_array_equal(g.numpy(), [2., 0., 12.])


def test_gradient_of_target_wrt_itself_is_ones():
    x = tf.Variable([1., 2.])
    with tf.GradientTape() as tape:
        y = x * 2.
    g = tape.gradient(y, y)
    np.testing.assert_array_equal(g.numpy(), [1., 1.])
    assert g.dtype is tf.float32


def test_non_tensor_target_or_source():
    x = tf.Variable(3.)
    with tf.GradientTape() as tape:
        y = x * 2.
    with pytest.raises(AttributeError, match="'float' object has no attribute '_id'"):
        tape.gradient(2.0, x)
    with tf.GradientTape() as tape:
        y = x * 2.
    with pytest.raises(AttributeError, match="'float' object has no attribute 'dtype'"):
        tape.gradient(y, 3.0)


# -- higher order -------------------------------------------------------------------------------
def test_nested_tapes_second_derivative():
    x = tf.Variable(3.)
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            y = x * x * x
        g = inner.gradient(y, x)
    assert g.numpy() == 27.
    assert outer.gradient(g, x).numpy() == 18.


def test_persistent_tape_in_own_context_gives_second_order():
    x = tf.Variable(3.)
    with tf.GradientTape(persistent=True) as tape:
        y = x * x * x
        g = tape.gradient(y, x)
        g2 = tape.gradient(g, x)
    assert g.numpy() == 27. and g2.numpy() == 18.


def test_third_derivative():
    x = tf.constant(2., tf.float64)
    with tf.GradientTape() as t3:
        t3.watch(x)
        with tf.GradientTape() as t2:
            t2.watch(x)
            with tf.GradientTape() as t1:
                t1.watch(x)
                y = x * x * x * x
            g1 = t1.gradient(y, x)
        g2 = t2.gradient(g1, x)
    assert (g1.numpy(), g2.numpy(), t3.gradient(g2, x).numpy()) == (32., 48., 48.)


# -- controlling recording ----------------------------------------------------------------------
def test_stop_recording():
    x = tf.Variable(3.)
    with tf.GradientTape() as tape:
        with tape.stop_recording():
            y = x * x
        z = x * 2.
    assert tape.gradient([y, z], x).numpy() == 2.  # only z's path was recorded


def test_stop_gradient():
    x = tf.Variable(3.)
    with tf.GradientTape() as tape:
        y = tf.stop_gradient(x * x) * x
    assert tape.gradient(y, x).numpy() == 9.


def test_reset():
    x, u = tf.Variable(3.), tf.Variable(2.)
    with tf.GradientTape() as tape:
        y = x * x
        tape.reset()
        z = x * u
    gx, gu = tape.gradient(z, [x, u])
    assert gx.numpy() == 2. and gu.numpy() == 3.
    with tf.GradientTape() as tape:
        y = x * x
        tape.reset()
    assert tape.gradient(y, x) is None


def test_jacobian():
    v = tf.Variable([1., 2., 3.])
    with tf.GradientTape() as tape:
        y = v * v
    j = tape.jacobian(y, v)
    assert j.shape == (3, 3)
    np.testing.assert_array_equal(j.numpy(), np.diag([2., 4., 6.]))


def test_jacobian_matrix_input():
    w = tf.Variable(np.arange(6.).reshape(2, 3))
    x = tf.constant([[1.], [2.], [3.]], tf.float64)
    with tf.GradientTape() as tape:
        y = tf.matmul(w, x)
    j = tape.jacobian(y, w)
    assert j.shape == (2, 1, 2, 3)
    expected = np.zeros((2, 1, 2, 3))
    expected[0, 0, 0] = expected[1, 0, 1] = [1., 2., 3.]
    np.testing.assert_array_equal(j.numpy(), expected)


# -- paths that break the tape ------------------------------------------------------------------
def test_integer_sources_give_none_with_warning():
    iv = tf.Variable(3)
    with pytest.warns(UserWarning, match="must be floating"):
        with tf.GradientTape() as tape:
            y = iv * iv
        assert tape.gradient(y, iv) is None
    ic = tf.constant(3)
    with pytest.warns(UserWarning, match="The dtype of the watched tensor must be floating "
                                         "\\(e.g. tf.float32\\), got tf.int32"):
        with tf.GradientTape() as tape:
            tape.watch(ic)
            y = ic * ic
    with pytest.warns(UserWarning):
        assert tape.gradient(y, ic) is None


def test_cast_to_int_breaks_gradient():
    x = tf.Variable(3.)
    with tf.GradientTape() as tape:
        y = tf.cast(tf.cast(x, tf.int32), tf.float32) * 2.
    assert tape.gradient(y, x) is None


def test_cast_float32_to_float64_gradient_is_float32():
    x = tf.Variable([3.])
    with tf.GradientTape() as tape:
        y = tf.cast(x, tf.float64) * 2.
    g = tape.gradient(y, x)
    assert g.dtype is tf.float32 and g.numpy()[0] == 2.


def test_path_through_numpy_breaks_gradient():
    x = tf.Variable(3.)
    with tf.GradientTape() as tape:
        y = tf.constant(x.numpy()) * 2.
    assert tape.gradient(y, x) is None


def test_path_through_assign_breaks_gradient():
    x, a = tf.Variable(3.), tf.Variable(0.)
    with tf.GradientTape() as tape:
        a.assign(x * 2.)
        y = a * 1.
    assert tape.gradient(y, x) is None
    with tf.GradientTape() as tape:
        r = a.assign(x * 2.)
        y = r * 1.
    assert tape.gradient(y, x) is None


def test_tf_gradients_refused_in_eager_mode():
    with pytest.raises(RuntimeError) as e:
        tf.gradients(tf.constant(1.), tf.constant(1.))
    assert str(e.value) == ("tf.gradients is not supported when eager execution is enabled. "
                            "Use tf.GradientTape instead.")


# -- custom_gradient -----------------------------------------------------------------------------
@tf.custom_gradient
def _clip_grad_identity(x):
    def grad(dy):
        return dy * 0.5
    return x * 1., grad


def test_custom_gradient():
    x = tf.Variable([3., 4.])
    with tf.GradientTape() as tape:
        y = _clip_grad_identity(x) * 2.
    np.testing.assert_array_equal(y.numpy(), [6., 8.])
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [1., 1.])


def test_custom_gradient_second_order():
    @tf.custom_gradient
    def square(x):
        def grad(dy):
            return dy * 2. * x
        return x * x, grad

    x = tf.Variable(3.)
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            y = square(x)
        g = inner.gradient(y, x)
    assert g.numpy() == 6. and outer.gradient(g, x).numpy() == 2.


def test_custom_gradient_without_tape():
    assert _clip_grad_identity(tf.constant(2.)).numpy() == 2.


# -- subgradients at kinks (section 2.10) -------------------------------------------------------
@pytest.mark.parametrize("name,fn,expected", [
    ("nn.relu", lambda x: tf.nn.relu(x), 0.),
    ("abs", lambda x: tf.abs(x), 0.),
    ("sqrt", lambda x: tf.sqrt(x), np.inf),
    ("pow", lambda x: tf.pow(x, 0.5), np.inf),
    ("pow", lambda x: x ** 2., 0.),
])
def test_subgradients_at_zero(require, name, fn, expected):
    if name.startswith("nn."):
        if not hasattr(tf.nn, name[3:]):
            pytest.skip("needs tf.%s" % name)
    else:
        require(name)
    g = _grad(fn, tf.constant(0.))
    assert g.numpy() == expected


def test_reduce_max_ties_split_evenly(require):
    require("reduce_max")
    g = _grad(lambda x: tf.reduce_max(x), tf.constant([2., 2.]))
    np.testing.assert_array_equal(g.numpy(), [0.5, 0.5])


# -- the tape's accumulation and broadcasting, against finite differences ----------------------
SHAPES = [((), ()), ((1, 1), (1, 1)), ((3, 5), (3, 5)), ((3, 5), (5,)), ((3, 1), (1, 5)),
          ((0, 3), (3,)), ((2, 0), (2, 0))]


def _inputs(sx, sy, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(0.5, 2.0, sx), rng.uniform(0.5, 2.0, sy)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("sx,sy", SHAPES)
def test_graph_with_reuse_matches_finite_differences(dtype, sx, sy):
    # x used three times, y twice, through broadcasting: gradients must accumulate with +.
    def fn(x, y):
        h = x * y + x
        return h * x - y / (y + 1.)
    check_gradients(fn, *_inputs(sx, sy), dtype=dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_second_order_matches_finite_differences(dtype, require):
    require("reduce_sum")
    check_gradients(lambda x, y: x * x * y + y, *_inputs((3,), (3,)), dtype=dtype, order=2)


def test_multi_output_op_gradient():
    x = tf.Variable([[1., 2.], [3., 4.]])
    with tf.GradientTape() as tape:
        a, b = tf.unstack(x)
        y = a * 3. + b * b  # uses both outputs of one Unpack entry
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [[3., 3.], [6., 8.]])
    with tf.GradientTape() as tape:
        a, _ = tf.unstack(x)
        y = a * 3.  # second output unused: zeros flow for it
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [[3., 3.], [0., 0.]])


def test_extreme_values_propagate():
    x = tf.constant([np.inf, np.nan, 1e300, 5e-324], tf.float64)
    g = _grad(lambda t: t * 2., x)
    np.testing.assert_array_equal(g.numpy(), [2., 2., 2., 2.])
    g = _grad(lambda t: t * t, x)
    np.testing.assert_array_equal(g.numpy(), [np.inf, np.nan, 2e300, 1e-323])


# -- threads ------------------------------------------------------------------------------------
def test_op_in_another_thread_is_not_recorded():
    x = tf.constant(1.)
    box = {}
    with tf.GradientTape() as tape:
        tape.watch(x)
        t = threading.Thread(target=lambda: box.setdefault("y", x * 2.))
        t.start()
        t.join()
        z = x * 3.
    assert tape.gradient([box["y"], z], x).numpy() == 3.


def test_tapes_in_four_threads_train_independently():
    targets = [1., -2., 3.5, 10.]
    barrier = threading.Barrier(len(targets))
    results, errors = {}, []

    def train(i):
        try:
            w = tf.Variable(0.)
            for _ in range(60):
                with tf.GradientTape() as tape:
                    barrier.wait()  # all four tapes are open at the same time
                    loss = (w - targets[i]) * (w - targets[i])
                w.assign_sub(0.1 * tape.gradient(loss, w))
            results[i] = float(w.numpy())
        except Exception as e:  # reported below; a failing thread must not hang the others
            errors.append(e)
            barrier.abort()

    threads = [threading.Thread(target=train, args=(i,)) for i in range(len(targets))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    for i, target in enumerate(targets):
        assert results[i] == pytest.approx(target, rel=1e-4)


# -- scale and memory ---------------------------------------------------------------------------
def test_long_chain_has_no_recursion_limit():
    x = tf.Variable(1.0, dtype=tf.float64)
    start = time.perf_counter()
    with tf.GradientTape() as tape:
        y = x
        for _ in range(100_000):
            y = y * 1.0001
    g = tape.gradient(y, x)
    elapsed = time.perf_counter() - start
    assert g.numpy() == pytest.approx(1.0001 ** 100_000, rel=1e-9)
    assert elapsed < 10, "100,000-op chain took %.1f s" % elapsed


def test_intermediates_freed_after_gradient_without_gc():
    x = tf.Variable([1., 2.])
    gc.disable()
    try:
        with tf.GradientTape() as tape:
            h = x * 2.
            y = h * h
        ref = weakref.ref(h)
        g = tape.gradient(y, x)
        del h, y
        assert ref() is None, "the tape still holds an intermediate after gradient()"
        np.testing.assert_array_equal(g.numpy(), [8., 16.])
        with tf.GradientTape(persistent=True) as tape:
            h = x * 2.
            y = h * h
        ref = weakref.ref(h)
        tape.gradient(y, x)
        del h, y
        assert ref() is not None  # a persistent tape keeps its record ...
        del tape
        assert ref() is None  # ... until it is deleted
    finally:
        gc.enable()


def test_training_step_creates_no_reference_cycles():
    w = tf.Variable(np.ones((3, 2)))
    b = tf.Variable(np.zeros(2))
    x = tf.constant(np.arange(12.).reshape(4, 3))

    def step():
        with tf.GradientTape() as tape:
            out = tf.matmul(x, w) + b
            loss = out * out
        gw, gb = tape.gradient(loss, [w, b])
        w.assign_sub(1e-3 * gw)
        b.assign_sub(1e-3 * gb)

    step()  # warm up caches outside the check
    np.testing.assert_no_gc_cycles(step)


def test_jacobian_unconnected_and_batch_jacobian():
    x, u = tf.Variable([[1., 2.], [3., 4.]]), tf.Variable([1., 2.])
    with tf.GradientTape(persistent=True) as tape:
        y = x * x
    assert tape.jacobian(y, u) is None
    z = tape.jacobian(y, u, unconnected_gradients="zero")
    assert z.shape == (2, 2, 2) and not np.any(z.numpy())
    bj = tape.batch_jacobian(y, x)
    np.testing.assert_array_equal(bj.numpy(), [[[2., 0.], [0., 4.]], [[6., 0.], [0., 8.]]])


def test_output_gradients_for_list_targets():
    x = tf.Variable([1., 2.])
    with tf.GradientTape() as tape:
        y = x * x
        z = x * 3.
    g = tape.gradient([y, z], x, output_gradients=[tf.constant([1., 1.]), tf.constant([2., 0.])])
    np.testing.assert_array_equal(g.numpy(), [2. + 6., 4.])


def test_exception_inside_tape_stops_recording():
    from microtf.eager.tape import _state
    before = list(_state.tapes)
    with pytest.raises(KeyError):
        with tf.GradientTape():
            raise KeyError("boom")
    assert _state.tapes == before


def test_unknown_unconnected_gradients_value():
    x = tf.Variable(1.)
    with tf.GradientTape() as tape:
        y = x * 2.
    with pytest.raises(ValueError, match="bogus"):
        tape.gradient(y, x, unconnected_gradients="bogus")


def test_tape_gradient_through_the_value_assign_returns():
    v = tf.Variable([1.0, 2.0])
    x = tf.constant([3.0, 4.0])
    with tf.GradientTape() as tape:
        v2 = v.assign([5.0, 6.0])  # an UnreadVariable: reading it reads v
        y = tf.reduce_sum(v2 * x)
    np.testing.assert_array_equal(tape.gradient(y, v).numpy(), [3.0, 4.0])


def test_tape_custom_gradient_with_variables_gets_them_and_returns_their_gradients():
    w = tf.Variable(2.0)

    @tf.custom_gradient
    def scaled(x):
        def grad(dy, variables):
            assert variables[0] is w
            return dy * w, [dy * x * 10.0]  # a deliberately non-analytic variable gradient
        return x * w, grad

    x = tf.constant(3.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = scaled(x)
    gx, gw = tape.gradient(y, [x, w])
    assert float(gx) == 2.0 and float(gw) == 30.0


def test_tape_custom_gradient_reading_variables_needs_the_keyword():
    w = tf.Variable(2.0)

    @tf.custom_gradient
    def scaled(x):
        return x * w, lambda dy: dy * w

    with tf.GradientTape():
        with pytest.raises(TypeError, match="grad_fn must accept a keyword argument 'variables'"):
            scaled(tf.constant(3.0))

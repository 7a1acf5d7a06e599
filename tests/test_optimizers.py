"""tf.keras.optimizers: 20-step trajectories against float64 numpy references written from
Keras 3's published update rules, state, and the error cases of TF_SEMANTICS.md §2.16."""
import warnings

import numpy as np
import pytest

import microtf as tf
from microtf.framework.errors import InvalidArgumentError

opt_mod = tf.keras.optimizers


# -- references: Keras 3's update_step rules in float64 ------------------------------------------
def ref_sgd(w, grads, learning_rate=0.01, momentum=0.0, nesterov=False):
    lr, m = learning_rate, np.zeros_like(w)
    for g in grads:
        if momentum == 0:
            w = w - lr * g
            continue
        m = momentum * m - lr * g
        w = w + (momentum * m - lr * g if nesterov else m)
    return w


def ref_adam(w, grads, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False):
    lr, m, v, vhat = learning_rate, np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)
    for t, g in enumerate(grads, start=1):
        alpha = lr * np.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
        m = m + (g - m) * (1 - beta_1)
        v = v + (g * g - v) * (1 - beta_2)
        vhat = np.maximum(vhat, v)
        w = w - alpha * m / (np.sqrt(vhat if amsgrad else v) + epsilon)
    return w


def ref_rmsprop(w, grads, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False):
    lr, v, a, mom = learning_rate, np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)
    for g in grads:
        v = rho * v + (1 - rho) * g * g
        a = rho * a + (1 - rho) * g
        inc = lr * g / np.sqrt((v - a * a if centered else v) + epsilon)
        mom = momentum * mom + inc
        w = w - (mom if momentum > 0 else inc)
    return w


def ref_adagrad(w, grads, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7):
    lr, acc = learning_rate, np.full_like(w, initial_accumulator_value)
    for g in grads:
        acc = acc + g * g
        w = w - lr * g / np.sqrt(acc + epsilon)
    return w


CASES = [
    (opt_mod.SGD, ref_sgd, {}),
    (opt_mod.SGD, ref_sgd, {"learning_rate": 0.1, "momentum": 0.9}),
    (opt_mod.SGD, ref_sgd, {"learning_rate": 0.05, "momentum": 0.5, "nesterov": True}),
    (opt_mod.Adam, ref_adam, {}),
    (opt_mod.Adam, ref_adam, {"learning_rate": 0.1, "beta_1": 0.8, "amsgrad": True}),
    (opt_mod.RMSprop, ref_rmsprop, {}),
    (opt_mod.RMSprop, ref_rmsprop, {"learning_rate": 0.01, "momentum": 0.5, "centered": True}),
    (opt_mod.Adagrad, ref_adagrad, {}),
    (opt_mod.Adagrad, ref_adagrad, {"learning_rate": 0.3, "initial_accumulator_value": 0.5}),
]


def _run(cls, kwargs, w0s, grads, dtype):
    opt = cls(**kwargs)
    vs = [tf.Variable(w.astype(dtype)) for w in w0s]
    for step in grads:
        opt.apply_gradients(zip([tf.constant(g.astype(dtype)) for g in step], vs))
    return opt, [v.numpy() for v in vs]


@pytest.mark.parametrize("cls,ref,kwargs", CASES,
                         ids=["%s-%d" % (c[0].__name__, i) for i, c in enumerate(CASES)])
# float32 runs do Keras's float32 arithmetic (e.g. 1 - float32(0.999) ** t loses digits): they
# get an absolute tolerance of about 1e-5 on weights of size ~1.
@pytest.mark.parametrize("dtype,rtol,atol", [(np.float64, 1e-10, 1e-12), (np.float32, 2e-5, 1e-5)])
def test_trajectory_matches_keras_rule(cls, ref, kwargs, dtype, rtol, atol):
    rng = np.random.default_rng(7)
    shapes = [(3, 5), (5,), (), (0, 2)]
    w0s = [rng.standard_normal(s) for s in shapes]
    grads = [[rng.standard_normal(s) * (1 + 9 * (k % 3 == 0)) for s in shapes]
             for k in range(20)]
    opt, got = _run(cls, kwargs, w0s, grads, dtype)
    # Keras keeps the learning rate in a float32 variable: the reference uses that value.
    ref_kwargs = dict(kwargs, learning_rate=float(np.float32(kwargs.get(
        "learning_rate", cls.__init__.__defaults__[0]))))
    for i, w0 in enumerate(w0s):
        # float32 runs are compared with a reference fed the same float32-rounded inputs.
        start = w0.astype(dtype).astype(np.float64)
        expected = ref(start, [g[i].astype(dtype).astype(np.float64) for g in grads],
                       **ref_kwargs)
        assert got[i].dtype == dtype and got[i].shape == w0.shape
        np.testing.assert_allclose(got[i], expected, rtol=rtol, atol=atol)
        assert not np.allclose(got[i], start) or w0.size == 0  # the test can fail
    assert int(opt.iterations.numpy()) == 20


def test_adam_one_step_moves_by_learning_rate():
    w = tf.Variable(1.0)
    opt_mod.Adam(learning_rate=0.1).apply_gradients([(tf.constant(0.5), w)])
    assert w.numpy() == np.float32(0.9000013)  # TF_SEMANTICS §2.16, float32 arithmetic


def test_defaults_and_state():
    adam, sgd, rms, ada = opt_mod.Adam(), opt_mod.SGD(), opt_mod.RMSprop(), opt_mod.Adagrad()
    assert (adam.beta_1, adam.beta_2, adam.epsilon, adam.amsgrad) == (0.9, 0.999, 1e-7, False)
    assert (sgd.momentum, sgd.nesterov) == (0.0, False)
    assert (rms.rho, rms.momentum, rms.epsilon, rms.centered) == (0.9, 0.0, 1e-7, False)
    assert ada.initial_accumulator_value == 0.1
    assert sgd.learning_rate.numpy() == np.float32(0.01)
    assert adam.learning_rate.dtype == tf.float32
    assert adam.iterations.dtype == tf.int64 and int(adam.iterations.numpy()) == 0
    assert not adam.built and adam.variables == [adam.iterations, adam.learning_rate]


def test_apply_gradients_returns_iterations_and_builds_slots():
    v = tf.Variable([1.0, 2.0])
    opt = opt_mod.Adam()
    it = opt.apply_gradients([(tf.constant([0.1, 0.2]), v)])
    assert it is opt.iterations and int(it.numpy()) == 1
    assert opt.built and len(opt.variables) == 4  # iterations, lr, momentum, velocity
    np.testing.assert_allclose(opt.variables[2].numpy(), [0.01, 0.02], rtol=1e-6)


def test_apply_without_variables_uses_built_list():
    a, b = tf.Variable([1.0]), tf.Variable([2.0])
    opt = opt_mod.SGD(learning_rate=0.5)
    opt.apply([tf.constant([1.0]), tf.constant([2.0])], [a, b])
    opt.apply([tf.constant([1.0]), tf.constant([2.0])])
    assert a.numpy()[0] == 0.0 and b.numpy()[0] == 0.0
    with pytest.raises(ValueError, match="Received a list of 1 gradients"):
        opt.apply([tf.constant([1.0])])
    with pytest.raises(ValueError, match="must already be built"):
        opt_mod.SGD().apply([tf.constant([1.0])])


def test_learning_rate_settable():
    v = tf.Variable(1.0)
    opt = opt_mod.SGD()
    opt.learning_rate = 0.5
    assert opt.learning_rate.numpy() == np.float32(0.5)
    opt.apply_gradients([(tf.constant(1.0), v)])
    assert v.numpy() == np.float32(0.5)
    for bad in (-0.1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="finite float >= 0"):
            opt.learning_rate = bad


@pytest.mark.parametrize("bad", [-0.01, float("nan"), float("inf")])
def test_bad_learning_rate_rejected(bad):
    with pytest.raises(ValueError, match="learning_rate=%s" % bad):
        opt_mod.Adam(learning_rate=bad)


def test_int_learning_rate_keras_error_with_hint():
    with pytest.raises(ValueError, match=r"should be float.*Received instead: learning_rate=1"
                       r"\nHint: .*learning_rate=1\.0"):
        opt_mod.SGD(learning_rate=1)


def test_callable_learning_rate():
    v = tf.Variable(1.0)
    opt = opt_mod.SGD(learning_rate=lambda: 0.25)
    opt.apply_gradients([(tf.constant(1.0), v)])
    assert v.numpy() == 0.75


def test_sgd_momentum_must_be_float_in_range():
    for bad in (0, 1.5, -0.1):
        with pytest.raises(ValueError, match=r"`momentum` must be a float between \[0, 1\]"):
            opt_mod.SGD(momentum=bad)


def test_unknown_argument():
    with pytest.raises(ValueError, match="Argument.s. not recognized"):
        opt_mod.Adam(beta1=0.9)
    with pytest.raises(ValueError, match="clipnorm"):
        opt_mod.Adam(clipnorm=1.0)
    opt_mod.Adam(weight_decay=None, clipnorm=None)  # Keras's defaults are accepted


def test_none_gradient_skipped_with_keras_warning():
    a, b = tf.Variable([1.0]), tf.Variable([1.0])
    opt = opt_mod.SGD(learning_rate=1.0)
    with pytest.warns(UserWarning) as rec:
        opt.apply_gradients(zip([None, tf.constant([1.0])], [a, b]))
    assert str(rec[0].message) == (
        "Gradients do not exist for variables ['Variable:0'] when minimizing the loss. If using"
        " `model.compile()`, did you forget to provide a `loss` argument?")
    assert a.numpy()[0] == 1.0 and b.numpy()[0] == 0.0


def test_all_none_gradients():
    v = tf.Variable([1.0])
    with pytest.raises(ValueError, match=r"^No gradients provided for any variable\.$"):
        opt_mod.Adam().apply_gradients([(None, v)])


def test_unknown_variable():
    a, b = tf.Variable([1.0]), tf.Variable([2.0])
    opt = opt_mod.Adam()
    opt.apply_gradients([(tf.constant([1.0]), a)])
    with pytest.raises(ValueError) as err:
        opt.apply_gradients([(tf.constant([1.0]), b)])
    assert str(err.value).startswith("Unknown variable: <tf.Variable 'Variable:0' shape=(1,)")
    assert str(err.value).endswith(
        "This optimizer can only be called for the variables it was originally built with. "
        "When working with a new set of variables, you should recreate a new optimizer "
        "instance.")


def test_wrong_gradient_shape_changes_nothing():
    a, b = tf.Variable([1.0, 2.0]), tf.Variable([1.0, 2.0])
    opt = opt_mod.SGD()
    with pytest.raises(InvalidArgumentError) as err:
        opt.apply_gradients([(tf.constant([1.0, 1.0]), a), (tf.constant([1.0, 2.0, 3.0]), b)])
    msg = str(err.value)
    assert "Cannot update variable with shape [2] using a Tensor with shape [3], shapes must " \
           "be equal." in msg and msg.endswith("[Op:AssignSubVariableOp]")
    assert isinstance(err.value, ValueError)
    np.testing.assert_array_equal(a.numpy(), [1.0, 2.0])
    assert int(opt.iterations.numpy()) == 0


def test_empty_apply_gradients():
    with pytest.raises(ValueError, match="no .gradient, variable. pairs"):
        opt_mod.SGD().apply_gradients([])


def test_gradient_cast_to_variable_dtype():
    v = tf.Variable(np.array([1.0, 2.0], np.float32))
    opt_mod.SGD(learning_rate=0.5).apply_gradients([(np.array([1.0, 1.0]), v)])
    assert v.dtype == tf.float32
    np.testing.assert_array_equal(v.numpy(), [0.5, 1.5])


def test_keras_variables_slot_paths():
    kernel = tf.keras.Variable(np.ones((3, 2), np.float32), name="kernel", path="dense/kernel")
    bias = tf.keras.Variable(np.zeros(2, np.float32), name="bias", path="dense/bias")
    opt = opt_mod.Adam()
    opt.apply_gradients(zip([np.ones((3, 2)), np.ones(2)], [kernel, bias]))
    paths = [v.path for v in opt.variables]
    assert paths[:2] == ["adam/iteration", "adam/learning_rate"]
    assert paths[2:] == ["adam/dense_kernel_momentum", "adam/dense_bias_momentum",
                         "adam/dense_kernel_velocity", "adam/dense_bias_velocity"]


def test_tensor_read_before_step_keeps_value():
    v = tf.Variable([1.0])
    before = v.value()
    opt_mod.SGD(learning_rate=1.0).apply_gradients([(tf.constant([1.0]), v)])
    assert before.numpy()[0] == 1.0 and v.numpy()[0] == 0.0


def test_constraint_applied_after_update():
    v = tf.Variable([1.0, -1.0], constraint=lambda x: tf.maximum(x, 0.0))
    opt_mod.SGD(learning_rate=1.0).apply_gradients([(tf.constant([0.5, 0.5]), v)])
    np.testing.assert_array_equal(v.numpy(), [0.5, 0.0])


def test_nonfinite_gradients_propagate_ieee():
    v = tf.Variable([1.0, 1.0, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning leaks
        opt_mod.Adam().apply_gradients([(tf.constant([np.inf, np.nan, 1e-45]), v)])
        opt_mod.RMSprop().apply_gradients([(tf.constant([np.inf, np.nan, 1e30]), v)])
    assert np.isnan(v.numpy()[:2]).all() and np.isfinite(v.numpy()[2])


def test_training_loop_with_gradient_tape_converges():
    x = tf.Variable(0.0)
    opt = opt_mod.Adam(learning_rate=0.1)
    for _ in range(200):
        with tf.GradientTape() as tape:
            loss = (x - 3.0) ** 2
        opt.apply_gradients(zip(tape.gradient(loss, [x]), [x]))
    assert abs(float(x.numpy()) - 3.0) < 1e-2


def test_get_by_name_and_config():
    assert isinstance(opt_mod.get("adam"), opt_mod.Adam)
    assert isinstance(opt_mod.get("SGD"), opt_mod.SGD)
    assert isinstance(opt_mod.get("RMSprop"), opt_mod.RMSprop)
    opt = opt_mod.Adagrad(learning_rate=0.5)
    assert opt_mod.get(opt) is opt
    again = opt_mod.deserialize(opt_mod.serialize(opt))
    assert isinstance(again, opt_mod.Adagrad) and again.learning_rate.numpy() == 0.5
    with pytest.raises(ValueError, match="Could not interpret optimizer identifier: 'adamw'. "
                                         "Known optimizers: 'adagrad', 'adam', 'rmsprop', 'sgd'"):
        opt_mod.get("adamw")
    with pytest.raises(ValueError, match="Could not interpret optimizer identifier: 3"):
        opt_mod.get(3)
    assert tf.keras.optimizers.Adam is opt_mod.Adam


def test_dense_classifier_trains_with_tape_loss_metric():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 2)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)  # linearly separable
    layer = tf.keras.layers.Dense(2)
    loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    opt, acc = opt_mod.Adam(learning_rate=0.05), tf.keras.metrics.SparseCategoricalAccuracy()
    first = None
    for _ in range(60):
        with tf.GradientTape() as tape:
            logits = layer(x)
            loss = loss_fn(y, logits)
        first = float(loss.numpy()) if first is None else first
        opt.apply_gradients(zip(tape.gradient(loss, layer.trainable_variables),
                                layer.trainable_variables))
    acc.update_state(y, layer(x))
    assert float(loss.numpy()) < first / 3 and acc.result().numpy() > 0.95
    assert int(opt.iterations.numpy()) == 60


# -- the one-pass update kernels (csrc/optim.pyx) equal the numpy formulas bit for bit ----------
def _run_steps(make, dtype, shape, grads_values, monkeypatch, use_kernels):
    from microtf.keras import optimizers as opt_module
    if not use_kernels:  # the numpy formulas (the path amsgrad takes) as the reference
        monkeypatch.setattr(opt_module, "_KERNEL_DTYPES", ())
    var = tf.Variable(np.linspace(-1, 1, int(np.prod(shape))).reshape(shape).astype(dtype))
    opt = make()
    for g in grads_values:
        opt.apply_gradients([(tf.constant(g.astype(dtype)), var)])
    monkeypatch.undo()
    return [var.numpy()] + [v.numpy() for v in opt.variables[2:]]


_EXTREMES = np.array([0.0, -0.0, 1e-40, -3e38, 3e38, np.inf, -np.inf, np.nan, 1e-3, -7.5])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(), (1, 1), (3, 5), (0,), (4099,)])
@pytest.mark.parametrize("make", [
    lambda: tf.keras.optimizers.Adam(0.1),
    lambda: tf.keras.optimizers.Adam(0.01, beta_1=0.5, beta_2=0.9, epsilon=1e-3),
    lambda: tf.keras.optimizers.SGD(0.1, momentum=0.9),
    lambda: tf.keras.optimizers.SGD(0.1, momentum=0.5, nesterov=True),
    lambda: tf.keras.optimizers.SGD(0.1)],
    ids=["adam", "adam-params", "momentum", "nesterov", "sgd"])
def test_update_kernels_equal_numpy_bitwise(make, dtype, shape, monkeypatch):
    rng = np.random.default_rng(0)
    size = int(np.prod(shape))
    grads = [rng.standard_normal(shape), rng.standard_normal(shape) * 1e3,
             np.resize(_EXTREMES, size).reshape(shape)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # IEEE results, no RuntimeWarning on either path
        fast = _run_steps(make, dtype, shape, grads, monkeypatch, True)
        slow = _run_steps(make, dtype, shape, grads, monkeypatch, False)
    assert len(fast) == len(slow) >= 1  # the variable, then the slots (plain SGD has none)
    for a, b in zip(fast, slow):
        assert a.dtype == np.dtype(dtype) and a.shape == shape
        np.testing.assert_array_equal(a, b)


def test_update_kernels_check_their_arguments():
    from microtf._kernels import optim
    w = np.zeros(3, np.float32)
    with pytest.raises(TypeError, match="same dtype"):
        optim.adam_update(w, np.zeros(3), w, w, 0.1, 0.1, 0.001, 1e-7)
    with pytest.raises(ValueError, match="size of w"):
        optim.sgd_momentum_update(w, np.zeros(4, np.float32), w, 0.1, 0.9, False)
    with pytest.raises(ValueError, match="size of w"):
        optim.sgd_update(w, np.zeros(4, np.float32), 0.1)
    with pytest.raises(TypeError, match="same dtype"):
        optim.sgd_update(w, np.zeros(3), 0.1)
    with pytest.raises(ValueError, match="C-contiguous"):
        optim.adam_update(w, np.zeros(6, np.float32)[::2], w, w, 0.1, 0.1, 0.001, 1e-7)

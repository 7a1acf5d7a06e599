"""Model.compile/fit/evaluate/predict/train_on_batch/test_on_batch, History, weights, and the bad
inputs of the training API (ValueError with expected and received values)."""
import numpy as np
import pytest

import microtf as tf
from microtf.keras import layers as L


@pytest.fixture(autouse=True)
def _seeded():
    tf.keras.utils.set_random_seed(0)


def _blobs(n=256, seed=0):
    """Two separable classes in 4-D: y = [x0 + x1 > 0]."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    return x, (x[:, 0] + x[:, 1] > 0).astype(np.int64)


def _model(outputs=2, activation="softmax", loss="sparse_categorical_crossentropy",
           metrics=("accuracy",), optimizer="adam"):
    model = tf.keras.Sequential([tf.keras.Input((4,)), L.Dense(16, activation="relu"),
                                 L.Dense(outputs, activation=activation)])
    model.compile(optimizer=optimizer, loss=loss, metrics=list(metrics))
    return model


def test_fit_learns_two_classes_and_loss_decreases():
    x, y = _blobs()
    model = _model(optimizer=tf.keras.optimizers.Adam(0.05))
    hist = model.fit(x, y, epochs=8, batch_size=32, verbose=0)
    losses = hist.history["loss"]
    assert losses[-1] < losses[0] * 0.5 and all(b < a for a, b in zip(losses, losses[1:3]))
    assert hist.history["accuracy"][-1] > 0.9
    loss, acc = model.evaluate(x, y, verbose=0)
    assert acc > 0.9 and loss < losses[0]
    pred = model.predict(x, verbose=0)
    assert np.mean(pred.argmax(1) == y) == pytest.approx(acc, abs=1e-6)


def test_history_keys_types_epoch_params():
    x, y = _blobs(100)
    model = _model()
    hist = model.fit(x, y, epochs=2, batch_size=32, verbose=0)
    assert model.history is hist and isinstance(hist, tf.keras.callbacks.History)
    assert list(hist.history) == ["accuracy", "loss"]
    assert all(type(v) is float for vals in hist.history.values() for v in vals)
    assert hist.epoch == [0, 1]
    assert hist.params == {"verbose": 0, "epochs": 2, "steps": 4}
    assert _model().fit(x, y, verbose="auto", epochs=1).params["verbose"] == "auto"


def test_loss_is_sample_weighted_mean_over_batches():
    # Zero learning rate: the epoch loss must equal evaluate's loss on the same data (batches of
    # 32, 32, 32, 4 weighted by size), and the numpy cross-entropy of predict's outputs.
    x, y = _blobs(100)
    model = _model(optimizer=tf.keras.optimizers.SGD(0.0))
    fit_loss = model.fit(x, y, epochs=1, verbose=0, shuffle=False).history["loss"][0]
    p = model.predict(x, verbose=0).astype(np.float64)
    ref = -np.mean(np.log(np.clip(p[np.arange(len(y)), y], 1e-7, 1)))
    assert fit_loss == pytest.approx(ref, rel=1e-5)
    assert model.evaluate(x, y, verbose=0)[0] == pytest.approx(ref, rel=1e-5)


@pytest.mark.parametrize("how", ["split", "data"])
def test_validation_adds_val_keys(how):
    x, y = _blobs(100)
    model = _model()
    kwargs = ({"validation_split": 0.2} if how == "split" else
              {"validation_data": (x[:30], y[:30])})
    hist = model.fit(x, y, epochs=2, verbose=0, **kwargs)
    assert list(hist.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert hist.params["steps"] == (3 if how == "split" else 4)  # 80 samples -> 3 batches
    assert len(hist.history["val_loss"]) == 2


def test_validation_split_takes_the_last_samples():
    x, y = _blobs(10)
    model = _model(optimizer=tf.keras.optimizers.SGD(0.0))
    hist = model.fit(x, y, epochs=1, verbose=0, validation_split=0.3)
    ref = model.evaluate(x[7:], y[7:], verbose=0, return_dict=True)
    assert hist.history["val_loss"][0] == pytest.approx(ref["loss"])


def test_evaluate_list_dict_and_loss_only():
    x, y = _blobs(50)
    model = _model()
    res = model.evaluate(x, y, verbose=0)
    assert isinstance(res, list) and len(res) == 2 and all(type(v) is float for v in res)
    d = model.evaluate(x, y, verbose=0, return_dict=True)
    assert list(d) == ["accuracy", "loss"] and d["loss"] == res[0] and d["accuracy"] == res[1]
    assert model.metrics_names == ["loss", "compile_metrics"]
    plain = _model(metrics=())
    assert type(plain.evaluate(x, y, verbose=0)) is float


def test_predict_dtype_shapes_and_list_input():
    x, _ = _blobs(70)
    model = _model(outputs=3)
    out = model.predict(x, batch_size=32, verbose=0)
    assert out.dtype == np.float32 and out.shape == (70, 3)
    np.testing.assert_allclose(out, model(x).numpy(), rtol=1e-6)
    assert model.predict(x[:0], verbose=0).shape == (0, 3)
    assert model.predict(x.astype(np.float64), verbose=0).dtype == np.float32
    with pytest.raises(ValueError, match=r"Unrecognized data type: x=\[\[1, 2, 3, 4\]\] "
                                         r"\(of type <class 'list'>\)"):
        model.predict([[1, 2, 3, 4]])


def test_train_and_test_on_batch_keep_running_means_as_keras_3():
    x, y = _blobs(64)
    model = _model(optimizer=tf.keras.optimizers.SGD(0.5))
    model.reset_metrics()  # before any data: 'accuracy' is not resolved yet
    before = model.test_on_batch(x, y)
    assert isinstance(before, list) and len(before) == 2 and type(before[0]) is float
    assert model.test_on_batch(x, y) == before  # same weights: the running mean stays
    model.reset_metrics()
    first = model.train_on_batch(x, y)  # the loss before the update
    assert first[0] == pytest.approx(before[0], rel=1e-6)
    both = model.test_on_batch(x, y, return_dict=True)
    model.reset_metrics()
    alone = model.test_on_batch(x, y)
    assert alone[0] < first[0]
    assert both["loss"] == pytest.approx((first[0] + alone[0]) / 2, rel=1e-6)
    assert type(_model(metrics=()).train_on_batch(x, y)) is float


def test_fit_passes_training_true_to_layers():
    seen = []

    class Spy(L.Layer):
        def call(self, x, training=None):
            seen.append(training)
            return x

    model = tf.keras.Sequential([tf.keras.Input((4,)), Spy(), L.Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    seen.clear()
    x, y = _blobs(40)
    model.fit(x, y, batch_size=20, verbose=0, shuffle=False)
    assert True in seen and None not in seen[-2:] and seen[-2:] == [True, True]
    seen.clear()
    model.predict(x, verbose=0)
    model.evaluate(x, y, verbose=0)
    assert set(seen) == {False}


def test_dropout_model_trains_and_predicts_deterministically():
    x, y = _blobs(64)
    model = tf.keras.Sequential([tf.keras.Input((4,)), L.Dense(8, activation="relu"),
                                 L.Dropout(0.5), L.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=2, verbose=0)
    np.testing.assert_array_equal(model.predict(x, verbose=0), model.predict(x, verbose=0))


@pytest.mark.parametrize("loss,outputs,labels", [
    ("binary_crossentropy", 1, lambda y: y[:, None].astype(np.float32)),
    ("categorical_crossentropy", 2, lambda y: np.eye(2, dtype=np.float32)[y]),
    ("mse", 1, lambda y: y.astype(np.float32)),
])
def test_other_losses_train(loss, outputs, labels):
    x, y = _blobs(128)
    act = "sigmoid" if outputs == 1 else "softmax"
    model = _model(outputs, act, loss, metrics=("accuracy",) if loss != "mse" else (),
                   optimizer=tf.keras.optimizers.Adam(0.05))
    hist = model.fit(x, labels(y), epochs=5, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    if loss != "mse":
        assert hist.history["accuracy"][-1] > 0.85


def test_epochs_zero_initial_epoch_and_no_shuffle_reproducible():
    x, y = _blobs(40)
    model = _model()
    before = model.get_weights()
    hist = model.fit(x, y, epochs=0, verbose=0)
    assert hist.history == {} and hist.epoch == []
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    hist = model.fit(x, y, epochs=3, initial_epoch=1, verbose=0)
    assert hist.epoch == [1, 2]


def test_weights_api_count_params_and_frozen_layer():
    x, y = _blobs(40)
    model = _model()
    assert model.count_params() == 4 * 16 + 16 + 16 * 2 + 2
    weights = model.get_weights()
    assert [w.shape for w in weights] == [(4, 16), (16,), (16, 2), (2,)]
    model.layers[0].trainable = False
    frozen = model.layers[0].get_weights()
    model.fit(x, y, epochs=1, verbose=0)
    for a, b in zip(frozen, model.layers[0].get_weights()):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(weights[2], model.get_weights()[2])
    model.set_weights(weights)
    np.testing.assert_array_equal(model.get_weights()[2], weights[2])


def test_save_and_load_weights_methods(tmp_path):
    x, _ = _blobs(8)
    model = _model()
    path = str(tmp_path / "m.weights.h5")
    try:
        model.save_weights(path)
    except ImportError:
        path = str(tmp_path / "m.npz")
        model.save_weights(path)
    other = _model()
    other.load_weights(path)
    np.testing.assert_array_equal(other.predict(x, verbose=0), model.predict(x, verbose=0))


# -- bad input ---------------------------------------------------------------------------------
def test_fit_before_compile():
    model = tf.keras.Sequential([L.Dense(1)])
    with pytest.raises(ValueError, match=r"You must call `compile\(\)` before using the model"):
        model.fit(np.ones((2, 3)), np.ones((2, 1)))
    with pytest.raises(ValueError, match="compile"):
        model.evaluate(np.ones((2, 3)), np.ones((2, 1)))
    model.compile(optimizer="sgd")
    with pytest.raises(ValueError, match="No loss to compute"):
        model.fit(np.ones((2, 3)), np.ones((2, 1)))


def test_cardinality_mismatch():
    x, y = _blobs(10)
    model = _model()
    with pytest.raises(ValueError, match=r"Data cardinality is ambiguous.*'x' sizes: 10\n"
                                         r"'y' sizes: 9"):
        model.fit(x, y[:9])
    with pytest.raises(ValueError, match="'x' sizes: 10"):
        model.evaluate(x, y[:9])


@pytest.mark.parametrize("kind,name", [("optimizer", "adamm"), ("loss", "msee"),
                                       ("metrics", "accuracyy")])
def test_unknown_names_list_known_ones(kind, name):
    kwargs = {"optimizer": "adam", "loss": "mse", "metrics": None}
    kwargs[kind] = [name] if kind == "metrics" else name
    with pytest.raises(ValueError, match="%r.*Known" % name):
        tf.keras.Sequential([L.Dense(1)]).compile(**kwargs)


@pytest.mark.parametrize("kwargs,match", [
    ({"batch_size": 0}, r"positive integer. Received: batch_size=0"),
    ({"batch_size": 2.5}, r"batch_size=2.5"),
    ({"epochs": -1}, r"non-negative integer. Received: epochs=-1"),
    ({"validation_split": 1.0}, r"validation_split=1.0"),
])
def test_bad_fit_arguments(kwargs, match):
    x, y = _blobs(10)
    with pytest.raises(ValueError, match=match):
        _model().fit(x, y, verbose=0, **kwargs)


def test_labels_that_cannot_match_the_output():
    x, _ = _blobs(12)
    model = tf.keras.Sequential([tf.keras.Input((4,)), L.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"Labels of shape \(12, 3\).*output of shape "
                                         r"\(None, 10\).*received y with shape \(12, 3\)"):
        model.fit(x, np.zeros((12, 3)), verbose=0)
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    with pytest.raises(ValueError, match=r"(?s)expected shape \(None, 10\).*Hint: one-hot"):
        model.fit(x, np.zeros(12), verbose=0)


def test_input_width_mismatch_in_fit():
    model = _model()
    with pytest.raises(ValueError, match=r"expected axis -1 of input shape to have value 4, but "
                                         r"received input with shape \(1, 3\)"):
        model.fit(np.ones((5, 3)), np.zeros(5), verbose=0)


def test_non_array_data():
    model = _model()
    with pytest.raises(ValueError, match=r"Unrecognized data type: x=\[1, 2\]"):
        model.fit([1, 2], np.zeros(2))
    with pytest.raises(ValueError, match="scalar"):
        model.fit(np.float32(1.0), np.zeros(1))


def test_empty_data_cannot_be_trained_on_but_predicts():
    model = _model()
    with pytest.raises(ValueError, match=r"at least one sample.*shape \(0, 4\)"):
        model.fit(np.zeros((0, 4)), np.zeros(0), verbose=0)
    with pytest.raises(ValueError, match="at least one sample"):
        model.evaluate(np.zeros((0, 4)), np.zeros(0), verbose=0)
    assert model.predict(np.zeros((0, 4)), verbose=0).shape == (0, 2)


def test_unsupported_arguments_raise_instead_of_being_ignored():
    x, y = _blobs(8)
    model = _model()
    with pytest.raises(NotImplementedError, match=r"`class_weight`.*class_weight=\{0: 2\}"):
        model.fit(x, y, class_weight={0: 2}, verbose=0)
    with pytest.raises(NotImplementedError, match="`sample_weight`"):
        model.evaluate(x, y, sample_weight=np.ones(8), verbose=0)
    with pytest.raises(NotImplementedError, match="`steps`"):
        model.predict(x, steps=2, verbose=0)


def test_bad_validation_data():
    x, y = _blobs(10)
    model = _model()
    with pytest.raises(ValueError, match=r"Labels of shape \(4, 2\)"):
        model.fit(x, y, validation_data=(x[:4], np.zeros((4, 2))), verbose=0)
    with pytest.raises(ValueError, match=r"'x' sizes: 4\n'y' sizes: 3"):
        model.fit(x, y, validation_data=(x[:4], y[:3]), verbose=0)
    with pytest.raises(ValueError, match="at least one sample"):
        model.fit(x, y, validation_split=0.01, verbose=0)  # nothing left to validate on


# -- fit/evaluate see through a softmax output to its logits, as Keras's traced steps do ---------
def _saturated_model(activation="softmax"):
    """One Dense whose softmax puts class 0 at probability ~e^-40 for every sample."""
    model = tf.keras.Sequential([tf.keras.Input((2,)), L.Dense(3, activation=activation)])
    model.set_weights([np.zeros((2, 3), np.float32), np.array([-20, 20, 0], np.float32)])
    return model


def _logits_loss(labels):
    z = np.array([-20.0, 20.0, 0.0])
    log_p = z - (z.max() + np.log(np.exp(z - z.max()).sum()))
    return float(-log_p[labels].mean())


def _clipped_loss(labels):
    z = np.array([-20.0, 20.0, 0.0])
    q = np.clip(np.exp(z - z.max()) / np.exp(z - z.max()).sum(), 1e-7, 1 - 1e-7)
    return float(np.mean(-np.log(q[labels] / q.sum())))


@pytest.mark.parametrize("loss", ["sparse_categorical_crossentropy", "categorical_crossentropy"])
def test_keras_softmax_output_leads_the_loss_to_its_logits_eagerly_too(loss):
    x, labels = np.ones((4, 2), np.float32), np.array([0, 0, 1, 2])
    y = labels if loss.startswith("sparse") else np.eye(3, dtype=np.float32)[labels]
    model = _saturated_model("softmax")
    # Keras 3's softmax activation stores its input on the output (`_keras_logits`) and the
    # cross-entropies use it: -log_softmax(z)[y], about 40 for class 0, in every mode.
    for run_eagerly in (False, True):
        model.compile(loss=loss, run_eagerly=run_eagerly)
        assert model.evaluate(x, y, verbose=0) == pytest.approx(_logits_loss(labels), rel=1e-5)
    probs = model(x)  # a loss called by hand on the model's output
    assert np.mean(tf.keras.losses.get(loss)(y, probs)) == pytest.approx(_logits_loss(labels),
                                                                         rel=1e-5)
    # the same probabilities as a plain tensor: clipped to [eps, 1 - eps], about -log(eps)
    plain = tf.constant(probs.numpy())
    assert _clipped_loss(labels) < 13  # not the from-logits value (about 25)
    assert np.mean(tf.keras.losses.get(loss)(y, plain)) == pytest.approx(_clipped_loss(labels),
                                                                         rel=1e-3)


@pytest.mark.parametrize("loss", ["sparse_categorical_crossentropy", "categorical_crossentropy"])
def test_tf_nn_softmax_activation_gives_logits_only_in_traced_steps(loss):
    x, labels = np.ones((4, 2), np.float32), np.array([0, 0, 1, 2])
    y = labels if loss.startswith("sparse") else np.eye(3, dtype=np.float32)[labels]
    model = _saturated_model(tf.nn.softmax)
    # traced (fit/evaluate): the graph's Softmax op leads back to the logits
    model.compile(loss=loss)
    assert model.evaluate(x, y, verbose=0) == pytest.approx(_logits_loss(labels), rel=1e-5)
    # eager: tf.nn.softmax leaves no logits behind, so the probabilities are clipped
    model.compile(loss=loss, run_eagerly=True)
    assert model.evaluate(x, y, verbose=0) == pytest.approx(_clipped_loss(labels), rel=1e-3)
    assert np.mean(tf.keras.losses.get(loss)(y, model(x))) == pytest.approx(
        _clipped_loss(labels), rel=1e-3)


def test_fit_gradient_from_softmax_logits_is_not_clipped_away():
    x, y = np.ones((4, 2), np.float32), np.zeros(4, np.int64)
    model = _saturated_model()
    model.compile(optimizer=tf.keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    before = model.get_weights()[1].copy()
    model.fit(x, y, batch_size=4, epochs=1, verbose=0, shuffle=False)
    # From logits, d loss / d bias = softmax(z) - onehot = (-1, 1, ~0): the bias moves by lr.
    # Through clipped probabilities the gradient would be 0 (Keras eager's saturated case).
    np.testing.assert_allclose(model.get_weights()[1] - before, [0.1, -0.1, 0.0], atol=1e-6)


def test_from_logits_true_on_softmax_output_warns_and_uses_logits():
    x, labels = np.ones((4, 2), np.float32), np.array([0, 0, 1, 2])
    model = _saturated_model()
    model.compile(loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    with pytest.warns(UserWarning, match="produced by a Softmax activation"):
        value = model.evaluate(x, labels, verbose=0)
    assert value == pytest.approx(_logits_loss(labels), rel=1e-5)


def test_softmax_logits_are_not_kept_after_a_step():
    from microtf.keras import activations
    model = _saturated_model()
    model.compile(loss="sparse_categorical_crossentropy")
    model.fit(np.ones((4, 2), np.float32), np.zeros(4), verbose=0)
    assert activations._compiled.active is False


@pytest.mark.parametrize("activation, eager_uses_logits", [("sigmoid", True),
                                                           (tf.sigmoid, False)])
def test_binary_crossentropy_sees_a_sigmoid_activations_logits(activation, eager_uses_logits):
    # Keras 3: the Keras sigmoid keeps its logits (eagerly too); tf.sigmoid as an activation is
    # recognized only in fit/evaluate's traced steps (a graph's Sigmoid op).
    model = tf.keras.Sequential([tf.keras.Input((2,)), L.Dense(1, activation=activation)])
    model.set_weights([np.zeros((2, 1), np.float32), np.array([-30.0], np.float32)])
    x, y = np.ones((4, 2), np.float32), np.ones((4, 1), np.float32)
    from_logits, clipped = 30.0, -np.log(1e-7)
    model.compile(loss="binary_crossentropy")
    assert model.evaluate(x, y, verbose=0) == pytest.approx(from_logits, rel=1e-5)
    model.compile(loss="binary_crossentropy", run_eagerly=True)
    assert model.evaluate(x, y, verbose=0) == pytest.approx(
        from_logits if eager_uses_logits else clipped, rel=1e-3)

"""tf.keras.metrics: running means over batches (as Keras reports them), accuracies against
numpy, resolve_accuracy (Keras 3's choice for 'accuracy'), get and errors."""
import numpy as np
import pytest

import microtf as tf

metrics = tf.keras.metrics
losses = tf.keras.losses


def test_mean_running_over_batches():
    m = metrics.Mean()
    assert m.result().numpy() == 0.0 and m.result().dtype == tf.float32  # divide_no_nan
    m.update_state([1.0, 2.0, 3.0])
    m.update_state(tf.constant([4.0]))
    assert m.result().numpy() == np.float32(2.5)
    assert m.count.numpy() == 4.0 and m.total.numpy() == 10.0
    assert m([10.0]).numpy() == np.float32(4.0)  # __call__ updates then reads
    m.reset_state()
    assert m.result().numpy() == 0.0 and m.count.numpy() == 0.0


def test_mean_of_batch_losses_weighted_by_batch_size():
    # What fit reports: the loss tracker adds each batch's mean loss weighted by its size.
    m = metrics.Mean(name="loss")
    m.update_state(0.5, sample_weight=32)
    m.update_state(2.0, sample_weight=8)
    np.testing.assert_allclose(m.result().numpy(), (0.5 * 32 + 2.0 * 8) / 40, rtol=1e-7)
    assert m.name == "loss"


def test_mean_sample_weight_and_multi_axis_values():
    m = metrics.Mean()
    m.update_state(np.array([[1.0, 3.0], [5.0, 7.0]]))  # per-sample means 2 and 6, count 2
    assert m.count.numpy() == 2.0 and m.result().numpy() == 4.0
    w = metrics.Mean()
    w.update_state([1.0, 2.0, 3.0], sample_weight=[1.0, 0.0, 3.0])
    np.testing.assert_allclose(w.result().numpy(), (1 + 9) / 4)
    with pytest.raises(ValueError, match=r"sample_weight of shape \(2,\) cannot be broadcast"):
        w.update_state([1.0, 2.0, 3.0], sample_weight=[1.0, 2.0])


def test_mean_accumulates_in_float32():
    m = metrics.Mean()
    m.update_state(np.array([0.1], np.float64))
    assert m.total.dtype == tf.float32 and m.result().numpy() == np.float32(0.1)
    m64 = metrics.Mean(dtype="float64")
    m64.update_state([0.1])
    assert m64.result().numpy() == 0.1


def _scores(rng, n, c):
    return rng.standard_normal((n, c)).astype(np.float32)


@pytest.mark.parametrize("n,c", [(1, 1), (1, 3), (7, 5), (0, 4)])
def test_sparse_categorical_accuracy(n, c):
    rng = np.random.default_rng(n + c)
    y, p = rng.integers(0, c, n), _scores(rng, n, c)
    got = metrics.sparse_categorical_accuracy(y, p)
    expected = (p.argmax(-1) == y).astype(np.float32)
    np.testing.assert_array_equal(got.numpy(), expected)
    np.testing.assert_array_equal(metrics.sparse_categorical_accuracy(y[:, None], p), expected)
    m = metrics.SparseCategoricalAccuracy()
    m.update_state(y.astype(np.float32)[:, None], tf.constant(p))
    assert m.result().numpy() == (np.float32(expected.mean()) if n else 0.0)


@pytest.mark.parametrize("n,c", [(1, 2), (6, 3), (0, 3)])
def test_categorical_accuracy(n, c):
    rng = np.random.default_rng(10 + n)
    y, p = np.eye(c)[rng.integers(0, c, n)], _scores(rng, n, c)
    expected = (p.argmax(-1) == y.argmax(-1)).astype(np.float32)
    np.testing.assert_array_equal(metrics.categorical_accuracy(y, p).numpy(), expected)
    m = metrics.CategoricalAccuracy()
    m.update_state(y, p)
    assert m.result().numpy() == (np.float32(expected.mean()) if n else 0.0)


def test_binary_accuracy_threshold_and_rank_matching():
    y = np.array([1.0, 0.0, 1.0, 0.0])
    p = np.array([[0.7], [0.2], [0.4], [0.5]], np.float32)  # 0.5 is not > 0.5
    np.testing.assert_array_equal(metrics.binary_accuracy(y, p).numpy(), [1, 1, 0, 1])
    m = metrics.BinaryAccuracy(threshold=0.3)
    m.update_state(y, p)
    assert m.result().numpy() == np.float32(0.75)  # 0.4 and 0.5 now count as 1
    two_d = metrics.binary_accuracy([[1.0, 0.0]], [[0.9, 0.9]])
    np.testing.assert_array_equal(two_d.numpy(), [0.5])  # mean over the last axis


def test_accuracy_exact_match():
    m = metrics.Accuracy()
    m.update_state([[1], [2], [3], [4]], [[0], [2], [3], [4]])
    assert m.result().numpy() == np.float32(0.75)


def test_running_accuracy_counts_samples_not_batches():
    m = metrics.SparseCategoricalAccuracy()
    m.update_state([0, 1, 1], [[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])  # 3 of 3
    m.update_state([0], [[0.0, 1.0]])  # 0 of 1
    assert m.result().numpy() == np.float32(0.75) and m.count.numpy() == 4.0
    m.update_state(np.zeros(0), np.zeros((0, 2)))  # an empty batch changes nothing
    assert m.result().numpy() == np.float32(0.75)


def test_metric_names_variables_and_repr():
    m = metrics.SparseCategoricalAccuracy()
    assert m.name == "sparse_categorical_accuracy" and m.dtype == "float32"
    assert [v.path for v in m.variables] == ["sparse_categorical_accuracy/total",
                                             "sparse_categorical_accuracy/count"]
    assert repr(m) == "<SparseCategoricalAccuracy name=sparse_categorical_accuracy>"
    assert metrics.BinaryAccuracy().name == "binary_accuracy"
    assert metrics.CategoricalAccuracy().name == "categorical_accuracy"


@pytest.mark.parametrize("t,p,cls", [
    ((32,), (32, 10), metrics.SparseCategoricalAccuracy),
    ((32, 1), (32, 10), metrics.SparseCategoricalAccuracy),
    ((32, 10), (32, 10), metrics.CategoricalAccuracy),
    ((32, 1), (32, 1), metrics.BinaryAccuracy),
    ((32,), (32, 1), metrics.BinaryAccuracy),
])
def test_resolve_accuracy_from_shapes_as_keras3(t, p, cls):
    m = metrics.resolve_accuracy(y_true=np.zeros(t), y_pred=np.zeros(p))
    assert type(m) is cls and m.name == "accuracy"


@pytest.mark.parametrize("loss,cls", [
    ("sparse_categorical_crossentropy", metrics.SparseCategoricalAccuracy),
    (losses.SparseCategoricalCrossentropy(from_logits=True), metrics.SparseCategoricalAccuracy),
    (losses.sparse_categorical_crossentropy, metrics.SparseCategoricalAccuracy),
    ("categorical_crossentropy", metrics.CategoricalAccuracy),
    (losses.CategoricalCrossentropy(), metrics.CategoricalAccuracy),
    ("binary_crossentropy", metrics.BinaryAccuracy),
    (losses.BinaryCrossentropy(), metrics.BinaryAccuracy),
])
def test_resolve_accuracy_from_loss(loss, cls):
    assert type(metrics.resolve_accuracy(loss, name="acc")) is cls


def test_resolve_accuracy_needs_loss_or_shapes():
    with pytest.raises(ValueError, match="Cannot tell which accuracy.*'sparse_categorical_"):
        metrics.resolve_accuracy("mse")


def test_get():
    assert isinstance(metrics.get("sparse_categorical_accuracy"),
                      metrics.SparseCategoricalAccuracy)
    assert isinstance(metrics.get("BinaryAccuracy"), metrics.BinaryAccuracy)
    assert isinstance(metrics.get("accuracy"), metrics.Accuracy)
    assert metrics.get("acc").name == "acc"
    m = metrics.Mean()
    assert metrics.get(m) is m
    wrapped = metrics.get(losses.mae)
    wrapped.update_state([[0.0, 0.0]], [[1.0, 3.0]])
    assert wrapped.result().numpy() == 2.0 and wrapped.name == "mae"
    with pytest.raises(ValueError, match="Could not interpret metric identifier: 'f1'. Known "
                                         "metrics: .*sparse_categorical_accuracy"):
        metrics.get("f1")


def test_label_shape_errors():
    with pytest.raises(ValueError, match=r"Labels of shape \(3,\) do not match predictions of "
                                         r"shape \(2, 4\): expected labels of shape \(2,\)"):
        metrics.SparseCategoricalAccuracy().update_state([0, 1, 2], np.zeros((2, 4)))
    with pytest.raises(ValueError, match="non-empty last axis"):
        metrics.CategoricalAccuracy().update_state(np.zeros((2, 0)), np.zeros((2, 0)))


def test_crossentropy_as_running_metric():
    m = metrics.get("sparse_categorical_crossentropy")
    p = np.array([[0.5, 0.5], [0.9, 0.1]], np.float32)
    m.update_state([0, 0], p)
    np.testing.assert_allclose(m.result().numpy(), -np.log([0.5, 0.9]).mean(), rtol=1e-6)
    assert m.name == "sparse_categorical_crossentropy"
    assert metrics.binary_crossentropy is losses.binary_crossentropy

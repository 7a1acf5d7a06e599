"""Bad-input catalogue: every wrong thing a learner feeds microtf, with the exception class
TensorFlow/Keras raises and a message naming expected and received values. Also odd but valid
inputs (views, empty, non-finite, subnormal) that must give correct results without warnings."""
import re
import warnings

import numpy as np
import pytest

import microtf as tf

InvalidArgumentError = tf.errors.InvalidArgumentError
ResourceExhaustedError = tf.errors.ResourceExhaustedError

Dense = tf.keras.layers.Dense
X = np.ones((8, 3), np.float32)
Y = np.ones((8, 1), np.float32)


def _x23():
    return tf.constant(np.ones((2, 3), np.float32))


def _built(*units, width=3):
    model = tf.keras.Sequential([Dense(u) for u in units])
    model(np.zeros((1, width), np.float32))
    return model


def _compiled():
    model = _built(1)
    model.compile(optimizer="sgd", loss="mse")
    return model


def _grad_twice():
    x = tf.constant(1.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    tape.gradient(y, x)
    tape.gradient(y, x)


def _reenter_tape():
    tape = tf.GradientTape()
    with tape:
        with tape:
            pass


def _output_gradients_shape():
    x = tf.constant([1.0, 2.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    tape.gradient(y, x, output_gradients=tf.constant([1.0, 2.0, 3.0]))


def _setitem():
    _x23()[0, 0] = 1.0


def _save(model, name):
    def run(tmp_path):
        model().save_weights(str(tmp_path / name))
    return run


def _load_missing(tmp_path):
    _built(1).load_weights(str(tmp_path / "none.weights.h5"))


def _load_mismatched(tmp_path):
    path = str(tmp_path / "w.npz")
    _built(5, 1).save_weights(path)
    _built(4, 1).load_weights(path)


def _apply_wrong_shape():
    v = tf.Variable([1.0, 2.0])
    tf.keras.optimizers.SGD().apply_gradients([(tf.constant([1.0]), v)])


# (id, callable (may take tmp_path), exception class, regexes the message must match)
CASES = [
    # -- tensors and conversion ---------------------------------------------------------------
    ("ragged_list", lambda: tf.constant([[1, 2], [3]]), ValueError, [r"non-rectangular"]),
    ("string_as_float", lambda: tf.constant("abc", dtype=tf.float32), TypeError,
     [r"'abc'", r"float32"]),
    ("int_out_of_range", lambda: tf.constant(2**40, dtype=tf.int32), ValueError,
     [r"out-of-range integer", r"int32"]),
    ("unknown_dtype", lambda: tf.constant(1.0, dtype="float17"), TypeError,
     [r"'float17'", r"float32"]),
    ("object_to_tensor", lambda: tf.constant(object()), TypeError, [r"of type object"]),
    ("none_operand", lambda: tf.add(None, 1.0), TypeError, [r"None \(of type NoneType\)"]),
    ("cast_to_unknown", lambda: tf.cast(_x23(), "quux"), TypeError, [r"'quux'"]),
    ("index_out_of_range", lambda: _x23()[5], InvalidArgumentError,
     [r"slice index 5 of dimension 0 out of bounds", r"\[Op:StridedSlice\]"]),
    ("float_index", lambda: _x23()[1.5], TypeError, [r"valid indices, got 1\.5"]),
    ("item_assignment", _setitem, TypeError, [r"does not support item assignment"]),
    ("bool_of_matrix", lambda: bool(_x23()), ValueError, [r"more than one element"]),
    ("float_of_matrix", lambda: float(_x23()), TypeError, [r"0-dimensional"]),
    ("variable_without_value", lambda: tf.Variable(None), ValueError, [r"initial_value"]),
    ("variable_assign_shape", lambda: tf.Variable([1.0, 2.0]).assign([1.0, 2.0, 3.0]),
     ValueError, [r"\(2,\)", r"\(3,\)"]),
    ("variable_assign_dtype", lambda: tf.Variable([1.0, 2.0]).assign(tf.constant([1, 2])),
     ValueError, [r"requested dtype float32", r"dtype int32"]),
    # -- shapes: huge, negative ---------------------------------------------------------------
    ("zeros_negative_dim", lambda: tf.zeros((2, -3)), InvalidArgumentError,
     [r"Dimension -3 must be >= 0", r"\[2,-3\]", r"\[Op:Fill\]"]),
    ("zeros_int64_overflow", lambda: tf.zeros((2**40, 2**40)), InvalidArgumentError,
     [r"overflow when multiplying 1099511627776 with 1099511627776"]),
    ("ones_beyond_address_space", lambda: tf.ones((2**31, 2**31)), ResourceExhaustedError,
     [r"OOM", r"\[2147483648,2147483648\]", r"float32"]),
    ("matmul_huge_output", lambda: tf.matmul(tf.zeros((2**31, 0)), tf.zeros((0, 2**31))),
     ResourceExhaustedError, [r"\[2147483648,2147483648\]", r"\[Op:MatMul\]"]),
    ("random_int64_overflow", lambda: tf.random.normal((2**62, 4)), InvalidArgumentError,
     [r"overflow when multiplying 4611686018427387904 with 4", r"\[Op:RandomStandardNormal\]"]),
    ("random_beyond_address_space", lambda: tf.random.uniform((2**31, 2**31), maxval=9,
                                                              dtype=tf.int32),
     ResourceExhaustedError, [r"\[2147483648,2147483648\]", r"int32"]),
    # -- ops ----------------------------------------------------------------------------------
    ("reshape_count", lambda: tf.reshape(_x23(), (4, 4)), InvalidArgumentError,
     [r"tensor with 6 values", r"requested shape has 16", r"\[Op:Reshape\]"]),
    ("reshape_two_unknown", lambda: tf.reshape(_x23(), (-1, -1)), InvalidArgumentError,
     [r"Only one input size may be -1, not both 0 and 1"]),
    ("add_float_int", lambda: tf.add(_x23(), tf.constant(np.ones((2, 3), np.int32))),
     InvalidArgumentError, [r"expected to be a float tensor but is a int32", r"tf\.cast",
                            r"\[Op:AddV2\]"]),
    ("operator_float_int", lambda: _x23() * tf.constant(1), InvalidArgumentError,
     [r"float tensor but is a int32", r"\[Op:Mul\]"]),
    ("broadcast_incompatible", lambda: _x23() + tf.ones((4, 3)), InvalidArgumentError,
     [r"Incompatible shapes: \[2,3\] vs\. \[4,3\]"]),
    ("matmul_inner_dims", lambda: tf.matmul(_x23(), tf.ones((4, 5))), InvalidArgumentError,
     [r"Matrix size-incompatible: In\[0\]: \[2,3\], In\[1\]: \[4,5\]"]),
    ("matmul_vector", lambda: tf.matmul(tf.ones((3,)), tf.ones((3, 1))), InvalidArgumentError,
     [r"In\[0\] ndims must be >= 2: 1", r"Hint"]),
    ("sigmoid_of_int", lambda: tf.sigmoid(tf.constant([1, 2])), InvalidArgumentError,
     [r"int32 is not in the list of allowed values: float, double", r"\[Op:Sigmoid\]"]),
    ("reduce_bad_axis", lambda: tf.reduce_sum(_x23(), axis=2), InvalidArgumentError,
     [r"Invalid reduction dimension \(2 for input with 2 dimension", r"\[Op:Sum\]"]),
    ("reduce_bad_negative_axis", lambda: tf.reduce_mean(_x23(), axis=-3), InvalidArgumentError,
     [r"-3 for input with 2 dimension"]),
    ("concat_shapes", lambda: tf.concat([_x23(), tf.ones((2, 4))], axis=0),
     InvalidArgumentError, [r"shape\[0\] = \[2,3\] vs\. shape\[1\] = \[2,4\]"]),
    ("concat_axis", lambda: tf.concat([_x23(), _x23()], axis=5), InvalidArgumentError,
     [r"range \[-2, 2\), but got 5"]),
    ("stack_shapes", lambda: tf.stack([_x23(), tf.ones((3, 2))]), InvalidArgumentError,
     [r"values\[0\]\.shape = \[2,3\] != values\[1\]\.shape = \[3,2\]"]),
    ("transpose_perm", lambda: tf.transpose(_x23(), perm=[0, 0]), InvalidArgumentError,
     [r"1 is missing from \{0,0\}"]),
    ("one_hot_depth", lambda: tf.one_hot([1], depth=-1), InvalidArgumentError,
     [r"depth must be non-negative, got: -1"]),
    ("xent_shapes", lambda: tf.nn.softmax_cross_entropy_with_logits(
        labels=tf.ones((2, 3)), logits=tf.ones((2, 4))), InvalidArgumentError,
     [r"logits_size=\[2,4\] labels_size=\[2,3\]"]),
    ("sparse_xent_label", lambda: tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=tf.constant([5]), logits=tf.ones((1, 3))), InvalidArgumentError,
     [r"label value of 5", r"\[0, 3\)"]),
    # -- tape ---------------------------------------------------------------------------------
    ("gradient_twice", _grad_twice, RuntimeError, [r"non-persistent GradientTape"]),
    ("tape_reentered", _reenter_tape, ValueError, [r"re-enter an already-active tape"]),
    ("output_gradients_shape", _output_gradients_shape, InvalidArgumentError,
     [r"\[3\] vs\. \[2\]"]),
    ("apply_gradients_shape", _apply_wrong_shape, InvalidArgumentError,
     [r"shape \[2\] using a Tensor with shape \[1\]", r"Hint"]),
    # -- layers -------------------------------------------------------------------------------
    ("dense_zero_units", lambda: Dense(0), ValueError, [r"positive integer", r"units=0"]),
    ("dense_float_units", lambda: Dense(2.5), ValueError, [r"units=2\.5"]),
    ("dense_unknown_activation", lambda: Dense(2, activation="nope"), ValueError,
     [r"identifier: nope", r"relu"]),
    ("dense_wrong_width", lambda: _built(2)(np.ones((2, 4), np.float32)), ValueError,
     [r"expected axis -1 of input shape to have value 3", r"received input with shape \(2, 4\)"]),
    ("dense_vector_input", lambda: Dense(2)(np.ones((3,), np.float32)), ValueError,
     [r"expected min_ndim=2, found ndim=1", r"\(3,\)"]),
    ("dense_list_input", lambda: Dense(2)([[1.0, 2.0]]), ValueError,
     [r"of type <class 'list'>", r"tf\.constant"]),
    ("sequential_non_layer", lambda: tf.keras.Sequential([Dense(1), "relu"]), ValueError,
     [r"keras\.Layer", r"'relu' \(of type <class 'str'>\)"]),
    # -- compile / fit ------------------------------------------------------------------------
    ("unknown_loss", lambda: _built(1).compile(optimizer="sgd", loss="nope"), ValueError,
     [r"identifier: 'nope'", r"mse"]),
    ("unknown_optimizer", lambda: _built(1).compile(optimizer="nope", loss="mse"), ValueError,
     [r"identifier: 'nope'", r"'adam'"]),
    ("fit_before_compile", lambda: _built(1).fit(X, Y, verbose=0), ValueError,
     [r"must call `compile\(\)`"]),
    ("fit_batch_size_zero", lambda: _compiled().fit(X, Y, batch_size=0, verbose=0),
     ValueError, [r"positive integer", r"batch_size=0"]),
    ("fit_negative_epochs", lambda: _compiled().fit(X, Y, epochs=-1, verbose=0), ValueError,
     [r"non-negative integer", r"epochs=-1"]),
    ("fit_cardinality", lambda: _compiled().fit(X, Y[:5], verbose=0), ValueError,
     [r"'x' sizes: 8", r"'y' sizes: 5"]),
    ("fit_labels_vs_output", lambda: _compiled().fit(X, np.ones((8, 4), np.float32), verbose=0),
     ValueError, [r"expected shape \(None, 1\)", r"received y with shape \(8, 4\)"]),
    ("fit_validation_split", lambda: _compiled().fit(X, Y, validation_split=1.5, verbose=0),
     ValueError, [r"\[0, 1\)", r"validation_split=1\.5"]),
    ("fit_no_samples", lambda: _compiled().fit(X[:0], Y[:0], verbose=0), ValueError,
     [r"at least one sample", r"\(0, 3\)"]),
    ("predict_wrong_width", lambda: _compiled().predict(np.ones((2, 5), np.float32), verbose=0),
     ValueError, [r"value 3", r"\(2, 5\)"]),
    # -- saving -------------------------------------------------------------------------------
    ("save_wrong_suffix", _save(lambda: _built(1), "w.h5"), ValueError,
     [r"must end in `\.weights\.h5`", r"w\.h5"]),
    ("save_unbuilt", _save(lambda: tf.keras.Sequential([Dense(1)]), "w.npz"), ValueError,
     [r"not yet been built"]),
    ("load_missing_file", _load_missing, FileNotFoundError, [r"none\.weights\.h5"]),
    ("load_mismatched", _load_mismatched, ValueError,
     [r"expected shape \(3, 4\)", r"received shape \(3, 5\)"]),
]


@pytest.mark.parametrize("fn, error, patterns", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_bad_input_catalogue(fn, error, patterns, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a numpy RuntimeWarning on the way is a failure too
        with pytest.raises(error) as info:
            fn(tmp_path) if fn.__code__.co_argcount else fn()
    assert type(info.value).__module__.split(".")[0] != "numpy"
    for pattern in patterns:
        assert re.search(pattern, str(info.value)), (pattern, str(info.value))


def test_bad_input_catalogue_size_and_ids_are_distinct():
    assert len(CASES) >= 40
    assert len({c[0] for c in CASES}) == len(CASES)


# -- odd but valid numpy inputs: views are read correctly ---------------------------------------
def _views():
    base = np.arange(1.0, 49.0).reshape(6, 8)
    readonly = base[:3, :4].copy()
    readonly.setflags(write=False)
    return {
        "strided": base[::2, ::2],                      # (3, 4) non-contiguous
        "fortran": np.asfortranarray(base[:3, :4]),
        "transposed": base[:4, :3].T,
        "readonly": readonly,
        "broadcast": np.broadcast_to(np.arange(4.0), (3, 4)),  # zero strides, read-only
        "negative_stride": base[:3, 3::-1],
    }


@pytest.mark.parametrize("kind", sorted(_views()))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bad_input_numpy_views_give_correct_results(kind, dtype):
    a = _views()[kind].astype(dtype, copy=False)
    ref = np.asarray(a, np.float64)
    w = np.linspace(-1, 1, 8).reshape(4, 2).astype(dtype)
    checks = [
        (tf.sigmoid(a), 1 / (1 + np.exp(-ref))),
        (tf.nn.relu(a - 20), np.maximum(ref - 20, 0)),
        (tf.matmul(a, w), ref @ w.astype(np.float64)),
        (tf.add(a, a[0]), ref + ref[0]),
        (tf.reduce_sum(a, axis=0), ref.sum(axis=0)),
        (tf.nn.softmax(a / 10), np.exp(ref / 10) / np.exp(ref / 10).sum(-1, keepdims=True)),
        (tf.constant(a), ref),
        (tf.Variable(a), ref),
    ]
    for got, want in checks:
        assert got.dtype == tf.as_dtype(dtype)
        np.testing.assert_allclose(np.asarray(got.numpy(), np.float64), want, rtol=1e-6,
                                   atol=1e-6)
    assert a.tolist() == ref.astype(dtype).tolist()  # the input was not touched


# -- empty tensors in every kernel --------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bad_input_empty_tensors_in_every_kernel(dtype):
    e = np.zeros((3, 0), dtype)
    np.testing.assert_array_equal(tf.matmul(e, np.zeros((0, 4), dtype)).numpy(), np.zeros((3, 4)))
    assert tf.matmul(np.zeros((0, 5), dtype), np.zeros((5, 2), dtype)).shape == (0, 2)
    assert tf.reduce_sum(e).numpy() == 0
    assert np.isnan(tf.reduce_mean(e).numpy())  # TF: 0/0
    assert tf.reduce_max(e).numpy() == -np.inf  # TF: the identity of max
    assert tf.reduce_sum(e, axis=1).shape == (3,)
    for fn in (tf.sigmoid, tf.nn.relu, tf.tanh, tf.exp, tf.nn.softmax, tf.square):
        assert fn(e).shape == (3, 0)
    assert tf.add(e, np.ones((1, 0), dtype)).shape == (3, 0)
    for fn in (tf.nn.log_softmax, tf.nn.softplus, tf.nn.leaky_relu):
        assert fn(e).shape == (3, 0)
    assert _built(4, 1)(np.zeros((0, 3), np.float32)).shape == (0, 1)  # fused Dense kernels
    assert tf.nn.softmax_cross_entropy_with_logits(labels=np.zeros((0, 3), dtype),
                                                   logits=np.zeros((0, 3), dtype)).shape == (0,)
    x = tf.constant(np.zeros((0, 3), dtype))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(tf.sigmoid(tf.matmul(x, np.ones((3, 2), dtype))))
    g = tape.gradient(y, x)
    assert g.shape == (0, 3) and float(y) == 0.0


# -- non-finite values propagate, without warnings ----------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bad_input_nan_and_inf_propagate_without_warnings(dtype):
    v = np.array([[np.nan, np.inf, -np.inf, 0.0, 1.0]], dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(tf.sigmoid(v).numpy(), [[np.nan, 1, 0, 0.5,
                                                            1 / (1 + np.exp(-1))]], rtol=1e-6)
        np.testing.assert_array_equal(tf.nn.relu(v).numpy(), [[np.nan, np.inf, 0, 0, 1]])
        np.testing.assert_array_equal(tf.math.log(v).numpy()[0, 1:4], [np.inf, np.nan, -np.inf])
        assert np.isnan(tf.reduce_sum(v).numpy()) and np.isnan(tf.reduce_max(v).numpy())
        assert np.isnan(tf.nn.softmax(v).numpy()).all()
        assert np.isnan(tf.matmul(v, np.ones((5, 1), dtype)).numpy()).all()
        np.testing.assert_array_equal(tf.divide(np.ones(2, dtype), np.zeros(2, dtype)).numpy(),
                                      [np.inf, np.inf])
        np.testing.assert_array_equal(tf.sqrt(v).numpy()[0, :3], [np.nan, np.inf, np.nan])
        assert tf.exp(np.array([1000.0], dtype)).numpy()[0] == np.inf


# -- subnormals survive importing microtf (no flush-to-zero from the kernels) -------------------
def test_bad_input_subnormals_preserved_after_import():
    import microtf._kernels  # noqa: F401 - loads every shared object

    for dtype in (np.float32, np.float64):
        tiny = np.finfo(dtype).smallest_subnormal
        assert np.array(tiny, dtype) * dtype(1) == tiny  # numpy itself still sees them
        x = np.array([tiny, -tiny, tiny * 3], dtype)
        np.testing.assert_array_equal(tf.add(x, np.zeros_like(x)).numpy(), x)
        np.testing.assert_array_equal(tf.nn.relu(x).numpy(), [tiny, 0, tiny * 3])
        np.testing.assert_array_equal(tf.multiply(x, dtype(1)).numpy(), x)
        assert tf.matmul(x[None, :1], np.ones((1, 1), dtype)).numpy()[0, 0] == tiny
        assert tf.reduce_sum(x).numpy() == x.sum()

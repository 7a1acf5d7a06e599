"""tf.keras: Layer contract, weights and tracking, Dense, Sequential, Model subclassing,
initializers, activations, utils (numpy float64 and central differences as oracles)."""
import random
import warnings

import numpy as np
import pytest

import microtf as tf
from microtf.keras import Model, Sequential, activations, initializers
from microtf.keras.layers import Dense, Layer
from microtf.testing import check_gradients


@pytest.fixture(autouse=True)
def _unseeded():
    # set_random_seed seeds the global generators: give other test files theirs back
    py_state, np_state = random.getstate(), np.random.get_state()
    yield
    tf.random.set_seed(None)
    random.setstate(py_state)
    np.random.set_state(np_state)


def np_sigmoid(z):
    return 1 / (1 + np.exp(-z))


def np_softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


NP_ACTIVATIONS = {None: lambda z: z, "linear": lambda z: z, "relu": lambda z: np.maximum(z, 0),
                  "sigmoid": np_sigmoid, "tanh": np.tanh, "softmax": np_softmax}


class Affine(Layer):
    """The lab's custom layer, counting its builds."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.builds = []

    def build(self, input_shape):
        self.builds.append(input_shape)
        self.W = self.add_weight(name="weight", shape=[int(input_shape[-1]), self.units])
        self.b = self.add_weight(name="bias", shape=[1, self.units])

    def call(self, x):
        return tf.add(tf.matmul(x, self.W), self.b)


# -- names, namespaces ---------------------------------------------------------------------------
def test_namespaces():
    assert tf.keras.layers.Layer is Layer and tf.keras.layers.Dense is Dense
    assert tf.keras.Sequential is tf.keras.models.Sequential is Sequential
    assert tf.keras.Model is tf.keras.models.Model is Model
    assert tf.keras.Layer is Layer
    assert callable(tf.keras.utils.set_random_seed)
    assert tf.keras.initializers is initializers and tf.keras.activations is activations


def test_auto_names_unique_per_class_and_repr():
    a, b = Dense(2), Dense(2)
    assert a.name.startswith("dense") and b.name != a.name
    assert b.name.rsplit("_", 1)[-1].isdigit()
    assert repr(b) == "<Dense name=%s, built=False>" % b.name
    assert Affine(1).name.startswith("affine")
    assert Dense(2, name="out").name == "out"


def test_snake_case_name_of_lab_layer():
    class OurDenseLayer(Layer):
        pass
    assert OurDenseLayer().name.startswith("our_dense_layer")


def test_unknown_kwarg_rejected():
    with pytest.raises(ValueError, match="Unrecognized keyword arguments passed to Dense"):
        Dense(2, foo=1)


# -- lazy build --------------------------------------------------------------------------------
def test_lazy_build_with_tuple_shape_once():
    layer = Affine(3)
    assert not layer.built and layer.weights == []
    y = layer(tf.ones([4, 2]))
    assert layer.built and layer.builds == [(4, 2)] and isinstance(layer.builds[0], tuple)
    assert tuple(y.shape) == (4, 3)
    layer(tf.ones([5, 2]))
    assert layer.builds == [(4, 2)]


def test_explicit_build_marks_built_and_call_does_not_rebuild():
    layer = Affine(3)
    layer.build((1, 2))
    assert layer.built
    layer(tf.ones([1, 2]))
    assert layer.builds == [(1, 2)]
    assert tuple(layer.call(tf.ones([1, 2])).shape) == (1, 3)


def test_call_before_build_is_attribute_error():
    with pytest.raises(AttributeError, match="W"):
        Affine(3).call(tf.ones([1, 2]))


def test_layer_without_build_is_built_after_call():
    class Double(Layer):
        def call(self, x):
            return x * 2.0

    layer = Double()
    np.testing.assert_allclose(layer(np.ones((2,))).numpy(), [2, 2])
    assert layer.built and layer.weights == []


def test_call_not_implemented():
    with pytest.raises(NotImplementedError, match="does not have a `call\\(\\)` method"):
        Layer()(tf.ones([1]))


def test_forgot_super_init():
    class Bad(Layer):
        def __init__(self):
            self.units = 3

        def call(self, x):
            return x

    with pytest.raises(RuntimeError, match=r"In layer 'Bad', you forgot to call "
                       r"`super\(\).__init__\(\)` as the first statement"):
        Bad()(tf.ones([1]))
    with pytest.raises(RuntimeError, match="Go add it!"):
        Bad().add_weight(shape=(1,))


def test_exception_in_call_keeps_class_and_gets_context_note():
    layer = Affine(3)
    layer(tf.ones([1, 2]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="Matrix size-incompatible") as info:
        layer(tf.ones([1, 4]))
    notes = "\n".join(getattr(info.value, "__notes__", []))
    if hasattr(info.value, "add_note"):
        assert "Exception encountered when calling Affine.call()" in notes
        assert "x=tf.Tensor(shape=(1, 4), dtype=float32)" in notes


# -- inputs ----------------------------------------------------------------------------------------
def test_numpy_float64_input_autocast_to_float32():
    layer = Affine(2)
    y = layer(np.ones((3, 2), dtype=np.float64))
    assert y.dtype is tf.float32
    assert Dense(2)(tf.constant(np.ones((1, 2)))).dtype is tf.float32


def test_layer_dtype_float64_keeps_float64():
    d = Dense(2, dtype="float64")
    assert d.dtype == "float64" and d(np.ones((1, 3), np.float32)).dtype is tf.float64
    assert d.kernel.dtype is tf.float64


def test_int_tensor_into_dense_gives_float32_but_custom_matmul_raises():
    assert Dense(2)(tf.constant([[1, 2]])).dtype is tf.float32
    with pytest.raises(tf.errors.InvalidArgumentError):
        Affine(2)(tf.constant([[1, 2]]))


@pytest.mark.parametrize("bad", [[[1.0, 2.0]], [1, 2], 3.0, "x", True])
def test_non_tensor_positional_input_rejected(bad):
    with pytest.raises(ValueError, match="Only input tensors may be passed as positional "
                       "arguments. The following argument value should be passed as a "
                       "keyword argument"):
        Dense(2)(bad)


def test_non_tensor_positional_hints():
    with pytest.raises(ValueError, match=r"tf.constant\(\[\[1.0, 2.0\]\]\)"):
        Dense(2)([[1.0, 2.0]])
    with pytest.raises(ValueError, match="pass options by name"):
        Dense(2)(tf.ones([1, 2]), True)


def test_tuple_of_tensors_accepted():
    class Pair(Layer):
        def call(self, inputs):
            a, b = inputs
            return a + b

    out = Pair()((np.ones((2,)), tf.ones([2])))
    assert out.dtype is tf.float32 and out.numpy().tolist() == [2, 2]


def test_training_keyword_passed_through_and_inherited():
    seen = []

    class Probe(Layer):
        def call(self, x, training=None):
            seen.append(training)
            return x

    class NoTraining(Layer):
        def call(self, x):
            return x

    class Outer(Model):
        def __init__(self):
            super().__init__()
            self.probe, self.plain = Probe(), NoTraining()

        def call(self, x, training=None):
            return self.plain(self.probe(x))

    probe = Probe()
    probe(tf.ones([1]))
    probe(tf.ones([1]), training=True)
    Outer()(tf.ones([1]), training=False)
    NoTraining()(tf.ones([1]), training=True)  # dropped, not an error
    assert seen == [None, True, False]


# -- weights ----------------------------------------------------------------------------------
def test_add_weight_keyword_and_positional_forms():
    class Both(Layer):
        def build(self, input_shape):
            self.a = self.add_weight("weight", shape=[2, 3])         # lab (Keras 2) form
            self.b = self.add_weight(shape=(3,), name="bias")          # Keras 3 form
            self.c = self.add_weight((4,), "ones", name="c")           # Keras 3 positional

    layer = Both()
    layer.build((1, 2))
    assert [w.name for w in layer.weights] == ["weight", "bias", "c"]
    assert [tuple(w.shape) for w in layer.weights] == [(2, 3), (3,), (4,)]
    np.testing.assert_array_equal(layer.c.numpy(), np.ones(4))
    with pytest.raises(TypeError, match="multiple values for argument 'name'"):
        layer.add_weight("w", name="v")


def test_add_weight_defaults():
    layer = Layer()
    w = layer.add_weight(shape=(20, 30))
    limit = np.sqrt(6 / 50)
    assert w.dtype is tf.float32 and w.trainable and w.name.startswith("variable")
    assert np.abs(w.numpy()).max() <= limit and np.abs(w.numpy()).max() > limit * 0.8
    i = layer.add_weight(shape=(2,), dtype="int32")
    assert i.dtype is tf.int32 and i.numpy().tolist() == [0, 0]
    v1, v2 = layer.add_weight(shape=()), layer.add_weight(shape=())
    assert v1.name != v2.name and v2.name.startswith("variable_")
    assert tuple(v1.shape) == ()


def test_add_weight_rejects_undefined_shape():
    with pytest.raises(ValueError, match="must be fully-defined"):
        Layer(name="lay").add_weight(shape=(None, 2), name="w")


def test_keras_variable_path_name_repr_and_tape():
    layer = Affine(3, name="our_dense_layer")
    layer.build((1, 2))
    W = layer.W
    assert isinstance(W, tf.Variable) and isinstance(W, tf.keras.Variable)
    assert W.name == "weight" and W.path == "our_dense_layer/weight"
    assert repr(W).startswith("<Variable path=our_dense_layer/weight, shape=(2, 3), "
                              "dtype=float32, value=[[")
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(tf.matmul(tf.ones([1, 2]), W) + 1)
    np.testing.assert_allclose(tape.gradient(y, W).numpy(), np.ones((2, 3)))


def test_keras_variable_initializer_form_and_default_name():
    v = tf.keras.Variable(initializers.Ones(), shape=(2,), dtype="float64")
    assert v.dtype is tf.float64 and v.numpy().tolist() == [1, 1]
    assert v.name.startswith("variable") and v.path == v.name
    w = tf.keras.Variable(np.zeros(3, np.float32))
    assert w.name != v.name and w.trainable


def test_weights_order_trainable_then_non_trainable():
    layer = Layer()
    a = layer.add_weight(shape=(1,), name="a")
    m = layer.add_weight(shape=(1,), name="m", trainable=False)
    b = layer.add_weight(shape=(1,), name="b")
    assert layer.weights == [a, b, m]
    assert layer.trainable_weights == [a, b] == layer.trainable_variables
    assert layer.non_trainable_weights == [m] == layer.non_trainable_variables
    assert layer.variables == layer.weights


def test_tracking_attributes_lists_dicts_and_nested():
    class Block(Layer):
        def __init__(self):
            super().__init__()
            self.first = Dense(2)
            self.stack = [Dense(3), [Dense(4)]]
            self.by_name = {"head": Dense(1)}
            self.raw = tf.Variable(1.0)  # a plain tf.Variable is not tracked (Keras 3)
            self.own = self.add_weight(shape=(1,), name="own")

        def call(self, x):
            x = self.first(x)
            x = self.stack[0](x)
            x = self.stack[1][0](x)
            return self.by_name["head"](x)

    block = Block()
    block(tf.ones([1, 5]))
    shapes = [tuple(w.shape) for w in block.weights]
    assert shapes == [(1,), (5, 2), (2,), (2, 3), (3,), (3, 4), (4,), (4, 1), (1,)]
    assert all(w is not block.raw for w in block.weights)
    assert len(block.trainable_variables) == 9
    assert block.count_params() == 1 + 12 + 9 + 16 + 5


def test_appended_layer_tracked_and_deleted_untracked():
    class Holder(Layer):
        def __init__(self):
            super().__init__()
            self.items = []

    h = Holder()
    d = Dense(2)
    d.build((None, 3))
    h.items.append(d)
    assert len(h.weights) == 2
    h.extra = Dense(1)
    h.extra.build((1, 1))
    assert len(h.weights) == 4
    del h.extra
    assert len(h.weights) == 2


def test_keras_variable_attribute_tracked():
    class Direct(Layer):
        def __init__(self):
            super().__init__()
            self.v = tf.keras.Variable(np.zeros(2, np.float32), name="v")

    assert [w.name for w in Direct().weights] == ["v"]


def test_trainable_setter_moves_weights():
    model = Sequential([Dense(2), Dense(1)])
    model(tf.ones([1, 3]))
    model.layers[0].trainable = False
    assert len(model.trainable_weights) == 2 and len(model.non_trainable_weights) == 2
    model.trainable = False
    assert model.trainable_weights == [] and len(model.non_trainable_weights) == 4
    model.trainable = True
    assert len(model.trainable_weights) == 4
    x = tf.Variable(1.0)
    frozen = Dense(1, trainable=False)
    with tf.GradientTape() as tape:
        y = frozen(tf.ones([1, 1])) * x
    assert list(tape.watched_variables()) == [x]
    assert tape.gradient(y, [x, frozen.kernel])[1] is None


def test_get_set_weights_roundtrip_and_errors():
    d = Dense(3)
    d.build((None, 2))
    k = np.arange(6, dtype=np.float64).reshape(2, 3)
    d.set_weights([k, np.ones(3)])
    got = d.get_weights()
    assert got[0].dtype == np.float32
    np.testing.assert_array_equal(got[0], k)
    got[0][0, 0] = 99  # a copy
    assert d.kernel.numpy()[0, 0] == 0
    with pytest.raises(ValueError, match=r"weight shape \(2, 3\) is not compatible with provided "
                       r"weight shape \(3, 3\)"):
        d.set_weights([np.ones((3, 3)), np.ones(3)])
    with pytest.raises(ValueError, match="weight list of length 1, but the layer was expecting "
                       "2 weights"):
        d.set_weights([k])


def test_count_params_unbuilt():
    with pytest.raises(ValueError, match="isn't built"):
        Dense(3).count_params()
    d = Dense(3)
    d.build((1, 2))
    assert d.count_params() == 9


# -- Dense -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("activation", list(NP_ACTIVATIONS))
@pytest.mark.parametrize("shape", [(1, 1), (3, 5), (0, 2), (2, 3, 4)])
def test_dense_forward_matches_numpy(activation, shape):
    d = Dense(3, activation=activation, bias_initializer="random_normal")
    x = np.random.default_rng(0).standard_normal(shape)
    y = d(x)
    k, b = (w.astype(np.float64) for w in d.get_weights())
    expected = NP_ACTIVATIONS[activation](x.astype(np.float32).astype(np.float64) @ k + b)
    assert tuple(y.shape) == shape[:-1] + (3,) and y.dtype is tf.float32
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("activation", [tf.nn.relu, tf.nn.softmax, tf.sigmoid, tf.tanh])
def test_dense_callable_activation(activation):
    d = Dense(2, activation=activation)
    assert d.activation is activation
    assert tuple(d(tf.ones([1, 3])).shape) == (1, 2)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "softmax", None])
def test_dense_gradient_wrt_input(dtype, activation):
    d = Dense(3, activation=activation, dtype="float64", bias_initializer="random_normal")
    d.build((None, 4))
    x = np.random.default_rng(1).standard_normal((3, 4))
    # the layer casts float32 inputs to its float64 dtype; check_gradients runs in `dtype`
    check_gradients(lambda t: tf.cast(d(t), t.dtype), x, dtype=dtype)


def test_dense_gradients_to_weights_match_formula():
    d = Dense(3, activation="sigmoid", bias_initializer="random_normal")
    x = np.random.default_rng(2).standard_normal((4, 2)).astype(np.float32)
    with tf.GradientTape() as tape:
        y = d(x)
        loss = tf.reduce_sum(y * y)
    gk, gb = tape.gradient(loss, d.trainable_variables)
    k, b = (w.astype(np.float64) for w in d.get_weights())
    s = np_sigmoid(x.astype(np.float64) @ k + b)
    dz = 2 * s * s * (1 - s)
    np.testing.assert_allclose(gk.numpy(), x.T.astype(np.float64) @ dz, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(gb.numpy(), dz.sum(axis=0), rtol=1e-4, atol=1e-6)


def test_dense_no_bias_and_zero_init_extremes():
    d = Dense(2, use_bias=False, kernel_initializer="ones")
    y = d(tf.constant([[np.inf, 1.0], [np.nan, 0.0], [3e38, 3e38], [1e-45, 0.0]]))
    assert d.bias is None and len(d.weights) == 1
    out = y.numpy()
    assert np.isposinf(out[0]).all() and np.isnan(out[1]).all() and np.isposinf(out[2]).all()
    assert (out[3] >= 0).all() and out[3][0] < 1e-40


@pytest.mark.parametrize("units", [0, -1, 2.5, "3", None, True])
def test_dense_invalid_units(units):
    with pytest.raises(ValueError, match="expected a positive integer. Received: units="):
        Dense(units)


def test_dense_input_checks():
    d = Dense(3)
    with pytest.raises(ValueError, match="expected min_ndim=2, found ndim=1"):
        d(tf.ones([2]))
    d(tf.ones([1, 2]))
    with pytest.raises(ValueError, match=r"expected axis -1 of input shape to have value 2, but "
                       r"received input with shape \(1, 4\)"):
        d(tf.ones([1, 4]))


def test_dense_config_and_output_shape():
    d = Dense(4, activation="relu", use_bias=False)
    cfg = d.get_config()
    assert cfg["units"] == 4 and cfg["activation"] == "relu" and cfg["use_bias"] is False
    assert cfg["kernel_initializer"]["class_name"] == "GlorotUniform"
    clone = Dense.from_config(dict(cfg, name="clone"))
    assert clone.units == 4 and clone.activation is activations.relu
    assert d.compute_output_shape((None, 7)) == (None, 4)


def test_dense_weight_paths():
    d = Dense(2, name="solo")
    d(tf.ones([1, 3]))
    assert [w.path for w in d.weights] == ["solo/kernel", "solo/bias"]


# -- Sequential -----------------------------------------------------------------------------------
def test_sequential_basics():
    model = Sequential()
    assert model.layers == [] and not model.built
    d1, d2 = Dense(4, activation="relu"), Dense(2)
    model.add(d1)
    model.add(d2)
    assert not model.built and model.layers[0] is d1
    x = np.random.default_rng(0).standard_normal((3, 5)).astype(np.float32)
    y = model(x)
    assert model.built and tuple(y.shape) == (3, 2)
    np.testing.assert_allclose(y.numpy(), d2(d1(x)).numpy(), rtol=1e-6)
    assert [w.path for w in model.weights][:2] == ["%s/%s/kernel" % (model.name, d1.name),
                                                   "%s/%s/bias" % (model.name, d1.name)]
    assert model.name.startswith("sequential")
    assert len(model.trainable_variables) == 4 and model.count_params() == 5 * 4 + 4 + 4 * 2 + 2


def test_sequential_add_rejects_non_layers():
    with pytest.raises(ValueError, match=r"Only instances of `keras.Layer` can be added to a "
                       r"Sequential model. Received: 3 \(of type <class 'int'>\)"):
        Sequential().add(3)


def test_sequential_duplicate_names():
    with pytest.raises(ValueError, match="unique names"):
        Sequential([Dense(1, name="a"), Dense(1, name="a")])


def test_sequential_pop_and_list_constructor():
    d1, d2 = Dense(2), Dense(3)
    model = Sequential([d1, d2], name="stack")
    assert model.name == "stack" and model.layers == [d1, d2]
    assert model.pop() is d2 and model.layers == [d1] and not model.built
    assert tuple(model(tf.ones([1, 4])).shape) == (1, 2)
    model.pop()
    with pytest.raises(IndexError, match="no layers"):
        model.pop()


def test_sequential_explicit_build_and_input_shape():
    model = Sequential([Dense(3), Dense(1)])
    model.build((None, 2))
    assert model.built and [tuple(w.shape) for w in model.weights] == [(2, 3), (3,), (3, 1),
                                                                        (1,)]
    with pytest.warns(UserWarning, match="Do not pass an `input_shape`"):
        first = Dense(3, input_shape=(4,))
    eager = Sequential([first])
    assert eager.built and tuple(eager.weights[0].shape) == (4, 3)
    with pytest.raises(ValueError, match="input_shape"):
        Sequential([Dense(1)]).build()


def test_sequential_nested_and_gradients():
    inner = Sequential([Dense(2, activation="tanh")])
    outer = Sequential([inner, Dense(1)])
    x = tf.ones([2, 3])
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(outer(x))
    grads = tape.gradient(loss, outer.trainable_variables)
    assert len(grads) == 4 and all(g is not None for g in grads)
    assert [tuple(g.shape) for g in grads] == [(3, 2), (2,), (2, 1), (1,)]


# -- Model subclassing -----------------------------------------------------------------------------
class IdentityModel(Model):
    def __init__(self, n):
        super().__init__()
        self.dense_layer = Dense(n, activation="sigmoid")

    def call(self, inputs, isidentity=False):
        x = self.dense_layer(inputs)
        return inputs if isidentity else x


def test_model_subclass_kwargs_and_direct_call():
    model = IdentityModel(3)
    x = tf.constant([1, 2.0], shape=(1, 2))
    out = model.call(x)
    assert not model.built and model.dense_layer.built and tuple(out.shape) == (1, 3)
    np.testing.assert_array_equal(model(x, isidentity=True).numpy(), x.numpy())
    assert model.built
    np.testing.assert_array_equal(model.call(x, True).numpy(), [[1, 2]])
    paths = [w.path for w in model.trainable_variables]
    assert paths == ["%s/kernel" % model.dense_layer.name, "%s/bias" % model.dense_layer.name]
    assert model.layers == [model.dense_layer] and model.count_params() == 9


def test_model_build_runs_call():
    model = IdentityModel(2)
    model.build((None, 5))
    assert model.built and tuple(model.dense_layer.kernel.shape) == (5, 2)


def test_functional_api_not_yet():
    with pytest.raises(NotImplementedError, match="functional API"):
        Model(tf.ones([1]), tf.ones([1]))


def test_model_training_loop_reduces_loss():
    tf.random.set_seed(0)
    model = Sequential([Dense(8, activation="tanh"), Dense(1)])
    x = np.linspace(-1, 1, 32, dtype=np.float32).reshape(-1, 1)
    y = x ** 2
    losses = []
    for _ in range(100):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean((model(x) - y) ** 2)
        for v, g in zip(model.trainable_variables, tape.gradient(loss, model.trainable_variables)):
            v.assign_sub(0.1 * g)
        losses.append(float(loss))
    assert losses[-1] < losses[0] * 0.5


# -- seeding -------------------------------------------------------------------------------------
def _fresh_outputs():
    layer = Affine(3)
    layer.build((1, 2))
    return [layer(tf.ones([1, 2])).numpy(), Sequential([Dense(3)])(tf.ones([1, 2])).numpy()]


def test_set_seed_makes_layer_init_deterministic():
    tf.random.set_seed(1)
    first = _fresh_outputs()
    tf.random.set_seed(1)
    for a, b in zip(first, _fresh_outputs()):
        np.testing.assert_array_equal(a, b)
    tf.random.set_seed(2)
    assert not np.array_equal(first[0], _fresh_outputs()[0])


def test_keras_set_random_seed_seeds_everything():
    tf.keras.utils.set_random_seed(5)
    a = (random.random(), np.random.rand(), tf.random.normal([2]).numpy(), _fresh_outputs()[0])
    tf.keras.utils.set_random_seed(5)
    b = (random.random(), np.random.rand(), tf.random.normal([2]).numpy(), _fresh_outputs()[0])
    assert a[0] == b[0] and a[1] == b[1]
    np.testing.assert_array_equal(a[2], b[2])
    np.testing.assert_array_equal(a[3], b[3])
    with pytest.raises(ValueError, match="Expected `seed` argument to be an integer"):
        tf.keras.utils.set_random_seed(1.5)


def test_initializers_do_not_touch_python_random():
    random.seed(3)
    expected = random.random()
    random.seed(3)
    Dense(3).build((1, 2))
    assert random.random() == expected


# -- initializers --------------------------------------------------------------------------------
@pytest.mark.parametrize("name,cls", [("glorot_uniform", initializers.GlorotUniform),
                                      ("glorot_normal", initializers.GlorotNormal),
                                      ("he_normal", initializers.HeNormal),
                                      ("he_uniform", initializers.HeUniform),
                                      ("zeros", initializers.Zeros), ("ones", initializers.Ones),
                                      ("random_normal", initializers.RandomNormal),
                                      ("random_uniform", initializers.RandomUniform)])
def test_initializer_lookup(name, cls):
    assert isinstance(initializers.get(name), cls)
    assert isinstance(initializers.get(cls.__name__), cls)
    assert isinstance(initializers.get(cls), cls)
    inst = cls()
    assert initializers.get(inst) is inst
    out = inst((3, 4), dtype="float64")
    assert out.dtype is tf.float64 and tuple(out.shape) == (3, 4)
    assert tuple(inst(()).shape) == () and tuple(inst((0, 3)).shape) == (0, 3)


def test_initializer_get_errors_and_passthrough():
    assert initializers.get(None) is None
    fn = lambda shape, dtype=None: np.zeros(shape)  # noqa: E731
    assert initializers.get(fn) is fn
    with pytest.raises(ValueError, match=r"Could not interpret initializer identifier: "
                       r"'nope'(.|\n)*glorot_uniform"):
        initializers.get("nope")
    cfg = initializers.serialize(initializers.RandomNormal(stddev=2.0, seed=3))
    again = initializers.get(cfg)
    assert isinstance(again, initializers.RandomNormal) and again.stddev == 2.0


@pytest.mark.parametrize("shape,limit", [((1, 3), np.sqrt(1.5)), ((3,), np.sqrt(1.0)),
                                         ((20, 30), np.sqrt(6 / 50)),
                                         ((3, 3, 4, 8), np.sqrt(6 / (36 + 72)))])
def test_glorot_uniform_limit(shape, limit):
    w = initializers.GlorotUniform(seed=1)(shape).numpy()
    assert np.abs(w).max() <= limit + 1e-7
    if w.size >= 100:
        assert np.abs(w).max() > 0.9 * limit


@pytest.mark.parametrize("cls,std", [(initializers.GlorotNormal, np.sqrt(2 / 700)),
                                     (initializers.HeNormal, np.sqrt(2 / 300)),
                                     (initializers.HeUniform, np.sqrt(2 / 300)),
                                     (initializers.RandomNormal, 0.05),
                                     (initializers.RandomUniform, 0.1 / np.sqrt(12))])
def test_initializer_spread(cls, std):
    w = cls(seed=0)((300, 400)).numpy().astype(np.float64)
    assert abs(w.std() / std - 1) < 0.02 and abs(w.mean()) < 0.05 * std


def test_truncated_initializers_cut_at_two_stddev():
    w = initializers.HeNormal(seed=0)((200, 100)).numpy()
    stddev = np.sqrt(2 / 200) / 0.87962566103423978
    assert np.abs(w).max() <= 2 * stddev + 1e-6


def test_seeded_initializer_repeats_and_seed_drawn_at_construction():
    init = initializers.GlorotUniform(seed=42)
    np.testing.assert_array_equal(init((2, 2)).numpy(), init((2, 2)).numpy())
    np.testing.assert_array_equal(init((2, 2)).numpy(),
                                  initializers.GlorotUniform(seed=42)((2, 2)).numpy())
    tf.random.set_seed(9)
    a = initializers.GlorotUniform()
    b = initializers.GlorotUniform()
    assert a.seed != b.seed
    np.testing.assert_array_equal(a((3,)).numpy(), a((3,)).numpy())
    tf.random.set_seed(9)
    assert initializers.GlorotUniform().seed == a.seed
    with pytest.raises(ValueError, match="Received: seed='x'"):
        initializers.RandomNormal(seed="x")


def test_variance_scaling_argument_errors():
    with pytest.raises(ValueError, match="scale"):
        initializers.VarianceScaling(scale=0)
    with pytest.raises(ValueError, match="mode"):
        initializers.VarianceScaling(mode="fan")
    with pytest.raises(ValueError, match="distribution"):
        initializers.VarianceScaling(distribution="cauchy")


def test_constant_zeros_ones_values():
    np.testing.assert_array_equal(initializers.Constant(2.5)((2,)).numpy(), [2.5, 2.5])
    assert initializers.Zeros()((2,), dtype="int32").dtype is tf.int32
    np.testing.assert_array_equal(initializers.ones()((1, 1)).numpy(), [[1]])


# -- activations ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh", "softmax", "linear"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_activation_values(name, dtype):
    x = np.array([[-np.inf, -3.0, -1e-30, 0.0, 2.0, 50.0]], dtype=dtype)
    fn = activations.get(name)
    assert fn is getattr(activations, name)
    with np.errstate(all="ignore"):
        expected = NP_ACTIVATIONS[name](x.astype(np.float64))
    out = fn(tf.constant(x))
    assert out.dtype.as_numpy_dtype == dtype
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6, atol=1e-7)


def test_activation_get_none_callable_and_unknown():
    assert activations.get(None) is activations.linear
    assert activations.get(tf.nn.relu) is tf.nn.relu
    with pytest.raises(ValueError, match=r"Could not interpret activation function identifier: "
                       r"swishy(.|\n)*known names are elu, .*relu, .*swish, tanh"):
        activations.get("swishy")
    with pytest.raises(ValueError, match="Could not interpret activation"):
        activations.get(3)


@pytest.mark.parametrize("name,reference", [
    ("softplus", lambda x: np.log1p(np.exp(x))),
    ("softsign", lambda x: x / (np.abs(x) + 1)),
    ("leaky_relu", lambda x: np.where(x > 0, x, 0.2 * x)),
    ("swish", lambda x: x / (1 + np.exp(-x))),
    ("silu", lambda x: x / (1 + np.exp(-x))),
    ("elu", lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0)))),
    ("selu", lambda x: 1.0507009873554805 * np.where(
        x > 0, x, 1.6732632423543772 * np.expm1(np.minimum(x, 0)))),
    ("relu6", lambda x: np.clip(x, 0, 6)),
    ("exponential", np.exp),
    ("hard_sigmoid", lambda x: np.clip(x + 3, 0, 6) / 6),
    ("log_softmax", lambda x: x - np.max(x) - np.log(np.sum(np.exp(x - np.max(x))))),
])
def test_activation_names_match_numpy_and_differentiate(name, reference):
    from microtf.testing import check_gradients
    x = np.array([-4.1, -0.7, 0.3, 2.2, 7.3])  # away from the kinks at 0, 3 and 6
    fn = activations.get(name)
    np.testing.assert_allclose(fn(tf.constant(x)).numpy(), reference(x), rtol=1e-12)
    check_gradients(fn, x)
    big = fn(tf.constant([-1e4, 1e4], tf.float32))  # large inputs: no nan from unused branches
    assert not np.any(np.isnan(big.numpy()))


def test_activation_softmax_axis():
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    out = activations.softmax(tf.constant(x), axis=0).numpy()
    np.testing.assert_allclose(out.sum(axis=0), np.ones(3), rtol=1e-6)


def test_no_runtime_warnings_in_dense():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Dense(2, activation="sigmoid")(tf.constant([[1e30, -1e30]]))


# -- the cached weights list follows every change (issue 5: it is read on every training step) ---
def _built_dense(units=2):
    layer = Dense(units)
    layer.build((None, 3))
    return layer


@pytest.mark.parametrize("change", ["setattr", "list_append", "list_setitem", "dict_setitem",
                                    "list_extend", "delattr", "list_pop", "nested_add_weight"])
def test_layer_weights_cache_sees_changes(change):
    class Holder(Layer):
        def __init__(self):
            super().__init__()
            self.blocks, self.named = [], {}
            self.first = _built_dense()

    holder = Holder()
    before = [id(w) for w in holder.trainable_variables]
    assert len(before) == 2 and holder.weights == holder.weights  # served from the cache
    extra = _built_dense(4)
    if change == "setattr":
        holder.second = extra
    elif change == "list_append":
        holder.blocks.append(extra)
    elif change == "list_setitem":
        holder.blocks = [None]
        holder.weights
        holder.blocks[0] = extra
    elif change == "dict_setitem":
        holder.named["x"] = extra
    elif change == "list_extend":
        holder.blocks.extend([extra])
    elif change == "delattr":
        del holder.first
    elif change == "list_pop":
        holder.blocks.append(extra)
        holder.weights
        holder.blocks.pop()
    else:
        holder.first.add_weight(name="late", shape=(1,))
    expected = {"delattr": 0, "list_pop": 2, "nested_add_weight": 3}.get(change, 4)
    assert len(holder.weights) == expected
    assert isinstance(holder.blocks, list) and isinstance(holder.named, dict)


def test_layer_weights_cache_returns_copies_and_follows_trainable():
    layer = _built_dense()
    layer.weights.clear()  # a caller changing the returned list does not change the layer
    assert len(layer.weights) == 2
    layer.kernel.trainable = False
    assert [w.name for w in layer.trainable_weights] == ["bias"]
    layer.trainable = False
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 2


def test_layer_call_does_not_invalidate_weight_caches():
    from microtf.keras.layers import layer as layer_module
    model = Sequential([tf.keras.Input((3,)), Dense(4, activation="relu"), Dense(2)])
    model.trainable_variables
    generation = layer_module._generation[0]
    with tf.GradientTape():
        model(np.ones((5, 3), np.float32), training=True)
    assert layer_module._generation[0] == generation


# -- Dense fuses its bias add with relu/linear (nn_ops.fused_matmul for matrices, -----------------
# -- nn_ops.bias_activation after a batched matmul); sigmoid follows, keeping its logits ---------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("activation,reference", [
    ("relu", lambda z: np.maximum(z, 0)), (tf.nn.relu, lambda z: np.maximum(z, 0)),
    ("sigmoid", lambda z: 1 / (1 + np.exp(-z))), (tf.sigmoid, lambda z: 1 / (1 + np.exp(-z))),
    (None, lambda z: z), ("tanh", np.tanh)])
@pytest.mark.parametrize("shape", [(5, 3), (1, 3), (0, 3), (2, 4, 3)])
def test_dense_fused_bias_activation_matches_numpy(monkeypatch, dtype, activation, reference,
                                                   shape):
    from microtf.ops import nn_ops
    calls = []
    for name in ("bias_activation", "fused_matmul"):
        fused = getattr(nn_ops, name)
        monkeypatch.setattr(nn_ops, name, lambda *a, fused=fused, name=name, **k:
                            calls.append((name, a[-1])) or fused(*a, **k))
    layer = Dense(4, activation=activation, dtype=dtype, bias_initializer="random_normal")
    x = np.random.default_rng(0).standard_normal(shape)
    y = layer(tf.constant(x, dtype=dtype))
    w, b = (v.numpy().astype(np.float64) for v in layer.weights)
    tol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(y.numpy(), reference(x @ w + b), rtol=tol, atol=tol)
    assert y.dtype.name == dtype
    fused = getattr(activation, "__name__", activation)
    assert calls == [("fused_matmul" if len(shape) == 2 else "bias_activation",
                      fused if fused == "relu" else "linear")]  # the rest: bias fused alone
    # Keras 3: a sigmoid activation's output keeps its input (the logits) for the losses
    assert hasattr(y, "_keras_logits") == (activation == "sigmoid")


@pytest.mark.parametrize("activation", ["relu", "sigmoid", None])
def test_dense_fused_bias_activation_gradients(activation):
    layer = Dense(3, activation=activation, dtype="float64", bias_initializer="random_normal")
    x = np.random.default_rng(1).standard_normal((4, 5)) + 0.05  # away from relu's kink
    layer(tf.constant(x))
    # the input's gradient, first and second order, against central differences
    check_gradients(lambda x_: tf.reduce_sum(layer(x_) ** 2), x, order=2)
    # the weights' gradients against the analytic formula: d = 2 act(z) act'(z)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(tf.constant(x)) ** 2)
    gk, gb = tape.gradient(loss, [layer.kernel, layer.bias])
    z = x @ layer.kernel.numpy() + layer.bias.numpy()
    s = 1 / (1 + np.exp(-z))
    y, dact = {"relu": (np.maximum(z, 0), (z > 0) * 1.0), "sigmoid": (s, s * (1 - s)),
               None: (z, np.ones_like(z))}[activation]
    d = 2 * y * dact
    np.testing.assert_allclose(gk.numpy(), x.T @ d, rtol=1e-10)
    np.testing.assert_allclose(gb.numpy(), d.sum(axis=0), rtol=1e-10)


def test_keras_backend_clear_session_restarts_automatic_names():
    tf.keras.layers.Dense(2)
    assert tf.keras.layers.Dense(2).name != "dense"
    tf.keras.backend.clear_session()
    assert tf.keras.layers.Dense(2).name == "dense"
    assert tf.keras.layers.Dense(2).name == "dense_1"

"""tf.Variable (section 2.11) and its reprs (section 2.3)."""
import numpy as np
import pytest

import microtf as tf


# -- construction --------------------------------------------------------------------------------
def test_variable_defaults():
    v = tf.Variable(3.)
    assert v.dtype is tf.float32 and v.shape == () and v.trainable
    assert v.name == "Variable:0"
    assert v.constraint is None
    assert v.device.endswith("CPU:0")
    assert tf.Variable([1.5]).dtype is tf.float32
    assert tf.Variable(1).dtype is tf.int32
    assert tf.Variable(np.zeros(2)).dtype is tf.float64


def test_variable_names_are_not_uniquified():
    assert tf.Variable(1., name="x").name == "x:0"
    assert tf.Variable(2., name="x").name == "x:0"


def test_variable_callable_initial_value():
    v = tf.Variable(lambda: tf.constant([1., 2.]))
    np.testing.assert_array_equal(v.numpy(), [1., 2.])
    assert tf.Variable(lambda: [1, 2], dtype=tf.float64).dtype is tf.float64


def test_variable_none_initial_value():
    with pytest.raises(ValueError) as e:
        tf.Variable(None)
    assert str(e.value) == ("The `initial_value` arg to `tf.Variable` must be specified except "
                            "when you are not providing a `variable_def`. You provided neither.")
    with pytest.raises(ValueError, match="initial_value"):
        tf.Variable()


def test_variable_of_strings():
    v = tf.Variable("abc")
    assert v.dtype is tf.string and v.numpy() == b"abc"


def test_variable_from_list_of_tensors_has_extra_axis():
    if not hasattr(tf.random, "normal"):
        pytest.skip("needs tf.random.normal")
    x = tf.Variable([tf.random.normal([1])])
    assert x.shape == (1, 1) and x.dtype is tf.float32


def test_variable_from_list_of_tensors():
    x = tf.Variable([tf.constant([0.5])])
    assert x.shape == (1, 1)


def test_variable_dtype_argument():
    v = tf.Variable(3, dtype=tf.float32)
    assert v.dtype is tf.float32 and v.numpy() == 3.
    with pytest.raises(TypeError, match="Cannot convert 1.5 to EagerTensor of dtype int32"):
        tf.Variable(1.5, dtype=tf.int32)


def test_variable_does_not_alias_initial_value():
    src = np.array([1., 2.])
    t = tf.constant([1., 2.])
    v, w = tf.Variable(src), tf.Variable(t)
    src[0] = 5.
    w.assign([7., 8.])
    assert v.numpy()[0] == 1.
    np.testing.assert_array_equal(t.numpy(), [1., 2.])


# -- reprs (section 2.3) -------------------------------------------------------------------------
def test_variable_repr():
    v = tf.Variable(3.)
    assert repr(v) == "<tf.Variable 'Variable:0' shape=() dtype=float32, numpy=3.0>"
    assert str(v) == repr(v)
    assert repr(tf.Variable(1., name="x")) == ("<tf.Variable 'x:0' shape=() dtype=float32, "
                                               "numpy=1.0>")
    assert repr(tf.Variable([1, 2])) == ("<tf.Variable 'Variable:0' shape=(2,) dtype=int32, "
                                         "numpy=array([1, 2], dtype=int32)>")


def test_assign_returns_unread_variable():
    v = tf.Variable(1.)
    r = v.assign(2.)
    assert repr(r) == "<tf.Variable 'UnreadVariable' shape=() dtype=float32, numpy=2.0>"
    assert v.numpy() == 2.
    r.assign_add(3.)  # acts on the same variable
    assert v.numpy() == 5. and r.numpy() == 5.
    v.assign(1.)
    assert r.numpy() == 1.  # reading it later reads the variable
    assert v.assign(1.).assign_add(1.).numpy() == 2. and v.numpy() == 2.
    assert isinstance(r + 1., tf.Tensor)


@pytest.mark.parametrize("method", ["assign", "assign_add", "assign_sub"])
def test_read_value_false_returns_none(method):
    v = tf.Variable([1., 2.])
    assert getattr(v, method)([1., 1.], read_value=False) is None
    assert getattr(v, method)([1., 1.], use_locking=True, name="n") is not None


# -- assign* -------------------------------------------------------------------------------------
def test_assign_add_sub_values():
    v = tf.Variable([1., 2.])
    v.assign_add([1., 1.])
    np.testing.assert_array_equal(v.numpy(), [2., 3.])
    v.assign_sub(tf.constant([0.5, 0.5]))
    np.testing.assert_array_equal(v.numpy(), [1.5, 2.5])
    v.assign(np.array([4., 5.]))  # numpy float64 into float32: cast, as TF
    assert v.dtype is tf.float32
    np.testing.assert_array_equal(v.numpy(), [4., 5.])


def test_assign_python_int_to_float_variable():
    v = tf.Variable(1.)
    v.assign(2)
    assert v.numpy() == 2. and type(v.numpy()) is np.float32
    v.assign_add(1)
    assert v.numpy() == 3.


def test_assign_float64_tensor_into_float32():
    v = tf.Variable([1., 2.])
    t = tf.constant([1., 2.], tf.float64)
    with pytest.raises(ValueError) as e:
        v.assign(t)
    assert str(e.value) == ("Tensor conversion requested dtype float32 for Tensor with dtype "
                            "float64: " + repr(t))
    with pytest.raises(ValueError, match="requested dtype float32"):
        v.assign_add(t)


def test_assign_shape_mismatch():
    v = tf.Variable([1., 2.])
    with pytest.raises(ValueError) as e:
        v.assign([1., 2., 3.])
    assert str(e.value) == ("Cannot assign value to variable ' Variable:0': Shape mismatch.The "
                            "variable shape (2,), and the assigned value shape (3,) are "
                            "incompatible.")
    np.testing.assert_array_equal(v.numpy(), [1., 2.])


def test_assign_add_does_not_broadcast():
    v = tf.Variable([1., 2.])
    with pytest.raises(tf.errors.InvalidArgumentError) as e:
        v.assign_add(1.)
    assert str(e.value) == ("Cannot update variable with shape [2] using a Tensor with shape [], "
                            "shapes must be equal. [Op:AssignAddVariableOp]")
    with pytest.raises(tf.errors.InvalidArgumentError, match="AssignSubVariableOp"):
        v.assign_sub([1.])


def test_variable_with_unknown_shape():
    v = tf.Variable(1.0, shape=tf.TensorShape(None))
    v.assign([1., 2.])
    np.testing.assert_array_equal(v.numpy(), [1., 2.])
    v.assign([[1.]])
    assert v.numpy().shape == (1, 1)


def test_variable_explicit_shape_must_match():
    with pytest.raises(ValueError, match="shape"):
        tf.Variable([1., 2.], shape=(3,))


def test_assign_float_to_int_variable_refused():
    with pytest.raises(TypeError, match="Cannot convert 2.5 to EagerTensor of dtype int32"):
        tf.Variable(1).assign(2.5)


@pytest.mark.parametrize("op", ["+=", "-=", "*=", "/="])
def test_inplace_operators_raise(op):
    v = tf.Variable(1.)
    with pytest.raises(RuntimeError) as e:
        exec("v %s 1" % op, {"v": v})
    assert str(e.value) == ("`variable += value` with `tf.Variable`s is not supported. Use "
                            "`variable.assign_add(value)` to modify the variable, or `out = "
                            "variable + value` if you need to get a new output Tensor.")
    assert v.numpy() == 1.


# -- reading, arithmetic, protocols --------------------------------------------------------------
def test_value_read_value_numpy():
    v = tf.Variable([1., 2.])
    for t in (v.value(), v.read_value()):
        assert isinstance(t, tf.Tensor)
        np.testing.assert_array_equal(t.numpy(), [1., 2.])
    a = v.numpy()
    a[0] = 9.
    assert v.numpy()[0] == 1.  # a copy
    old = v.value()
    v.assign([3., 4.])
    np.testing.assert_array_equal(old.numpy(), [1., 2.])  # earlier reads keep their value
    assert type(tf.Variable(2.).numpy()) is np.float32


def test_variable_arithmetic_returns_tensor():
    v = tf.Variable([1., 2., 3.])
    for out in (v + 1., 1. + v, v * v, v - tf.constant(1.)):
        assert isinstance(out, tf.Tensor) and not isinstance(out, tf.Variable)
    np.testing.assert_array_equal((v * v).numpy(), [1., 4., 9.])
    first = v[0]
    assert isinstance(first, tf.Tensor) and first.numpy() == 1.


def test_variable_has_no_item_assignment():
    v = tf.Variable([1., 2.])
    with pytest.raises((TypeError, AttributeError)):
        v[0] = 9.


def test_variable_protocols():
    v = tf.Variable([1., 2.])
    assert len(v) == 2
    assert [float(x) for x in v] == [1., 2.]
    assert float(tf.Variable(2.5)) == 2.5 and int(tf.Variable(2.7)) == 2
    assert bool(tf.Variable(1.))
    with pytest.raises(TypeError, match="Scalar tensor has no len"):
        len(tf.Variable(1.))
    with pytest.raises(TypeError, match="^Variable is unhashable. Instead, use variable.ref"):
        hash(v)
    assert {v.ref(): 1}[v.ref()] == 1
    assert "{:.1f}".format(tf.Variable(2.25)) == "2.2"
    assert tf.is_tensor(v) and not isinstance(v, tf.Tensor)


def test_lab_sgd_step_keeps_shape():
    x = tf.Variable([[0.5]])
    with tf.GradientTape() as tape:
        loss = (x - 2.) * (x - 2.)
    grad = tape.gradient(loss, x)
    assert grad.shape == (1, 1)
    new = x - 0.1 * grad
    assert isinstance(new, tf.Tensor)
    x.assign(new)
    assert x.shape == (1, 1)
    assert x.numpy()[0].shape == (1,)
    np.testing.assert_allclose(x.numpy(), [[0.8]], rtol=1e-6)


def test_trainable_flag():
    v = tf.Variable(1., trainable=False)
    assert not v.trainable
    v.trainable = True
    assert v.trainable

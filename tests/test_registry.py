"""The op registry (public: how users add ops) and the conversion and dtype rules every op call
goes through: mixed dtypes (section 2.2) and broadcasting errors (section 2.5)."""
import re

import numpy as np
import pytest

import microtf as tf
from microtf.eager import registry
from microtf.framework.errors import InvalidArgumentError
from microtf.testing import check_gradients


# -- a user's op, registered from outside the package ------------------------------------------
@tf.register_op("TestCube", dtypes=(tf.float32, tf.float64))
def cube(x):
    """y = x**3."""
    return x * x * x


@tf.register_gradient("TestCube")
def _cube_grad(op, dy):
    """dx = 3 x**2 dy, with microtf ops so that nested tapes differentiate it again."""
    x = op.inputs[0]
    return (dy * 3. * x * x,)


@tf.register_op("TestSplitHalves", same_dtype=False)
def split_halves(x, scale=1.0):
    """Two outputs: the first and second halves of a vector, times `scale` (an attribute)."""
    n = x.shape[0] // 2
    return x[:n] * scale, x[n:] * scale


@tf.register_gradient("TestSplitHalves")
def _split_halves_grad(op, d_first, d_second):
    """dx = concat(d_first, d_second) * scale."""
    scale = op.attrs["scale"]
    return (tf.reshape(tf.stack([d_first, d_second]), [-1]) * scale,)


@tf.register_op("TestNoGradient")
def no_gradient_op(x):
    return x + 1


@tf.register_op("TestRound")
def round_op(x):
    return np.round(x)


tf.not_differentiable("TestRound")


def test_user_op_forward_and_gradient():
    x = tf.constant([1., -2., 0.5])
    np.testing.assert_array_equal(cube(x).numpy(), [1., -8., 0.125])
    assert cube(x).dtype is tf.float32
    check_gradients(cube, np.array([1., -2., 0.5]))
    check_gradients(cube, np.array([[0.3, -1.1, 2.]]), dtype="float32")


def test_user_op_second_order():
    check_gradients(cube, np.array([1., -2., 0.5]), order=2)
    x = tf.Variable(2.)
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            y = cube(x)
        g = inner.gradient(y, x)
    assert g.numpy() == 12. and outer.gradient(g, x).numpy() == 12.


def test_user_op_dtype_rule():
    with pytest.raises(tf.errors.InvalidArgumentError) as e:
        cube(tf.constant([1, 2]))
    assert str(e.value).startswith("Value for attr 'T' of int32 is not in the list of allowed "
                                   "values: float, double ; NodeDef: {{node TestCube}} "
                                   "[Op:TestCube]")
    assert "Hint:" in str(e.value)
    assert cube(2.).dtype is tf.float32  # Python floats are fine


def test_multi_output_op_with_attribute():
    x = tf.Variable([1., 2., 3., 4.])
    with tf.GradientTape() as tape:
        a, b = split_halves(x, scale=2.0)
        y = a * 1. + b * 10.
    np.testing.assert_array_equal(a.numpy(), [2., 4.])
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [2., 2., 20., 20.])
    check_gradients(lambda t: split_halves(t, scale=3.0)[1], np.arange(6.))


def test_op_accepts_name_keyword():
    assert cube(tf.constant(2.), name="my_cube").numpy() == 8.


def test_op_without_gradient_raises_lookup_error():
    x = tf.Variable(1.)
    no_gradient_op(x)  # forward works without a tape
    with tf.GradientTape() as tape:
        y = no_gradient_op(x)
    with pytest.raises(LookupError, match="TestNoGradient") as e:
        tape.gradient(y, x)
    assert "register_gradient" in str(e.value)


def test_not_differentiable_gives_none():
    x = tf.Variable([1.4, 2.6])
    with tf.GradientTape() as tape:
        y = round_op(x) * x
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [1., 3.])  # only the * path
    with tf.GradientTape() as tape:
        y = round_op(x)
    assert tape.gradient(y, x) is None


def test_duplicate_registration_refused():
    with pytest.raises(ValueError, match="'TestCube' is already registered"):
        tf.register_op("TestCube", lambda x: x)


def test_registry_lookup():
    assert registry.get_op("TestCube").function is cube
    assert "TestCube" in registry.registered_ops()
    assert registry.get_gradient("TestCube") is _cube_grad
    assert tf.no_gradient is tf.not_differentiable


@tf.register_op("TestBadGrad")
def bad_grad_op(x, y):
    return x + y


@tf.register_gradient("TestBadGrad")
def _bad_grad(op, dy):
    return (dy,)  # one gradient for two inputs: a bug the tape must report


def test_gradient_must_return_one_value_per_input():
    x = tf.Variable(1.)
    with tf.GradientTape() as tape:
        z = bad_grad_op(x, 2.)
    with pytest.raises(ValueError, match="returned 1 values for 2 inputs"):
        tape.gradient(z, x)


_SEEN = {}


@tf.register_op("TestSpy")
def spy(x, y, k=1):
    return x * y * k


@tf.register_gradient("TestSpy")
def _spy_grad(op, dy):
    _SEEN["needs"] = op.needs_grad
    _SEEN["k"] = op.get_attr("k")
    x, y = op.inputs
    return dy * y * op.attrs["k"], None


def test_needs_grad_and_attrs_reach_the_gradient():
    _SEEN.clear()
    x, c = tf.Variable(2.), tf.constant(5.)
    with tf.GradientTape() as tape:
        z = spy(x, c, k=3)
    assert tape.gradient(z, x).numpy() == 15.
    assert _SEEN == {"needs": (True, False), "k": 3}


def test_ops_not_recorded_without_watched_inputs():
    c = tf.constant(2.)
    with tf.GradientTape() as tape:
        y = cube(c)
    assert tape._entries == [] and tape.gradient(y, c) is None


# -- conversion and dtypes at the op boundary (section 2.2) ------------------------------------
_I, _F = tf.constant(1), tf.constant(1.)


def _mismatch(op, expected, got):
    return re.escape("cannot compute %s as input #1(zero-based) was expected to be a %s tensor "
                     "but is a %s tensor [Op:%s]" % (op, expected, got, op))


@pytest.mark.parametrize("fn,op,expected,got", [
    (lambda: _I + _F, "AddV2", "int32", "float"),
    (lambda: _F + tf.constant(1., tf.float64), "AddV2", "float", "double"),
    (lambda: _I + tf.constant(1, tf.int64), "AddV2", "int32", "int64"),
    (lambda: _I * _F, "Mul", "int32", "float"),
    (lambda: tf.matmul(tf.constant([[1]]), tf.constant([[1.]])), "MatMul", "int32", "float"),
    (lambda: _I + 1.5, "AddV2", "int32", "float"),
    (lambda: tf.add(_I, 1.5), "AddV2", "int32", "float"),
    (lambda: tf.add(1, 2.5), "AddV2", "int32", "float"),
])
def test_mixed_dtypes_invalid_argument(fn, op, expected, got):
    with pytest.raises(tf.errors.InvalidArgumentError, match="^" + _mismatch(op, expected, got)):
        fn()


def test_equal_mixed_dtypes_raises(require):
    require("equal")
    with pytest.raises(tf.errors.InvalidArgumentError, match=_mismatch("Equal", "float",
                                                                       "double")):
        tf.equal(_F, tf.constant(1., tf.float64))


def test_invalid_argument_error_hierarchy():
    assert issubclass(tf.errors.InvalidArgumentError, tf.errors.OpError)
    assert issubclass(tf.errors.InvalidArgumentError, ValueError)
    assert issubclass(tf.errors.OpError, Exception)
    with pytest.raises(tf.errors.OpError) as e:
        _I + _F
    assert e.value.op == "AddV2" and "Hint:" in e.value.message


@pytest.mark.parametrize("fn", [
    lambda: _I - 1.5, lambda: _I * 1.5, lambda: _I ** 1.5, lambda: _I // 1.5,
    lambda: 1.5 + _I, lambda: 1.5 * _I,
    lambda: tf.subtract(_I, 1.5), lambda: tf.multiply(_I, 1.5), lambda: tf.pow(_I, 1.5),
])
def test_python_float_into_int_tensor_type_error(fn):
    with pytest.raises(TypeError, match="^Cannot convert 1.5 to EagerTensor of dtype int32$"):
        fn()


@pytest.mark.parametrize("fn", [lambda: _I / 1.5, lambda: _I / _F, lambda: tf.divide(_I, 1.5)])
def test_divide_mixed_dtypes_type_error(fn):
    with pytest.raises(TypeError, match=re.escape("`x` and `y` must have the same dtype, got "
                                                  "tf.int32 != tf.float32.")):
        fn()


@pytest.mark.parametrize("fn,dtype,value", [
    (lambda: _F + 1, tf.float32, 2.),
    (lambda: 1 + _F, tf.float32, 2.),
    (lambda: tf.constant(1.5, tf.float64) + 1, tf.float64, 2.5),
    (lambda: tf.add(1.5, 2), tf.float32, 3.5),
    (lambda: _I + True, tf.int32, 2),
    (lambda: _I + np.float64(2.), tf.int32, 3),
    (lambda: tf.constant(2 ** 31 - 1) + 1, tf.int32, -2 ** 31),
    (lambda: tf.constant(1) + 2 ** 40, tf.int32, 1),
])
def test_scalar_operand_takes_tensor_dtype(fn, dtype, value):
    out = fn()
    assert out.dtype is dtype and out.numpy() == value


def test_numpy_operands_cast_unsafely():
    out = tf.constant([1, 2]) + np.array([1.5, 2.])
    assert out.dtype is tf.int32
    np.testing.assert_array_equal(out.numpy(), [2, 4])
    out = tf.constant([1., 2.]) + np.array([1., 2.])
    assert out.dtype is tf.float32
    out = np.array([1., 2.]) + tf.constant([1., 2.])
    assert isinstance(out, tf.Tensor) and out.dtype is tf.float32


def test_bool_plus_int_refused():
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match="^Value for attr 'T' of bool is not in the list of allowed values"):
        tf.constant(True) + 1


def test_string_concatenation():
    assert (tf.constant("a") + "b").numpy() == b"ab"


@pytest.mark.parametrize("name", ["sigmoid", "exp", "sqrt"])
def test_float_only_ops_refuse_ints(require, name):
    require(name)
    with pytest.raises(tf.errors.InvalidArgumentError) as e:
        getattr(tf, name)(tf.constant([1, 2]))
    op = {"sigmoid": "Sigmoid", "exp": "Exp", "sqrt": "Sqrt"}[name]
    assert str(e.value).startswith("Value for attr 'T' of int32 is not in the list of allowed "
                                   "values: ")
    assert "{{node %s}}" % op in str(e.value) and "tf.cast" in str(e.value)


def test_softmax_refuses_ints():
    if not hasattr(tf.nn, "softmax"):
        pytest.skip("needs tf.nn.softmax")
    with pytest.raises(tf.errors.InvalidArgumentError, match="Value for attr 'T' of int32"):
        tf.nn.softmax(tf.constant([1, 2]))


def test_sigmoid_of_python_float():
    out = tf.sigmoid(0.)
    assert out.dtype is tf.float32 and out.numpy() == 0.5


# -- broadcasting (section 2.5) -----------------------------------------------------------------
@pytest.mark.parametrize("sx,sy", [((2, 3), (3,)), ((2, 1), (1, 3)), ((3,), (2, 3)),
                                   ((), (2, 3)), ((2, 3), (1, 1))])
def test_broadcasting_shapes(sx, sy):
    out = tf.zeros(sx) + tf.ones(sy)
    assert out.shape == (2, 3)
    np.testing.assert_array_equal(out.numpy(), np.ones((2, 3)))


@pytest.mark.parametrize("op,fn", [("AddV2", lambda a, b: a + b), ("Mul", lambda a, b: a * b),
                                   ("Sub", lambda a, b: a - b)])
def test_incompatible_shapes(op, fn):
    with pytest.raises(tf.errors.InvalidArgumentError) as e:
        fn(tf.zeros([2, 3]), tf.zeros([2]))
    assert str(e.value) == "Incompatible shapes: [2,3] vs. [2] [Op:%s]" % op


def test_equality_of_incompatible_shapes_is_false(require):
    require("equal")
    assert (tf.zeros([2, 3]) == tf.zeros([2])) is False
    assert (tf.zeros([2]) != tf.zeros([3])) is True
    assert (tf.zeros([2]) == None) is False  # noqa: E711 - the operator itself is under test


# -- the compiled call path's own conversions (microtf/eager/_executor.pyx) ------------------------
def test_variables_and_scalars_in_c_match_the_python_conversion():
    # Variables are read (and recorded), Python scalars take the tensor's dtype, whichever side.
    v = tf.Variable([[1.5, -2.0]])
    t = tf.constant([[0.25, 4.0]])
    for value, want in [(v - 4, [[-2.5, -6.0]]), (4 - v, [[2.5, 6.0]]), (v * t, [[0.375, -8.0]]),
                        (tf.add(2, t), [[2.25, 6.0]]), (tf.multiply(t, 0.5), [[0.125, 2.0]])]:
        assert value.dtype == tf.float32
        np.testing.assert_array_equal(value.numpy(), np.array(want, np.float32))
    i = tf.constant([7, 8], dtype=tf.int64)
    assert (i - 2).dtype == tf.int64 and (i - 2).numpy().tolist() == [5, 6]
    with tf.GradientTape() as tape:
        y = 3.0 * v * v  # two reads of v: two ReadVariableOp entries
    assert [e[0] for e in tape._entries].count("ReadVariableOp") == 2
    np.testing.assert_array_equal(tape.gradient(y, v).numpy(), 6 * v.numpy())


def test_scalars_that_do_not_fit_still_raise_tensorflows_errors():
    i = tf.constant([1, 2])
    with pytest.raises(TypeError, match="Cannot convert 1.5 to EagerTensor of dtype int32"):
        i * 1.5  # a fractional float beside an int tensor
    with pytest.raises(InvalidArgumentError):
        tf.add(i, 2.5)  # AddV2 raises TF's InvalidArgumentError instead
    with pytest.raises(InvalidArgumentError, match="int32.*float|float.*int32"):
        tf.add(i, tf.constant([1.0, 2.0]))


def test_three_input_ops_take_variables_and_check_dtypes():
    from microtf.ops.nn_ops import fused_matmul
    a = tf.constant(np.ones((2, 3), np.float32))
    w = tf.Variable(np.full((3, 4), 0.5, np.float32))
    b = tf.Variable(np.arange(4, dtype=np.float32))
    with tf.GradientTape() as tape:
        y = fused_matmul(a, w, b, "linear")
    assert [e[0] for e in tape._entries] == ["ReadVariableOp", "ReadVariableOp", "_FusedMatMul"]
    np.testing.assert_array_equal(y.numpy(), np.full((2, 4), 1.5, np.float32) + np.arange(4))
    gw, gb = tape.gradient(y, [w, b])
    np.testing.assert_array_equal(gb.numpy(), np.full(4, 2.0, np.float32))
    with pytest.raises(InvalidArgumentError, match="input #2.*float tensor but is a double"):
        fused_matmul(a, w, tf.Variable(np.zeros(4)), "linear")  # float64 bias

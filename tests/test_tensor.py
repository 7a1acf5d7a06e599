"""Tensor: tf.constant's dtype rules (2.1), printing (2.3), shapes (2.4), protocols (2.9)."""
import warnings

import numpy as np
import pytest

import microtf as tf


# -- tf.constant: default dtypes (section 2.1) ---------------------------------------------------
@pytest.mark.parametrize("value,dtype,shape", [
    (1, tf.int32, ()),
    ([1, 2], tf.int32, (2,)),
    (2 ** 31 - 1, tf.int32, ()),
    (-(2 ** 31), tf.int32, ()),
    (2 ** 31, tf.int64, ()),
    (2 ** 40, tf.int64, ()),
    ([1, 2 ** 40], tf.int64, (2,)),
    (-(2 ** 63), tf.int64, ()),
    (1.5, tf.float32, ()),
    ([1, 2.], tf.float32, (2,)),
    ([], tf.float32, (0,)),
    ([[], []], tf.float32, (2, 0)),
    (True, tf.bool, ()),
    ([True, False], tf.bool, (2,)),
    ("a", tf.string, ()),
    (np.array([1.0]), tf.float64, (1,)),
    (np.float64(1), tf.float64, ()),
    (np.float32(1), tf.float32, ()),
    (np.array([1]), tf.int64, (1,)),
    (np.array([1], np.int32), tf.int32, (1,)),
    (np.array([1], np.uint8), tf.uint8, (1,)),
    (np.array([1], np.float16), tf.float16, (1,)),
    (np.array(True), tf.bool, ()),
])
def test_constant_default_dtype(value, dtype, shape):
    t = tf.constant(value)
    assert t.dtype is dtype
    assert t.shape == shape
    if dtype is not tf.string:
        np.testing.assert_array_equal(t.numpy(), np.array(value, dtype=dtype.as_numpy_dtype))


@pytest.mark.xfail(strict=True, reason="microtf has no complex dtypes (TF gives complex128)")
def test_constant_complex_is_complex128():
    assert tf.constant(1 + 2j).dtype == "complex128"


def test_constant_complex_error_is_explicit():
    with pytest.raises(TypeError, match="complex"):
        tf.constant(1 + 2j)


def test_constant_int64_overflow():
    with pytest.raises(ValueError, match="^Can't convert Python sequence with out-of-range "
                                         "integer to Tensor.$"):
        tf.constant(2 ** 63)
    with pytest.raises(ValueError, match="out-of-range integer"):
        tf.constant([1, 2 ** 63])


@pytest.mark.parametrize("value", [[[1], [2, 3]], [[1, 2], 3], [[[1.]], [[1.], [2.]]]])
def test_constant_ragged(value):
    with pytest.raises(ValueError, match="^Can't convert non-rectangular Python sequence to "
                                         "Tensor.$"):
        tf.constant(value)


def test_constant_float_to_int_refused():
    with pytest.raises(TypeError, match="^Cannot convert 1.5 to EagerTensor of dtype int32$"):
        tf.constant(1.5, tf.int32)
    with pytest.raises(TypeError, match="dtype int32"):
        tf.constant([1, 1.5], tf.int32)


def test_constant_int_to_float_allowed():
    t = tf.constant(1, tf.float32)
    assert t.dtype is tf.float32 and t.numpy() == 1.0
    assert tf.constant(2.0, tf.int32).numpy() == 2  # integral floats are accepted
    assert tf.constant([1, 2], dtype="float64").dtype is tf.float64


def test_constant_shape_mismatch_message():
    with pytest.raises(TypeError) as e:
        tf.constant([1, 2], shape=(2, 2))
    assert str(e.value) == ("Eager execution of tf.constant with unsupported shape. Tensor [1 2] "
                            "(converted from [1, 2]) has 2 elements, but got `shape` (2, 2) "
                            "with 4 elements).")


def test_constant_shape_fill_and_reshape():
    t = tf.constant(0, shape=(2, 3))
    assert t.dtype is tf.int32 and t.shape == (2, 3)
    np.testing.assert_array_equal(t.numpy(), np.zeros((2, 3), np.int32))
    np.testing.assert_array_equal(tf.constant(7., shape=[2]).numpy(), [7., 7.])
    np.testing.assert_array_equal(tf.constant([1, 2, 3, 4], shape=(2, 2)).numpy(),
                                  [[1, 2], [3, 4]])
    assert tf.constant([], shape=(0, 3)).shape == (0, 3)


def test_constant_list_of_tensors_is_an_error():
    t1, t2 = tf.constant(1.), tf.constant(2.)
    with pytest.raises(ValueError, match="Scalar tensor has no len()") as e:
        tf.constant([t1, t2])
    assert "tf.stack" in str(e.value)  # the hint


def test_convert_to_tensor_packs_tensors():
    t = tf.convert_to_tensor([tf.constant(1.), 2.])
    assert t.dtype is tf.float32 and t.shape == (2,)
    np.testing.assert_array_equal(t.numpy(), [1., 2.])
    m = tf.convert_to_tensor([[tf.constant(1.), tf.constant(2.)], [3., 4.]])
    assert m.shape == (2, 2)


def test_op_inputs_are_packed(require):
    require("sigmoid")
    out = tf.sigmoid([tf.constant(0.), tf.constant(0.)])
    np.testing.assert_allclose(out.numpy(), [0.5, 0.5])


def test_zeros_ones_default_float32():
    assert tf.zeros([2]).dtype is tf.float32
    assert tf.ones([2, 3]).dtype is tf.float32


def test_random_normal_default_float32():
    if not hasattr(tf.random, "normal"):
        pytest.skip("needs tf.random.normal")
    assert tf.random.normal([2]).dtype is tf.float32


def test_constant_strings():
    t = tf.constant("Tennis")
    assert t.dtype is tf.string and t.numpy() == b"Tennis"
    v = tf.constant(["Tennis", "Basketball"])
    arr = v.numpy()
    assert arr.dtype == object and list(arr) == [b"Tennis", b"Basketball"]
    assert tf.constant(np.array(["a", "bc"])).numpy().tolist() == [b"a", b"bc"]
    assert tf.constant(b"raw").numpy() == b"raw"


def test_constant_from_tensor_copies_and_casts():
    t = tf.constant([1, 2])
    assert tf.constant(t, tf.float32).dtype is tf.float32
    assert tf.constant(t).dtype is tf.int32


# -- numpy inputs: any layout, never aliased -----------------------------------------------------
def _layouts():
    base = np.arange(30, dtype=np.float64).reshape(5, 6)
    readonly = base.copy()
    readonly.flags.writeable = False
    return {
        "strided": base[::2, 1::3],
        "transposed": base.T,
        "fortran": np.asfortranarray(base),
        "readonly": readonly,
        "broadcast": np.broadcast_to(np.arange(3.0), (4, 3)),
        "negative-stride": base[::-1, ::-1],
        "0-d view": base[2, 3, ...],
    }


@pytest.mark.parametrize("name", list(_layouts()))
def test_constant_from_numpy_layouts(name):
    src = _layouts()[name]
    t = tf.constant(src)
    assert t.dtype is tf.float64 and t.shape == src.shape
    np.testing.assert_array_equal(t.numpy(), src)
    assert t._value.flags.c_contiguous
    assert not np.shares_memory(t._value, src)


def test_constant_does_not_alias_source():
    src = np.array([1.0, 2.0, 3.0], np.float32)
    t = tf.constant(src)
    v = tf.Variable(src)
    c = tf.convert_to_tensor(src)
    src[0] = 99.0
    for x in (t, v, c):
        np.testing.assert_array_equal(x.numpy(), [1.0, 2.0, 3.0])


def test_constant_from_numpy_with_dtype_casts():
    t = tf.constant(np.array([1.5, 2.5]), tf.float32)
    assert t.dtype is tf.float32
    np.testing.assert_array_equal(t.numpy(), np.array([1.5, 2.5], np.float32))


def test_extreme_values_survive_conversion():
    vals = [np.inf, -np.inf, np.nan, 1e38, 5e-324, -0.0]
    t = tf.constant(vals, tf.float64)
    np.testing.assert_array_equal(t.numpy(), np.array(vals))
    assert np.signbit(t.numpy()[-1])
    assert tf.constant(5e-324, tf.float64).numpy() != 0  # subnormal kept


def test_import_does_not_flush_subnormals():
    assert (np.array([1e-310]) * 1.0)[0] != 0
    assert np.float32(1e-40) * np.float32(1.0) != 0


# -- .numpy() ------------------------------------------------------------------------------------
def test_numpy_scalars_for_0d():
    assert type(tf.constant(1.5).numpy()) is np.float32
    assert type(tf.constant(1).numpy()) is np.int32
    assert type(tf.constant(1.5, tf.float64).numpy()) is np.float64
    assert type(tf.constant(True).numpy()) is np.bool_


def test_numpy_is_a_writable_copy():
    t = tf.constant([1.0, 2.0])
    a = t.numpy()
    assert a.flags.writeable
    a[0] = 42.0
    np.testing.assert_array_equal(t.numpy(), [1.0, 2.0])
    assert t.numpy() is not t.numpy()


def test_tensor_cannot_be_constructed_directly():
    with pytest.raises(TypeError, match="tf.constant"):
        tf.Tensor([1.0])


# -- printing (section 2.3) ---------------------------------------------------------------------
@pytest.mark.parametrize("value,dtype,text", [
    (76, None, "tf.Tensor(76, shape=(), dtype=int32)"),
    (2 ** 0.5, None, "tf.Tensor(1.4142135, shape=(), dtype=float32)"),
    (1.41421356237, tf.float64, "tf.Tensor(1.41421356237, shape=(), dtype=float64)"),
    ("Tennis", None, "tf.Tensor(b'Tennis', shape=(), dtype=string)"),
    (["Tennis", "Basketball"], None,
     "tf.Tensor([b'Tennis' b'Basketball'], shape=(2,), dtype=string)"),
    (True, None, "tf.Tensor(True, shape=(), dtype=bool)"),
    ([True, False], None, "tf.Tensor([ True False], shape=(2,), dtype=bool)"),
    ([3.141592, 1.414213, 2.71821], tf.float64,
     "tf.Tensor([3.141592 1.414213 2.71821 ], shape=(3,), dtype=float64)"),
    ([[1., 2, 3, 4], [5, 6, 7, 8]], None,
     "tf.Tensor(\n[[1. 2. 3. 4.]\n [5. 6. 7. 8.]], shape=(2, 4), dtype=float32)"),
    ([], None, "tf.Tensor([], shape=(0,), dtype=float32)"),
    (np.arange(2000, dtype=np.int32), None,
     "tf.Tensor([   0    1    2 ... 1997 1998 1999], shape=(2000,), dtype=int32)"),
])
def test_str(value, dtype, text):
    assert str(tf.constant(value, dtype)) == text


@pytest.mark.parametrize("value,dtype,text", [
    (76, None, "<tf.Tensor: shape=(), dtype=int32, numpy=76>"),
    (2 ** 0.5, None, "<tf.Tensor: shape=(), dtype=float32, numpy=1.4142135381698608>"),
    (True, None, "<tf.Tensor: shape=(), dtype=bool, numpy=True>"),
    (["Tennis", "Basketball"], None, "<tf.Tensor: shape=(2,), dtype=string, "
     "numpy=array([b'Tennis', b'Basketball'], dtype=object)>"),
    ([[1., 2, 3, 4], [5, 6, 7, 8]], None, "<tf.Tensor: shape=(2, 4), dtype=float32, numpy=\n"
     "array([[1., 2., 3., 4.],\n       [5., 6., 7., 8.]], dtype=float32)>"),
    ([2, 3], None, "<tf.Tensor: shape=(2,), dtype=int32, numpy=array([2, 3], dtype=int32)>"),
])
def test_repr(value, dtype, text):
    assert repr(tf.constant(value, dtype)) == text


def test_format_delegates_to_numpy():
    assert "{}".format(tf.constant(1.5)) == "1.5"
    assert f"{tf.constant([1, 2])}" == "[1 2]"
    assert "{:.2f}".format(tf.constant(3.14159)) == "3.14"
    assert "{}".format(tf.shape(tf.zeros([2]))) == "[2]"
    assert "{:>5}".format(tf.constant(7)) == "    7"


# -- shapes (section 2.4) -----------------------------------------------------------------------
def test_tf_shape_is_int32_tensor():
    x = tf.zeros([2, 3])
    s = tf.shape(x)
    assert repr(s) == "<tf.Tensor: shape=(2,), dtype=int32, numpy=array([2, 3], dtype=int32)>"
    scalar = tf.shape(tf.constant(1.))
    assert scalar.shape == (0,) and scalar.dtype is tf.int32
    s64 = tf.shape(x, out_type=tf.int64)
    assert s64.dtype is tf.int64 and s64.numpy().tolist() == [2, 3]
    r = tf.rank(x)
    assert r.dtype is tf.int32 and r.shape == () and r.numpy() == 2
    assert tf.rank(tf.constant(1.)).numpy() == 0


def test_tensor_shape_attribute():
    s = tf.zeros([2, 3]).shape
    assert isinstance(s, tf.TensorShape)
    assert repr(s) == "TensorShape([2, 3])"
    assert str(s) == "(2, 3)" and format(s) == "(2, 3)" and f"{s}" == "(2, 3)"
    assert s.as_list() == [2, 3]
    assert s.rank == 2 and s.ndims == 2 and len(s) == 2
    assert s[0] == 2 and type(s[1]) is int
    assert s == (2, 3) and s == [2, 3] and s != (3, 2)
    assert repr(tf.constant(1.).shape) == "TensorShape([])"
    assert str(tf.constant([1.]).shape) == "(1,)"
    assert tf.zeros([2, 3]).ndim == 2


def test_tensor_shape_partial():
    s = tf.TensorShape([32, None])
    assert s.as_list() == [32, None]
    assert str(s) == "(32, None)" and repr(s) == "TensorShape([32, None])"
    assert s.num_elements() is None
    assert tf.TensorShape([2, 3, 4]).num_elements() == 24
    assert tf.TensorShape([]).num_elements() == 1
    assert not s.is_fully_defined()
    assert s.is_compatible_with([32, 7]) and not s.is_compatible_with([31, 7])
    assert tf.TensorShape(None).rank is None


def test_tensor_shape_errors():
    with pytest.raises(TypeError, match="Dimension value must be integer or None"):
        tf.TensorShape([2.5])
    with pytest.raises(ValueError, match="-1"):
        tf.TensorShape([-1])


# -- protocols (section 2.9) --------------------------------------------------------------------
def test_len_and_iter():
    t = tf.constant([[1, 2], [3, 4], [5, 6]])
    assert len(t) == 3
    rows = list(t)
    assert len(rows) == 3 and all(isinstance(r, tf.Tensor) for r in rows)
    np.testing.assert_array_equal(rows[2].numpy(), [5, 6])
    items = list(tf.constant([1., 2.]))
    assert items[0].shape == () and items[1].numpy() == 2.
    assert list(tf.zeros([0, 3])) == []


def test_len_iter_scalar_errors():
    with pytest.raises(TypeError, match="^Scalar tensor has no len\\(\\)$"):
        len(tf.constant(1))
    with pytest.raises(TypeError, match="^Cannot iterate over a scalar tensor.$"):
        iter(tf.constant(1))


def test_float_int_bool():
    assert float(tf.constant(2.5)) == 2.5
    assert int(tf.constant(2.7)) == 2
    assert int(tf.constant(-2.7)) == -2
    assert bool(tf.constant(1)) is True and bool(tf.constant(0.)) is False
    with pytest.raises(TypeError, match="only 0-dimensional arrays can be converted to Python "
                                        "scalars"):
        float(tf.constant([2.5]))
    with pytest.raises(ValueError, match="The truth value of an array with more than one element "
                                         "is ambiguous. Use a.any\\(\\) or a.all\\(\\)"):
        bool(tf.constant([1, 2]))


def test_if_tensor_equals(require):
    require("equal")
    t = tf.constant(1)
    assert bool(t == 1)
    if t == 1:
        pass
    else:
        pytest.fail("`if t == 1` should be true")


def test_hash_error_and_ref():
    t = tf.constant(1)
    with pytest.raises(TypeError, match="^Tensor is unhashable. Instead, use tensor.ref\\(\\) as "
                                        "the key.$"):
        hash(t)
    with pytest.raises(TypeError):
        _ = {t: 1}
    d = {t.ref(): "x"}
    assert d[t.ref()] == "x" and t.ref().deref() is t
    assert tf.constant(1).ref() != t.ref()


def test_numpy_conversion_protocols():
    t = tf.constant([0.5, 2.0])
    for a in (np.array(t), np.asarray(t)):
        assert type(a) is np.ndarray and a.dtype == np.float32
        np.testing.assert_array_equal(a, [0.5, 2.0])
    clipped = np.clip(t, 0, 1)
    assert type(clipped) is np.ndarray
    np.testing.assert_array_equal(clipped, [0.5, 1.0])
    assert np.mean(t) == pytest.approx(1.25)
    np.testing.assert_allclose(np.exp(t), np.exp([0.5, 2.0]), rtol=1e-6)
    assert hasattr(t, "__array__")


def test_array_protocol_dtype_and_copy():
    t = tf.constant([0.5, 2.0])
    assert np.array(t, dtype=np.float64).dtype == np.float64
    a = np.array(t)  # copy=True: a private writable copy
    a[0] = 7.
    assert t.numpy()[0] == 0.5
    view = np.asarray(t)  # no copy: must be read-only, tensors are immutable
    assert not view.flags.writeable
    with pytest.raises(ValueError):
        view[0] = 1.
    nocopy = np.asarray(t, copy=False)
    assert not nocopy.flags.writeable
    np.testing.assert_array_equal(nocopy, [0.5, 2.0])
    assert t.__array__(np.float64, copy=True).dtype == np.float64


def test_array_of_variable_without_deprecation_warning():
    v = tf.Variable([1.0, 2.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = np.array(v)
        b = np.asarray(v)
    np.testing.assert_array_equal(a, [1.0, 2.0])
    np.testing.assert_array_equal(b, [1.0, 2.0])
    a[0] = 9.  # writable copy, variable untouched
    assert v.numpy()[0] == 1.0


def test_dlpack():
    t = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    assert hasattr(t, "__dlpack__")
    a = np.from_dlpack(t)
    np.testing.assert_array_equal(a, t.numpy())
    assert a.dtype == np.float32


def test_isinstance_rules():
    assert isinstance(tf.constant(1), tf.Tensor)
    v = tf.Variable(1.)
    assert not isinstance(v, tf.Tensor)
    assert tf.is_tensor(v) and tf.is_tensor(tf.constant(1.))
    assert not tf.is_tensor(1.0) and not tf.is_tensor(np.array(1.0))
    assert isinstance(v + 1., tf.Tensor)


def test_ndarray_plus_tensor_gives_tensor():
    out = np.array([1., 2.], np.float32) + tf.constant([1., 2.])
    assert isinstance(out, tf.Tensor)
    np.testing.assert_array_equal(out.numpy(), [2., 4.])


def test_tensor_is_immutable_and_copy_is_identity():
    import copy
    t = tf.constant([1.0])
    assert copy.copy(t) is t and copy.deepcopy(t) is t
    with pytest.raises((TypeError, AttributeError)):
        t[0] = 2.0


def test_pickle_roundtrip():
    import pickle
    t = tf.constant([[1.5, 2.5]], tf.float64)
    u = pickle.loads(pickle.dumps(t))
    assert u.dtype is tf.float64
    np.testing.assert_array_equal(u.numpy(), t.numpy())


def test_device_attribute():
    assert tf.constant(1.).device.endswith("CPU:0")


# -- indexing (section 2.8) ---------------------------------------------------------------------
_M = np.arange(12).reshape(3, 4)


@pytest.mark.parametrize("key", [
    1, -1, slice(1, None), slice(None, None, -1), slice(None, None, 2), (Ellipsis, 0),
    (None, 1), (1, None), (slice(None), 2), (-1, -2), np.int64(2), (np.int32(0), slice(1, 3)),
])
def test_indexing_matches_numpy(key):
    t = tf.constant(_M)
    out = t[key]
    assert isinstance(out, tf.Tensor) and out.dtype is tf.int64
    np.testing.assert_array_equal(out.numpy(), _M[key])


def test_indexing_with_tensors():
    t = tf.constant([10, 20, 30])
    assert t[tf.constant(1)].numpy() == 20
    assert t[tf.newaxis].shape == (1, 3)
    np.testing.assert_array_equal(t[tf.constant([True, False, True])].numpy(), [10, 30])


def test_index_out_of_range():
    with pytest.raises(tf.errors.InvalidArgumentError) as e:
        tf.constant([1, 2, 3])[5]
    assert str(e.value) == "slice index 5 of dimension 0 out of bounds. [Op:StridedSlice]"
    with pytest.raises(tf.errors.InvalidArgumentError, match="slice index -4 of dimension 0"):
        tf.constant([1, 2, 3])[-4]
    with pytest.raises(tf.errors.InvalidArgumentError, match="dimension 1 out of bounds"):
        tf.constant(_M)[0, 4]


def test_list_index_is_not_fancy_indexing():
    with pytest.raises(tf.errors.InvalidArgumentError, match="^Index out of range using input "
                                                            "dim 1; input has only 1 dims") as e:
        tf.constant([1, 2, 3])[[0, 2]]
    assert "tf.gather" in str(e.value)


def test_gradient_flows_through_slicing():
    v = tf.Variable([1., 2., 3.])
    with tf.GradientTape() as tape:
        y = v[1] * 5.
    np.testing.assert_array_equal(tape.gradient(y, v).numpy(), [0., 5., 0.])


def test_no_item_assignment():
    t = tf.constant([1., 2.])
    assert not hasattr(t, "__setitem__")
    with pytest.raises(TypeError):
        t[0] = 9.
    np.testing.assert_array_equal(t.numpy(), [1., 2.])


@pytest.mark.xfail(strict=True, reason="slices of variables have no .assign yet")
def test_variable_slice_assign():
    v = tf.Variable([1., 2., 3.])
    v[0].assign(9.)
    np.testing.assert_array_equal(v.numpy(), [9., 2., 3.])

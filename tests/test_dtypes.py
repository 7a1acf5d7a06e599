"""DType objects: names, reprs, equality with numpy and strings, properties (section 2.1)."""
import numpy as np
import pytest

import microtf as tf

TABLE = [  # dtype, name, numpy type, size, floating, integer
    (tf.float16, "float16", np.float16, 2, True, False),
    (tf.float32, "float32", np.float32, 4, True, False),
    (tf.float64, "float64", np.float64, 8, True, False),
    (tf.int8, "int8", np.int8, 1, False, True),
    (tf.int16, "int16", np.int16, 2, False, True),
    (tf.int32, "int32", np.int32, 4, False, True),
    (tf.int64, "int64", np.int64, 8, False, True),
    (tf.uint8, "uint8", np.uint8, 1, False, True),
    (tf.bool, "bool", np.bool_, 1, False, False),
]


@pytest.mark.parametrize("dt,name,np_type,size,floating,integer", TABLE)
def test_dtype_properties(dt, name, np_type, size, floating, integer):
    assert dt.name == name
    assert repr(dt) == "tf." + name
    assert str(dt) == "<dtype: '%s'>" % name
    assert dt.as_numpy_dtype is np_type
    assert dt.size == size
    assert dt.is_floating is floating
    assert dt.is_integer is integer
    assert dt.base_dtype is dt


@pytest.mark.parametrize("dt,name,np_type,size,floating,integer", TABLE)
def test_dtype_equality_with_numpy_and_strings(dt, name, np_type, size, floating, integer):
    assert dt == np_type
    assert dt == np.dtype(np_type)
    assert dt == name
    assert not (dt != name)
    assert tf.as_dtype(name) is dt
    assert tf.as_dtype(np_type) is dt
    assert tf.as_dtype(np.dtype(np_type)) is dt
    assert hash(dt) == hash(tf.as_dtype(name))  # usable as dict keys


def test_dtype_inequality():
    assert tf.float32 != tf.float64
    assert tf.float32 != np.float64
    assert tf.float32 != "int32"
    assert tf.int32 != None  # noqa: E711 - the comparison itself is under test
    assert not (tf.float32 == "no-such-dtype")
    assert tf.float32 != object()


def test_dtype_aliases_and_python_types():
    assert tf.double is tf.float64 and tf.half is tf.float16
    assert tf.as_dtype("double") is tf.float64
    assert tf.as_dtype(float) is tf.float32
    assert tf.as_dtype(int) is tf.int32
    assert tf.as_dtype(bool) is tf.bool
    assert tf.as_dtype(str) is tf.string


def test_dtype_string():
    assert repr(tf.string) == "tf.string" and str(tf.string) == "<dtype: 'string'>"
    assert not tf.string.is_floating and not tf.string.is_integer
    assert tf.as_dtype(np.dtype("S3")) is tf.string


def test_dtype_min_max():
    assert tf.int32.max == 2 ** 31 - 1 and tf.int32.min == -(2 ** 31)
    assert tf.float32.max == np.finfo(np.float32).max


def test_as_dtype_unknown_names_supported():
    with pytest.raises(TypeError, match="float32") as e:
        tf.as_dtype("float128x")
    assert "float128x" in str(e.value)


def test_dtype_pickles_to_same_object():
    import pickle
    assert pickle.loads(pickle.dumps(tf.float32)) is tf.float32

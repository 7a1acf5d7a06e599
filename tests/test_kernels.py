"""Tests for microtf._kernels (csrc/): numpy float64 is the oracle; imports only the kernels."""

import warnings

import numpy as np
import pytest

from microtf import _kernels as K
from microtf._kernels import elementwise as E

FLOATS = [np.float32, np.float64]
# Forward tolerances per dtype: float32 results are compared with a float64 computation.
RTOL = {np.float32: 1e-5, np.float64: 1e-12}
ATOL = {np.float32: 1e-6, np.float64: 1e-13}


def rand(shape, dtype, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def assert_close(got, want, dtype, scale=1.0):
    np.testing.assert_allclose(got, want, rtol=RTOL[dtype], atol=ATOL[dtype] * scale)


@pytest.fixture(params=[0, 1, 2], ids=["sse2", "avx2", "avx512"])
def level(request):
    """Run a test on each SIMD path of csrc/elementwise.pyx (capped at what this CPU has)."""
    previous = E._simd_level(request.param)
    yield E._simd_level()
    E._simd_level(previous)


# ------------------------------------------------------------------------------ build sanity

def test_kernels_keep_subnormals():
    # A kernel built with -ffast-math would set flush-to-zero for the whole process.
    assert np.array([1e-310]) * 1.0 != 0
    assert np.float32(1e-45) * np.float32(1.0) != 0


def test_kernels_export_api():
    for name in ["matmul", "matmul_forward", "add", "subtract", "multiply", "divide", "binary",
                 "sum_rows", "sigmoid", "sigmoid_backward", "bias_activation",
                 "bias_activation_backward"]:
        assert callable(getattr(K, name))


# ------------------------------------------------------------------------------ matmul

def _mm(a, b, out, ta=False, tb=False, beta=0.0):
    want = (a.T if ta else a).astype(np.float64) @ (b.T if tb else b).astype(np.float64)
    return want + beta * out.astype(np.float64)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("m,k,n", [(1, 1, 1), (3, 5, 7), (17, 33, 9), (1, 64, 1), (64, 1, 32)])
@pytest.mark.parametrize("ta", [False, True])
@pytest.mark.parametrize("tb", [False, True])
def test_matmul_matches_numpy(dtype, m, k, n, ta, tb):
    a = rand((k, m) if ta else (m, k), dtype, 1)
    b = rand((n, k) if tb else (k, n), dtype, 2)
    out = np.full((m, n), np.nan, dtype)  # beta == 0 must not read out
    assert K.matmul(a, b, out, ta, tb) is out
    assert_close(out, _mm(a, b, out * 0, ta, tb), dtype, scale=k)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("beta", [1.0, 0.5, -2.0])
def test_matmul_beta_accumulates(dtype, beta):
    a, b, c = rand((4, 6), dtype, 1), rand((6, 5), dtype, 2), rand((4, 5), dtype, 3)
    want = _mm(a, b, c, beta=beta)
    K.matmul(a, b, c, beta=beta)
    assert_close(c, want, dtype, scale=6)


@pytest.mark.parametrize("dtype", FLOATS)
def test_matmul_keyword_flags(dtype):
    a, b = rand((5, 3), dtype, 1), rand((4, 5), dtype, 2)
    out = np.empty((3, 4), dtype)
    K.matmul(a, b, out, transpose_a=True, transpose_b=True)
    assert_close(out, _mm(a, b, out, True, True), dtype, scale=5)


@pytest.mark.parametrize("dtype", FLOATS)
def test_matmul_empty_inner_dimension_gives_zeros(dtype):
    out = np.full((3, 4), np.nan, dtype)
    K.matmul(np.empty((3, 0), dtype), np.empty((0, 4), dtype), out)
    assert np.array_equal(out, np.zeros((3, 4), dtype))
    for ta, tb in [(True, False), (False, True), (True, True)]:
        a = np.empty((0, 3) if ta else (3, 0), dtype)
        b = np.empty((4, 0) if tb else (0, 4), dtype)
        out = np.full((3, 4), np.nan, dtype)
        K.matmul(a, b, out, ta, tb)
        assert np.array_equal(out, np.zeros((3, 4), dtype))


@pytest.mark.parametrize("dtype", FLOATS)
def test_matmul_empty_inner_dimension_scales_by_beta(dtype):
    out = np.arange(6, dtype=dtype).reshape(2, 3)
    K.matmul(np.empty((2, 0), dtype), np.empty((0, 3), dtype), out, beta=0.5)
    assert np.array_equal(out, np.arange(6, dtype=dtype).reshape(2, 3) * dtype(0.5))
    K.matmul(np.empty((2, 0), dtype), np.empty((0, 3), dtype), out, beta=1.0)
    assert np.array_equal(out, np.arange(6, dtype=dtype).reshape(2, 3) * dtype(0.5))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("m,k,n", [(0, 3, 2), (3, 2, 0), (0, 0, 0)])
def test_matmul_empty_output(dtype, m, k, n):
    out = np.empty((m, n), dtype)
    K.matmul(rand((m, k), dtype), rand((k, n), dtype), out)
    assert out.shape == (m, n)


def test_matmul_validation_errors():
    f4, f8 = np.ones((2, 2), np.float32), np.ones((2, 2))
    with pytest.raises(TypeError):
        K.matmul(f4, f8, np.empty((2, 2)))                      # mixed dtypes
    with pytest.raises(TypeError):
        K.matmul(np.ones((2, 2), np.int64), np.ones((2, 2), np.int64), np.empty((2, 2), np.int64))
    with pytest.raises(TypeError):
        K.matmul(np.ones((2, 2), np.float16), np.ones((2, 2), np.float16),
                 np.empty((2, 2), np.float16))
    with pytest.raises(TypeError):
        K.matmul([[1.0]], [[1.0]], np.empty((1, 1)))            # not an ndarray
    with pytest.raises(TypeError, match="out must be a numpy array or None"):
        K.matmul(f8, f8, [[0.0, 0.0], [0.0, 0.0]])
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(2, 2\)"):
        K.matmul(np.ones((2, 3)), f8, np.empty((2, 2)))          # inner dims, both shapes named
    with pytest.raises(ValueError, match="out must have shape"):
        K.matmul(f8, f8, np.empty((2, 3)))
    with pytest.raises(ValueError, match="2-D"):
        K.matmul(np.ones(2), f8, np.empty((2,)))
    with pytest.raises(ValueError, match="C-contiguous"):
        K.matmul(np.ones((3, 2)).T, np.ones((3, 2)), np.empty((2, 2)))   # use transpose_a instead
    with pytest.raises(ValueError, match="C-contiguous"):
        K.matmul(f8, f8, np.empty((2, 4))[:, ::2])
    ro = np.empty((2, 2))
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        K.matmul(f8, f8, ro)
    with pytest.raises(TypeError, match="byte order"):
        K.matmul(f8.astype(">f8"), f8, np.empty((2, 2)))


def test_matmul_rejects_out_overlapping_inputs():
    a = np.ones((2, 2))
    with pytest.raises(ValueError, match="share memory"):
        K.matmul(a, np.ones((2, 2)), a)
    buf = np.ones((4, 2))
    with pytest.raises(ValueError, match="share memory"):
        K.matmul(np.ones((2, 2)), buf[:2], buf[1:3])


def test_matmul_random_shapes_hypothesis():
    hypothesis = pytest.importorskip("hypothesis")
    st = hypothesis.strategies

    @hypothesis.settings(max_examples=60, deadline=None)
    @hypothesis.given(st.integers(0, 9), st.integers(0, 9), st.integers(0, 9), st.booleans(),
                      st.booleans(), st.sampled_from(FLOATS))
    def check(m, k, n, ta, tb, dtype):
        a = rand((k, m) if ta else (m, k), dtype, 1)
        b = rand((n, k) if tb else (k, n), dtype, 2)
        out = np.empty((m, n), dtype)
        K.matmul(a, b, out, ta, tb)
        assert_close(out, _mm(a, b, np.zeros((m, n)), ta, tb), dtype, scale=max(k, 1))

    check()


def _declined(*args):
    return ("fallback",) + args


_forward = K.matmul_forward(_declined, 1 << 24)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("m,k,n", [(1, 2, 3), (1, 3, 3), (3, 5, 7), (17, 33, 9), (64, 64, 64),
                                   (0, 3, 2), (3, 2, 0), (2, 0, 3), (0, 0, 0)])
@pytest.mark.parametrize("ta,tb", [(False, False), (True, False), (False, True), (True, True)])
def test_matmul_forward_matches_numpy(dtype, m, k, n, ta, tb):
    a = rand((k, m) if ta else (m, k), dtype, 1)
    b = rand((n, k) if tb else (k, n), dtype, 2)
    got = _forward(a, b, transpose_a=ta, transpose_b=tb)
    assert type(got) is np.ndarray and got.dtype == dtype and got.shape == (m, n)
    assert got.flags.c_contiguous
    assert_close(got, _mm(a, b, np.zeros((m, n)), ta, tb), dtype, scale=max(k, 1))


@pytest.mark.parametrize("dtype", FLOATS)
def test_matmul_forward_extreme_values(dtype):
    # IEEE products and sums, as numpy's matmul: nan and inf propagate, subnormals survive.
    tiny = np.finfo(dtype).smallest_subnormal
    a = np.array([[np.nan, 1], [np.inf, 1], [tiny, 0], [np.inf, -np.inf]], dtype)
    b = np.array([[1, 2, 0], [1, 1, 0]], dtype)
    got = _forward(a, b)
    with np.errstate(invalid="ignore"):  # inf * 0 and inf - inf are nan
        want = np.matmul(a.astype(np.float64), b.astype(np.float64))
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    finite = ~np.isnan(want)
    assert np.array_equal(got[finite], want[finite].astype(dtype))
    assert got[2, 0] == tiny and got[2, 1] == 2 * tiny


def test_matmul_forward_falls_back_for_the_rest():
    f4, f8 = np.ones((2, 2), np.float32), np.ones((2, 2))
    misaligned = np.zeros(33, np.uint8)[1:].view(np.float64).reshape(2, 2)
    assert not misaligned.flags.aligned
    declined = [
        (np.ones((2, 2), np.int64), np.ones((2, 2), np.int64)),  # not float
        (np.ones((2, 2), np.float16), np.ones((2, 2), np.float16)),
        (f4, f8), (f8, f4),                                      # mixed dtypes
        ([[1.0]], [[1.0]]), (f8, [[1.0, 0.0], [0.0, 1.0]]),      # not arrays
        (np.ones(2), f8), (f8, np.ones((1, 2, 2))),              # not 2-D
        (np.ones((2, 3)), f8),                                   # inner dimensions differ
        (np.ones((3, 2)).T, np.ones((3, 2))),                    # not C-contiguous
        (f8, np.empty((2, 4))[:, ::2]),
        (f8.astype(">f8"), f8),                                  # byte-swapped
        (misaligned, f8),
    ]
    for a, b in declined:
        got = _forward(a, b)
        assert got[0] == "fallback" and got[1] is a and got[2] is b and got[3:] == (False, False)
    # The transposed shapes decide: (2, 3)^T @ (2, 2) is computed, (2, 3) @ (2, 2)^T is not.
    assert _forward(np.ones((2, 3)), f8, transpose_a=True).shape == (3, 2)
    assert _forward(np.ones((2, 3)), f8, transpose_b=True)[3:] == (False, True)


@pytest.mark.parametrize("m,n", [(3, 4), (12, 1), (1, 12), (0, 13), (13, 0)])
def test_matmul_forward_output_size_limit(m, n):
    a, b = np.ones((m, 2)), np.ones((2, n))
    assert K.matmul_forward(_declined, 12)(a, b).shape == (m, n)
    assert K.matmul_forward(_declined, m * n)(a, b).shape == (m, n)
    if m * n:
        assert K.matmul_forward(_declined, m * n - 1)(a, b)[0] == "fallback"

# ------------------------------------------------------------------------------ add / sum_rows

@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("ashape,bshape", [
    ((1, 3), (1, 3)), ((3, 5), (3, 5)),             # same shape
    ((4, 7), (7,)), ((1, 3), (3,)), ((5, 1), (1,)),  # bias row
    ((6, 5), ()), ((1,), (1,)), ((1000, 13), ()),   # scalar
    ((64, 64), (64,)), ((), ()),
])
def test_add_matches_numpy(dtype, ashape, bshape):
    a, b = rand(ashape, dtype, 1), rand(bshape, dtype, 2)
    out = np.empty(ashape, dtype)
    assert K.add(a, b, out) is out
    assert np.array_equal(out, a + b)  # one rounding in the same dtype: bitwise equal


@pytest.mark.parametrize("dtype", FLOATS)
def test_add_empty(dtype):
    out = np.empty((0, 3), dtype)
    K.add(np.empty((0, 3), dtype), np.ones(3, dtype), out)
    K.add(np.empty((3, 0), dtype), np.empty(0, dtype), np.empty((3, 0), dtype))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("bshape", [(8, 5), (5,), ()])
def test_add_in_place(dtype, bshape):
    a, b = rand((8, 5), dtype, 1), rand(bshape, dtype, 2)
    want = a + b
    K.add(a, b, a)
    assert np.array_equal(a, want)


@pytest.mark.parametrize("dtype", FLOATS)
def test_add_out_is_b_same_shape(dtype):
    a, b = rand((3, 4), dtype, 1), rand((3, 4), dtype, 2)
    want = a + b
    K.add(a, b, b)
    assert np.array_equal(b, want)


def test_add_large_releases_gil_path():
    a, b = rand((300, 100), np.float64, 1), rand((100,), np.float64, 2)
    out = np.empty_like(a)
    K.add(a, b, out)
    assert np.array_equal(out, a + b)


def test_add_validation_errors():
    a = np.ones((4, 3))
    with pytest.raises(ValueError, match="divide"):
        K.add(a, np.ones(5), np.empty((4, 3)))
    with pytest.raises(ValueError, match="divide"):
        K.add(a, np.ones(0), np.empty((4, 3)))
    with pytest.raises(ValueError, match="size"):
        K.add(a, np.ones(3), np.empty((4, 2)))
    with pytest.raises(TypeError):
        K.add(a, np.ones(3, np.float32), np.empty((4, 3)))
    with pytest.raises(TypeError):
        K.add(np.ones(3, np.int32), np.ones(3, np.int32), np.empty(3, np.int32))
    with pytest.raises(TypeError):
        K.add(a, 1.0, np.empty((4, 3)))
    with pytest.raises(ValueError, match="C-contiguous"):
        K.add(np.ones((4, 6))[:, ::2], np.ones(3), np.empty((4, 3)))
    with pytest.raises(ValueError, match="C-contiguous"):
        K.add(a, np.ones(6)[::2], np.empty((4, 3)))
    ro = np.empty((4, 3))
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        K.add(a, np.ones(3), ro)
    buf = np.ones(13)
    with pytest.raises(ValueError, match="overlap"):
        K.add(buf[:12], np.ones(3), buf[1:])            # shifted alias would read written values
    b = np.ones(12)
    with pytest.raises(ValueError, match="overlap"):
        K.add(np.ones(12), b[:3], b)                    # out contains the bias row


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape,nb", [((7, 5), 5), ((1, 3), 3), ((100, 1), 1), ((1000,), 1),
                                      ((33, 17), 17), ((1,), 1), ((4, 2), 8)])
def test_sum_rows_matches_numpy(dtype, shape, nb):
    dy = rand(shape, dtype, 3)
    out = np.empty(nb, dtype)
    assert K.sum_rows(dy, out) is out
    want = dy.reshape(-1, nb).astype(np.float64).sum(axis=0)
    rows = dy.size // nb
    assert_close(out, want, dtype, scale=rows)


@pytest.mark.parametrize("dtype", FLOATS)
def test_sum_rows_accuracy_like_numpy(dtype):
    # Many rows: our row-by-row accumulation should be about as accurate as numpy's sum(axis=0),
    # and the full sum (nb == 1, pairwise) about as accurate as numpy's sum().
    dy = (np.random.default_rng(5).random((20000, 8)) + 1).astype(dtype)
    exact = dy.astype(np.float64).sum(axis=0)
    out = np.empty(8, dtype)
    K.sum_rows(dy, out)
    ours = np.abs(out - exact).max()
    theirs = np.abs(dy.sum(axis=0) - exact).max()
    assert ours <= 2 * theirs + np.finfo(dtype).eps * exact.max()
    flat = dy.ravel()
    one = np.empty(1, dtype)
    K.sum_rows(flat, one)
    exact1 = flat.astype(np.float64).sum()
    assert abs(one[0] - exact1) <= 2 * abs(flat.sum() - exact1) + 4 * np.finfo(dtype).eps * exact1


@pytest.mark.parametrize("dtype", FLOATS)
def test_sum_rows_empty_gives_zeros(dtype):
    out = np.full(3, np.nan, dtype)
    K.sum_rows(np.empty((0, 3), dtype), out)
    assert np.array_equal(out, np.zeros(3, dtype))
    K.sum_rows(np.empty(0, dtype), np.empty(0, dtype))


def test_sum_rows_keeps_negative_zero_and_nan():
    out = np.empty(2)
    K.sum_rows(np.array([[-0.0, np.nan]]), out)
    assert np.signbit(out[0]) and np.isnan(out[1])


def test_sum_rows_validation_errors():
    with pytest.raises(ValueError, match="divide"):
        K.sum_rows(np.ones((4, 3)), np.empty(5))
    with pytest.raises(ValueError, match="divide"):
        K.sum_rows(np.ones((4, 3)), np.empty(0))
    with pytest.raises(TypeError):
        K.sum_rows(np.ones((4, 3), np.float32), np.empty(3))
    with pytest.raises(TypeError):
        K.sum_rows(np.ones((4, 3), np.int64), np.empty(3, np.int64))
    with pytest.raises(ValueError, match="C-contiguous"):
        K.sum_rows(np.ones((3, 4)).T, np.empty(3))
    ro = np.empty(3)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        K.sum_rows(np.ones((4, 3)), ro)
    buf = np.ones(12)
    with pytest.raises(ValueError, match="overlap"):
        K.sum_rows(buf, buf[:3])


# ------------------------------------------------------------------------------ sigmoid

def _sigmoid64(x):
    x = x.astype(np.float64)
    with np.errstate(over="ignore", under="ignore"):
        e = np.exp(-np.abs(x))
        return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


@pytest.mark.parametrize("dtype", FLOATS)
def test_sigmoid_matches_formula(dtype, level):
    x = np.concatenate([rand(2000, dtype, 4) * 8, np.linspace(-40, 40, 2001, dtype=dtype)])
    out = np.empty_like(x)
    assert K.sigmoid(x, out) is out
    # relative to the value: also checks the tiny results for x << 0
    np.testing.assert_allclose(out, _sigmoid64(x), rtol=4 * np.finfo(dtype).eps, atol=0)


@pytest.mark.parametrize("dtype", FLOATS)
def test_sigmoid_extreme_values_exact_and_silent(dtype, level):
    tiny = np.finfo(dtype).smallest_subnormal
    x = np.array([0.0, -0.0, 1.0, -1.0, 100.0, -100.0, 1e30, -1e30, np.inf, -np.inf, tiny, -tiny,
                  np.finfo(dtype).max, -np.finfo(dtype).max], dtype)
    out = np.empty_like(x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            K.sigmoid(x, out)
    want = _sigmoid64(x)
    assert out[0] == 0.5 and out[1] == 0.5 and out[10] == 0.5 and out[11] == 0.5
    assert out[4] == 1.0 and out[6] == 1.0 and out[8] == 1.0 and out[12] == 1.0
    assert out[7] == 0.0 and out[9] == 0.0 and out[13] == 0.0
    np.testing.assert_allclose(out[2:4], want[2:4], rtol=RTOL[dtype])
    # sigmoid(-100) = 3.7e-44: a float32 subnormal, a normal float64; kept, not flushed
    assert out[5] > 0
    np.testing.assert_allclose(out[5], want[5], rtol=RTOL[dtype] if dtype == np.float64 else 0.1)


@pytest.mark.parametrize("dtype", FLOATS)
def test_sigmoid_nan_propagates(dtype, level):
    x = np.array([np.nan, -np.nan, 1.0], dtype)
    out = np.empty_like(x)
    K.sigmoid(x, out)
    assert np.isnan(out[0]) and np.isnan(out[1]) and not np.isnan(out[2])


@pytest.mark.parametrize("dtype", FLOATS)
def test_sigmoid_in_place_and_shapes(dtype, level):
    for shape in [(), (1, 1), (3, 5), (0,), (5000,)]:
        x = rand(shape, dtype, 6)
        want = _sigmoid64(x)
        K.sigmoid(x, x)
        np.testing.assert_allclose(x, want, rtol=4 * np.finfo(dtype).eps)


@pytest.mark.parametrize("dtype", FLOATS)
def test_sigmoid_backward_matches_formula(dtype, level):
    y = np.random.default_rng(7).random((17, 9)).astype(dtype)
    dy = rand((17, 9), dtype, 8)
    out = np.empty_like(y)
    assert K.sigmoid_backward(y, dy, out) is out
    want = dy.astype(np.float64) * y * (1 - y.astype(np.float64))
    assert_close(out, want, dtype)
    K.sigmoid_backward(y, dy, dy)  # in place into dy
    assert np.array_equal(dy, out)


def test_sigmoid_backward_empty():
    K.sigmoid_backward(np.empty(0), np.empty(0), np.empty(0))


def test_sigmoid_validation_errors():
    x = np.ones(4)
    with pytest.raises(TypeError):
        K.sigmoid(np.ones(4, np.int64), np.empty(4, np.int64))
    with pytest.raises(TypeError):
        K.sigmoid(x, np.empty(4, np.float32))
    with pytest.raises(ValueError, match="size"):
        K.sigmoid(x, np.empty(5))
    with pytest.raises(ValueError, match="C-contiguous"):
        K.sigmoid(np.ones(8)[::2], np.empty(4))
    ro = np.empty(4)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        K.sigmoid(x, ro)
    with pytest.raises(ValueError, match="size"):
        K.sigmoid_backward(x, np.ones(3), np.empty(4))
    with pytest.raises(TypeError):
        K.sigmoid_backward(x, np.ones(4, np.float32), np.empty(4))
    with pytest.raises(ValueError, match="C-contiguous"):
        K.sigmoid_backward(x, np.ones(8)[::2], np.empty(4))
    buf = np.ones(5)
    with pytest.raises(ValueError, match="overlap"):
        K.sigmoid(buf[:4], buf[1:])


@pytest.mark.parametrize("dtype", FLOATS)
def test_sigmoid_within_3_ulp_on_every_path(dtype, level):
    rng = np.random.default_rng(11)
    x = np.concatenate([rng.uniform(-120, 120, 20000), rng.uniform(-20, 20, 20000),
                        rng.standard_normal(2000) * 1e-3, np.arange(-110.5, 111)]).astype(dtype)
    got = K.sigmoid(x)  # out=None: allocated by the kernel, shaped like x
    assert got.shape == x.shape and got.dtype == dtype
    with np.errstate(over="ignore"):
        want = 1 / (1 + np.exp(-x.astype(np.longdouble)))
    ulp = np.spacing(want.astype(dtype)).astype(np.longdouble)
    keep = want.astype(dtype) != 0
    err = np.abs(got[keep] - want[keep]) / ulp[keep]
    assert err.max() <= 3, (level, float(err.max()))


@pytest.mark.parametrize("n", [1, 7, 15, 16, 17, 31, 33, 100])
def test_sigmoid_tails_of_every_length_agree_with_baseline(n, level):
    x = rand(n, np.float32, n) * 10
    got = K.sigmoid(x)
    E._simd_level(0)
    want = K.sigmoid(x)
    np.testing.assert_allclose(got, want, rtol=3 * np.finfo(np.float32).eps, atol=0)


@pytest.mark.parametrize("n", [31, 32, 33, 100])
def test_sigmoid_any_alignment_writes_only_out_and_agrees_with_baseline(n, level):
    # The AVX-512 loop starts with a masked vector up to x's 64-byte boundary: every start
    # offset, out offset different from x's, in place, and nothing written outside out.
    xb = rand(n + 32, np.float32, n) * 10
    ob = np.full(n + 32, 7.0, np.float32)
    for xo in range(16):
        for oo in (xo, (xo + 5) % 16):
            x = xb[xo:xo + n]
            ob[:] = 7.0
            K.sigmoid(x, ob[oo:oo + n])
            assert (ob[:oo] == 7.0).all() and (ob[oo + n:] == 7.0).all()
            E._simd_level(0)
            want = K.sigmoid(x)
            E._simd_level(level)
            np.testing.assert_allclose(ob[oo:oo + n], want, rtol=3 * np.finfo(np.float32).eps,
                                       atol=0)
            y = xb.copy()[xo:xo + n]
            K.sigmoid(y, y)
            np.testing.assert_array_equal(y, ob[oo:oo + n])


def test_simd_level_reports_and_caps():
    previous = E._simd_level(99)
    try:
        assert E._simd_level() in (0, 1, 2)
        assert E._simd_level(0) in (0, 1, 2) and E._simd_level() == 0
    finally:
        E._simd_level(previous)


# ------------------------------------------------------------- subtract, multiply, divide, binary

_UFUNCS = {"add": np.add, "subtract": np.subtract, "multiply": np.multiply, "divide": np.divide}
_CODES = {"add": K.BINARY_ADD, "subtract": K.BINARY_SUBTRACT, "multiply": K.BINARY_MULTIPLY,
          "divide": K.BINARY_DIVIDE}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("op", list(_UFUNCS))
@pytest.mark.parametrize("xshape,yshape", [
    ((1, 3), (1, 3)), ((3, 5), (5,)), ((5,), (3, 5)), ((4, 1), ()), ((), (4, 1)), ((), ()),
    ((1, 1), ()), ((), (1, 1)), ((3,), (1, 3)), ((1, 3), (3,)), ((2, 3, 4), (1, 3, 4)),
    ((0, 3), (3,)), ((3,), (0, 3)), ((5000, 3), (3,)),
])
def test_binary_flat_patterns_match_numpy_bitwise(op, xshape, yshape, dtype):
    x, y = np.asarray(rand(xshape, dtype, 1)), np.asarray(rand(yshape, dtype, 2) + 3)  # 0-d arrays
    got = K.binary(_CODES[op], x, y)
    want = _UFUNCS[op](x, y)
    assert got.shape == want.shape and got.dtype == dtype
    assert np.array_equal(got, want)  # one IEEE operation each: the same bits as numpy


@pytest.mark.parametrize("x,y", [
    (np.ones((3, 1)), np.ones((1, 4))),             # broadcast both ways: not a flat pattern
    (np.ones((2, 3)), np.ones((3, 1))),             # a column of another length
    (np.ones((2, 3)), np.ones((2, 1, 1))),          # one value per row, but another rank
    (np.ones((1, 1)), np.ones(3)),                  # result (1, 3) is neither input's shape
    (np.ones(3, np.int32), np.ones(3, np.int32)),   # not float
    (np.ones(3), np.ones(3, np.float32)),           # mixed
    (np.ones(6)[::2], np.ones(3)),                  # not contiguous
    (np.ones(3).astype(">f8"), np.ones(3).astype(">f8")),
    ([1.0], np.ones(1)),                            # not an ndarray
])
def test_binary_declines_what_numpy_must_do(x, y):
    assert K.binary(K.BINARY_ADD, x, y) is None


@pytest.mark.parametrize("dtype", FLOATS)
def test_binary_ieee_results_without_warnings(dtype):
    x = np.array([1.0, -1.0, 0.0, np.inf, np.nan, np.finfo(dtype).max], dtype)
    y = np.array([0.0, 0.0, 0.0, np.inf, 1.0, np.finfo(dtype).max], dtype)
    tiny = np.finfo(dtype).smallest_subnormal
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            d = K.binary(K.BINARY_DIVIDE, x, y)
            s = K.binary(K.BINARY_SUBTRACT, x, y)
            m = K.binary(K.BINARY_MULTIPLY, x, y)
            sub = K.binary(K.BINARY_MULTIPLY, np.array([tiny], dtype), np.array(1.0, dtype))
    with np.errstate(all="ignore"):
        assert np.array_equal(d, x / y, equal_nan=True)
        assert np.array_equal(s, x - y, equal_nan=True)
        assert np.array_equal(m, x * y, equal_nan=True)
    assert sub[0] == tiny


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("op", ["subtract", "multiply", "divide"])
def test_binary_kernels_with_out_and_swap(op, dtype):
    a, b = rand((4, 3), dtype, 1), rand((3,), dtype, 2) + 3
    out = np.empty_like(a)
    assert getattr(K, op)(a, b, out) is out
    assert np.array_equal(out, _UFUNCS[op](a, b))
    if op != "multiply":
        got = getattr(K, op)(a, b, swap=True)
        assert np.array_equal(got, _UFUNCS[op](b, a))
    with pytest.raises(ValueError, match="divide"):
        getattr(K, op)(a, np.ones(5, dtype))


# ------------------------------------------------------------------------------ bias_activation

def _act64(z, activation):
    with np.errstate(over="ignore"):
        return {"linear": z, "relu": np.maximum(z, 0), "sigmoid": 1 / (1 + np.exp(-z))}[activation]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("activation", ["linear", "relu", "sigmoid"])
@pytest.mark.parametrize("shape", [(1, 1), (3, 5), (2, 3, 4), (7, 1), (1, 9000), (3000, 7)])
def test_bias_activation_matches_numpy(shape, activation, dtype, level):
    x, b = rand(shape, dtype, 1) * 4, rand(shape[-1:], dtype, 2)
    z = x + b  # one rounding in dtype, as the kernel's
    y = K.bias_activation(x, b, activation)
    assert y.shape == shape and y.dtype == dtype
    np.testing.assert_allclose(y, _act64(z.astype(np.float64), activation),
                               rtol=4 * np.finfo(dtype).eps, atol=0)
    dy = rand(shape, dtype, 3)
    db = np.empty(shape[-1:], dtype)
    dz, db2 = K.bias_activation_backward(y, dy, activation, db)
    assert db2 is db
    y64 = y.astype(np.float64)
    slope = {"linear": 1.0, "relu": (y64 > 0) * 1.0, "sigmoid": y64 * (1 - y64)}[activation]
    want = dy * slope
    assert_close(dz, want, dtype)
    rows = int(np.prod(shape[:-1]))
    assert_close(db, dz.reshape(-1, shape[-1]).astype(np.float64).sum(axis=0), dtype,
                 scale=rows)


@pytest.mark.parametrize("activation", ["linear", "relu", "sigmoid"])
def test_bias_activation_nan_inf_and_in_place(activation):
    x = np.array([[np.nan, np.inf, -np.inf, -0.0, 5e-324]])
    b = np.zeros(5)
    K.bias_activation(x, b, activation, x)  # in place
    assert np.isnan(x[0, 0])
    assert x[0, 1] == {"linear": np.inf, "relu": np.inf, "sigmoid": 1.0}[activation]
    assert x[0, 2] == {"linear": -np.inf, "relu": 0.0, "sigmoid": 0.0}[activation]
    assert x[0, 4] == {"linear": 5e-324, "relu": 5e-324, "sigmoid": 0.5}[activation]


def test_bias_activation_empty_and_errors():
    y = K.bias_activation(np.empty((0, 3)), np.ones(3), "relu")
    assert y.shape == (0, 3)
    db = np.full(3, np.nan)
    dz, _ = K.bias_activation_backward(y, np.empty((0, 3)), "relu", db)
    assert dz.shape == (0, 3) and np.array_equal(db, np.zeros(3))
    with pytest.raises(ValueError, match="activation must be one of"):
        K.bias_activation(np.ones((2, 3)), np.ones(3), "tanh")
    with pytest.raises(ValueError, match="must divide"):
        K.bias_activation(np.ones((2, 3)), np.ones(4), "relu")
    with pytest.raises(TypeError):
        K.bias_activation(np.ones((2, 3)), np.ones(3, np.float32), "relu")
    with pytest.raises(ValueError, match="must divide"):
        K.bias_activation_backward(np.ones((2, 3)), np.ones((2, 3)), "relu", np.empty(4))
    with pytest.raises(ValueError, match="one size"):
        K.bias_activation_backward(np.ones((2, 3)), np.ones((3, 3)), "relu", np.empty(3))
    dy = np.ones((2, 3))
    with pytest.raises(ValueError, match="must not share memory"):
        K.bias_activation_backward(np.ones((2, 3)), dy, "relu", dy[0])


def test_binary_forward_runs_the_kernel_or_hands_over_to_the_fallback():
    # The compiled forward of AddV2/Sub/Mul/RealDiv: the kernel's cases never reach the
    # fallback; everything else (ints, general broadcasting, mixed dtypes) reaches it unchanged.
    from microtf import _kernels as K
    calls = []

    def rest(x, y):
        calls.append((x, y))
        return "fallback"

    forward = K.binary_forward(K.BINARY_SUBTRACT, rest)
    a = np.array([[1.5, -2.0, 3.0]], np.float32)
    for y in (a * 2, np.full((), 0.5, np.float32), np.ones(3, np.float32)):
        np.testing.assert_array_equal(forward(a, y), a - y)
    np.testing.assert_array_equal(forward(np.ones(3, np.float32), a), np.ones(3) - a)
    assert calls == []
    col = np.ones((2, 1), np.float32)
    for x, y in [(np.array([1, 2]), np.array([3, 4])), (a, col), (a, a.astype(np.float64)),
                 (a, a.T), ([1.0], a)]:
        assert forward(x, y) == "fallback" and calls[-1][0] is x and calls[-1][1] is y
    assert len(calls) == 5


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(5, 7), (3, 4, 6), (1, 9), (2, 1025), (0, 3)])
def test_binary_one_value_per_row_matches_numpy_bitwise(shape, dtype):
    # x (..., m) OP c (..., 1) and c OP x: each row is the scalar case, so numpy's exact bits,
    # extremes included, and no warnings (division by zero gives IEEE inf/nan).
    from microtf import _kernels as K
    rng = np.random.default_rng(len(shape))
    x = rng.standard_normal(shape).astype(dtype)
    c = rng.standard_normal(shape[:-1] + (1,)).astype(dtype)
    if x.size:
        x.flat[:4] = [np.inf, -0.0, np.nan, np.finfo(dtype).tiny / 2][:min(4, x.size)]
    if c.size:
        c.flat[0] = 0.0
    for code, ufunc in [(K.BINARY_ADD, np.add), (K.BINARY_SUBTRACT, np.subtract),
                        (K.BINARY_MULTIPLY, np.multiply), (K.BINARY_DIVIDE, np.divide)]:
        with np.errstate(all="ignore"):
            want, want_swapped = ufunc(x, c), ufunc(c, x)
        got, got_swapped = K.binary(code, x, c), K.binary(code, c, x)
        assert got.shape == want.shape and got.dtype == dtype
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(got_swapped, want_swapped)
    # not one value per row: numpy's general path (None here)
    assert K.binary(K.BINARY_ADD, x, np.ones(shape[:-1] + (2,), dtype)) is None or shape[-1] == 2
    assert K.binary(K.BINARY_ADD, np.ones((2, 3), dtype), np.ones((3, 1), dtype)) is None

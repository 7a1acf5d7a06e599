"""csrc/philox.pyx: the Philox4x32-10 block against published known answers, and every fill
against an independent numpy reference (uint64 arithmetic, transforms written as scalings)."""
import math

import numpy as np
import pytest

from microtf import _kernels as K
from microtf._kernels import philox as _philox_module

MASK32, MASK64 = 2**32 - 1, 2**64 - 1
PARALLEL_MIN = 1 << 18  # csrc/philox.pyx: larger fills run on two threads

# Known-answer vectors of Philox4x32-10 from Random123's tests/kat_vectors
# (github.com/DEShawResearch/random123; Salmon et al., SC 2011): counter, key -> output.
KAT = [
    ([0, 0, 0, 0], [0, 0], [0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8]),
    ([MASK32] * 4, [MASK32] * 2, [0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD]),
    ([0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344], [0xA4093822, 0x299F31D0],
     [0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1]),
]


def _args(ctr, key):
    """(key, ctr_lo, ctr_hi) kernel arguments from 4 counter words and 2 key words."""
    return key[0] | key[1] << 32, ctr[0] | ctr[1] << 32, ctr[2] | ctr[3] << 32


def _ref_words(key, lo, hi, nwords):
    """Reference Philox4x32-10 stream in numpy: words of blocks counter + 0, 1, ..."""
    nblocks = (nwords + 3) // 4
    i = np.arange(nblocks, dtype=np.uint64)
    c_lo = np.uint64(lo) + i  # wraps modulo 2**64
    c_hi = np.uint64(hi) + (c_lo < np.uint64(lo)).astype(np.uint64)
    m32 = np.uint64(MASK32)
    x = [c_lo & m32, c_lo >> np.uint64(32), c_hi & m32, c_hi >> np.uint64(32)]
    k0, k1 = key & MASK32, key >> 32
    for _ in range(10):
        p0 = x[0] * np.uint64(0xD2511F53)
        p1 = x[2] * np.uint64(0xCD9E8D57)
        x = [(p1 >> np.uint64(32)) ^ x[1] ^ np.uint64(k0), p1 & m32,
             (p0 >> np.uint64(32)) ^ x[3] ^ np.uint64(k1), p0 & m32]
        k0, k1 = (k0 + 0x9E3779B9) & MASK32, (k1 + 0xBB67AE85) & MASK32
    return np.stack(x, axis=1).reshape(-1)[:nwords].astype(np.uint32)


def _ref_uniform32(w):
    return ((w & 0x7FFFFF).astype(np.float64) * 2.0**-23).astype(np.float32)


def _ref_uniform64(w):
    w = w.astype(np.float64)
    return ((w[0::2] % 2**20) * 2.0**32 + w[1::2]) * 2.0**-52


def _ref_box_muller(u1, u2, eps):
    r = np.sqrt(-2.0 * np.log(np.maximum(u1, eps)))
    return np.stack([np.sin(2 * np.pi * u2) * r, np.cos(2 * np.pi * u2) * r], axis=1).reshape(-1)


def _ref_normal32(w):
    u = _ref_uniform32(w).astype(np.float64)
    return _ref_box_muller(u[0::2], u[1::2], np.float32(1e-7))


def _ref_normal64(w):
    u = _ref_uniform64(w)
    return _ref_box_muller(u[0::2], u[1::2], 1e-7)


def _fill(kernel, args, n, dtype):
    out = np.full(n, 7, dtype=dtype)
    kernel(*args, out)
    return out


@pytest.fixture(params=["simd", "scalar"], autouse=True)
def _path(request):
    """Every test runs on the AVX2 path (where the CPU has it) and on the scalar one."""
    previous = _philox_module._use_avx2(request.param == "simd")
    yield
    _philox_module._use_avx2(previous)


STREAMS = [(0, 0, 0), (0x299F31D0A4093822, 2**64 - 2, 5), (123, MASK32, MASK64),
           (87654321 | 9 << 32, 2**64 - 1, MASK64)]  # the last two carry across words


@pytest.mark.parametrize("ctr, key, want", KAT)
def test_block_known_answers(ctr, key, want):
    assert _fill(K.philox_uint32, _args(ctr, key), 4, np.uint32).tolist() == want


def test_reference_matches_known_answers():
    for ctr, key, want in KAT:
        assert _ref_words(*_args(ctr, key), 4).tolist() == want


@pytest.mark.parametrize("stream", STREAMS)
@pytest.mark.parametrize("n", [0, 1, 3, 4, 5, 11, 64, 4097])
def test_uint32_stream_counts_up_as_128_bit_integer(stream, n):
    np.testing.assert_array_equal(_fill(K.philox_uint32, stream, n, np.uint32),
                                  _ref_words(*stream, n))


@pytest.mark.parametrize("stream", STREAMS[:2])
@pytest.mark.parametrize("n", [0, 1, 2, 3, 5, 9, 4099])
def test_uniform_float32_and_float64_exact(stream, n):
    u32 = _fill(K.philox_uniform, stream, n, np.float32)
    np.testing.assert_array_equal(u32, _ref_uniform32(_ref_words(*stream, n)))
    u64 = _fill(K.philox_uniform, stream, n, np.float64)
    np.testing.assert_array_equal(u64, _ref_uniform64(_ref_words(*stream, 2 * n)))
    assert ((u32 >= 0) & (u32 < 1)).all() and ((u64 >= 0) & (u64 < 1)).all()


@pytest.mark.parametrize("n", [0, 1, 2, 3, 5, 7, 4101])
def test_normal_is_box_muller_on_word_pairs(n):
    stream = STREAMS[1]
    n32 = _fill(K.philox_normal, stream, n, np.float32)
    ref = _ref_normal32(_ref_words(*stream, n + n % 2))[:n]
    np.testing.assert_allclose(n32, ref, rtol=0, atol=2e-6)
    n64 = _fill(K.philox_normal, stream, n, np.float64)
    ref = _ref_normal64(_ref_words(*stream, 2 * (n + n % 2)))[:n]
    np.testing.assert_allclose(n64, ref, rtol=1e-12, atol=1e-12)


def _ref_truncated(stream, n, per_group, skip, normal):
    """TF's truncated fill: group g reads words from counter + g * skip, keeps |x| < 2."""
    key, lo, hi = stream
    out = []
    for g in range(math.ceil(n / per_group)):
        start = (lo | hi << 64) + g * skip
        words = _ref_words(key, start & MASK64, (start >> 64) & MASK64, 400)
        kept = [x for x in normal(words) if abs(x) < 2][:per_group]
        out += kept
    return np.array(out[:n])


@pytest.mark.parametrize("n", [0, 1, 3, 4, 6, 9])
def test_truncated_normal_groups_and_rejection(n):
    stream = STREAMS[2]
    t32 = _fill(K.philox_truncated_normal, stream, n, np.float32)
    np.testing.assert_allclose(t32, _ref_truncated(stream, n, 4, 256, _ref_normal32), atol=2e-6)
    t64 = _fill(K.philox_truncated_normal, stream, n, np.float64)
    np.testing.assert_allclose(t64, _ref_truncated(stream, n, 2, 128, _ref_normal64), atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_large_fills_split_over_threads_give_the_same_stream(dtype):
    n = PARALLEL_MIN + 13
    stream = STREAMS[3]
    u = _fill(K.philox_uniform, stream, n, dtype)
    words = _ref_words(*stream, n * (1 if dtype == np.float32 else 2))
    ref = _ref_uniform32(words) if dtype == np.float32 else _ref_uniform64(words)
    np.testing.assert_array_equal(u, ref)
    # truncated normal: the last group (second thread) against the reference
    t = _fill(K.philox_truncated_normal, stream, n, dtype)
    per = 4 if dtype == np.float32 else 2
    g = (n - 1) // per
    start = (stream[1] | stream[2] << 64) + g * (256 if per == 4 else 128)
    sub = (stream[0], start & MASK64, (start >> 64) & MASK64)
    tail = _fill(K.philox_truncated_normal, sub, n - g * per, dtype)
    np.testing.assert_array_equal(t[g * per:], tail)
    normal = _ref_normal32 if per == 4 else _ref_normal64
    np.testing.assert_allclose(tail, _ref_truncated(sub, n - g * per, per, 256 // (4 // per),
                                                    normal), atol=2e-6)
    assert np.abs(t).max() < 2


def _ref_permutation(stream, n):
    words = _ref_words(*stream, max(n - 1, 0))
    perm = list(range(n))
    for i in range(n - 1):
        j = i + int(words[i]) % (n - i)
        perm[i], perm[j] = perm[j], perm[i]
    return perm


@pytest.mark.parametrize("n", [0, 1, 2, 3, 10, 257])
def test_permutation_is_tensorflows_shuffle(n):
    perm = _fill(K.philox_permutation, STREAMS[1], n, np.int64)
    assert perm.tolist() == _ref_permutation(STREAMS[1], n)
    assert sorted(perm.tolist()) == list(range(n))


def test_block_statistics():
    u = _fill(K.philox_uniform, (5, 0, 0), 200000, np.float64)
    assert abs(u.mean() - 0.5) < 0.005 and abs(u.var() - 1 / 12) < 0.002
    z = _fill(K.philox_normal, (5, 0, 0), 200000, np.float32)
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01


@pytest.mark.parametrize("kernel, dtype, want", [
    (K.philox_uint32, np.float32, "uint32"), (K.philox_uniform, np.int32, "float32 or float64"),
    (K.philox_normal, np.float16, "float32 or float64"), (K.philox_permutation, np.int32, "int64"),
])
def test_wrong_out_dtype(kernel, dtype, want):
    with pytest.raises(TypeError, match=want):
        kernel(1, 0, 0, np.zeros(4, dtype))


def test_non_contiguous_and_read_only_out_rejected():
    with pytest.raises(ValueError, match="C-contiguous"):
        K.philox_uniform(1, 0, 0, np.zeros(8, np.float32)[::2])
    ro = np.zeros(4, np.float32)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        K.philox_normal(1, 0, 0, ro)
    with pytest.raises(OverflowError):
        K.philox_uniform(2**64, 0, 0, np.zeros(4, np.float32))


def test_multidimensional_out_is_filled_in_c_order():
    out = np.empty((3, 5), np.float32)
    K.philox_uniform(9, 1, 2, out)
    np.testing.assert_array_equal(out.reshape(-1), _fill(K.philox_uniform, (9, 1, 2), 15,
                                                         np.float32))

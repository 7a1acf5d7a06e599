# Shared argument checks for the def wrappers, textually included by each csrc/*.pyx.
#
# Design: the wrappers take ndarray objects and validate them with numpy's C API (a handful of
# struct reads, no Python attribute lookups), because the framework calls kernels on tiny arrays
# where a microsecond of wrapper overhead would dominate. Every wrapper follows the same order:
# dtype (TypeError) -> layout (ValueError) -> sizes (ValueError) -> overlap (ValueError), so a
# kernel loop only ever sees native-endian, aligned, C-contiguous float32/float64 buffers whose
# sizes were checked against each other.

cimport numpy as cnp
from libc.stdint cimport uintptr_t

cnp.import_array()

ctypedef cnp.npy_intp npy_intp

# Below this many elements the loops run with the GIL held: releasing and re-acquiring it costs
# ~100-200 ns, more than the loop itself for small arrays.
cdef npy_intp NOGIL_MIN = 4096


cdef inline object _shape(cnp.ndarray x):
    # Typed ndarrays expose .shape as a C pointer in Cython; errors want the Python tuple.
    return (<object>x).shape


cdef inline str _typename(int typenum):
    return "float32" if typenum == cnp.NPY_FLOAT else "float64"


cdef inline int _float_typenum(str fn, str name, cnp.ndarray x) except -1:
    """Return NPY_FLOAT or NPY_DOUBLE for x (the dtype every other argument must match)."""
    cdef int t = cnp.PyArray_TYPE(x)
    if t != cnp.NPY_FLOAT and t != cnp.NPY_DOUBLE:
        raise TypeError(f"{fn}: {name} must be float32 or float64, got {x.dtype}")
    return t


cdef inline int _check(str fn, str name, cnp.ndarray x, int typenum, bint is_out) except -1:
    """Check dtype (== typenum, native byte order), alignment, C order and, for outputs, writability."""
    if cnp.PyArray_TYPE(x) != typenum:
        raise TypeError(
            f"{fn}: all arrays must have the same dtype "
            f"({_typename(typenum)}), got {x.dtype} for {name}")
    if not cnp.PyArray_ISNOTSWAPPED(x):
        raise TypeError(f"{fn}: {name} must be in native byte order, got {x.dtype}")
    if not cnp.PyArray_ISALIGNED(x):
        raise ValueError(f"{fn}: {name} is not aligned; pass np.ascontiguousarray({name})")
    if not cnp.PyArray_IS_C_CONTIGUOUS(x):
        raise ValueError(
            f"{fn}: {name} must be C-contiguous (strides {(<object>x).strides} for shape {_shape(x)}); "
            f"pass np.ascontiguousarray({name})")
    if is_out and not cnp.PyArray_ISWRITEABLE(x):
        raise ValueError(f"{fn}: {name} is read-only")
    return 0


cdef inline int _overlap(str fn, cnp.ndarray out, str oname, cnp.ndarray x, str xname,
                         bint allow_same) except -1:
    """Return 1 if out and x are exactly the same buffer, 0 if disjoint; raise on partial overlap.

    An exact alias (same start, same byte size) is what an elementwise kernel can handle in
    place; any other overlap would let a write change an input element not read yet.
    """
    cdef uintptr_t po = <uintptr_t>cnp.PyArray_DATA(out)
    cdef uintptr_t px = <uintptr_t>cnp.PyArray_DATA(x)
    cdef uintptr_t no = <uintptr_t>cnp.PyArray_NBYTES(out)
    cdef uintptr_t nx = <uintptr_t>cnp.PyArray_NBYTES(x)
    if no == 0 or nx == 0 or po + no <= px or px + nx <= po:
        return 0
    if allow_same and po == px and no == nx:
        return 1
    if allow_same:
        raise ValueError(
            f"{fn}: {oname} partially overlaps {xname}; pass the same array or a separate one")
    raise ValueError(f"{fn}: {oname} must not share memory with {xname}")

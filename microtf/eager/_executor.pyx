# cython: language_level=3
"""The op executor's common path, compiled: what `register_op` returns for every op.

Design: an op call on small tensors is mostly bookkeeping (a type test per input, a dtype check,
wrapping the output in a Tensor, offering the call to the recording tapes). In Python that
bookkeeping costs ~0.5 us per call, twice numpy's whole np.add on a (1,3) array; as a C-level
`__call__` it costs a fraction of that. Everything unusual goes back to Python code in
microtf.eager.registry: converting Python values, numpy arrays and variables, and raising
TensorFlow's dtype errors (`convert_and_check`), and wrapping unusual outputs (`wrap`).
This module imports nothing of microtf: the registry hands it what it needs.
"""
cimport numpy as cnp

cnp.import_array()


cdef class OpFunction:
    """The public function of a registered op: `op(*tensors, name=None, **attrs)`."""

    cdef readonly object op_def
    cdef object _forward, _allowed, _state, _convert_and_check, _tensor, _dtype_of, _wrap
    cdef str _name
    cdef bint _same_dtype
    cdef dict __dict__  # functools.update_wrapper gives it the forward's name and docstring

    def __init__(self, op_def, allowed_ids, state, convert_and_check, tensor_type, dtype_of,
                 wrap):
        self.op_def = op_def
        self._forward = op_def.forward
        self._name = op_def.name
        self._same_dtype = op_def.same_dtype
        self._allowed = allowed_ids  # frozenset of id(DType), or None for any dtype
        self._state = state  # the registry's thread-local tape stack
        self._convert_and_check = convert_and_check
        self._tensor = tensor_type
        self._dtype_of = dtype_of  # numpy dtype -> DType (dict.get), None for unusual ones
        self._wrap = wrap

    cdef inline bint _accepts(self, object dtype):
        return self._allowed is None or id(dtype) in self._allowed

    cdef object _result(self, object out):
        """The Tensor owning `out` (the common case inline, the rest in Python's wrap)."""
        if type(out) is not cnp.ndarray:
            return self._wrap(out)
        dtype = self._dtype_of((<cnp.ndarray>out).dtype)
        if dtype is None:
            return self._wrap(out)
        t = self._tensor.__new__(self._tensor)
        t._value = out
        t._dtype = dtype
        return t

    def __call__(self, *inputs, name=None, **attrs):
        cdef Py_ssize_t n = len(inputs)
        T = self._tensor
        if n == 2:
            x = inputs[0]
            y = inputs[1]
            if (type(x) is not T or type(y) is not T or not self._accepts(x._dtype)
                    or (x._dtype is not y._dtype if self._same_dtype
                        else not self._accepts(y._dtype))):
                x, y = self._convert_and_check(inputs, self.op_def)
            tensors = (x, y)
            out = self._forward(x._value, y._value, **attrs)
        elif n == 1:
            x = inputs[0]
            if type(x) is not T or not self._accepts(x._dtype):
                (x,) = self._convert_and_check(inputs, self.op_def)
            tensors = (x,)
            out = self._forward(x._value, **attrs)
        else:
            tensors = tuple(self._convert_and_check(inputs, self.op_def))
            out = self._forward(*[t._value for t in tensors], **attrs)
        if type(out) is tuple:
            outputs = tuple([self._result(o) for o in out])
            result = outputs
        else:
            result = self._result(out)
            outputs = (result,)
        tapes = self._state.tapes
        if tapes:
            for tape in tapes:
                tape._record(self._name, tensors, outputs, attrs)
        return result

    def __repr__(self):
        return "<op %s>" % self._name

# cython: language_level=3
"""The op executor's and the tape's common paths, compiled: what `register_op` returns for
every op (OpFunction), and the half of GradientTape that runs per op and per gradient
(TapeCore: recording, and the backward walk over the record).

Design: an op call on small tensors is mostly bookkeeping (a type test per input, a dtype check,
wrapping the output in a Tensor, offering the call to the recording tapes). In Python that
bookkeeping costs ~0.5 us per call, twice numpy's whole np.add on a (1,3) array; as a C-level
`__call__` it costs a fraction of that. Everything unusual goes back to Python code in
microtf.eager.registry: converting Python values, numpy arrays and variables, and raising
TensorFlow's dtype errors (`convert_and_check`), and wrapping unusual outputs (`wrap`).
This module imports nothing of microtf: the registry and the tape module hand it what it
needs (OpFunction's arguments, `configure_backward`).
"""
cimport numpy as cnp

cnp.import_array()


cdef class OpFunction:
    """The public function of a registered op: `op(*tensors, name=None, **attrs)`."""

    cdef readonly object op_def
    cdef object _forward, _allowed, _state, _convert_and_check, _tensor, _wrap
    cdef dict _dtype_of
    cdef object _variable, _read_variable, _scalar_tensor
    cdef str _name
    cdef bint _same_dtype
    cdef dict __dict__  # functools.update_wrapper gives it the forward's name and docstring

    def __init__(self, op_def, allowed_ids, state, convert_and_check, tensor_type, dtype_of,
                 wrap, variable_type, read_variable, scalar_tensor):
        self.op_def = op_def
        self._forward = op_def.forward
        self._name = op_def.name
        self._same_dtype = op_def.same_dtype
        self._allowed = allowed_ids  # frozenset of id(DType), or None for any dtype
        self._state = state  # the registry's thread-local tape stack
        self._convert_and_check = convert_and_check
        self._tensor = tensor_type
        self._dtype_of = dtype_of  # numpy dtype -> DType; unusual ones are missing
        self._wrap = wrap
        self._variable = variable_type
        self._read_variable = read_variable  # records the read on the tapes (ReadVariableOp)
        self._scalar_tensor = scalar_tensor  # Python scalar -> cached 0-d Tensor of a dtype

    cdef inline bint _accepts(self, object dtype):
        return self._allowed is None or id(dtype) in self._allowed

    cdef tuple _tensors_of(self, tuple inputs):
        """Three or more inputs (none is handled by the Python conversion): tensors and
        variables of accepted, matching dtypes pass in C; anything else goes to Python."""
        cdef list tensors = [self._read_if_variable(v) for v in inputs]
        T = self._tensor
        first = None
        for t in tensors:
            if type(t) is not T or not self._accepts(t._dtype):
                break
            if first is None:
                first = t._dtype
            elif self._same_dtype and t._dtype is not first:
                break
        else:
            if tensors:
                return tuple(tensors)
        return tuple(self._convert_and_check(tuple(tensors), self.op_def))

    cdef object _read_if_variable(self, object v):
        return self._read_variable(v) if isinstance(v, self._variable) else v

    cdef object _scalar_like(self, object v, object peer):
        """A Python float/int as a 0-d tensor of peer's dtype, or `v` unchanged (anything else,
        or a value that does not fit: the Python conversion then raises TF's error)."""
        if type(v) is float or type(v) is int:
            try:
                return self._scalar_tensor(v, peer._dtype)
            except (TypeError, ValueError, OverflowError):
                pass
        return v

    cdef object _result(self, object out):
        """The Tensor owning `out` (the common case inline, the rest in Python's wrap)."""
        if type(out) is not cnp.ndarray:
            return self._wrap(out)
        dtype = self._dtype_of.get((<cnp.ndarray>out).dtype)
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
            # The common mixed cases without the Python conversion: variables (`x - 4` on a
            # Variable) are read, and a float/int beside a tensor takes the tensor's dtype.
            if type(x) is not T:
                x = self._read_if_variable(x)
            if type(y) is not T:
                y = self._read_if_variable(y)
            if self._same_dtype:
                if type(x) is T and type(y) is not T:
                    y = self._scalar_like(y, x)
                elif type(y) is T and type(x) is not T:
                    x = self._scalar_like(x, y)
            if (type(x) is not T or type(y) is not T or not self._accepts(x._dtype)
                    or (x._dtype is not y._dtype if self._same_dtype
                        else not self._accepts(y._dtype))):
                x, y = self._convert_and_check((x, y), self.op_def)
            tensors = (x, y)
            if attrs:
                out = self._forward(x._value, y._value, **attrs)
            else:  # no keyword dict to unpack: most calls
                out = self._forward(x._value, y._value)
        elif n == 1:
            x = inputs[0]
            if type(x) is not T:
                x = self._read_if_variable(x)
            if type(x) is not T or not self._accepts(x._dtype):
                (x,) = self._convert_and_check((x,), self.op_def)
            tensors = (x,)
            if attrs:
                out = self._forward(x._value, **attrs)
            else:
                out = self._forward(x._value)
        else:
            tensors = self._tensors_of(inputs)
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
                (<TapeCore?>tape)._record(self._name, tensors, outputs, attrs)
        return result

    def __repr__(self):
        return "<op %s>" % self._name


# -- the tape ------------------------------------------------------------------------------------
cdef class OpRecord:
    """One recorded op as gradient functions see it (`op`): made during backward, for the
    entries on a path from a source; the tape itself stores plain tuples, which are cheaper."""

    cdef readonly object type, inputs, outputs, attrs, needs_grad

    def __init__(self, op_type, inputs, outputs, attrs, needs_grad=None):
        self.type = op_type
        self.inputs = inputs
        self.outputs = outputs
        self.attrs = attrs
        self.needs_grad = needs_grad

    @property
    def name(self):
        return self.type

    def get_attr(self, key):
        return self.attrs[key]

    def __repr__(self):
        return "<OpRecord %s>" % self.type


# -- variable reads -------------------------------------------------------------------------------
cdef object _Tensor = None, _Variable = None, _state = None


def configure_reads(tensor_type, variable_type, state):
    """Hands read_variable the Tensor and Variable types and the registry's thread-local tape
    stack."""
    global _Tensor, _Variable, _state
    _Tensor, _Variable, _state = tensor_type, variable_type, state


def read_variable(var):
    """A Tensor with the variable's current value; tapes see the read (a ReadVariableOp entry)
    and, when they watch accessed variables, watch a trainable variable first."""
    if type(var) is not _Variable:
        var = getattr(var, "_var", var)  # what assign* returned (UnreadVariable) is the variable
    t = _Tensor.__new__(_Tensor)
    t._value = var._value
    t._dtype = var._dtype
    tapes = _state.tapes
    if tapes:
        for tape in tapes:
            if (<TapeCore?>tape)._watch_accessed and var._trainable:
                (<TapeCore>tape)._watch_one(var)
        inputs = (var,)
        outputs = (t,)
        for tape in tapes:
            (<TapeCore>tape)._record("ReadVariableOp", inputs, outputs, None)
    return t


# What the backward walk needs from Python (set once by microtf.eager.tape).
cdef dict _gradients = {}     # op name -> gradient function (registry._GRADIENTS)
cdef object _get_gradient = None, _not_differentiable = None, _ops = None, _to_tensor = None
cdef object _value_types = None, _warn = None


def configure_backward(gradients, get_gradient, not_differentiable, ops, to_tensor,
                       value_types, warn):
    """Hands the backward walk the registry's gradient table, its lookup for unusual entries,
    the ops module getter (for add/ones_like/zeros_like), conversion, (Tensor, Variable) and
    warnings.warn."""
    global _gradients, _get_gradient, _not_differentiable, _ops, _to_tensor, _value_types, _warn
    _gradients = gradients
    _get_gradient, _not_differentiable = get_gradient, not_differentiable
    _ops, _to_tensor, _value_types, _warn = ops, to_tensor, value_types, warn


cdef class TapeCore:
    """The compiled half of GradientTape: the tensors it watches (by id, kept alive so ids stay
    unique), the entries it recorded, and the reverse walk that turns them into gradients."""

    cdef public dict _watched    # id -> tensor or variable
    cdef public dict _variables  # id -> watched Variable, in watch order
    cdef public list _entries    # (op name, input tensors, output tensors, attrs)
    cdef public bint _watch_accessed  # trainable variables read while recording get watched

    def __cinit__(self, *args, **kwargs):
        self._watched = {}
        self._variables = {}
        self._entries = []
        self._watch_accessed = True

    cpdef _watch_one(self, t):
        key = id(t)
        if key not in self._watched:
            self._watched[key] = t
            if isinstance(t, _Variable):
                self._variables[key] = t

    cpdef _record(self, op_type, inputs, outputs, attrs):
        """Keeps the entry if one of its inputs is watched; its float outputs become watched."""
        cdef dict watched = self._watched
        for t in inputs:
            if id(t) in watched:
                break
        else:
            return
        for o in outputs:
            if o._dtype.is_floating:
                watched[id(o)] = o
        self._entries.append((op_type, inputs, outputs, attrs))

    def _backward(self, targets, sources, seeds):
        """The gradients of sum(targets) (seeded by `seeds`, else ones) for each source, None
        where unconnected: a forward pass over the record marks what depends on a source, then
        one iterative pass in reverse calls each gradient function and sums per tensor."""
        ops = _ops()
        cdef dict grads = {}
        cdef set source_ids = set()
        cdef set depends
        cdef list relevant = []
        cdef Py_ssize_t i
        cdef OpRecord entry
        for i, t in enumerate(targets):
            if not isinstance(t, _value_types):
                raise AttributeError("'%s' object has no attribute '_id': the target of "
                                     "gradient() must be a Tensor (the result of microtf ops), "
                                     "got %r" % (type(t).__name__, t))
            seed = ops.ones_like(t) if seeds is None else _to_tensor(seeds[i], t.dtype)
            key = id(t)
            grads[key] = seed if key not in grads else ops.add(grads[key], seed)
        for s in sources:
            if not isinstance(s, _value_types):
                raise AttributeError("'%s' object has no attribute 'dtype': the sources of "
                                     "gradient() must be tensors or variables, got %r"
                                     % (type(s).__name__, s))
            if not s._dtype.is_floating:
                # stacklevel 2: this compiled method has no frame; 1 is GradientTape.gradient.
                _warn("The dtype of the source tensor must be floating (e.g. tf.float32) when "
                      "calling GradientTape.gradient, got %r" % (s.dtype,), stacklevel=2)
                continue
            source_ids.add(id(s))

        # Forward pass over the record: which tensors depend on a source.
        depends = set(source_ids)
        for op_type, inputs, outputs, attrs in self._entries:
            needs = tuple([id(t) in depends for t in inputs])
            if True in needs:
                relevant.append(OpRecord(op_type, inputs, outputs, attrs, needs))
                for o in outputs:
                    depends.add(id(o))

        for i in range(len(relevant) - 1, -1, -1):
            entry = relevant[i]
            outputs = entry.outputs
            if len(outputs) == 1:  # most ops: no list building, no zero filling
                key = id(outputs[0])
                dy = grads.get(key) if key in source_ids else grads.pop(key, None)
                if dy is None:
                    continue
                dys = (dy,)
            else:
                dys = [grads.get(id(o)) if id(o) in source_ids else grads.pop(id(o), None)
                       for o in outputs]
                if all(g is None for g in dys):
                    continue
                dys = [ops.zeros_like(o) if g is None else g for o, g in zip(outputs, dys)]
            grad_fn = _gradients.get(entry.type)
            if grad_fn is None or grad_fn is _not_differentiable:
                grad_fn = _get_gradient(entry.type)  # raises, or gives the None-maker
            in_grads = grad_fn(entry, *dys)
            if not isinstance(in_grads, (tuple, list)):
                in_grads = (in_grads,)
            if len(in_grads) != len(entry.inputs):
                raise ValueError("The gradient of op %r returned %d values for %d inputs."
                                 % (entry.type, len(in_grads), len(entry.inputs)))
            for t, g, needed in zip(entry.inputs, in_grads, entry.needs_grad):
                if g is None or not needed:
                    continue
                key = id(t)
                prev = grads.get(key)
                grads[key] = g if prev is None else ops.add(prev, g)
        return [grads.get(id(s)) if id(s) in source_ids else None for s in sources]

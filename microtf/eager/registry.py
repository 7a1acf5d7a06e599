"""The op registry (public API) and the one path every op call takes.

Imports the framework; the tape imports this module and this module reaches the tape's
thread-local state through `tape_state`, which lives here so that ops reach it directly.

An op is registered by name with a forward function that works on numpy arrays:

    @register_op("Sigmoid", dtypes=FLOATS)
    def sigmoid(x):                  # x: ndarray; attributes arrive as keyword arguments
        return kernels.sigmoid(x)    # an ndarray, or a tuple of them for several outputs

`register_op` returns the public op (an OpFunction, compiled in _executor.pyx): it converts its
inputs to tensors (Python scalars and numpy arrays take the dtype of the first tensor argument, as
TensorFlow does; the conversion and TensorFlow's dtype errors are `_convert_and_check` below),
runs the forward, wraps the outputs, and records one entry on every tape that watches an input. The
gradient, registered under the same name, receives that entry and the output gradients:

    @register_gradient("Sigmoid")
    def _sigmoid_grad(op, dy):       # op.inputs, op.outputs, op.attrs, op.needs_grad
        return sigmoid_grad(op.outputs[0], dy)
"""
import functools
import threading

import numpy as np

from ..framework import dtypes as _dt
from ..framework.convert import scalar_to_array, to_array
from ..framework.errors import InvalidArgumentError
from ..framework.dtypes import _BY_NP
from ..framework.tensor import Tensor, wrap
from ..framework.variable import Variable
from ._executor import OpFunction, configure_reads, read_variable

_OPS = {}
_GRADIENTS = {}
_NOT_DIFFERENTIABLE = object()

class _TapeState(threading.local):
    def __init__(self):
        self.tapes = []  # the GradientTapes recording on this thread, innermost last


tape_state = _TapeState()
configure_reads(Tensor, Variable, tape_state)  # read_variable is compiled (_executor.pyx)


class OpDef:
    """What the registry knows of an op: its name, forward, dtype rules and public function."""

    __slots__ = ("name", "forward", "dtypes", "same_dtype", "scalar_error", "function")

    def __init__(self, name, forward, dtypes, same_dtype, scalar_error):
        self.name = name
        self.forward = forward
        self.dtypes = dtypes
        self.same_dtype = same_dtype
        self.scalar_error = scalar_error
        self.function = None

    def __repr__(self):
        return "<OpDef %s>" % self.name


def register_op(name, forward=None, *, dtypes=None, same_dtype=True, scalar_error=TypeError):
    """Registers `forward(*arrays, **attrs)` as op `name` and returns the public op function.

    dtypes: the dtypes the op accepts (None: any). same_dtype: all inputs must share a dtype
    (Python scalars and numpy arrays are converted to it). scalar_error: the exception raised
    when a Python scalar does not fit that dtype (TensorFlow's AddV2 raises
    InvalidArgumentError, most ops TypeError).
    """
    if forward is None:
        return functools.partial(register_op, name, dtypes=dtypes, same_dtype=same_dtype,
                                 scalar_error=scalar_error)
    if name in _OPS:
        raise ValueError("An op named %r is already registered." % name)
    opdef = OpDef(name, forward, tuple(dtypes) if dtypes is not None else None, same_dtype,
                  scalar_error)

    # ids, not DTypes: DType.__hash__ is Python code, too slow for every op call.
    allowed = frozenset(map(id, opdef.dtypes)) if opdef.dtypes is not None else None
    # The call path is compiled (microtf/eager/_executor.pyx): it converts inputs through
    # _convert_and_check only when they are not already Tensors of an accepted dtype, runs
    # forward on their arrays, wraps the outputs and offers the call to the recording tapes.
    op = OpFunction(opdef, allowed, tape_state, _convert_and_check, Tensor, _BY_NP, wrap,
                    Variable, read_variable, scalar_tensor)
    functools.update_wrapper(op, forward)
    opdef.function = op
    _OPS[name] = opdef
    return op


def register_gradient(name):
    """Decorator: `fn(op, *output_grads)` returns one gradient per input (None if none)."""
    def deco(fn):
        _GRADIENTS[name] = fn
        return fn
    return deco


def not_differentiable(name):
    """Declares op `name` as having no gradient: tapes pass None to its inputs."""
    _GRADIENTS[name] = _NOT_DIFFERENTIABLE


no_gradient = not_differentiable


def _none_grads(op, *dys):
    return (None,) * len(op.inputs)


def get_gradient(name):
    fn = _GRADIENTS.get(name)
    if fn is None:
        raise LookupError("No gradient defined for operation '%s' (op type: %s). Register one "
                          "with microtf.register_gradient(%r)." % (name, name, name))
    return _none_grads if fn is _NOT_DIFFERENTIABLE else fn


def get_op(name):
    return _OPS[name]


def registered_ops():
    return dict(_OPS)


def record(op_type, inputs, outputs, attrs):
    """Offers an executed op to every tape recording on this thread."""
    for tape in tape_state.tapes:
        tape._record(op_type, inputs, outputs, attrs)


# -- conversion --------------------------------------------------------------------------------
def convert_to_tensor(value, dtype=None, dtype_hint=None, name=None):
    """tf.convert_to_tensor: tensors pass through, variables are read, the rest is converted."""
    if dtype is not None:
        dtype = _dt.as_dtype(dtype)
    if isinstance(value, Tensor):
        t = value
    elif isinstance(value, Variable):
        t = read_variable(value)
    elif isinstance(value, (list, tuple)) and _holds_tensor(value):
        t = _pack_nested(value)
    else:
        if dtype is None and dtype_hint is not None:
            try:
                return wrap(*to_array(value, _dt.as_dtype(dtype_hint)))
            except (TypeError, ValueError):
                pass
        return wrap(*to_array(value, dtype))
    if dtype is not None and t._dtype is not dtype:
        raise ValueError("Tensor conversion requested dtype %s for Tensor with dtype %s: %r"
                         % (dtype.name, t._dtype.name, t))
    return t


def _holds_tensor(seq):
    stack = [seq]
    while stack:
        for v in stack.pop():
            if isinstance(v, (Tensor, Variable)):
                return True
            if isinstance(v, (list, tuple)):
                stack.append(v)
    return False


def _pack_nested(seq):
    """[t1, t2, 3.0] -> one tensor through the recorded Pack op (tf.stack), so gradients flow
    back to t1 and t2 (TensorFlow auto-packs lists given to ops the same way)."""
    items = [_pack_nested(v) if isinstance(v, (list, tuple)) else v for v in seq]
    return _OPS["Pack"].function(*items, axis=0)


_SCALARS = {}  # (type, value, dtype) -> Tensor: Python constants like `x - 4` convert once


def scalar_tensor(x, dtype):
    """A Python bool/int/float as a 0-d tensor of `dtype` (TypeError if it does not fit).

    Tensors are immutable, so the same constant is shared by every op that uses it; zeros (0.0
    and -0.0 compare equal) and NaNs (never equal) are not cached."""
    key = (x.__class__, x, dtype)
    t = _SCALARS.get(key) if x and x == x else None
    if t is None:
        t = wrap(scalar_to_array(x, dtype), dtype)
        if x and x == x:
            if len(_SCALARS) >= 1024:
                _SCALARS.clear()
            _SCALARS[key] = t
    return t


def _to_peer(x, peer, opdef):
    """A Python scalar or numpy array converted to the dtype of the op's first tensor."""
    if isinstance(x, np.ndarray) or isinstance(x, np.generic):
        if x.dtype.kind in "SUO" or peer is _dt.string:
            return wrap(*to_array(x))
        return wrap(np.array(x, dtype=peer._np, order="C"), peer)  # unsafe cast, as TF
    if isinstance(x, (bool, int, float)):
        try:
            return scalar_tensor(x, peer)
        except TypeError:
            if opdef.scalar_error is TypeError:
                raise
            return wrap(*to_array(x))  # the dtype check below then raises TF's error
    if isinstance(x, (list, tuple)):
        try:
            return wrap(*to_array(x, peer))
        except TypeError:
            pass  # e.g. floats for an int op: convert on their own, the dtype check raises
    return wrap(*to_array(x))


def _convert_and_check(inputs, opdef):
    tensors = convert_inputs(inputs, opdef)
    if tensors and (opdef.dtypes is not None or opdef.same_dtype):
        check_dtypes(tensors, opdef)
    return tensors


def convert_inputs(inputs, opdef):
    """Converts an op's inputs to Tensors (Python scalars and numpy arrays take the dtype of the
    first tensor input when the op wants one dtype); `check_dtypes` then enforces the rules."""
    peer = None
    if opdef.same_dtype:
        for x in inputs:
            if isinstance(x, (Tensor, Variable)):
                peer = x._dtype
                break
    tensors = []
    for x in inputs:
        if type(x) is Tensor:
            tensors.append(x)
        elif isinstance(x, Variable):
            tensors.append(read_variable(x))
        elif isinstance(x, Tensor):
            tensors.append(x)
        elif isinstance(x, (list, tuple)) and _holds_tensor(x):
            t = _pack_nested(x)
            tensors.append(t)
            if opdef.same_dtype and peer is None:
                peer = t._dtype
        elif peer is not None:
            tensors.append(_to_peer(x, peer, opdef))
        else:
            t = wrap(*to_array(x))
            tensors.append(t)
            if opdef.same_dtype:
                peer = t._dtype
    return tensors


def check_dtypes(tensors, opdef):
    allowed = opdef.dtypes
    first = tensors[0]._dtype if tensors else None
    for i, t in enumerate(tensors):
        d = t._dtype
        if allowed is not None and d not in allowed:
            raise InvalidArgumentError(None, opdef.name, dtype_not_allowed(d, allowed, opdef.name))
        if opdef.same_dtype and d is not first:
            raise InvalidArgumentError(None, opdef.name, dtype_mismatch(opdef.name, i, first, d))


def dtype_mismatch(op_name, index, expected, got):
    return ("cannot compute %s as input #%d(zero-based) was expected to be a %s tensor but is a "
            "%s tensor [Op:%s]\nHint: microtf, like TensorFlow, never converts dtypes implicitly; "
            "use tf.cast(x, tf.%s) on one input (Python ints default to int32, floats to "
            "float32)." % (op_name, index, expected._short, got._short, op_name, expected.name))


def dtype_not_allowed(d, allowed, op_name):
    names = ", ".join(a._short for a in allowed)
    hint = ""
    if d is _dt.float16:
        hint = ("\nHint: microtf stores float16 but computes in float32 and float64; use "
                "tf.cast(x, tf.float32).")
    if (d.is_integer or d.is_bool) and all(a.is_floating for a in allowed):
        hint = ("\nHint: %s needs floating-point input; Python ints default to int32, so write "
                "1.0 instead of 1, or use tf.cast(x, tf.float32)." % op_name)
    return ("Value for attr 'T' of %s is not in the list of allowed values: %s ; NodeDef: "
            "{{node %s}} [Op:%s]%s" % (d.name, names, op_name, op_name, hint))

"""GradientTape: records ops as data (name, inputs, outputs, attrs) and walks them backward.

Imports the framework and the registry; the ops used to sum gradients are looked up lazily
(microtf.ops imports this module to record).

Design:
- Recording is thread-local: `registry.tape_state.tapes` lists the tapes recording on this
  thread; an op offers itself to each of them (`_record`) only when that list is non-empty, so
  ops cost nothing extra without a tape. The tape stores each entry as a plain tuple.
- The per-op and per-gradient work (`_record`, the `_backward` walk, OpRecord) is compiled:
  TapeCore in microtf/eager/_executor.pyx, GradientTape's base class. This module keeps the
  API: contexts, watching, gradient/jacobian argument handling, custom_gradient.
- A tape keeps the tensors it watches (by id) alive; an op is recorded only if one of its inputs
  is watched, and then its float outputs become watched. Holding the tensors keeps their ids
  unique for the tape's life.
- Backward is an iterative loop over the recorded entries in reverse (no recursion), so a chain
  of 100,000 ops differentiates. Entries hold tensors, tensors never hold entries: no reference
  cycles, and a non-persistent tape drops everything as soon as `gradient` returns.
"""
import enum
import functools
import inspect
import warnings

from ..framework.tensor import Tensor
from ..framework.variable import Variable
from . import registry
from ._executor import OpRecord, TapeCore, configure_backward  # noqa: F401 (OpRecord: API)


_state = registry.tape_state


class UnconnectedGradients(enum.Enum):
    NONE = "none"
    ZERO = "zero"


def _is_differentiable(t):
    return t._dtype.is_floating


class GradientTape(TapeCore):
    """Records operations for automatic differentiation (tf.GradientTape)."""

    def __init__(self, persistent=False, watch_accessed_variables=True):
        self._persistent = persistent
        self._watch_accessed = watch_accessed_variables
        self._watched = {}      # id -> tensor or variable (keeps ids valid)
        self._variables = {}    # id -> watched Variable, in watch order
        self._entries = []
        self._used = False
        self._recording = False

    # -- context management -----------------------------------------------------------------
    def __enter__(self):
        self._push()
        return self

    def __exit__(self, *exc):
        if self._recording:
            self._pop()
        return False

    def _push(self):
        if self._recording:
            raise ValueError("Tape is still recording, This can happen if you try to re-enter "
                             "an already-active tape.")
        _state.tapes.append(self)
        self._recording = True

    def _pop(self):
        tapes = _state.tapes
        if self not in tapes:
            raise ValueError("Tape is not recording on this thread: a GradientTape records "
                             "only on the thread that entered it.")
        tapes.remove(self)
        self._recording = False

    def stop_recording(self):
        """Context manager: ops inside are not recorded on this tape."""
        return _Pause(self)

    def reset(self):
        """Clears what was recorded; recording continues if the tape is active."""
        self._watched = {}
        self._variables = {}
        self._entries = []
        self._used = False

    # -- watching -----------------------------------------------------------------------------
    def watch(self, tensor):
        """Ensures `tensor` (or every tensor in a nested structure) is traced by this tape."""
        for t in _flatten(tensor):
            if not isinstance(t, (Tensor, Variable)):
                raise ValueError("Passed in object %r of type %r, not tf.Tensor or tf.Variable"
                                 % (t, type(t).__name__))
            if not _is_differentiable(t):
                warnings.warn("The dtype of the watched tensor must be floating (e.g. "
                              "tf.float32), got %r" % (t.dtype,), stacklevel=2)
            self._watch_one(t)

    def watched_variables(self):
        return tuple(self._variables.values())

    # -- differentiation ----------------------------------------------------------------------
    def gradient(self, target, sources, output_gradients=None,
                 unconnected_gradients=UnconnectedGradients.NONE):
        """d(sum of targets)/d(sources), with `sources`' structure (tensor, list, tuple, dict)."""
        self._check_usable()
        unconnected = (unconnected_gradients if unconnected_gradients.__class__ is
                       UnconnectedGradients else UnconnectedGradients(unconnected_gradients))
        flat_sources = _flatten(sources)
        targets = _flatten(target)
        seeds = None if output_gradients is None else _flatten(output_gradients)
        try:
            with self._pause_if_not_persistent():
                grads = self._backward(targets, flat_sources, seeds)
        finally:
            if not self._persistent:
                self._release()
        if unconnected is UnconnectedGradients.ZERO:
            grads = [_ops().zeros_like(s) if g is None else g
                     for s, g in zip(flat_sources, grads)]
        return _pack_like(sources, grads)

    def jacobian(self, target, sources, unconnected_gradients=UnconnectedGradients.NONE,
                 parallel_iterations=None, experimental_use_pfor=True):
        """The full Jacobian: shape target.shape + source.shape for each source."""
        self._check_usable()
        ops = _ops()
        unconnected = UnconnectedGradients(unconnected_gradients)
        flat_sources = _flatten(sources)
        target = _to_tensor(target)
        n = int(target._value.size)
        rows = [[] for _ in flat_sources]
        try:
            with self._pause_if_not_persistent():
                eye = ops.reshape(ops.eye(n, dtype=target.dtype), (n,) + target.shape._dims)
                for i in range(n):
                    grads = self._backward([target], flat_sources, [eye[i]])
                    for r, g in zip(rows, grads):
                        r.append(g)
        finally:
            if not self._persistent:
                self._release()
        result = []
        for s, r in zip(flat_sources, rows):
            shape = tuple(target.shape._dims) + tuple(s.shape._dims)
            if all(g is None for g in r):
                result.append(ops.zeros(shape, s.dtype)
                              if unconnected is UnconnectedGradients.ZERO else None)
                continue
            r = [ops.zeros_like(s) if g is None else g for g in r]
            stacked = ops.stack(r) if r else ops.zeros((0,) + s.shape._dims, s.dtype)
            result.append(ops.reshape(stacked, shape))
        return _pack_like(sources, result)

    def batch_jacobian(self, target, source, **kwargs):
        ops = _ops()
        jac = self.jacobian(target, source, **kwargs)
        if jac is None:
            return None
        # Keep the diagonal over the batch dimension.
        b = target.shape[0]
        t_rest = target.shape._dims[1:]
        s_rest = source.shape._dims[1:]
        j = ops.reshape(jac, (b, -1, b, _prod(s_rest)))
        rows = [j[i, :, i, :] for i in range(b)]
        return ops.reshape(ops.stack(rows), (b,) + t_rest + s_rest)

    def _check_usable(self):
        if self._used and not self._persistent:
            raise RuntimeError("A non-persistent GradientTape can only be used to compute one "
                               "set of gradients (or jacobians)")
        self._used = True

    def _pause_if_not_persistent(self):
        # A non-persistent tape must not record its own backward pass; a persistent one does,
        # which gives higher derivatives when `gradient` is called inside its own context.
        if self._persistent or not self._recording:
            return _NOTHING
        return _Pause(self)

    def _release(self):
        self._entries = []
        self._watched = {}


class _Nothing:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


_NOTHING = _Nothing()


class _Pause:
    """What `tape.stop_recording()` returns: takes the tape off this thread's stack meanwhile."""

    __slots__ = ("_tape",)

    def __init__(self, tape):
        self._tape = tape

    def __enter__(self):
        if not self._tape._recording:
            raise ValueError("Tape is not recording.")
        self._tape._pop()

    def __exit__(self, *exc):
        self._tape._push()
        return False


def _prod(dims):
    n = 1
    for d in dims:
        n *= d
    return n


_OPS_MODULE = []


def _ops():
    # microtf.ops imports this module, so it is looked up on first use and kept.
    if not _OPS_MODULE:
        from .. import ops
        _OPS_MODULE.append(ops)
    return _OPS_MODULE[0]


def _to_tensor(x, dtype=None):
    return registry.convert_to_tensor(x, dtype)


_VALUES = (Tensor, Variable)

configure_backward(registry._GRADIENTS, registry.get_gradient, registry._NOT_DIFFERENTIABLE, _ops,
                   _to_tensor, _VALUES, warnings.warn)


# -- nested structures (sources may be a tensor, list, tuple, dict, or a nesting of them) -------
def _is_flat_list(structure):
    """A plain list of tensors/variables (model.trainable_variables): taken without a walk."""
    return type(structure) is list and all([isinstance(s, _VALUES) for s in structure])


def _flatten(structure):
    if isinstance(structure, _VALUES):
        return [structure]
    if _is_flat_list(structure):
        return list(structure)
    out = []
    stack = [structure]
    while stack:
        s = stack.pop()
        if isinstance(s, dict):
            stack.extend(reversed([s[k] for k in sorted(s)]))
        elif isinstance(s, (list, tuple)):
            stack.extend(reversed(s))
        else:
            out.append(s)
    return out


def _pack_like(structure, flat):
    if isinstance(structure, _VALUES):
        return flat[0]
    if _is_flat_list(structure):
        return list(flat)
    return _build(structure, iter(flat))


def _build(s, it):
    # A module-level function, not a closure calling itself: that would be a reference cycle
    # (function -> cell -> function) keeping the gradients alive until the next gc run.
    if isinstance(s, dict):
        values = {k: _build(s[k], it) for k in sorted(s)}
        return type(s)((k, values[k]) for k in s)
    if isinstance(s, (list, tuple)):
        items = [_build(x, it) for x in s]
        if isinstance(s, tuple) and hasattr(s, "_fields"):
            return type(s)(*items)
        return type(s)(items)
    return next(it)


# -- tf.custom_gradient ---------------------------------------------------------------------------
class _VariableReads(TapeCore):
    """Stands in for the tapes while a custom_gradient function runs: records nothing, collects
    the trainable variables the function reads (through registry.read_variable)."""

    def __init__(self):
        self.variables = []

    def _watch_one(self, var):
        if not any(v is var for v in self.variables):
            self.variables.append(var)

    def _record(self, *entry):
        pass


def _takes_variables(fn):
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return True  # a builtin or C callable: let the call itself decide
    return any(p.name == "variables" or p.kind is p.VAR_KEYWORD for p in params)


def custom_gradient(f):
    """Decorator: `f(*x)` returns `(y, grad_fn)`; tapes then use `grad_fn(*dy)` for dx.

    `f` runs with recording paused, and one "CustomGradient" entry stands for all of it; grad_fn
    is written with microtf ops, so an outer tape can differentiate it again. If `f` reads
    trainable variables, grad_fn must take them as a keyword argument, `grad_fn(*dy,
    variables=[...])`, and return `(input_grads, variable_grads)`, as in TensorFlow."""

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        inputs = tuple(registry.convert_to_tensor(a) for a in args)
        tapes = _state.tapes
        reads = _VariableReads()
        _state.tapes = [reads] if tapes else []
        try:
            result, grad_fn = f(*inputs, **kwargs)
        finally:
            _state.tapes = tapes
        flat = _flatten(result)
        outputs = tuple(registry.convert_to_tensor(o) for o in flat)
        if tapes:
            variables = tuple(reads.variables)
            if variables and not _takes_variables(grad_fn):
                raise TypeError("If using @custom_gradient with a function that uses "
                                "variables, then grad_fn must accept a keyword argument "
                                "'variables'.")
            for tape in tapes:  # the reads the stand-in saw, as the real tapes would have
                for var in variables:
                    if tape._watch_accessed:
                        tape._watch_one(var)
                tape._record("CustomGradient", inputs + variables, outputs,
                             {"grad_fn": grad_fn, "variables": variables})
        return _pack_like(result, list(outputs))

    return wrapper


@registry.register_gradient("CustomGradient")
def _custom_gradient_grad(op, *dys):
    variables = op.attrs["variables"]
    if not variables:
        grads = op.attrs["grad_fn"](*dys)
        return _flatten(grads) if isinstance(grads, (list, tuple)) else (grads,)
    input_grads, variable_grads = op.attrs["grad_fn"](*dys, variables=list(variables))
    input_grads = _flatten(input_grads) if isinstance(input_grads, (list, tuple)) else \
        [input_grads]
    return tuple(input_grads) + tuple(variable_grads)

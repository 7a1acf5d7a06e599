"""Python operators on Tensor and Variable (+ - * / // % ** @, comparisons, indexing).

Attached here, as TensorFlow does, so that microtf.framework stays free of ops. Reflected
operators convert the Python operand to the tensor's dtype first (TypeError if it does not fit).
numpy defers `ndarray + tensor` to these methods because of Tensor.__array_priority__.
"""
from ..eager.registry import scalar_tensor
from ..framework.errors import InvalidArgumentError
from ..framework.tensor import Tensor
from ..framework.variable import Variable
from . import array_ops, math_ops


def _peer(other, self):
    """A Python scalar operand as a tensor of self's dtype (TypeError if it cannot be)."""
    if isinstance(other, (bool, int, float)):
        return scalar_tensor(other, self.dtype)
    return other


def _binary(fn):
    def forward(self, other):
        return fn(self, other)

    def reflected(self, other):
        return fn(_peer(other, self), self)

    return forward, reflected


def _eq(self, other):
    """Elementwise ==. As in TensorFlow, None and shapes that cannot broadcast give False;
    a dtype mismatch raises like every other binary op."""
    if other is None:
        return False
    try:
        return math_ops.equal(self, other)
    except InvalidArgumentError as e:
        if "Incompatible shapes" in str(e):
            return False
        raise


def _ne(self, other):
    if other is None:
        return True
    try:
        return math_ops.not_equal(self, other)
    except InvalidArgumentError as e:
        if "Incompatible shapes" in str(e):
            return True
        raise


def _install(cls):
    for name, fn in [("add", lambda x, y: math_ops.add(x, y)),
                     ("sub", lambda x, y: math_ops.subtract(x, y)),
                     ("mul", lambda x, y: math_ops.multiply(x, y)),
                     ("truediv", lambda x, y: math_ops.divide(x, y)),
                     ("floordiv", lambda x, y: math_ops.floordiv(x, y)),
                     ("mod", lambda x, y: math_ops.floormod(x, y)),
                     ("pow", lambda x, y: math_ops.pow(x, y)),
                     ("matmul", lambda x, y: math_ops.matmul(x, y)),
                     ("and", lambda x, y: math_ops.logical_and(x, y)),
                     ("or", lambda x, y: math_ops.logical_or(x, y)),
                     ("xor", lambda x, y: math_ops.logical_xor(x, y))]:
        forward, reflected = _binary(fn)
        setattr(cls, "__%s__" % name, forward)
        setattr(cls, "__r%s__" % name, reflected)
    cls.__neg__ = lambda self: math_ops.negative(self)
    cls.__pos__ = lambda self: self
    cls.__abs__ = lambda self: math_ops.abs(self)
    cls.__invert__ = lambda self: math_ops.logical_not(self)
    cls.__lt__ = lambda self, other: math_ops.less(self, other)
    cls.__le__ = lambda self, other: math_ops.less_equal(self, other)
    cls.__gt__ = lambda self, other: math_ops.greater(self, other)
    cls.__ge__ = lambda self, other: math_ops.greater_equal(self, other)
    cls.__eq__ = _eq
    cls.__ne__ = _ne
    cls.__getitem__ = array_ops.getitem


_install(Tensor)
_install(Variable)

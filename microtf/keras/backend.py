"""tf.keras.backend: epsilon, floatx and the legacy sparse_categorical_crossentropy; imports
microtf.ops only."""
from ..eager.registry import convert_to_tensor
from ..framework import dtypes
from ..ops import array_ops, math_ops, nn_ops

__all__ = ["clear_session", "epsilon", "floatx", "sparse_categorical_crossentropy"]

_EPSILON = 1e-7


def clear_session(free_memory=True):
    """Resets Keras's global state, as Keras 3: automatic layer names start again from `dense`.
    (microtf keeps no graph or other global caches that would need freeing.)"""
    from . import naming
    naming.reset()


def epsilon():
    """The fuzz factor Keras clips probabilities with before taking logs (1e-7)."""
    return _EPSILON


def floatx():
    """Keras's default float dtype name: 'float32'."""
    return "float32"


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Per-sample -log(p[label]) for integer targets (Keras 2's backend function, kept in
    tf.keras.backend): probabilities are clipped to [eps, 1 - eps] and logged, then
    sparse_softmax_cross_entropy_with_logits runs on them; targets of another rank are
    flattened against output rows."""
    target = array_ops.cast(convert_to_tensor(target), dtypes.int64)
    output = convert_to_tensor(output)
    if not from_logits:
        output = math_ops.log(math_ops.clip_by_value(output, _EPSILON, 1 - _EPSILON))
    rank = output.ndim
    if rank and axis % rank != rank - 1:
        perm = [i for i in range(rank) if i != axis % rank] + [axis % rank]
        output = array_ops.transpose(output, perm)
    shape = output.shape._dims
    reshaped = target.ndim != rank - 1
    if reshaped:
        target = array_ops.reshape(target, [-1])
        output = array_ops.reshape(output, [-1, shape[-1] if shape else 1])
    res = nn_ops.sparse_softmax_cross_entropy_with_logits(labels=target, logits=output)
    if reshaped and rank >= 3:
        res = array_ops.reshape(res, shape[:-1])
    return res

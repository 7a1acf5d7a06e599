"""TensorFlow's exception classes (`tf.errors`); imports nothing from microtf."""


class OpError(Exception):
    """An op failed. `.message` is the text, `.op` the op name when known.

    Accepts TensorFlow's signature `(node_def, op, message)` as well as a lone message.
    """

    def __init__(self, *args):
        if len(args) >= 3:
            node_def, op, message = args[:3]
        else:
            node_def, op, message = None, None, (args[0] if args else "")
        super().__init__(message)
        self.node_def = node_def
        self.op = op
        self.message = message


class InvalidArgumentError(OpError, ValueError):
    """Bad shapes, dtypes or values given to an op. Also a ValueError, so plain Python code
    that catches ValueError catches it too."""


class NotFoundError(OpError):
    pass


class UnimplementedError(OpError):
    pass


class ResourceExhaustedError(OpError):
    pass


class InternalError(OpError):
    pass


class FailedPreconditionError(OpError):
    pass


class OutOfRangeError(OpError):
    pass


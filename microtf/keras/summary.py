"""Model.summary(): Keras 3's table of layers, output shapes and parameter counts; imports
nothing from microtf (it reads the model's layers and weights).

Column widths are Keras 3's defaults for Sequential (33, 24, 15 characters between the bars);
a longer cell widens its column instead of wrapping.
"""
import inspect

import numpy as np

__all__ = ["print_summary", "readable_memory_size"]

_WIDTHS = (33, 24, 15)


def readable_memory_size(size):
    """36.00 B, 1.50 KB, 2.25 MB: powers of 1024 with 2 decimals, as Keras."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1024:
            return "%.2f %s" % (size, unit)
        size /= 1024
    return "%.2f PB" % size


def _count_and_bytes(weights):
    count = sum(int(np.prod(w.shape, dtype=np.int64)) for w in weights)
    return count, sum(int(np.prod(w.shape, dtype=np.int64)) * w.dtype.size for w in weights)


def _shape_text(shape):
    if shape is None:
        return "?"
    if isinstance(shape, list):
        return "[%s]" % ", ".join(_shape_text(s) for s in shape)
    return "(%s)" % ", ".join("None" if d is None else str(d) for d in shape)  # Keras: (16)


def _rows(model):
    """(name (Type), output shape, params) for each layer of the model: the output shape the
    layer had when it was built ('?' before), with a None batch when the model was built from
    Input (or an input_shape with a None batch), as Keras."""
    batch_none = getattr(model, "_batch_is_none", False)
    rows = []
    for layer in model.layers:
        shape = getattr(layer, "_build_output_shape", None)
        if batch_none and isinstance(shape, tuple) and shape:
            shape = (None,) + shape[1:]
        if layer.built:
            params = "{:,}".format(_count_and_bytes(layer.weights)[0])
        else:
            params = "0 (unbuilt)"
        rows.append(("%s (%s)" % (layer.name, type(layer).__name__), _shape_text(shape), params))
    return rows


def _line(left, fill, sep, right, widths):
    return left + sep.join(fill * w for w in widths) + right


def summary_text(model):
    """The whole table as one string, each line ending with a newline (Keras's capture)."""
    rows = _rows(model)
    header = ("Layer (type)", "Output Shape", "Param #")
    widths = [max([w] + [len(r[k]) + 2 for r in rows]) for k, w in enumerate(_WIDTHS)]

    def cells(row, bar):
        name, shape, params = row
        return (bar + " " + name.ljust(widths[0] - 2) + " " + bar + " " +
                shape.ljust(widths[1] - 2) + " " + bar + " " + params.rjust(widths[2] - 2) +
                " " + bar)

    lines = ['Model: "%s"' % model.name, _line("\u250f", "\u2501", "\u2533", "\u2513", widths),
             cells(header, "\u2503"), _line("\u2521", "\u2501", "\u2547", "\u2529", widths)]
    for k, row in enumerate(rows):
        if k:
            lines.append(_line("\u251c", "\u2500", "\u253c", "\u2524", widths))
        lines.append(cells(row, "\u2502"))
    lines.append(_line("\u2514", "\u2500", "\u2534", "\u2518", widths))
    trainable = _count_and_bytes(model.trainable_weights)
    frozen = _count_and_bytes(model.non_trainable_weights)
    optimizer = getattr(model, "optimizer", None)
    built = getattr(optimizer, "built", False)  # Keras counts the optimizer once it has state
    opt = _count_and_bytes(list(optimizer.variables) if built else [])
    total = [a + b + c for a, b, c in zip(trainable, frozen, opt)]
    lines.append(" Total params: {:,} ({})".format(total[0], readable_memory_size(total[1])))
    lines.append(" Trainable params: {:,} ({})".format(trainable[0],
                                                       readable_memory_size(trainable[1])))
    lines.append(" Non-trainable params: {:,} ({})".format(frozen[0],
                                                           readable_memory_size(frozen[1])))
    if built:
        lines.append(" Optimizer params: {:,} ({})".format(opt[0], readable_memory_size(opt[1])))
    return "\n".join(lines) + "\n"


def print_summary(model, print_fn=None, **kwargs):
    """Prints the table, or passes it whole to print_fn(text, line_break=False)."""
    text = summary_text(model)
    if print_fn is None:
        print(text, end="")
        return
    try:  # Keras passes line_break=False; a plain one-argument function gets the text only
        inspect.signature(print_fn).bind(text, line_break=False)
    except (TypeError, ValueError):
        print_fn(text)
    else:
        print_fn(text, line_break=False)

"""Keras 3's progress display for fit/evaluate/predict; imports nothing from microtf.

verbose=1: `4/4 ━━━━━━━━━━━━━━━━━━━━ 0s 6ms/step - accuracy: 0.4850 - loss: 0.6935`, redrawn in
place with \\r on a terminal; when stdout is not a terminal (a file, a notebook capture, pytest)
only the final line of each bar is printed, so logs stay readable. verbose=2: one line at the end,
`4/4 - 0s - 6ms/step - accuracy: 0.5000 - loss: 0.6775`. The values shown are the logs passed in:
the running means over the batches seen so far, as Keras's metrics report them.
"""
import sys
import time

__all__ = ["Progbar"]

_WIDTH = 20            # Keras's bar width in characters
_REDRAW_SECONDS = 0.05  # at most ~20 redraws a second on a terminal: printing costs time too


def _format_step_time(seconds, unit="step"):
    """6ms/step, as Keras: whole seconds, milliseconds or microseconds."""
    if seconds >= 1 or seconds == 0:
        return "%.0fs/%s" % (seconds, unit)
    if seconds >= 1e-3:
        return "%.0fms/%s" % (seconds * 1e3, unit)
    return "%.0fus/%s" % (seconds * 1e6, unit)


def _format_eta(seconds):
    if seconds > 3600:
        return "%d:%02d:%02d" % (seconds // 3600, (seconds % 3600) // 60, seconds % 60)
    if seconds > 60:
        return "%d:%02d" % (seconds // 60, seconds % 60)
    return "%ds" % seconds


def format_logs(logs):
    """' - accuracy: 0.4850 - loss: 0.6935' (4 decimals, or 4 significant digits when tiny)."""
    parts = []
    for key, value in logs.items():
        value = float(value)
        parts.append(" - %s: %s" % (key, "%.4f" % value if abs(value) > 1e-3 else
                                    "%.4e" % value))
    return "".join(parts)


class Progbar:
    """A progress bar over `target` steps; `update(current, logs)` after each step."""

    def __init__(self, target, verbose=1, stream=None):
        self.target, self.verbose = int(target), verbose
        self.stream = sys.stdout if stream is None else stream
        isatty = getattr(self.stream, "isatty", None)
        self.dynamic = bool(isatty and isatty())
        self._start = time.perf_counter()
        self._last_draw = 0.0
        self._drawn_width = 0

    def _count(self, current):
        digits = len(str(self.target))
        return "%*d/%d" % (digits, current, self.target)

    def update(self, current, logs=None, finalize=None):
        """Redraws the bar (terminal, verbose=1), or prints the final line when `current`
        reaches the target (or `finalize` is true)."""
        if finalize is None:
            finalize = current >= self.target
        if not self.verbose or not (finalize or self.dynamic and self.verbose == 1):
            return
        now = time.perf_counter()
        if not finalize and now - self._last_draw < _REDRAW_SECONDS:
            return
        self._last_draw = now
        elapsed = now - self._start
        per_step = elapsed / current if current else 0.0
        metrics = format_logs(logs or {})
        if self.verbose == 2:
            line = "%s - %.0fs - %s%s" % (self._count(current), elapsed,
                                         _format_step_time(per_step), metrics)
        else:
            filled = int(_WIDTH * current / self.target) if self.target else _WIDTH
            bar = "\u2501" * filled
            # On a terminal the part still to do is drawn dim, as Keras does with colours.
            rest = "\x1b[2m" + "\u2501" * (_WIDTH - filled) + "\x1b[0m" if self.dynamic else \
                "\u2501" * (_WIDTH - filled)
            timing = ("%.0fs %s" % (elapsed, _format_step_time(per_step)) if finalize else
                      _format_eta(per_step * (self.target - current)))
            line = "%s %s%s %s%s" % (self._count(current), bar, rest, timing, metrics)
        if self.dynamic and self.verbose == 1:
            # Pad with spaces so that a shorter line fully covers the previous one.
            text = "\r" + line + " " * max(self._drawn_width - len(line), 0)
            self._drawn_width = len(line)
            self.stream.write(text + ("\n" if finalize else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

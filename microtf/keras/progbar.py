"""Keras 3's progress display for fit/evaluate/predict; imports nothing from microtf.

verbose=1: `4/4 ━━━━━━━━━━━━━━━━━━━━ 0s 6ms/step - accuracy: 0.4850 - loss: 0.6935`, redrawn in
place with \\r on a terminal or in a notebook (done part green, the rest white, as Keras); when
stdout is neither (a file, a pipe, pytest's capture) only the final line of each bar is printed,
so logs stay readable. verbose=2: one line at the end,
`4/4 - 0s - 6ms/step - accuracy: 0.5000 - loss: 0.6775`. While a bar is running, Keras shows the
mean over steps of the values it was given (the metrics' running means); the final line shows the
epoch's values as they are.
"""
import sys
import time

__all__ = ["Progbar", "format_logs", "is_dynamic"]

_WIDTH = 20  # Keras's bar width in characters
_BOLD, _GREEN, _WHITE, _RESET = "\x1b[1m", "\x1b[32m", "\x1b[37m", "\x1b[0m"


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


def format_logs(logs, signed=True):
    """' - accuracy: 0.4850 - loss: 0.6935': 4 decimals, or 4 significant digits when tiny.
    Keras's verbose=2 line compares the value itself with 1e-3 (signed=False), so negative
    values print in e-notation there."""
    parts = []
    for key, value in logs.items():
        value = float(value)
        plain = abs(value) > 1e-3 if signed else value > 1e-3
        parts.append(" - %s: %s" % (key, "%.4f" % value if plain else "%.4e" % value))
    return "".join(parts)


def is_dynamic(stream):
    """Whether `stream` redraws a line on \\r: a terminal, or a Jupyter notebook (as Keras)."""
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) or "ipykernel" in sys.modules


class Progbar:
    """A progress bar over `target` steps: `update(current, logs)` after each step (only needed
    for the live bar), and a last `update(target, logs, finalize=True)`."""

    def __init__(self, target, verbose=1, stream=None, interval=0.05):
        self.target, self.verbose, self.interval = int(target), verbose, interval
        self.stream = sys.stdout if stream is None else stream
        self.dynamic = is_dynamic(self.stream)
        self._start = time.perf_counter()
        self._after_first_step = None  # Keras leaves the (slow) first step out of the mean
        self._last_draw = 0.0
        self._drawn_width = 0
        self._seen = 0
        self._sums = {}  # key -> [sum of value * steps, steps], for the live bar

    def first_step_done(self):
        """Marks the end of step 1 (the bar calls it itself when it is updated at step 1)."""
        if self._after_first_step is None:
            self._after_first_step = time.perf_counter()

    def _per_step(self, current, now):
        if current > 1 and self._after_first_step is not None:
            return (now - self._after_first_step) / (current - 1)
        return (now - self._start) / current if current else 0.0

    def _count(self, current):
        return "%*d/%d" % (len(str(self.target)), current, self.target)

    def update(self, current, logs=None, finalize=None):
        """Redraws the live bar (terminal, verbose=1; at most every `interval` seconds), or
        prints the final line when finalize (default: current reached the target)."""
        if finalize is None:
            finalize = current >= self.target
        logs = logs or {}
        if not finalize:
            steps = max(current - self._seen, 1)
            for key, value in logs.items():
                total = self._sums.setdefault(key, [0.0, 0])
                total[0] += float(value) * steps
                total[1] += steps
            logs = {key: s / n for key, (s, n) in self._sums.items()}
        self._seen = current
        now = time.perf_counter()
        if current == 1 and self.verbose == 1:
            self.first_step_done()
        if not self.verbose or not (finalize or self.dynamic and self.verbose == 1):
            return
        if not finalize and now - self._last_draw < self.interval:
            return
        self._last_draw = now
        elapsed, per_step = now - self._start, self._per_step(current, now)
        if self.verbose == 2:
            self._write("%s - %.0fs - %s%s" % (self._count(current), elapsed,
                                               _format_step_time(per_step),
                                               format_logs(logs, signed=False)))
            return
        filled = int(_WIDTH * current / self.target) if self.target else _WIDTH
        when = "%.0fs" % elapsed if finalize else _format_eta(per_step * (self.target - current))
        parts = (self._count(current), "\u2501" * filled, "\u2501" * (_WIDTH - filled), when,
                 _format_step_time(per_step) + format_logs(logs))
        plain = "%s %s%s %s %s" % parts
        if self.dynamic:
            done = _GREEN + parts[1] + _RESET if filled else ""
            line = "%s%s%s %s%s%s%s %s%s%s %s" % (_BOLD, parts[0], _RESET, done, _WHITE, parts[2],
                                                 _RESET, _BOLD, parts[3], _RESET, parts[4])
            # Pad with spaces so that a shorter line fully covers the previous one.
            line = "\r" + line + " " * max(self._drawn_width - len(plain), 0)
            self._drawn_width = len(plain)
            self._write(line, newline=finalize)
        else:
            self._write(plain)

    def _write(self, text, newline=True):
        self.stream.write(text + ("\n" if newline else ""))
        self.stream.flush()

"""The digits example (Keras fit, a GradientTape loop and numpy by hand) on microtf; the code lives
in microtf/examples/train_digits.py so that `python -m microtf digits` works after a plain
`pip install "microtf[examples]"`."""
import sys

from microtf.examples.train_digits import main

sys.exit(main(sys.argv[1:]))

"""Lab 1 (TensorFlow intro) on microtf; the code lives in microtf/examples/lab1_intro.py so that
`python -m microtf lab1` works after a plain `pip install`."""
import sys

from microtf.examples.lab1_intro import main

sys.exit(main(sys.argv[1:]))

"""`python -m microtf [demo]`: runs a demo; `lab1` (the default) is Lab 1 of MIT 6.S191, `digits`
trains a small network on scikit-learn's digits (fit, a GradientTape loop, numpy by hand), `bench`
measures issue 5's performance targets against numpy (microtf/bench.py)."""
import sys

_USAGE = "usage: python -m microtf [lab1|digits|bench]"


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    command = argv[0] if argv else "lab1"
    if command == "lab1":
        from .examples.lab1_intro import main as lab1
        return lab1(argv[1:])
    if command == "digits":
        from .examples.train_digits import main as digits
        return digits(argv[1:])
    if command == "bench":
        from .bench import main as bench
        return bench(argv[1:])
    if command in ("-h", "--help", "help"):
        print(_USAGE)
        return 0
    print("microtf: unknown command %r\n%s" % (command, _USAGE), file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())

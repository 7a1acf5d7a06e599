"""Fixtures for the framework and tape tests (test_tensor, test_dtypes, test_variable,
test_tape, test_registry)."""
import pytest

import microtf as tf


@pytest.fixture
def require():
    """require("reduce_sum", ...) skips the test until those ops exist in microtf."""
    def check(*names):
        missing = [n for n in names if not hasattr(tf, n)]
        if missing:
            pytest.skip("needs tf.%s (not implemented yet)" % ", tf.".join(missing))
    return check

"""keras.utils: seeding helper; imports microtf.random."""
import random as _pyrandom

import numpy as np

from .. import random as _random

__all__ = ["set_random_seed"]


def set_random_seed(seed):
    """Seeds Python's `random`, numpy's global generator and tf.random (layer initializers
    included), as keras.utils.set_random_seed does."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError("Expected `seed` argument to be an integer. Received: seed=%r (of type "
                         "%s)" % (seed, type(seed)))
    _pyrandom.seed(int(seed))
    np.random.seed(int(seed))
    _random.set_seed(int(seed))

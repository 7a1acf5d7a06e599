"""Neural-network ops (tf.nn): activations, softmax and cross-entropies: forward beside gradient."""
__all__ = []

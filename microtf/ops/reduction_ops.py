"""Reductions (reduce_sum, reduce_mean, ...), argmax/argmin and norm: forward beside gradient."""
__all__ = []

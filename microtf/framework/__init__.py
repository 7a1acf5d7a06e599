"""DType, TensorShape, Tensor, Variable, errors and conversion: the data layer (numpy only)."""

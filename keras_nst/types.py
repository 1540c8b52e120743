"""Type aliases shared by the package's signatures."""

import os
from typing import Any
from typing import TypeAlias

import numpy as np

Tensor: TypeAlias = Any
"""A tensor of the active backend (`tf.Tensor`, `jax.Array`,
`torch.Tensor`), a Keras variable or a NumPy array: whatever `keras.ops`
accepts."""

ImageLike: TypeAlias = str | os.PathLike | np.ndarray
"""An image given as a file path or an `(H, W, 3)` RGB array in 0..255."""

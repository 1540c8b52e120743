"""The transform network's forward pass, as fast as each backend runs it."""

import numpy as np
from keras import ops

from keras_nst.fast.network import TransformNet

__all__ = ["Stylizer"]


class Stylizer:
    """Runs a `TransformNet` forward on batches of images.

    Args:
        model: the network.

    Example:

    ```python
    stylizer = Stylizer(load_transform("starry.keras"))
    pictures = stylizer(np.stack([photo_a, photo_b]))
    ```
    """

    def __init__(self, model: TransformNet):
        self.model = model

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        """Stylises `(N, H, W, 3)` images in 0..255; returns the same shape."""
        return ops.convert_to_numpy(self.model(batch, training=False))

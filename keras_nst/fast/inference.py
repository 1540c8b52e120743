"""The transform network's forward pass, as fast as each backend runs it."""

import numpy as np
from keras import ops

from keras_nst.backend import compiled_forward
from keras_nst.fast.network import TransformNet

__all__ = ["Stylizer"]


class Stylizer:
    """Runs a `TransformNet` forward on batches of images, compiled.

    The pass is the backend's fastest (`keras_nst.backend.
    compiled_forward`): one XLA program per input shape on JAX, one
    `tf.function` on TensorFlow, no autograd on PyTorch. It uses the
    network's weights as they are when the `Stylizer` is made.

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
        self._forward = compiled_forward(model)

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        """Stylises `(N, H, W, 3)` images in 0..255; returns the same shape."""
        batch = ops.convert_to_tensor(np.asarray(batch, "float32"))
        return ops.convert_to_numpy(self._forward(batch))

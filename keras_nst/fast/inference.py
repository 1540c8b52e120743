"""The transform network's forward pass, as fast as each backend runs it."""

import numpy as np
from keras import ops

from keras_nst.backend import compiled_forward
from keras_nst.backend import data_parallel_forward
from keras_nst.fast.network import TransformNet

__all__ = ["Stylizer"]


class Stylizer:
    """Runs a `TransformNet` forward on batches of images, compiled.

    The pass is the backend's fastest (`keras_nst.backend.
    compiled_forward`): one XLA program per input shape on JAX, one
    `tf.function` on TensorFlow, no autograd on PyTorch. It uses the
    network's weights as they are when the `Stylizer` is made.

    With `distribute`, each batch is split across every device
    (`keras.distribution.DataParallel` on JAX, `tf.distribute.
    MirroredStrategy` on TensorFlow; the PyTorch backend runs on one
    device). A batch that is no multiple of the device count is padded
    with copies of its last image, whose results are dropped, so batches
    of a multiple of `replicas` images waste nothing.

    Args:
        model: the network.
        distribute: split batches across every device.

    Raises:
        ValueError: `distribute` on the PyTorch backend.

    Example:

    ```python
    stylizer = Stylizer(load_transform("starry.keras"))
    pictures = stylizer(np.stack([photo_a, photo_b]))
    ```
    """

    def __init__(self, model: TransformNet, distribute: bool = False):
        self.model = model
        if distribute:
            self._forward, self.replicas = data_parallel_forward(model)
        else:
            self._forward, self.replicas = compiled_forward(model), 1

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        """Stylises `(N, H, W, 3)` images in 0..255; returns the same shape."""
        batch = np.asarray(batch, "float32")
        count = len(batch)
        spare = -count % self.replicas
        if spare:
            batch = np.concatenate([batch, np.repeat(batch[-1:], spare, 0)])
        output = self._forward(ops.convert_to_tensor(batch))
        return ops.convert_to_numpy(output)[:count]

"""What the fast style transfer tests share: a tiny, fast configuration."""

import keras
import numpy as np

TINY = {
    "weights": None,
    "size": 32,
    "batch_size": 2,
    "style_layers": ("conv1_2", "conv2_2"),
    "content_layers": ("conv2_2",),
    "filters": 4,
    "residual_blocks": 1,
}
"""`TrainConfig` overrides for unit tests: random VGG19, 32 px, 4 filters."""


def weights_of(model: keras.Model) -> list[np.ndarray]:
    """A model's weights as NumPy arrays, in order."""
    return [keras.ops.convert_to_numpy(w) for w in model.weights]

"""Training data for fast style transfer: random crops of content images.

A `keras.utils.PyDataset`, so the same loader feeds `fit` on every backend
(no `tf.data`), optionally from worker threads or processes.
"""

import os
from typing import Any

import keras
import numpy as np

from keras_nst.fast.config import TrainConfig
from keras_nst.image_io import IMAGE_EXTENSIONS
from keras_nst.image_io import load_image
from keras_nst.image_io import resize_image

__all__ = ["RandomCrops", "find_images"]


def find_images(directory: str | os.PathLike) -> list[str]:
    """Returns every `.png`, `.jpg` and `.jpeg` file under `directory`.

    Args:
        directory: searched recursively.

    Returns:
        The paths, sorted.

    Raises:
        FileNotFoundError: `directory` is not a directory.
        ValueError: it holds no image files.
    """
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"Not a directory: '{directory}'")
    files = sorted(
        os.path.join(root, name)
        for root, _, names in os.walk(directory)
        for name in names
        if name.lower().endswith(IMAGE_EXTENSIONS)
    )
    if not files:
        raise ValueError(
            f"No images ({', '.join(IMAGE_EXTENSIONS)}) under '{directory}'."
        )
    return files


class RandomCrops(keras.utils.PyDataset):
    """Batches of random square crops from a folder of images.

    Each batch draws `batch_size` images (with replacement, so a folder of
    two photos works as well as COCO), scales each so its shorter side is
    a random length between `size` and `2 * size` (never below `size`),
    cuts a random `size x size` crop and flips it left-right half of the
    time. Batch `i` depends only on `seed` and `first + i`, so a resumed
    run sees the same batches it would have seen.

    The defaults are `TrainConfig`'s.

    Args:
        directory: the folder of content images (searched recursively).
        size: the crop side in pixels.
        batch_size: crops per batch.
        steps: the number of batches in all, counting the `first` done
            before (one epoch of `fit` is the `steps - first` left).
        seed: the seed of the draws.
        first: the index of the first batch, for resuming.
        **kwargs: `keras.utils.PyDataset` options (`workers`,
            `use_multiprocessing`, `max_queue_size`).

    Example:

    ```python
    crops = RandomCrops("examples/photos", size=128, batch_size=4, steps=10)
    crops[0].shape  # (4, 128, 128, 3), float32 RGB in 0..255
    ```
    """

    def __init__(
        self,
        directory: str | os.PathLike,
        size: int = TrainConfig.size,
        batch_size: int = TrainConfig.batch_size,
        steps: int = TrainConfig.steps,
        seed: int = TrainConfig.seed,
        first: int = 0,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        for name, value in (("size", size), ("batch_size", batch_size)):
            if value < 1:
                raise ValueError(
                    f"Expected {name} to be positive. Received: {value}"
                )
        self.files = find_images(directory)
        self.size = size
        self.batch_size = batch_size
        self.steps = steps
        self.seed = seed
        self.first = first

    def __len__(self) -> int:
        return max(0, self.steps - self.first)

    def __getitem__(self, index: int) -> np.ndarray:
        rng = np.random.default_rng([self.seed, self.first + index])
        picks = rng.integers(0, len(self.files), self.batch_size)
        return np.stack([self._crop(self.files[i], rng) for i in picks])

    def _crop(self, path: str, rng: np.random.Generator) -> np.ndarray:
        image = load_image(path)
        height, width = image.shape[:2]
        shorter = rng.integers(self.size, 2 * self.size + 1)
        scale = shorter / min(height, width)
        shape = (
            max(self.size, round(height * scale)),
            max(self.size, round(width * scale)),
        )
        image = resize_image(image, shape)
        top = rng.integers(0, shape[0] - self.size + 1)
        left = rng.integers(0, shape[1] - self.size + 1)
        crop = image[top : top + self.size, left : left + self.size]
        if rng.random() < 0.5:
            crop = crop[:, ::-1]
        return np.ascontiguousarray(crop, dtype="float32")

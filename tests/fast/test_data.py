import inspect
import os

import numpy as np
import pytest

from keras_nst.fast.config import TrainConfig
from keras_nst.fast.data import RandomCrops
from keras_nst.fast.data import find_images


def test_random_crops_are_reproducible_and_resumable(photos):
    folder, _ = photos
    assert [os.path.basename(f) for f in find_images(folder)] == [
        "a.png",
        "b.jpg",
    ]
    data = RandomCrops(folder, size=16, batch_size=3, steps=5, seed=7)
    assert len(data) == 5
    batch = data[3]
    assert batch.shape == (3, 16, 16, 3) and batch.dtype == np.float32
    np.testing.assert_array_equal(batch, data[3])
    resumed = RandomCrops(
        folder, size=16, batch_size=3, steps=5, seed=7, first=3
    )
    assert len(resumed) == 2
    np.testing.assert_array_equal(resumed[0], batch)
    assert not np.array_equal(data[0], data[1])
    other_seed = RandomCrops(folder, size=16, batch_size=3, steps=5, seed=8)
    assert not np.array_equal(other_seed[3], batch)


def test_random_crops_defaults_are_the_training_defaults(photos):
    folder, _ = photos
    defaults = inspect.signature(RandomCrops).parameters
    config = TrainConfig()
    for name in ("size", "batch_size", "steps", "seed"):
        assert defaults[name].default == getattr(config, name), name
    assert len(RandomCrops(folder)) == config.steps


def test_random_crops_check_their_sizes(photos):
    folder, _ = photos
    with pytest.raises(ValueError, match="batch_size to be positive"):
        RandomCrops(folder, size=16, batch_size=0)


def test_find_images_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="Not a directory"):
        find_images(tmp_path / "missing")
    with pytest.raises(ValueError, match="No images"):
        find_images(tmp_path)

"""`train` and `stylize`: fast style transfer in one call each."""

import contextlib
import math
import os
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from keras_nst.atomic import atomic_write
from keras_nst.backend import data_parallel
from keras_nst.callbacks import StopOnSignal
from keras_nst.errors import Interrupted
from keras_nst.fast.callbacks import LossLog
from keras_nst.fast.callbacks import SampleImage
from keras_nst.fast.callbacks import optimizer_steps
from keras_nst.fast.checkpoint import Checkpoint
from keras_nst.fast.checkpoint import read_checkpoint
from keras_nst.fast.checkpoint import restore_optimizer
from keras_nst.fast.config import CHECKPOINT_EVERY
from keras_nst.fast.config import SAMPLE_EVERY
from keras_nst.fast.config import STYLIZE_BATCH_SIZE
from keras_nst.fast.config import TrainConfig
from keras_nst.fast.config import resolve_train_config
from keras_nst.fast.data import RandomCrops
from keras_nst.fast.inference import Stylizer
from keras_nst.fast.memory import check_stylize_memory
from keras_nst.fast.memory import check_train_memory
from keras_nst.fast.network import TransformNet
from keras_nst.fast.network import load_transform
from keras_nst.fast.trainer import FastStyleTrainer
from keras_nst.image_io import as_batch
from keras_nst.image_io import load_image
from keras_nst.image_io import resize_image
from keras_nst.interrupt import requested_signal
from keras_nst.interrupt import stop_signals

__all__ = ["steps_for", "stylize", "train"]


def train(
    style: str | os.PathLike | np.ndarray,
    data: str | os.PathLike,
    output: str | os.PathLike,
    config: TrainConfig | None = None,
    *,
    checkpoint_dir: str | os.PathLike | None = None,
    checkpoint_every: int = CHECKPOINT_EVERY,
    sample: str | os.PathLike | np.ndarray | None = None,
    sample_every: int = SAMPLE_EVERY,
    resume: bool = False,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    verbose: str | int = "auto",
    workers: int = 1,
    distribute: bool = False,
    log: str | os.PathLike | None = None,
    **overrides: Any,
) -> FastStyleTrainer:
    """Trains a transformation network for one style and saves it.

    The run is reproducible from `config.seed` alone (the crops and the
    network's initial weights); Keras' global random seed is not touched.

    Args:
        style: the style image (path or array).
        data: a folder of content images (any number; random crops).
        output: where the trained network goes, a `.keras` file.
        config: a `TrainConfig`; `None` for the defaults.
        checkpoint_dir: where checkpoints go; `None` uses
            `<output without extension>_checkpoint/`.
        checkpoint_every: steps between checkpoints (the last step is
            always saved).
        sample: an image to stylise every `sample_every` steps into the
            checkpoint folder; `None` takes the first content image.
        sample_every: steps between samples.
        resume: continue from the checkpoint in `checkpoint_dir`: the
            network's weights, the optimiser's state and the step count;
            the crops continue where they stopped.
        callbacks: more Keras callbacks.
        verbose: as for `fit`.
        workers: data loading workers (`keras.utils.PyDataset`).
        distribute: train data-parallel over every device, with the
            backend's own engine (`keras_nst.backend.data_parallel`:
            `keras.distribution.DataParallel` on JAX,
            `tf.distribute.MirroredStrategy` on TensorFlow; not on
            PyTorch). `batch_size` is the global batch.
        log: a JSON-lines file of each step's losses (`LossLog`); a
            resumed run continues it.
        **overrides: `TrainConfig` fields to change.

    Returns:
        The trainer; `trainer.transform` is the trained network.

    Raises:
        ValueError: a bad setting, no images in `data`, or `output` not a
            `.keras` path.
        FileNotFoundError: `resume` without a checkpoint, or a missing
            input.
        keras_nst.errors.InsufficientMemoryError: on a CPU, a training
            step would need more memory than is available.
        keras_nst.errors.Interrupted: SIGINT or SIGTERM stopped the
            training after a whole step; its `iteration` is the step the
            checkpoint holds, for `resume=True`.

    Example:

    ```python
    from keras_nst import fast

    fast.train(
        "examples/starry_night.jpg", "examples/photos", "starry.keras",
        size=128, steps=2000,
    )
    pictures = fast.stylize("starry.keras", ["examples/chelsea.png"])
    ```
    """
    config = resolve_train_config(config, **overrides)
    output = os.fspath(output)
    if not output.endswith(".keras"):
        raise ValueError(f"Expected the output to end in .keras: '{output}'")
    check_train_memory(config)
    if checkpoint_dir is None:
        checkpoint_dir = os.path.splitext(output)[0] + "_checkpoint"
    checkpoint_dir = os.fspath(checkpoint_dir)
    style_size = config.style_size or config.size
    style_image = (
        load_image(style, style_size)
        if isinstance(style, str | os.PathLike)
        else resize_image(as_batch(style)[0], style_size)
    )
    first, transform = read_checkpoint(checkpoint_dir) if resume else (0, None)
    dataset = RandomCrops(
        data, config.size, config.batch_size, config.steps, config.seed,
        first=first, workers=workers,
    )  # fmt: skip
    if sample is None:
        sample = dataset.files[0]
    if isinstance(sample, str | os.PathLike):
        sample = load_image(sample, config.size)
    callbacks = [
        # The log first: a step is logged before its checkpoint is saved,
        # so a run stopped in between still has every step up to the
        # checkpoint in its log when it resumes.
        *([LossLog(log)] if log is not None else []),
        Checkpoint(checkpoint_dir, checkpoint_every),
        SampleImage(sample, checkpoint_dir, sample_every),
        *callbacks,
        StopOnSignal(),
    ]
    scope = data_parallel().scope() if distribute else contextlib.nullcontext()
    with scope:
        trainer = FastStyleTrainer(style_image, config, transform=transform)
        trainer.compile(optimizer=keras.optimizers.Adam(config.learning_rate))
        trainer.optimizer.build(trainer.trainable_variables)
        if resume:
            _restore(trainer.optimizer, checkpoint_dir, first)
        with stop_signals():
            if len(dataset):
                trainer.fit(
                    dataset,
                    epochs=1,
                    # The batches are random draws already; in order,
                    # batch i is step i, which is what makes a resumed run
                    # continue exactly.
                    shuffle=False,
                    callbacks=callbacks,
                    verbose=verbose,
                )
            if requested_signal() is not None:
                # The checkpoint has the last step (Checkpoint saves when
                # fit ends); the network is not trained: no output.
                interrupted = Interrupted(requested_signal())
                interrupted.iteration = optimizer_steps(trainer)
                raise interrupted
            atomic_write(output, trainer.transform.save)
    return trainer


def _restore(optimizer, directory: str, steps: int) -> None:
    restored = restore_optimizer(optimizer, directory)
    if restored != steps:
        raise ValueError(
            f"The checkpoint in '{directory}' is inconsistent: its state "
            f"says {steps} steps, its optimiser {restored}."
        )


def stylize(
    model: TransformNet | str | os.PathLike,
    images: Sequence[str | os.PathLike | np.ndarray],
    size: int | None = None,
    batch_size: int = STYLIZE_BATCH_SIZE,
    distribute: bool = False,
) -> list[np.ndarray]:
    """Stylises images with a trained network, one forward pass each.

    Every image is read and checked, and the memory the largest pass
    needs, before the first pass runs: a bad input fails the call before
    any work is done.

    Args:
        model: a `TransformNet` or the path of its `.keras` file.
        images: paths or `(H, W, 3)` RGB arrays in 0..255, any size from
            1x1 up.
        size: resize each so its longest side is `size`; `None` keeps it.
        batch_size: how many same-shaped images go through together.
        distribute: split each batch across every device (`Stylizer`);
            a `batch_size` that is a multiple of the device count wastes
            nothing.

    Returns:
        The stylised images, `(H, W, 3)` float32 in 0..255, in order.

    Raises:
        FileNotFoundError: a missing image or model file.
        ValueError: an unreadable image or model, or an array that is not
            an `(H, W, 3)` image of at least 1x1.
        keras_nst.errors.InsufficientMemoryError: on a CPU, a pass would
            need more memory than is available.
        ValueError: `distribute` on the PyTorch backend.

    Example:

    ```python
    pictures = stylize("starry.keras", ["cat.jpg", photo_array], size=512)
    ```
    """
    if batch_size < 1:
        raise ValueError(
            f"Expected batch_size to be positive. Received: {batch_size}"
        )
    arrays = [_read(image, size) for image in images]
    if not isinstance(model, TransformNet):
        model = load_transform(model)
    check_stylize_memory(
        [array.shape for array in arrays], batch_size, model.filters
    )
    stylizer = Stylizer(model, distribute)
    # Batch images of the same shape together.
    by_shape: dict[tuple[int, ...], list[int]] = {}
    for index, array in enumerate(arrays):
        by_shape.setdefault(array.shape, []).append(index)
    results: list[np.ndarray | None] = [None] * len(arrays)
    for indices in by_shape.values():
        for start in range(0, len(indices), batch_size):
            chunk = indices[start : start + batch_size]
            out = stylizer(np.stack([arrays[i] for i in chunk]))
            for i, image in zip(chunk, out, strict=True):
                results[i] = image
    return results


def _read(image: str | os.PathLike | np.ndarray, size: int | None):
    """An image to stylise as an `(H, W, 3)` float32 array, checked."""
    if isinstance(image, str | os.PathLike):
        return load_image(image, size)
    array = as_batch(image)[0]
    if 0 in array.shape:
        raise ValueError(
            "Expected an image of at least 1x1 pixels. "
            f"Received: shape={array.shape}"
        )
    return resize_image(array, size) if size else array


def steps_for(epochs: int, images: int, batch_size: int) -> int:
    """Returns the number of steps for `epochs` passes over `images` images.

    Args:
        epochs: passes over the data.
        images: the number of content images.
        batch_size: crops per step.

    Returns:
        `epochs * ceil(images / batch_size)`.
    """
    return epochs * math.ceil(images / batch_size)

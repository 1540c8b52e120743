"""Fast (feed-forward) style transfer: train a network, stylise in one pass.

Johnson, Alahi & Fei-Fei (2016) train a network to minimise the same
perceptual losses the optimisation method minimises per image: the content
loss against the input photo's own VGG19 features and the style loss
against one painting's Gram matrices, plus total variation. After training,
one forward pass stylises any photo.

`FastStyleTrainer` is a `keras.Model` whose `compute_loss` holds those
losses; `fit` runs Keras' own `train_step` on each backend, so Keras'
distribution (`keras.distribution.DataParallel` on JAX,
`tf.distribute.MirroredStrategy` on TensorFlow) applies unchanged.
"""

import contextlib
import json
import math
import os
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
from keras import ops

from keras_nst.backend import data_parallel
from keras_nst.backend import replica_share
from keras_nst.config import TrainConfig
from keras_nst.config import resolve_train_config
from keras_nst.data import RandomCrops
from keras_nst.features import VGG19Features
from keras_nst.image_io import as_batch
from keras_nst.image_io import load_image
from keras_nst.image_io import resize_image
from keras_nst.image_io import save_image
from keras_nst.losses import content_layers_loss
from keras_nst.losses import equal_weights
from keras_nst.losses import gram_matrix
from keras_nst.losses import layer_style_loss
from keras_nst.losses import target_gram_scale
from keras_nst.losses import total_variation_loss
from keras_nst.transform import TransformNet

__all__ = [
    "Checkpoint",
    "FastStyleTrainer",
    "LossLog",
    "SampleImage",
    "load_transform",
    "steps_for",
    "stylize",
    "train",
]


class FastStyleTrainer(keras.Model):
    """Trains a `TransformNet` against one style image.

    Calling the model runs the transformation network. `compute_loss`
    (which Keras' `train_step` calls) takes the input batch `x` and the
    network's output `y_pred`:

    `L = alpha * mean_l (F_l(y) - F_l(x))^2
         + beta * sum_l w_l |G_l(y) - A_l|^2 / |A_l|^2
         + gamma * TV(y)`,

    averaged over the batch, with `F_l` VGG19 features, `G_l` their Gram
    matrices and `A_l` the style image's. Each style layer's term is its
    relative Gram error, as in the `gatys` preset, so the layers count
    equally. The loss terms are logged as `content`, `style` and `tv`.

    Args:
        style_image: `(H, W, 3)` RGB array in 0..255, already at the size
            its Grams should be taken at.
        config: a `TrainConfig`; `None` for the defaults.
        transform: the network to train; `None` builds a new one.
        extractor: a `VGG19Features` with the config's layers to reuse.

    Example:

    ```python
    trainer = FastStyleTrainer(load_image("starry_night.jpg", 256))
    trainer.compile(optimizer=keras.optimizers.Adam(1e-3))
    trainer.fit(RandomCrops("photos/", steps=2000))
    trainer.transform.save("starry_night.keras")
    ```
    """

    def __init__(
        self,
        style_image: np.ndarray,
        config: TrainConfig | None = None,
        transform: TransformNet | None = None,
        extractor: VGG19Features | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.config = config = resolve_train_config(config)
        self.transform = transform or TransformNet(
            config.filters, config.residual_blocks
        )
        if extractor is None:
            extractor = VGG19Features(
                config.content_layers + config.style_layers,
                pooling=config.pooling,
                weights=config.weights,
            )
        extractor.trainable = False
        self.extractor = extractor
        style = as_batch(style_image)
        extractor.check_image_shape(style.shape, "style image")
        features = extractor(style)
        self.style_targets = {
            name: keras.Variable(
                gram_matrix(features[name]), trainable=False, name=f"A_{name}"
            )
            for name in config.style_layers
        }
        self.style_weights = {
            name: weight * target_gram_scale(self.style_targets[name])
            for name, weight in equal_weights(config.style_layers).items()
        }
        self.content_weights = equal_weights(config.content_layers)
        self.trackers = {
            name: keras.metrics.Mean(name=name)
            for name in ("content", "style", "tv")
        }

    def call(self, images, training=False):
        return self.transform(images, training=training)

    def compute_losses(self, images, stylised) -> dict[str, Any]:
        """The loss terms for input `images` and the network's output.

        Returns:
            `{"total", "content", "style", "tv"}` scalar tensors, each a
            mean over the batch.
        """
        config = self.config
        batch = ops.cast(ops.shape(images)[0], "float32")
        features = self.extractor(stylised)
        targets = {}
        if config.content_layers:
            # Only the content layers' features of the input are needed.
            photo = self.extractor(images)
            targets = {
                name: ops.stop_gradient(photo[name])
                for name in config.content_layers
            }
        content = content_layers_loss(
            features, targets, self.content_weights, "mean"
        )
        style = 0.0
        for name, weight in self.style_weights.items():
            style = style + weight * layer_style_loss(
                gram_matrix(features[name]), self.style_targets[name]
            )
        losses = {
            "content": ops.convert_to_tensor(content, "float32"),
            "style": ops.convert_to_tensor(style, "float32") / batch,
            "tv": total_variation_loss(stylised) / batch,
        }
        total = (
            config.content_weight * losses["content"]
            + config.style_weight * losses["style"]
            + config.tv_weight * losses["tv"]
        )
        return {"total": total, **losses}

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        losses = self.compute_losses(x, y_pred)
        for name, tracker in self.trackers.items():
            tracker.update_state(losses[name])
        # Under tf.distribute each replica's share of the global mean.
        return losses["total"] * replica_share()


class Checkpoint(keras.callbacks.Callback):
    """Saves the network and the optimiser every `every` steps.

    For `train(..., resume=True)`. Writes `directory/transform.keras`,
    `directory/optimizer.npz` and `directory/state.json` (the number of
    steps done), each atomically.

    Args:
        directory: where the checkpoint goes (created if missing).
        every: steps between checkpoints.
        first: steps done before this `fit` call (when resuming).
    """

    def __init__(self, directory: str, every: int, first: int = 0):
        super().__init__()
        if every < 1:
            raise ValueError(
                f"Expected every to be positive. Received: {every}"
            )
        self.directory = directory
        self.every = every
        self.first = first
        self.steps_done = first

    def on_train_batch_end(self, batch, logs=None):
        self.steps_done = self.first + batch + 1
        if self.steps_done % self.every == 0:
            self.save()

    def save(self) -> None:
        os.makedirs(self.directory, exist_ok=True)
        model = self.model
        _atomic(
            os.path.join(self.directory, "transform.keras"),
            model.transform.save,
        )
        values = {
            str(i): np.asarray(v.numpy())
            for i, v in enumerate(model.optimizer.variables)
        }
        _atomic(
            os.path.join(self.directory, "optimizer.npz"),
            lambda path: np.savez(path, **values),
        )
        state = {"steps": self.steps_done}
        _atomic(
            os.path.join(self.directory, "state.json"),
            lambda path: _write_text(path, json.dumps(state)),
        )


class LossLog(keras.callbacks.Callback):
    """Appends one JSON line per training step to `path`.

    The keys are `step`, `loss`, `content`, `style` and `tv`, each the
    value of that step's batch.

    Keras logs running means over the epoch (here the whole `fit` call);
    the step's own value is recovered as `n m_n - (n - 1) m_{n-1}`.

    Args:
        path: the JSON lines file, appended to.
        first: steps done before this `fit` call (when resuming).
    """

    def __init__(self, path: str, first: int = 0):
        super().__init__()
        self.path = path
        self.first = first
        self._file = None
        self._means = {}

    def on_train_begin(self, logs=None):
        directory = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(directory, exist_ok=True)
        # A resumed run continues the same log; the file stays open for
        # the whole fit and is closed in on_train_end.
        self._file = open(self.path, "a" if self.first else "w")  # noqa: SIM115
        self._means = {}

    def on_train_batch_end(self, batch, logs=None):
        record = {"step": self.first + batch + 1}
        count = batch + 1
        for key in ("loss", "content", "style", "tv"):
            if logs and key in logs:
                mean = float(np.asarray(logs[key]))
                previous = self._means.get(key, 0.0)
                record[key] = count * mean - (count - 1) * previous
                self._means[key] = mean
        self._file.write(json.dumps(record) + "\n")
        self._file.flush()

    def on_train_end(self, logs=None):
        if self._file is not None:
            self._file.close()
            self._file = None


class SampleImage(keras.callbacks.Callback):
    """Stylises one image every `every` steps.

    Each goes to `directory/sample_{step:06d}.png`.

    Args:
        image: an `(H, W, 3)` RGB array in 0..255.
        directory: where the samples go (created if missing).
        every: steps between samples.
        first: steps done before this `fit` call (when resuming).
    """

    def __init__(
        self, image: np.ndarray, directory: str, every: int, first: int = 0
    ):
        super().__init__()
        self.image = as_batch(image)
        self.directory = directory
        self.every = every
        self.first = first
        self.saved: list[str] = []

    def on_train_batch_end(self, batch, logs=None):
        step = self.first + batch + 1
        if step % self.every:
            return
        os.makedirs(self.directory, exist_ok=True)
        path = os.path.join(self.directory, f"sample_{step:06d}.png")
        result = self.model.transform(self.image, training=False)
        save_image(path, ops.convert_to_numpy(result)[0])
        self.saved.append(path)


def _write_text(path, text):
    with open(path, "w") as f:
        f.write(text)


def _atomic(path: str, write) -> None:
    # Write beside the target and rename, so an interrupted save never
    # leaves a half-written checkpoint. Keras wants the real extension.
    root, extension = os.path.splitext(path)
    partial = f"{root}.partial{extension}"
    write(partial)
    os.replace(partial, path)


def train(
    style: str | os.PathLike | np.ndarray,
    data: str | os.PathLike,
    output: str | os.PathLike,
    config: TrainConfig | None = None,
    *,
    checkpoint_dir: str | os.PathLike | None = None,
    checkpoint_every: int = 500,
    sample: str | os.PathLike | np.ndarray | None = None,
    sample_every: int = 500,
    resume: bool = False,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    verbose: str | int = "auto",
    workers: int = 1,
    distribute: bool = False,
    log: str | os.PathLike | None = None,
    **overrides: Any,
) -> FastStyleTrainer:
    """Trains a transformation network for one style and saves it.

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
        log: a JSON-lines file to append each step's losses to.
        **overrides: `TrainConfig` fields to change.

    Returns:
        The trainer; `trainer.transform` is the trained network.

    Raises:
        ValueError: a bad setting, no images in `data`, or `output` not a
            `.keras` path.
        FileNotFoundError: `resume` without a checkpoint, or a missing
            input.

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
    if checkpoint_dir is None:
        checkpoint_dir = os.path.splitext(output)[0] + "_checkpoint"
    checkpoint_dir = os.fspath(checkpoint_dir)
    style_image = (
        load_image(style, config.style_size or config.size)
        if isinstance(style, str | os.PathLike)
        else resize_image(as_batch(style)[0], config.style_size or config.size)
    )
    first = 0
    transform = None
    if resume:
        first, transform = _read_checkpoint(checkpoint_dir)
    dataset = RandomCrops(
        data, config.size, config.batch_size, config.steps, config.seed,
        first=first, workers=workers,
    )  # fmt: skip
    if sample is None:
        sample = dataset.files[0]
    if isinstance(sample, str | os.PathLike):
        sample = load_image(sample, config.size)
    if log is not None:
        callbacks = [LossLog(os.fspath(log), first), *callbacks]
    keras.utils.set_random_seed(config.seed)
    scope = data_parallel().scope() if distribute else contextlib.nullcontext()
    with scope:
        return _fit(
            style_image, dataset, output, config, transform, first, resume,
            checkpoint_dir, checkpoint_every, sample, sample_every, callbacks,
            verbose,
        )  # fmt: skip


def _fit(
    style_image, dataset, output, config, transform, first, resume,
    checkpoint_dir, checkpoint_every, sample, sample_every, callbacks, verbose,
):  # fmt: skip
    trainer = FastStyleTrainer(style_image, config, transform=transform)
    trainer.compile(optimizer=keras.optimizers.Adam(config.learning_rate))
    trainer.optimizer.build(trainer.trainable_variables)
    if resume:
        _restore_optimizer(trainer.optimizer, checkpoint_dir)
    checkpoint = Checkpoint(checkpoint_dir, checkpoint_every, first)
    if len(dataset):
        trainer.fit(
            dataset,
            epochs=1,
            # The batches are random draws already; in order, batch i is
            # step i, which is what makes a resumed run continue exactly.
            shuffle=False,
            callbacks=[
                checkpoint,
                SampleImage(sample, checkpoint_dir, sample_every, first),
                *callbacks,
            ],
            verbose=verbose,
        )
        if checkpoint.steps_done % checkpoint_every:
            checkpoint.save()
    _atomic(output, trainer.transform.save)
    return trainer


def _read_checkpoint(directory: str) -> tuple[int, TransformNet]:
    state_path = os.path.join(directory, "state.json")
    if not os.path.isfile(state_path):
        raise FileNotFoundError(f"No checkpoint to resume in '{directory}'")
    with open(state_path) as f:
        steps = int(json.load(f)["steps"])
    return steps, load_transform(os.path.join(directory, "transform.keras"))


def _restore_optimizer(optimizer, directory: str) -> None:
    with np.load(os.path.join(directory, "optimizer.npz")) as saved:
        if len(saved.files) != len(optimizer.variables):
            raise ValueError(
                f"The checkpoint in '{directory}' has "
                f"{len(saved.files)} optimiser variables; this run has "
                f"{len(optimizer.variables)}."
            )
        for i, variable in enumerate(optimizer.variables):
            variable.assign(saved[str(i)])


def load_transform(path: str | os.PathLike) -> TransformNet:
    """Loads a trained `TransformNet` from a `.keras` file, on any backend.

    Args:
        path: a `.keras` file written by `train` (or `keras-nst train`).

    Returns:
        The `TransformNet`, a `keras.Model`: call it on `(batch, H, W, 3)`
        RGB images in 0..255.

    Raises:
        FileNotFoundError: there is no such file.
        ValueError: the file holds another kind of model.

    Example:

    ```python
    network = load_transform("examples/models/starry_night.keras")
    stylised = network(keras.ops.zeros((1, 64, 64, 3)))  # (1, 64, 64, 3)
    ```
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Model file not found: '{path}'")
    model = keras.saving.load_model(path, compile=False)
    if not isinstance(model, TransformNet):
        raise ValueError(
            f"'{path}' holds a {type(model).__name__}, not a TransformNet."
        )
    return model


def stylize(
    model: TransformNet | str | os.PathLike,
    images: Sequence[np.ndarray | str | os.PathLike],
    size: int | None = None,
    batch_size: int = 1,
) -> list[np.ndarray]:
    """Stylises images with a trained network, one forward pass each.

    Args:
        model: a `TransformNet` or the path of its `.keras` file.
        images: paths or `(H, W, 3)` RGB arrays in 0..255, any sizes.
        size: resize each so its longest side is `size`; `None` keeps it.
        batch_size: how many same-shaped images go through together.

    Returns:
        The stylised images, `(H, W, 3)` float32 in 0..255, in order.
    """
    if not isinstance(model, TransformNet):
        model = load_transform(model)
    arrays = [
        load_image(image, size)
        if isinstance(image, str | os.PathLike)
        else (resize_image(image, size) if size else as_batch(image)[0])
        for image in images
    ]
    results: list[np.ndarray | None] = [None] * len(arrays)
    # Batch images of the same shape together.
    by_shape: dict[tuple[int, ...], list[int]] = {}
    for index, array in enumerate(arrays):
        by_shape.setdefault(array.shape, []).append(index)
    for indices in by_shape.values():
        for start in range(0, len(indices), batch_size):
            chunk = indices[start : start + batch_size]
            batch = np.stack([arrays[i] for i in chunk])
            out = ops.convert_to_numpy(model(batch, training=False))
            for i, image in zip(chunk, out, strict=True):
                results[i] = image
    return results


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

"""One call from a content and a style image to a stylised image."""

import gc
import os
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from keras_nst.allocator import release_free_memory
from keras_nst.carry import ScaleState
from keras_nst.config import Config
from keras_nst.errors import Interrupted
from keras_nst.features import VGG19Features
from keras_nst.features import build_extractor
from keras_nst.image_io import as_batch
from keras_nst.image_io import resize_image
from keras_nst.inputs import initial_image
from keras_nst.inputs import load_styles
from keras_nst.inputs import model_inputs
from keras_nst.inputs import read_image as _read
from keras_nst.memory import check_transfer_memory
from keras_nst.memory import fit_tile_size
from keras_nst.model import StyleTransferModel
from keras_nst.optimizers import optimizer_for
from keras_nst.presets import resolve_config
from keras_nst.resume import StateCheckpoint
from keras_nst.resume import load_state
from keras_nst.schedule import scale_configs
from keras_nst.schedule import scale_iterations
from keras_nst.types import ImageLike

__all__ = [
    "build_model",
    "initial_image",
    "load_styles",
    "optimize",
    "transfer",
]


def build_model(
    content: ImageLike,
    style: ImageLike | Sequence[ImageLike],
    config: Config | str | None = None,
    *,
    start: np.ndarray | None = None,
    extractor: VGG19Features | None = None,
    **overrides: Any,
) -> StyleTransferModel:
    """Loads the images and returns a compiled `StyleTransferModel`.

    For users who want to call `fit` (or `model.optimize`) themselves. The
    images are read and resized here, then prepared for the config's
    colour preservation and style blend (`keras_nst.inputs.model_inputs`).

    Args:
        content: the content image: a path, or an `(H, W, 3)` RGB array in
            0..255. It is resized so its longest side is `config.size`.
        style: the style image, likewise, resized to `config.style_size`,
            or `config.style_scale` times `config.size`, or `config.size`
            (`keras_nst.schedule.style_side`), with no detail finer than
            `config.style_detail` of its own
            (`keras_nst.image_io.resize_style_image`); or a list of them,
            blended by `config.style_blend_weights`.
        config: a `Config`, a preset name, or `None` for `"gatys"`.
        start: an image to start from instead of `config.init`; resized to
            the content's shape.
        extractor: a `VGG19Features` to reuse (it must have the config's
            layers and pooling).
        **overrides: `Config` fields to change.

    Returns:
        A compiled `StyleTransferModel`.

    Raises:
        ValueError: a bad setting, an unreadable image, or an image too
            small for the layers.
        keras_nst.errors.WeightsError: the VGG19 weights are missing.

    Example:

    ```python
    model = build_model("photo.jpg", "painting.jpg", "gatys", size=256)
    model.optimize(300, callbacks=[keras_nst.Snapshot("snap.png", 100)])
    image = model.get_image()
    ```
    """
    config = resolve_config(config, **overrides)
    content_image = resize_image(_read(content, "content"), config.size)
    style_images = load_styles(style, config)
    if start is None:
        start = initial_image(
            config.init, content_image, style_images[0], config.seed
        )
    else:
        start = resize_image(as_batch(start)[0], content_image.shape[:2])
    inputs = model_inputs(config, content_image, style_images, start)
    if extractor is None:
        extractor = build_extractor(config)
    model = StyleTransferModel(inputs, config, extractor)
    model.compile(optimizer=optimizer_for(config))
    return model


def optimize(
    content: ImageLike,
    style: ImageLike | Sequence[ImageLike],
    config: Config | str | None = None,
    *,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    verbose: str | int = "auto",
    extractor: VGG19Features | None = None,
    state: str | os.PathLike | None = None,
    state_every: int | None = None,
    resume: bool = False,
    **overrides: Any,
) -> StyleTransferModel:
    """Runs the optimisation, at every scale, and returns the last model.

    The run goes coarse to fine over the sizes of
    `keras_nst.schedule.schedule_sizes` (from `config.start_size` by
    `sqrt(2)` up to `config.size`, or `config.scales` of them):
    `config.iterations` steps at the first, `config.refine_iterations` at
    each later one. Each scale recomputes the style
    targets at its size and starts from the last scale's output resized
    (Lanczos), with the moving average and Adam's moments carried over
    (`keras_nst.carry`). VGG19 is built once. The callbacks see every
    scale; `Snapshot` and `JsonlLogger` number the iterations across
    scales.

    Args:
        content: a path or an `(H, W, 3)` RGB array in 0..255.
        style: a path or an array.
        config: a `Config`, a preset name, or `None` for `"gatys"`.
        callbacks: Keras callbacks.
        verbose: as for `fit`.
        extractor: a `VGG19Features` from `keras_nst.build_extractor` to reuse;
            `None` builds one.
        state: a file (`.npz`) to save the run's whole state in
            (`keras_nst.resume`): every `state_every` iterations, and when
            SIGINT or SIGTERM stops the run. `None` saves none.
        state_every: see `state`; `None` saves only on a signal.
        resume: go on from the state in `state`, with the same images and
            settings; the callbacks count on from its iteration.
        **overrides: `Config` fields to change.

    Returns:
        The `StyleTransferModel` of the final scale; `get_image()` is the
        picture.

    Raises:
        keras_nst.errors.NonFiniteLossError: a loss became NaN or
            infinite.
        keras_nst.errors.InsufficientMemoryError: on a CPU, the largest
            scale would need more memory than is available.
        keras_nst.errors.Interrupted: SIGINT or SIGTERM stopped the run;
            its `iteration` counts across scales.
        ValueError: `resume` with no state, or another run's.
    """
    config = resolve_config(config, **overrides)
    if resume and state is None:
        raise ValueError("Expected a state file to resume from. Received: None")
    saved = load_state(state) if resume else None
    if saved is not None:
        saved.check_config(config)
    # From the images' headers, before any of them is read or resized.
    config = fit_tile_size(content, style, config)
    check_transfer_memory(content, style, config)
    checkpoint = (
        None if state is None else StateCheckpoint(state, config, state_every)
    )
    extra = [] if checkpoint is None else [checkpoint]
    model = None
    steps = scale_iterations(config)
    for index, scale_config in enumerate(scale_configs(config)):
        done = sum(steps[:index])
        if saved is not None and index < saved.scale:
            continue
        carried = start = None
        if model is not None:
            carried = ScaleState.of(model)
            start = carried.output
            extractor = model.extractor
            # The last model's image, moments and targets go before the
            # next is built: at large scales they are gigabytes. The
            # callbacks hold it until the next `fit` gives them its
            # model, and it is a cycle of references, which only the
            # collector frees.
            _detach([*callbacks, *extra], model)
            model = None
            gc.collect()
            release_free_memory()
        if saved is not None and index == saved.scale:
            start = saved.model[0][0]
        model = build_model(
            content, style, scale_config, start=start, extractor=extractor
        )
        start = None
        if carried is not None:
            carried.carry_to(model)
            carried = None
        iterations = scale_config.iterations
        if saved is not None and index == saved.scale:
            saved.restore(model)
            iterations -= saved.step
            for callback in callbacks:
                if hasattr(callback, "start_at"):
                    callback.start_at(saved.done)
        if checkpoint is not None:
            checkpoint.begin_scale(index, done)
        try:
            model.optimize(
                iterations, callbacks=[*callbacks, *extra], verbose=verbose
            )
        except Interrupted as interrupted:
            interrupted.iteration += done
            raise
    return model


def _detach(callbacks, model) -> None:
    # Not set_model(None): some Keras callbacks read the model there.
    for callback in callbacks:
        if getattr(callback, "_model", None) is model:
            callback._model = None


def transfer(
    content: ImageLike,
    style: ImageLike | Sequence[ImageLike],
    config: Config | str | None = None,
    *,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    verbose: str | int = "auto",
    extractor: VGG19Features | None = None,
    **overrides: Any,
) -> np.ndarray:
    """Paints `content` in the style of `style` (Gatys et al. 2016).

    Args:
        content: the content image: a path, or an `(H, W, 3)` RGB array in
            0..255.
        style: the style image: a path or an array, or a list of them
            (blended by `style_blend_weights`).
        config: a `Config`, a preset name (`"gatys"`, `"tf_tutorial"`,
            `"gatys2016_sum"`), or `None` for `"gatys"`.
        callbacks: Keras callbacks for the run, e.g.
            `keras_nst.Snapshot` or `keras_nst.JsonlLogger`.
        verbose: `"auto"` or 1 shows a progress bar, 2 one line, 0 nothing.
        extractor: a `VGG19Features` from `keras_nst.build_extractor` to
            reuse, e.g. across runs with the same layers; `None` builds one.
        **overrides: `Config` fields to change, e.g. `size=256`,
            `iterations=200`, `start_size=256`, `optimizer="lbfgs"`.

    Returns:
        The stylised image, `(H, W, 3)` float32 RGB in 0..255.

    Raises:
        ValueError: a bad setting or an unreadable image.
        keras_nst.errors.WeightsError: the VGG19 weights are missing.
        keras_nst.errors.NonFiniteLossError: a loss became NaN or infinite.
        keras_nst.errors.InsufficientMemoryError: on a CPU, the run would
            need more memory than is available.

    Example:

    ```python
    import keras_nst
    image = keras_nst.transfer(
        "examples/astronaut.png", "examples/starry_night.jpg", size=256,
        iterations=200,
    )
    keras_nst.save_image("astronaut_starry.png", image)
    ```
    """
    model = optimize(
        content, style, config, callbacks=callbacks, verbose=verbose,
        extractor=extractor, **overrides,
    )  # fmt: skip
    return model.get_image()

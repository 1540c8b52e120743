"""The images a `StyleTransferModel` is built from, prepared for VGG19.

`model_inputs` does everything to the images that happens before the model
exists: colour preservation (`keras_nst.color`), the luminance start, the
normalised style blend weights, and the checks of the images' shapes. The
model then only computes its targets from what it is given.
"""

import dataclasses
import os
from collections.abc import Sequence

import numpy as np

from keras_nst.color import luminance
from keras_nst.color import prepare_inputs
from keras_nst.config import Config
from keras_nst.features import check_image_size
from keras_nst.image_io import as_batch
from keras_nst.image_io import check_pixel_range
from keras_nst.image_io import load_image
from keras_nst.image_io import resize_image
from keras_nst.image_io import resize_style_image
from keras_nst.presets import resolve_config
from keras_nst.schedule import style_side
from keras_nst.types import ImageLike

__all__ = [
    "ModelInputs",
    "initial_image",
    "load_styles",
    "model_inputs",
    "read_image",
]


@dataclasses.dataclass(frozen=True)
class ModelInputs:
    """The images of one run, as VGG19 sees them.

    Attributes:
        content: `(1, H, W, 3)` float32 content image in 0..255.
        styles: one `(1, H', W', 3)` float32 array per style image.
        blend_weights: the weight of each style's Gram matrices in the
            blended target; they sum to 1.
        start: `(1, H, W, 3)` float32 image the optimisation starts from.
        color_reference: `(H, W, 3)` content image whose colours
            `StyleTransferModel.get_image` puts back under the optimised
            luminance; `None` when the picture is the image itself.
    """

    content: np.ndarray
    styles: tuple[np.ndarray, ...]
    blend_weights: tuple[float, ...]
    start: np.ndarray
    color_reference: np.ndarray | None = None


def model_inputs(
    config: Config | str | None,
    content_image: np.ndarray,
    style_image: np.ndarray | Sequence[np.ndarray],
    initial_image: np.ndarray | None = None,
) -> ModelInputs:
    """Prepares a run's images for `StyleTransferModel`.

    Images are used at the size they come in (`keras_nst.build_model`
    loads and resizes them first).

    Args:
        config: a `Config`, a preset name, or `None` for `Config()`; its
            `preserve_color`, `style_blend_weights` and layers are used.
        content_image: `(H, W, 3)` RGB array in 0..255, at the output size.
        style_image: `(H', W', 3)` RGB array in 0..255, any size, or a
            list of them.
        initial_image: the starting image, shaped like `content_image`;
            `None` starts from the content image.

    Returns:
        A `ModelInputs`: under `preserve_color="histogram"` the styles are
        recoloured to the content's colours; under `"luminance"` content,
        styles and start are luminance only and `color_reference` is the
        content image.

    Raises:
        ValueError: no style image, an image is not `(H, W, 3)`, the
            start is not shaped like the content, an image is too small
            for the layers, or there is not one blend weight per style
            image.

    Example:

    ```python
    inputs = model_inputs("gatys", content, [style_a, style_b])
    inputs.blend_weights  # (0.5, 0.5)
    ```
    """
    config = resolve_config(config)
    content = as_batch(content_image)[0]
    styles = [
        as_batch(image)[0]
        for image in (
            style_image
            if isinstance(style_image, list | tuple)
            else [style_image]
        )
    ]
    if not styles:
        raise ValueError(
            "Expected at least one style image. Received: style_image=[]"
        )
    blend = _blend_weights(config.style_blend_weights, len(styles))
    start = content if initial_image is None else as_batch(initial_image)[0]
    mode = config.preserve_color
    prepared = [prepare_inputs(mode, content, style) for style in styles]
    if mode == "luminance":
        start = luminance(start)
    if start.shape != content.shape:
        raise ValueError(
            "Expected the initial image to have the content image's "
            f"shape {(1, *content.shape)}. "
            f"Received: shape={(1, *start.shape)}"
        )
    layers = config.content_layers + config.style_layers
    check_image_size(content.shape, layers, "content image")
    for _, style in prepared:
        check_image_size(style.shape, layers, "style image")
    return ModelInputs(
        content=as_batch(prepared[0][0]),
        styles=tuple(as_batch(style) for _, style in prepared),
        blend_weights=tuple(blend),
        start=as_batch(start),
        color_reference=content if mode == "luminance" else None,
    )


def _blend_weights(weights, count: int) -> list[float]:
    if weights is None:
        return [1.0 / count] * count
    if len(weights) != count:
        raise ValueError(
            f"Expected one style blend weight per style image ({count}). "
            f"Received: style_blend_weights={tuple(weights)}"
        )
    # resolve_config has checked that the weights have a positive sum.
    total = sum(weights)
    return [w / total for w in weights]


def read_image(image: ImageLike, name: str) -> np.ndarray:
    """An image at its own resolution, from a path or an `(H, W, 3)` array."""
    if isinstance(image, str | os.PathLike):
        return load_image(image)
    # NaN pixels, or a 0..1 float image that would come out black.
    check_pixel_range(image, name, stacklevel=3)
    return as_batch(image, name)[0]


def _noise(content, style, seed):
    rng = np.random.default_rng(seed)
    return rng.uniform(0.0, 255.0, content.shape).astype("float32")


def _style(content, style, seed):
    return resize_image(style, content.shape[:2])


_INITIALIZERS = {
    "content": lambda content, style, seed: content,
    "noise": _noise,
    "style": _style,
}


def initial_image(
    init: str,
    content_image: np.ndarray,
    style_image: np.ndarray,
    seed: int | None = None,
) -> np.ndarray:
    """The image the optimisation starts from, shaped like the content.

    Args:
        init: `"content"`, `"noise"` (uniform in 0..255 from NumPy's
            generator seeded with `seed`, the same on every backend),
            `"style"`, or the path of an image file (resized to the content
            image's shape).
        content_image: `(H, W, 3)` array.
        style_image: `(H', W', 3)` array.
        seed: the noise seed.

    Returns:
        An `(H, W, 3)` float32 array in 0..255.
    """
    if init in _INITIALIZERS:
        return _INITIALIZERS[init](content_image, style_image, seed)
    return resize_image(load_image(init), content_image.shape[:2])


def load_styles(
    style: ImageLike | Sequence[ImageLike], config: Config
) -> list[np.ndarray]:
    """The style images as a run at `config.size` uses them.

    Each is resized to `keras_nst.schedule.style_side(config)` with no
    detail finer than `config.style_detail` of its own
    (`keras_nst.image_io.resize_style_image`).

    Args:
        style: a path or an `(H, W, 3)` array in 0..255, or a list of them.
        config: the run's `Config`.

    Returns:
        One `(H', W', 3)` float32 array per style image.

    Raises:
        ValueError: no style image, or an unreadable one.
    """
    styles = style if isinstance(style, list | tuple) else [style]
    if not styles:
        raise ValueError(
            f"Expected at least one style image. Received: style={style!r}"
        )
    return [
        resize_style_image(
            read_image(s, "style"), style_side(config), config.style_detail
        )
        for s in styles
    ]

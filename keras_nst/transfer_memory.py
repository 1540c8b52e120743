"""A style transfer run's peak memory, estimated from the images' headers.

At every scale: reading and resizing each image (from its full size in
the file, `keras_nst.input_memory`), the style images' VGG19 features
while their statistics are taken, the optimisation's activations (a
tile's, when the scale is tiled, and the image-sized buffers a tiled step
holds) and L-BFGS's history. `keras_nst.memory` checks the estimate
against the machine. Nothing here imports Keras.
"""

import dataclasses
from collections.abc import Sequence

from keras_nst.activation_memory import BASE_BYTES
from keras_nst.activation_memory import bytes_per_pixel
from keras_nst.activation_memory import lbfgs_bytes
from keras_nst.config import Config
from keras_nst.input_memory import HELD_BYTES_PER_PIXEL
from keras_nst.input_memory import ImageSource
from keras_nst.input_memory import pixels
from keras_nst.input_memory import reading_bytes
from keras_nst.input_memory import scaled_shape
from keras_nst.input_memory import start_source
from keras_nst.input_memory import transfer_sources
from keras_nst.schedule import scale_configs
from keras_nst.schedule import style_side
from keras_nst.tiling import is_tiled
from keras_nst.tiling import largest_region
from keras_nst.types import ImageLike

__all__ = [
    "TILED_BYTES_PER_PIXEL",
    "TILED_REGION_FACTOR",
    "MemoryStep",
    "estimate_transfer_bytes",
    "transfer_peak",
]

# A tiled step holds image-sized buffers besides one region's activations:
# the image, the last good one, the average, Adam's two moments, the
# gradient and the content features at conv4_2 (512 channels an 8 x 8
# block): 104 bytes a pixel. A 4096 px run in 384 px tiles peaked at
# 3.9 GB, 1.4 GB above its 2048 px scale: 110 bytes a pixel
# (docs/large-pictures.md).
TILED_BYTES_PER_PIXEL = 120
# A region costs more a pixel than a whole image: at 1024 px the peak rose
# 5.1 KB a pixel of the largest region between 256 and 512 px tiles.
TILED_REGION_FACTOR = 1.25


@dataclasses.dataclass(frozen=True)
class MemoryStep:
    """One stage of a run that holds memory, besides what stays held."""

    bytes: float
    during: str  # for the message: what the run is doing then, or ""
    advice: str  # what to do about it
    host: bool  # in host memory even when the run is on a GPU


def _reading(source: ImageSource, resized: tuple[int, int]) -> MemoryStep:
    height, width = source.shape
    return MemoryStep(
        reading_bytes(source, resized),
        f"reading {source.name} ({width}x{height})",
        "make the file smaller first"
        if source.is_file
        else "pass a smaller array",
        host=True,
    )


def _transfer_steps(
    content: ImageSource,
    styles: Sequence[ImageSource],
    start: ImageSource | None,
    config: Config,
) -> list[tuple[float, list[MemoryStep]]]:
    """For each scale: the bytes held throughout and the steps' peaks."""
    history = config.lbfgs_history if config.optimizer == "lbfgs" else 0
    per_pixel = bytes_per_pixel(config)
    if config.style_size is None and config.style_scale is None:
        smaller_style = "use a smaller size, or a style_size (--style-size)"
    else:
        smaller_style = (
            "use a smaller style_size (--style-size) or style_scale "
            "(--style-scale)"
        )
    configs = scale_configs(config)
    scales_note = ""
    if len(configs) > 1:
        scales_note = ", at the last and largest of the scales"
    scales, previous = [], 0
    for scale in configs:
        size, style_size = scale.size, style_side(scale)
        output = scaled_shape(content, size)
        resized = [scaled_shape(style, style_size) for style in styles]
        # The content and the start image, and every style image.
        held = HELD_BYTES_PER_PIXEL * (
            2 * pixels(output) + sum(map(pixels, resized))
        )
        # Adam's two moments of the last scale, held while the next one
        # is built (its model is freed first, `keras_nst.carry`).
        if not history:
            held += 2 * HELD_BYTES_PER_PIXEL * previous
        lbfgs = ""
        if history:
            gigabytes = lbfgs_bytes(pixels(output), history) / 1e9
            lbfgs = (
                f", or Adam instead of L-BFGS (its history takes "
                f"{gigabytes:.1f} GB)"
            )
        layers = (*scale.content_layers, *scale.style_layers)
        activations = per_pixel * pixels(output)
        if is_tiled((*output, 3), scale.tile_size):
            activations = TILED_REGION_FACTOR * per_pixel * largest_region(
                *output, scale.tile_size, layers
            ) + TILED_BYTES_PER_PIXEL * pixels(output)
        steps = [
            _reading(content, output),
            MemoryStep(
                activations + lbfgs_bytes(pixels(output), history),
                "",
                f"use a smaller size (the content's longest side, now "
                f"{size}{scales_note}){lbfgs}",
                host=False,
            ),
        ]
        if start is not None:
            steps.append(_reading(start, output))
        for style, shape in zip(styles, resized, strict=True):
            steps.append(_reading(style, shape))
            # Its features, to the deepest layer, while its Grams are taken.
            style_pixels = pixels(shape)
            if is_tiled((*shape, 3), scale.tile_size):
                style_pixels = TILED_REGION_FACTOR * largest_region(
                    *shape, scale.tile_size, layers
                )
            steps.append(
                MemoryStep(
                    per_pixel * style_pixels,
                    f"taking the Gram matrices of {style.name} at "
                    f"{shape[1]}x{shape[0]}",
                    smaller_style,
                    host=False,
                )
            )
        scales.append((held, steps))
        previous = pixels(output)
    return scales


def transfer_peak(
    content: ImageLike,
    styles: ImageLike | Sequence[ImageLike],
    config: Config,
    host_only: bool,
) -> tuple[float, MemoryStep | None, tuple[int, int]]:
    """The peak bytes of a run, the step that reaches it, the output shape.

    The step is `None` (and the shape `(0, 0)`) for a content array that
    is not an image.
    """
    content_source, style_sources = transfer_sources(content, styles)
    if content_source is None:
        return BASE_BYTES, None, (0, 0)
    scales = _transfer_steps(
        content_source, style_sources, start_source(config), config
    )
    peak, worst = BASE_BYTES, None
    for held, steps in scales:
        for step in steps:
            if host_only and not step.host:
                continue
            needed = BASE_BYTES + held + step.bytes
            if needed > peak:
                peak, worst = needed, step
    return peak, worst, scaled_shape(content_source, config.size)


def estimate_transfer_bytes(
    content: ImageLike,
    styles: ImageLike | Sequence[ImageLike],
    config: Config,
    *,
    host_only: bool = False,
) -> float:
    """The peak host memory of a style transfer run, from image headers.

    Counts, at every scale, reading and resizing each image (from its
    full size in the file), the style images' VGG19 features while their
    Grams are computed, the optimisation's activations and L-BFGS's
    history; nothing is decoded.

    Args:
        content: the content image, a path or an `(H, W, 3)` array.
        styles: a style image, or a list of them, likewise.
        config: the run's `Config` (its size, style size, scales, layers,
            optimiser and start image count).
        host_only: only what stays on the host when the run is on a GPU:
            reading and resizing the images.

    Returns:
        The estimate, in bytes.

    Raises:
        OSError: an image file is missing (as `read_image_shape`).
        ValueError: an image file is unreadable or over the pixel limit.
    """
    return transfer_peak(content, styles, config, host_only)[0]

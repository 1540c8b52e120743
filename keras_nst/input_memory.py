"""What reading the input images costs, from their headers alone.

The memory checks (`keras_nst.memory`) see each content, style and start
image as an `ImageSource`: its shape, read from a file's header or an
array's shape, never decoded. This module says what reading and resizing
one costs and what the resized images hold for the run. Nothing here
imports Keras.
"""

import dataclasses
import os
from collections.abc import Sequence

import numpy as np

from keras_nst.choices import INIT_MODES
from keras_nst.config import Config
from keras_nst.image_io import _scaled_shape
from keras_nst.image_limits import read_image_shape
from keras_nst.types import ImageLike

__all__ = [
    "HELD_BYTES_PER_PIXEL",
    "ImageSource",
    "image_source",
    "pixels",
    "reading_bytes",
    "scaled_shape",
    "start_source",
    "transfer_sources",
]

# Reading an image file holds its 8-bit RGB (3 bytes a pixel) and the
# float32 copy (12); resizing copies one float32 channel for the filter (4).
_FILE_BYTES_PER_PIXEL = 19
# An array given instead of a file: its float32 copy and that channel.
_ARRAY_BYTES_PER_PIXEL = 16
# Resizing makes three float32 channels, then their stacked and clipped
# copies: 24 bytes per pixel of the result, before the source is freed.
_RESIZED_BYTES_PER_PIXEL = 24
HELD_BYTES_PER_PIXEL = 12
"""Every resized image (content, start, styles) stays for the run, float32."""


@dataclasses.dataclass(frozen=True)
class ImageSource:
    """An input image as the check sees it: its shape, from the header."""

    shape: tuple[int, int]
    name: str
    is_file: bool


def image_source(image: ImageLike, name: str) -> ImageSource | None:
    """The `ImageSource` of a path (its header only) or an array.

    `None` for an array that is not an image: the run itself reports it.
    """
    if isinstance(image, str | os.PathLike):
        shape = read_image_shape(image)
        return ImageSource(
            shape, f"the {name} image '{os.fspath(image)}'", True
        )
    shape = np.shape(image)
    if len(shape) == 4 and shape[0] == 1:
        shape = shape[1:]
    if len(shape) != 3 or min(shape[:2]) < 1:
        return None
    return ImageSource(
        (int(shape[0]), int(shape[1])), f"the {name} array", False
    )


def start_source(config: Config) -> ImageSource | None:
    """The start image file of `config.init`, if it names one."""
    if config.init in INIT_MODES:
        return None
    try:
        return image_source(config.init, "start")
    except (OSError, ValueError):
        return None  # the run reports an unreadable start image itself


def transfer_sources(
    content: ImageLike, styles: ImageLike | Sequence[ImageLike]
) -> tuple[ImageSource | None, list[ImageSource]]:
    """The content's source and those of the style images that are images."""
    if not isinstance(styles, list | tuple):
        styles = [styles]
    found = [image_source(style, "style") for style in styles]
    return image_source(content, "content"), [s for s in found if s]


def pixels(shape: tuple[int, int]) -> int:
    """The pixels of a `(height, width)` shape."""
    return shape[0] * shape[1]


def scaled_shape(source: ImageSource, size: int) -> tuple[int, int]:
    """The source's shape with its longest side resized to `size`."""
    # image_io's own rule, so the shapes are the ones the run will have.
    return _scaled_shape(*source.shape, size)


def reading_bytes(source: ImageSource, resized: tuple[int, int]) -> float:
    """The peak bytes of reading `source` and resizing it to `resized`.

    A style image taken through its detail limit
    (`keras_nst.image_io.resize_style_image`) is resized twice: first to
    fewer pixels than `resized`, then, with the source let go, from those
    to `resized`; neither peaks higher than this.
    """
    rate = _FILE_BYTES_PER_PIXEL if source.is_file else _ARRAY_BYTES_PER_PIXEL
    return rate * pixels(source.shape) + _RESIZED_BYTES_PER_PIXEL * pixels(
        resized
    )

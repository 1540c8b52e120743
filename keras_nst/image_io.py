"""Reading images with Pillow, resizing them, and checking arrays.

Images cross the public boundary as `(H, W, 3)` float32 RGB arrays in
0..255. Files are checked against a pixel limit before they are decoded
(`set_max_image_pixels`, from `keras_nst.image_limits`); writing them is
`keras_nst.image_output`'s. Nothing here imports Keras.
"""

import os
import warnings

import numpy as np
from numpy.typing import ArrayLike
from PIL import Image
from PIL import ImageOps

from keras_nst.choices import MAX_SIDE
from keras_nst.image_limits import DEFAULT_MAX_IMAGE_PIXELS
from keras_nst.image_limits import get_max_image_pixels
from keras_nst.image_limits import open_image
from keras_nst.image_limits import read_image_shape
from keras_nst.image_limits import set_max_image_pixels

__all__ = [
    "DEFAULT_MAX_IMAGE_PIXELS",
    "IMAGE_EXTENSIONS",
    "as_batch",
    "check_pixel_range",
    "get_max_image_pixels",
    "load_image",
    "read_image_shape",
    "resize_image",
    "resize_style_image",
    "set_max_image_pixels",
    "to_uint8",
]

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")
"""The file types read and written (by extension, case-insensitive)."""


def as_batch(image: ArrayLike, name: str = "image") -> np.ndarray:
    """`(H, W, 3)` or `(1, H, W, 3)` array-like to a float32 batch of one.

    Args:
        image: the array-like.
        name: the argument it came from, for the error messages.

    Raises:
        ValueError: the array is not one RGB image, or has NaN or inf.
    """
    return _rgb_image(image, name)[None]


def _rgb_image(image, name: str) -> np.ndarray:
    """One finite RGB image as `(H, W, 3)` float32, or a clear ValueError."""
    array = np.asarray(image, dtype="float32")
    rgb = array[0] if array.ndim == 4 and array.shape[0] == 1 else array
    if rgb.ndim != 3 or rgb.shape[-1] != 3 or 0 in rgb.shape:
        raise ValueError(
            f"Expected {name} to be one RGB image of shape (height, width, "
            f"3) or (1, height, width, 3). Received: {name}.shape="
            f"{array.shape}{_shape_hint(array.shape)}"
        )
    _check_finite(rgb, name)
    return rgb


def _shape_hint(shape: tuple[int, ...]) -> str:
    """What to do about a common wrong shape, for the error message."""
    if len(shape) == 4 and shape[0] > 1:
        return " (a batch: give one image at a time)"
    if len(shape) == 2 or shape[-1:] == (1,):
        return " (greyscale: repeat it to 3 channels)"
    if shape[-1:] == (4,):
        return " (RGBA: drop the alpha channel, image[..., :3])"
    return ""


def _check_finite(array: np.ndarray, name: str) -> None:
    finite = np.isfinite(array)
    if not finite.all():
        raise ValueError(
            f"Expected {name} to have finite pixel values. Received: {name} "
            f"with {finite.size - np.count_nonzero(finite)} NaN or inf values"
        )


def check_pixel_range(
    image: ArrayLike, name: str = "image", stacklevel: int = 1
) -> None:
    """Warns when a float image looks like 0..1 instead of 0..255.

    keras-nst images are RGB in 0..255; a 0..1 image would come out
    nearly black. Integer images and all-black ones never warn.

    Args:
        image: an array-like image or batch.
        name: the argument it came from, for the messages.
        stacklevel: where the warning points: 1 at the caller, 2 at its
            caller (for an entry point that checks its argument).

    Raises:
        ValueError: the image has NaN or inf pixels.

    Example:

    ```python
    check_pixel_range(photo / 255.0, "content_image")  # UserWarning
    ```
    """
    array = np.asarray(image)
    if array.dtype.kind != "f" or array.size == 0:
        return
    _check_finite(array, name)
    peak = float(array.max())
    if peak <= 1.0 and array.any():
        warnings.warn(
            f"{name} looks like a 0..1 image (max {peak:.3g}); keras-nst "
            "images are RGB in 0..255: multiply it by 255.",
            stacklevel=stacklevel + 1,
        )


def _to_rgb(image: Image.Image) -> np.ndarray:
    """Any Pillow mode as a float32 RGB array in 0..255."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit greyscale: 65535 / 257 = 255 maps white to white.
        grey = np.asarray(image, dtype=np.float32) / 257.0
        return np.repeat(np.clip(grey, 0, 255)[..., None], 3, axis=-1)
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        # Transparent pixels would otherwise keep whatever colour they
        # hide (often black); paint them onto white as viewers do.
        image = image.convert("RGBA")
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, image)
    return np.asarray(image.convert("RGB"), dtype=np.float32)


def _check_side(name: str, side: int) -> None:
    # Pillow's sizes are C ints; past MAX_SIDE a resize is an overflow or
    # an allocation of gigabytes, never a picture anyone asked for.
    if not 1 <= side <= MAX_SIDE:
        raise ValueError(
            f"Expected {name} to be an integer in [1, {MAX_SIDE}]. "
            f"Received: {name}={side}"
        )


def _scaled_shape(height: int, width: int, size: int) -> tuple[int, int]:
    scale = size / max(height, width)
    return max(1, round(height * scale)), max(1, round(width * scale))


def load_image(path: str | os.PathLike, size: int | None = None) -> np.ndarray:
    """Reads an image file as an RGB array, upright and optionally resized.

    EXIF orientation is applied; greyscale, palette, CMYK, 16-bit and
    transparent images (alpha composited onto white) all become RGB.

    Args:
        path: the image file.
        size: if given, resize (Lanczos) so the longest side is `size`.

    Returns:
        An `(H, W, 3)` float32 array in 0..255.

    Raises:
        FileNotFoundError: `path` does not exist.
        IsADirectoryError: `path` is a folder.
        ValueError: the file is not a readable image.
        ImageTooLargeError: the header claims more pixels than the limit
            (`set_max_image_pixels`); nothing was decoded.

    Example:

    ```python
    photo = load_image("examples/chelsea.png", size=256)  # (170, 256, 3)
    ```
    """
    with open_image(path) as image:
        array = _to_rgb(ImageOps.exif_transpose(image))
    if size is not None:
        array = resize_image(array, size)
    return array


def resize_image(image: np.ndarray, size: int | tuple[int, int]) -> np.ndarray:
    """Resizes an `(H, W, 3)` array with Lanczos filtering, in float.

    Args:
        image: `(H, W, 3)` array in 0..255.
        size: the longest side, or an exact `(height, width)`.

    Returns:
        An `(H', W', 3)` float32 array in 0..255.
    """
    image = np.asarray(image, dtype=np.float32)
    if image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(
            "Expected an image of shape (height, width, 3). "
            f"Received: shape={image.shape}"
        )
    if isinstance(size, bool) or not (
        isinstance(size, int | np.integer)
        or (
            isinstance(size, tuple | list)
            and len(size) == 2
            and all(isinstance(side, int | np.integer) for side in size)
        )
    ):
        raise TypeError(
            "Expected size to be an integer or a (height, width) pair of "
            f"integers. Received: size={size!r}"
        )
    if isinstance(size, int | np.integer):
        _check_side("size", size)
        shape = _scaled_shape(image.shape[0], image.shape[1], size)
    else:
        shape = (int(size[0]), int(size[1]))
        for side in shape:
            _check_side("size", side)
    if shape == image.shape[:2]:
        return image
    # Per-channel "F" images keep float precision through the filter.
    channels = [
        np.asarray(
            Image.fromarray(image[..., c], mode="F").resize(
                (shape[1], shape[0]), Image.Resampling.LANCZOS
            )
        )
        for c in range(3)
    ]
    return np.clip(np.stack(channels, axis=-1), 0.0, 255.0)


def resize_style_image(
    image: np.ndarray, size: int, detail: float
) -> np.ndarray:
    """Resizes a style image, taking no detail finer than `detail` of its own.

    A digitised painting's finest octave is mostly the scan's and the
    compression's grain rather than brushwork; used at (or above) the
    file's own resolution, style statistics ask the picture to paint it,
    as a fine mesh. So when `size` is more than `detail` times the image's
    longest side, the image is first reduced to that, then enlarged to
    `size`: the strokes keep their size, the grain is gone.

    Args:
        image: `(H, W, 3)` array in 0..255, at its own resolution.
        size: the longest side to resize to.
        detail: the finest detail kept, as a fraction of the image's
            resolution, in (0, 1]; 1 keeps every pixel.

    Returns:
        An `(H', W', 3)` float32 array in 0..255 with longest side `size`.
    """
    finest = max(1, round(detail * max(np.shape(image)[:2])))
    if size > finest:
        image = resize_image(image, finest)
    return resize_image(image, size)


def to_uint8(image: np.ndarray) -> np.ndarray:
    """Rounds a float image in 0..255 to `uint8`, clipping out-of-range.

    NaN becomes 0 rather than an undefined value.

    Args:
        image: a float array in 0..255, any shape.

    Returns:
        The `uint8` array, same shape.
    """
    image = np.nan_to_num(np.asarray(image, dtype=np.float32), nan=0.0)
    if image.ndim == 4 and image.shape[0] == 1:
        image = image[0]
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)

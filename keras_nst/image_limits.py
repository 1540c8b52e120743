"""What an image file's header says, checked before any pixel is decoded.

The pixel limit guards against decompression bombs: files whose header
claims a picture far larger than the file (a 50000 x 50000 PNG can be a
few kilobytes). keras-nst enforces its own limit from the header, so
Pillow's (`PIL.Image.MAX_IMAGE_PIXELS`) is turned off while keras-nst
reads a file: it would otherwise print a multi-line warning or raise its
own error before ours, and refuse images the user explicitly allowed.
Nothing here imports Keras.
"""

import contextlib
import numbers
import os
import struct
import threading
import warnings
from collections.abc import Iterator

from PIL import Image
from PIL import UnidentifiedImageError

from keras_nst.errors import ImageTooLargeError

__all__ = [
    "DEFAULT_MAX_IMAGE_PIXELS",
    "get_max_image_pixels",
    "read_image_shape",
    "set_max_image_pixels",
]

DEFAULT_MAX_IMAGE_PIXELS = 2**28
"""The most pixels an image file may have unless raised (16384 x 16384).

Pillow's 89.5 M would refuse the 100-200 megapixel photos of current
phones and medium-format cameras, which keras-nst shrinks with `size`;
268 M pixels still stops bombs (50000 x 50000 is 2.5 G) and caps the
float32 copy a decoded image needs at about 3 GB.
"""
_LARGE_FRACTION = 4
"""Images over 1/4 of the limit warn: decoding them takes gigabytes."""
_BYTES_PER_PIXEL = 15
"""Decoding holds 8-bit RGB (3 bytes) and its float32 copy (12 bytes)."""
_ORIENTATION = 0x0112
_TRANSPOSED = (5, 6, 7, 8)
"""EXIF orientations that turn the picture a quarter (sides swap)."""
_UNREADABLE = (
    UnidentifiedImageError,
    OSError,
    SyntaxError,
    EOFError,
    struct.error,
)
"""What Pillow raises for a file it cannot parse or decode."""

_max_pixels: int | None = DEFAULT_MAX_IMAGE_PIXELS
_warned: set[tuple[str, int, int]] = set()
_lock = threading.Lock()
_pillow_users = 0
_pillow_limit: int | None = None


def get_max_image_pixels() -> int | None:
    """The pixel limit image files are checked against; `None`: no limit."""
    return _max_pixels


def set_max_image_pixels(pixels: int | None) -> None:
    """Sets, for this process, the most pixels an image file may have.

    `keras-nst --max-image-pixels N` calls this. Files above the limit
    raise `ImageTooLargeError` before they are decoded; files above a
    quarter of it warn once.

    Args:
        pixels: a positive width x height, or `None` for no limit.
            `DEFAULT_MAX_IMAGE_PIXELS` restores the default.

    Raises:
        ValueError: `pixels` is not a positive integer or `None`.
    """
    global _max_pixels
    if pixels is not None and (
        isinstance(pixels, bool)
        or not isinstance(pixels, numbers.Integral)
        or pixels < 1
    ):
        raise ValueError(
            "Expected pixels to be a positive integer or None. "
            f"Received: pixels={pixels!r}"
        )
    _max_pixels = None if pixels is None else int(pixels)


def _check_pixels(path: str, width: int, height: int) -> None:
    """Raises above the limit; warns, once per file, above a quarter."""
    pixels = width * height
    limit = _max_pixels
    if limit is not None and pixels > limit:
        raise ImageTooLargeError(
            f"'{path}' is {width}x{height} = {pixels:,} pixels, over the "
            f"limit of {limit:,} (a guard against decompression bombs); if "
            f"you trust the file, allow it with `keras-nst "
            f"--max-image-pixels {pixels}` or `keras_nst.image_io."
            f"set_max_image_pixels({pixels})`."
        )
    large = (limit or DEFAULT_MAX_IMAGE_PIXELS) // _LARGE_FRACTION
    if pixels <= large:
        return
    key = (os.path.realpath(path), width, height)
    with _lock:
        if key in _warned:
            return
        _warned.add(key)
    gigabytes = pixels * _BYTES_PER_PIXEL / 1e9
    warnings.warn(
        f"'{path}' is a large image ({width}x{height}, {pixels / 1e6:.3g} "
        f"megapixels); decoding it takes about {gigabytes:.1f} GB of memory.",
        stacklevel=5,  # _check_pixels, open_image, contextlib, the reader
    )


@contextlib.contextmanager
def _without_pillow_limit() -> Iterator[None]:
    # Counted, so that threads reading at once (the training data loader)
    # share one change and the last one out restores Pillow's value.
    # Meanwhile other code's Pillow calls see no limit either.
    global _pillow_users, _pillow_limit
    with _lock:
        if _pillow_users == 0:
            _pillow_limit = Image.MAX_IMAGE_PIXELS
            Image.MAX_IMAGE_PIXELS = None
        _pillow_users += 1
    try:
        yield
    finally:
        with _lock:
            _pillow_users -= 1
            if _pillow_users == 0:
                Image.MAX_IMAGE_PIXELS = _pillow_limit


@contextlib.contextmanager
def open_image(path: str | os.PathLike) -> Iterator[Image.Image]:
    """Opens an image file after checking its header against the limit.

    Only the header has been read when the image is yielded; Pillow's
    errors while decoding it in the `with` block become `ValueError`.

    Raises:
        FileNotFoundError: `path` does not exist.
        IsADirectoryError: `path` is a folder.
        ValueError: the file is not a readable image.
        ImageTooLargeError: it has more pixels than the limit.
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        raise IsADirectoryError(f"'{path}' is a folder, not an image file")
    if not os.path.exists(path):
        raise FileNotFoundError(f"Image file not found: '{path}'")
    if not os.path.isfile(path):
        raise ValueError(f"Cannot read '{path}' as an image: not a file")
    try:
        with _without_pillow_limit(), Image.open(path) as image:
            _check_pixels(path, *image.size)
            yield image
    except Image.DecompressionBombError as error:
        # Only if other code set Pillow's limit while this file was open.
        raise ImageTooLargeError(f"'{path}': {error}") from None
    except _UNREADABLE as error:
        text = str(error).strip()
        reason = text.splitlines()[0] if text else type(error).__name__
        raise ValueError(
            f"Cannot read '{path}' as an image: {reason}"
        ) from None


def read_image_shape(path: str | os.PathLike) -> tuple[int, int]:
    """The `(height, width)` of an image file, upright, without decoding it.

    Reads only the header (and, for a PNG, the chunk headers): the EXIF
    orientation is applied as `load_image` does, so it is the shape
    `load_image(path)` returns, less the channels.

    Raises:
        FileNotFoundError: `path` does not exist.
        IsADirectoryError: `path` is a folder.
        ValueError: the file is not a readable image.
        ImageTooLargeError: it has more pixels than the limit.

    Example:

    ```python
    read_image_shape("examples/chelsea.png")  # (300, 451)
    ```
    """
    with open_image(path) as image:
        width, height = image.size
        exif = None
        if image.format == "PNG" and "exif" not in image.info:
            exif = _late_png_exif(os.fspath(path))
        if exif is None:
            # The base class reads what the header gave; PNG's override
            # would decode the whole image to look for a later eXIf chunk.
            orientation = Image.Image.getexif(image).get(_ORIENTATION)
        else:
            orientation = exif.get(_ORIENTATION)
    if orientation in _TRANSPOSED:
        width, height = height, width
    return height, width


def _late_png_exif(path: str) -> Image.Exif | None:
    """The eXIf chunk that follows a PNG's pixel data, if there is one.

    Walks the chunk headers, seeking over their data, so nothing is
    decompressed.
    """
    with open(path, "rb") as file:
        file.seek(8)  # the PNG signature
        while len(header := file.read(8)) == 8:
            length, kind = struct.unpack(">I4s", header)
            if kind == b"eXIf":
                exif = Image.Exif()
                exif.load(file.read(length))
                return exif
            if kind == b"IEND":
                break
            file.seek(length + 4, os.SEEK_CUR)  # the data and its CRC
    return None

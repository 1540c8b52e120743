"""Writing images: output paths checked before a run, atomic saves.

An output is checked before any work starts (`check_output_path`,
`check_distinct_outputs`), and written so that it appears complete or
not at all, with the run's settings in a PNG text chunk
(`read_metadata` reads them back). Nothing here imports Keras.
"""

import io
import json
import os
from collections.abc import Sequence

import numpy as np
from PIL import Image
from PIL import PngImagePlugin

from keras_nst.atomic import atomic_write
from keras_nst.image_io import IMAGE_EXTENSIONS
from keras_nst.image_io import as_batch
from keras_nst.image_io import to_uint8
from keras_nst.image_limits import open_image

__all__ = [
    "METADATA_KEY",
    "check_distinct_outputs",
    "check_output_path",
    "png_bytes",
    "read_metadata",
    "save_image",
]

METADATA_KEY = "keras-nst"
"""The PNG text chunk that holds a run's settings as JSON."""
_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}


def check_distinct_outputs(
    outputs: Sequence[str | os.PathLike], inputs: Sequence[str | os.PathLike]
) -> None:
    """Checks that no output would overwrite an input or another output.

    Paths are compared after resolving links, so `./a.png` and `a.png`
    (or a link to it) are the same file.

    Raises:
        ValueError: an output is an input, or two outputs are one file.
    """
    sources = {_file_key(path): os.fspath(path) for path in inputs}
    seen: dict[str, str] = {}
    for path in outputs:
        key = _file_key(path)
        if key in sources:
            raise ValueError(
                f"The output '{os.fspath(path)}' is the input "
                f"'{sources[key]}'; write it somewhere else."
            )
        if key in seen:
            raise ValueError(
                f"Two outputs would be one file: '{seen[key]}' and "
                f"'{os.fspath(path)}'."
            )
        seen[key] = os.fspath(path)


def _file_key(path: str | os.PathLike) -> str:
    return os.path.normcase(os.path.realpath(os.fspath(path)))


def check_output_path(
    path: str | os.PathLike, extensions: Sequence[str] = IMAGE_EXTENSIONS
) -> None:
    """Checks that a file can be written to `path` before work starts.

    Args:
        path: the output file.
        extensions: the file types it may have (lower case, with the dot).

    Raises:
        ValueError: the extension is not one of `extensions`.
        OSError: the folder does not exist or is not writable.
    """
    path = os.fspath(path)
    extension = os.path.splitext(path)[1].lower()
    if extension not in extensions:
        raise ValueError(
            "Expected the output file to end in one of "
            f"{', '.join(extensions)}. Received: '{path}'"
        )
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise OSError(f"Output folder does not exist: '{folder}'")
    if not os.access(folder, os.W_OK):
        raise OSError(f"Output folder is not writable: '{folder}'")
    if os.path.isdir(path):
        raise OSError(f"Output path is a folder: '{path}'")


def save_image(
    path: str | os.PathLike,
    image: np.ndarray,
    metadata: dict | None = None,
) -> None:
    """Writes an image atomically as PNG or JPEG, chosen by extension.

    The file appears complete or not at all: it is written to a temporary
    file in the same folder and renamed. PNGs carry `metadata` as JSON in a
    `keras-nst` text chunk (see `read_metadata`).

    Args:
        path: ends in `.png`, `.jpg` or `.jpeg`.
        image: `(H, W, 3)` (or `(1, H, W, 3)`) array in 0..255.
        metadata: JSON-serialisable settings of the run.

    Raises:
        ValueError: an unsupported extension or image shape, or NaN or
            inf pixels.
        OSError: the folder is missing or not writable.

    Example:

    ```python
    image = keras_nst.transfer("photo.jpg", "painting.jpg")
    save_image("out.png", image, metadata={"style": "painting.jpg"})
    ```
    """
    path = os.fspath(path)
    check_output_path(path)
    extension = os.path.splitext(path)[1].lower()
    picture = Image.fromarray(to_uint8(as_batch(image)[0]), "RGB")
    options = {}
    if _FORMATS[extension] == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_text("Software", "keras-nst")
        if metadata is not None:
            info.add_text(METADATA_KEY, json.dumps(metadata, default=str))
        options["pnginfo"] = info
    else:
        options["quality"] = 95

    def write(partial: str) -> None:
        picture.save(partial, format=_FORMATS[extension], **options)

    atomic_write(path, write)


def png_bytes(image: np.ndarray) -> bytes:
    """An `(H, W, 3)` image in 0..255 as PNG bytes, for a page or notebook."""
    buffer = io.BytesIO()
    Image.fromarray(to_uint8(np.asarray(image)), "RGB").save(buffer, "PNG")
    return buffer.getvalue()


def read_metadata(path: str | os.PathLike) -> dict:
    """Returns the run settings stored in a PNG written by `save_image`.

    Args:
        path: an image file.

    Returns:
        The settings as a dict; `{}` for a file without them (a JPEG, or
        a PNG from elsewhere).

    Example:

    ```python
    save_image("out.png", image, metadata={"style_weight": 3e6})
    read_metadata("out.png")  # {'style_weight': 3000000.0}
    ```

    Raises:
        OSError: the file is missing or a folder.
        ValueError: the file is not a readable image, or over the pixel
            limit.
    """
    with open_image(path) as image:
        text = getattr(image, "text", {}).get(METADATA_KEY)
    return json.loads(text) if text else {}

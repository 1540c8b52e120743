"""A trained transform network written for serving, through Keras' export.

`export_transform` writes a TensorFlow SavedModel or an ONNX file with
`keras.Model.export`; `exported_output` runs the artifact (TensorFlow or
ONNX Runtime) so its output can be checked against the network's. What
Keras can write depends on the backend (Keras 3.15):

| backend | SavedModel | ONNX |
|---|---|---|
| TensorFlow | any size | any size |
| JAX | any size | one size (`size=`) |
| PyTorch | no (Keras needs `torch_xla`) | one size (`size=`) |

An artifact for any size takes any batch and any height and width from
`MIN_EXPORT_SIDE` up; one for one size takes any batch of that size.
"""

import importlib.util
import os
import shutil
import tempfile

import keras
import numpy as np

from keras_nst.atomic import TEMPORARY_PREFIX
from keras_nst.atomic import atomic_write
from keras_nst.errors import MissingExtraError
from keras_nst.fast.network import TransformNet
from keras_nst.fast.network import load_transform

__all__ = [
    "EXPORT_FORMATS",
    "MIN_EXPORT_SIDE",
    "export_transform",
    "exported_output",
    "exports_any_size",
]

EXPORT_FORMATS = ("saved_model", "onnx")
"""The artifact types `export_transform` writes."""

MIN_EXPORT_SIDE = 5
"""The smallest side an artifact for any size takes, in pixels.

It mirrors the image out to a multiple of 4 in one step; smaller sides
need the repeated mirroring only a fixed-size graph can unroll.
"""

# Per backend: the formats Keras exports, and whether one artifact then
# takes any image size. JAX's ONNX converter (jax2onnx) cannot express
# the size-dependent padding, and PyTorch's (TorchScript tracing) fixes
# every size it sees; Keras writes a SavedModel from PyTorch only through
# torch_xla.
_ANY_SIZE = {
    "tensorflow": {"saved_model": True, "onnx": True},
    "jax": {"saved_model": True, "onnx": False},
    "torch": {"onnx": False},
}
# The module each backend's ONNX export needs besides `onnx`.
_ONNX_CONVERTER = {"tensorflow": "tf2onnx", "jax": "jax2onnx", "torch": "onnx"}


def exports_any_size(format: str) -> bool:
    """Whether the active backend exports `format` for any image size.

    Raises:
        ValueError: the backend cannot export `format` at all.
    """
    _check_format(format)
    backend = keras.backend.backend()
    formats = _ANY_SIZE[backend]
    if format not in formats:
        raise ValueError(
            f"Keras cannot export a {format} from the {backend} backend "
            "here; use the tensorflow or jax backend (--backend)."
        )
    return formats[format]


def _check_format(format: str) -> None:
    if format not in EXPORT_FORMATS:
        raise ValueError(
            f"Expected format to be one of {', '.join(EXPORT_FORMATS)}. "
            f"Received: format={format!r}"
        )


def _check_size(size, any_size: bool, format: str) -> tuple[int, int] | None:
    if size is None:
        if not any_size:
            raise ValueError(
                f"The {keras.backend.backend()} backend exports {format} "
                "for one image size only: give size=(height, width) "
                "(--height and --width), or export on the tensorflow "
                "backend for any size."
            )
        return None
    height, width = (int(side) for side in size)
    if min(height, width) < 1:
        raise ValueError(
            f"Expected a positive height and width. Received: size={size}"
        )
    return height, width


def _check_converter(format: str) -> None:
    if format != "onnx":
        return
    for module in ("onnx", _ONNX_CONVERTER[keras.backend.backend()]):
        if importlib.util.find_spec(module) is None:
            raise MissingExtraError(
                f"ONNX export needs {module}: pip install 'keras-nst[export]'"
            )


def _check_output(path: str, format: str) -> None:
    if format == "onnx" and not path.endswith(".onnx"):
        raise ValueError(f"Expected the ONNX file to end in .onnx: '{path}'")
    if os.path.lexists(path):
        raise FileExistsError(f"'{path}' exists; not overwriting it")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"No such folder for the output: '{folder}'")


def export_transform(
    model: TransformNet | str | os.PathLike,
    path: str | os.PathLike,
    format: str = "saved_model",
    *,
    size: tuple[int, int] | None = None,
) -> str:
    """Writes a transform network as a SavedModel folder or an ONNX file.

    The artifact maps `(batch, height, width, 3)` float32 RGB in 0..255 to
    the stylised images, like the network. It is written in full or not at
    all, and never over an existing path.

    Args:
        model: a `TransformNet` or the path of its `.keras` file.
        path: the SavedModel folder, or the `.onnx` file.
        format: `"saved_model"` or `"onnx"`.
        size: `(height, width)` to export for that size only; `None` for
            any size, where the backend can (see the module's table).

    Returns:
        `path`.

    Raises:
        ValueError: an unknown format, a size the backend needs but was
            not given, a format the backend cannot export, or an ONNX path
            without `.onnx`.
        FileExistsError: `path` exists.
        keras_nst.errors.MissingExtraError: the ONNX converter is missing.

    Example:

    ```python
    export_transform("starry.keras", "starry.onnx", "onnx")
    ```
    """
    path = os.fspath(path)
    any_size = exports_any_size(format)
    size = _check_size(size, any_size, format)
    _check_converter(format)
    _check_output(path, format)
    if not isinstance(model, TransformNet):
        model = load_transform(model)
    height, width = size or (None, None)
    options = {
        "input_signature": [
            keras.InputSpec(shape=(None, height, width, 3), dtype="float32")
        ],
        "verbose": False,
    }
    if format == "saved_model":
        if keras.backend.backend() == "jax":
            # Serving needs no gradient, and jax2tf cannot trace the
            # strided convolutions' gradient for a symbolic size.
            options["jax2tf_kwargs"] = {"with_gradient": False}
        _write_folder(
            path,
            lambda partial: model.export(
                partial, format="tf_saved_model", **options
            ),
        )
    else:
        atomic_write(
            path,
            lambda partial: model.export(partial, format="onnx", **options),
        )
    return path


def _write_folder(path: str, write) -> None:
    """`atomic_write` for a folder: written beside `path`, then renamed."""
    parent = tempfile.mkdtemp(
        prefix=TEMPORARY_PREFIX, dir=os.path.dirname(os.path.abspath(path))
    )
    try:
        partial = os.path.join(parent, "export")
        write(partial)
        os.rename(partial, path)
    finally:
        shutil.rmtree(parent, ignore_errors=True)


def exported_output(path: str | os.PathLike, images: np.ndarray) -> np.ndarray:
    """Runs an exported network on `(batch, H, W, 3)` images in 0..255.

    A SavedModel runs in TensorFlow, an `.onnx` file in ONNX Runtime
    (the `export` extra), whatever the active backend.

    Raises:
        keras_nst.errors.MissingExtraError: ONNX Runtime is missing.
    """
    path = os.fspath(path)
    images = np.asarray(images, np.float32)
    if path.endswith(".onnx"):
        try:
            import onnxruntime
        except ImportError:
            raise MissingExtraError(
                "Running an ONNX file needs ONNX Runtime: "
                "pip install 'keras-nst[export]'"
            ) from None
        session = onnxruntime.InferenceSession(
            path, providers=["CPUExecutionProvider"]
        )
        name = session.get_inputs()[0].name
        return np.asarray(session.run(None, {name: images})[0])
    import tensorflow as tf

    # Held while it runs: its function refers to the loaded variables.
    loaded = tf.saved_model.load(path)
    return loaded.serve(images).numpy()

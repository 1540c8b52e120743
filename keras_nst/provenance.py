"""What a picture records about the run that made it, and reading it back.

A PNG written by the command line carries, in its `keras-nst` text chunk
(`keras_nst.image_output.read_metadata`), the images, every setting (the seed
included, drawn when none was given), the final losses, the run time and
the software and device it ran on. `run_settings` reads that back, or the
same keys from a JSON file, so `keras-nst transfer --from out.png` runs it
again.
"""

import dataclasses
import json
import os
import platform
from typing import Any

from keras_nst.config import Config
from keras_nst.settings import suggestion

__all__ = ["environment", "run_settings"]

_NOT_SETTINGS = ("content", "style")


def environment() -> dict[str, str]:
    """The software and device a run used: versions, backend, device.

    Imports Keras (and so the backend).
    """
    import keras

    from keras_nst import __version__
    from keras_nst.backend import device_name
    from keras_nst.hardware import cpu_name

    backend = keras.backend.backend()
    module = __import__(backend)
    device = device_name() or f"CPU: {cpu_name()}"
    return {
        "keras_nst_version": __version__,
        "keras_version": keras.__version__,
        "backend": backend,
        "backend_version": getattr(module, "__version__", "unknown"),
        "device": device,
        "python_version": platform.python_version(),
    }


def _fields() -> set[str]:
    return {field.name for field in dataclasses.fields(Config)}


def _check_keys(record: dict) -> None:
    known = sorted(_fields() | set(_NOT_SETTINGS))
    for key in record:
        if key not in known:
            raise ValueError(
                f"Unknown setting {key!r} in the settings file"
                + suggestion(key, known)
            )


def run_settings(path: str | os.PathLike) -> dict[str, Any]:
    """The images and settings a run recorded, to run it again.

    Args:
        path: a PNG written by `keras-nst transfer` (or a snapshot), or a
            JSON file with the same keys: `content`, `style` (a list) and
            any `Config` fields.

    Returns:
        `{"content": ..., "style": [...], **settings}` with only the keys
        the file has; the settings are `Config` fields.

    Raises:
        ValueError: the file records no run, or a key is not a setting.
        OSError: the file cannot be read.
    """
    from keras_nst.image_output import read_metadata

    path = os.fspath(path)
    if path.lower().endswith(".json"):
        try:
            with open(path, encoding="utf-8") as file:
                record = json.load(file)
        except json.JSONDecodeError as error:
            raise ValueError(f"Cannot read '{path}' as JSON: {error}") from None
        if isinstance(record, dict):
            _check_keys(record)
    else:
        record = read_metadata(path)
    if not isinstance(record, dict) or not record:
        raise ValueError(
            f"'{path}' records no keras-nst run (expected a PNG written by "
            "keras-nst transfer, or a JSON file of settings)."
        )
    settings = {k: v for k, v in record.items() if k in _fields()}
    for key in _NOT_SETTINGS:
        if key in record:
            settings[key] = record[key]
    if isinstance(settings.get("style"), str):
        settings["style"] = [settings["style"]]
    return settings

"""Keras callbacks for style transfer runs: snapshots and a loss log."""

import json
import os

import keras
import numpy as np

from keras_nst.image_io import save_image
from keras_nst.model import LOSS_NAMES

__all__ = ["JsonlLogger", "Snapshot"]


class Snapshot(keras.callbacks.Callback):
    """Saves the image being optimised every `every` iterations.

    Args:
        path: a file name pattern with an `{iteration}` field, e.g.
            `"out/snap_{iteration:04d}.png"`; PNG or JPEG by extension.
            Without the field, `_{iteration:04d}` is added before the
            extension. The folder is created if needed.
        every: save after every `every`-th iteration.
        metadata: a dict stored in each PNG's text metadata.

    Example:

    ```python
    model.optimize(500, callbacks=[Snapshot("snap_{iteration:04d}.png", 100)])
    ```
    """

    def __init__(self, path: str, every: int, metadata: dict | None = None):
        super().__init__()
        if every <= 0:
            raise ValueError(
                f"Expected every to be a positive integer. Received: {every}"
            )
        if "{iteration" not in path:
            root, ext = os.path.splitext(path)
            path = root + "_{iteration:04d}" + ext
        self.path = path
        self.every = every
        self.metadata = metadata
        self.saved: list[str] = []

    def on_train_begin(self, logs=None):
        folder = os.path.dirname(self.path.format(iteration=0))
        if folder:
            os.makedirs(folder, exist_ok=True)

    def on_train_batch_end(self, batch, logs=None):
        iteration = batch + 1
        if iteration % self.every:
            return
        path = self.path.format(iteration=iteration)
        metadata = dict(self.metadata or {}, iteration=iteration)
        save_image(path, self.model.get_image(), metadata=metadata)
        self.saved.append(path)


class JsonlLogger(keras.callbacks.Callback):
    """Writes one JSON line per iteration: iteration, total, content, style, tv.

    Args:
        path: the log file; it is overwritten.

    Example:

    ```python
    model.optimize(100, callbacks=[JsonlLogger("losses.jsonl")])
    ```
    """

    def __init__(self, path: str):
        super().__init__()
        self.path = path
        self._file = None

    def on_train_begin(self, logs=None):
        self._file = open(self.path, "w", encoding="utf-8")  # noqa: SIM115

    def on_train_batch_end(self, batch, logs=None):
        logs = logs or {}
        record = {"iteration": batch + 1}
        for name in LOSS_NAMES:
            if name in logs:
                record[name] = float(np.asarray(logs[name]))
        self._file.write(json.dumps(record) + "\n")

    def on_train_end(self, logs=None):
        if self._file is not None:
            self._file.close()
            self._file = None

"""Keras callbacks for style transfer runs: snapshots, a loss log, NaN stop."""

import json
import os

import keras
import numpy as np

from keras_nst.config import LOSS_NAMES
from keras_nst.image_io import save_image

__all__ = ["JsonlLogger", "Snapshot", "StopOnNaN"]


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
        self._done = 0
        self._seen = 0

    def on_train_begin(self, logs=None):
        folder = os.path.dirname(self.path.format(iteration=0))
        if folder:
            os.makedirs(folder, exist_ok=True)
        self._seen = 0

    def on_train_end(self, logs=None):
        # A multi-scale run calls fit once per scale; number across them.
        self._done += self._seen

    def on_train_batch_end(self, batch, logs=None):
        iteration = self._done + batch + 1
        self._seen = batch + 1
        if iteration % self.every:
            return
        path = self.path.format(iteration=iteration)
        metadata = dict(self.metadata or {}, iteration=iteration)
        save_image(path, self.model.get_image(), metadata=metadata)
        self.saved.append(path)


class JsonlLogger(keras.callbacks.Callback):
    """Writes one JSON line per iteration: iteration, size, and the losses.

    Each line has `iteration` (counted across the scales of a multi-scale
    run), `size` (`[height, width]`), `total`, `content`, `style`, `tv`.

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
        self._started = False
        self._done = 0
        self._seen = 0

    def on_train_begin(self, logs=None):
        # Later fits of a multi-scale run append to the first one's log.
        mode = "a" if self._started else "w"
        self._file = open(self.path, mode, encoding="utf-8")  # noqa: SIM115
        self._started = True
        self._seen = 0

    def on_train_batch_end(self, batch, logs=None):
        logs = logs or {}
        self._seen = batch + 1
        record = {"iteration": self._done + batch + 1}
        record["size"] = list(self.model.image.shape[1:3])
        for name in LOSS_NAMES:
            if name in logs:
                record[name] = float(np.asarray(logs[name]))
        self._file.write(json.dumps(record) + "\n")
        self._file.flush()  # so the log can be followed while it runs

    def on_train_end(self, logs=None):
        self._done += self._seen
        if self._file is not None:
            self._file.close()
            self._file = None


class StopOnNaN(keras.callbacks.Callback):
    """Stops a run whose loss becomes NaN or infinite, keeping a good image.

    The loss logged at iteration `k` is that of the image before step `k`,
    so the callback keeps a copy of the image after each step and, when a
    loss is not finite, stops `fit` and puts back the last image whose
    losses were all finite. `StyleTransferModel.optimize` always adds it
    and raises `NonFiniteLossError` afterwards.

    Attributes:
        stopped_at: the 1-based iteration whose loss was not finite, or
            `None`.
        last_good: the iteration of the restored image (0 is the initial
            image), or `None` if no loss was finite (the initial image is
            restored then too).
    """

    def __init__(self):
        super().__init__()
        self.stopped_at = None
        self.last_good = None
        self._good_image = None
        self._initial = None
        self._candidate = None

    def on_train_begin(self, logs=None):
        self.stopped_at = None
        self.last_good = None
        self._good_image = None
        self._initial = self._candidate = self.model.get_image(raw=True)

    def on_train_batch_end(self, batch, logs=None):
        values = [np.asarray((logs or {}).get(n, 0.0)) for n in LOSS_NAMES]
        if all(np.isfinite(v).all() for v in values):
            self._good_image = self._candidate
            self.last_good = batch
            self._candidate = self.model.get_image(raw=True)
            return
        self.stopped_at = batch + 1
        self.model.stop_training = True
        # With no finite loss at all, the starting image is the safest.
        self.model.set_image(
            self._initial if self._good_image is None else self._good_image
        )

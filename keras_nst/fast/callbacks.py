"""Callbacks of fast style transfer training: the loss log and samples.

Both count steps with the optimiser (`optimizer.iterations`, restored with
the rest of its state on resume), so a resumed run numbers its steps on
from the checkpoint's without being told where it starts.
"""

import json
import os

import keras
import numpy as np
from keras import ops

from keras_nst.callbacks import keep_log_steps
from keras_nst.choices import LOSS_NAMES
from keras_nst.fast.config import SAMPLE_EVERY
from keras_nst.image_io import as_batch
from keras_nst.image_output import save_image

__all__ = ["LossLog", "SampleImage", "optimizer_steps"]


def optimizer_steps(model: keras.Model) -> int:
    """The training steps `model`'s optimiser has taken, as an `int`."""
    return int(ops.convert_to_numpy(model.optimizer.iterations))


def _check_every(every: int) -> None:
    if every < 1:
        raise ValueError(f"Expected every to be positive. Received: {every}")


class LossLog(keras.callbacks.Callback):
    """Writes one JSON line per training step to `path`.

    Each line is `{"step", "total", "content", "style", "tv"}`, the same
    keys as the optimisation method's `keras_nst.JsonlLogger`: `step`
    counts from 1 across resumed runs, and each loss is that step's
    batch's own value (`total` is what Keras logs as `loss`).

    When training starts after `n` steps (a resumed run), the lines of
    steps 1 to `n` already in the file are kept and any later ones (a run
    stopped after its last checkpoint) are dropped, so each step is in the
    log once; a new run starts a new log. Put it before `Checkpoint` in
    the callbacks (as `keras_nst.fast.train` does), so a step is logged
    before it is checkpointed.

    Keras logs running means over the epoch (here the whole `fit` call);
    the step's own value is recovered as `n m_n - (n - 1) m_{n-1}`.

    Args:
        path: the JSON lines file.

    Example:

    ```python
    trainer.fit(crops, callbacks=[LossLog("train.jsonl")])
    ```
    """

    def __init__(self, path: str | os.PathLike):
        super().__init__()
        self.path = os.fspath(path)
        self._file = None
        self._means: dict[str, float] = {}

    def on_train_begin(self, logs=None):
        directory = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(directory, exist_ok=True)
        keep_log_steps(self.path, optimizer_steps(self.model))
        # The file stays open for the whole fit; on_train_end closes it.
        self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115
        self._means = {}

    def on_train_batch_end(self, batch, logs=None):
        logs = logs or {}
        record = {"step": optimizer_steps(self.model)}
        count = batch + 1
        for name in LOSS_NAMES:
            key = "loss" if name == "total" else name
            if key in logs:
                mean = float(np.asarray(logs[key]))
                previous = self._means.get(key, 0.0)
                record[name] = count * mean - (count - 1) * previous
                self._means[key] = mean
        self._file.write(json.dumps(record) + "\n")
        self._file.flush()  # so the log can be followed while it runs

    def on_train_end(self, logs=None):
        if self._file is not None:
            self._file.close()
            self._file = None


class SampleImage(keras.callbacks.Callback):
    """Stylises one image every `every` steps.

    Each goes to `directory/sample_{step:06d}.png`, with `step` counted by
    the optimiser (so across resumed runs).

    Args:
        image: an `(H, W, 3)` RGB array in 0..255.
        directory: where the samples go (created if missing).
        every: steps between samples.

    Example:

    ```python
    trainer.fit(crops, callbacks=[SampleImage(photo, "samples/", 100)])
    ```
    """

    def __init__(
        self, image: np.ndarray, directory: str, every: int = SAMPLE_EVERY
    ):
        super().__init__()
        _check_every(every)
        self.image = as_batch(image)
        self.directory = directory
        self.every = every
        self.saved: list[str] = []

    def on_train_batch_end(self, batch, logs=None):
        step = optimizer_steps(self.model)
        if step % self.every:
            return
        os.makedirs(self.directory, exist_ok=True)
        path = os.path.join(self.directory, f"sample_{step:06d}.png")
        result = self.model.transform(self.image, training=False)
        save_image(path, ops.convert_to_numpy(result)[0])
        self.saved.append(path)

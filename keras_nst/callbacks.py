"""Keras callbacks for style transfer runs: snapshots, a loss log, NaN stop.

The progress line is `keras_nst.progress.ProgressLine`.
"""

import json
import os
import time

import keras
import numpy as np
from keras import ops

from keras_nst.atomic import atomic_write
from keras_nst.choices import LOSS_NAMES
from keras_nst.image_output import save_image
from keras_nst.interrupt import requested_signal
from keras_nst.state_files import snapshot_pattern

__all__ = [
    "JsonlLogger",
    "keep_log_steps",
    "logged_losses",
    "Snapshot",
    "StopOnNaN",
    "StopOnSignal",
]


class _StepCounter(keras.callbacks.Callback):
    """Numbers the steps 1, 2, ... across the `fit` calls of a run.

    A multi-scale run calls `fit` once per scale; `_step(batch)` keeps
    counting from where the last one ended.
    """

    def __init__(self):
        super().__init__()
        self._done = 0
        self._seen = 0

    def start_at(self, step: int) -> None:
        """Counts on from `step`, for a run resumed after that many steps."""
        self._done = step
        self._seen = 0

    def on_train_begin(self, logs=None):
        self._seen = 0

    def on_train_end(self, logs=None):
        self._done += self._seen
        self._seen = 0

    def _step(self, batch: int) -> int:
        """The 1-based step of the run that `batch` of this `fit` is."""
        self._seen = batch + 1
        return self._done + batch + 1


def logged_losses(logs: dict | None) -> dict[str, float]:
    """The loss terms in a step's `fit` logs, as floats.

    A plain `fit` (the fast method's training) names the total `loss`; it
    is returned as `total`.
    """
    logs = dict(logs or {})
    if "total" not in logs and "loss" in logs:
        logs["total"] = logs["loss"]
    return {
        name: float(np.asarray(logs[name]))
        for name in LOSS_NAMES
        if name in logs
    }


def keep_log_steps(path: str, steps: int) -> None:
    """Rewrites the log at `path` with one line per step, steps <= `steps`.

    A step logged twice (by a run that went past its last checkpoint and
    the run resumed from that checkpoint) keeps its last line, the one of
    the run that went on; lines that do not parse (one cut short when a
    run was killed) are dropped. The rewrite is atomic: the log is the
    old one or the new one, never half of it.
    """
    if not os.path.exists(path):
        return
    with open(path, encoding="utf-8") as file:
        text = file.read()
    lines: dict[int, str] = {}
    for line in text.split("\n") if steps > 0 else ():
        step = _step_of(line)
        if step is not None and step <= steps:
            lines[step] = line + "\n"
    kept = "".join(lines[step] for step in sorted(lines))
    if kept == text:
        return

    def write(partial: str) -> None:
        with open(partial, "w", encoding="utf-8") as file:
            file.write(kept)

    atomic_write(path, write)


def _step_of(line: str) -> int | None:
    """The step of a log line, or `None` if it is not a whole record."""
    try:
        step = json.loads(line)["step"]
    except (ValueError, KeyError, TypeError):
        return None
    return step if isinstance(step, int) and step > 0 else None


class Snapshot(_StepCounter):
    """Saves the image being optimised every `every` iterations.

    Iterations are counted across the scales of a multi-scale run.

    Args:
        path: a file name pattern with an `{iteration}` field, e.g.
            `"out/snap_{iteration:04d}.png"`; PNG or JPEG by extension.
            Without the field, `_{iteration:04d}` is added before the
            extension (other braces in such a name are kept as they are).
            The folder is created if needed.
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
        path = snapshot_pattern(path)
        try:
            path.format(iteration=0)
        except (KeyError, IndexError, ValueError) as error:
            raise ValueError(
                "Expected path to have no field but {iteration}. "
                f"Received: path={path!r} ({type(error).__name__}: {error})"
            ) from None
        self.path = path
        self.every = every
        self.metadata = metadata
        self.saved: list[str] = []

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        folder = os.path.dirname(self.path.format(iteration=0))
        if folder:
            os.makedirs(folder, exist_ok=True)

    def on_train_batch_end(self, batch, logs=None):
        iteration = self._step(batch)
        if iteration % self.every or _stopped_on_nan(self.model):
            # After a non-finite loss the image is held at the last good
            # one: a snapshot would label it with a later iteration.
            return
        path = self.path.format(iteration=iteration)
        metadata = dict(self.metadata or {}, iteration=iteration)
        save_image(path, self.model.get_image(), metadata=metadata)
        self.saved.append(path)


class JsonlLogger(_StepCounter):
    """Writes one JSON line per step: the step, the size and the losses.

    Each line is `{"step": ..., "size": [height, width], "total": ...,
    "content": ..., "style": ..., "tv": ...}`: `step` counts from 1 across
    the scales of a multi-scale run, and each loss term is written when
    `fit` logs it. The fast method's training log uses the same keys.

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
        self._nonfinite = False

    def start_at(self, step: int) -> None:
        """Keeps the log's first `step` lines and appends after them.

        For a run resumed after `step` steps: the lines an interrupted run
        wrote after its last saved state are dropped, so no step repeats.
        """
        super().start_at(step)
        keep_log_steps(self.path, step)
        self._started = True

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        # Later fits of a multi-scale run append to the first one's log.
        mode = "a" if self._started else "w"
        self._file = open(self.path, mode, encoding="utf-8")  # noqa: SIM115
        self._started = True
        self._nonfinite = False

    def on_train_batch_end(self, batch, logs=None):
        logs = logs or {}
        record = {
            "step": self._step(batch),
            "size": list(self.model.image.shape[1:3]),
        }
        for name in LOSS_NAMES:
            if name in logs:
                record[name] = float(np.asarray(logs[name]))
        losses = [record[name] for name in LOSS_NAMES if name in record]
        self._nonfinite = self._nonfinite or not np.all(np.isfinite(losses))
        if self._nonfinite:
            # The run stops at the last finite loss; so does its log.
            return
        self._file.write(json.dumps(record) + "\n")
        self._file.flush()  # so the log can be followed while it runs

    def on_train_end(self, logs=None):
        super().on_train_end(logs)
        if self._file is not None:
            self._file.close()
            self._file = None


def _stopped_on_nan(model) -> bool:
    step = getattr(model, "nonfinite_step", None)
    return step is not None and float(ops.convert_to_numpy(step.value)) > 0


class StopOnNaN(keras.callbacks.Callback):
    """Ends `fit` early once a loss has been NaN or infinite.

    The guard itself runs inside each `StyleTransferModel` step, on the
    device: from the first non-finite loss on, the image is held at the
    last image whose loss was finite (`keras_nst.step.ImageStep.check_loss`).
    This callback only stops the remaining steps. Reading the guard's flag
    makes the host wait for the device, so it looks at most once every
    `interval` seconds instead of after every step. `optimize` always adds
    it, and raises `NonFiniteLossError` after `fit` when the flag is set.

    Args:
        interval: the least time, in seconds, between two looks.
    """

    def __init__(self, interval: float = 1.0):
        super().__init__()
        self.interval = interval
        self._last_look = 0.0

    def on_train_begin(self, logs=None):
        self._last_look = time.monotonic()

    def on_train_batch_end(self, batch, logs=None):
        now = time.monotonic()
        if now - self._last_look < self.interval:
            return
        self._last_look = now
        step = ops.convert_to_numpy(self.model.nonfinite_step.value)
        if float(step) > 0:
            self.model.stop_training = True


class StopOnSignal(keras.callbacks.Callback):
    """Ends `fit` after the current step once SIGINT or SIGTERM came.

    Inside `keras_nst.interrupt.stop_signals` the signals are recorded
    instead of raised; this reads the record (a Python variable, so after
    every step) and stops the run.
    """

    def on_train_batch_end(self, batch, logs=None):
        if requested_signal() is not None:
            self.model.stop_training = True

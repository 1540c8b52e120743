"""`WebProgress`: the Keras callback that feeds a run's `LiveState`."""

import time
from collections.abc import Callable
from collections.abc import Sequence

import numpy as np

from keras_nst.callbacks import _StepCounter
from keras_nst.callbacks import logged_losses
from keras_nst.image_output import png_bytes
from keras_nst.progress import time_left
from keras_nst.web.state import LiveState

__all__ = ["WebProgress"]


class WebProgress(_StepCounter):
    """Records each step's losses in `state` and, now and then, the picture.

    A stop asked for from the page (`state.stop_requested`) ends `fit`
    after the step in progress; whoever runs the model decides what else
    stops (the command line stops the whole run and keeps the picture).

    Args:
        state: the `LiveState` the page reads.
        schedule: the run's scales as `(steps, longest side)` pairs, for
            the time left, or `None`.
        interval: the least time between two pictures, in seconds.
        picture: makes the picture from the model (e.g. a fast network's
            result for a sample photo), or `None` for the model's
            `get_image()`, where it has one.
    """

    def __init__(
        self,
        state: LiveState,
        schedule: Sequence[tuple[int, int]] | None = None,
        interval: float = 1.0,
        picture: Callable[[object], np.ndarray] | None = None,
    ):
        super().__init__()
        self.state = state
        self.schedule = list(schedule) if schedule is not None else None
        self.interval = interval
        self.picture = picture
        self._last_image = 0.0
        self._began = 0.0
        self._first_step = 0

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self._began = time.monotonic()
        self._first_step = self._done
        self._show_image()

    def on_train_batch_end(self, batch, logs=None):
        step = self._step(batch)
        losses = logged_losses(logs)
        left = None
        if self.schedule:
            rate = (time.monotonic() - self._began) / (step - self._first_step)
            left = time_left(self.schedule, step, rate)
        image = getattr(self.model, "image", None)
        size = image.shape[1:3] if image is not None else None
        self.state.add_step(step, losses, size, left)
        if time.monotonic() - self._last_image >= self.interval:
            self._show_image()
        if self.state.stop_requested.is_set():
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        super().on_train_end(logs)
        self._show_image()

    def _show_image(self) -> None:
        self._last_image = time.monotonic()
        if self.picture is not None:
            self.state.set_image(png_bytes(self.picture(self.model)))
            return
        get_image = getattr(self.model, "get_image", None)
        if get_image is not None:
            self.state.set_image(png_bytes(get_image()))

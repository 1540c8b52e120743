"""A run's progress as one short line: compact numbers, at most 80 columns.

On a terminal the line is redrawn in place with a carriage return (no
colour or cursor codes); anywhere else (a log file, a pipe) each update is
a whole line. Keras' own progress bar averages the losses over the steps
so far and prints them with four decimals, 130 columns wide; the line here
shows the values of the step just taken.
"""

import math
import time
from collections.abc import Sequence
from typing import TextIO

import numpy as np

from keras_nst.callbacks import _StepCounter
from keras_nst.choices import LOSS_NAMES

__all__ = ["LEGEND", "ProgressLine", "compact", "scale_of", "time_left"]

WIDTH = 80
"""The most columns a progress line takes."""
LEGEND = (
    "Losses of the latest step; loss is the weighted sum, the terms unweighted."
)
"""What the numbers on a progress line are, written once before the first."""
_LABELS = {"total": "loss"}


def compact(value: float) -> str:
    """`value` with 3 significant digits in the fewest characters.

    `3368343.0` is `3.37e6`, `0.0123` is `0.0123`, `512.0` is `512`,
    `1.5e-05` is `1.5e-5`.
    """
    value = float(value)
    if not math.isfinite(value):
        return str(value)
    text = f"{value:.3g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"
    return text


def scale_of(schedule: Sequence[tuple[int, int]], step: int) -> int:
    """The index in `schedule` (`(steps, side)` pairs) of `step`'s scale."""
    ends = np.cumsum([steps for steps, _ in schedule])
    return min(int(np.searchsorted(ends, step)), len(ends) - 1)


def time_left(
    schedule: Sequence[tuple[int, int]], step: int, rate: float
) -> float:
    """Seconds the steps after `step` take, at `rate` s/step in its scale.

    Each remaining step is weighted by its scale's pixels (`side`
    squared) against those of `step`'s scale.
    """
    current = schedule[scale_of(schedule, step)][1]
    left, begins = 0.0, 0
    for steps, side in schedule:
        remaining = min(max(begins + steps - step, 0), steps)
        left += remaining * rate * (side / current) ** 2
        begins += steps
    return left


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{seconds:02d}"
    return f"{minutes}:{seconds:02d}"


class ProgressLine(_StepCounter):
    """Shows the step, its losses and the time left, in one short line.

    A line reads `step 120/500 loss 1.23e5 content 4.5e4 style 0.0123
    tv 7.8e3 2:36 left`; `LEGEND` is written once before it, and each
    scale of a multi-scale run starts with a line naming its size. The
    time left weighs each remaining step by its scale's pixels, at the
    speed measured so far in this scale. The last line gives the time
    taken and the seconds per step.

    Args:
        stream: where to write, e.g. `sys.stderr`.
        schedule: the run's scales as `(steps, longest side)` pairs
            (`keras_nst.schedule.scale_iterations` and `schedule_sizes`),
            or `None` if unknown: then neither the total nor the time left
            is shown.
        terminal: redraw one line with carriage returns instead of
            writing a line per update.
        interval: the least time between two updates, in seconds.
    """

    def __init__(
        self,
        stream: TextIO,
        schedule: Sequence[tuple[int, int]] | None = None,
        terminal: bool = False,
        interval: float = 10.0,
    ):
        super().__init__()
        self.stream = stream
        self.schedule = list(schedule) if schedule is not None else None
        self.terminal = terminal
        self.interval = interval
        self._started = False
        self._last = self._began = self._run_began = 0.0
        self._first_step = 0
        self._drawn = 0  # columns of the line being redrawn, if any
        self._latest: dict = {}

    @property
    def total(self) -> int | None:
        """The run's steps over all scales, if known."""
        if self.schedule is None:
            return None
        return sum(steps for steps, _ in self.schedule)

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        now = time.monotonic()
        if not self._started:
            self._started = True
            self._run_began = now
            self._write_line(LEGEND)
        scales = len(self.schedule) if self.schedule else 0
        if scales > 1 and self.model is not None:
            height, width = self.model.image.shape[1:3]
            scale = scale_of(self.schedule, self._done + 1) + 1
            self._write_line(
                f"scale {scale}/{scales}: "
                f"{width}x{height} px, {self.params.get('steps')} steps"
            )
        self._began = self._last = now
        self._first_step = self._done

    def on_train_batch_end(self, batch, logs=None):
        step = self._step(batch)
        self._latest = logs or {}  # read at the end, not synced each step
        now = time.monotonic()
        last = batch + 1 == self.params.get("steps")
        if not last and now - self._last < self.interval:
            return
        self._last = now
        rate = (now - self._began) / max(step - self._first_step, 1)
        line = self.format(step, logs or {}, self._time_left(step, rate))
        if self.terminal:
            padding = " " * max(self._drawn - len(line), 0)
            self.stream.write("\r" + line + padding)
            self._drawn = len(line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def on_train_end(self, logs=None):
        steps = self._seen
        super().on_train_end(logs)
        if self._drawn:
            self.stream.write("\n")  # the redrawn line stays as it stands
            self._drawn = 0
        stopped = self.model is not None and self.model.stop_training
        more = self.total is not None and self._done < self.total
        if steps and (stopped or not more):
            took = time.monotonic() - self._run_began
            loss = self._latest.get("total")
            final = (
                ""
                if loss is None
                else (f", last loss {compact(float(np.asarray(loss)))}")
            )
            self._write_line(
                f"{self._done} steps in {_duration(took)} "
                f"({compact(took / max(self._done, 1))} s/step){final}"
            )

    def format(self, step: int, logs: dict, left: float | None) -> str:
        """The progress line for `step`, cut to `WIDTH` columns."""
        of = f"/{self.total}" if self.total else ""
        parts = [f"step {step}{of}"]
        for name in LOSS_NAMES:
            if name in logs:
                value = float(np.asarray(logs[name]))
                parts.append(f"{_LABELS.get(name, name)} {compact(value)}")
        if left is not None:
            parts.append(f"{_duration(left)} left")
        return " ".join(parts)[:WIDTH]

    def _time_left(self, step: int, rate: float) -> float | None:
        if not self.schedule or step - self._first_step < 1:
            return None
        return time_left(self.schedule, step, rate)

    def _write_line(self, text: str) -> None:
        self.stream.write(text[:WIDTH] + "\n")
        self.stream.flush()

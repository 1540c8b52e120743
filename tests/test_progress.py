"""The progress line, driven through Keras' hooks on a stand-in model."""

import io

import keras
import numpy as np
import pytest

from keras_nst.progress import LEGEND
from keras_nst.progress import WIDTH
from keras_nst.progress import ProgressLine
from keras_nst.progress import compact

LOGS = {"total": 3368343.0, "content": 0.5, "style": 0.0123, "tv": 34269300.0}


class _Model:
    def __init__(self, height=6, width=8):
        self.image = keras.Variable(np.zeros((1, height, width, 3), "float32"))
        self.stop_training = False


class _Clock:
    """A `time.monotonic` that moves only when told to."""

    def __init__(self, monkeypatch):
        self.now = 100.0
        monkeypatch.setattr("keras_nst.progress.time.monotonic", self)

    def __call__(self):
        return self.now


def _fit(callback, model, steps, logs=LOGS, clock=None, seconds=1.0):
    callback.set_model(model)
    callback.set_params({"steps": steps})
    callback.on_train_begin()
    for batch in range(steps):
        if clock is not None:
            clock.now += seconds
        callback.on_train_batch_end(batch, logs)
        if model.stop_training:
            break
    callback.on_train_end()


@pytest.mark.parametrize(
    "value, text",
    [
        (3368343.0, "3.37e6"),
        (34269300.0, "3.43e7"),
        (0.0123, "0.0123"),
        (512.0, "512"),
        (1.5e-05, "1.5e-5"),
        (-2.5e-12, "-2.5e-12"),
        (0.0, "0"),
        (float("nan"), "nan"),
        (float("inf"), "inf"),
    ],
)
def test_compact_numbers(value, text):
    assert compact(value) == text


def test_log_lines_are_whole_short_and_labelled():
    stream = io.StringIO()
    progress = ProgressLine(stream, [(3, 8)], terminal=False, interval=0.0)
    _fit(progress, _Model(), 3)
    text = stream.getvalue()
    assert "\r" not in text and "\x1b" not in text
    lines = text.splitlines()
    assert lines[0] == LEGEND
    assert lines[1].startswith("step 1/3 loss 3.37e6 content 0.5 ")
    assert "style 0.0123 tv 3.43e7" in lines[3]
    assert lines[3].startswith("step 3/3 ") and lines[3].endswith(" left")
    assert lines[4].startswith("3 steps in 0:0")
    assert lines[4].endswith(" s/step), last loss 3.37e6")
    assert len(lines) == 5
    assert all(len(line) <= WIDTH for line in lines)


def test_terminal_line_is_redrawn_in_place():
    stream = io.StringIO()
    progress = ProgressLine(stream, [(4, 8)], terminal=True, interval=0.0)
    _fit(progress, _Model(), 4, logs={"total": 1e9})
    text = stream.getvalue()
    assert "\x1b" not in text
    assert text.startswith(LEGEND + "\n")
    redrawn, summary = text[len(LEGEND) + 1 :].split("\n")[:2]
    frames = redrawn.split("\r")[1:]
    assert [frame.split()[1] for frame in frames] == [
        "1/4",
        "2/4",
        "3/4",
        "4/4",
    ]
    assert summary.startswith("4 steps in ")


def test_wide_values_and_counts_fit_the_width():
    stream = io.StringIO()
    progress = ProgressLine(stream, [(99999, 8)], interval=0.0)
    logs = dict.fromkeys(LOGS, -1.234567e-300)
    _fit(progress, _Model(), 2, logs=logs)
    assert all(len(line) <= WIDTH for line in stream.getvalue().splitlines())


def test_updates_wait_for_the_interval(monkeypatch):
    clock = _Clock(monkeypatch)
    stream = io.StringIO()
    progress = ProgressLine(stream, [(10, 8)], interval=3.5)
    _fit(progress, _Model(), 10, clock=clock)
    steps = [
        line.split()[1]
        for line in stream.getvalue().splitlines()
        if line.startswith("step ")
    ]
    # Every 4th step (3.5 s apart at 1 s a step), and the last.
    assert steps == ["4/10", "8/10", "10/10"]


def test_time_left_weighs_steps_by_their_scale_pixels(monkeypatch):
    clock = _Clock(monkeypatch)
    stream = io.StringIO()
    progress = ProgressLine(stream, [(2, 100), (2, 200)], interval=0.0)
    _fit(progress, _Model(75, 100), 2, clock=clock, seconds=1.0)
    _fit(progress, _Model(150, 200), 2, clock=clock, seconds=4.0)
    lines = stream.getvalue().splitlines()
    assert lines[1] == "scale 1/2: 100x75 px, 2 steps"
    # 1 s a step at 100 px: one more there, two at 4x the pixels.
    assert lines[2] == (
        "step 1/4 loss 3.37e6 content 0.5 style 0.0123 tv 3.43e7 0:09 left"
    )
    assert lines[3].endswith(" 0:08 left")
    assert lines[4] == "scale 2/2: 200x150 px, 2 steps"
    assert lines[5].endswith(" 0:04 left")
    assert lines[6].endswith(" 0:00 left")
    assert lines[7] == "4 steps in 0:10 (2.5 s/step), last loss 3.37e6"


def test_resumed_run_counts_on_from_its_scale():
    stream = io.StringIO()
    progress = ProgressLine(stream, [(2, 100), (2, 200)], interval=0.0)
    progress.start_at(2)
    _fit(progress, _Model(150, 200), 2)
    lines = stream.getvalue().splitlines()
    assert lines[1] == "scale 2/2: 200x150 px, 2 steps"
    assert lines[2].startswith("step 3/4 ")
    assert lines[-1].startswith("4 steps in ")


def test_a_stopped_run_ends_its_line():
    stream = io.StringIO()
    progress = ProgressLine(stream, [(5, 8), (5, 16)], True, interval=0.0)
    model = _Model()

    class _Stop(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            model.stop_training = batch == 1

    stopper = _Stop()
    stopper.set_model(model)
    progress.set_model(model)
    progress.set_params({"steps": 5})
    progress.on_train_begin()
    for batch in range(5):
        progress.on_train_batch_end(batch, LOGS)
        stopper.on_train_batch_end(batch)
        if model.stop_training:
            break
    progress.on_train_end()
    text = stream.getvalue()
    assert text.endswith("\n")
    assert text.splitlines()[-1].startswith("2 steps in ")


def test_unknown_schedule_shows_no_total_or_time_left():
    stream = io.StringIO()
    progress = ProgressLine(stream, None, interval=0.0)
    _fit(progress, _Model(), 2)
    line = stream.getvalue().splitlines()[2]
    assert line == "step 2 loss 3.37e6 content 0.5 style 0.0123 tv 3.43e7"

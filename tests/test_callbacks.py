"""The callbacks, driven through Keras' hooks on a stand-in model."""

import json

import keras
import numpy as np
import pytest
from PIL import Image

from keras_nst.callbacks import JsonlLogger
from keras_nst.callbacks import Snapshot
from keras_nst.callbacks import StopOnNaN
from keras_nst.image_output import read_metadata


class _Model:
    """What the callbacks read from a `StyleTransferModel`."""

    def __init__(self, height=6, width=8):
        self.image = keras.Variable(np.zeros((1, height, width, 3), "float32"))
        self.nonfinite_step = keras.Variable(0.0)
        self.stop_training = False
        self.calls = 0

    def get_image(self):
        # A different flat grey each call, to tell the snapshots apart.
        self.calls += 1
        shape = self.image.shape[1:]
        return np.full(shape, 10.0 * self.calls, "float32")


def _fit(callback, model, steps, logs=None):
    """What one `fit` call does to a callback."""
    callback.set_model(model)
    callback.on_train_begin()
    for batch in range(steps):
        callback.on_train_batch_begin(batch)
        callback.on_train_batch_end(batch, logs)
    callback.on_train_end()


LOGS = {"total": 6.0, "content": 1.0, "style": 2.0, "tv": 3.0}


def test_snapshot_numbers_across_fits(tmp_path):
    snapshot = Snapshot(str(tmp_path / "new" / "s_{iteration:03d}.png"), 2)
    _fit(snapshot, _Model(6, 8), 3)  # a coarse scale, then a fine one
    _fit(snapshot, _Model(12, 16), 3)
    names = ["s_002.png", "s_004.png", "s_006.png"]
    assert snapshot.saved == [str(tmp_path / "new" / n) for n in names]
    sizes, greys = [], []
    for path in snapshot.saved:
        with Image.open(path) as picture:
            sizes.append(picture.size)
            greys.append(int(np.asarray(picture).mean()))
        assert read_metadata(path)["iteration"] == int(path[-7:-4])
    assert sizes == [(8, 6), (16, 12), (16, 12)]
    # One get_image per saved file, taken when it was saved.
    assert greys == [10, 10, 20]


def test_snapshot_adds_the_iteration_field(tmp_path):
    snapshot = Snapshot(str(tmp_path / "out.png"), 1, metadata={"k": "v"})
    _fit(snapshot, _Model(), 2)
    assert snapshot.saved == [
        str(tmp_path / "out_0001.png"),
        str(tmp_path / "out_0002.png"),
    ]
    assert read_metadata(snapshot.saved[1]) == {"k": "v", "iteration": 2}


def test_snapshot_keeps_braces_of_a_plain_name(tmp_path):
    snapshot = Snapshot(str(tmp_path / "out_{x}.png"), 1)
    _fit(snapshot, _Model(), 1)
    assert snapshot.saved == [str(tmp_path / "out_{x}_0001.png")]


@pytest.mark.parametrize(
    "pattern",
    ["s_{iteration}_{x}.png", "s_{iteration:04d}{}.png", "{iteration:q}"],
)
def test_snapshot_rejects_other_fields(pattern):
    with pytest.raises(ValueError, match="no field but {iteration}"):
        Snapshot(pattern, 1)


@pytest.mark.parametrize("every", [0, -1])
def test_snapshot_rejects_bad_every(every):
    with pytest.raises(ValueError, match=f"Received: {every}"):
        Snapshot("x.png", every)


def test_jsonl_logger_writes_one_record_per_step(tmp_path):
    path = tmp_path / "log.jsonl"
    path.write_text("an old run's log\n")
    logger = JsonlLogger(str(path))
    _fit(logger, _Model(6, 8), 2, LOGS)
    _fit(logger, _Model(12, 16), 3, LOGS)
    lines = path.read_text().splitlines()
    assert len(lines) == 5  # the old log was overwritten, then appended to
    records = [json.loads(line) for line in lines]
    for record in records:
        assert list(record) == ["step", "size", *LOGS]
        assert {k: record[k] for k in LOGS} == LOGS
    assert [r["step"] for r in records] == [1, 2, 3, 4, 5]
    assert [r["size"] for r in records] == [[6, 8]] * 2 + [[12, 16]] * 3


def test_jsonl_logger_writes_the_terms_it_is_given(tmp_path):
    path = tmp_path / "log.jsonl"
    logger = JsonlLogger(str(path))
    logs = {"total": np.float32(2.5), "tv": np.array(0.5), "other": 1.0}
    _fit(logger, _Model(), 1, logs)
    record = json.loads(path.read_text())
    assert record == {"step": 1, "size": [6, 8], "total": 2.5, "tv": 0.5}
    assert logger._file is None  # closed at the end of fit


def test_stop_on_nan_stops_once_the_flag_is_set():
    model = _Model()
    stop = StopOnNaN(interval=0.0)
    stop.set_model(model)
    stop.on_train_begin()
    stop.on_train_batch_end(0)
    assert not model.stop_training
    model.nonfinite_step.assign(3.0)
    stop.on_train_batch_end(1)
    assert model.stop_training


def test_stop_on_nan_looks_at_most_once_per_interval(monkeypatch):
    clock = [100.0]
    monkeypatch.setattr("keras_nst.callbacks.time.monotonic", lambda: clock[0])
    model = _Model()
    stop = StopOnNaN(interval=1.0)
    stop.set_model(model)
    stop.on_train_begin()
    model.nonfinite_step.assign(1.0)
    clock[0] = 100.5
    stop.on_train_batch_end(0)
    assert not model.stop_training  # too soon to look
    clock[0] = 101.0
    stop.on_train_batch_end(1)
    assert model.stop_training


def test_no_snapshot_after_a_nonfinite_loss(tmp_path):
    # After the guard tripped, the image is held at the last good one: a
    # snapshot would show it under a later iteration's number.
    model = _Model()
    snapshot = Snapshot(str(tmp_path / "s.png"), 1)
    snapshot.set_model(model)
    snapshot.on_train_begin()
    snapshot.on_train_batch_end(0)
    model.nonfinite_step.assign(2.0)
    snapshot.on_train_batch_end(1)
    snapshot.on_train_batch_end(2)
    assert [p.rsplit("/", 1)[-1] for p in snapshot.saved] == ["s_0001.png"]


def test_log_stops_at_the_last_finite_loss(tmp_path):
    path = tmp_path / "log.jsonl"
    logger = JsonlLogger(str(path))
    logger.set_model(_Model())
    logger.on_train_begin()
    for batch, total in enumerate([3.0, 2.0, float("nan"), 1.0]):
        logger.on_train_batch_end(batch, {**LOGS, "total": total})
    logger.on_train_end()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["step"] for line in lines] == [1, 2]


def test_log_start_at_drops_the_steps_after_it(tmp_path):
    path = tmp_path / "log.jsonl"
    lines = [json.dumps({"step": i, "total": 1.0}) for i in range(1, 8)]
    path.write_text("\n".join(lines) + '\n{"step": 8, "tot')  # torn line
    logger = JsonlLogger(str(path))
    logger.start_at(5)
    _fit(logger, _Model(), 2, LOGS)
    steps = [json.loads(line)["step"] for line in path.read_text().splitlines()]
    assert steps == [1, 2, 3, 4, 5, 6, 7]

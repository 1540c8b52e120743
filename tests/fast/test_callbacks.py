import json
import os
import types

import keras
import numpy as np
import pytest

from keras_nst.fast import checkpoint as checkpoint_module
from keras_nst.fast.callbacks import LossLog
from keras_nst.fast.callbacks import SampleImage
from keras_nst.fast.checkpoint import Checkpoint
from keras_nst.fast.checkpoint import read_checkpoint
from keras_nst.fast.checkpoint import restore_optimizer
from keras_nst.fast.config import resolve_train_config
from keras_nst.fast.network import TransformNet
from keras_nst.fast.trainer import FastStyleTrainer
from tests.fast.helpers import TINY
from tests.fast.helpers import weights_of


def _stepped_model(steps):
    """A stand-in model whose optimiser has taken `steps` steps."""
    return types.SimpleNamespace(
        optimizer=types.SimpleNamespace(iterations=np.int64(steps))
    )


def _records(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_loss_log_writes_each_steps_own_value_numbered_by_the_optimiser(
    tmp_path,
):
    path = tmp_path / "logs" / "log.jsonl"
    log = LossLog(path)
    model = _stepped_model(10)
    log.set_model(model)
    log.on_train_begin()
    # Keras passes running means: steps of 2, 4 and 6 average 2, 3 and 4.
    for batch, mean in enumerate([2.0, 3.0, 4.0]):
        model.optimizer.iterations += 1
        log.on_train_batch_end(
            batch, {"loss": mean, "content": 1.0, "style": mean / 2, "tv": 0.0}
        )
    log.on_train_end()
    records = _records(path)
    assert [r["step"] for r in records] == [11, 12, 13]
    assert [r["total"] for r in records] == [2.0, 4.0, 6.0]
    assert [r["style"] for r in records] == [1.0, 2.0, 3.0]
    assert [r["content"] for r in records] == [1.0, 1.0, 1.0]
    assert list(records[0]) == ["step", "total", "content", "style", "tv"]


def test_loss_log_drops_steps_past_where_training_starts(tmp_path):
    path = tmp_path / "log.jsonl"
    # A run logged 6 steps, its last checkpoint was at 4, and it died
    # while writing step 7.
    lines = [json.dumps({"step": s, "total": float(s)}) for s in range(1, 7)]
    path.write_text("\n".join(lines) + '\n{"step": 7, "tot')
    log = LossLog(path)
    model = _stepped_model(4)
    log.set_model(model)
    log.on_train_begin()
    model.optimizer.iterations += 1
    log.on_train_batch_end(0, {"loss": 50.0})
    log.on_train_end()
    records = _records(path)
    assert [r["step"] for r in records] == [1, 2, 3, 4, 5]
    assert records[4]["total"] == 50.0
    assert records[3]["total"] == 4.0


def test_loss_log_of_a_new_run_starts_afresh(tmp_path):
    path = tmp_path / "log.jsonl"
    path.write_text(json.dumps({"step": 1, "total": 9.0}) + "\n")
    log = LossLog(path)
    model = _stepped_model(0)
    log.set_model(model)
    log.on_train_begin()
    model.optimizer.iterations += 1
    log.on_train_batch_end(0, {"loss": 1.0})
    log.on_train_end()
    assert _records(path) == [{"step": 1, "total": 1.0}]


@pytest.mark.parametrize("make", [Checkpoint, SampleImage])
def test_every_must_be_positive(make, tmp_path):
    args = (np.zeros((8, 8, 3)),) if make is SampleImage else ()
    with pytest.raises(ValueError, match="every to be positive"):
        make(*args, str(tmp_path), 0)


def _trainer(rng):
    style = rng.uniform(0, 255, (32, 32, 3)).astype("float32")
    trainer = FastStyleTrainer(style, resolve_train_config(**TINY))
    trainer.compile(optimizer=keras.optimizers.Adam(1e-3))
    trainer.optimizer.build(trainer.trainable_variables)
    return trainer


def test_checkpoint_and_samples_count_the_optimisers_steps(tmp_path, rng):
    trainer = _trainer(rng)
    # As if resumed after 4 steps: nothing tells the callbacks but the
    # optimiser.
    trainer.optimizer.iterations.assign(4)
    directory = tmp_path / "checkpoint"
    checkpoint = Checkpoint(directory, every=2)
    sample = SampleImage(np.full((12, 12, 3), 90.0), str(directory), 3)
    data = rng.uniform(0, 255, (6, 32, 32, 3)).astype("float32")
    trainer.fit(
        data, batch_size=2, epochs=1, shuffle=False, verbose=0,
        callbacks=[checkpoint, sample],
    )  # fmt: skip
    # Steps 5, 6, 7: a checkpoint at 6, and the last step, 7, at the end.
    steps, network = read_checkpoint(directory)
    assert steps == 7 == checkpoint.saved_step
    assert [p.rsplit("/", 1)[-1] for p in sample.saved] == ["sample_000006.png"]
    for a, b in zip(
        weights_of(network), weights_of(trainer.transform), strict=True
    ):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    fresh = _trainer(rng)
    assert restore_optimizer(fresh.optimizer, directory) == 7
    for a, b in zip(
        fresh.optimizer.variables, trainer.optimizer.variables, strict=True
    ):
        np.testing.assert_array_equal(
            keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b)
        )


def _network_and_optimiser(filters):
    net = TransformNet(filters, 1, seed=0)
    optimizer = keras.optimizers.Adam(1e-3)
    optimizer.build(net.trainable_variables)
    return types.SimpleNamespace(transform=net, optimizer=optimizer)


def test_restoring_another_networks_optimiser_fails(tmp_path):
    model = _network_and_optimiser(4)
    model.optimizer.iterations.assign(3)
    checkpoint = Checkpoint(tmp_path, every=1)
    checkpoint.set_model(model)
    checkpoint.save()
    assert read_checkpoint(tmp_path)[0] == 3
    same = _network_and_optimiser(4)
    assert restore_optimizer(same.optimizer, tmp_path) == 3
    wider = _network_and_optimiser(6)
    with pytest.raises(ValueError, match="does not fit this network"):
        restore_optimizer(wider.optimizer, tmp_path)


def test_loss_log_keeps_one_line_per_step_of_an_older_log(tmp_path):
    path = tmp_path / "log.jsonl"
    # Steps 5 and 6 logged twice: by a run stopped after step 6 whose last
    # checkpoint was step 4, and by the run resumed from it.
    steps = [1, 2, 3, 4, 5, 6, 5, 6, 7]
    path.write_text(
        "".join(
            json.dumps({"step": s, "total": float(i)}) + "\n"
            for i, s in enumerate(steps)
        )
    )
    log = LossLog(path)
    log.set_model(_stepped_model(6))
    log.on_train_begin()
    log.on_train_end()
    records = _records(path)
    assert [r["step"] for r in records] == [1, 2, 3, 4, 5, 6]
    # The resumed run's lines, the ones that led to the checkpoint.
    assert [r["total"] for r in records[4:]] == [6.0, 7.0]


def test_an_interrupted_log_rewrite_leaves_the_log_as_it_was(
    tmp_path, monkeypatch
):
    path = tmp_path / "log.jsonl"
    text = "".join(json.dumps({"step": s}) + "\n" for s in range(1, 6))
    path.write_text(text)
    log = LossLog(path)
    log.set_model(_stepped_model(3))

    def interrupted(source, target):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        log.on_train_begin()
    monkeypatch.undo()
    assert path.read_text() == text
    assert os.listdir(tmp_path) == ["log.jsonl"]


def _network_file_fails(network, path):
    with open(path, "wb") as file:
        file.write(b"half a network")
    raise OSError("disk full")


def _optimizer_file_fails(path, **values):
    with open(path, "wb") as file:
        file.write(b"half the optimiser")
    raise KeyboardInterrupt


def _state_file_fails(path, text):
    with open(path, "w") as file:
        file.write('{"ste')
    raise KeyboardInterrupt


@pytest.mark.parametrize(
    "target, name, fail",
    [
        (TransformNet, "save", _network_file_fails),
        (np, "savez", _optimizer_file_fails),
        (checkpoint_module, "_write_text", _state_file_fails),
    ],
)
def test_a_failed_checkpoint_leaves_the_previous_one(
    target, name, fail, tmp_path, monkeypatch
):
    model = _network_and_optimiser(4)
    model.optimizer.iterations.assign(2)
    checkpoint = Checkpoint(tmp_path, every=1)
    checkpoint.set_model(model)
    checkpoint.save()
    files = {p: p.read_bytes() for p in tmp_path.iterdir()}
    before = weights_of(model.transform)
    model.optimizer.iterations.assign(3)
    for variable in model.transform.trainable_variables:
        variable.assign(variable + 1.0)
    monkeypatch.setattr(target, name, fail)
    with pytest.raises((OSError, KeyboardInterrupt)):
        checkpoint.save()
    monkeypatch.undo()
    # No partial file, and every file of the step-2 checkpoint unchanged.
    assert {p: p.read_bytes() for p in tmp_path.iterdir()} == files
    steps, network = read_checkpoint(tmp_path)
    assert steps == 2 and checkpoint.saved_step == 2
    for a, b in zip(weights_of(network), before, strict=True):
        np.testing.assert_array_equal(a, b)
    assert restore_optimizer(_network_and_optimiser(4).optimizer, tmp_path) == 2

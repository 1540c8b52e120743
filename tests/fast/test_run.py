import inspect
import json
import os
import random
import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_nst.errors import InsufficientMemoryError
from keras_nst.fast.callbacks import SampleImage
from keras_nst.fast.checkpoint import Checkpoint
from keras_nst.fast.config import CHECKPOINT_EVERY
from keras_nst.fast.config import SAMPLE_EVERY
from keras_nst.fast.config import resolve_train_config
from keras_nst.fast.memory import check_train_memory
from keras_nst.fast.memory import estimate_stylize_bytes
from keras_nst.fast.memory import estimate_train_bytes
from keras_nst.fast.network import TransformNet
from keras_nst.fast.network import load_transform
from keras_nst.fast.run import steps_for
from keras_nst.fast.run import stylize
from keras_nst.fast.run import train
from tests.fast.helpers import TINY
from tests.fast.helpers import weights_of

RUNNER = os.path.join(
    os.path.dirname(os.path.dirname(__file__)), "distribution", "run.py"
)


def _records(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_train_writes_model_checkpoints_and_samples_and_resumes(
    photos, tmp_path
):
    folder, style = photos
    output = tmp_path / "out" / "style.keras"
    log = tmp_path / "log.jsonl"
    train(
        style, folder, output, steps=4, checkpoint_every=2, sample_every=3,
        verbose=0, log=log, **TINY,
    )  # fmt: skip
    checkpoint = tmp_path / "out" / "style_checkpoint"
    assert sorted(os.listdir(checkpoint)) == [
        "optimizer.npz", "sample_000003.png", "state.json", "transform.keras",
    ]  # fmt: skip
    assert json.loads((checkpoint / "state.json").read_text()) == {"steps": 4}
    first = load_transform(output)
    photo = np.full((20, 24, 3), 100.0, "float32")
    # Four more steps from the checkpoint: the state and the network move on.
    trainer = train(
        style, folder, output, steps=8, checkpoint_every=2, sample_every=3,
        verbose=0, resume=True, log=log, **TINY,
    )  # fmt: skip
    records = _records(log)
    assert [r["step"] for r in records] == list(range(1, 9))
    assert list(records[0]) == ["step", "total", "content", "style", "tv"]
    assert json.loads((checkpoint / "state.json").read_text()) == {"steps": 8}
    assert len(trainer.history.history["loss"]) == 1
    assert int(keras.ops.convert_to_numpy(trainer.optimizer.iterations)) == 8
    second = load_transform(output)
    assert (
        np.abs(stylize(first, [photo])[0] - stylize(second, [photo])[0]).max()
        > 0
    )
    assert (checkpoint / "sample_000006.png").exists()


class _Interrupt(Exception):
    pass


class _StopAt(keras.callbacks.Callback):
    def __init__(self, step):
        super().__init__()
        self.step = step

    def on_train_batch_end(self, batch, logs=None):
        if batch + 1 == self.step:
            raise _Interrupt


def test_an_interrupted_run_resumes_as_if_never_stopped(photos, tmp_path):
    folder, style = photos
    run = dict(TINY, steps=6, checkpoint_every=2, verbose=0)

    def train_with(name, **options):
        # Only the random VGG19 of weights=None depends on the global seed;
        # the crops and the network's initial weights come from the config.
        keras.utils.set_random_seed(0)
        return train(
            style, folder, tmp_path / f"{name}.keras",
            log=tmp_path / f"{name}.jsonl", **run, **options,
        )  # fmt: skip

    whole = train_with("whole")
    with pytest.raises(_Interrupt):
        # Stopped after step 5 was logged; the last checkpoint is step 4.
        train_with("parts", callbacks=[_StopAt(5)])
    state = tmp_path / "parts_checkpoint" / "state.json"
    assert json.loads(state.read_text()) == {"steps": 4}
    assert [r["step"] for r in _records(tmp_path / "parts.jsonl")] == [
        1, 2, 3, 4, 5,
    ]  # fmt: skip
    resumed = train_with("parts", resume=True)

    assert int(keras.ops.convert_to_numpy(resumed.optimizer.iterations)) == 6
    parts = _records(tmp_path / "parts.jsonl")
    assert [r["step"] for r in parts] == [1, 2, 3, 4, 5, 6]
    for a, b in zip(parts, _records(tmp_path / "whole.jsonl"), strict=True):
        assert a.keys() == b.keys()
        for key in a:
            np.testing.assert_allclose(a[key], b[key], rtol=1e-4)
    for a, b in zip(
        weights_of(resumed.transform), weights_of(whole.transform), strict=True
    ):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


class _InitialWeights(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.weights = weights_of(self.model.transform)


def test_train_leaves_the_global_random_state_alone(
    photos, tmp_path, monkeypatch
):
    folder, style = photos

    def refuse(*args, **kwargs):
        raise AssertionError("train reseeded a global random generator")

    # Keras' call, and the calls it makes, whatever name it is called by.
    for owner, name in (
        (keras.utils, "set_random_seed"),
        (np.random, "seed"),
        (random, "seed"),
    ):
        monkeypatch.setattr(owner, name, refuse)
    numpy_state = np.random.get_state()
    initial = []
    for name in ("a", "b"):
        seen = _InitialWeights()
        train(
            style, folder, tmp_path / f"{name}.keras", steps=1, verbose=0,
            callbacks=[seen], **TINY,
        )  # fmt: skip
        initial.append(seen.weights)
        keras.random.uniform((7,))  # the global random state moves on
    for a, b in zip(*initial, strict=True):
        np.testing.assert_array_equal(a, b)
    # Nothing drew from NumPy's global generator either.
    after = np.random.get_state()
    assert after[0] == numpy_state[0] and after[2:] == numpy_state[2:]
    np.testing.assert_array_equal(after[1], numpy_state[1])


def test_step_defaults_are_defined_once():
    for function, name, value in (
        (train, "checkpoint_every", CHECKPOINT_EVERY),
        (train, "sample_every", SAMPLE_EVERY),
        (Checkpoint, "every", CHECKPOINT_EVERY),
        (SampleImage, "every", SAMPLE_EVERY),
    ):
        parameter = inspect.signature(function).parameters[name]
        assert parameter.default is value, (function, name)


def test_resume_without_checkpoint_fails(photos, tmp_path):
    folder, style = photos
    with pytest.raises(FileNotFoundError, match="No checkpoint"):
        train(style, folder, tmp_path / "m.keras", resume=True, **TINY)


def test_output_must_be_a_keras_file(photos, tmp_path):
    folder, style = photos
    with pytest.raises(ValueError, match=r"end in \.keras"):
        train(style, folder, tmp_path / "m.h5", **TINY)


def test_stylize_batches_mixed_sizes_in_order(rng, tmp_path):
    net = TransformNet(filters=4, residual_blocks=1)
    images = [
        rng.uniform(0, 255, shape).astype("float32")
        for shape in ((20, 30, 3), (16, 16, 3), (20, 30, 3))
    ]
    together = stylize(net, images, batch_size=2)
    alone = [stylize(net, [image])[0] for image in images]
    assert [r.shape for r in together] == [i.shape for i in images]
    for a, b in zip(together, alone, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-3)
    path = tmp_path / "net.keras"
    net.save(path)
    (resized,) = stylize(path, [images[0]], size=15)
    assert resized.shape == (10, 15, 3)


def test_steps_for_rounds_each_epoch_up():
    assert steps_for(epochs=3, images=5, batch_size=2) == 9
    assert steps_for(epochs=1, images=4, batch_size=4) == 1


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="runs every backend in its own process; once per suite is enough",
)
@pytest.mark.parametrize("backend", ["jax", "tensorflow"])
def test_data_parallel_training_on_two_virtual_devices(
    backend, photos, tmp_path
):
    folder, style = photos
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
    if backend == "jax":
        env["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"
    run = subprocess.run(
        [sys.executable, RUNNER, "train", str(style), str(folder),
         str(tmp_path)],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["replicas"] == 2
    assert result["steps"] == 4
    # The logged loss is the global batch's mean, as on one device.
    np.testing.assert_allclose(
        result["first_step_loss"], result["single_device_loss"], rtol=1e-3
    )
    assert os.path.exists(tmp_path / "m.keras")


def test_stylize_takes_any_size_from_one_pixel(rng):
    net = TransformNet(filters=4, residual_blocks=1)
    shapes = ((1, 1, 3), (5, 3, 3), (1, 7, 3), (20, 30, 3), (1, 1, 3))
    images = [rng.uniform(0, 255, shape).astype("float32") for shape in shapes]
    results = stylize(net, images, batch_size=2)
    assert [r.shape for r in results] == list(shapes)
    assert all(np.isfinite(r).all() for r in results)
    (grown,) = stylize(net, [images[1]], size=16)
    assert grown.shape == (16, 10, 3)


def test_stylize_checks_every_image_before_the_first_pass(
    rng, tmp_path, monkeypatch
):
    passes = []
    monkeypatch.setattr(
        TransformNet, "__call__", lambda *args, **kwargs: passes.append(1)
    )
    net = TransformNet(filters=4, residual_blocks=1)
    good = rng.uniform(0, 255, (8, 8, 3)).astype("float32")
    (tmp_path / "bad.png").write_bytes(b"not a picture")
    with pytest.raises(ValueError, match="Cannot read"):
        stylize(net, [good, tmp_path / "bad.png"])
    with pytest.raises(ValueError, match=r"\(0, 4, 3\)"):
        stylize(net, [good, np.zeros((0, 4, 3), "float32")])
    assert passes == []


def _little_memory(monkeypatch, available):
    from keras_nst import backend
    from keras_nst import hardware

    monkeypatch.delenv("KERAS_NST_SKIP_MEMORY_CHECK", raising=False)
    monkeypatch.setattr(backend, "has_accelerator", lambda: False)
    monkeypatch.setattr(hardware, "available_bytes", lambda: available)


def test_train_refuses_a_batch_too_large_for_memory(
    photos, tmp_path, monkeypatch
):
    folder, style = photos
    needed = estimate_train_bytes(TINY["batch_size"], 512, TINY["filters"])
    _little_memory(monkeypatch, needed - 1)
    output = tmp_path / "m.keras"
    with pytest.raises(InsufficientMemoryError) as caught:
        train(style, folder, output, steps=1, **dict(TINY, size=512))
    message = str(caught.value)
    assert message.startswith("Training on 2 crops of 512x512 needs about")
    assert "\n" not in message and "KERAS_NST_SKIP_MEMORY_CHECK=1" in message
    assert sorted(os.listdir(tmp_path)) == ["photos", "style.png"]
    # The estimate grows with the batch's pixels and the network's width.
    assert estimate_train_bytes(4, 256) > estimate_train_bytes(2, 256)
    assert estimate_train_bytes(2, 512) > estimate_train_bytes(2, 256)
    assert estimate_train_bytes(2, 256, 64) > estimate_train_bytes(2, 256)
    # Where it fits, on an accelerator, or when told to skip: it runs.
    _little_memory(monkeypatch, needed)
    check_train_memory(resolve_train_config(**dict(TINY, size=512)))
    _little_memory(monkeypatch, 1.0)
    monkeypatch.setenv("KERAS_NST_SKIP_MEMORY_CHECK", "1")
    train(style, folder, output, steps=1, verbose=0, **TINY)
    assert output.exists()


def test_stylize_refuses_a_pass_too_large_for_memory(rng, monkeypatch):
    net = TransformNet(filters=4, residual_blocks=1)
    images = [rng.uniform(0, 255, (30, 20, 3)).astype("float32")] * 3
    one = estimate_stylize_bytes(1, 30, 20, filters=4)
    three = estimate_stylize_bytes(3, 30, 20, filters=4)
    assert three > one
    _little_memory(monkeypatch, (one + three) / 2)
    assert len(stylize(net, images, batch_size=1)) == 3
    with pytest.raises(InsufficientMemoryError) as caught:
        stylize(net, images, batch_size=3)
    assert str(caught.value).startswith(
        "Stylising 3 images of 20x30 at once needs about"
    )
    # A batch is never larger than the images of one shape.
    assert len(stylize(net, images[:1], batch_size=3)) == 1
    from keras_nst import backend

    monkeypatch.setattr(backend, "has_accelerator", lambda: True)
    assert len(stylize(net, images, batch_size=3)) == 3


def test_a_run_stopped_after_logging_a_checkpointed_step_resumes_whole(
    photos, tmp_path, monkeypatch
):
    folder, style = photos
    save = Checkpoint.save

    def save_then_stop(self):
        save(self)
        if self.saved_step == 4:
            raise _Interrupt

    run = dict(TINY, steps=6, checkpoint_every=2, verbose=0)
    log = tmp_path / "log.jsonl"
    monkeypatch.setattr(Checkpoint, "save", save_then_stop)
    with pytest.raises(_Interrupt):
        train(style, folder, tmp_path / "m.keras", log=log, **run)
    monkeypatch.undo()
    train(style, folder, tmp_path / "m.keras", log=log, resume=True, **run)
    assert [r["step"] for r in _records(log)] == [1, 2, 3, 4, 5, 6]

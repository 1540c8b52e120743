import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from keras_nst import cli
from keras_nst.config import resolve_train_config
from keras_nst.data import RandomCrops
from keras_nst.data import find_images
from keras_nst.fast import FastStyleTrainer
from keras_nst.fast import load_transform
from keras_nst.fast import stylize
from keras_nst.fast import train
from keras_nst.transform import TransformNet
from keras_nst.transform import reflect_pad

TINY = {
    "weights": None,
    "size": 32,
    "batch_size": 2,
    "style_layers": ("conv1_2", "conv2_2"),
    "content_layers": ("conv2_2",),
    "filters": 4,
    "residual_blocks": 1,
}


@pytest.fixture
def photos(tmp_path, rng):
    folder = tmp_path / "photos"
    (folder / "nested").mkdir(parents=True)
    for name, shape in (("a.png", (40, 60)), ("nested/b.jpg", (50, 35))):
        pixels = rng.integers(0, 256, (*shape, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / name)
    (folder / "notes.txt").write_text("not an image")
    style = tmp_path / "style.png"
    Image.fromarray(rng.integers(0, 256, (30, 30, 3), np.uint8)).save(style)
    return folder, style


@pytest.mark.parametrize(
    "shape", [(1, 37, 53, 3), (2, 9, 13, 3), (1, 64, 64, 3)]
)
def test_transform_keeps_any_size_and_pixel_range(shape, rng):
    net = TransformNet(filters=4, residual_blocks=1)
    images = rng.uniform(0, 255, shape).astype("float32")
    out = keras.ops.convert_to_numpy(net(images))
    assert out.shape == shape
    assert out.min() >= 0.0 and out.max() <= 255.0


def test_reflect_pad_matches_numpy(rng):
    images = rng.uniform(0, 1, (2, 5, 7, 3)).astype("float32")
    got = keras.ops.convert_to_numpy(reflect_pad(images, 2, 1, 3, 0))
    expected = np.pad(images, ((0, 0), (2, 1), (3, 0), (0, 0)), "reflect")
    np.testing.assert_array_equal(got, expected)


def test_random_crops_are_reproducible_and_resumable(photos):
    folder, _ = photos
    assert [os.path.basename(f) for f in find_images(folder)] == [
        "a.png",
        "b.jpg",
    ]
    data = RandomCrops(folder, size=16, batch_size=3, steps=5, seed=7)
    assert len(data) == 5
    batch = data[3]
    assert batch.shape == (3, 16, 16, 3) and batch.dtype == np.float32
    np.testing.assert_array_equal(batch, data[3])
    resumed = RandomCrops(
        folder, size=16, batch_size=3, steps=5, seed=7, first=3
    )
    assert len(resumed) == 2
    np.testing.assert_array_equal(resumed[0], batch)
    assert not np.array_equal(data[0], data[1])


def test_find_images_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="Not a directory"):
        find_images(tmp_path / "missing")
    with pytest.raises(ValueError, match="No images"):
        find_images(tmp_path)


def test_training_steps_lower_the_loss(rng):
    style = rng.uniform(0, 255, (32, 32, 3)).astype("float32")
    config = resolve_train_config(**TINY)
    trainer = FastStyleTrainer(style, config)
    trainer.compile(optimizer=keras.optimizers.Adam(3e-3))
    batch = rng.uniform(0, 255, (2, 32, 32, 3)).astype("float32")

    def loss():
        out = trainer(batch)
        value = trainer.compute_losses(batch, out)["total"]
        return float(keras.ops.convert_to_numpy(value))

    before = loss()
    for _ in range(25):
        logs = trainer.train_on_batch(batch, return_dict=True)
    assert set(logs) >= {"loss", "content", "style", "tv"}
    assert loss() < 0.5 * before


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
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["step"] for r in records] == list(range(1, 9))
    assert set(records[0]) == {"step", "loss", "content", "style", "tv"}
    assert json.loads((checkpoint / "state.json").read_text()) == {"steps": 8}
    assert len(trainer.history.history["loss"]) == 1
    assert int(keras.ops.convert_to_numpy(trainer.optimizer.iterations)) == 8
    second = load_transform(output)
    assert (
        np.abs(stylize(first, [photo])[0] - stylize(second, [photo])[0]).max()
        > 0
    )
    assert (checkpoint / "sample_000006.png").exists()


def test_resume_without_checkpoint_fails(photos, tmp_path):
    folder, style = photos
    with pytest.raises(FileNotFoundError, match="No checkpoint"):
        train(style, folder, tmp_path / "m.keras", resume=True, **TINY)


def test_stylize_batches_mixed_sizes_in_order(rng):
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


def test_cli_train_and_stylize(photos, tmp_path):
    folder, style = photos
    model = tmp_path / "m.keras"
    runner = CliRunner()
    result = runner.invoke(
        cli.main,
        [
            "train", "-s", str(style), "--data", str(folder), "-o", str(model),
            "--weights", "random", "--size", "32", "--batch-size", "2",
            "--epochs", "2", "--style-layers", "conv1_2",
            "--content-layers", "conv1_2", "-q",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert model.exists()
    # 2 epochs over 2 images in batches of 2: 2 steps.
    state = json.loads((tmp_path / "m_checkpoint" / "state.json").read_text())
    assert state == {"steps": 2}
    out = tmp_path / "styled"
    result = runner.invoke(
        cli.main,
        ["stylize", str(model), str(folder / "a.png"), "-o", str(out),
         "--size", "30"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    with Image.open(out / "a.png") as picture:
        assert picture.size == (30, 20)


@pytest.mark.parametrize(
    "args, message",
    [
        (["train", "-s", "{style}", "--data", "{tmp}/none",
          "-o", "{tmp}/m.keras"], "Not a directory"),
        (["train", "-s", "{style}", "--data", "{folder}", "-o", "{tmp}/m.h5"],
         "end in .keras"),
        (["train", "-s", "{style}", "--data", "{folder}", "-o", "{tmp}/m.keras",
          "--steps", "3", "--epochs", "2"], "not both"),
        (["stylize", "{tmp}/missing.keras", "{style}", "-o", "{tmp}/out"],
         "Model file not found"),
    ],
)  # fmt: skip
def test_cli_bad_input_is_one_line(photos, tmp_path, args, message):
    folder, style = photos
    fields = {"style": style, "folder": folder, "tmp": tmp_path}
    result = CliRunner().invoke(cli.main, [a.format(**fields) for a in args])
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "m.keras").exists()
    assert not (tmp_path / "out").exists()


RUNNER = os.path.join(os.path.dirname(__file__), "distribution", "run.py")


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="runs every backend in its own process; once per suite is enough",
)
def test_saved_model_gives_the_same_output_on_every_backend(tmp_path, rng):
    net = TransformNet(filters=8, residual_blocks=2)
    path = tmp_path / "net.keras"
    net.save(path)
    image = rng.uniform(0, 255, (1, 21, 34, 3)).astype("float32")
    np.save(tmp_path / "image.npy", image)
    expected = keras.ops.convert_to_numpy(net(image))
    for backend in ("jax", "torch"):
        env = dict(os.environ, KERAS_BACKEND=backend)
        run = subprocess.run(
            [sys.executable, RUNNER, "stylize", str(path), str(tmp_path)],
            env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr[-2000:]
        got = np.load(tmp_path / f"out_{backend}.npy")
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-3)


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


def test_loss_log_writes_each_steps_own_value(tmp_path):
    from keras_nst.fast import LossLog

    log = LossLog(str(tmp_path / "log.jsonl"), first=10)
    log.on_train_begin()
    # Keras passes running means: steps of 2, 4 and 6 average 2, 3 and 4.
    for batch, mean in enumerate([2.0, 3.0, 4.0]):
        log.on_train_batch_end(batch, {"loss": mean, "style": mean / 2})
    log.on_train_end()
    records = [
        json.loads(line)
        for line in (tmp_path / "log.jsonl").read_text().split("\n")
        if line
    ]
    assert [r["step"] for r in records] == [11, 12, 13]
    assert [r["loss"] for r in records] == [2.0, 4.0, 6.0]
    assert [r["style"] for r in records] == [1.0, 2.0, 3.0]


@pytest.mark.skipif(
    keras.backend.backend() != "torch", reason="the PyTorch backend's refusal"
)
def test_distribute_on_torch_is_a_one_line_refusal(photos, tmp_path):
    folder, style = photos
    model = tmp_path / "m.keras"
    result = CliRunner().invoke(
        cli.main,
        ["train", "-s", str(style), "--data", str(folder), "-o", str(model),
         "--weights", "random", "--size", "32", "--steps", "1",
         "--distribute"],
    )  # fmt: skip
    assert result.exit_code == 1
    assert "JAX (DataParallel) and TensorFlow" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not model.exists()

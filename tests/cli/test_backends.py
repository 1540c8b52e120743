"""Each command with `--backend`, in a fresh process.

Each pytest session (one per `KERAS_BACKEND`) runs every command with the
next backend in `BACKENDS` as `--backend`, so over the three sessions each
command runs on every backend, always against a different environment
variable.
"""

import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from keras_nst.cli.runtime import BACKENDS
from keras_nst.image_output import read_metadata

SESSION = os.environ.get("KERAS_BACKEND", "tensorflow")
OTHER = BACKENDS[(BACKENDS.index(SESSION) + 1) % len(BACKENDS)]


def _run(*args, env=None, home):
    environment = dict(os.environ, KERAS_HOME=str(home), **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "keras_nst", *map(str, args)],
        capture_output=True,
        text=True,
        env=environment,
        timeout=600,
        check=False,
    )


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(0)
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("a.png", "b.png"):
        pixels = rng.integers(0, 255, (20, 24, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(photos / name)
    pixels = rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(tmp_path / "style.png")
    home = tmp_path / "home"
    home.mkdir()
    return tmp_path, home


def test_transfer_and_grid_on_another_backend(files):
    folder, home = files
    content, style = folder / "photos" / "a.png", folder / "style.png"
    small = ["--weights", "random", "--size", 16, "--iterations", 1, "-q"]
    small += [
        "--style-layers",
        "conv1_1,conv2_1",
        "--content-layers",
        "conv2_2",
    ]
    result = _run(
        "transfer", content, style, "-o", folder / "t.png", *small,
        "--backend", OTHER, home=home,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert read_metadata(folder / "t.png")["backend"] == OTHER
    result = _run(
        "grid", "-c", content, "-s", style, "-o", folder / "g.png", *small,
        "--cell-size", 16,
        "--backend", OTHER, home=home,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    meta = read_metadata(folder / "g.png")
    assert meta["backend"] == OTHER and meta["contents"] == [str(content)]


def test_train_then_stylize_on_another_backend(files):
    folder, home = files
    model = folder / "m.keras"
    result = _run(
        "train", "-s", folder / "style.png", "--data", folder / "photos",
        "-o", model, "--weights", "random", "--size", 16, "--steps", 2,
        "--batch-size", 1, "--filters", 4, "--residual-blocks", 1, "-q",
        "--style-layers", "conv1_1", "--content-layers", "conv1_1",
        "--backend", OTHER, home=home,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert model.is_file()
    out = folder / "out"
    result = _run(
        "stylize", model, folder / "photos" / "a.png", "-o", out,
        "--backend", OTHER, home=home,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    with Image.open(out / "a.png") as image:
        assert image.size == (24, 20)


def test_unknown_backend_in_the_environment_is_one_line(files):
    folder, home = files
    result = _run(
        "transfer", folder / "photos" / "a.png", folder / "style.png",
        "-o", folder / "t.png", env={"KERAS_BACKEND": "bogus"}, home=home,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "Error: keras-nst runs on the tensorflow, jax, torch backends; "
        "KERAS_BACKEND asks for 'bogus' (choose one with --backend)."
    ]
    assert not (folder / "t.png").exists()
    status = _run(
        "weights", "status", env={"KERAS_BACKEND": "bogus"}, home=home
    )
    assert status.returncode == 1, status.stderr
    assert "Traceback" not in status.stderr
    assert "keras-nst weights fetch" in status.stdout


def test_video_on_another_backend(files):
    from keras_nst.video.frames import frame_path
    from keras_nst.video.io import read_video_info
    from keras_nst.video.io import write_video

    folder, home = files
    frames = [np.asarray(Image.open(folder / "photos" / n), "float32")
              for n in ("a.png", "b.png", "a.png")]  # fmt: skip
    clip = folder / "clip.gif"
    write_video(clip, iter(frames), 10)
    result = _run(
        "video", clip, "-s", folder / "style.png", "-o", folder / "out.gif",
        "--weights", "random", "--size", 24, "--iterations", 1,
        "--frame-iterations", 1, "--style-layers", "conv1_1",
        "--content-layers", "conv2_1", "-q", "--backend", OTHER, home=home,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert read_video_info(folder / "out.gif").frames == 3
    meta = read_metadata(frame_path(folder / "out_frames", 2))
    assert meta["backend"] == OTHER


def test_verbose_names_the_speed_switches_it_set(files):
    from keras_nst import startup

    folder, home = files
    environment = {"XLA_FLAGS": ""}  # unset, for the switches below
    result = _run(
        "transfer", folder / "photos" / "a.png", folder / "style.png",
        "-o", folder / "t.png", "--weights", "random", "--size", 16,
        "--iterations", 1, "-q", "--style-layers", "conv1_1",
        "--content-layers", "conv1_2", "--verbose", "--backend", OTHER,
        env=environment, home=home,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = [
        line
        for line in result.stderr.splitlines()
        if line.startswith("speed switch: ")
    ]
    expected = [
        switch
        for switch in startup.SPEED_SWITCHES[OTHER]
        if startup._applies(switch)
    ]
    assert len(lines) == len(expected)
    for line, switch in zip(lines, expected, strict=True):
        assert line.startswith(f"speed switch: {switch} ({switch.reason}")

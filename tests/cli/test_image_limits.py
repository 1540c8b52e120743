import os
import sys
import warnings

import numpy as np
import pytest
from PIL import Image

from keras_nst.image_io import DEFAULT_MAX_IMAGE_PIXELS
from keras_nst.image_io import get_max_image_pixels
from keras_nst.image_io import load_image
from keras_nst.image_io import set_max_image_pixels
from tests.cli.helpers import invoke
from tests.test_image_io import png_header


@pytest.fixture(autouse=True)
def _default_pixel_limit():
    yield
    set_max_image_pixels(DEFAULT_MAX_IMAGE_PIXELS)


@pytest.fixture
def images(tmp_path, rng):
    """A bomb, a 30 x 20 photo and a style image."""
    bomb = png_header(tmp_path / "bomb.png", 50000, 50000)
    photo = tmp_path / "photo.png"
    Image.fromarray(rng.integers(0, 256, (20, 30, 3), np.uint8)).save(photo)
    style = tmp_path / "style.png"
    Image.fromarray(rng.integers(0, 256, (16, 16, 3), np.uint8)).save(style)
    return bomb, photo, style


def _check_refused(result, path, limit="268,435,456"):
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith(f"Error: '{path}' is ")
    assert f"over the limit of {limit}" in lines[0]
    assert "--max-image-pixels" in lines[0]


def test_transfer_refuses_a_bomb(images, tmp_path):
    bomb, photo, style = images
    result = invoke("transfer", bomb, style, "-o", tmp_path / "out.png")
    _check_refused(result, bomb)
    result = invoke("transfer", photo, bomb, "-o", tmp_path / "out.png")
    _check_refused(result, bomb)
    assert not (tmp_path / "out.png").exists()


def test_grid_refuses_a_bomb(images, tmp_path):
    bomb, photo, style = images
    result = invoke(
        "grid", "-c", photo, "-s", style, "-s", bomb, "-o", tmp_path / "g.png"
    )
    _check_refused(result, bomb)


def test_stylize_skips_a_bomb(images, tmp_path):
    from keras_nst.fast import TransformNet

    bomb, photo, _ = images
    model = tmp_path / "m.keras"
    TransformNet(filters=4, residual_blocks=1).save(model)
    out = tmp_path / "out"
    result = invoke("stylize", model, photo, bomb, "-o", out, "--size", 16)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    skipped = [line for line in result.output.splitlines() if "Skipped" in line]
    assert skipped[0].startswith(f"[2/2] Skipped {bomb}: '{bomb}' is ")
    assert "over the limit of 268,435,456" in skipped[0]
    assert os.listdir(out) == [os.path.basename(photo)]


def test_train_refuses_a_bomb_style(images, tmp_path):
    bomb, photo, _ = images
    result = invoke(
        "train", "-s", bomb, "--data", tmp_path, "-o", tmp_path / "m.keras",
        "--weights", "random",
    )  # fmt: skip
    _check_refused(result, bomb)


def test_train_refuses_a_bomb_in_the_data(images, tmp_path):
    bomb, _, style = images
    data = tmp_path / "data"
    data.mkdir()
    bomb.rename(data / "bomb.png")
    result = invoke(
        "train", "-s", style, "--data", data, "-o", tmp_path / "m.keras",
        "--weights", "random", "--size", 16, "--steps", 1, "-q",
        "--filters", 4, "--residual-blocks", 1,
    )  # fmt: skip
    _check_refused(result, data / "bomb.png")
    assert not (tmp_path / "m.keras").exists()


def _record_run(monkeypatch, seen):
    """Replaces `transfer`'s optimisation by one that reads the content."""
    from keras_nst.cli import transfer_run

    def fake_optimize(run, content, styles, config, metadata):
        seen["limit"] = get_max_image_pixels()
        load_image(content)  # as the library would: a second read
        return {"total": 0.0}

    monkeypatch.setattr(transfer_run.TransferRun, "optimize", fake_optimize)


def test_max_image_pixels_lowers_the_limit(images, tmp_path):
    _, photo, style = images
    result = invoke(
        "--max-image-pixels", 599, "transfer", photo, style,
        "-o", tmp_path / "out.png",
    )  # fmt: skip
    _check_refused(result, photo, limit="599")
    assert "is 30x20 = 600 pixels" in result.output
    # Restored once the command ends.
    assert get_max_image_pixels() == DEFAULT_MAX_IMAGE_PIXELS


@pytest.mark.parametrize(
    "value, limit", [("none", None), ("NONE", None), ("1_000_000", 10**6)]
)
def test_max_image_pixels_values(images, tmp_path, monkeypatch, value, limit):
    _, photo, style = images
    seen = {}
    _record_run(monkeypatch, seen)
    result = invoke(
        "--max-image-pixels", value, "transfer", photo, style,
        "-o", tmp_path / "out.png", "--weights", "random",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert seen["limit"] == limit
    assert get_max_image_pixels() == DEFAULT_MAX_IMAGE_PIXELS


@pytest.mark.parametrize("value", ["0", "-5", "many", "1.5", ""])
def test_max_image_pixels_rejects(value):
    result = invoke("--max-image-pixels", value, "presets")
    assert result.exit_code == 2
    assert "Invalid value for '--max-image-pixels'" in result.output
    assert "positive number of pixels or 'none'" in result.output


def test_max_image_pixels_help():
    result = invoke("--help")
    assert "--max-image-pixels" in result.output
    assert "'none' turns it off" in result.output
    assert str(DEFAULT_MAX_IMAGE_PIXELS) in result.output


def test_large_image_warns_once_in_one_line(images, tmp_path, monkeypatch):
    _, photo, style = images
    _record_run(monkeypatch, {})

    def show(message, category, filename, lineno, file=None, line=None):
        # What Python's default warning display does, to the captured
        # stderr (pytest records warnings instead of showing them).
        text = warnings.formatwarning(message, category, filename, lineno)
        sys.stderr.write(text)

    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = show
        result = invoke(
            "--max-image-pixels", 2000, "transfer", photo, style,
            "-o", tmp_path / "out.png", "--weights", "random",
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    shown = [line for line in result.output.splitlines() if "Warn" in line]
    assert shown == [
        f"Warning: '{photo}' is a large image (30x20, 0.0006 megapixels); "
        "decoding it takes about 0.0 GB of memory."
    ]
    assert "warnings.warn" not in result.output
    assert warnings.formatwarning.__module__ == "warnings"  # restored

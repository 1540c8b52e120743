"""What a picture records, and `transfer --from` running it again."""

import json

import keras
import numpy as np
import pytest
from PIL import Image

from keras_nst.image_output import read_metadata
from tests.cli.helpers import invoke
from tests.cli.helpers import record_optimize

SMALL = ["--weights", "random", "--size", 16, "--iterations", 2, "-q"]
SMALL += ["--style-layers", "conv1_1", "--content-layers", "conv1_1"]


@pytest.fixture
def images(tmp_path, rng):
    paths = []
    for name, shape in (("content.png", (12, 16, 3)), ("style.png", (8, 8, 3))):
        pixels = rng.integers(0, 255, shape, dtype=np.uint8)
        Image.fromarray(pixels).save(tmp_path / name)
        paths.append(str(tmp_path / name))
    return paths


def test_picture_records_run_software_and_device(images, tmp_path):
    content, style = images
    out = tmp_path / "out.png"
    result = invoke("transfer", content, style, "-o", out, *SMALL)
    assert result.exit_code == 0, result.output
    meta = read_metadata(out)
    assert meta["content"] == content and meta["style"] == [style]
    assert isinstance(meta["seed"], int)  # drawn: none was given
    assert set(meta["losses"]) == {"total", "content", "style", "tv"}
    assert meta["run_seconds"] > 0
    assert meta["backend"] == keras.backend.backend()
    assert meta["keras_version"] == keras.__version__
    backend = __import__(keras.backend.backend())
    assert meta["backend_version"] == backend.__version__
    assert meta["device"].startswith("CPU: ")
    assert meta["keras_nst_version"]


def test_from_a_picture_runs_the_same_settings(images, tmp_path, monkeypatch):
    content, style = images
    out = tmp_path / "out.png"
    result = invoke(
        "transfer", content, style, "-o", out, *SMALL, "--tv-weight", 7
    )
    assert result.exit_code == 0, result.output
    first = read_metadata(out)
    seen = {}
    record_optimize(monkeypatch, seen)
    result = invoke("transfer", "--from", out, "-o", tmp_path / "again.png")
    assert result.exit_code == 0, result.output
    assert seen["config"].to_dict() == {
        key: first[key] for key in seen["config"].to_dict()
    }
    assert seen["content"] == content and seen["styles"] == [style]
    # What is given overrides what the picture recorded.
    result = invoke(
        "transfer", "--from", out, content, content, "-o",
        tmp_path / "third.png", "--iterations", 5,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert seen["config"].iterations == 5
    assert seen["config"].seed == first["seed"]
    assert seen["styles"] == [content]


def test_from_a_settings_file(images, tmp_path, monkeypatch):
    content, style = images
    settings = tmp_path / "run.json"
    settings.write_text(
        json.dumps(
            {"content": content, "style": style, "size": 20, "weights": None}
        )
    )
    seen = {}
    record_optimize(monkeypatch, seen)
    result = invoke("transfer", "--from", settings, "-o", tmp_path / "o.png")
    assert result.exit_code == 0, result.output
    assert seen["config"].size == 20 and seen["styles"] == [style]
    settings.write_text(json.dumps({"content": content, "sise": 20}))
    result = invoke("transfer", "--from", settings, "-o", tmp_path / "o.png")
    assert result.exit_code == 1
    assert "Unknown setting 'sise'" in result.output
    assert "did you mean 'size'" in result.output


@pytest.mark.parametrize("kind", ["png", "json", "missing"])
def test_from_a_file_without_a_run_is_one_line(images, tmp_path, kind):
    content, style = images
    path = tmp_path / f"x.{kind}"
    if kind == "png":
        Image.new("RGB", (4, 4)).save(path)
    elif kind == "json":
        path.write_text("[1, 2")
    result = invoke(
        "transfer", "--from", path, content, style, "-o", tmp_path / "o.png"
    )
    assert result.exit_code in (1, 2)
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert not (tmp_path / "o.png").exists()

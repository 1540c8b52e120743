"""scripts/quality.py: a tiny run and a sheet, with random weights."""

import importlib.util
import json
import math
import os
import shutil

import pytest
from click.testing import CliRunner

_SCRIPTS = os.path.join(os.path.dirname(__file__), "..", "scripts")
# Shallow layers in both objectives: one small extractor, quick steps.
_LAYERS = ["content_layers=conv1_2", "style_layers=conv1_1,conv2_1"]
_TINY = [
    "--pairs", "0", "--sizes", "64", "--set", "weights=none",
    "--set", "iterations=2", "--set", "scales=1",
    *(f"--{flag}={layers}" for layers in _LAYERS
      for flag in ("set", "reference-set")),
]  # fmt: skip


@pytest.fixture
def quality(monkeypatch):
    # The scripts import their neighbours (compare, notation) by name.
    monkeypatch.syspath_prepend(_SCRIPTS)
    path = os.path.join(_SCRIPTS, "quality.py")
    spec = importlib.util.spec_from_file_location("quality", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_run_then_sheet(quality, tmp_path):
    runner = CliRunner()
    old = tmp_path / "old"
    result = runner.invoke(
        quality.main, ["run", "-o", str(old), "--label", "old", *_TINY]
    )
    assert result.exit_code == 0, result.output
    assert "astronaut_starry_night 64 px" in result.output
    for name in ("astronaut_starry_night_64.png", "sheet_64.jpg"):
        assert (old / name).is_file()
    results = json.loads((old / "results.json").read_text())
    (picture,) = results["pictures"]
    for key in ("seconds", "losses", "reference_losses", "settings"):
        assert key in picture
    assert picture["overrides"]["weights"] is None
    assert picture["settings"]["iterations"] == 2
    # The reference is the earlier default's objective, whatever today's.
    reference = picture["reference_settings"]
    assert (reference["tv_reduction"], reference["pooling"]) == ("sum", "avg")
    assert reference["style_weight"] == 3e6
    assert picture["reference_settings"]["style_layers"] == [
        "block1_conv1", "block2_conv1",
    ]  # fmt: skip
    start, end = picture["shares"]["start"], picture["shares"]["end"]
    # The run starts from the content image: no content loss yet.
    assert start["content"] == 0.0 and start["style"] > 0
    for shares in (start, end):
        assert sum(shares.values()) == pytest.approx(1.0)
    weights = picture["settings"]
    weighted = {
        term: weights[f"{term}_weight"] * picture["losses"][term]
        for term in ("content", "style", "tv")
    }
    assert end["tv"] == pytest.approx(
        weighted["tv"] / sum(weighted.values()), rel=1e-5
    )
    total = picture["reference_losses"]["total"]
    assert isinstance(total, float) and math.isfinite(total)
    grid = picture["grid"]
    assert set(grid) == {"picture", "content", "style"}
    assert all(value > 0 and math.isfinite(value) for value in grid.values())

    new = tmp_path / "new"
    shutil.copytree(old, new)
    (new / "results.json").write_text(json.dumps(dict(results, label="new")))
    output = tmp_path / "side_by_side.jpg"
    result = runner.invoke(
        quality.main,
        ["sheet", str(old), str(new), "-o", str(output), "--size", "64"],
    )
    assert result.exit_code == 0, result.output
    assert output.is_file()
    assert "| astronaut × starry_night | new |" in result.output
    shares = "/".join(f"{end[t]:.0%}" for t in ("content", "style", "tv"))
    assert f"| {shares} |" in result.output
    assert f"| {grid['picture']:.2f} ({grid['content']:.2f}, " in result.output
    assert "1.00 |" in result.output and "1.000 |" in result.output

    # One folder alone, a box of it magnified to the panel's height.
    crop = tmp_path / "crop.jpg"
    result = runner.invoke(
        quality.main,
        ["sheet", str(old), "-o", str(crop), "--size", "64",
         "--crop", "0,0,32,8", "--height", "40"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.output.count("| astronaut × starry_night |") == 1
    assert crop.is_file()


@pytest.mark.parametrize(
    "setting", ["bogus=1", "iterations", "iterations=-1", "pooling=mean"]
)
def test_bad_setting_is_a_usage_error(quality, tmp_path, setting):
    result = CliRunner().invoke(
        quality.main, ["run", "-o", str(tmp_path), "--set", setting]
    )
    assert result.exit_code == 2
    assert "Invalid value for '--set'" in result.output
    assert not os.listdir(tmp_path)

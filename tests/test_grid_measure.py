"""scripts/grid_measure.py: the grid index of synthetic stripes and noise."""

import importlib.util
import os

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

_PATH = os.path.join(
    os.path.dirname(__file__), "..", "scripts", "grid_measure.py"
)


@pytest.fixture(scope="module")
def grid_measure():
    spec = importlib.util.spec_from_file_location("grid_measure", _PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _stripes(angle_degrees, period=4.5, side=96):
    y, x = np.mgrid[0:side, 0:side].astype(np.float64)
    pattern = 0.0
    for angle in (angle_degrees, angle_degrees + 90):
        t = np.radians(angle)
        pattern = pattern + np.cos(
            2 * np.pi * (x * np.cos(t) + y * np.sin(t)) / period
        )
    return 128 + 40 * pattern


def test_a_mesh_along_the_axes_scores_high(grid_measure):
    assert grid_measure.grid_index(_stripes(0)) > 1e3


def test_a_mesh_along_the_diagonals_scores_low(grid_measure):
    assert grid_measure.grid_index(_stripes(45)) < 1e-3


def test_isotropic_noise_scores_about_one(grid_measure):
    noise = np.random.default_rng(0).normal(size=(128, 128, 3))
    assert grid_measure.grid_index(noise) == pytest.approx(1.0, abs=0.25)


def test_rgb_is_measured_on_its_luma(grid_measure):
    grey = _stripes(0) + 0.3 * _stripes(45)
    rgb = np.repeat(grey[..., None], 3, axis=-1)
    assert grid_measure.grid_index(rgb) == pytest.approx(
        grid_measure.grid_index(grey), rel=1e-9
    )


def test_too_small_is_an_error(grid_measure):
    with pytest.raises(ValueError, match="at least 8 x 8"):
        grid_measure.grid_index(np.zeros((4, 64)))


def test_command_line(grid_measure, tmp_path):
    mesh = tmp_path / "mesh.png"
    Image.fromarray(_stripes(0).astype(np.uint8)).save(mesh)
    result = CliRunner().invoke(
        grid_measure.main, [str(mesh), "--reference", str(mesh)]
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"{mesh}: ")
    assert result.output.count(str(mesh)) == 2
    missing = CliRunner().invoke(grid_measure.main, [str(tmp_path / "no.png")])
    assert missing.exit_code == 1
    assert "Error:" in missing.output and "Traceback" not in missing.output

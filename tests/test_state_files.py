"""The names of the files a run writes beside its output."""

import pytest

from keras_nst.state_files import is_snapshot_name
from keras_nst.state_files import snapshot_pattern
from keras_nst.state_files import state_path


def test_names():
    assert state_path("a/out.png") == "a/out.png.state.npz"
    assert snapshot_pattern("out.png") == "out_{iteration:04d}.png"
    assert snapshot_pattern("s_{iteration}.png") == "s_{iteration}.png"
    assert snapshot_pattern("a{b}.png") == "a{{b}}_{iteration:04d}.png"


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("out_{iteration:04d}.png", "out_0001.png", True),
        ("out_{iteration:04d}.png", "out_12345.png", True),
        ("out_{iteration:04d}.png", "out_abcd.png", False),
        ("out_{iteration:04d}.png", "out.png", False),
        ("out_{iteration:04d}.png", "other/out_0001.png", False),
        ("a{{b}}_{iteration:04d}.png", "a{b}_0002.png", True),
        ("snap/{iteration}.jpg", "snap/7.jpg", True),
    ],
)
def test_is_snapshot_name(pattern, path, expected, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert is_snapshot_name(pattern, path) is expected

"""`keras-nst plot` and `keras_nst.plot`: loss curves from --log files."""

import json
import os

import numpy as np
import pytest
from PIL import Image

from keras_nst.plot import plot_losses
from keras_nst.plot import read_log
from tests.cli.helpers import invoke

pytest.importorskip("matplotlib", reason="the plot extra is not installed")


def _log(path, steps=20, sizes=((64, 64),), start=1e6):
    with open(path, "w", encoding="utf-8") as file:
        for step in range(1, steps + 1):
            size = sizes[min(step * len(sizes) // (steps + 1), len(sizes) - 1)]
            record = {
                "step": step,
                "size": list(size),
                "total": start / step,
                "content": 10.0 / step,
                "style": 0.5 / step,
                "tv": 100.0 + step,
            }
            file.write(json.dumps(record) + "\n")
    return str(path)


def test_plot_writes_a_readable_figure(tmp_path):
    logs = [_log(tmp_path / "adam.jsonl"), _log(tmp_path / "lbfgs.jsonl")]
    output = tmp_path / "curves.png"
    result = invoke("plot", *logs, "-o", output, "--title", "Two runs")
    assert result.exit_code == 0, result.output
    assert f"Wrote {output}" in result.output
    with Image.open(output) as figure:
        assert figure.size == (800, 600)
        pixels = np.asarray(figure.convert("L"))
    # Four panels of curves and labels, not a blank page.
    assert (pixels < 128).mean() > 0.01
    assert sorted(os.listdir(tmp_path)) == [
        "adam.jsonl", "curves.png", "lbfgs.jsonl"
    ]  # fmt: skip


@pytest.mark.parametrize("extension", [".svg", ".pdf"])
def test_plot_writes_vector_formats(tmp_path, extension):
    output = str(tmp_path / f"curves{extension}")
    plot_losses([_log(tmp_path / "run.jsonl", sizes=((8, 8), (16, 16)))],
                output, smooth=3)  # fmt: skip
    with open(output, "rb") as file:
        head = file.read(64)
    assert (
        (b"<svg" in head or b"<?xml" in head)
        if extension == ".svg"
        else (head.startswith(b"%PDF"))
    )


def test_smoothing_averages_windows(tmp_path):
    from keras_nst.plot import _smooth

    points = [(1, 1.0), (2, 3.0), (3, 5.0), (4, 7.0), (5, 9.0)]
    assert _smooth(points, 2) == [(1.5, 2.0), (3.5, 6.0), (5.0, 9.0)]
    assert _smooth(points, 1) == points


def test_scale_changes_are_found(tmp_path):
    from keras_nst.plot import _scale_starts

    records = read_log(
        _log(tmp_path / "run.jsonl", 9, sizes=((8, 8), (11, 11), (16, 16)))
    )
    assert _scale_starts(records) == [4, 7]


def test_older_logs_are_read(tmp_path):
    path = tmp_path / "old.jsonl"
    path.write_text('{"iteration": 3, "loss": 2.5}\n\n')
    assert read_log(str(path)) == [{"step": 3, "total": 2.5}]


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "no loss records"),
        ("\x89PNG\xff", "not a text log"),
        ("not json\n", "line 1: not a JSON record"),
        ('{"step": 1, "total": 2}\n[1, 2]\n', "line 2: not a JSON record"),
        ('{"total": 2}\n', "line 1: expected a record with a step"),
        ('{"step": 1, "size": [4, 4]}\n', "line 1: expected a record"),
        ('{"step": true, "total": 1}\n', "line 1: expected a record"),
    ],
)
def test_bad_logs_are_one_line_errors(tmp_path, text, message):
    log = tmp_path / "bad.jsonl"
    log.write_bytes(text.encode("latin-1"))
    output = tmp_path / "curves.png"
    result = invoke("plot", log, "-o", output)
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not output.exists()


def test_bad_output_and_missing_log_are_refused(tmp_path):
    log = _log(tmp_path / "run.jsonl")
    result = invoke("plot", log, "-o", tmp_path / "curves.txt")
    assert result.exit_code == 1
    assert "Expected the figure to end in one of" in result.output
    result = invoke("plot", tmp_path / "missing.jsonl", "-o", "x.png")
    assert result.exit_code == 1
    assert "missing.jsonl" in result.output
    result = invoke("plot", log, "-o", tmp_path / "c.png", "--smooth", "0")
    assert result.exit_code == 2
    assert sorted(os.listdir(tmp_path)) == ["run.jsonl"]


def test_an_existing_figure_survives_a_failed_plot(tmp_path):
    output = tmp_path / "curves.png"
    output.write_bytes(b"old")
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{")
    assert invoke("plot", bad, "-o", output).exit_code == 1
    assert output.read_bytes() == b"old"

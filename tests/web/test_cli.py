"""`transfer --web` at the command line: a busy port, another address."""

import io
import socket

import numpy as np
import pytest
from PIL import Image

from tests.cli.helpers import invoke

SMALL = [
    "--weights", "random", "--size", 16, "--iterations", 2,
    "--style-layers", "conv1_1", "--content-layers", "conv1_1",
]  # fmt: skip


@pytest.fixture
def images(tmp_path):
    rng = np.random.default_rng(0)
    for name in ("content.png", "style.png"):
        pixels = rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(tmp_path / name)
    return tmp_path / "content.png", tmp_path / "style.png"


def test_a_busy_port_is_a_one_line_error(images, tmp_path):
    content, style = images
    out = tmp_path / "out.png"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = invoke(
            "transfer", content, style, "-o", out, *SMALL, "--web", port
        )
    assert result.exit_code == 1
    assert f"The live view cannot listen on 127.0.0.1:{port}" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_the_address_is_printed_and_the_run_writes(images, tmp_path):
    content, style = images
    out = tmp_path / "out.png"
    result = invoke("transfer", content, style, "-o", out, *SMALL, "--web")
    assert result.exit_code == 0, result.output
    assert "Live view: http://127.0.0.1:" in result.output
    assert "?token=" in result.output and "Warning" not in result.output
    assert out.exists()


def test_another_address_is_warned_about(images, tmp_path):
    content, style = images
    out = tmp_path / "out.png"
    result = invoke(
        "transfer", content, style, "-o", out, *SMALL, "--web",
        "--web-host", "0.0.0.0",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Warning: The live view listens on 0.0.0.0" in result.output
    assert out.exists()


@pytest.fixture
def served(monkeypatch):
    """The `LiveState` of each live view a command starts."""
    from keras_nst.web import server

    states = []
    original = server.LiveServer

    class Recording(original):
        def __init__(self, state, *args, **kwargs):
            states.append(state)
            super().__init__(state, *args, **kwargs)

    monkeypatch.setattr(server, "LiveServer", Recording)
    return states


def _finished(served, steps, result):
    """The one live view's last snapshot, checked: done after `steps`
    steps, offering the file `result`."""
    (state,) = served
    snapshot = state.snapshot()
    assert snapshot["status"] == "done"
    assert snapshot["total_steps"] == steps
    assert [r["step"] for r in snapshot["records"]] == list(range(1, steps + 1))
    assert state.result() == (result.read_bytes(), result.name)
    return snapshot


def test_grid_shows_every_cell_in_one_view(images, tmp_path, served):
    content, style = images
    out = tmp_path / "grid.png"
    result = invoke(
        "grid", "-c", content, "-c", content, "-s", style, "-o", out,
        *SMALL, "--web",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    # Two cells of two steps, counted on across the cells.
    snapshot = _finished(served, steps=4, result=out)
    assert list(snapshot["settings"]["contents"]) == [str(content)] * 2


def test_video_shows_its_frames_and_offers_the_video(tmp_path, served):
    from tests.video.helpers import clip_with_audio

    clip = clip_with_audio(tmp_path / "clip.mp4", frames=3, size="32x24")
    rng = np.random.default_rng(0)
    style = tmp_path / "style.png"
    Image.fromarray(rng.integers(0, 256, (24, 24, 3), "uint8")).save(style)
    out = tmp_path / "out.mp4"
    result = invoke(
        "video", clip, "-s", style, "-o", out, "--weights", "random",
        "--size", 32, "--iterations", 2, "--frame-iterations", 1,
        "--content-layers", "conv2_1", "--style-layers", "conv1_1", "--web",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    # The first frame's two steps, then one for each of the two others.
    _finished(served, steps=4, result=out)


def test_train_shows_its_losses_and_samples(photos, tmp_path, served):
    folder, style = photos
    model = tmp_path / "m.keras"
    result = invoke(
        "train", "-s", style, "--data", folder, "-o", model,
        "--weights", "random", "--size", 32, "--batch-size", 2,
        "--steps", 3, "--style-layers", "conv1_2",
        "--content-layers", "conv1_2", "--filters", 4,
        "--residual-blocks", 1, "-q", "--web",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    snapshot = _finished(served, steps=3, result=model)
    (state,) = served
    assert {"total", "content", "style", "tv"} <= set(snapshot["records"][0])
    # A sample stylised by the network: a training photo at --size.
    with Image.open(io.BytesIO(state.image()[0])) as sample:
        assert max(sample.size) == 32

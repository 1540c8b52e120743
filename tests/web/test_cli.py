"""`transfer --web` at the command line: a busy port, another address."""

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
    assert "Warning: the live view listens on 0.0.0.0" in result.output
    assert out.exists()

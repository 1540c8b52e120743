"""Ctrl-C and SIGTERM: the run stops, writes its picture, exits 130 / 143.

The real command in a subprocess, on this session's backend, signalled
mid-run from outside; then `--resume` in this process.
"""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from keras_nst.image_output import read_metadata
from keras_nst.resume import load_state
from tests.cli.helpers import invoke

pytestmark = pytest.mark.usefixtures("default_sigint")

SMALL = [
    "--weights", "random", "--size", 16,
    "--style-layers", "conv1_1", "--content-layers", "conv1_1",
]  # fmt: skip


@pytest.fixture
def images(tmp_path):
    rng = np.random.default_rng(0)
    for name in ("content.png", "style.png"):
        pixels = rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(tmp_path / name)
    return tmp_path / "content.png", tmp_path / "style.png"


def _default_signals():
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _lines(path):
    if not path.exists():
        return []
    return path.read_text().splitlines()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_mid_run_writes_the_picture_and_exits(
    images, tmp_path, signum
):
    content, style = images
    out, log = tmp_path / "out.png", tmp_path / "log.jsonl"
    process = subprocess.Popen(
        [str(arg) for arg in [
            sys.executable, "-m", "keras_nst", "transfer", content, style,
            "-o", out, "--log", log, "--iterations", 10**6, *SMALL,
        ]],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, KERAS_HOME=str(tmp_path)),
        # As a terminal would: a run started in the background inherits
        # an ignored SIGINT.
        preexec_fn=_default_signals,
    )  # fmt: skip
    deadline = time.monotonic() + 300
    while len(_lines(log)) < 3 and process.poll() is None:
        assert time.monotonic() < deadline, "the run never started"
        time.sleep(0.2)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 128 + signum, stderr
    assert "Traceback" not in stderr
    assert f"Stopped by {signal.Signals(signum).name}." in stderr
    # The picture after the last whole step, with where it stopped.
    stopped = read_metadata(out)["stopped_after_iteration"]
    with Image.open(out) as picture:
        assert picture.size == (16, 16)
    # The log is whole: one parsable line per step, up to the last.
    steps = [json.loads(line)["step"] for line in _lines(log)]
    assert steps == list(range(1, stopped + 1))
    assert load_state(f"{out}.state.npz").done == stopped
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".keras-nst")]


def test_resume_goes_on_from_the_interrupted_step(
    images, tmp_path, monkeypatch
):
    from keras_nst.callbacks import JsonlLogger

    content, style = images
    out, log = tmp_path / "out.png", tmp_path / "log.jsonl"
    write = JsonlLogger.on_train_batch_end

    def interrupt_at_five(self, batch, logs=None):
        write(self, batch, logs)
        if batch == 4:
            os.kill(os.getpid(), signal.SIGINT)

    args = ["transfer", content, style, "-o", out, "--log", log, *SMALL]
    args += ["--iterations", 12, "--seed", 3, "-q"]
    with monkeypatch.context() as patch:
        patch.setattr(JsonlLogger, "on_train_batch_end", interrupt_at_five)
        stopped = invoke(*args)
    assert stopped.exit_code == 130, stopped.output
    assert read_metadata(out)["stopped_after_iteration"] == 5
    state = tmp_path / "out.png.state.npz"
    assert state.exists()
    resumed = invoke(*args, "--resume")
    assert resumed.exit_code == 0, resumed.output
    steps = [json.loads(line)["step"] for line in _lines(log)]
    assert steps == list(range(1, 13))
    assert "stopped_after_iteration" not in read_metadata(out)
    assert not state.exists()  # finished: nothing left to resume
    again = invoke(*args, "--resume")
    assert again.exit_code == 1
    assert "No saved state to resume from" in again.output


def test_train_stops_with_a_checkpoint_and_resumes(
    photos, tmp_path, monkeypatch
):
    from keras_nst.fast.callbacks import LossLog

    folder, style = photos
    model, log = tmp_path / "m.keras", tmp_path / "log.jsonl"
    write = LossLog.on_train_batch_end

    def interrupt_at_two(self, batch, logs=None):
        write(self, batch, logs)
        if batch == 1:
            os.kill(os.getpid(), signal.SIGTERM)

    args = [
        "train", "-s", style, "--data", folder, "-o", model,
        "--weights", "random", "--size", 16, "--batch-size", 1,
        "--steps", 4, "--style-layers", "conv1_1",
        "--content-layers", "conv1_1", "--filters", 4,
        "--residual-blocks", 1, "--log", log, "-q",
    ]  # fmt: skip
    with monkeypatch.context() as patch:
        patch.setattr(LossLog, "on_train_batch_end", interrupt_at_two)
        stopped = invoke(*args)
    assert stopped.exit_code == 143, stopped.output
    assert "The checkpoint holds step 2" in stopped.output
    assert not model.exists()  # an untrained network is no output
    state = json.loads((tmp_path / "m_checkpoint" / "state.json").read_text())
    assert state["steps"] == 2
    resumed = invoke(*args, "--resume")
    assert resumed.exit_code == 0, resumed.output
    assert model.exists()
    steps = [json.loads(line)["step"] for line in _lines(log)]
    assert steps == [1, 2, 3, 4]

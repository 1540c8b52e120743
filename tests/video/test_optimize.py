import os
from pathlib import Path

import numpy as np
import pytest

from keras_nst.image_output import read_metadata
from keras_nst.presets import resolve_config
from keras_nst.video.config import VideoConfig
from keras_nst.video.frames import frame_path
from keras_nst.video.frames import written_frames
from keras_nst.video.io import read_video_info
from keras_nst.video.io import write_video
from keras_nst.video.optimize import stylize_video
from tests.video.helpers import pan_frames

FRAMES = 4


@pytest.fixture
def clip(tmp_path, rng):
    path = tmp_path / "pan.mp4"
    write_video(path, iter(pan_frames(rng, FRAMES)), fps=10)
    style = rng.uniform(0, 255, (24, 24, 3)).astype("float32")
    return path, style


def _config(**overrides):
    return resolve_config(
        "gatys",
        weights=None,
        size=32,
        content_layers=["conv2_1"],
        style_layers=["conv1_1"],
        iterations=2,
        seed=0,
        **overrides,
    )


VIDEO = VideoConfig(frame_iterations=2)


def test_every_frame_is_stylised_written_and_reported(tmp_path, clip):
    content, style = clip
    output = tmp_path / "out.gif"
    reports = []
    info = stylize_video(
        content, style, output, _config(), VIDEO,
        on_frame=reports.append, size=48,
    )  # fmt: skip
    written = read_video_info(output)
    assert (written.frames, written.fps) == (FRAMES, info.fps)
    assert (written.height, written.width) == (32, 48)  # size=48 applied
    assert [r.index for r in reports] == list(range(1, FRAMES + 1))
    assert reports[0].warping_error is None
    assert all(
        r.warping_error >= 0 and 0 < r.reliable <= 1 for r in reports[1:]
    )
    assert all("temporal" in r.losses for r in reports[1:])
    folder = tmp_path / "out_frames"
    assert written_frames(folder) == FRAMES
    recorded = read_metadata(frame_path(folder, 3))
    assert recorded["frame"] == 3 and recorded["temporal_weight"] == 1e4


def test_resume_keeps_the_frames_written_and_checks_the_settings(
    tmp_path, clip
):
    content, style = clip
    output = tmp_path / "out.mp4"
    stylize_video(content, style, output, _config(), VIDEO)
    folder = tmp_path / "out_frames"
    kept = [Path(frame_path(folder, i)).read_bytes() for i in (1, 2)]
    for index in (3, 4):
        os.remove(frame_path(folder, index))
    os.remove(output)
    with pytest.raises(FileExistsError, match="resume"):
        stylize_video(content, style, output, _config(), VIDEO)
    with pytest.raises(ValueError, match="other settings.*temporal_weight"):
        stylize_video(
            content, style, output, _config(), VideoConfig(
                frame_iterations=2, temporal_weight=1.0
            ), resume=True,
        )  # fmt: skip
    reports = []
    stylize_video(
        content, style, output, _config(), VIDEO, resume=True,
        on_frame=reports.append,
    )  # fmt: skip
    assert [r.index for r in reports] == [3, 4]
    assert [Path(frame_path(folder, i)).read_bytes() for i in (1, 2)] == kept
    assert read_video_info(output).frames == FRAMES


def test_independent_frames_start_from_init_without_a_temporal_term(
    tmp_path, clip
):
    content, style = clip
    reports = []
    stylize_video(
        content, style, tmp_path / "out.mp4", _config(),
        VideoConfig(frame_iterations=2, temporal_weight=0, frame_start="init"),
        on_frame=reports.append,
    )  # fmt: skip
    assert reports[2].losses["temporal"] > 0  # measured, not weighted
    total = sum(
        reports[2].losses[k] * w
        for k, w in (("content", 1.0), ("style", 1e7), ("tv", 300.0))
    )
    assert reports[2].losses["total"] == pytest.approx(total, rel=1e-4)


def test_bad_outputs_fail_before_any_work(tmp_path, clip):
    content, style = clip
    with pytest.raises(ValueError, match="end in one of"):
        stylize_video(content, style, tmp_path / "out.png", _config(), VIDEO)
    with pytest.raises(ValueError, match="is the input"):
        stylize_video(content, style, content, _config(), VIDEO)
    with pytest.raises(FileNotFoundError):
        stylize_video(tmp_path / "no.mp4", style, tmp_path / "o.mp4", _config())
    assert sorted(os.listdir(tmp_path)) == ["pan.mp4"]
    assert np.isfinite(read_video_info(content).fps)

import os

import pytest
from PIL import Image

from keras_nst.image_output import read_metadata
from keras_nst.video.frames import frame_path
from keras_nst.video.io import read_video_info
from keras_nst.video.io import write_video
from tests.cli.helpers import invoke
from tests.video.helpers import clip_with_audio
from tests.video.helpers import pan_frames

SMALL = (
    "--weights", "random", "--size", 32, "--iterations", 2,
    "--frame-iterations", 1, "--content-layers", "conv2_1",
    "--style-layers", "conv1_1",
)  # fmt: skip


@pytest.fixture
def style(tmp_path, rng):
    path = tmp_path / "style.png"
    Image.fromarray(rng.integers(0, 256, (24, 24, 3), "uint8")).save(path)
    return path


def test_video_writes_every_frame_with_rate_and_audio(tmp_path, style):
    clip = clip_with_audio(tmp_path / "tone.mp4", frames=5, fps=10)
    output = tmp_path / "out.mp4"
    result = invoke("video", clip, "-s", style, "-o", output, *SMALL)
    assert result.exit_code == 0, result.output
    assert f"Wrote {output}" in result.output
    assert "frame 5/5" in result.output and "warping error" in result.output
    info = read_video_info(output)
    assert (info.frames, info.fps, info.has_audio) == (5, 10, True)
    recorded = read_metadata(frame_path(tmp_path / "out_frames", 1))
    assert recorded["content"] == str(clip) and "seed" in recorded


def test_resume_reuses_the_seed_and_the_frames(tmp_path, style, rng):
    clip = tmp_path / "pan.gif"
    write_video(clip, iter(pan_frames(rng, 3)), 10)
    output = tmp_path / "out.gif"
    assert (
        invoke("video", clip, "-s", style, "-o", output, *SMALL, "-q").exit_code
        == 0
    )
    folder = tmp_path / "out_frames"
    os.remove(frame_path(folder, 3))
    os.remove(output)
    first = read_metadata(frame_path(folder, 1))["seed"]
    again = invoke("video", clip, "-s", style, "-o", output, *SMALL)
    assert again.exit_code == 1 and "--resume" not in again.output
    assert "resume" in again.output and "Traceback" not in again.output
    result = invoke(
        "video", clip, "-s", style, "-o", output, *SMALL, "--resume"
    )
    assert result.exit_code == 0, result.output
    assert "frame 3/3" in result.output and "frame 2/3" not in result.output
    assert read_metadata(frame_path(folder, 3))["seed"] == first
    assert read_video_info(output).frames == 3


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["{tmp}/missing.mp4", "-s", "{style}", "-o", "{tmp}/o.mp4"],
            "not found",
        ),
        (
            ["{tmp}/notes.mp4", "-s", "{style}", "-o", "{tmp}/o.mp4"],
            "Could not read",
        ),
        (
            ["{tmp}/pan.mp4", "-s", "{style}", "-o", "{tmp}/o.png"],
            "end in one of",
        ),
        (
            ["{tmp}/pan.mp4", "-s", "{style}", "-o", "{tmp}/pan.mp4"],
            "is the input",
        ),
        (
            ["{tmp}/pan.mp4", "-s", "{tmp}/notes.mp4", "-o", "{tmp}/o.mp4"],
            "notes.mp4",
        ),
        (
            ["{tmp}/pan.mp4", "-s", "{style}", "-o", "{tmp}/no/o.mp4"],
            "does not exist",
        ),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    tmp_path, style, rng, args, message
):
    write_video(tmp_path / "pan.mp4", iter(pan_frames(rng, 2)), 10)
    (tmp_path / "notes.mp4").write_text("not a video")
    before = sorted(os.listdir(tmp_path))
    args = [a.format(tmp=tmp_path, style=style) for a in args]
    result = invoke("video", *args, *SMALL)
    assert result.exit_code != 0
    assert message in result.output, result.output
    assert "Traceback" not in result.output
    assert sorted(os.listdir(tmp_path)) == before

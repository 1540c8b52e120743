import os
import tracemalloc

import numpy as np
import pytest

from keras_nst.atomic import TEMPORARY_PREFIX
from keras_nst.video.io import VideoInfo
from keras_nst.video.io import frame_shape
from keras_nst.video.io import read_frames
from keras_nst.video.io import read_video_info
from keras_nst.video.io import write_video
from tests.video.helpers import clip_with_audio
from tests.video.helpers import pan_frames


@pytest.mark.parametrize("extension", [".mp4", ".webm", ".gif"])
def test_frame_count_rate_and_size_survive_a_round_trip(
    tmp_path, rng, extension
):
    frames = pan_frames(rng, 7)
    path = tmp_path / f"clip{extension}"
    # GIF stores delays in 1/100 s: 10 fps is exact, 12 would be 12.5.
    assert write_video(path, iter(frames), fps=10) == 7
    info = read_video_info(path)
    assert (info.frames, info.fps, info.height, info.width) == (7, 10, 32, 48)
    read = list(read_frames(path))
    assert len(read) == 7
    assert read[0].shape == (32, 48, 3) and read[0].dtype == np.float32
    # Lossy, but the same picture: the pan's texture is recognisable.
    assert np.mean(np.abs(read[3] - frames[3])) < 30


def test_audio_is_carried_into_mp4_and_webm_not_gif(tmp_path):
    source = clip_with_audio(tmp_path / "tone.mp4")
    assert read_video_info(source).has_audio
    for extension, audio in ((".mp4", True), (".webm", True), (".gif", False)):
        out = tmp_path / f"out{extension}"
        write_video(out, read_frames(source), 12, audio_from=source)
        assert read_video_info(out).has_audio is audio
        assert read_video_info(out).frames == 12


def test_frames_are_resized_to_even_sides(tmp_path, rng):
    info = VideoInfo(fps=25, height=480, width=640, frames=1, has_audio=False)
    assert frame_shape(info) == (480, 640)
    assert frame_shape(info, 100) == (76, 100)  # 75: the nearest even
    assert frame_shape(info, 33) == (24, 32)
    path = tmp_path / "c.mp4"
    write_video(path, iter(pan_frames(rng, 2)), 10)
    frames = list(read_frames(path, (16, 24)))
    assert [f.shape for f in frames] == [(16, 24, 3)] * 2


def test_a_failed_write_leaves_no_file(tmp_path, rng):
    path = tmp_path / "out.mp4"
    frames = pan_frames(rng, 3)
    with pytest.raises(ValueError, match="first's shape"):
        write_video(path, iter([*frames, frames[0][:16]]), 10)
    with pytest.raises(ValueError, match="No frames"):
        write_video(path, iter([]), 10)
    with pytest.raises(ValueError, match="even sides"):
        write_video(path, iter([frames[0][:31]]), 10)
    assert os.listdir(tmp_path) == []
    # An existing file is untouched by a failed write.
    write_video(path, iter(frames), 10)
    before = path.read_bytes()
    with pytest.raises(ValueError):
        write_video(path, iter([frames[0], frames[0][:16]]), 10)
    assert path.read_bytes() == before
    assert not [
        n for n in os.listdir(tmp_path) if n.startswith(TEMPORARY_PREFIX)
    ]


def test_bad_inputs_raise_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        read_video_info(tmp_path / "missing.mp4")
    (tmp_path / "notes.mp4").write_text("not a video")
    with pytest.raises(ValueError, match="Could not read the video"):
        read_video_info(tmp_path / "notes.mp4")
    with pytest.raises(ValueError, match="Could not read the video"):
        list(read_frames(tmp_path / "notes.mp4"))
    (tmp_path / "a.png").write_bytes(b"")
    with pytest.raises(ValueError, match="Expected a video"):
        read_video_info(tmp_path / "a.png")
    with pytest.raises(ValueError, match="Expected a video"):
        write_video(tmp_path / "out.avi", iter([]), 10)


def _peak_bytes(path, count, rng) -> int:
    frames = pan_frames(rng, 1, shape=(64, 96))
    tracemalloc.start()
    write_video(path, (frames[0] for _ in range(count)), 25)
    for _ in read_frames(path):
        pass
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def test_streaming_memory_does_not_grow_with_the_clip(tmp_path, rng):
    short = _peak_bytes(tmp_path / "short.mp4", 10, rng)
    long = _peak_bytes(tmp_path / "long.mp4", 200, rng)
    # 200 frames held at once would be 200 x 74 KB = 15 MB.
    assert long < 1.5 * short + 200_000, (short, long)

import json
import os
import tracemalloc

import keras
import numpy as np
import pytest
from PIL import Image

from keras_nst.fast import TransformNet
from keras_nst.fast.files import plan_outputs
from keras_nst.fast.stream import stylize_files
from keras_nst.image_output import read_metadata
from keras_nst.video.blend import TemporalBlend
from keras_nst.video.io import read_video_info
from keras_nst.video.io import write_video
from tests.video.helpers import clip_with_audio
from tests.video.helpers import pan_frames


def _touch(root, *names):
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")


def _relative(items, out):
    return [
        (os.path.basename(i.source), os.path.relpath(i.output, out))
        for i in items
    ]


def test_results_keep_relative_paths_and_never_share_a_name(tmp_path):
    _touch(
        tmp_path,
        "a/x.jpg",
        "a/x.png",
        "a/v.mp4",
        "b/x.png",
        "b/c/y.jpeg",
        "a/notes.txt",
    )
    out = tmp_path / "out"
    folder = plan_outputs([tmp_path / "a"], out)
    assert _relative(folder, out) == [
        ("v.mp4", "v.mp4"), ("x.jpg", "x_jpg.png"), ("x.png", "x_png.png"),
    ]  # fmt: skip
    assert [i.is_video for i in folder] == [True, False, False]
    files = plan_outputs([tmp_path / "a/x.jpg", tmp_path / "b/x.png"], out)
    assert _relative(files, out) == [("x.jpg", "a/x.png"), ("x.png", "b/x.png")]
    pattern = plan_outputs([str(tmp_path / "**/*.jp*g")], out)
    assert _relative(pattern, out) == [
        ("x.jpg", "a/x.png"),
        ("y.jpeg", "b/c/y.png"),
    ]
    loose = plan_outputs([tmp_path / "a/v.mp4", tmp_path / "b/c/y.jpeg"], out)
    assert _relative(loose, out) == [("v.mp4", "v.mp4"), ("y.jpeg", "y.png")]
    whole = plan_outputs([tmp_path, tmp_path / "a/x.jpg"], out)
    outputs = [i.output for i in whole]
    assert len(outputs) == len(set(outputs)) == 5  # x.jpg once


def test_empty_folders_and_patterns_are_errors(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="No images or videos under"):
        plan_outputs([tmp_path / "empty"], tmp_path / "out")
    with pytest.raises(ValueError, match="No images or videos match"):
        plan_outputs([str(tmp_path / "*.png")], tmp_path / "out")
    _touch(tmp_path, "p/x.jpg", "p/x_jpg.png", "p/x.png")
    with pytest.raises(ValueError, match="rename one"):
        plan_outputs([tmp_path / "p"], tmp_path / "out")


@pytest.fixture
def network():
    return TransformNet(filters=4, residual_blocks=1)


def _images(folder, rng, shapes):
    folder.mkdir(parents=True, exist_ok=True)
    for name, shape in shapes.items():
        pixels = rng.integers(0, 256, (*shape, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / name)


def test_images_stream_in_order_and_bad_ones_are_reported(
    tmp_path, rng, network
):
    shapes = {"a.png": (12, 9), "b.png": (12, 9), "c.png": (7, 5)}
    _images(tmp_path / "in", rng, shapes)
    (tmp_path / "in" / "bad.png").write_bytes(b"\x89PNG broken")
    out = tmp_path / "out"
    results = list(
        stylize_files(network, [tmp_path / "in"], out, batch_size=2,
                      metadata={"model": "m"})
    )  # fmt: skip
    assert [(r.index, r.total) for r in results] == [
        (i, 4) for i in (1, 2, 3, 4)
    ]
    assert [os.path.basename(r.item.source) for r in results] == [
        "a.png", "b.png", "bad.png", "c.png",
    ]  # fmt: skip
    assert results[2].error and "bad.png" in results[2].error
    assert all(r.error is None for r in results if r is not results[2])
    for name, (height, width) in shapes.items():
        with Image.open(out / name) as picture:
            assert picture.size == (width, height)
        meta = read_metadata(out / name)
        assert meta["model"] == "m" and meta["source"].endswith(name)
    expected = np.stack(
        [
            np.asarray(Image.open(tmp_path / "in" / n), "float32")
            for n in ("a.png", "b.png")
        ]
    )
    together = keras.ops.convert_to_numpy(network(expected, training=False))
    written = np.asarray(Image.open(out / "b.png"), "float32")
    assert np.abs(written - np.clip(np.rint(together[1]), 0, 255)).max() <= 1


def test_a_video_keeps_its_frames_rate_and_audio(tmp_path, network):
    clip = clip_with_audio(tmp_path / "tone.mp4", frames=6, fps=12)
    (result,) = stylize_files(network, [clip], tmp_path / "out", batch_size=4)
    assert result.error is None and result.frames == 6
    info = read_video_info(tmp_path / "out" / "tone.mp4")
    assert (info.frames, info.fps, info.has_audio) == (6, 12, True)
    (blended,) = stylize_files(
        network, [clip], tmp_path / "blend", temporal_blend=0.5
    )
    assert blended.warping_error is not None and result.warping_error is None


def test_the_blend_steadies_a_flickering_output(rng):
    frames = pan_frames(rng, 6, shape=(32, 48))
    noisy = [f + rng.normal(0, 20, f.shape).astype("float32") for f in frames]
    errors = {}
    for strength in (0.0, 0.5, 1.0):
        blend = TemporalBlend(strength, measure=True)
        for frame, output in zip(frames, noisy):
            blend(frame, output)
        errors[strength] = np.mean(blend.warping_errors)
    assert errors[0.5] < 0.5 * errors[0.0] and errors[1.0] < 0.1 * errors[0.0]
    with pytest.raises(ValueError, match="in \\[0, 1\\]"):
        TemporalBlend(1.5)


def _peak(tmp_path, network, count) -> int:
    frame = pan_frames(np.random.default_rng(0), 1, shape=(48, 64))[0]
    clip = tmp_path / f"clip{count}.mp4"
    write_video(clip, (frame for _ in range(count)), 25)
    tracemalloc.start()
    list(stylize_files(network, [clip], tmp_path / f"out{count}", batch_size=4))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def test_memory_does_not_grow_with_the_number_of_frames(tmp_path, network):
    short, long = _peak(tmp_path, network, 10), _peak(tmp_path, network, 200)
    # 200 frames held at once would be 200 x 37 KB in float32 = 7 MB.
    assert long < 1.5 * short + 500_000, (short, long)
    assert json.dumps(short)  # a number

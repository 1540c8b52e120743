import numpy as np
import pytest
from PIL import Image

from keras_nst.callbacks import JsonlLogger
from keras_nst.callbacks import Snapshot
from keras_nst.style_transfer import build_model
from keras_nst.style_transfer import initial_image
from keras_nst.style_transfer import transfer

SMALL = {"weights": None, "size": 32, "style_layers": ("conv1_1", "conv2_1")}


@pytest.fixture
def content(rng):
    return rng.uniform(0, 255, (24, 32, 3)).astype("float32")


@pytest.fixture
def style(rng):
    return rng.uniform(0, 255, (40, 20, 3)).astype("float32")


def test_noise_init_is_reproducible_per_seed(content, style):
    a = initial_image("noise", content, style, seed=3)
    b = initial_image("noise", content, style, seed=3)
    c = initial_image("noise", content, style, seed=4)
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).mean() > 10
    assert a.shape == content.shape and a.dtype == np.float32
    assert a.min() >= 0 and a.max() <= 255
    assert a.std() > 50  # uniform in 0..255, not a constant


def test_content_and_style_init(content, style):
    np.testing.assert_array_equal(
        initial_image("content", content, style), content
    )
    start = initial_image("style", content, style)
    assert start.shape == content.shape
    # The style image squeezed to the content's shape keeps its mean.
    assert start.mean() == pytest.approx(style.mean(), rel=0.05)


def test_file_init_is_resized_to_content(tmp_path, content, style):
    path = tmp_path / "start.png"
    Image.fromarray(np.full((10, 12, 3), 77, np.uint8)).save(path)
    start = initial_image(str(path), content, style)
    assert start.shape == content.shape
    np.testing.assert_allclose(start, 77.0, atol=1e-3)


def test_build_model_resizes_and_starts_from_init(content, style):
    model = build_model(content, style, init="noise", seed=1, **SMALL)
    image = model.get_image()
    assert image.shape == (24, 32, 3)
    expected = initial_image("noise", content, style, seed=1)
    np.testing.assert_allclose(image, expected, atol=1e-4)


def test_transfer_returns_changed_image_in_range(content, style):
    image = transfer(content, style, iterations=5, **SMALL)
    assert image.shape == (24, 32, 3)
    assert image.dtype == np.float32
    assert image.min() >= 0.0 and image.max() <= 255.0
    assert np.abs(image - content).mean() > 0.5


def test_callbacks_write_snapshots_and_log(tmp_path, content, style):
    snapshots = Snapshot(str(tmp_path / "new" / "s_{iteration:03d}.png"), 2)
    log = tmp_path / "log.jsonl"
    transfer(
        content,
        style,
        iterations=5,
        callbacks=[snapshots, JsonlLogger(str(log))],
        verbose=0,
        **SMALL,
    )
    assert snapshots.saved == [
        str(tmp_path / "new" / "s_002.png"),
        str(tmp_path / "new" / "s_004.png"),
    ]
    for path in snapshots.saved:
        with Image.open(path) as picture:
            assert picture.size == (32, 24)
    assert len(log.read_text().splitlines()) == 5


def test_snapshot_rejects_bad_every():
    with pytest.raises(ValueError, match="Received: 0"):
        Snapshot("x.png", 0)

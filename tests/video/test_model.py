import keras
import numpy as np
import pytest

from keras_nst.inputs import model_inputs
from keras_nst.optimizers import get_optimizer
from keras_nst.presets import resolve_config
from keras_nst.video.model import FrameModel

SIZE = 32


def _config(**overrides):
    return resolve_config(
        "gatys",
        weights=None,
        size=SIZE,
        content_layers=["conv2_1"],
        style_layers=["conv1_1"],
        average_decay=0.0,
        **overrides,
    )


def _images(rng):
    def image(shape):
        return rng.uniform(0, 255, (*shape, 3)).astype("float32")

    return image((SIZE, SIZE)), image((24, 40)), image((SIZE, SIZE))


def _model(config, content, style, weight, extractor=None):
    model = FrameModel(
        model_inputs(config, content, style), config, extractor, weight
    )
    model.compile(optimizer=get_optimizer("adam", config.learning_rate))
    return model


def test_the_temporal_term_matches_numpy_and_joins_the_total(rng):
    config = _config()
    content, style, warped = _images(rng)
    model = _model(config, content, style, 3.0)
    assert model.evaluate_losses()["temporal"] == 0.0  # no frame yet
    reliable = (rng.uniform(size=(SIZE, SIZE, 1)) > 0.3).astype("float32")
    start = rng.uniform(0, 255, (SIZE, SIZE, 3)).astype("float32")
    model.next_frame(
        model_inputs(config, content, style, start), warped, reliable
    )
    losses = model.evaluate_losses()
    expected = np.mean(reliable * (start - warped) ** 2)
    assert losses["temporal"] == pytest.approx(expected, rel=1e-5)
    rest = (
        losses["content"] * config.content_weight
        + losses["style"] * config.style_weight
        + losses["tv"] * config.tv_weight
    )
    assert losses["total"] == pytest.approx(rest + 3.0 * expected, rel=1e-5)


def test_next_frame_starts_afresh_like_a_new_model(rng):
    config = _config()
    content, style, warped = _images(rng)
    reliable = np.ones((SIZE, SIZE, 1), "float32")
    inputs = model_inputs(config, content, style, warped)
    # Built on another frame (the style is the clip's).
    reused = _model(config, _images(np.random.default_rng(1))[0], style, 10.0)
    reused.next_frame(inputs, warped, reliable)
    reused.optimize(3, verbose=0)
    first = reused.get_image()
    reused.next_frame(inputs, warped, reliable)  # the same frame again
    reused.optimize(3, verbose=0)
    np.testing.assert_allclose(reused.get_image(), first, atol=1e-3)
    fresh = _model(config, content, style, 10.0, reused.extractor)
    fresh.next_frame(inputs, warped, reliable)
    fresh.optimize(3, verbose=0)
    np.testing.assert_allclose(fresh.get_image(), first, atol=1e-2)


def test_the_temporal_loss_holds_the_frame_to_the_warped_one(rng):
    config = _config(learning_rate=20.0)
    content, style, warped = _images(rng)
    reliable = np.ones((SIZE, SIZE, 1), "float32")
    inputs = model_inputs(config, content, style, warped)
    distances, extractor = [], None
    for weight in (0.0, 1e6):
        model = _model(config, content, style, weight, extractor)
        extractor = model.extractor
        model.next_frame(inputs, warped, reliable)
        model.optimize(5, verbose=0)
        distances.append(np.mean(np.abs(model.get_image() - warped)))
    assert distances[1] < 0.2 * distances[0], distances


def test_frames_of_another_shape_or_a_tiled_config_are_refused(rng):
    config = _config()
    content, style, _ = _images(rng)
    model = _model(config, content, style, 1.0)
    other = rng.uniform(0, 255, (SIZE, SIZE + 2, 3)).astype("float32")
    with pytest.raises(ValueError, match="clip's shape"):
        model.next_frame(model_inputs(config, other, style))
    tiled = _config(tile_size=16)
    with pytest.raises(ValueError, match="tile_size"):
        FrameModel(model_inputs(tiled, content, style), tiled)
    assert keras.backend.backend() in ("tensorflow", "jax", "torch")
